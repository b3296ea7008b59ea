//! The prices flow (SPEC §1.4): the shop's prices into the Magazyn price
//! list named by the shop's `import_price_list`.
//!
//! extract   the same `shop_products` extract as the catalog flow, always in
//!           full: specials and imports change prices without moving
//!           `products_last_modified`, so values are compared, not dates.
//! transform → `price_entries`: the net `products_price` (or, with
//!           `prices.use_special`, the active special), the rate the shop
//!           applies, the gross rounded half-up to the grosz.
//! load      goods already on the list get the new values where they differ;
//!           the rest is reported, or added with `prices.add_missing`
//!           (the WASI module's rule: a price list is only updated).

use super::load::{Change, LoadOutcome};
use super::{Flow, Stepped};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::magazyn::Magazyn;
use crate::money::{self, round2};
use crate::staging::entities::{PRICE_ENTRIES, SHOP_PRODUCTS};
use crate::staging::{Batch, BatchMeta, BatchWriter, Item, Stage};
use rust_decimal::Decimal;

const FLOW: Flow = Flow::Prices;

pub async fn extract(cfg: &Config, shop_id: &str) -> Result<Stepped> {
    super::catalog::extract(cfg, shop_id, FLOW, true).await
}

pub fn transform(cfg: &Config, input: &Batch) -> Result<Stepped> {
    super::expect(input, FLOW, Stage::Extracted, "transform")?;
    let m = &input.meta;
    let shop_id = m.source.shop.clone();
    let shop = cfg.shop(&shop_id)?;
    let meta = BatchMeta::derived(input, Stage::Transformed, cfg.format);
    let mut bw = BatchWriter::create(&cfg.site().work(), meta)?;
    let mut out = bw.records(&PRICE_ENTRIES)?;
    let (src, dst) = (&SHOP_PRODUCTS, &PRICE_ENTRIES);
    let mut counts = super::Counts::default();
    super::each_valid(input, src, &mut bw, &mut counts, |rec, file, line, bw| {
        let get = |c: &str| rec[src.col(c)].trim();
        let length = shop.catalog.code_length;
        if let Some((code, msg)) =
            super::catalog::code_problem(get("model"), get("model_count"), length)
        {
            return bw.reject(src, rec, file, line, "model", code, &msg);
        }
        let special = shop.prices.use_special && !get("special_price").is_empty();
        let net = money::parse(if special {
            get("special_price")
        } else {
            get("price")
        })
        .map_err(Error::Other)?;
        let rate = money::parse(get("tax_rate")).map_err(Error::Other)?;
        let gross = round2(net * (Decimal::ONE + rate / Decimal::from(100)));
        out.write(&[
            get("model").to_string(),
            shop_id.clone(),
            get("products_id").to_string(),
            if special { "special" } else { "price" }.to_string(),
            money::fmt(net, 4),
            rate.normalize().to_string(),
            money::fmt(gross, 2),
        ])
    })?;
    bw.add(dst, out.finish()?);
    counts.rejected = bw.rejected;
    counts.warnings = bw.warned;
    let batch = bw.finish()?;
    Ok(Stepped { batch, counts })
}

pub async fn load(cfg: &Config, batch: &Batch, dry_run: bool) -> Result<LoadOutcome> {
    super::load::load_batch(cfg, batch, dry_run, FLOW, &PRICE_ENTRIES, async |mag, b| {
        apply(cfg, mag, b).await
    })
    .await
}

async fn apply(cfg: &Config, mag: &mut Magazyn, batch: &Batch) -> Result<LoadOutcome> {
    let shop = cfg.shop(&batch.meta.source.shop)?;
    if shop.import_price_list.is_empty() {
        return Err(Error::Config {
            path: cfg.path.clone(),
            message: format!(
                "shops.{}.import_price_list is empty: name the Magazyn price list the shop's prices go to",
                batch.meta.source.shop
            ),
        });
    }
    let list = mag.price_list_id(&shop.import_price_list).await?;
    let e = &PRICE_ENTRIES;
    let (mut reader, _) = batch.reader(e)?;
    let mut rec = Vec::new();
    let mut out = LoadOutcome::default();
    while let Some(item) = reader.next(&mut rec)? {
        if !matches!(item, Item::Record(_)) {
            continue;
        }
        out.counts.records += 1;
        let get = |c: &str| rec[e.col(c)].clone();
        let code = get("code");
        let net = money::parse(&get("net")).map_err(Error::Other)?;
        let gross = money::parse(&get("gross")).map_err(Error::Other)?;
        let Some(good) = mag.good_by_code(&code).await? else {
            out.warnings.push((
                code.clone(),
                "unknown_code".into(),
                format!(
                    "no Magazyn good has code `{code}` (run the catalog flow, or add the good)"
                ),
            ));
            continue;
        };
        match mag.price_get(list, good).await? {
            Some((n, g)) if n == net && g == gross => out.counts.unchanged += 1,
            Some((n, g)) => {
                mag.set_price(list, good, net, gross).await?;
                out.counts.updated += 1;
                out.change(Change::Update {
                    key: code,
                    fields: vec![
                        ("net".into(), money::fmt(n, 4), money::fmt(net, 4)),
                        ("gross".into(), money::fmt(g, 2), money::fmt(gross, 2)),
                    ],
                });
            }
            None if shop.prices.add_missing => {
                mag.set_price(list, good, net, gross).await?;
                out.counts.inserted += 1;
                out.change(Change::Insert { key: code, what: format!("{} net, {} gross", money::fmt(net, 4), money::fmt(gross, 2)) });
            }
            None => out.warnings.push((
                code.clone(),
                "not_on_list".into(),
                format!("good `{code}` is not on price list `{}`: not added (prices.add_missing = true adds it)", shop.import_price_list),
            )),
        }
    }
    Ok(out)
}
