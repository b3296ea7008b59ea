//! The catalog flow (SPEC §1.5): shop product definitions into the Magazyn's
//! goods register; and the shop-products extract the prices flow shares.
//!
//! extract   shop → `shop_products`: definitions in the shop's language, tax
//!           class and rate, manufacturer, weight, prices; incremental on
//!           products_date_added/products_last_modified (the prices flow
//!           always reads everything: prices move without timestamps).
//! transform → `goods`: code = model; an empty model, a model shared by
//!           several products or one longer than the Magazyn's codes is a
//!           reject with the reason; VAT symbol through `map.tax_class`,
//!           else the rate (`23`, `8`, `5`, `0`).
//! load      missing goods are created (kind good, visible); an existing
//!           definition is never overwritten except the fields named in
//!           `catalog.update` (the WASI module's rule: no accidental loss).

use super::load::{Change, LoadOutcome, Note};
use super::{Flow, Stepped};
use crate::config::Config;
use crate::error::Result;
use crate::magazyn::{GoodRow, Magazyn};
use crate::staging::entities::{GOODS, Good, SHOP_DELETED, SHOP_PRODUCTS, ShopProduct};
use crate::staging::records::Records;
use crate::staging::{Batch, BatchMeta, BatchWriter, Record, Stage};
use rust_decimal::Decimal;

const FLOW: Flow = Flow::Catalog;

// ---------------------------------------------------------------- extract

/// Shop products into an extracted batch of `flow` (catalog or prices).
pub async fn extract(cfg: &Config, shop_id: &str, flow: Flow, full: bool) -> Result<Stepped> {
    let mut x = super::extract::ExtractRun::start(
        cfg,
        shop_id,
        flow,
        full,
        "catalog.max_id.sql",
        "products.products_date_added/products_last_modified, products_id",
    )
    .await?;
    // The rate of each tax class, as the shop applies it in its home zone
    // (one tax reader: shop::tax); a class with no rate there is 0 %.
    let (home, rates) = (
        x.sql("products.home_zone.sql")?,
        x.sql("products.tax_rates.sql")?,
    );
    let rates = crate::shop::tax::home_rates(&mut x.db, &x.codec, &home, &rates).await?;
    // The catalog compares by content (state::Fingerprints): edits that
    // touch no timestamp arrive, and products deleted in the shop are found
    // (their links retired at the load). The prices flow reads everything.
    let full = x.watermark.full || flow != FLOW;
    let mut seen = match flow == FLOW {
        true => Some(x.by_content()?),
        false => None,
    };
    let params = match &seen {
        Some((_, scan)) => scan.clone(),
        None => x.params.clone(),
    };
    let sql = x.sql("catalog.extract.sql")?;
    let e = &SHOP_PRODUCTS;
    let mut out = x.bw.records(e)?;
    let mut rec = Vec::new();
    let mut screened = super::Screened::default();
    x.db.for_each(&sql, &params, &x.codec, |r| {
        let class = r.int("tax_class_id")?;
        let normal = |d: Option<rust_decimal::Decimal>| d.map(|d| d.normalize());
        ShopProduct {
            products_id: r.int("products_id")?.unwrap_or(0),
            model_count: r.int("model_count")?.unwrap_or(0),
            model: r.text_or_empty("model")?,
            name: r.text_or_empty("name")?,
            description: r.text_or_empty("description")?,
            tax_class_title: r.text_or_empty("tax_class_title")?,
            manufacturer: r.text_or_empty("manufacturer")?,
            ean: r.text_if_any("ean")?.trim().to_string(),
            tax_class_id: class,
            status: r.int("status")?,
            tax_rate: Some(
                rates
                    .get(&class.unwrap_or(0))
                    .copied()
                    .unwrap_or_default()
                    .normalize(),
            ),
            weight: normal(r.decimal("weight")?),
            price: normal(r.decimal("price")?).unwrap_or_default(),
            special_price: normal(r.decimal("special_price")?),
            date_added: r.datetime("date_added")?.unwrap_or_default(),
            last_modified: r.datetime("last_modified")?.unwrap_or_default(),
        }
        .write_into(&mut rec);
        let changed = match seen.as_mut() {
            Some((fp, _)) => fp.changed(r.int("products_id")?.unwrap_or(0), &rec)?,
            None => true,
        };
        if changed || full {
            screened.take(e, &rec, &mut out)?;
        }
        Ok(())
    })
    .await?;
    x.bw.add(e, out.finish()?);
    if let Some((fp, _)) = seen {
        x.end_scan(fp, e.name, "products_id", "product")?;
    }
    let mut counts = screened.finish(e, &mut x.bw, "shop:products")?;
    counts.warnings = x.bw.warned;
    let batch = x.finish().await?;
    Ok(Stepped { batch, counts })
}

/// Why a shop product cannot identify a Magazyn good, if it cannot.
pub fn code_problem(
    model: &str,
    model_count: i64,
    code_length: usize,
) -> Option<(&'static str, String)> {
    if model.is_empty() {
        return Some((
            "empty_code",
            "the product has no model (products_model), so no Magazyn code".into(),
        ));
    }
    if model_count > 1 {
        return Some((
            "duplicate_code",
            format!(
                "model `{model}` is shared by {model_count} shop products: it cannot identify one good"
            ),
        ));
    }
    if model.chars().count() > code_length {
        return Some((
            "code_too_long",
            format!("model `{model}` is longer than the Magazyn's {code_length}-character codes"),
        ));
    }
    None
}

/// The Magazyn VAT symbol of a shop tax class: `map.tax_class`, else the
/// rate as a whole number (`23`, `8`, `5`, `0`).
pub fn vat_symbol(
    shop: &crate::config::ShopConfig,
    class_title: &str,
    rate: Option<Decimal>,
) -> String {
    if let Some(s) = shop.map.tax_class.get(class_title) {
        return s.clone();
    }
    rate.unwrap_or_default().normalize().to_string()
}

// -------------------------------------------------------------- transform

pub fn transform(cfg: &Config, input: &Batch) -> Result<Stepped> {
    super::expect(input, FLOW, Stage::Extracted, "transform")?;
    let m = &input.meta;
    let shop_id = m.source.shop.clone();
    let shop = cfg.shop(&shop_id)?;
    let meta = BatchMeta::derived(input, Stage::Transformed, cfg.format);
    let mut bw = BatchWriter::create(&cfg.site().work(), meta)?;
    let mut out = bw.records(&GOODS)?;
    let (src, dst) = (&SHOP_PRODUCTS, &GOODS);
    let mut row = Vec::new();
    let mut counts = super::Counts::default();
    super::each_valid(
        input,
        &mut bw,
        &mut counts,
        |p: &ShopProduct, rec, file, line, bw| {
            let model = p.model.trim();
            if let Some((code, msg)) = code_problem(model, p.model_count, shop.catalog.code_length)
            {
                return bw.reject(src, rec, file, line, "model", code, &msg);
            }
            if p.name.trim().is_empty() {
                let msg = "the product has no name in the shop's language";
                return bw.reject(src, rec, file, line, "name", "empty_name", msg);
            }
            Good {
                code: model.to_string(),
                shop: shop_id.clone(),
                products_id: p.products_id,
                name: p.name.trim().to_string(),
                description: p.description.clone(),
                vat_symbol: vat_symbol(shop, p.tax_class_title.trim(), p.tax_rate),
                weight: p.weight,
                manufacturer: p.manufacturer.trim().to_string(),
                ean: p.ean.trim().to_string(),
            }
            .write_into(&mut row);
            match dst.validate(&row) {
                Err(p) => bw.reject(src, rec, file, line, &p.field, p.code, &p.message),
                Ok(()) => out.write(&row),
            }
        },
    )?;
    bw.add(dst, out.finish()?);
    // Products deleted in the shop travel on: the load retires their links.
    super::pass_on(input, &mut bw, &SHOP_DELETED)?;
    counts.rejected = bw.rejected;
    counts.warnings = bw.warned;
    let batch = bw.finish()?;
    Ok(Stepped { batch, counts })
}

// ------------------------------------------------------------------- load

pub async fn load(cfg: &Config, batch: &Batch, dry_run: bool) -> Result<LoadOutcome> {
    super::load::load_batch(cfg, batch, dry_run, FLOW, &GOODS, async |mag, b| {
        apply(cfg, mag, b)
    })
    .await
}

fn apply(cfg: &Config, mag: &mut Magazyn, batch: &Batch) -> Result<LoadOutcome> {
    let shop = cfg.shop(&batch.meta.source.shop)?;
    let update = &shop.catalog.update;
    let symbols: Vec<String> = mag.vat_rates()?.into_iter().map(|(s, _)| s).collect();
    let mut records = Records::<Good>::open(batch)?;
    let mut out = LoadOutcome::default();
    while let Some(g) = records.next_record()? {
        out.counts.records += 1;
        let opt = super::non_empty;
        let code = g.code.clone();
        if !symbols.contains(&g.vat_symbol) {
            out.counts.rejected += 1;
            out.rejects.push(Note::new(
                code,
                "unknown_vat".into(),
                format!("VAT symbol `{}` is not in the Magazyn's VAT dictionary: map the tax class in [shops.<id>.map.tax_class]", g.vat_symbol),
            ));
            continue;
        }
        let mut wanted = GoodRow::new(&code, &g.name, &g.vat_symbol);
        wanted.description = opt(&g.description);
        wanted.weight = g.weight.map(|w| w.to_string());
        wanted.manufacturer = opt(&g.manufacturer);
        wanted.ean = opt(&g.ean);
        let id = match mag.good_get(&code)? {
            None => {
                let id = mag.good_insert(&wanted)?;
                out.counts.inserted += 1;
                out.change(Change::Insert {
                    key: code.clone(),
                    what: wanted.name.clone(),
                });
                id
            }
            Some((id, current)) => {
                // Only the fields the configuration names; the rest stays.
                let mut merged = current.clone();
                let mut fields = Vec::new();
                for f in update {
                    let (old, new): (Option<String>, Option<String>) = match f.as_str() {
                        "name" => (Some(current.name.clone()), Some(wanted.name.clone())),
                        "description" => (current.description.clone(), wanted.description.clone()),
                        "vat_symbol" => (
                            Some(current.vat_symbol.clone()),
                            Some(wanted.vat_symbol.clone()),
                        ),
                        "weight" => (current.weight.clone(), wanted.weight.clone()),
                        "manufacturer" => {
                            (current.manufacturer.clone(), wanted.manufacturer.clone())
                        }
                        "ean" => (current.ean.clone(), wanted.ean.clone()),
                        _ => continue,
                    };
                    if old == new {
                        continue;
                    }
                    fields.push((
                        f.clone(),
                        old.clone().unwrap_or_default(),
                        new.clone().unwrap_or_default(),
                    ));
                    match f.as_str() {
                        "name" => merged.name = new.unwrap_or_default(),
                        "description" => merged.description = new,
                        "vat_symbol" => merged.vat_symbol = new.unwrap_or_default(),
                        "weight" => merged.weight = new,
                        "manufacturer" => merged.manufacturer = new,
                        _ => merged.ean = new,
                    }
                }
                if fields.is_empty() {
                    out.counts.unchanged += 1;
                } else {
                    mag.good_update(id, &merged)?;
                    out.counts.updated += 1;
                    out.change(Change::Update {
                        key: code.clone(),
                        fields,
                    });
                }
                id
            }
        };
        let products_id = g.products_id.to_string();
        mag.link_put(&g.shop, "product", &products_id, id, batch.id())?;
    }
    let shop_id = batch.meta.source.shop.clone();
    super::retire_deleted(mag, batch, &shop_id, &["product"], &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_that_cannot_identify_a_good() {
        assert_eq!(code_problem("", 0, 20).unwrap().0, "empty_code");
        assert_eq!(code_problem("PL-1", 2, 20).unwrap().0, "duplicate_code");
        assert_eq!(
            code_problem("ABCDEFGHIJKLMNOPQRSTU", 1, 20).unwrap().0,
            "code_too_long"
        );
        assert!(code_problem("PL-1", 1, 20).is_none());
    }
}
