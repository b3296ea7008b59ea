//! The orders flow (SPEC §1.2): shop orders into the Magazyn order
//! register, exactly once.
//!
//! extract   shop → `shop_orders` + `shop_order_lines`: public orders in the
//!           window (date_purchased/last_modified, or an id beyond the last
//!           seen), read in one snapshot; "Preparing" orders wait.
//! transform → `orders` + `order_lines`: number `<prefix><id><suffix>`, buyer
//!           from the billing block, recipient from the delivery block,
//!           attributes in the line name, the delivery as the last line, money
//!           in the order's currency computed the way the shop computed it.
//! load      insert new orders with their lines and reservations; an order
//!           already there gets its status and description updated (lines
//!           untouched); cancelling releases the reservation, exactly once.

use super::extract::ExtractRun;
use super::load::{Change, LoadOutcome};
use super::{Counts, Dirs, Flow, Stepped};
use crate::config::{Config, UnknownGoods};
use crate::error::{Error, Result};
use crate::magazyn::{CustomerRow, Magazyn};
use crate::money::{self, round2};
use crate::polish;
use crate::staging::codec::CsvReader;
use crate::staging::entities::{ORDER_LINES, ORDERS, SHOP_ORDER_LINES, SHOP_ORDERS};
use crate::staging::group::{Group, GroupReader, GroupWriter};
use crate::staging::{Batch, BatchMeta, BatchWriter, Format, Item, RecordWriter, Stage};
use crate::templates::{Params, Value};
use rust_decimal::Decimal;

const FLOW: Flow = Flow::Orders;
/// The mapped status that releases an order's reservation.
pub const CANCELLED: &str = "cancelled";

// ---------------------------------------------------------------- extract

pub async fn extract(cfg: &Config, shop_id: &str, full: bool) -> Result<Stepped> {
    let mut x = ExtractRun::start(
        cfg,
        shop_id,
        FLOW,
        full,
        "orders.max_id.sql",
        "greatest(orders.date_purchased, orders.last_modified), orders_id",
    )
    .await?;
    // The shop settings the amounts depend on, recorded in the batch.
    let mut settings = std::collections::BTreeMap::new();
    x.db.for_each(&x.sql("settings.sql")?, &Params::new(), &x.codec, |r| {
        settings.insert(r.text_or_empty("name")?, r.text_or_empty("value")?);
        Ok(())
    })
    .await?;
    x.bw.meta_mut().settings = settings;
    let (params, codec) = (x.params.clone(), x.codec);
    let (snapshot, orders_sql, lines_sql, snapshot_end) = (
        x.sql("snapshot.sql")?,
        x.sql("orders.extract.sql")?,
        x.sql("orders.lines.sql")?,
        x.sql("commit.sql")?,
    );

    // Both queries in one snapshot, so every order comes with all its lines.
    x.db.execute(&snapshot, &Params::new()).await?;

    // Phase 1: the orders, to a scratch file (sorted by orders_id).
    let scratch = x.bw.scratch("shop_orders.part.csv");
    let mut tmp = RecordWriter::create(&scratch, &SHOP_ORDERS, Format::Csv)?;
    let e = &SHOP_ORDERS;
    let mut rec = e.empty_record();
    let mut screened = super::Screened::default();
    x.db.for_each(&orders_sql, &params, &codec, |r| {
        rec[e.col("orders_id")] = r.int("orders_id")?.unwrap_or(0).to_string();
        rec[e.col("customers_id")] = r
            .int("customers_id")?
            .map(|v| v.to_string())
            .unwrap_or_default();
        for col in [
            "customers_name",
            "customers_company",
            "customers_email",
            "customers_telephone",
            "billing_name",
            "billing_company",
            "billing_street",
            "billing_suburb",
            "billing_city",
            "billing_postcode",
            "billing_state",
            "billing_country",
            "billing_country_iso2",
            "delivery_name",
            "delivery_company",
            "delivery_street",
            "delivery_suburb",
            "delivery_city",
            "delivery_postcode",
            "delivery_state",
            "delivery_country",
            "delivery_country_iso2",
            "payment_method",
            "status_name",
            "currency",
            "shipping_title",
        ] {
            rec[e.col(col)] = r.text_or_empty(col)?;
        }
        rec[e.col("date_purchased")] = r.datetime("date_purchased")?.unwrap_or_default();
        rec[e.col("last_modified")] = r.datetime("last_modified")?.unwrap_or_default();
        rec[e.col("status_id")] = r
            .int("status_id")?
            .map(|v| v.to_string())
            .unwrap_or_default();
        rec[e.col("currency_value")] = r
            .decimal("currency_value")?
            .map(|d| d.normalize().to_string())
            .unwrap_or_default();
        for col in [
            "subtotal",
            "shipping_value",
            "tax_total",
            "other_totals",
            "total",
        ] {
            rec[e.col(col)] = match r.text(col)? {
                None => String::new(),
                Some(list) => money::sum_list(&list)
                    .map_err(|m| Error::Other(format!("shop order {}: {col}: {m}", rec[0])))?
                    .to_string(),
            };
        }
        screened.take(e, &rec, &mut tmp)
    })
    .await?;
    tmp.finish()?;

    // Phase 2: the lines, in the same order, joined to their orders.
    let mut orders_in = CsvReader::open(&scratch, e, "scratch orders")?;
    let mut gw = GroupWriter::create(&mut x.bw, e)?;
    let l = &SHOP_ORDER_LINES;
    let mut current: Vec<String> = Vec::new();
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut stray = 0u64;
    let mut next_order = |cur: &mut Vec<String>| -> Result<bool> {
        Ok(matches!(orders_in.next(cur)?, Some(Item::Record(_))))
    };
    let mut have_current = next_order(&mut current)?;
    let mut line = l.empty_record();
    x.db.for_each(&lines_sql, &params, &codec, |r| {
        let oid = r.int("orders_id")?.unwrap_or(0);
        line[l.col("orders_id")] = oid.to_string();
        line[l.col("orders_products_id")] = r.int("orders_products_id")?.unwrap_or(0).to_string();
        line[l.col("products_id")] = r
            .int("products_id")?
            .map(|v| v.to_string())
            .unwrap_or_default();
        line[l.col("model")] = r.text_or_empty("model")?;
        line[l.col("name")] = r.text_or_empty("name")?;
        for col in ["price", "final_price", "tax_rate"] {
            line[l.col(col)] = r.decimal(col)?.map(|d| d.to_string()).unwrap_or_default();
        }
        line[l.col("quantity")] = r.int("quantity")?.unwrap_or(0).to_string();
        line[l.col("attributes")] = r.text_or_empty("attributes")?;
        // Orders before this line's order are complete.
        while have_current && current[0].parse::<i64>().unwrap_or(i64::MAX) < oid {
            gw.write(&current, &lines)?;
            lines.clear();
            have_current = next_order(&mut current)?;
        }
        if have_current && current[0].parse::<i64>().ok() == Some(oid) {
            lines.push(line.clone());
        } else {
            stray += 1; // a line of an order left out as invalid
        }
        Ok(())
    })
    .await?;
    while have_current {
        gw.write(&current, &lines)?;
        lines.clear();
        have_current = next_order(&mut current)?;
    }
    x.db.execute(&snapshot_end, &Params::new()).await?;
    gw.finish(&mut x.bw)?;
    std::fs::remove_file(&scratch).map_err(|err| Error::io(&scratch, err))?;
    let counts = screened.finish(e, &mut x.bw, "shop:orders")?;
    if stray > 0 {
        tracing::info!("{stray} lines of rejected orders left out");
    }
    let batch = x.finish().await?;
    Ok(Stepped { batch, counts })
}

// -------------------------------------------------------------- transform

/// One product line's input: net unit price after attributes (default
/// currency, 4 places), VAT rate in percent, quantity.
#[derive(Debug, Clone, Copy)]
pub struct LineIn {
    pub final_price: Decimal,
    pub rate: Decimal,
    pub quantity: Decimal,
}

/// Money of one Magazyn line, in the order's currency, to the grosz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priced {
    pub unit_net: Decimal,
    pub unit_gross: Decimal,
    pub total_net: Decimal,
    pub total_gross: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedOrder {
    pub lines: Vec<Priced>,
    pub shipping: Priced,
    pub shipping_rate: Decimal,
    pub total_net: Decimal,
    pub total_gross: Decimal,
}

const STANDARD_RATES: [i64; 4] = [23, 8, 5, 0];

/// Price an order the way the shop priced it, in the order's currency `cv`.
///
/// Net mode (`DISPLAY_PRICE_WITH_TAX = false`, the default): the shop shows
/// line values `round(round(final, 2) × qty × cv, 2)`; the Magazyn gets those
/// net values and VAT from the sum of nets per rate (the Polish invoice
/// rule). Gross mode: line values are `round(round(final × (1 + r), 2) × qty
/// × cv, 2)` gross, nets derived from them. The delivery's VAT rate is
/// worked out from the shop's tax total unless configured.
pub fn price_order(
    lines: &[LineIn],
    shipping_value: Decimal,
    tax_total: Decimal,
    cv: Decimal,
    gross_mode: bool,
    shipping_rate: Option<Decimal>,
) -> PricedOrder {
    let hundred = Decimal::from(100);
    let mut out = Vec::with_capacity(lines.len());
    let mut product_tax = Decimal::ZERO; // default currency, unrounded: as the shop summed it
    for l in lines {
        let f = Decimal::ONE + l.rate / hundred;
        if gross_mode {
            let unit_shown = round2(l.final_price * f);
            let shown = unit_shown * l.quantity;
            product_tax += shown - shown / f;
            let total_gross = round2(shown * cv);
            let unit_gross = round2(unit_shown * cv);
            out.push(Priced {
                unit_net: round2(unit_gross / f),
                unit_gross,
                total_net: round2(total_gross / f),
                total_gross,
            });
        } else {
            let unit_shown = round2(l.final_price);
            let shown = unit_shown * l.quantity;
            product_tax += l.rate / hundred * shown;
            let total_net = round2(shown * cv);
            let unit_net = round2(unit_shown * cv);
            out.push(Priced {
                unit_net,
                unit_gross: round2(unit_net * f),
                total_net,
                total_gross: round2(total_net * f),
            });
        }
    }
    // The delivery's rate: what the shop charged on top of the goods' tax.
    let rate = shipping_rate.unwrap_or_else(|| {
        let shipping_tax = tax_total - product_tax;
        let base = if gross_mode {
            shipping_value - shipping_tax
        } else {
            shipping_value
        };
        if shipping_value.is_zero() || base <= Decimal::ZERO {
            return Decimal::from(23);
        }
        let r = shipping_tax / base * hundred;
        STANDARD_RATES
            .iter()
            .map(|s| Decimal::from(*s))
            .find(|s| (r - s).abs() < Decimal::new(5, 1))
            .unwrap_or_else(|| round2(r))
    });
    let f = Decimal::ONE + rate / hundred;
    let shipping = if gross_mode {
        let g = round2(shipping_value * cv);
        Priced {
            unit_net: round2(g / f),
            unit_gross: g,
            total_net: round2(g / f),
            total_gross: g,
        }
    } else {
        let n = round2(shipping_value * cv);
        Priced {
            unit_net: n,
            unit_gross: round2(n * f),
            total_net: n,
            total_gross: round2(n * f),
        }
    };
    let (total_net, total_gross) = if gross_mode {
        (
            out.iter().map(|p| p.total_net).sum::<Decimal>() + shipping.total_net,
            out.iter().map(|p| p.total_gross).sum::<Decimal>() + shipping.total_gross,
        )
    } else {
        // VAT from the sum of nets per rate.
        let mut by_rate: Vec<(Decimal, Decimal)> = Vec::new();
        let nets = lines
            .iter()
            .zip(&out)
            .map(|(l, p)| (l.rate, p.total_net))
            .chain([(rate, shipping.total_net)]);
        for (r, n) in nets {
            match by_rate.iter_mut().find(|(x, _)| *x == r) {
                Some((_, s)) => *s += n,
                None => by_rate.push((r, n)),
            }
        }
        let net: Decimal = by_rate.iter().map(|(_, n)| *n).sum();
        let vat: Decimal = by_rate.iter().map(|(r, n)| round2(*n * *r / hundred)).sum();
        (net, net + vat)
    };
    PricedOrder {
        lines: out,
        shipping,
        shipping_rate: rate,
        total_net,
        total_gross,
    }
}

pub fn transform(cfg: &Config, input: &Batch) -> Result<Stepped> {
    super::expect(input, FLOW, Stage::Extracted, "transform")?;
    let m = &input.meta;
    let shop_id = &m.source.shop;
    let shop = cfg.shop(shop_id)?;
    let dirs = Dirs::new(cfg);
    let gross_mode = m
        .settings
        .get("DISPLAY_PRICE_WITH_TAX")
        .is_some_and(|v| v == "true");

    let meta = BatchMeta::derived(input, Stage::Transformed, cfg.format);
    let mut bw = BatchWriter::create(&dirs.work(), meta)?;
    let mut gw = GroupWriter::create(&mut bw, &ORDERS)?;

    let src = &SHOP_ORDERS;
    let srcl = &SHOP_ORDER_LINES;
    let file = input
        .file_of(src)
        .map(|f| f.path.clone())
        .unwrap_or_default();
    let mut reader = GroupReader::open(input, src)?;
    let mut g = Group::default();
    let mut counts = Counts::default();
    let mut row = ORDERS.empty_record();
    let mut out_lines: Vec<Vec<String>> = Vec::new();
    while reader.next(&mut g)? {
        counts.records += 1;
        let line = match g.item.take().expect("set by next") {
            Item::Record(line) => line,
            Item::Invalid {
                line,
                field,
                code,
                message,
            } => {
                bw.reject(src, &g.rec, &file, line, &field, code, &message)?;
                continue;
            }
        };
        if let Err(p) = src.validate(&g.rec) {
            bw.reject(src, &g.rec, &file, line, &p.field, p.code, &p.message)?;
            continue;
        }
        // Every line must be readable, or the order is not passed on.
        let bad_line = g.children.iter().find_map(|(item, rec)| match item {
            Item::Invalid {
                line,
                field,
                code,
                message,
            } => Some((*line, field.clone(), *code, message.clone())),
            Item::Record(line) => srcl
                .validate(rec)
                .err()
                .map(|p| (*line, p.field, p.code, p.message)),
        });
        if let Some((l, field, code, message)) = bad_line {
            bw.reject(
                src,
                &g.rec,
                &file,
                line,
                &format!("line {l}: {field}"),
                code,
                &format!("order line at line {l}: {message}"),
            )?;
            continue;
        }
        match build_order(shop_id, shop, gross_mode, &g, &mut row, &mut out_lines) {
            Ok(warnings) => {
                for (field, code, msg) in warnings {
                    bw.warn(
                        ORDERS.name,
                        &row[ORDERS.col("number")].clone(),
                        field,
                        code,
                        &msg,
                    )?;
                }
                gw.write(&row, &out_lines)?;
            }
            Err((field, code, message)) => {
                bw.reject(src, &g.rec, &file, line, field, code, &message)?;
            }
        }
    }
    gw.finish(&mut bw)?;
    counts.rejected = bw.rejected;
    counts.warnings = bw.warned;
    let batch = bw.finish()?;
    Ok(Stepped { batch, counts })
}

type Problem = (&'static str, &'static str, String);

/// One shop order → one Magazyn order with its lines. `Err` rejects it;
/// `Ok` carries the warnings to report.
fn build_order(
    shop_id: &str,
    shop: &crate::config::ShopConfig,
    gross_mode: bool,
    g: &Group,
    row: &mut [String],
    out_lines: &mut Vec<Vec<String>>,
) -> std::result::Result<Vec<Problem>, Problem> {
    let src = &SHOP_ORDERS;
    let srcl = &SHOP_ORDER_LINES;
    let get = |c: &str| g.rec[src.col(c)].trim();
    let dec = |c: &str| {
        money::parse(get(c)).map_err(|m| (src.columns[src.col(c)].name, "not_decimal", m))
    };
    let mut warnings = Vec::new();
    let id = get("orders_id");
    let number = format!("{}{id}{}", shop.order_prefix, shop.order_suffix);
    if number.chars().count() > 50 {
        return Err((
            "orders_id",
            "number_too_long",
            format!(
                "order number `{number}` is longer than the Magazyn's 50 characters: shorten order_prefix/order_suffix"
            ),
        ));
    }
    let cv = match dec("currency_value")? {
        v if v > Decimal::ZERO => v,
        _ => Decimal::ONE,
    };
    let shop_status = get("status_name").to_string();
    let status = shop
        .map
        .order_status
        .get(&shop_status)
        .cloned()
        .unwrap_or_else(|| shop_status.clone());
    let shipping_title = get("shipping_title")
        .trim_end()
        .trim_end_matches(':')
        .trim()
        .to_string();
    let shipping_code = shop
        .map
        .shipping
        .get(&shipping_title)
        .cloned()
        .unwrap_or_else(|| shop.orders.shipping_code.clone());

    // Money.
    let mut ins = Vec::with_capacity(g.children.len());
    for (_, l) in &g.children {
        let d = |c: &str| money::parse(&l[srcl.col(c)]).map_err(|m| ("line", "not_decimal", m));
        ins.push(LineIn {
            final_price: d("final_price")?,
            rate: d("tax_rate")?,
            quantity: d("quantity")?,
        });
    }
    let priced = price_order(
        &ins,
        dec("shipping_value")?,
        dec("tax_total")?,
        cv,
        gross_mode,
        shop.orders.shipping_rate(),
    );
    let shop_total = round2(dec("total")? * cv);
    let diff = (priced.total_gross - shop_total).abs();
    if diff > shop.orders.tolerance() {
        warnings.push((
            "total_gross",
            "total_mismatch",
            format!(
                "Magazyn gross total {} {} differs from the shop's total {} by {}",
                money::fmt(priced.total_gross, 2),
                get("currency"),
                money::fmt(shop_total, 2),
                money::fmt(diff, 2)
            ),
        ));
    }
    if !dec("other_totals")?.is_zero() {
        warnings.push((
            "total_gross",
            "other_totals",
            format!(
                "the order has other total lines (discounts, fees) of {} not carried as lines",
                get("other_totals")
            ),
        ));
    }

    // Lines: the goods in shop order, the delivery last.
    out_lines.clear();
    for (i, ((_, l), p)) in g.children.iter().zip(&priced.lines).enumerate() {
        let lg = |c: &str| l[srcl.col(c)].trim();
        let name = match lg("attributes") {
            "" => lg("name").to_string(),
            a => format!("{} ({a})", lg("name")),
        };
        out_lines.push(vec![
            number.clone(),
            (i + 1).to_string(),
            "product".into(),
            lg("model").to_string(),
            if name.is_empty() {
                "(bez nazwy)".into()
            } else {
                name
            },
            lg("quantity").to_string(),
            money::fmt(p.unit_net, 2),
            money::fmt(ins[i].rate, 2),
            money::fmt(p.unit_gross, 2),
            money::fmt(p.total_net, 2),
            money::fmt(p.total_gross, 2),
        ]);
    }
    if get("shipping_title").is_empty() && get("shipping_value").is_empty() {
        warnings.push((
            "shipping",
            "no_shipping",
            "the order has no delivery (ot_shipping) total: no delivery line".into(),
        ));
    } else {
        let s = priced.shipping;
        out_lines.push(vec![
            number.clone(),
            (g.children.len() + 1).to_string(),
            "shipping".into(),
            shipping_code,
            if shipping_title.is_empty() {
                "Dostawa".into()
            } else {
                shipping_title.clone()
            },
            "1".into(),
            money::fmt(s.unit_net, 2),
            money::fmt(priced.shipping_rate, 2),
            money::fmt(s.unit_gross, 2),
            money::fmt(s.total_net, 2),
            money::fmt(s.total_gross, 2),
        ]);
    }

    // Buyer (billing block) and recipient (delivery block).
    let company = get("billing_company");
    let buyer_name = if company.is_empty() {
        get("billing_name").to_string()
    } else {
        company.to_string()
    };
    let buyer_country = get("billing_country_iso2").to_ascii_uppercase();
    let nip = polish::find_nip_in_text(company)
        .map(|n| polish::normalize_nip(&n))
        .unwrap_or_default();
    let postcode = |c: &str, country: &str| -> String {
        let raw = get(c);
        if country == "PL" || country.is_empty() {
            polish::normalize_pl_postcode(raw).unwrap_or_else(|| raw.to_string())
        } else {
            raw.to_string()
        }
    };
    let street = |s: &str, sub: &str| match get(sub) {
        "" => get(s).to_string(),
        x => format!("{}, {x}", get(s)),
    };
    let recipient_country = get("delivery_country_iso2").to_ascii_uppercase();
    let recipient_name = match get("delivery_company") {
        "" => get("delivery_name").to_string(),
        c => format!("{c}, {}", get("delivery_name")),
    };
    let description = shop
        .orders
        .description
        .replace(
            "{payment}",
            shop.map
                .payment
                .get(get("payment_method"))
                .map_or(get("payment_method"), String::as_str),
        )
        .replace("{shipping}", &shipping_title)
        .replace("{status}", &shop_status)
        .replace("{order}", id)
        .replace("{currency}", get("currency"));
    let o = &ORDERS;
    row.iter_mut().for_each(String::clear);
    let mut set = |c: &str, v: String| row[o.col(c)] = v;
    set("number", number.clone());
    set("confirmed_number", id.to_string());
    set("shop", shop_id.to_string());
    set("shop_order_id", id.to_string());
    set("shop_customer_id", get("customers_id").to_string());
    set("ordered_at", get("date_purchased").to_string());
    set(
        "status",
        if status.is_empty() {
            "?".into()
        } else {
            status
        },
    );
    set("shop_status", shop_status);
    set("description", description);
    set(
        "currency",
        if get("currency").is_empty() {
            "PLN".into()
        } else {
            get("currency").to_string()
        },
    );
    set("currency_rate", cv.normalize().to_string());
    set("buyer_name", buyer_name);
    set(
        "buyer_is_company",
        if company.is_empty() { "0" } else { "1" }.into(),
    );
    set("buyer_nip", nip);
    set("buyer_street", street("billing_street", "billing_suburb"));
    set(
        "buyer_postcode",
        postcode("billing_postcode", &buyer_country),
    );
    set("buyer_city", get("billing_city").to_string());
    set("buyer_country", buyer_country);
    set("buyer_email", get("customers_email").to_string());
    set("buyer_phone", get("customers_telephone").to_string());
    set("recipient_name", recipient_name);
    set(
        "recipient_street",
        street("delivery_street", "delivery_suburb"),
    );
    set(
        "recipient_postcode",
        postcode("delivery_postcode", &recipient_country),
    );
    set("recipient_city", get("delivery_city").to_string());
    set("recipient_country", recipient_country);
    set("recipient_phone", get("customers_telephone").to_string());
    set("recipient_email", get("customers_email").to_string());
    set("total_net", money::fmt(priced.total_net, 2));
    set("total_gross", money::fmt(priced.total_gross, 2));
    set("shop_total", money::fmt(shop_total, 2));
    set(
        "source_modified",
        if get("last_modified").is_empty() {
            get("date_purchased")
        } else {
            get("last_modified")
        }
        .to_string(),
    );
    if let Err(p) = o.validate(row) {
        return Err(("order", p.code, format!("{}: {}", p.field, p.message)));
    }
    for l in out_lines.iter() {
        if let Err(p) = ORDER_LINES.validate(l) {
            return Err(("line", p.code, format!("{}: {}", p.field, p.message)));
        }
    }
    Ok(warnings)
}

// ------------------------------------------------------------------- load

pub async fn load(cfg: &Config, batch: &Batch, dry_run: bool) -> Result<LoadOutcome> {
    super::load::load_batch(cfg, batch, dry_run, FLOW, &ORDERS, async |mag, b| {
        apply(cfg, mag, b).await
    })
    .await
}

async fn apply(cfg: &Config, mag: &mut Magazyn, batch: &Batch) -> Result<LoadOutcome> {
    let shop_id = batch.meta.source.shop.clone();
    let shop = cfg.shop(&shop_id)?;
    let warehouse = mag.warehouse_id(&shop.warehouse).await?;
    mag.refresh_customer_keys().await?;
    let o = &ORDERS;
    let ol = &ORDER_LINES;
    let mut reader = GroupReader::open(batch, o)?;
    let mut g = Group::default();
    let mut good_ids: std::collections::HashMap<String, Option<i64>> =
        std::collections::HashMap::new();
    let mut new_reservations: std::collections::BTreeMap<i64, Decimal> =
        std::collections::BTreeMap::new();
    // Buyers already linked in this load (a customer's later orders skip
    // the matching): bounded by the customers in the batch, not its orders.
    let mut buyers: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut out = LoadOutcome::default();
    while reader.next(&mut g)? {
        out.counts.records += 1;
        let get = |c: &str| g.rec[o.col(c)].clone();
        let number = get("number");
        let status = get("status");
        let description = get("description");
        let cancelled = status == CANCELLED;

        if let Some(existing) = mag.order_get(&number).await? {
            if existing.status == status && existing.description == description {
                out.counts.unchanged += 1;
                continue;
            }
            // Status change: the reservation follows it, exactly once.
            let wh = existing.warehouse_id.unwrap_or(warehouse);
            let mut reserved = existing.reserved;
            if cancelled && reserved {
                for (good, qty) in mag.order_reserved_goods(existing.id).await? {
                    mag.reserve(wh, good, -qty).await?;
                }
                reserved = false;
            } else if !cancelled && !reserved {
                for (good, qty) in mag.order_reserved_goods(existing.id).await? {
                    mag.reserve(wh, good, qty).await?;
                }
                reserved = true;
            }
            mag.order_update_status(existing.id, &status, &description, reserved)
                .await?;
            out.counts.updated += 1;
            let mut fields = Vec::new();
            if existing.status != status {
                fields.push((
                    "status".to_string(),
                    existing.status.clone(),
                    status.clone(),
                ));
            }
            if existing.description != description {
                fields.push((
                    "description".to_string(),
                    existing.description.clone(),
                    description.clone(),
                ));
            }
            out.change(Change::Update {
                key: number,
                fields,
            });
            continue;
        }

        // A new order: its buyer first (linked, or matched/created on the fly).
        let customer_id = match get("shop_customer_id").as_str() {
            "" => None,
            cid if buyers.contains_key(cid) => buyers.get(cid).copied(),
            cid => {
                let buyer = CustomerRow {
                    code: format!("{}{cid}", shop.customer_code_prefix),
                    name: get("buyer_name"),
                    nip: Some(get("buyer_nip")).filter(|s| !s.is_empty()),
                    email: Some(get("buyer_email")).filter(|s| !s.is_empty()),
                    phone: Some(get("buyer_phone")).filter(|s| !s.is_empty()),
                    street: Some(get("buyer_street")).filter(|s| !s.is_empty()),
                    postcode: Some(get("buyer_postcode")).filter(|s| !s.is_empty()),
                    city: Some(get("buyer_city")).filter(|s| !s.is_empty()),
                    country_code: Some(get("buyer_country")).filter(|s| !s.is_empty()),
                    is_company: get("buyer_is_company") == "1",
                };
                use super::customers::Upsert;
                match super::customers::upsert(mag, &shop_id, cid, &buyer, batch.id(), false)
                    .await?
                {
                    Upsert::Inserted(id) | Upsert::Updated(id, _) | Upsert::Unchanged(id) => {
                        buyers.insert(cid.to_string(), id);
                        Some(id)
                    }
                    Upsert::Ambiguous(code, msg) => {
                        out.counts.rejected += 1;
                        out.rejects.push((number, code, format!("buyer: {msg}")));
                        continue;
                    }
                }
            }
        };
        // Goods by code, then barcode alias; unknown ones per policy.
        let mut goods = Vec::with_capacity(g.children.len());
        let mut unknown = Vec::new();
        for (_, l) in &g.children {
            let kind = &l[ol.col("kind")];
            let code = &l[ol.col("code")];
            if kind == "shipping" {
                goods.push((None, "shipping"));
                continue;
            }
            // Goods recur across orders: look each code up once per load.
            let found = match good_ids.get(code) {
                Some(v) => *v,
                None => {
                    let v = mag.good_by_code(code).await?;
                    good_ids.insert(code.clone(), v);
                    v
                }
            };
            match found {
                Some(id) => goods.push((Some(id), "good")),
                None => {
                    unknown.push(format!(
                        "{} `{}`",
                        l[ol.col("line_no")],
                        if code.is_empty() { "(no code)" } else { code }
                    ));
                    goods.push((None, "one-off"));
                }
            }
        }
        if !unknown.is_empty() {
            let msg = format!(
                "goods unknown to the Magazyn on line {}",
                unknown.join(", line ")
            );
            if shop.orders.unknown_goods == UnknownGoods::Reject {
                out.counts.rejected += 1;
                out.rejects.push((number, "unknown_good".into(), msg));
                continue;
            }
            out.warnings.push((
                number.clone(),
                "one_off_line".into(),
                format!("{msg}: kept as one-off lines"),
            ));
        }
        let mut p = Params::new();
        for c in [
            "number",
            "confirmed_number",
            "shop",
            "ordered_at",
            "status",
            "description",
            "currency",
            "currency_rate",
            "buyer_name",
            "buyer_nip",
            "buyer_street",
            "buyer_postcode",
            "buyer_city",
            "buyer_country",
            "recipient_name",
            "recipient_street",
            "recipient_postcode",
            "recipient_city",
            "recipient_country",
            "recipient_phone",
            "recipient_email",
            "total_net",
            "total_gross",
        ] {
            let v = get(c);
            p = p.set(
                o.columns[o.col(c)].name,
                if v.is_empty() {
                    Value::Null
                } else {
                    Value::Text(v)
                },
            );
        }
        let p = p
            .set("customer_id", customer_id.map_or(Value::Null, Value::Int))
            .set("warehouse_id", warehouse)
            .set("reserved", !cancelled);
        let order_id = mag.order_insert(p).await?;
        for ((_, l), (good, kind)) in g.children.iter().zip(&goods) {
            let lg = |c: &str| l[ol.col(c)].clone();
            let mut lp = Params::new()
                .set("order_id", order_id)
                .set("line_no", lg("line_no").parse::<i64>().unwrap_or(0))
                .set("good_id", good.map_or(Value::Null, Value::Int))
                .set("kind", *kind);
            for c in [
                "code",
                "name",
                "quantity",
                "unit_net",
                "vat_rate",
                "unit_gross",
                "total_net",
                "total_gross",
            ] {
                let v = lg(c);
                lp = lp.set(
                    ol.columns[ol.col(c)].name,
                    if v.is_empty() {
                        Value::Null
                    } else {
                        Value::Text(v)
                    },
                );
            }
            mag.order_line_insert(lp).await?;
            if let (Some(good), false) = (good, cancelled) {
                let qty = money::parse(&lg("quantity")).map_err(Error::Other)?;
                // New orders' reservations are added up and written once per
                // good at the end of the load (same transaction).
                *new_reservations.entry(*good).or_insert(Decimal::ZERO) += qty;
            }
        }
        out.counts.inserted += 1;
        out.change(Change::Insert {
            key: number,
            what: format!(
                "{} lines, {} {}",
                g.children.len(),
                get("total_gross"),
                get("currency")
            ),
        });
    }
    for (good, qty) in new_reservations {
        mag.reserve(warehouse, good, qty).await?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn net_mode_prices_like_the_shop() {
        // 2 × 16.2520 (19.99 gross at 23 %) and 1 × 18.5093 (19.99 at 8 %),
        // DPD 15.00 net with 23 % tax.
        let lines = [
            LineIn {
                final_price: d("16.2520"),
                rate: d("23"),
                quantity: d("2"),
            },
            LineIn {
                final_price: d("18.5093"),
                rate: d("8"),
                quantity: d("1"),
            },
        ];
        let subtotal = d("16.25") * d("2") + d("18.51");
        let tax = d("0.23") * d("32.50") + d("0.08") * d("18.51") + d("15") * d("0.23");
        let total = subtotal + tax + d("15");
        let p = price_order(&lines, d("15.0000"), tax, Decimal::ONE, false, None);
        assert_eq!(p.shipping_rate, d("23"));
        assert_eq!(p.lines[0].total_net, d("32.50"));
        assert_eq!(p.lines[0].unit_gross, d("19.99"));
        assert_eq!(p.lines[1].total_net, d("18.51"));
        assert_eq!(p.total_net, d("66.01"));
        // VAT per rate: 23 % of (32.50 + 15.00) = 10.93, 8 % of 18.51 = 1.48.
        assert_eq!(p.total_gross, d("78.42"));
        assert!((p.total_gross - round2(total)).abs() <= d("0.02"));
    }

    #[test]
    fn foreign_currency_and_untaxed_free_delivery() {
        let lines = [LineIn {
            final_price: d("40.6423"),
            rate: d("23"),
            quantity: d("3"),
        }];
        let tax = d("0.23") * d("40.64") * d("3");
        let p = price_order(&lines, Decimal::ZERO, tax, d("0.23"), false, None);
        assert_eq!(p.lines[0].unit_net, d("9.35")); // 40.64 × 0.23 = 9.3472
        assert_eq!(p.lines[0].total_net, d("28.04")); // 121.92 × 0.23 = 28.0416
        assert_eq!(p.shipping.total_gross, Decimal::ZERO);
        assert_eq!(p.total_gross, d("28.04") + d("6.45"));
    }

    #[test]
    fn gross_mode_keeps_the_gross_prices() {
        let lines = [LineIn {
            final_price: d("16.2520"),
            rate: d("23"),
            quantity: d("3"),
        }];
        let shown = d("19.99") * d("3");
        let tax = shown - shown / d("1.23");
        let p = price_order(
            &lines,
            Decimal::ZERO,
            tax,
            Decimal::ONE,
            true,
            Some(d("23")),
        );
        assert_eq!(p.lines[0].unit_gross, d("19.99"));
        assert_eq!(p.lines[0].total_gross, d("59.97"));
        assert_eq!(p.total_gross, d("59.97"));
        assert_eq!(p.lines[0].total_net, d("48.76"));
    }

    #[test]
    fn shipping_rate_is_worked_out_from_the_tax_total() {
        let lines = [LineIn {
            final_price: d("10.0000"),
            rate: d("5"),
            quantity: d("1"),
        }];
        let tax = d("0.5") + d("9.99") * d("0.08");
        let p = price_order(&lines, d("9.9900"), tax, Decimal::ONE, false, None);
        assert_eq!(p.shipping_rate, d("8"));
        let p = price_order(&lines, d("9.9900"), d("0.5"), Decimal::ONE, false, None);
        assert_eq!(p.shipping_rate, d("0"));
    }
}
