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
//!           untouched); an open order reserves its goods, a realized or
//!           cancelled one releases them, exactly once.

use super::customers::BuyerNip;
use super::extract::ExtractRun;
use super::load::{Change, LoadOutcome, Note};
use super::{Counts, Flow, Stepped};
use crate::config::{Config, UnknownGoods};
use crate::error::{Error, Result};
use crate::magazyn::{CustomerRow, DeletionCheck, Magazyn, ORDERS_CHECK};
use crate::money::{self, round2};
use crate::polish;
use crate::staging::entities::{
    ORDER_LINES, ORDERS, Order, OrderLine, SHOP_ORDER_IDS, SHOP_ORDER_LINES, SHOP_ORDERS,
    ShopOrder, ShopOrderLine,
};
use crate::staging::group::{Group, GroupReader, GroupWriter, GroupsAhead, Window};
use crate::staging::records::unreadable;
use crate::staging::{Batch, BatchMeta, BatchWriter, Format, Item, Record, RecordWriter, Stage};
use crate::templates::{Params, Value};
use rust_decimal::Decimal;

const FLOW: Flow = Flow::Orders;
/// The mapped statuses of a closed order: it reserves nothing, and an
/// order moving to one releases its reservation (a realized order's goods
/// have left the warehouse; a cancelled one's never will).
pub const CANCELLED: &str = "cancelled";
pub const REALIZED: &str = "realized";
/// The status of an order deleted in the shop (the Magazyn keeps it).
pub const DELETED: &str = "deleted";

fn closed(status: &str) -> bool {
    status == CANCELLED || status == REALIZED || status == DELETED
}

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
    x.db.for_each(
        &x.sql("orders.currencies.sql")?,
        &Params::new(),
        &x.codec,
        |r| {
            if let Some(v) = r.decimal("value")? {
                settings.insert(
                    format!("currency.{}", r.text_or_empty("code")?.trim()),
                    v.normalize().to_string(),
                );
            }
            Ok(())
        },
    )
    .await?;
    // The VAT of the delivery and of fees is their module's tax class, at
    // the rate the shop applies to it (one tax reader: shop::tax).
    let (home, rates) = (
        x.sql("products.home_zone.sql")?,
        x.sql("products.tax_rates.sql")?,
    );
    for (class, rate) in crate::shop::tax::home_rates(&mut x.db, &x.codec, &home, &rates).await? {
        settings.insert(format!("tax_rate.{class}"), rate.to_string());
    }
    x.bw.meta_mut().settings = settings;
    let (params, codec) = (x.params.clone(), x.codec);
    let (snapshot, snapshot_end) = (x.sql("snapshot.sql")?, x.sql("commit.sql")?);

    // Small lookups, once: country names to ISO codes.
    let mut countries: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    x.db.for_each(
        &x.sql("orders.countries.sql")?,
        &Params::new(),
        &codec,
        |r| {
            let iso = r.text_or_empty("iso2")?;
            let e = countries
                .entry(country_key(&r.text_or_empty("name")?))
                .or_insert_with(|| iso.clone());
            if iso < *e {
                *e = iso;
            }
            Ok(())
        },
    )
    .await?;

    // Every stream in one snapshot, so every order comes with all its parts.
    x.db.execute(&snapshot, &Params::new()).await?;

    // The child tables, one plain stream each, put in order of orders_id
    // (an incremental run reads the changed old orders' rows by key).
    x.changed_by("orders.changed.sql", "orders_id").await?;
    // Totals: the rows of an order come one after another, so each run of
    // them is added up here and spooled as one partial sum (a late row makes
    // a second partial; the merge adds the partials).
    let mut spool = super::sorted::Spool::new(&x.bw.scratch(""), "orders_totals");
    let mut run = OrderTotals::default();
    let mut run_key: Option<(i64, i64)> = None;
    let (mut class, mut title) = (String::new(), String::new());
    let sql = x.sql("orders.totals.sql")?;
    x.for_each_part(&sql, |r| {
        let (oid, tid) = (
            r.int("orders_id")?.unwrap_or(0),
            r.int("total_id")?.unwrap_or(0),
        );
        if run_key.is_some_and(|(o, _)| o != oid) {
            let (o, t) = run_key.take().expect("checked above");
            let mut rec = spool.record(o, t);
            run.write_fields(&mut rec);
            spool.push(rec)?;
            run.clear();
        }
        run_key.get_or_insert((oid, tid));
        r.text_into("class", &mut class)?;
        let value = r.decimal("value")?.unwrap_or_default();
        // The title and sort order of the sums (three rows in five) are
        // not kept: not decoded either.
        let (title, sort) = match OrderTotals::keeps_title(&class) {
            true => {
                r.text_into("title", &mut title)?;
                (title.as_str(), r.int("sort_order")?.unwrap_or(0))
            }
            false => ("", 0),
        };
        run.add(oid, &class, value, title, (sort, tid))
    })
    .await?;
    if let Some((o, t)) = run_key {
        let mut rec = spool.record(o, t);
        run.write_fields(&mut rec);
        spool.push(rec)?;
    }
    let mut totals = spool.finish()?;
    // The child rows' text, decoded into one buffer and copied to the record.
    let mut t = String::new();
    let mut history = x
        .spool(
            "orders.history.sql",
            ("orders_id", "history_id"),
            |r, rec| {
                rec.push(&r.datetime("date_added")?.unwrap_or_default());
                r.text_into("comments", &mut t)?;
                rec.push(&t);
                Ok(())
            },
        )
        .await?;
    let mut attributes = x
        .spool(
            "orders.attributes.sql",
            ("orders_id", "orders_products_id"),
            |r, rec| {
                rec.push_int(r.int("attribute_id")?.unwrap_or(0));
                r.text_into("option_name", &mut t)?;
                rec.push(&t);
                r.text_into("option_value", &mut t)?;
                rec.push(&t);
                Ok(())
            },
        )
        .await?;
    let mut order_lines = x
        .spool(
            "orders.lines.sql",
            ("orders_id", "orders_products_id"),
            |r, rec| {
                match r.int("products_id")? {
                    Some(v) => rec.push_int(v),
                    None => rec.push(""),
                }
                r.text_into("model", &mut t)?;
                rec.push(&t);
                r.text_into("name", &mut t)?;
                rec.push(&t);
                for c in ["price", "final_price", "tax_rate"] {
                    r.decimal_text_into(c, &mut t)?;
                    rec.push(&t);
                }
                rec.push_int(r.int("quantity")?.unwrap_or(0));
                Ok(())
            },
        )
        .await?;

    // The headers in key order, each merged with its parts and screened;
    // the valid ones written with their lines.
    let e = &SHOP_ORDERS;
    let l = &SHOP_ORDER_LINES;
    let mut gw = GroupWriter::create(&mut x.bw, e)?;
    let mut rec = Vec::new();
    let mut o = ShopOrder::default();
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut screened = super::Screened::default();
    let mut acc = OrderTotals::default();
    let mut attrs: Vec<(i64, String)> = Vec::new();
    let mut optional = None;
    let mut header = |r: &crate::shop::ShopRow<'_>| -> Result<()> {
        let oid = r.int("orders_id")?.unwrap_or(0);
        // A copied template may still return the country codes itself, or
        // a NIP column (an add-on that stores the buyer's NIP on the order).
        let (has_iso, has_nip) =
            *optional.get_or_insert_with(|| (r.has("billing_country_iso2"), r.has("billing_nip")));
        let text = |c: &str, into: &mut String| r.text_into(c, into);
        let iso = |column: &str, country: &str, into: &mut String| -> Result<()> {
            match has_iso {
                true => r.text_into(column, into)?,
                false => {
                    into.clear();
                    into.push_str(countries.get(&country_key(country)).map_or("", |c| c));
                }
            }
            Ok(())
        };
        // Totals: the partial sums added up.
        acc.clear();
        totals.each_of(oid, |t| acc.merge_fields(oid, t))?;
        o.orders_id = oid;
        o.customers_id = r.int("customers_id")?;
        text("customers_name", &mut o.customers_name)?;
        text("customers_company", &mut o.customers_company)?;
        text("customers_email", &mut o.customers_email)?;
        text("customers_telephone", &mut o.customers_telephone)?;
        text("billing_name", &mut o.billing_name)?;
        text("billing_company", &mut o.billing_company)?;
        text("billing_street", &mut o.billing_street)?;
        text("billing_suburb", &mut o.billing_suburb)?;
        text("billing_city", &mut o.billing_city)?;
        text("billing_postcode", &mut o.billing_postcode)?;
        text("billing_state", &mut o.billing_state)?;
        text("billing_country", &mut o.billing_country)?;
        iso(
            "billing_country_iso2",
            &o.billing_country,
            &mut o.billing_country_iso2,
        )?;
        match has_nip {
            true => text("billing_nip", &mut o.billing_nip)?,
            false => o.billing_nip.clear(),
        }
        text("delivery_name", &mut o.delivery_name)?;
        text("delivery_company", &mut o.delivery_company)?;
        text("delivery_street", &mut o.delivery_street)?;
        text("delivery_suburb", &mut o.delivery_suburb)?;
        text("delivery_city", &mut o.delivery_city)?;
        text("delivery_postcode", &mut o.delivery_postcode)?;
        text("delivery_state", &mut o.delivery_state)?;
        text("delivery_country", &mut o.delivery_country)?;
        iso(
            "delivery_country_iso2",
            &o.delivery_country,
            &mut o.delivery_country_iso2,
        )?;
        text("payment_method", &mut o.payment_method)?;
        o.date_purchased = r.datetime("date_purchased")?.unwrap_or_default();
        o.last_modified = r.datetime("last_modified")?.unwrap_or_default();
        o.status_id = r.int("status_id")?;
        text("status_name", &mut o.status_name)?;
        text("currency", &mut o.currency)?;
        o.currency_value = r.decimal("currency_value")?.map(|d| d.normalize());
        acc.fill(&mut o);
        // The first status comment (by date, then id).
        let mut first: Option<(String, i64, String)> = None;
        history.each_of(oid, |h| {
            let id = h.get(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            let (date, comment) = (h.get(3).unwrap_or(""), h.get(4).unwrap_or(""));
            if first
                .as_ref()
                .is_none_or(|(d, i, _)| (date, id) < (d.as_str(), *i))
            {
                first = Some((date.to_string(), id, comment.to_string()));
            }
            Ok(())
        })?;
        o.customer_comment = first.map(|f| f.2).unwrap_or_default();
        o.write_into(&mut rec);
        // The lines with their attributes.
        // (The line records are kept from order to order, their text reused.)
        let mut n_lines = 0;
        order_lines.each_of(oid, |ln| {
            let opid: i64 = ln.get(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            // Attributes come in line order too (both spools key on the line);
            // their `option: value` strings are reused from line to line.
            let mut n_attrs = 0;
            attributes.each_of_child(oid, opid, |a| {
                let id = a.get(3).and_then(|v| v.parse().ok()).unwrap_or(0);
                let (o, v) = (a.get(4).unwrap_or(""), a.get(5).unwrap_or(""));
                if n_attrs == attrs.len() {
                    attrs.push((0, String::new()));
                }
                let (slot_id, text) = &mut attrs[n_attrs];
                n_attrs += 1;
                *slot_id = id;
                text.clear();
                text.push_str(o);
                text.push_str(": ");
                text.push_str(v);
                Ok(())
            })?;
            let attrs = &mut attrs[..n_attrs];
            attrs.sort_by_key(|(id, _)| *id);
            if n_lines == lines.len() {
                lines.push(vec![String::new(); l.columns.len()]);
            }
            let line = &mut lines[n_lines];
            n_lines += 1;
            // The spool holds the key (order, line, arrival), then the
            // columns after the key in schema order (`orders.lines.sql`'s
            // spool above): a faithful copy, as text, checked with its order
            // by the transform; the attributes last.
            let attributes_at = l.columns.len() - 1;
            for (i, field) in line.iter_mut().enumerate() {
                field.clear();
                if i < attributes_at {
                    let spooled = if i < 2 { i } else { i + 1 };
                    field.push_str(ln.get(spooled).unwrap_or(""));
                    continue;
                }
                for (k, (_, t)) in attrs.iter().enumerate() {
                    if k > 0 {
                        field.push_str(", ");
                    }
                    field.push_str(t);
                }
            }
            Ok(())
        })?;
        let lines = &lines[..n_lines];
        if screened.admit(e, &rec) {
            gw.write(&rec, lines)?;
        }
        Ok(())
    };
    // In parts of the window, as the child tables (a copied template
    // from before the parts: once, over the whole window).
    let headers = x.sql("orders.extract.sql")?;
    match headers.params.iter().any(|p| p == "lo") {
        true => x.for_each_part(&headers, &mut header).await?,
        false => {
            x.db.for_each(&headers, &params, &codec, &mut header)
                .await?
        }
    };
    gw.finish(&mut x.bw)?;
    for m in [totals, history, attributes, order_lines] {
        m.remove()?;
    }
    // Every order id the shop has, up to the signpost: an order the
    // Magazyn holds that is not among them was deleted in the shop.
    let ids_path = x.bw.scratch("data/shop_order_ids.csv");
    let mut ids = RecordWriter::create(&ids_path, &SHOP_ORDER_IDS, Format::Csv)?;
    let mut id = [String::new()];
    x.db.for_each(&x.sql("orders.ids.sql")?, &params, &codec, |r| {
        id[0] = r.int("orders_id")?.unwrap_or(0).to_string();
        ids.write(&id)
    })
    .await?;
    x.bw.add(&SHOP_ORDER_IDS, ids.finish()?);
    x.db.execute(&snapshot_end, &Params::new()).await?;
    let counts = screened.finish(e, &mut x.bw, "shop:orders")?;
    let batch = x.finish().await?;
    Ok(Stepped { batch, counts })
}

/// A country as the shop compares names (case and trailing blanks aside).
fn country_key(name: &str) -> String {
    name.trim_end().to_lowercase()
}

/// One order's totals (`orders_total`, in the order the shop wrote them),
/// added up exactly per class.
#[derive(Default)]
struct OrderTotals {
    subtotal: Option<Decimal>,
    shipping_title: Option<String>,
    shipping: Option<Decimal>,
    tax: Option<Decimal>,
    other: Option<Decimal>,
    total: Option<Decimal>,
    /// The other totals: ((sort order, total id), `class value title`).
    extras: Vec<((i64, i64), String)>,
}

impl OrderTotals {
    fn clear(&mut self) {
        *self = OrderTotals {
            extras: std::mem::take(&mut self.extras),
            ..OrderTotals::default()
        };
        self.extras.clear();
    }

    fn sum(order: i64, what: &str, slot: &mut Option<Decimal>, value: Decimal) -> Result<()> {
        let s = slot.unwrap_or(Decimal::ZERO).checked_add(value);
        *slot = Some(s.ok_or_else(|| Error::Shop {
            table: "orders_total".into(),
            key: format!("orders_id {order}"),
            message: format!("the {what} values add up beyond 28 digits"),
        })?);
        Ok(())
    }

    /// Whether [`OrderTotals::add`] uses a row's title and sort order
    /// (the delivery's and the other totals'; not the sums').
    fn keeps_title(class: &str) -> bool {
        !matches!(class, "ot_subtotal" | "ot_tax" | "ot_total")
    }

    /// One `orders_total` row; `at` is (sort_order, orders_total_id).
    fn add(
        &mut self,
        order: i64,
        class: &str,
        value: Decimal,
        title: &str,
        at: (i64, i64),
    ) -> Result<()> {
        match class {
            "ot_subtotal" => Self::sum(order, class, &mut self.subtotal, value)?,
            "ot_tax" => Self::sum(order, class, &mut self.tax, value)?,
            "ot_total" => Self::sum(order, class, &mut self.total, value)?,
            "ot_shipping" => {
                Self::sum(order, class, &mut self.shipping, value)?;
                self.take_title(title);
            }
            _ => {
                Self::sum(order, class, &mut self.other, value)?;
                let line = format!("{class} {value} {}", title.replace('\n', " "));
                self.extras.push((at, line));
            }
        }
        Ok(())
    }

    /// The delivery's title: the smallest, where an order has several.
    fn take_title(&mut self, title: &str) {
        if self.shipping_title.as_deref().is_none_or(|t| title < t) {
            self.shipping_title = Some(title.to_string());
        }
    }

    /// A partial sum as spool fields: the five sums ("" for none), the
    /// title marker, then (sort order, total id, line) per extra.
    fn write_fields(&self, rec: &mut super::sorted::SpoolRecord) {
        for v in [
            self.subtotal,
            self.shipping,
            self.tax,
            self.other,
            self.total,
        ] {
            match v {
                Some(v) => rec.push_display(v),
                None => rec.push(""),
            }
        }
        // "" no delivery title; else "=" and the title.
        match self.shipping_title.as_deref() {
            Some(t) => rec.push_display(format_args!("={t}")),
            None => rec.push(""),
        }
        for ((s, id), line) in &self.extras {
            rec.push_display(s);
            rec.push_display(id);
            rec.push(line);
        }
    }

    /// Add a partial sum read back from the spool (fields after the key).
    fn merge_fields(&mut self, order: i64, rec: &super::sorted::SpoolRecord) -> Result<()> {
        let f = |i: usize| rec.get(3 + i).unwrap_or("");
        let dec = |i: usize| -> Result<Option<Decimal>> {
            match f(i) {
                "" => Ok(None),
                v => money::parse(v).map(Some).map_err(|m| Error::Shop {
                    table: "orders_total".into(),
                    key: format!("orders_id {order}"),
                    message: m,
                }),
            }
        };
        for (i, what) in ["ot_subtotal", "ot_shipping", "ot_tax", "other", "ot_total"]
            .into_iter()
            .enumerate()
        {
            if let Some(v) = dec(i)? {
                let slot = match i {
                    0 => &mut self.subtotal,
                    1 => &mut self.shipping,
                    2 => &mut self.tax,
                    3 => &mut self.other,
                    _ => &mut self.total,
                };
                Self::sum(order, what, slot, v)?;
            }
        }
        if let Some(t) = f(5).strip_prefix('=') {
            self.take_title(t);
        }
        let mut i = 6;
        while 3 + i + 2 < rec.len() {
            let n = |j: usize| f(j).parse::<i64>().unwrap_or(0);
            self.extras.push(((n(i), n(i + 1)), f(i + 2).to_string()));
            i += 3;
        }
        Ok(())
    }

    /// The order's totals columns; the extras in sort order, then as the
    /// shop wrote them.
    fn fill(&mut self, o: &mut ShopOrder) {
        self.extras.sort_by_key(|(at, _)| *at);
        o.subtotal = self.subtotal;
        o.shipping_title = self.shipping_title.take().unwrap_or_default();
        o.shipping_value = self.shipping;
        o.tax_total = self.tax;
        o.other_totals = self.other;
        o.total = self.total;
        o.extra_totals.clear();
        for (i, (_, line)) in self.extras.iter().enumerate() {
            if i > 0 {
                o.extra_totals.push('\n');
            }
            o.extra_totals.push_str(line);
        }
    }
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

/// A total other than subtotal, tax, delivery and total (the core low
/// order fee, add-ons' fees and discounts) as the shop wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraIn {
    pub class: String,
    pub title: String,
    /// Default currency, as the shop displays amounts: gross in a gross
    /// shop, net in a net shop (the core modules write it so).
    pub value: Decimal,
    /// The VAT rate of the module's tax class; `None` (no tax class known):
    /// split over the goods' rates in proportion to their value.
    pub rate: Option<Decimal>,
}

/// One Magazyn line made from an extra total (several when it is split
/// over the goods' rates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedExtra {
    /// Index into the extras given to [`price_order`].
    pub extra: usize,
    pub rate: Decimal,
    pub money: Priced,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedOrder {
    pub lines: Vec<Priced>,
    pub extras: Vec<PricedExtra>,
    pub shipping: Priced,
    pub shipping_rate: Decimal,
    /// What was paid less what the lines come to (a `rounding` line at 0 %
    /// when not zero): the shop rounds its own sum once, the lines each.
    pub rounding: Decimal,
    pub total_net: Decimal,
    pub total_gross: Decimal,
}

/// An amount already in the order's currency, at `rate`: gross as shown in
/// a gross shop (net derived), net in a net shop (gross derived). `None`:
/// out of range (beyond 28 digits, or a rate of -100 %).
fn priced_amount(amount: Decimal, rate: Decimal, gross_mode: bool) -> Option<Priced> {
    let (net, gross) = if gross_mode {
        (money::net_of_gross(amount, rate, 2)?, amount)
    } else {
        (amount, money::gross_of_net(amount, rate, 2)?)
    };
    Some(Priced {
        unit_net: net,
        unit_gross: gross,
        total_net: net,
        total_gross: gross,
    })
}

/// The sum of decimals, `None` beyond 28 digits.
fn checked_sum(mut it: impl Iterator<Item = Decimal>) -> Option<Decimal> {
    it.try_fold(Decimal::ZERO, |a, b| a.checked_add(b))
}

/// Price an order the way the shop priced it, in the order's currency `cv`,
/// so that its gross total is what the customer paid (`paid`, to the grosz).
///
/// Goods: the shop rounds each unit price (net, or gross in a gross shop)
/// before multiplying by the quantity (`currencies::calculate_price`); the
/// Magazyn gets those unit prices and line values, in the order's currency.
/// Delivery and fees: their shop value (gross or net as displayed) at the
/// VAT rate of their module's tax class. Discounts and fees of unknown tax
/// class: split over the goods' rates in proportion to the goods' value.
/// Totals: a gross shop's lines add up; a net shop's VAT is computed from
/// the sum of nets per rate (the Polish invoice rule). Where that differs
/// from what the shop charged (its unrounded sum rounded once, or another
/// currency), the difference is `rounding` and the total is `paid`.
///
/// Every step is checked: `None` when an amount goes out of range (beyond
/// 28 digits, or a rate of -100 %), which rejects the order.
pub fn price_order(
    lines: &[LineIn],
    extras: &[ExtraIn],
    shipping_value: Decimal,
    shipping_rate: Decimal,
    cv: Decimal,
    gross_mode: bool,
    paid: Option<Decimal>,
) -> Option<PricedOrder> {
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        if gross_mode {
            let unit_shown = money::gross_of_net(l.final_price, l.rate, 2)?;
            let total_gross = round2(unit_shown.checked_mul(l.quantity)?.checked_mul(cv)?);
            let unit_gross = round2(unit_shown.checked_mul(cv)?);
            out.push(Priced {
                unit_net: money::net_of_gross(unit_gross, l.rate, 2)?,
                unit_gross,
                total_net: money::net_of_gross(total_gross, l.rate, 2)?,
                total_gross,
            });
        } else {
            let unit_shown = round2(l.final_price);
            let total_net = round2(unit_shown.checked_mul(l.quantity)?.checked_mul(cv)?);
            let unit_net = round2(unit_shown.checked_mul(cv)?);
            out.push(Priced {
                unit_net,
                unit_gross: money::gross_of_net(unit_net, l.rate, 2)?,
                total_net,
                total_gross: money::gross_of_net(total_net, l.rate, 2)?,
            });
        }
    }
    // The goods' value per rate, as displayed: the key of every split.
    let mut weights: Vec<(Decimal, Decimal)> = Vec::new();
    for (l, p) in lines.iter().zip(&out) {
        let v = if gross_mode {
            p.total_gross
        } else {
            p.total_net
        };
        match weights.iter_mut().find(|(r, _)| *r == l.rate) {
            Some((_, w)) => *w = w.checked_add(v)?,
            None => weights.push((l.rate, v)),
        }
    }
    let mut priced_extras = Vec::new();
    for (i, e) in extras.iter().enumerate() {
        let amount = round2(e.value.checked_mul(cv)?);
        match e.rate {
            Some(rate) => priced_extras.push(PricedExtra {
                extra: i,
                rate,
                money: priced_amount(amount, rate, gross_mode)?,
            }),
            None => {
                for (rate, part) in split(amount, &weights)? {
                    priced_extras.push(PricedExtra {
                        extra: i,
                        rate,
                        money: priced_amount(part, rate, gross_mode)?,
                    });
                }
            }
        }
    }
    let shipping = priced_amount(
        round2(shipping_value.checked_mul(cv)?),
        shipping_rate,
        gross_mode,
    )?;

    let mut items = lines
        .iter()
        .zip(&out)
        .map(|(l, p)| (l.rate, *p))
        .chain(priced_extras.iter().map(|e| (e.rate, e.money)))
        .chain([(shipping_rate, shipping)]);
    let (net, gross) = if gross_mode {
        items.try_fold((Decimal::ZERO, Decimal::ZERO), |(n, g), (_, p)| {
            Some((n.checked_add(p.total_net)?, g.checked_add(p.total_gross)?))
        })?
    } else {
        // VAT from the sum of nets per rate.
        let mut by_rate: Vec<(Decimal, Decimal)> = Vec::new();
        for (r, p) in items {
            match by_rate.iter_mut().find(|(x, _)| *x == r) {
                Some((_, s)) => *s = s.checked_add(p.total_net)?,
                None => by_rate.push((r, p.total_net)),
            }
        }
        let net = checked_sum(by_rate.iter().map(|(_, n)| *n))?;
        let vat = by_rate
            .iter()
            .map(|(r, n)| money::vat_of_net(*n, *r))
            .collect::<Option<Vec<_>>>()?;
        (net, net.checked_add(checked_sum(vat.into_iter())?)?)
    };
    let rounding = match paid {
        Some(p) => p.checked_sub(gross)?,
        None => Decimal::ZERO,
    };
    Some(PricedOrder {
        lines: out,
        extras: priced_extras,
        shipping,
        shipping_rate,
        rounding,
        total_net: net.checked_add(rounding)?,
        total_gross: gross.checked_add(rounding)?,
    })
}

/// `amount` split over `weights` (rate, value) in proportion, to the grosz,
/// the parts adding up to `amount` exactly (the remainder on the largest
/// weight). No goods: all of it at 0 %. `None`: out of range.
fn split(amount: Decimal, weights: &[(Decimal, Decimal)]) -> Option<Vec<(Decimal, Decimal)>> {
    let total = checked_sum(weights.iter().map(|(_, w)| *w))?;
    if total.is_zero() {
        return Some(vec![(Decimal::ZERO, amount)]);
    }
    let mut parts: Vec<(Decimal, Decimal)> = weights
        .iter()
        .map(|(r, w)| Some((*r, round2(amount.checked_mul(*w)?.checked_div(total)?))))
        .collect::<Option<_>>()?;
    let rest = amount.checked_sub(checked_sum(parts.iter().map(|(_, p)| *p))?)?;
    let largest = (0..weights.len())
        .max_by(|a, b| weights[*a].1.abs().cmp(&weights[*b].1.abs()).then(b.cmp(a)))
        .unwrap_or(0);
    parts[largest].1 = parts[largest].1.checked_add(rest)?;
    parts.retain(|(_, p)| !p.is_zero());
    Some(parts)
}

pub fn transform(cfg: &Config, input: &Batch) -> Result<Stepped> {
    super::expect(input, FLOW, Stage::Extracted, "transform")?;
    let m = &input.meta;
    let shop_id = &m.source.shop;
    let shop = cfg.shop(shop_id)?;
    let dirs = cfg.site();
    let pricing = Pricing::new(&m.settings, shop);

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
    let mut row = Vec::new();
    let mut out_lines: Vec<Vec<String>> = Vec::new();
    let mut order = ShopOrder::default();
    let mut lines: Vec<ShopOrderLine> = Vec::new();
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
        if let Err(p) = src.validate(&g.rec).and_then(|()| order.read_into(&g.rec)) {
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
        // Read into one reused record a line (the order's lines all valid).
        lines.resize_with(g.children.len(), ShopOrderLine::default);
        let bad_line = bad_line.or_else(|| {
            g.children
                .iter()
                .zip(lines.iter_mut())
                .find_map(|((item, rec), l)| {
                    let line = match item {
                        Item::Record(line) | Item::Invalid { line, .. } => *line,
                    };
                    l.read_into(rec)
                        .err()
                        .map(|p| (line, p.field, p.code, p.message))
                })
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
        match build_order(
            shop_id,
            shop,
            &pricing,
            &order,
            &lines,
            &mut row,
            &mut out_lines,
        ) {
            Ok(warnings) => {
                let number = ORDERS.key_of(&row);
                for w in warnings {
                    bw.warn(ORDERS.name, &number, w.field, w.code, &w.message)?;
                }
                gw.write(&row, &out_lines)?;
            }
            Err(Problem {
                field,
                code,
                message,
            }) => {
                bw.reject(src, &g.rec, &file, line, field, code, &message)?;
            }
        }
    }
    gw.finish(&mut bw)?;
    // The shop's order ids travel on to the load (deleted orders).
    super::pass_on(input, &mut bw, &SHOP_ORDER_IDS)?;
    counts.rejected = bw.rejected;
    counts.warnings = bw.warned;
    let batch = bw.finish()?;
    Ok(Stepped { batch, counts })
}

/// Why an order is rejected, or what a warning says of it: the field, a
/// code and the message.
#[derive(Debug)]
struct Problem {
    field: &'static str,
    code: &'static str,
    message: String,
}

impl Problem {
    fn new(field: &'static str, code: &'static str, message: String) -> Problem {
        Problem {
            field,
            code,
            message,
        }
    }
}

/// What the shop's configuration (recorded in the batch's `[settings]`)
/// says about its amounts: the display mode and the VAT of the delivery and
/// of fees, from their modules' tax classes.
struct Pricing<'a> {
    gross_mode: bool,
    /// `DEFAULT_CURRENCY` (the currency the shop's amounts are in).
    default_currency: String,
    /// PLN's currencies.value: złoty per unit of the default currency.
    pln_value: Option<Decimal>,
    settings: &'a std::collections::BTreeMap<String, String>,
    /// The rates of the installed shipping modules (the order does not say
    /// which one it used: several distinct rates are told apart by which
    /// one makes the order come to what was paid).
    shipping_rates: Vec<Decimal>,
}

impl<'a> Pricing<'a> {
    fn new(
        settings: &'a std::collections::BTreeMap<String, String>,
        shop: &crate::config::ShopConfig,
    ) -> Pricing<'a> {
        let mut p = Pricing {
            gross_mode: settings
                .get("DISPLAY_PRICE_WITH_TAX")
                .is_some_and(|v| v == "true"),
            default_currency: settings
                .get("DEFAULT_CURRENCY")
                .filter(|c| !c.trim().is_empty())
                .map_or("PLN", |c| c.trim())
                .to_string(),
            // A batch extracted before currencies were recorded: PLN is the
            // default currency of a Polish shop.
            pln_value: match settings.get("currency.PLN") {
                Some(v) => v.parse().ok().filter(|v: &Decimal| !v.is_zero()),
                None if !settings.keys().any(|k| k.starts_with("currency.")) => Some(Decimal::ONE),
                None => None,
            },
            settings,
            shipping_rates: Vec::new(),
        };
        let mut rates: Vec<Decimal> = match shop.orders.shipping_rate() {
            Some(r) => vec![r],
            None => settings
                .get("MODULE_SHIPPING_INSTALLED")
                .map(|v| {
                    v.split(';')
                        .filter_map(|m| {
                            let code = m.trim().trim_end_matches(".php").to_ascii_uppercase();
                            p.class_rate(&format!("MODULE_SHIPPING_{code}_TAX_CLASS"))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        if rates.is_empty() {
            // No installed list: every shipping module's tax class there is.
            rates = settings
                .keys()
                .filter(|k| k.starts_with("MODULE_SHIPPING_") && k.ends_with("_TAX_CLASS"))
                .filter_map(|k| p.class_rate(k))
                .collect();
        }
        let mut distinct: Vec<Decimal> = Vec::new();
        for r in rates {
            if !distinct.contains(&r) {
                distinct.push(r);
            }
        }
        p.shipping_rates = distinct;
        p
    }

    /// The rate of the tax class a configuration key names (`0`: untaxed;
    /// a class with no rate in the home zone is taxed at 0 % by the shop).
    fn class_rate(&self, key: &str) -> Option<Decimal> {
        let class = self.settings.get(key)?.trim();
        if class.is_empty() || class == "0" {
            return Some(Decimal::ZERO);
        }
        Some(
            self.settings
                .get(&format!("tax_rate.{class}"))
                .and_then(|r| r.parse().ok())
                .unwrap_or(Decimal::ZERO),
        )
    }

    /// The rate of an order-total module's tax class
    /// (`MODULE_ORDER_TOTAL_<CLASS>_TAX_CLASS`), where it has one.
    fn extra_rate(&self, class: &str) -> Option<Decimal> {
        let code = class.trim_start_matches("ot_").to_ascii_uppercase();
        self.class_rate(&format!("MODULE_ORDER_TOTAL_{code}_TAX_CLASS"))
            .or_else(|| {
                self.class_rate(&format!(
                    "MODULE_ORDER_TOTAL_{}_TAX_CLASS",
                    code.replace('_', "")
                ))
            })
    }
}

/// The extra totals of an order (`class value title` a line).
fn extra_totals(text: &str, pricing: &Pricing) -> std::result::Result<Vec<ExtraIn>, Problem> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.trim().splitn(3, ' ');
        let class = parts.next().unwrap_or_default().to_string();
        let value = parts.next().unwrap_or_default();
        let value = money::parse(value).map_err(|m| {
            Problem::new(
                "extra_totals",
                "not_decimal",
                format!("total `{class}`: {m}"),
            )
        })?;
        let title = parts
            .next()
            .unwrap_or_default()
            .trim()
            .trim_end_matches(':')
            .trim()
            .to_string();
        out.push(ExtraIn {
            rate: pricing.extra_rate(&class),
            class,
            title,
            value,
        });
    }
    Ok(out)
}

/// One shop order → one Magazyn order with its lines. `Err` rejects it;
/// `Ok` carries the warnings to report.
fn build_order(
    shop_id: &str,
    shop: &crate::config::ShopConfig,
    pricing: &Pricing,
    o: &ShopOrder,
    lines: &[ShopOrderLine],
    row: &mut Vec<String>,
    out_lines: &mut Vec<Vec<String>>,
) -> std::result::Result<Vec<Problem>, Problem> {
    let mut warnings = Vec::new();
    let id = o.orders_id;
    let number = format!("{}{id}{}", shop.order_prefix, shop.order_suffix);
    if number.chars().count() > 50 {
        return Err(Problem::new(
            "orders_id",
            "number_too_long",
            format!(
                "order number `{number}` is longer than the Magazyn's 50 characters: shorten order_prefix/order_suffix"
            ),
        ));
    }
    let cv = match o.currency_value {
        Some(v) if v > Decimal::ZERO => v,
        _ => Decimal::ONE,
    };
    let shop_status = o.status_name.trim().to_string();
    let status_id = o.status_id;
    let status = shop
        .map
        .order_status_code(&shop_status, status_id)
        .to_string();
    let shipping_title = o
        .shipping_title
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
    let ins: Vec<LineIn> = lines
        .iter()
        .map(|l| LineIn {
            final_price: l.final_price,
            rate: l.tax_rate,
            quantity: Decimal::from(l.quantity),
        })
        .collect();
    let extras = extra_totals(&o.extra_totals, pricing)?;
    let out_of_range = |what: String| {
        Problem::new(
            "total",
            "out_of_range",
            format!("{what} is out of range (beyond 28 digits): the order cannot be priced"),
        )
    };
    let paid = match o.total {
        None => None,
        Some(t) => Some(round2(t.checked_mul(cv).ok_or_else(|| {
            out_of_range(format!("the total {t} at the currency value {cv}"))
        })?)),
    };
    let has_shipping = !(o.shipping_title.trim().is_empty() && o.shipping_value.is_none());
    let shipping_value = match has_shipping {
        true => o.shipping_value.unwrap_or_default(),
        false => Decimal::ZERO,
    };
    let price = |rate: Decimal| {
        price_order(
            &ins,
            &extras,
            shipping_value,
            rate,
            cv,
            pricing.gross_mode,
            paid,
        )
    };
    // Of the installed shipping modules' rates, the one the order was
    // charged at: the one that leaves the least to round.
    let priced = match pricing.shipping_rates.as_slice() {
        [] => {
            if !shipping_value.is_zero() {
                warnings.push(Problem::new(
                    "shipping",
                    "no_shipping_tax_class",
                    "the shop's configuration names no shipping module tax class: delivery at 0 % VAT"
                        .into(),
                ));
            }
            price(Decimal::ZERO)
        }
        rates => rates
            .iter()
            .filter_map(|r| price(*r))
            .min_by_key(|p| p.rounding.abs()),
    };
    let priced = priced.ok_or_else(|| {
        out_of_range(format!(
            "a line value, a total line or their sum ({} lines, shipping {shipping_value})",
            ins.len()
        ))
    })?;
    let shop_total = paid.unwrap_or(priced.total_gross);
    if priced.rounding.abs() > shop.orders.tolerance() {
        warnings.push(Problem::new(
            "total_gross",
            "total_mismatch",
            format!(
                "the lines come to {} {cur}, the shop charged {} {cur}: {} on a rounding line",
                money::fmt(priced.total_gross - priced.rounding, 2),
                money::fmt(shop_total, 2),
                money::fmt(priced.rounding, 2),
                cur = o.currency.trim(),
            ),
        ));
    }
    if extras.is_empty() && !o.other_totals.unwrap_or_default().is_zero() {
        // A batch extracted before extra_totals were: only their sum is known.
        warnings.push(Problem::new(
            "total_gross",
            "other_totals",
            format!(
                "the order has other total lines (discounts, fees) of {} not carried as lines",
                o.other_totals.unwrap_or_default()
            ),
        ));
    }

    // Lines: the goods in shop order, the delivery last.
    let mut built: Vec<OrderLine> = Vec::with_capacity(lines.len() + 2);
    // A line of the order at its money (every amount to the grosz).
    let line =
        |line_no: usize, kind: &str, code: String, name: String, quantity, m: Priced, rate| {
            OrderLine {
                number: number.clone(),
                line_no: line_no as i64,
                kind: kind.into(),
                code,
                name,
                quantity,
                unit_net: money::fixed(m.unit_net, 2),
                vat_rate: money::fixed(rate, 2),
                unit_gross: money::fixed(m.unit_gross, 2),
                total_net: money::fixed(m.total_net, 2),
                total_gross: money::fixed(m.total_gross, 2),
            }
        };
    for (i, (l, p)) in lines.iter().zip(&priced.lines).enumerate() {
        let name = match l.attributes.trim() {
            "" => l.name.trim().to_string(),
            a => format!("{} ({a})", l.name.trim()),
        };
        let name = match name.is_empty() {
            true => "(bez nazwy)".into(),
            false => name,
        };
        let q = Decimal::from(l.quantity);
        built.push(line(
            i + 1,
            "product",
            l.model.trim().to_string(),
            name,
            q,
            *p,
            ins[i].rate,
        ));
    }
    // Fees and discounts in the shop's sort order, then the rounding, then
    // the delivery.
    let mut no = lines.len();
    for e in &priced.extras {
        let x = &extras[e.extra];
        no += 1;
        let discount = x.value < Decimal::ZERO;
        let code = shop
            .map
            .fees
            .get(&x.class)
            .or_else(|| shop.map.fees.get(&x.title))
            .cloned()
            .unwrap_or_else(|| if discount { "RABAT" } else { "OPLATA" }.into());
        let split = priced.extras.iter().filter(|o| o.extra == e.extra).count() > 1;
        let title = if x.title.is_empty() {
            x.class.clone()
        } else {
            x.title.clone()
        };
        let name = if split {
            format!("{title} (VAT {}%)", e.rate.normalize())
        } else {
            title
        };
        let kind = if discount { "discount" } else { "service" };
        built.push(line(no, kind, code, name, Decimal::ONE, e.money, e.rate));
    }
    if !priced.rounding.is_zero() {
        no += 1;
        let r = priced.rounding;
        let at_zero = Priced {
            unit_net: r,
            unit_gross: r,
            total_net: r,
            total_gross: r,
        };
        let name = "Zaokrąglenie do kwoty zapłaconej".to_string();
        built.push(line(
            no,
            "rounding",
            String::new(),
            name,
            Decimal::ONE,
            at_zero,
            Decimal::ZERO,
        ));
    }
    if !has_shipping {
        warnings.push(Problem::new(
            "shipping",
            "no_shipping",
            "the order has no delivery (ot_shipping) total: no delivery line".into(),
        ));
    } else {
        let name = match shipping_title.is_empty() {
            true => "Dostawa".into(),
            false => shipping_title.clone(),
        };
        let (m, rate) = (priced.shipping, priced.shipping_rate);
        built.push(line(
            no + 1,
            "shipping",
            shipping_code,
            name,
            Decimal::ONE,
            m,
            rate,
        ));
    }

    // Buyer (billing block) and recipient (delivery block).
    // The NIP by the shop's nip_source, the same rule as for customers.
    let company = o.billing_company.trim();
    let buyer_country = o.billing_country_iso2.trim().to_ascii_uppercase();
    let buyer = BuyerNip::of(shop.nip_source, &o.billing_nip, company, &buyer_country);
    if let Some(msg) = buyer.checksum_warning.clone() {
        warnings.push(Problem::new("buyer_nip", "nip_checksum", msg));
    }
    let buyer_name = if buyer.company.is_empty() {
        o.billing_name.trim().to_string()
    } else {
        buyer.company.clone()
    };
    let postcode = |raw: &str, country: &str| -> String {
        let raw = raw.trim();
        if country == "PL" || country.is_empty() {
            polish::normalize_pl_postcode(raw).unwrap_or_else(|| raw.to_string())
        } else {
            raw.to_string()
        }
    };
    let street = |s: &str, sub: &str| match sub.trim() {
        "" => s.trim().to_string(),
        x => format!("{}, {x}", s.trim()),
    };
    let recipient_country = o.delivery_country_iso2.trim().to_ascii_uppercase();
    let delivery_name = o.delivery_name.trim();
    let recipient_name = match BuyerNip::of(
        shop.nip_source,
        &o.billing_nip,
        &o.delivery_company,
        &recipient_country,
    )
    .company
    .as_str()
    {
        "" => delivery_name.to_string(),
        c => format!("{c}, {delivery_name}"),
    };
    let payment = o.payment_method.trim();
    let (currency, comment) = (o.currency.trim(), o.customer_comment.trim());
    let description = shop
        .orders
        .description
        .replace(
            "{payment}",
            shop.map
                .payment
                .get(payment)
                .map_or(payment, String::as_str),
        )
        .replace("{shipping}", &shipping_title)
        .replace("{status}", &shop_status)
        .replace("{order}", &id.to_string())
        .replace("{currency}", currency)
        .replace("{comment}", comment);
    // The Polish convention: złoty per unit of the order's currency.
    // osCommerce's currency_value is units of the order's currency per unit
    // of the default one, so that is PLN's value over the order's.
    let rate = match pricing.pln_value {
        Some(pln) => (pln / cv).round_dp(6).normalize(),
        None => {
            warnings.push(Problem::new(
                "currency_rate",
                "no_pln_rate",
                format!(
                    "the shop has no PLN currency: the rate is stated against its default currency {}",
                    pricing.default_currency
                ),
            ));
            (Decimal::ONE / cv).round_dp(6).normalize()
        }
    };
    let (ordered_at, last_modified) = (o.date_purchased.trim(), o.last_modified.trim());
    let order = Order {
        number: number.clone(),
        confirmed_number: id.to_string(),
        shop: shop_id.to_string(),
        shop_order_id: id,
        // A guest ("purchase without account" add-ons write customers_id
        // 0): the buyer lives only on the order, never a shared customer.
        shop_customer_id: o.customers_id.filter(|c| *c != 0),
        ordered_at: ordered_at.to_string(),
        status: match status.is_empty() {
            true => "?".into(),
            false => status,
        },
        shop_status,
        description,
        currency: match currency {
            "" => pricing.default_currency.clone(),
            c => c.to_string(),
        },
        currency_rate: rate,
        buyer_name,
        buyer_is_company: !company.is_empty(),
        buyer_nip: buyer.nip,
        buyer_street: street(&o.billing_street, &o.billing_suburb),
        buyer_postcode: postcode(&o.billing_postcode, &buyer_country),
        buyer_city: o.billing_city.trim().to_string(),
        buyer_country,
        buyer_email: o.customers_email.trim().to_string(),
        buyer_phone: o.customers_telephone.trim().to_string(),
        recipient_name,
        recipient_street: street(&o.delivery_street, &o.delivery_suburb),
        recipient_postcode: postcode(&o.delivery_postcode, &recipient_country),
        recipient_city: o.delivery_city.trim().to_string(),
        recipient_country,
        recipient_phone: o.customers_telephone.trim().to_string(),
        recipient_email: o.customers_email.trim().to_string(),
        total_net: money::fixed(priced.total_net, 2),
        total_gross: money::fixed(priced.total_gross, 2),
        shop_total: money::fixed(shop_total, 2),
        source_modified: match last_modified {
            "" => ordered_at.to_string(),
            m => m.to_string(),
        },
        customer_comment: comment.to_string(),
    };
    order.write_into(row);
    if let Err(p) = ORDERS.validate(row) {
        return Err(Problem::new(
            "order",
            p.code,
            format!("{}: {}", p.field, p.message),
        ));
    }
    out_lines.resize_with(built.len(), Vec::new);
    for (l, text) in built.iter().zip(out_lines.iter_mut()) {
        l.write_into(text);
        if let Err(p) = ORDER_LINES.validate(text) {
            return Err(Problem::new(
                "line",
                p.code,
                format!("{}: {}", p.field, p.message),
            ));
        }
    }
    Ok(warnings)
}

// ------------------------------------------------------------------- load

pub async fn load(cfg: &Config, batch: &Batch, dry_run: bool) -> Result<LoadOutcome> {
    super::load::load_batch(cfg, batch, dry_run, FLOW, &ORDERS, async |mag, b| {
        apply(cfg, mag, b)
    })
    .await
}

fn apply(cfg: &Config, mag: &mut Magazyn, batch: &Batch) -> Result<LoadOutcome> {
    let shop_id = batch.meta.source.shop.clone();
    let shop = cfg.shop(&shop_id)?;
    let warehouse = mag.warehouse_id(&shop.warehouse)?;
    mag.refresh_customer_keys()?;
    let (o, ol) = (&ORDERS, &ORDER_LINES);
    let read = GroupsAhead::start(batch, GroupReader::open(batch, o)?, Ahead::WINDOW)?;
    let mut ord = Order::default();
    let mut lines: Vec<OrderLine> = Vec::new();
    let mut good_ids: std::collections::HashMap<String, Option<i64>> =
        std::collections::HashMap::new();
    let mut new_reservations: std::collections::BTreeMap<i64, Decimal> =
        std::collections::BTreeMap::new();
    // Buyers already linked in this load (a customer's later orders skip
    // the matching): bounded by the customers in the batch, not its orders.
    // Keyed by the shop's numeric id: no string per buyer.
    let mut buyers: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    let mut out = LoadOutcome::default();
    // Goods issues (opt-in): the first load of a shop brings its history,
    // whose delivered orders the stock counted long ago: none issued.
    let issues = shop.orders.goods_issues;
    // Orders beyond the highest this shop has loaded, met in rising order,
    // cannot be in the Magazyn yet: they are inserted without a look-up.
    let loaded_max = mag.orders_loaded_max(&shop_id)?;
    let mut last_new = loaded_max.unwrap_or(i64::MIN);
    let history = issues && loaded_max.is_none();
    let mut history_realized = 0u64;
    let mut ahead = Ahead::new(o, read);
    while let Some(g) = ahead.next(mag, &shop_id, &buyers, &mut good_ids)? {
        out.counts.records += 1;
        ord.read_into(&g.rec)
            .map_err(|p| unreadable(o, &g.rec, p))?;
        lines.resize_with(g.children.len(), OrderLine::default);
        for ((_, rec), l) in g.children.iter().zip(lines.iter_mut()) {
            l.read_into(rec).map_err(|p| unreadable(ol, rec, p))?;
        }
        let number = ord.number.clone();
        let status = ord.status.clone();
        let description = ord.description.clone();
        let closed = closed(&status);

        let known_new = ord.shop_order_id > last_new;
        if known_new {
            last_new = ord.shop_order_id;
        }
        let existing = match known_new {
            true => None,
            false => mag.order_get(&number)?,
        };
        if let Some(existing) = existing {
            if existing.status == status && existing.description == description {
                out.counts.unchanged += 1;
                continue;
            }
            // Status change: the reservation follows it, exactly once.
            let wh = existing.warehouse_id.unwrap_or(warehouse);
            let mut reserved = existing.reserved;
            if closed && reserved {
                for (good, qty) in mag.order_reserved_goods(existing.id)? {
                    mag.reserve(wh, good, -qty)?;
                }
                reserved = false;
            } else if !closed && !reserved {
                for (good, qty) in mag.order_reserved_goods(existing.id)? {
                    mag.reserve(wh, good, qty)?;
                }
                reserved = true;
            }
            mag.order_update_status(existing.id, &status, &description, reserved)?;
            out.counts.updated += 1;
            let issue = match issues && existing.status != status {
                true => follow_goods_issues(mag, existing.id, wh, &status, batch.id())?,
                false => None,
            };
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
            fields.extend(issue);
            out.change(Change::Update {
                key: number,
                fields,
            });
            continue;
        }

        // A new order: its buyer first (linked, or matched/created on the fly).
        let customer_id = match ord.shop_customer_id.filter(|c| *c != 0) {
            None => None,
            Some(shop_cid) if buyers.contains_key(&shop_cid) => buyers.get(&shop_cid).copied(),
            Some(shop_cid) => {
                let cid = shop_cid.to_string();
                let opt = super::non_empty;
                let buyer = CustomerRow {
                    code: format!("{}{cid}", shop.customer_code_prefix),
                    name: ord.buyer_name.clone(),
                    nip: opt(&ord.buyer_nip),
                    email: opt(&ord.buyer_email),
                    phone: opt(&ord.buyer_phone),
                    street: opt(&ord.buyer_street),
                    postcode: opt(&ord.buyer_postcode),
                    city: opt(&ord.buyer_city),
                    country_code: opt(&ord.buyer_country),
                    is_company: ord.buyer_is_company,
                };
                use super::customers::Upsert;
                match super::customers::upsert(mag, &shop_id, &cid, &buyer, batch.id(), false)? {
                    Upsert::Inserted(id)
                    | Upsert::Updated(id, _)
                    | Upsert::Unchanged(id)
                    | Upsert::Weak { id, .. } => {
                        buyers.insert(shop_cid, id);
                        Some(id)
                    }
                    Upsert::Ambiguous(code, msg) => {
                        out.counts.rejected += 1;
                        out.rejects
                            .push(Note::new(number, code, format!("buyer: {msg}")));
                        continue;
                    }
                }
            }
        };
        // Goods by code, then barcode alias; unknown ones per policy.
        let mut goods = Vec::with_capacity(lines.len());
        let mut unknown = Vec::new();
        for l in &lines {
            let (kind, code) = (&l.kind, &l.code);
            // Delivery, fees, discounts and rounding are no goods.
            if let Some(k) = NOT_GOODS.into_iter().find(|k| k == kind) {
                goods.push((None, k));
                continue;
            }
            // Goods recur across orders: look each code up once per load.
            let found = match good_ids.get(code) {
                Some(v) => *v,
                None => {
                    let v = mag.good_by_code(code)?;
                    good_ids.insert(code.clone(), v);
                    v
                }
            };
            match found {
                Some(id) => goods.push((Some(id), "good")),
                None => {
                    unknown.push(format!(
                        "{} `{}`",
                        l.line_no,
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
                out.rejects
                    .push(Note::new(number, "unknown_good".into(), msg));
                continue;
            }
            out.warnings.push(Note::new(
                number.clone(),
                "one_off_line".into(),
                format!("{msg}: kept as one-off lines"),
            ));
        }
        let text = |v: &str| match v.is_empty() {
            true => Value::Null,
            false => Value::Text(v.to_string()),
        };
        let amount = |d: Decimal| Value::Text(crate::money::text(d));
        let p = Params::with_capacity(29)
            .set("number", text(&ord.number))
            .set("confirmed_number", text(&ord.confirmed_number))
            .set("shop", text(&ord.shop))
            .set("ordered_at", text(&ord.ordered_at))
            .set("status", text(&ord.status))
            .set("description", text(&ord.description))
            .set("currency", text(&ord.currency))
            .set("currency_rate", amount(ord.currency_rate))
            .set("buyer_name", text(&ord.buyer_name))
            .set("buyer_nip", text(&ord.buyer_nip))
            .set("buyer_street", text(&ord.buyer_street))
            .set("buyer_postcode", text(&ord.buyer_postcode))
            .set("buyer_city", text(&ord.buyer_city))
            .set("buyer_country", text(&ord.buyer_country))
            .set("recipient_name", text(&ord.recipient_name))
            .set("recipient_street", text(&ord.recipient_street))
            .set("recipient_postcode", text(&ord.recipient_postcode))
            .set("recipient_city", text(&ord.recipient_city))
            .set("recipient_country", text(&ord.recipient_country))
            .set("recipient_phone", text(&ord.recipient_phone))
            .set("recipient_email", text(&ord.recipient_email))
            .set("total_net", amount(ord.total_net))
            .set("total_gross", amount(ord.total_gross))
            .set("customer_comment", text(&ord.customer_comment))
            .set("customer_id", customer_id.map_or(Value::Null, Value::Int))
            .set("warehouse_id", warehouse)
            .set("reserved", !closed)
            .set("buyer_is_company", ord.buyer_is_company);
        let mut new_lines = Vec::with_capacity(lines.len());
        for (l, (good, kind)) in lines.iter().zip(&goods) {
            new_lines.push(
                Params::with_capacity(12)
                    .set("line_no", l.line_no)
                    .set("good_id", good.map_or(Value::Null, Value::Int))
                    .set("kind", *kind)
                    .set("code", text(&l.code))
                    .set("name", text(&l.name))
                    .set("quantity", amount(l.quantity))
                    .set("unit_net", amount(l.unit_net))
                    .set("vat_rate", amount(l.vat_rate))
                    .set("unit_gross", amount(l.unit_gross))
                    .set("total_net", amount(l.total_net))
                    .set("total_gross", amount(l.total_gross)),
            );
            if let (Some(good), false) = (good, closed) {
                // New orders' reservations are added up and written once per
                // good at the end of the load (same transaction).
                let sum = new_reservations.entry(*good).or_insert(Decimal::ZERO);
                *sum = sum.checked_add(l.quantity).ok_or_else(|| {
                    Error::record(
                        ol.name,
                        format!("{number}/{}", l.line_no),
                        "quantity",
                        format!("the reservations of Magazyn good {good} add up beyond 28 digits"),
                    )
                })?;
            }
        }
        let order_id = mag.order_insert_new(p, new_lines)?;
        // What the change says, for the changes a load keeps to show.
        let mut what = match out.keeps_changes() {
            true => format!(
                "{} lines, {} {}",
                lines.len(),
                ord.total_gross,
                ord.currency
            ),
            false => String::new(),
        };
        if issues && status == REALIZED {
            if history {
                history_realized += 1;
            } else {
                // A queued order gets its id by its number (which writes the queue).
                let order_id = match order_id {
                    Some(id) => id,
                    None => mag.order_get(&number)?.map(|o| o.id).ok_or_else(|| {
                        Error::batch(
                            batch.id(),
                            format!("order {number} was inserted but the Magazyn does not find it"),
                        )
                    })?,
                };
                if let Some((_, _, issued)) =
                    follow_goods_issues(mag, order_id, warehouse, &status, batch.id())?
                {
                    what.push_str(&format!(", {issued}"));
                }
            }
        }
        out.counts.inserted += 1;
        out.change(Change::Insert { key: number, what });
    }
    let new_reservations: Vec<(i64, Decimal)> = new_reservations.into_iter().collect();
    mag.reserve_all(warehouse, &new_reservations)?;
    if history_realized > 0 {
        out.warnings.push(Note::new(
            shop_id.clone(),
            "history_not_issued".into(),
            format!(
                "the shop's first orders load: {history_realized} orders already realized are recorded without goods issues (the stock counted them long ago); goods issues start with the orders realized from now on"
            ),
        ));
    }
    mark_deleted(mag, batch, &shop_id, warehouse, &mut out)?;
    Ok(out)
}

/// The kinds of order line that are no goods: delivery, fees, discounts
/// and rounding.
const NOT_GOODS: [&str; 4] = ["shipping", "service", "discount", "rounding"];

/// The orders of a load, read a window ahead of applying them: before a
/// window is applied, its buyers not linked yet in this load are looked up
/// in one statement (`Magazyn::customer_links_ahead`), and so are the codes
/// of its goods not met yet (`Magazyn::goods_by_codes`). On Firebird a
/// look-up per buyer was a round trip each: 39 633 of them, 15.8 s of a
/// 200 000-order load, against 1.6 s looked up ahead; a look-up per code
/// 2 000 of them for the generated catalog, 0.45 s, against 0.11 s. The
/// windows are read on a thread of their own (`GroupsAhead`) and reused.
struct Ahead {
    /// The batch's orders, read on a thread of their own.
    read: GroupsAhead,
    window: Option<Window>,
    at: usize,
    buyer_col: usize,
    code_col: usize,
    kind_col: usize,
    ask: Vec<String>,
}

impl Ahead {
    /// Orders read ahead.
    const WINDOW: usize = 256;

    fn new(orders: &'static crate::staging::Entity, read: GroupsAhead) -> Ahead {
        Ahead {
            read,
            window: None,
            at: 0,
            buyer_col: orders.col("shop_customer_id"),
            code_col: ORDER_LINES.col("code"),
            kind_col: ORDER_LINES.col("kind"),
            ask: Vec::new(),
        }
    }

    /// The next order with its lines; `None` at the end. With each window
    /// of orders read, the buyers not `linked` yet are looked up in the
    /// Magazyn by list, and so are the codes of their goods lines that
    /// `goods` does not know yet (those found go into it).
    fn next(
        &mut self,
        mag: &mut Magazyn,
        shop: &str,
        linked: &std::collections::HashMap<i64, i64>,
        goods: &mut std::collections::HashMap<String, Option<i64>>,
    ) -> Result<Option<&Group>> {
        if self.window.as_ref().is_none_or(|w| self.at == w.filled) {
            let w = self.read.next(self.window.take())?;
            self.at = 0;
            self.ask.clear();
            for g in &w.groups[..w.filled] {
                // A buyer that does not read is its order's problem,
                // reported when the order is applied.
                if let Some(c) = g
                    .rec
                    .get(self.buyer_col)
                    .and_then(|v| v.parse::<i64>().ok())
                    && c != 0
                    && !linked.contains_key(&c)
                {
                    self.ask.push(c.to_string());
                }
            }
            self.ask.sort_unstable();
            self.ask.dedup();
            if !self.ask.is_empty() {
                mag.customer_links_ahead(shop, &self.ask)?;
            }
            self.ask.clear();
            for (_, line) in w.groups[..w.filled].iter().flat_map(|g| &g.children) {
                let (Some(code), Some(kind)) = (line.get(self.code_col), line.get(self.kind_col))
                else {
                    continue;
                };
                if !code.is_empty()
                    && !NOT_GOODS.contains(&kind.as_str())
                    && !goods.contains_key(code)
                {
                    self.ask.push(code.to_string());
                }
            }
            self.ask.sort_unstable();
            self.ask.dedup();
            if !self.ask.is_empty() {
                for (code, id) in mag.goods_by_codes(&self.ask)? {
                    goods.insert(code, Some(id));
                }
            }
            self.window = Some(w);
        }
        let w = self.window.as_ref().expect("set above");
        if self.at == w.filled {
            return Ok(None);
        }
        self.at += 1;
        Ok(Some(&w.groups[self.at - 1]))
    }
}

/// `[shops.<id>.orders] goods_issues`: what left the warehouse follows the
/// order's status. Realized: each goods line issued, as far as it is not
/// yet. Back to an open status: the issues reversed (rows of negative
/// quantity; nothing is deleted). Cancelled or deleted after delivery: kept,
/// since goods that left come back only by a document of the warehouse (a
/// return), not by a status. Returns the change to report, if any.
fn follow_goods_issues(
    mag: &mut Magazyn,
    order_id: i64,
    warehouse: i64,
    status: &str,
    batch_id: &str,
) -> Result<Option<(String, String, String)>> {
    let issued = mag.order_issued(order_id)?;
    let out_of_range = |line: i64| Error::Magazyn {
        what: "goods_issues".into(),
        key: format!("{order_id}/{line}"),
        message: "the quantity to issue is out of range (beyond 28 digits)".into(),
    };
    let mut moves: Vec<(i64, i64, Decimal)> = Vec::new();
    if status == REALIZED {
        for (line, good, qty) in mag.order_goods_lines(order_id)? {
            let done = issued.get(&line).map_or(Decimal::ZERO, |(_, q)| *q);
            if qty != done {
                let q = qty.checked_sub(done).ok_or_else(|| out_of_range(line))?;
                moves.push((line, good, q));
            }
        }
    } else if !closed(status) {
        moves.extend(issued.iter().map(|(line, (good, q))| (*line, *good, -*q)));
    }
    if moves.is_empty() {
        return Ok(None);
    }
    let total = moves
        .iter()
        .try_fold(Decimal::ZERO, |a, m| a.checked_add(m.2))
        .ok_or_else(|| out_of_range(0))?;
    for (line, good, qty) in &moves {
        mag.issue_goods(order_id, *line, warehouse, *good, *qty, batch_id)?;
    }
    let what = if total.is_sign_negative() {
        format!(
            "goods issue reversed: {} back in stock",
            (-total).normalize()
        )
    } else {
        format!("goods issued: {}", total.normalize())
    };
    Ok(Some(("goods_issue".into(), String::new(), what)))
}

/// The Magazyn's orders of the shop, up to the extract's signpost, that the
/// shop's list of order ids no longer has: deleted in the shop's admin.
/// Each is marked `deleted` (never removed), its reservation released, and
/// reported by number. The shop's ids are read into a set ([`IdSet`]: a
/// bit per id, 125 KB for a million) and the Magazyn's orders streamed in
/// any order against it: no sort of the shop's orders, whose buffer grew
/// with the shop (up to 32 MB in SQLite's sorter).
///
/// Every load compares, and records what it compared (`magsync_checks`):
/// the shop's ids up to the signpost, counted and digested, and the
/// Magazyn's orders up to the highest id it read. Where the shop still has
/// exactly the ids the last comparison covered (same count and digest) and
/// the Magazyn then held no order beyond them, nothing that comparison saw
/// can have gone, so only the Magazyn's orders added since are read: an
/// incremental load does not read all of the shop's orders (at 200 000
/// orders the comparison took 0.15 s of a 0.27 s load into SQLite, and
/// 1.3 s of the Firebird load). Anything else compares them all.
fn mark_deleted(
    mag: &mut Magazyn,
    batch: &Batch,
    shop_id: &str,
    warehouse: i64,
    out: &mut LoadOutcome,
) -> Result<()> {
    let Some(max_id) = batch.meta.watermark.as_ref().and_then(|w| w.max_id) else {
        return Ok(());
    };
    if batch.file_of(&SHOP_ORDER_IDS).is_none() {
        return Ok(()); // a batch from before the ids were listed
    }
    let last = mag.check_get(shop_id, ORDERS_CHECK)?;
    // The shop's ids, counted up to the signpost and up to the end of the
    // last comparison; the span of those up to the signpost.
    let (mut covered, mut before) = (IdDigest::default(), IdDigest::default());
    let mut span: Option<(i64, i64)> = None;
    let mut rec = Vec::new();
    {
        let (mut ids, _) = batch.reader(&SHOP_ORDER_IDS)?;
        while let Some(id) = next_shop_id(batch, &mut ids, &mut rec)? {
            if id <= max_id {
                covered.add(id);
                span = Some(span.map_or((id, id), |(lo, hi)| (lo.min(id), hi.max(id))));
            }
            if last.is_some_and(|c| id <= c.covered_to) {
                before.add(id);
            }
        }
    }
    let after = match last {
        Some(c)
            if c.key_max <= c.covered_to
                && c.covered_to <= max_id
                && (before.count, before.digest) == (c.ids_count, c.ids_digest) =>
        {
            c.seen_to
        }
        _ => 0,
    };
    let mut check = DeletionCheck {
        covered_to: max_id,
        ids_count: covered.count,
        ids_digest: covered.digest,
        seen_to: after,
        key_max: match (after, last) {
            (1.., Some(c)) => c.key_max,
            _ => 0,
        },
    };
    // Which ids the shop has, as a set: the Magazyn's orders then come in
    // any order, and nothing sorts the shop's orders.
    let mut shop_has = IdSet::for_span(span, covered.count);
    {
        let (mut ids, _) = batch.reader(&SHOP_ORDER_IDS)?;
        while let Some(id) = next_shop_id(batch, &mut ids, &mut rec)? {
            if id <= max_id {
                shop_has.insert(id);
            }
        }
    }
    shop_has.seal();
    // (id, number, reserved, warehouse): few, only the deleted.
    let mut gone: Vec<(i64, String, bool, i64)> = Vec::new();
    mag.for_each(
        "orders.of_shop.sql",
        Params::new().set("shop", shop_id).set("after", after),
        |r| {
            let (id, n) = (r.int("id")?, r.int("shop_order_id")?);
            check.seen_to = check.seen_to.max(id);
            check.key_max = check.key_max.max(n);
            if n > max_id || r.text("status")? == DELETED {
                return Ok(());
            }
            if !shop_has.contains(n) {
                gone.push((
                    id,
                    r.text("number")?,
                    matches!(r.text("reserved")?.as_str(), "1" | "true"),
                    r.opt_text("warehouse_id")?
                        .and_then(|w| w.parse().ok())
                        .unwrap_or(warehouse),
                ));
            }
            Ok(())
        },
    )?;
    mag.check_put(shop_id, ORDERS_CHECK, &check, batch.id())?;
    for (id, number, reserved, wh) in gone {
        let description = match mag.order_get(&number)? {
            Some(o) => o.description,
            None => String::new(),
        };
        if reserved {
            for (good, qty) in mag.order_reserved_goods(id)? {
                mag.reserve(wh, good, -qty)?;
            }
        }
        mag.order_update_status(id, DELETED, &description, false)?;
        out.counts.updated += 1;
        out.warnings.push(Note::new(
            number.clone(),
            "deleted_in_shop".into(),
            format!(
                "the shop no longer has order {number}: marked `deleted`{}",
                if reserved {
                    ", its reservation released"
                } else {
                    ""
                }
            ),
        ));
        out.change(Change::Update {
            key: number,
            fields: vec![("status".into(), "(shop order)".into(), DELETED.into())],
        });
    }
    Ok(())
}

/// The next order id of the shop's list (`shop_order_ids.csv`). A row
/// that is not an id is an error naming its line: skipped, or read as the
/// end of the list, it would make orders the shop has look deleted.
fn next_shop_id(
    batch: &Batch,
    ids: &mut crate::staging::RecordReader,
    rec: &mut Vec<String>,
) -> Result<Option<i64>> {
    let Some(item) = ids.next(rec)? else {
        return Ok(None);
    };
    let (line, why) = match item {
        Item::Record(line) => match rec.first().and_then(|v| v.parse().ok()) {
            Some(id) => return Ok(Some(id)),
            None => (line, "not an order id".to_string()),
        },
        Item::Invalid { line, message, .. } => (line, message),
    };
    Err(Error::batch(
        batch.id(),
        format!(
            "data/{}.csv line {line}: {why}: the deletion check needs every id of the list",
            SHOP_ORDER_IDS.file
        ),
    ))
}

/// The shop's order ids up to the signpost, for the deletion check: a bit
/// per id of their span where that takes no more than the ids themselves
/// would (a shop's ids are nearly consecutive: 125 KB for a million
/// orders), else the ids, sorted. SQLite's sorter of the Magazyn's orders
/// by shop id, which this replaces, held up to 32 MB at a million orders.
enum IdSet {
    Bits { low: i64, words: Vec<u64> },
    Sorted(Vec<i64>),
}

impl IdSet {
    /// A set for `count` ids between `span`'s ends.
    fn for_span(span: Option<(i64, i64)>, count: i64) -> IdSet {
        let Some((low, high)) = span else {
            return IdSet::Sorted(Vec::new());
        };
        let bits = (high as i128 - low as i128 + 1) as u128;
        let words = bits.div_ceil(64);
        match words <= count.max(1) as u128 {
            true => IdSet::Bits {
                low,
                words: vec![0; words as usize],
            },
            false => IdSet::Sorted(Vec::with_capacity(count.max(0) as usize)),
        }
    }

    fn insert(&mut self, id: i64) {
        match self {
            IdSet::Bits { low, words } => {
                let at = (id as i128 - *low as i128) as usize;
                if let Some(w) = words.get_mut(at / 64) {
                    *w |= 1u64 << (at % 64);
                }
            }
            IdSet::Sorted(ids) => ids.push(id),
        }
    }

    /// Ready for look-ups (the list of ids sorted).
    fn seal(&mut self) {
        if let IdSet::Sorted(ids) = self {
            ids.sort_unstable();
            ids.dedup();
        }
    }

    fn contains(&self, id: i64) -> bool {
        match self {
            IdSet::Bits { low, words } => {
                let at = id as i128 - *low as i128;
                at >= 0
                    && words
                        .get((at / 64) as usize)
                        .is_some_and(|w| w & (1u64 << (at % 64)) != 0)
            }
            IdSet::Sorted(ids) => ids.binary_search(&id).is_ok(),
        }
    }
}

/// How many ids, and an order-independent digest of them: the wrapping sum
/// of each id's 64-bit mix (SplitMix64's finaliser), so that one id gone and
/// another come in its place changes it.
#[derive(Debug, Default, Clone, Copy)]
struct IdDigest {
    count: i64,
    digest: i64,
}

impl IdDigest {
    fn add(&mut self, id: i64) {
        let mut z = (id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        self.count += 1;
        self.digest = self.digest.wrapping_add(z as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_set(ids: &[i64]) -> IdSet {
        let span = ids.iter().fold(None, |s: Option<(i64, i64)>, &i| {
            Some(s.map_or((i, i), |(lo, hi)| (lo.min(i), hi.max(i))))
        });
        let mut set = IdSet::for_span(span, ids.len() as i64);
        for &i in ids {
            set.insert(i);
        }
        set.seal();
        set
    }

    #[test]
    fn a_row_of_the_shop_order_ids_that_is_not_an_id_is_an_error_naming_its_line() {
        let root = tempfile::tempdir().unwrap();
        let meta = crate::staging::batch::test_meta(Stage::Extracted);
        let mut bw = BatchWriter::create(root.path(), meta).unwrap();
        let path = bw.scratch("data/shop_order_ids.csv");
        let mut w = RecordWriter::create(&path, &SHOP_ORDER_IDS, Format::Csv).unwrap();
        for id in ["1", "2"] {
            w.write(&[id.to_string()]).unwrap();
        }
        bw.add(&SHOP_ORDER_IDS, w.finish().unwrap());
        let batch = bw.finish().unwrap();
        // Spoiled after it was written: a row that is no id, then an id.
        let f = batch.dir.join("data/shop_order_ids.csv");
        let mut text = std::fs::read_to_string(&f).unwrap();
        text.push_str("x7\n3\n");
        std::fs::write(&f, text).unwrap();
        let (mut ids, _) = batch.reader(&SHOP_ORDER_IDS).unwrap();
        let mut rec = Vec::new();
        assert_eq!(next_shop_id(&batch, &mut ids, &mut rec).unwrap(), Some(1));
        assert_eq!(next_shop_id(&batch, &mut ids, &mut rec).unwrap(), Some(2));
        let e = next_shop_id(&batch, &mut ids, &mut rec)
            .unwrap_err()
            .to_string();
        assert!(e.contains("data/shop_order_ids.csv line 4"), "{e}");
    }

    #[test]
    fn the_shop_ids_set_holds_exactly_its_ids_in_bits_when_dense_and_as_a_list_when_sparse() {
        // Nearly consecutive (a shop's ids): a bit each, ends included.
        let dense: Vec<i64> = (1000..3000).filter(|i| i % 7 != 3).collect();
        let set = id_set(&dense);
        assert!(matches!(&set, IdSet::Bits { words, .. } if words.len() == 2000usize.div_ceil(64)));
        for i in 990..3010 {
            assert_eq!(set.contains(i), dense.contains(&i), "{i}");
        }
        // Negative ids and a span of one.
        let set = id_set(&[-70, -3, 5]);
        assert!(matches!(set, IdSet::Bits { .. }));
        assert!(set.contains(-70) && set.contains(-3) && set.contains(5));
        assert!(!set.contains(-71) && !set.contains(0) && !set.contains(6));
        assert!(id_set(&[42]).contains(42) && !id_set(&[42]).contains(43));
        // Far apart (bits would take more than the ids): the ids, in any
        // order given, repeated ones once; no overflow at the extremes.
        let sparse = [i64::MAX, 7, i64::MIN, 1_000_000_000_000, 7];
        let set = id_set(&sparse);
        assert!(matches!(&set, IdSet::Sorted(ids) if ids.len() == 4));
        for i in sparse {
            assert!(set.contains(i), "{i}");
        }
        for i in [0, 8, i64::MAX - 1, i64::MIN + 1] {
            assert!(!set.contains(i), "{i}");
        }
        // No ids: nothing is in it.
        assert!(!id_set(&[]).contains(0));
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn line(final_price: &str, rate: &str, quantity: &str) -> LineIn {
        LineIn {
            final_price: d(final_price),
            rate: d(rate),
            quantity: d(quantity),
        }
    }

    /// A shop order of one line at `final_price`, quantity 3, 23 % VAT,
    /// through the transform of one order.
    fn build_one(final_price: &str) -> std::result::Result<Vec<Problem>, Problem> {
        let cfg =
            crate::config::Config::parse("[shops.s1]\n", std::path::Path::new("m.toml")).unwrap();
        let shop = cfg.shop("s1").unwrap();
        let settings = std::collections::BTreeMap::new();
        let pricing = Pricing::new(&settings, shop);
        let name = "Jan Kowalski".to_string();
        let order = ShopOrder {
            orders_id: 12,
            currency: "PLN".into(),
            status_name: "Pending".into(),
            billing_name: name.clone(),
            delivery_name: name.clone(),
            customers_name: name,
            ..ShopOrder::default()
        };
        let line = ShopOrderLine {
            orders_id: 12,
            model: "ABC-1".into(),
            name: "Towar".into(),
            final_price: d(final_price),
            tax_rate: d("23"),
            quantity: 3,
            ..ShopOrderLine::default()
        };
        let mut row = Vec::new();
        build_order(
            "s1",
            shop,
            &pricing,
            &order,
            &[line],
            &mut row,
            &mut Vec::new(),
        )
    }

    #[test]
    fn a_28_digit_amount_rejects_the_order_instead_of_a_panic() {
        // Valid in the batch (28 digits fit a decimal), three of it not.
        let err = build_one("9999999999999999999999999999").unwrap_err();
        assert_eq!(
            (err.field, err.code),
            ("total", "out_of_range"),
            "{}",
            err.message
        );
        assert!(err.message.contains("out of range"), "{}", err.message);
        let ok = build_one("19.99");
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn net_mode_prices_like_the_shop() {
        // 2 × 16.2520 (19.99 gross at 23 %) and 1 × 18.5093 (19.99 at 8 %),
        // DPD 15.00 net at 23 %; the shop wrote ot_total 78.4158.
        let lines = [line("16.2520", "23", "2"), line("18.5093", "8", "1")];
        let p = price_order(
            &lines,
            &[],
            d("15.0000"),
            d("23"),
            Decimal::ONE,
            false,
            Some(d("78.42")),
        )
        .expect("in range");
        assert_eq!(p.lines[0].total_net, d("32.50"));
        assert_eq!(p.lines[0].unit_gross, d("19.99"));
        assert_eq!(p.lines[1].total_net, d("18.51"));
        assert_eq!(p.shipping.total_gross, d("18.45"));
        assert_eq!(p.total_net, d("66.01"));
        // VAT per rate: 23 % of (32.50 + 15.00) = 10.93, 8 % of 18.51 = 1.48.
        assert_eq!(p.total_gross, d("78.42"));
        assert_eq!(p.rounding, Decimal::ZERO);
    }

    #[test]
    fn the_grosz_the_shop_rounds_differently_goes_on_a_rounding_line() {
        // VAT per rate: 23 % of 0.02 = 0.0046 → 0.00, 8 % of 0.06 = 0.0048 →
        // 0.00; the shop summed 0.0894 and charged 0.09.
        let lines = [line("0.0200", "23", "1"), line("0.0600", "8", "1")];
        let p = price_order(
            &lines,
            &[],
            Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ONE,
            false,
            Some(d("0.09")),
        )
        .expect("in range");
        assert_eq!(p.rounding, d("0.01"));
        assert_eq!((p.total_net, p.total_gross), (d("0.09"), d("0.09")));
        let p = price_order(
            &lines,
            &[],
            Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ONE,
            false,
            None,
        )
        .expect("in range");
        assert_eq!((p.rounding, p.total_gross), (Decimal::ZERO, d("0.08")));
    }

    #[test]
    fn foreign_currency_and_untaxed_free_delivery() {
        let lines = [line("40.6423", "23", "3")];
        let p = price_order(&lines, &[], Decimal::ZERO, d("0"), d("0.23"), false, None)
            .expect("in range");
        assert_eq!(p.lines[0].unit_net, d("9.35")); // 40.64 × 0.23 = 9.3472
        assert_eq!(p.lines[0].total_net, d("28.04")); // 121.92 × 0.23 = 28.0416
        assert_eq!(p.shipping.total_gross, Decimal::ZERO);
        assert_eq!(p.total_gross, d("28.04") + d("6.45"));
    }

    #[test]
    fn gross_mode_keeps_the_gross_prices() {
        let lines = [line("16.2520", "23", "3")];
        let p = price_order(
            &lines,
            &[],
            d("6.1500"),
            d("23"),
            Decimal::ONE,
            true,
            Some(d("66.12")),
        )
        .expect("in range");
        assert_eq!(p.lines[0].unit_gross, d("19.99"));
        assert_eq!(p.lines[0].total_gross, d("59.97"));
        assert_eq!(p.lines[0].total_net, d("48.76"));
        assert_eq!(
            (p.shipping.total_net, p.shipping.total_gross),
            (d("5.00"), d("6.15"))
        );
        assert_eq!((p.total_gross, p.rounding), (d("66.12"), Decimal::ZERO));
    }

    #[test]
    fn fees_take_their_rate_and_discounts_split_over_the_goods_rates() {
        let lines = [line("16.2520", "23", "3"), line("9.2593", "8", "1")];
        let extras = [
            ExtraIn {
                class: "ot_loworderfee".into(),
                title: "Low Order Fee".into(),
                value: d("6.1500"),
                rate: Some(d("23")),
            },
            ExtraIn {
                class: "ot_coupon".into(),
                title: "Kupon".into(),
                value: d("-10.0000"),
                rate: None,
            },
        ];
        let p = price_order(
            &lines,
            &extras,
            Decimal::ZERO,
            d("0"),
            Decimal::ONE,
            true,
            None,
        )
        .expect("in range");
        assert_eq!(p.lines[1].total_gross, d("10.00"));
        let fee = p.extras[0];
        assert_eq!(
            (fee.rate, fee.money.total_net, fee.money.total_gross),
            (d("23"), d("5.00"), d("6.15"))
        );
        // -10.00 over 59.97 at 23 % and 10.00 at 8 %: -8.57 and -1.43.
        let parts: Vec<_> = p.extras[1..]
            .iter()
            .map(|e| (e.extra, e.rate, e.money.total_gross))
            .collect();
        assert_eq!(parts, [(1, d("23"), d("-8.57")), (1, d("8"), d("-1.43"))]);
        assert_eq!(
            p.total_gross,
            d("59.97") + d("10.00") + d("6.15") - d("10.00")
        );
    }

    #[test]
    fn totals_spooled_in_partial_sums_come_out_as_the_whole_order() {
        let rows = [
            ("ot_subtotal", "100.0000", "Suma", 1),
            ("ot_shipping", "12.3000", "Kurier (2 kg)", 2),
            ("ot_loworderfee", "5.0000", "Opłata\nza małe", 4),
            ("ot_tax", "23.0000", "VAT 23%", 3),
            ("ot_coupon", "-10.0000", "Rabat, 10 zł", 4),
            ("ot_shipping", "0.0000", "Inny kurier", 2),
            ("ot_tax", "0.4000", "VAT 8%", 3),
            ("ot_total", "130.7000", "Razem", 9),
        ];
        let add = |t: &mut OrderTotals, rows: &[(&str, &str, &str, i64)], first: usize| {
            for (i, (class, v, title, sort)) in rows.iter().enumerate() {
                t.add(7, class, d(v), title, (*sort, (first + i) as i64))
                    .unwrap();
            }
        };
        let mut whole = OrderTotals::default();
        add(&mut whole, &rows, 0);
        let columns = |t: &mut OrderTotals| {
            let mut o = ShopOrder::default();
            t.fill(&mut o);
            o
        };
        let want = columns(&mut whole);
        assert_eq!(want.subtotal, Some(d("100.0000")));
        assert_eq!(want.subtotal.unwrap().to_string(), "100.0000");
        assert_eq!(want.shipping_title, "Inny kurier");
        assert_eq!(want.tax_total.unwrap().to_string(), "23.4000");
        // As the batch writes them: the same text, scale included.
        let text = |o: &ShopOrder| {
            let mut t = Vec::new();
            o.write_into(&mut t);
            t
        };
        assert_eq!(
            want.extra_totals,
            "ot_loworderfee 5.0000 Opłata za małe\not_coupon -10.0000 Rabat, 10 zł"
        );
        // Any split into two runs (the second arriving late), either first.
        for k in 0..=rows.len() {
            let (mut a, mut b) = (OrderTotals::default(), OrderTotals::default());
            add(&mut a, &rows[..k], 0);
            add(&mut b, &rows[k..], k);
            for order in [[&a, &b], [&b, &a]] {
                let mut merged = OrderTotals::default();
                for part in order {
                    let mut rec = super::super::sorted::SpoolRecord::from_fields(&["7", "0", "0"]);
                    part.write_fields(&mut rec);
                    merged.merge_fields(7, &rec).unwrap();
                }
                assert_eq!(text(&columns(&mut merged)), text(&want), "split at {k}");
            }
        }
    }

    #[test]
    fn a_split_always_adds_up() {
        let w = [
            (d("23"), d("1.00")),
            (d("8"), d("1.00")),
            (d("5"), d("1.00")),
        ];
        let parts = split(d("-0.10"), &w).expect("in range");
        assert_eq!(parts.iter().map(|p| p.1).sum::<Decimal>(), d("-0.10"));
        assert_eq!(
            split(d("3.00"), &[]),
            Some(vec![(Decimal::ZERO, d("3.00"))])
        );
    }
}
