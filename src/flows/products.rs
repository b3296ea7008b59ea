//! The products flow (SPEC §1.3): Magazyn prices and stock into the shop.
//! The only flow that writes into the shop, so every step is careful.
//!
//! extract   Magazyn → `magazyn_goods`: visible goods, the gross and net of
//!           the shop's price list, quantity and reserved in its warehouse,
//!           and the stock to push (quantity − reserved − buffer, ≥ 0); the
//!           highest shop order the Magazyn has loaded (`[settings]`).
//! transform at the shop: match each good to the one shop product whose
//!           model is its code (then a barcode alias); price
//!           `round(gross / (1 + vat), 4)` with the rate the shop applies in
//!           a gross shop, so it shows exactly the Magazyn gross, the list's
//!           net in a net shop; subtract from the stock what the shop's
//!           orders beyond the loaded one took at checkout (counted here,
//!           when the batch is applied, however late); name every product a
//!           running special hides; keep only what differs →
//!           `product_updates` (old → new). Duplicate and empty models are
//!           reported and never touched. A price problem never holds back
//!           the stock.
//! load      save the before-image as an `undo` batch, then write each change
//!           only where the shop still holds the old values, in one
//!           transaction (InnoDB); `magsync undo` puts the before-image back
//!           where the shop still holds what magsync wrote.

use super::load::{Change, LoadOutcome, Note};
use super::{Counts, Flow, Stepped};
use crate::config::Config;
use crate::error::Result;
use crate::money::{self, round4};
use crate::shop::ShopDb;
use crate::staging::entities::{
    MAGAZYN_GOODS, MagazynGood, PRODUCT_CREATES, PRODUCT_UNDO, PRODUCT_UPDATES, ProductCreate,
    ProductUndo, ProductUpdate, SPECIAL_CHANGES, SpecialChange,
};
use crate::staging::records::Records;
use crate::staging::{Batch, BatchMeta, BatchWriter, Record, Source, Stage};
use crate::templates::{Params, Sql, Templates};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::collections::HashMap;

const FLOW: Flow = Flow::Products;

// ---------------------------------------------------------------- extract

/// Stock to push: quantity − reserved (by option) − buffer, floored at 0,
/// in whole units (osCommerce keeps an integer).
pub fn available(
    quantity: Decimal,
    reserved: Decimal,
    subtract_reserved: bool,
    buffer: i64,
) -> i64 {
    // Saturating: a Magazyn quantity of 28 digits is "plenty" (or none),
    // not a panic.
    let mut a = quantity.saturating_sub(Decimal::from(buffer));
    if subtract_reserved {
        a = a.saturating_sub(reserved);
    }
    a.floor().max(Decimal::ZERO).to_i64().unwrap_or(i64::MAX)
}

pub fn extract(cfg: &Config, shop_id: &str) -> Result<Stepped> {
    let shop = cfg.shop(shop_id)?;
    let dirs = cfg.site();
    let mut mag = super::open_magazyn(cfg)?;
    // A missing warehouse or price list is a clear error, not an empty push.
    mag.warehouse_id(&shop.warehouse)?;
    if !shop.price_list.is_empty() {
        mag.price_list_id(&shop.price_list)?;
    }
    let opts = &shop.products;
    let specials_list = opts.specials_price_list.clone().unwrap_or_default();
    if !specials_list.is_empty() {
        mag.price_list_id(&specials_list)?;
    }
    let mut meta = BatchMeta::new(
        FLOW,
        Stage::Extracted,
        cfg.format,
        Source {
            site: cfg.site.clone(),
            shop: shop_id.to_string(),
            system: "magazyn".into(),
            profile: "magazyn".into(),
            encoding: None,
        },
    );
    for (k, v) in [
        ("price_list", shop.price_list.clone()),
        ("warehouse", shop.warehouse.clone()),
        ("subtract_reserved", opts.subtract_reserved.to_string()),
        ("safety_buffer", opts.safety_buffer.to_string()),
    ] {
        meta.settings.insert(k.into(), v);
    }
    // The specials follow the list where the batch is applied.
    if !specials_list.is_empty() {
        meta.settings
            .insert("specials_price_list".into(), specials_list.clone());
    }
    // The shop's orders the Magazyn holds (and reserves): those beyond took
    // stock in the shop that the Magazyn does not know of yet.
    if let Some(n) = mag.orders_loaded_max(shop_id)? {
        meta.settings
            .insert("orders_loaded_max_id".into(), n.to_string());
    }
    let mut bw = BatchWriter::create(&dirs.outbox(), meta)?;
    let mut out = bw.records(&MAGAZYN_GOODS)?;
    let e = &MAGAZYN_GOODS;
    let mut rec = e.empty_record();
    let mut good = MagazynGood::default();
    // The one column magsync computes rather than reads.
    let computed = e.index("available");
    let mut screened = super::Screened::default();
    let params = Params::new()
        .set("price_list", shop.price_list.as_str())
        .set("specials_list", specials_list.as_str())
        .set("warehouse", shop.warehouse.as_str());
    // One moment of the Magazyn: prices and stock that belong together.
    mag.begin_snapshot()?;
    mag.for_each("products.extract.sql", params, |r| {
        // The template's columns are the entity's, by name.
        for (i, (slot, c)) in rec.iter_mut().zip(e.columns).enumerate() {
            *slot = match Some(i) == computed {
                true => "0".into(),
                false => r.text(c.name)?.trim().to_string(),
            };
        }
        match e.validate(&rec).and_then(|()| good.read_into(&rec)) {
            Ok(()) => {
                good.available = available(
                    good.quantity,
                    good.reserved,
                    opts.subtract_reserved,
                    opts.safety_buffer,
                );
                good.write_into(&mut rec);
                screened.pass(&rec, &mut out)
            }
            Err(p) => {
                if let Some(slot) = computed.and_then(|i| rec.get_mut(i)) {
                    slot.clear();
                }
                screened.set_aside(&rec, p);
                Ok(())
            }
        }
    })?;
    mag.commit()?;
    mag.close();
    bw.add(e, out.finish()?);
    let counts = screened.finish(e, &mut bw, "magazyn:goods")?;
    let channel = super::channel_for(cfg, FLOW, shop_id);
    let batch = super::finish_on_channel(cfg, bw, &channel)?;
    Ok(Stepped { batch, counts })
}

// -------------------------------------------------------------- transform

/// A shop product as it is now.
#[derive(Debug, Clone)]
struct ShopProduct {
    id: i64,
    model: String,
    name: String,
    price: Decimal,
    quantity: i64,
    status: i64,
    tax_class: i64,
}

/// The shop's connection and the templates of its profile.
struct Shop {
    db: ShopDb,
    codec: crate::shop::TextCodec,
    templates: Templates,
    profile: String,
}

impl Shop {
    async fn open(cfg: &Config, shop_id: &str) -> Result<Shop> {
        let (db, codec) = super::connect_shop(cfg, shop_id).await?;
        Ok(Shop {
            db,
            codec,
            templates: super::templates(cfg),
            profile: cfg.shop(shop_id)?.profile.clone(),
        })
    }
    fn sql(&self, name: &str) -> Result<Sql> {
        self.templates.sql(&self.profile, name, self.db.dialect())
    }
    /// The shop database's clock, as its DATETIME columns take it.
    async fn now(&mut self) -> Result<String> {
        let mut now = None;
        let sql = self.sql("clock.sql")?;
        self.db
            .for_each(&sql, &Params::new(), &self.codec, |r| {
                now = r.datetime("now")?;
                Ok(())
            })
            .await?;
        Ok(now
            .unwrap_or_default()
            .replace('T', " ")
            .trim_end_matches('Z')
            .to_string())
    }
    /// A product's running special: (specials_id, price).
    async fn running_special(&mut self, products_id: i64) -> Result<Option<(i64, Decimal)>> {
        let mut found = None;
        let sql = self.sql("products.running_special.sql")?;
        self.db
            .for_each(
                &sql,
                &Params::new().set("products_id", products_id),
                &self.codec,
                |r| {
                    found = Some((
                        r.int("specials_id")?.unwrap_or(0),
                        r.decimal("price")?.unwrap_or_default(),
                    ));
                    Ok(())
                },
            )
            .await?;
        Ok(found)
    }
}

/// The VAT rate (percent) the shop applies per tax class in its home zone.
async fn shop_rates(shop: &mut Shop) -> Result<HashMap<i64, Decimal>> {
    let (home, rates) = (
        shop.sql("products.home_zone.sql")?,
        shop.sql("products.tax_rates.sql")?,
    );
    crate::shop::tax::home_rates(&mut shop.db, &shop.codec, &home, &rates).await
}

pub async fn transform(cfg: &Config, input: &Batch) -> Result<Stepped> {
    super::expect(input, FLOW, Stage::Extracted, "transform")?;
    let m = &input.meta;
    let shop_id = m.source.shop.clone();
    let shop_cfg = cfg.shop(&shop_id)?;
    let mut shop = Shop::open(cfg, &shop_id).await?;
    let rates = shop_rates(&mut shop).await?;

    // The shop's catalogue, by model.
    let mut products: Vec<ShopProduct> = Vec::new();
    let sql = shop.sql("products.read.sql")?;
    shop.db
        .for_each(
            &sql,
            &Params::new().set("language_id", shop_cfg.language_id),
            &shop.codec,
            |r| {
                products.push(ShopProduct {
                    id: r.int("products_id")?.unwrap_or(0),
                    model: r.text_or_empty("model")?.trim().to_string(),
                    name: r.text_or_empty("name")?,
                    price: r.decimal("price")?.unwrap_or_default(),
                    quantity: r.int("quantity")?.unwrap_or(0),
                    status: r.int("status")?.unwrap_or(0),
                    tax_class: r.int("tax_class_id")?.unwrap_or(0),
                });
                Ok(())
            },
        )
        .await?;
    let mut settings: HashMap<String, String> = HashMap::new();
    let sql = shop.sql("products.settings.sql")?;
    shop.db
        .for_each(&sql, &Params::new(), &shop.codec, |r| {
            settings.insert(r.text_or_empty("name")?, r.text_or_empty("value")?);
            Ok(())
        })
        .await?;
    let gross_shop = settings
        .get("DISPLAY_PRICE_WITH_TAX")
        .is_none_or(|v| v == "true");
    // Stock in flight: what shop orders the Magazyn has not loaded took at
    // checkout, counted here at the shop when the batch is applied (which
    // may be days after the Magazyn side extracted it).
    let mut in_flight: HashMap<i64, i64> = HashMap::new();
    if let (Some(after), true) = (
        m.settings
            .get("orders_loaded_max_id")
            .and_then(|v| v.parse::<i64>().ok()),
        settings.get("STOCK_LIMITED").is_none_or(|v| v == "true"),
    ) {
        let sql = shop.sql("products.in_flight.sql")?;
        shop.db
            .for_each(
                &sql,
                &Params::new()
                    .set("after_id", after)
                    .set("language_id", shop_cfg.language_id),
                &shop.codec,
                |r| {
                    let sold = r.decimal("quantity")?.unwrap_or_default();
                    in_flight.insert(
                        r.int("products_id")?.unwrap_or(0),
                        sold.ceil().to_i64().unwrap_or(i64::MAX),
                    );
                    Ok(())
                },
            )
            .await?;
    }
    // Running specials: the shop shows them instead of products_price.
    let now = shop.now().await?;
    // products_id → (specials_id, special price).
    let mut specials: HashMap<i64, (i64, Decimal)> = HashMap::new();
    let sql = shop.sql("products.specials.sql")?;
    shop.db
        .for_each(
            &sql,
            &Params::new().set("now", now.as_str()),
            &shop.codec,
            |r| {
                specials.insert(
                    r.int("products_id")?.unwrap_or(0),
                    (
                        r.int("specials_id")?.unwrap_or(0),
                        r.decimal("price")?.unwrap_or_default(),
                    ),
                );
                Ok(())
            },
        )
        .await?;
    let mut classes: Vec<(i64, String)> = Vec::new();
    if shop_cfg.products.create_missing {
        let sql = shop.sql("products.tax_classes.sql")?;
        shop.db
            .for_each(&sql, &Params::new(), &shop.codec, |r| {
                classes.push((
                    r.int("tax_class_id")?.unwrap_or(0),
                    r.text_or_empty("title")?,
                ));
                Ok(())
            })
            .await?;
    }
    shop.db.close().await;
    // The tax class a created product gets: the one map.tax_class maps to
    // the good's VAT symbol, else the one the shop applies the good's rate in.
    let class_for = |symbol: &str, rate: Option<Decimal>| -> Option<(i64, Decimal)> {
        let by_map = classes.iter().find(|(_, title)| {
            shop_cfg
                .map
                .tax_class
                .get(title)
                .is_some_and(|s| s == symbol)
        });
        let by_rate = || {
            classes
                .iter()
                .find(|(id, _)| rate.is_some() && rates.get(id).copied() == rate)
        };
        by_map
            .or_else(by_rate)
            .map(|(id, _)| (*id, rates.get(id).copied().unwrap_or_default()))
    };
    let mut creates = if shop_cfg.products.create_missing {
        Some(Lazy(None))
    } else {
        None
    };
    let mut by_model: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in products.iter().enumerate() {
        by_model.entry(p.model.as_str()).or_default().push(i);
    }

    let dirs = cfg.site();
    let meta = BatchMeta::derived(input, Stage::Transformed, cfg.format);
    let mut bw = BatchWriter::create(&dirs.work(), meta)?;
    let mut out = bw.records(&PRODUCT_UPDATES)?;
    let u = &PRODUCT_UPDATES;
    let mut counts = Counts::default();

    // Models no product can be matched by: reported, never written.
    let mut models: Vec<(&str, &Vec<usize>)> = by_model.iter().map(|(m, v)| (*m, v)).collect();
    models.sort();
    for (model, idx) in &models {
        if model.is_empty() {
            for i in *idx {
                let p = &products[*i];
                bw.warn(
                    u.name,
                    &p.id.to_string(),
                    "model",
                    "empty_model",
                    &format!(
                        "product {} `{}` has no model: it cannot be matched and is not updated",
                        p.id, p.name
                    ),
                )?;
            }
        } else if idx.len() > 1 {
            let ids: Vec<String> = idx.iter().map(|i| products[*i].id.to_string()).collect();
            for i in *idx {
                bw.warn(
                    u.name,
                    &products[*i].id.to_string(),
                    "model",
                    "duplicate_model",
                    &format!(
                        "model `{model}` is shared by products {}: none of them is updated",
                        ids.join(", ")
                    ),
                )?;
            }
        }
    }

    let e = &MAGAZYN_GOODS;
    // Hiding follows stock only where the shop does not sell what it lacks,
    // and only ever undoes magsync's own hides: a product the admin
    // disabled stays disabled.
    let allow_checkout = settings
        .get("STOCK_ALLOW_CHECKOUT")
        .is_some_and(|v| v == "true");
    let hide = shop_cfg
        .products
        .hide_at_or_below
        .filter(|_| !allow_checkout);
    if allow_checkout && shop_cfg.products.hide_at_or_below.is_some() {
        bw.warn(
            u.name,
            &shop_id,
            "products_status",
            "allow_checkout",
            "the shop sells what it does not hold (STOCK_ALLOW_CHECKOUT = true, the install's default): hide_at_or_below hides nothing; set Allow Checkout to false in the admin (Configuration → Stock) to hide sold-out products",
        )?;
    }
    let state = cfg.site().state();
    let was_hidden = state.products_hidden(&shop_id)?;
    let mut hidden = std::collections::BTreeSet::new();
    let mut special_changes: Option<crate::staging::RecordWriter> = None;
    let driven = m.settings.contains_key("specials_price_list");
    let mut matched: HashMap<i64, String> = HashMap::new();
    let mut row = Vec::new();
    let mut read = Counts::default();
    super::each_valid(
        input,
        &mut bw,
        &mut read,
        |g: &MagazynGood, rec, file, line, bw| {
            let code = g.code.as_str();
            // The shop product whose model is the code, else a barcode alias.
            let keys = std::iter::once(code).chain(g.barcodes.split(' ').filter(|b| !b.is_empty()));
            let hit = keys.filter_map(|k| by_model.get(k).map(|v| (k, v))).next();
            let Some((key, idx)) = hit else {
                let Some(cw) = creates.as_mut() else {
                    bw.warn(
                        u.name,
                        code,
                        "good_code",
                        "no_shop_product",
                        &format!("good `{code}` ({}) has no shop product", g.name),
                    )?;
                    return Ok(());
                };
                if code.chars().count() > shop_cfg.products.model_length {
                    bw.warn(PRODUCT_CREATES.name, code, "model", "model_too_long", &format!("good `{code}` is longer than the shop's products_model ({} characters): not created", shop_cfg.products.model_length))?;
                } else if g.gross.is_none() {
                    bw.warn(
                        PRODUCT_CREATES.name,
                        code,
                        "gross",
                        "no_price",
                        &format!("good `{code}` has no price on the price list: not created"),
                    )?;
                } else if let Some((class, rate)) = class_for(&g.vat_symbol, g.vat_rate) {
                    let net = match shop_price(true, None, g.gross, rate) {
                        Ok(net) => net.unwrap_or_default(),
                        Err((code, msg)) => {
                            return bw.reject(e, rec, file, line, "gross", code, &msg);
                        }
                    };
                    ProductCreate {
                        model: code.to_string(),
                        name: match g.name.is_empty() {
                            true => code.to_string(),
                            false => g.name.clone(),
                        },
                        tax_class_id: class,
                        vat_rate: rate,
                        gross: g.gross,
                        price: money::fixed(net, 4),
                        quantity: g.available,
                    }
                    .write_into(&mut row);
                    cw.get_or_open(bw)?.write(&row)?;
                    counts.inserted += 1;
                } else {
                    bw.warn(PRODUCT_CREATES.name, code, "vat_symbol", "no_tax_class", &format!("good `{code}`: no shop tax class for VAT {} (map it in [shops.<id>.map.tax_class]): not created", g.vat_symbol))?;
                }
                return Ok(());
            };
            if key.is_empty() || idx.len() != 1 {
                return Ok(()); // reported above
            }
            let p = &products[idx[0]];
            if let Some(other) = matched.insert(p.id, code.to_string()) {
                bw.warn(
                u.name,
                &p.id.to_string(),
                "model",
                "matched_twice",
                &format!(
                    "product {} matches goods `{other}` and `{code}`: updated from `{other}` only",
                    p.id
                ),
            )?;
                matched.insert(p.id, other);
                return Ok(());
            }
            // A class with no rate in the home zone is taxed at 0 % by the
            // shop: price it so, say so, and push the stock all the same.
            let rate = match rates.get(&p.tax_class) {
                Some(r) => *r,
                None => {
                    if p.tax_class != 0 {
                        bw.warn(u.name, &p.id.to_string(), "vat_rate", "no_tax_rate", &format!("product {} `{}`: tax class {} has no rate in the shop's home zone, so the shop charges 0 % VAT on it; the price is pushed at 0 %", p.id, p.model, p.tax_class))?;
                    }
                    Decimal::ZERO
                }
            };
            if let Some(good_rate) = g.vat_rate
                && good_rate != rate
            {
                bw.warn(u.name, &p.id.to_string(), "vat_rate", "vat_mismatch", &format!("product {} `{}`: the shop applies {rate} %, the Magazyn good has VAT {} ({good_rate} %); the price keeps the Magazyn gross at the shop's rate", p.id, p.model, g.vat_symbol))?;
            }
            let new_price = match shop_price(gross_shop, g.net, g.gross, rate) {
                Ok(Some(price)) => price,
                Err((code, msg)) => return bw.reject(e, rec, file, line, "gross", code, &msg),
                Ok(None) => {
                    bw.warn(
                        u.name,
                        &p.id.to_string(),
                        "gross",
                        "no_price",
                        &format!(
                            "good `{code}` has no price on the price list: the shop price stays"
                        ),
                    )?;
                    p.price
                }
            };
            // The specials: the Magazyn's specials list drives them where the
            // batch says so; else a running one is ended on request, or named.
            let running = specials.get(&p.id).copied();
            let target = match driven {
                true => match shop_price(gross_shop, g.special_net, g.special_gross, rate) {
                    Ok(t) => t,
                    Err((code, msg)) => {
                        return bw.reject(e, rec, file, line, "special_gross", code, &msg);
                    }
                },
                false => None,
            };
            let change = match (running, target) {
                (Some((_, now)), Some(t)) if now == t => None,
                (Some((id, now)), Some(t)) => Some(("update", id, Some(now), Some(t))),
                (Some((id, now)), None) if driven || shop_cfg.products.end_specials => {
                    Some(("end", id, Some(now), None))
                }
                (Some((_, now)), None) => {
                    bw.warn(u.name, &p.id.to_string(), "new_price", "special_active", &format!("product {} `{}`: a running special ({} net) hides the price pushed ({} net): the shop shows the special until it ends (end_specials = true ends it)", p.id, p.model, money::fmt(now, 4), money::fmt(new_price, 4)))?;
                    None
                }
                (None, Some(t)) => Some(("create", 0, None, Some(t))),
                (None, None) => None,
            };
            if let Some((action, specials_id, old, new)) = change {
                if special_changes.is_none() {
                    special_changes = Some(crate::staging::RecordWriter::create(
                        &bw.scratch("data/special_changes.csv"),
                        &SPECIAL_CHANGES,
                        crate::staging::Format::Csv,
                    )?);
                }
                if let Some(w) = special_changes.as_mut() {
                    SpecialChange {
                        action: action.into(),
                        specials_id,
                        products_id: p.id,
                        model: p.model.clone(),
                        old_price: old.map(|d| money::fixed(d, 4)),
                        new_price: new.map(|d| money::fixed(d, 4)),
                    }
                    .write_into(&mut row);
                    w.write(&row)?;
                }
            }
            let sold = in_flight.get(&p.id).copied().unwrap_or(0);
            let new_quantity = g.available.saturating_sub(sold).max(0);
            let new_status = match hide {
                // Shown: hidden when the stock runs out.
                Some(t) if p.status != 0 => i64::from(new_quantity > t),
                // Hidden by magsync: shown again when the stock returns.
                Some(t) if was_hidden.contains(&p.id) => i64::from(new_quantity > t),
                // Disabled by the admin (or hiding is off): left as it is.
                _ => p.status,
            };
            if new_status == 0 && (p.status != 0 || was_hidden.contains(&p.id)) && hide.is_some() {
                hidden.insert(p.id);
            }
            if new_price == p.price && new_quantity == p.quantity && new_status == p.status {
                counts.unchanged += 1;
                return Ok(());
            }
            counts.updated += 1;
            ProductUpdate {
                products_id: p.id,
                model: p.model.clone(),
                name: p.name.clone(),
                good_code: code.to_string(),
                vat_rate: rate,
                gross: g.gross,
                old_price: money::fixed(p.price, 4),
                new_price: money::fixed(new_price, 4),
                old_quantity: p.quantity,
                new_quantity,
                old_status: p.status,
                new_status,
            }
            .write_into(&mut row);
            out.write(&row)?;
            Ok(())
        },
    )?;
    counts.records = read.records;
    bw.add(u, out.finish()?);
    if let Some(w) = special_changes {
        bw.add(&SPECIAL_CHANGES, w.finish()?);
    }
    if let Some(Lazy(Some(cw))) = creates {
        bw.add(&PRODUCT_CREATES, cw.finish()?);
    }
    counts.rejected = bw.rejected;
    counts.warnings = bw.warned;
    let batch = bw.finish()?;
    if hide.is_some() {
        // Hides of products this batch did not reach stay magsync's own.
        hidden.extend(was_hidden.iter().filter(|id| !matched.contains_key(id)));
        state.stage_products_hidden(&shop_id, batch.id(), &hidden)?;
    }
    Ok(Stepped { batch, counts })
}

/// The price the shop keeps for a Magazyn price (`None`: the good has none):
/// a net shop shows products_price and adds VAT at checkout, so it gets the
/// Magazyn net; a gross shop shows round(price × (1 + vat), 2), so it gets
/// the net that shows exactly the Magazyn gross. The same for specials.
/// `Err((code, message))`: no price can be made of the values (a reject).
fn shop_price(
    gross_shop: bool,
    net: Option<Decimal>,
    gross: Option<Decimal>,
    rate: Decimal,
) -> std::result::Result<Option<Decimal>, (&'static str, String)> {
    Ok(match (gross, net) {
        (None, _) => None,
        (Some(_), Some(net)) if !gross_shop => Some(round4(net)),
        (Some(g), _) => {
            let net = money::net_of_gross(g, rate, 4).ok_or_else(|| {
                (
                    "out_of_range",
                    format!("the net of {g} at {rate} % VAT is out of range"),
                )
            })?;
            Some(net)
        }
    })
}

/// A payload file opened when its first record comes (creates are rare).
struct Lazy(Option<crate::staging::RecordWriter>);

impl Lazy {
    fn get_or_open(&mut self, bw: &mut BatchWriter) -> Result<&mut crate::staging::RecordWriter> {
        if self.0.is_none() {
            self.0 = Some(bw.records(&PRODUCT_CREATES)?);
        }
        Ok(self.0.as_mut().expect("set above"))
    }
}

// ------------------------------------------------------------------- load

/// What a push sets of a shop product: its price, quantity and status.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Listing {
    price: Decimal,
    quantity: i64,
    status: i64,
}

/// A planned change, read from a `product_updates` batch.
struct Planned {
    id: i64,
    model: String,
    name: String,
    old: Listing,
    new: Listing,
}

fn planned(batch: &Batch) -> Result<Vec<Planned>> {
    let mut records = Records::<ProductUpdate>::open(batch)?;
    let mut out = Vec::new();
    while let Some(u) = records.next_record()? {
        out.push(Planned {
            id: u.products_id,
            model: u.model.clone(),
            name: u.name.clone(),
            old: Listing {
                price: u.old_price,
                quantity: u.old_quantity,
                status: u.old_status,
            },
            new: Listing {
                price: u.new_price,
                quantity: u.new_quantity,
                status: u.new_status,
            },
        });
    }
    Ok(out)
}

impl SpecialChange {
    /// How the report shows it.
    fn change(&self) -> Change {
        let price = opt_price;
        let (old, new) = match self.action.as_str() {
            "end" => (
                format!("running at {} net", price(self.old_price)),
                "ended".into(),
            ),
            "create" => (
                "none".into(),
                format!("running at {} net", price(self.new_price)),
            ),
            _ => (price(self.old_price), price(self.new_price)),
        };
        Change::Update {
            key: self.model.clone(),
            fields: vec![("special".into(), old, new)],
        }
    }
}

/// The records of an optional file of a batch (none when it has none).
fn all_of<T: Record + Clone>(batch: &Batch) -> Result<Vec<T>> {
    let mut out = Vec::new();
    if batch.file_of(T::ENTITY).is_some() {
        let mut records = Records::<T>::open(batch)?;
        while let Some(r) = records.next_record()? {
            out.push(r.clone());
        }
    }
    Ok(out)
}

/// Whether the shop's specials are still as the transform saw them: `Ok`
/// to apply, `Err(true)` already done, `Err(false)` changed since.
async fn special_still(
    shop: &mut Shop,
    s: &SpecialChange,
) -> Result<std::result::Result<(), bool>> {
    let running = shop.running_special(s.products_id).await?;
    Ok(match (s.action.as_str(), running) {
        ("end", Some((id, _))) if id == s.specials_id => Ok(()),
        ("end", _) => Err(true),
        ("update", Some((id, p))) if id == s.specials_id && Some(p) == s.old_price => Ok(()),
        ("update", Some((id, p))) if id == s.specials_id && Some(p) == s.new_price => Err(true),
        ("create", None) => Ok(()),
        ("create", Some((_, p))) if Some(p) == s.new_price => Err(true),
        _ => Err(false),
    })
}

/// A special's price as the shop keeps it ("" for none).
fn opt_price(d: Option<Decimal>) -> String {
    d.map(|d| money::fmt(d, 4)).unwrap_or_default()
}

/// One special change as a statement: the push's (`undo` false) or the one
/// that takes it back; `id` is the special it acts on (a created special's
/// is found at undo time).
fn special_statement(s: &SpecialChange, undo: bool, id: i64, now: &str) -> (&'static str, Params) {
    let (old, new) = match undo {
        false => (s.old_price, s.new_price),
        true => (s.new_price, s.old_price),
    };
    let p = Params::new().set("specials_id", id).set("now", now);
    match (s.action.as_str(), undo) {
        ("end", false) => ("products.end_special.sql", p),
        ("end", true) => ("products.restart_special.sql", p),
        ("update", _) => (
            "products.reprice_special.sql",
            p.set("old_price", opt_price(old))
                .set("new_price", opt_price(new)),
        ),
        (_, false) => (
            "products.create_special.sql",
            p.set("products_id", s.products_id)
                .set("price", opt_price(s.new_price)),
        ),
        (_, true) => (
            "products.delete_special.sql",
            p.set("new_price", opt_price(s.new_price)),
        ),
    }
}

/// Apply one special change in the push's transaction; whether the shop
/// took it.
async fn apply_special(shop: &mut Shop, s: &SpecialChange, now: &str) -> Result<bool> {
    let (sql, p) = special_statement(s, false, s.specials_id, now);
    Ok(shop.db.execute(&shop.sql(sql)?, &p).await? == 1)
}

/// `magsync undo` of one special change the push made.
async fn undo_special(shop: &mut Shop, s: &SpecialChange, now: &str) -> Result<bool> {
    let id = match s.action.as_str() {
        // A created special: the product's running one at the price the
        // push wrote (its id was not known when the undo was saved).
        "create" => match shop.running_special(s.products_id).await? {
            Some((id, p)) if Some(p) == s.new_price => id,
            _ => return Ok(false),
        },
        _ => s.specials_id,
    };
    let (sql, p) = special_statement(s, true, id, now);
    Ok(shop.db.execute(&shop.sql(sql)?, &p).await? == 1)
}

/// Ids of the shop products with this model.
async fn ids_by_model(shop: &mut Shop, model: &str) -> Result<Vec<i64>> {
    let sql = shop.sql("products.by_model.sql")?;
    let mut ids = Vec::new();
    shop.db
        .for_each(&sql, &Params::new().set("model", model), &shop.codec, |r| {
            ids.push(r.int("products_id")?.unwrap_or(0));
            Ok(())
        })
        .await?;
    Ok(ids)
}

/// A shop product's current price, quantity, status and last-modified.
async fn current(shop: &mut Shop, id: i64) -> Result<Option<(Listing, String)>> {
    let sql = shop.sql("products.get.sql")?;
    let mut found = None;
    shop.db
        .for_each(
            &sql,
            &Params::new().set("products_id", id),
            &shop.codec,
            |r| {
                found = Some((
                    Listing {
                        price: r.decimal("price")?.unwrap_or_default(),
                        quantity: r.int("quantity")?.unwrap_or(0),
                        status: r.int("status")?.unwrap_or(0),
                    },
                    r.datetime("last_modified")?.unwrap_or_default(),
                ));
                Ok(())
            },
        )
        .await?;
    Ok(found)
}

fn fields(old: Listing, new: Listing) -> Vec<(String, String, String)> {
    let mut f = Vec::new();
    if old.price != new.price {
        f.push((
            "products_price".into(),
            money::fmt(old.price, 4),
            money::fmt(new.price, 4),
        ));
    }
    if old.quantity != new.quantity {
        f.push((
            "products_quantity".into(),
            old.quantity.to_string(),
            new.quantity.to_string(),
        ));
    }
    if old.status != new.status {
        f.push((
            "products_status".into(),
            old.status.to_string(),
            new.status.to_string(),
        ));
    }
    f
}

/// Tables of the shop that cannot take part in a transaction.
async fn non_transactional(shop: &mut Shop) -> Result<Vec<String>> {
    let sql = shop.sql("engines.sql")?;
    let mut out = Vec::new();
    shop.db
        .for_each(&sql, &Params::new(), &shop.codec, |r| {
            let engine = r.text_or_empty("engine")?;
            if engine.eq_ignore_ascii_case("MyISAM") || engine.eq_ignore_ascii_case("Aria") {
                out.push(format!("{} ({engine})", r.text_or_empty("name")?));
            }
            Ok(())
        })
        .await?;
    Ok(out)
}

pub async fn load(cfg: &Config, batch: &Batch, dry_run: bool) -> Result<LoadOutcome> {
    let m = &batch.meta;
    super::expect(batch, FLOW, Stage::Transformed, "load")?;
    batch.verify_rows()?;
    let plan = planned(batch)?;
    let creates = all_of::<ProductCreate>(batch)?;
    let specials = all_of::<SpecialChange>(batch)?;
    let mut out = LoadOutcome::default();
    out.counts.records = (plan.len() + creates.len() + specials.len()) as u64;
    let created_what = |c: &ProductCreate| {
        format!(
            "{} (net {}, {} in stock), inactive",
            c.name,
            money::fmt(c.price, 4),
            c.quantity
        )
    };
    if dry_run {
        // The batch is the diff; the shop is not even opened.
        for p in &plan {
            out.change(Change::Update {
                key: format!("{} {}", p.model, p.name),
                fields: fields(p.old, p.new),
            });
        }
        for c in &creates {
            out.change(Change::Insert {
                key: c.model.clone(),
                what: created_what(c),
            });
        }
        for s in &specials {
            out.change(s.change());
        }
        out.counts.updated = (plan.len() + specials.len()) as u64;
        out.counts.inserted = creates.len() as u64;
        return Ok(out);
    }
    let shop_id = m.source.shop.clone();
    let mut shop = Shop::open(cfg, &shop_id).await?;
    for t in non_transactional(&mut shop).await? {
        out.warnings.push(Note::new(
            t.clone(),
            "not_atomic".into(),
            format!("shop table {t} has no transactions: this write cannot be all-or-nothing (convert it to InnoDB)"),
        ));
    }

    // Classify against the live shop, then save the before-image of every
    // row about to change, before anything is written.
    let mut to_write = Vec::new();
    let mut undo = Vec::new();
    for p in &plan {
        match current(&mut shop, p.id).await? {
            None => out.rejects.push(Note::new(p.id.to_string(), "gone".into(), format!("product {} `{}` no longer exists in the shop", p.id, p.model))),
            Some((now, _)) if now == p.new => out.counts.unchanged += 1,
            Some((now, last_modified)) if now == p.old => {
                undo.push((p, last_modified));
                to_write.push(p);
            }
            Some((now, _)) => out.rejects.push(Note::new(
                p.id.to_string(),
                "changed_since".into(),
                format!("product {} `{}` changed in the shop since the transform ({:?} → {:?}): not overwritten", p.id, p.model, fields(p.old, now), fields(now, p.new)),
            )),
        }
    }
    let mut to_create = Vec::new();
    for c in &creates {
        if ids_by_model(&mut shop, &c.model).await?.is_empty() {
            to_create.push(c);
        } else {
            out.counts.unchanged += 1; // created by an earlier load, or since
        }
    }
    // Specials as the transform saw them are changed; one the shop has
    // changed since is left alone and named.
    let mut to_special = Vec::new();
    for s in &specials {
        match special_still(&mut shop, s).await? {
            Ok(()) => to_special.push(s),
            Err(true) => out.counts.unchanged += 1,
            Err(false) => out.rejects.push(Note::new(
                s.products_id.to_string(),
                "changed_since".into(),
                format!("the special of product {} `{}` changed in the shop since the transform: left as it is", s.products_id, s.model),
            )),
        }
    }
    // The before-image of everything about to change, before the first
    // write (on a shop without transactions nothing else could undo it).
    let undo_batch = if undo.is_empty() && to_create.is_empty() && to_special.is_empty() {
        None
    } else {
        Some(write_undo(cfg, batch, &undo, &to_create, &to_special)?)
    };

    let begin = shop.sql("transaction.sql")?;
    let update = shop.sql("products.update.sql")?;
    let commit = shop.sql("commit.sql")?;
    shop.db.execute(&begin, &Params::new()).await?;
    // The kill tests read this line to know a kill landed after BEGIN.
    tracing::debug!(target: "magsync::tx", "shop transaction begun");
    for p in &to_write {
        let params = Params::new()
            .set("products_id", p.id)
            .set("new_price", money::fmt(p.new.price, 4))
            .set("new_quantity", p.new.quantity)
            .set("new_status", p.new.status)
            .set("old_price", money::fmt(p.old.price, 4))
            .set("old_quantity", p.old.quantity)
            .set("old_status", p.old.status);
        if shop.db.execute(&update, &params).await? == 1 {
            out.counts.updated += 1;
            out.change(Change::Update {
                key: format!("{} {}", p.model, p.name),
                fields: fields(p.old, p.new),
            });
        } else {
            out.rejects.push(Note::new(
                p.id.to_string(),
                "changed_since".into(),
                format!(
                    "product {} `{}` changed in the shop during the load: not overwritten",
                    p.id, p.model
                ),
            ));
        }
    }
    if !to_special.is_empty() {
        let now = shop.now().await?;
        for s in &to_special {
            if apply_special(&mut shop, s, &now).await? {
                out.counts.updated += 1;
                out.change(s.change());
            } else {
                out.counts.unchanged += 1; // changed in the shop meanwhile
            }
        }
    }
    if !to_create.is_empty() {
        let shop_cfg = cfg.shop(&shop_id)?;
        let category = match shop_cfg.products.category_id {
            Some(c) => Some(c),
            None => {
                let sql = shop.sql("products.first_category.sql")?;
                let mut c = None;
                shop.db
                    .for_each(&sql, &Params::new(), &shop.codec, |r| {
                        c = r.int("categories_id")?;
                        Ok(())
                    })
                    .await?;
                c
            }
        };
        let (create, describe, link) = (
            shop.sql("products.create.sql")?,
            shop.sql("products.create_description.sql")?,
            shop.sql("products.create_category.sql")?,
        );
        for c in &to_create {
            let params = Params::new()
                .set("quantity", c.quantity)
                .set("model", c.model.as_str())
                .set("price", money::fmt(c.price, 4))
                .set("tax_class_id", c.tax_class_id);
            let id = shop.db.insert(&create, &params).await?;
            // Text goes into the shop the way the shop stores it.
            let name = crate::templates::Value::Bytes(shop.codec.encode(&c.name));
            let params = Params::new()
                .set("products_id", id)
                .set("language_id", shop_cfg.language_id)
                .set("name", name.clone())
                .set("description", name);
            shop.db.execute(&describe, &params).await?;
            match category {
                Some(cat) => {
                    let params = Params::new()
                        .set("products_id", id)
                        .set("categories_id", cat);
                    shop.db.execute(&link, &params).await?;
                }
                None => out.warnings.push(Note::new(
                    c.model.clone(),
                    "no_category".into(),
                    "the shop has no category: the new product is in none".into(),
                )),
            }
            out.counts.inserted += 1;
            out.change(Change::Insert {
                key: c.model.clone(),
                what: created_what(c),
            });
        }
    }
    shop.db.execute(&commit, &Params::new()).await?;
    tracing::debug!(target: "magsync::tx", "shop transaction committed");
    shop.db.close().await;
    // The products magsync hid are its own to show again; a hide the shop
    // refused (changed since, gone) is none of them.
    let refused: Vec<i64> = plan
        .iter()
        .filter(|p| p.old.status != 0 && p.new.status == 0)
        .filter(|p| out.rejects.iter().any(|r| r.key == p.id.to_string()))
        .map(|p| p.id)
        .collect();
    cfg.site()
        .state()
        .adopt_products_hidden(&shop_id, batch.id(), &refused)?;
    out.counts.rejected = out.rejects.len() as u64;
    out.counts.warnings = out.warnings.len() as u64;
    let undo_id: Vec<(&str, String)> = undo_batch
        .iter()
        .map(|u| ("undo_batch", u.id().to_string()))
        .collect();
    out.receipt = Some(super::load::write_receipt(
        cfg,
        batch,
        &PRODUCT_UPDATES,
        &out,
        &undo_id,
    )?);
    Ok(out)
}

fn write_undo(
    cfg: &Config,
    batch: &Batch,
    rows: &[(&Planned, String)],
    created: &[&ProductCreate],
    specials: &[&SpecialChange],
) -> Result<Batch> {
    let dirs = cfg.site();
    let meta = BatchMeta::derived(batch, Stage::Undo, crate::staging::Format::Csv);
    let mut bw = BatchWriter::create(&dirs.undo(), meta)?;
    let mut w = bw.records(&PRODUCT_UNDO)?;
    let mut row = Vec::new();
    for (p, last_modified) in rows {
        ProductUndo {
            products_id: p.id,
            model: p.model.clone(),
            price_before: money::fixed(p.old.price, 4),
            quantity_before: p.old.quantity,
            status_before: p.old.status,
            last_modified_before: last_modified.clone(),
            price_written: money::fixed(p.new.price, 4),
            quantity_written: p.new.quantity,
            status_written: p.new.status,
            created: false,
        }
        .write_into(&mut row);
        w.write(&row)?;
    }
    // Products about to be created: undo deletes them (found by model) while
    // they are still exactly as created.
    for c in created {
        ProductUndo {
            model: c.model.clone(),
            price_written: money::fixed(c.price, 4),
            quantity_written: c.quantity,
            created: true,
            ..ProductUndo::default()
        }
        .write_into(&mut row);
        w.write(&row)?;
    }
    bw.add(&PRODUCT_UNDO, w.finish()?);
    if !specials.is_empty() {
        let mut w = crate::staging::RecordWriter::create(
            &bw.scratch("data/special_changes.csv"),
            &SPECIAL_CHANGES,
            crate::staging::Format::Csv,
        )?;
        for s in specials {
            s.write_into(&mut row);
            w.write(&row)?;
        }
        bw.add(&SPECIAL_CHANGES, w.finish()?);
    }
    bw.finish()
}

// ------------------------------------------------------------------- undo

pub struct Undone {
    pub restored: u64,
    pub already: u64,
    /// Rows changed in the shop since the push: reported, left alone.
    pub kept: Vec<Note>,
}

/// Restore the before-image of an `undo` batch where the shop still holds
/// exactly what magsync wrote; report every other row.
pub async fn undo(cfg: &Config, batch: &Batch) -> Result<Undone> {
    let m = &batch.meta;
    super::expect(batch, FLOW, Stage::Undo, "undo")?;
    batch.verify_rows()?;
    let mut records = Records::<ProductUndo>::open(batch)?;
    let mut shop = Shop::open(cfg, &m.source.shop).await?;
    let (begin, restore, commit) = (
        shop.sql("transaction.sql")?,
        shop.sql("products.undo.sql")?,
        shop.sql("commit.sql")?,
    );
    let (delete, delete_rest, delete_links) = (
        shop.sql("products.delete_created.sql")?,
        shop.sql("products.delete_created_rest.sql")?,
        shop.sql("products.delete_created_links.sql")?,
    );
    let mut res = Undone {
        restored: 0,
        already: 0,
        kept: Vec::new(),
    };
    shop.db.execute(&begin, &Params::new()).await?;
    // The kill tests read this line to know a kill landed after BEGIN.
    tracing::debug!(target: "magsync::tx", "shop transaction begun");
    while let Some(u) = records.next_record()? {
        if u.created {
            let model = u.model.clone();
            let ids = ids_by_model(&mut shop, &model).await?;
            let mut deleted = false;
            if let [id] = ids.as_slice() {
                let p = Params::new()
                    .set("products_id", *id)
                    .set("model", model.as_str())
                    .set("quantity_written", u.quantity_written);
                if shop.db.execute(&delete, &p).await? == 1 {
                    shop.db.execute(&delete_rest, &p).await?;
                    shop.db.execute(&delete_links, &p).await?;
                    deleted = true;
                }
            }
            match (deleted, ids.len()) {
                (true, _) => res.restored += 1,
                (false, 0) => res.already += 1,
                _ => res.kept.push(Note::new(
                    model,
                    "changed_since".into(),
                    "created by magsync, changed in the shop since (or its model is shared): not deleted".into(),
                )),
            }
            continue;
        }
        let id = u.products_id;
        let before = Listing {
            price: u.price_before,
            quantity: u.quantity_before,
            status: u.status_before,
        };
        let written = Listing {
            price: u.price_written,
            quantity: u.quantity_written,
            status: u.status_written,
        };
        let lm = &u.last_modified_before;
        let params = Params::new()
            .set("products_id", id)
            .set("price_before", money::fmt(before.price, 4))
            .set("quantity_before", before.quantity)
            .set("status_before", before.status)
            .set(
                "last_modified_before",
                if lm.is_empty() {
                    crate::templates::Value::Null
                } else {
                    lm.replace('T', " ").into()
                },
            )
            .set("price_written", money::fmt(written.price, 4))
            .set("quantity_written", written.quantity)
            .set("status_written", written.status);
        if shop.db.execute(&restore, &params).await? == 1 {
            res.restored += 1;
            continue;
        }
        match current(&mut shop, id).await? {
            Some((now, _)) if now == before => res.already += 1,
            Some((now, _)) => res.kept.push(Note::new(
                format!("{id} {}", u.model),
                "changed_since".into(),
                format!(
                    "changed in the shop since the push ({:?}): left as it is",
                    fields(written, now)
                ),
            )),
            None => res.kept.push(Note::new(
                format!("{id} {}", u.model),
                "gone".into(),
                "no longer in the shop".into(),
            )),
        }
    }
    // The push's changes to specials, taken back where the shop still
    // holds what the push left.
    let specials = all_of::<SpecialChange>(batch)?;
    if !specials.is_empty() {
        let now = shop.now().await?;
        for s in &specials {
            if undo_special(&mut shop, s, &now).await? {
                res.restored += 1;
                continue;
            }
            let running = shop.running_special(s.products_id).await?;
            let before = match s.action.as_str() {
                "end" => running.is_some_and(|(id, _)| id == s.specials_id),
                "update" => {
                    running.is_some_and(|(id, p)| id == s.specials_id && Some(p) == s.old_price)
                }
                _ => running.is_none_or(|(_, p)| Some(p) != s.new_price),
            };
            if before {
                res.already += 1;
            } else {
                res.kept.push(Note::new(
                    format!("special of {} {}", s.products_id, s.model),
                    "changed_since".into(),
                    format!(
                        "the {} special changed in the shop since the push: left as it is",
                        s.action
                    ),
                ));
            }
        }
    }
    shop.db.execute(&commit, &Params::new()).await?;
    tracing::debug!(target: "magsync::tx", "shop transaction committed");
    shop.db.close().await;
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_stock() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(available(d("10"), d("3"), true, 0), 7);
        assert_eq!(available(d("10"), d("3"), false, 2), 8);
        assert_eq!(available(d("2"), d("3"), true, 0), 0);
        assert_eq!(available(d("5.9"), d("0"), true, 0), 5);
    }

    #[test]
    fn stock_and_prices_beyond_28_digits_saturate_or_reject_not_panic() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let max = "79228162514264337593543950335";
        assert_eq!(available(d(&format!("-{max}")), d("0"), true, 5), 0);
        assert_eq!(available(d(max), d(&format!("-{max}")), true, -5), i64::MAX);
        // A gross shop's net of the largest gross at 23 %: in range.
        assert!(matches!(
            shop_price(true, None, Some(d(max)), d("23")),
            Ok(Some(_))
        ));
        // At a rate that makes the divisor zero or negative: a reject.
        let err = shop_price(true, None, Some(d("10.00")), d("-100")).unwrap_err();
        assert_eq!(err.0, "out_of_range", "{}", err.1);
    }

    #[test]
    fn gross_priority_prices_show_the_magazyn_gross() {
        // For every awkward gross at every rate, the 4-place net shows the
        // gross again when the shop adds its tax and rounds to the grosz.
        for gross in [
            "19.99", "0.01", "0.02", "999.99", "7.77", "1.05", "12345.67",
        ] {
            for rate in ["23", "8", "5", "0"] {
                let (g, r) = (
                    gross.parse::<Decimal>().unwrap(),
                    rate.parse::<Decimal>().unwrap(),
                );
                // The net the products flow writes into a gross-priority
                // shop, and what the shop shows for it.
                let net = shop_price(true, None, Some(g), r).unwrap().unwrap();
                assert_eq!(
                    money::gross_of_net(net, r, 2),
                    Some(g),
                    "{gross} at {rate} %"
                );
            }
        }
    }
}
