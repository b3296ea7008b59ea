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

use super::load::{Change, LoadOutcome};
use super::{Flow, Stepped};
use crate::config::Config;
use crate::error::Result;
use crate::magazyn::{GoodRow, Magazyn};
use crate::money;
use crate::staging::entities::{GOODS, SHOP_DELETED, SHOP_PRODUCTS};
use crate::staging::{Batch, BatchMeta, BatchWriter, Item, Stage};

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
    let mut rec = e.empty_record();
    let mut screened = super::Screened::default();
    x.db.for_each(&sql, &params, &x.codec, |r| {
        rec[e.col("products_id")] = r.int("products_id")?.unwrap_or(0).to_string();
        rec[e.col("model_count")] = r.int("model_count")?.unwrap_or(0).to_string();
        for c in [
            "model",
            "name",
            "description",
            "tax_class_title",
            "manufacturer",
        ] {
            rec[e.col(c)] = r.text_or_empty(c)?;
        }
        rec[e.col("ean")] = if r.has("ean") {
            r.text_or_empty("ean")?.trim().to_string()
        } else {
            String::new()
        };
        for c in ["tax_class_id", "status"] {
            rec[e.col(c)] = r.int(c)?.map(|v| v.to_string()).unwrap_or_default();
        }
        let class = r.int("tax_class_id")?.unwrap_or(0);
        rec[e.col("tax_rate")] = rates
            .get(&class)
            .copied()
            .unwrap_or_default()
            .normalize()
            .to_string();
        for c in ["weight", "price", "special_price"] {
            rec[e.col(c)] = r
                .decimal(c)?
                .map(|d| d.normalize().to_string())
                .unwrap_or_default();
        }
        if rec[e.col("price")].is_empty() {
            rec[e.col("price")] = "0".into();
        }
        for c in ["date_added", "last_modified"] {
            rec[e.col(c)] = r.datetime(c)?.unwrap_or_default();
        }
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
    model_count: &str,
    code_length: usize,
) -> Option<(&'static str, String)> {
    if model.is_empty() {
        return Some((
            "empty_code",
            "the product has no model (products_model), so no Magazyn code".into(),
        ));
    }
    if model_count.parse::<i64>().unwrap_or(0) > 1 {
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
pub fn vat_symbol(shop: &crate::config::ShopConfig, class_title: &str, rate: &str) -> String {
    if let Some(s) = shop.map.tax_class.get(class_title) {
        return s.clone();
    }
    money::parse(rate)
        .map(|r| r.normalize().to_string())
        .unwrap_or_else(|_| "0".into())
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
    let mut row = dst.empty_record();
    let mut counts = super::Counts::default();
    super::each_valid(input, src, &mut bw, &mut counts, |rec, file, line, bw| {
        let get = |c: &str| rec[src.col(c)].trim();
        let model = get("model");
        if let Some((code, msg)) = code_problem(model, get("model_count"), shop.catalog.code_length)
        {
            return bw.reject(src, rec, file, line, "model", code, &msg);
        }
        if get("name").is_empty() {
            let msg = "the product has no name in the shop's language";
            return bw.reject(src, rec, file, line, "name", "empty_name", msg);
        }
        row.iter_mut().for_each(String::clear);
        row[dst.col("code")] = model.to_string();
        row[dst.col("shop")] = shop_id.clone();
        row[dst.col("products_id")] = get("products_id").to_string();
        row[dst.col("name")] = get("name").to_string();
        row[dst.col("description")] = rec[src.col("description")].clone();
        row[dst.col("vat_symbol")] = vat_symbol(shop, get("tax_class_title"), get("tax_rate"));
        row[dst.col("weight")] = get("weight").to_string();
        row[dst.col("manufacturer")] = get("manufacturer").to_string();
        row[dst.col("ean")] = get("ean").to_string();
        match dst.validate(&row) {
            Err(p) => bw.reject(src, rec, file, line, &p.field, p.code, &p.message),
            Ok(()) => out.write(&row),
        }
    })?;
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
    let e = &GOODS;
    let (mut reader, _) = batch.reader(e)?;
    let mut rec = Vec::new();
    let mut out = LoadOutcome::default();
    while let Some(item) = reader.next(&mut rec)? {
        if !matches!(item, Item::Record(_)) {
            continue;
        }
        out.counts.records += 1;
        let get = |c: &str| rec[e.col(c)].clone();
        let opt = |c: &str| Some(rec[e.col(c)].clone()).filter(|s| !s.is_empty());
        let code = get("code");
        if !symbols.contains(&get("vat_symbol")) {
            out.counts.rejected += 1;
            out.rejects.push((
                code,
                "unknown_vat".into(),
                format!("VAT symbol `{}` is not in the Magazyn's VAT dictionary: map the tax class in [shops.<id>.map.tax_class]", get("vat_symbol")),
            ));
            continue;
        }
        let mut wanted = GoodRow::new(&code, &get("name"), &get("vat_symbol"));
        wanted.description = opt("description");
        wanted.weight = opt("weight");
        wanted.manufacturer = opt("manufacturer");
        wanted.ean = opt("ean");
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
        mag.link_put(&get("shop"), "product", &get("products_id"), id, batch.id())?;
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
        assert_eq!(code_problem("", "0", 20).unwrap().0, "empty_code");
        assert_eq!(code_problem("PL-1", "2", 20).unwrap().0, "duplicate_code");
        assert_eq!(
            code_problem("ABCDEFGHIJKLMNOPQRSTU", "1", 20).unwrap().0,
            "code_too_long"
        );
        assert!(code_problem("PL-1", "1", 20).is_none());
    }
}
