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

use super::load::{Change, LoadOutcome, Note};
use super::{Flow, Stepped};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::magazyn::Magazyn;
use crate::money;
use crate::staging::entities::{PRICE_ENTRIES, PriceEntry, SHOP_PRODUCTS, ShopProduct};
use crate::staging::records::Records;
use crate::staging::{Batch, BatchMeta, BatchWriter, Record, Stage};
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
    let mut row = Vec::new();
    super::each_valid(
        input,
        &mut bw,
        &mut counts,
        |p: &ShopProduct, rec, file, line, bw| {
            let length = shop.catalog.code_length;
            let model = p.model.trim();
            if let Some((code, msg)) = super::catalog::code_problem(model, p.model_count, length) {
                return bw.reject(src, rec, file, line, "model", code, &msg);
            }
            let (field, net) = match p.special_price {
                Some(special) if shop.prices.use_special => ("special_price", special),
                _ => ("price", p.price),
            };
            let rate = p.tax_rate.unwrap_or_default();
            let Some(gross) = gross_of(net, rate) else {
                return bw.reject(
                    src,
                    rec,
                    file,
                    line,
                    field,
                    "out_of_range",
                    &format!(
                        "the gross of {net} at {rate} % VAT is out of range (beyond 28 digits)"
                    ),
                );
            };
            PriceEntry {
                code: model.to_string(),
                shop: shop_id.clone(),
                products_id: p.products_id,
                source: if field == "price" { "price" } else { "special" }.to_string(),
                net: money::fixed(net, 4),
                vat_rate: rate.normalize(),
                gross: money::fixed(gross, 2),
            }
            .write_into(&mut row);
            out.write(&row)
        },
    )?;
    bw.add(dst, out.finish()?);
    counts.rejected = bw.rejected;
    counts.warnings = bw.warned;
    let batch = bw.finish()?;
    Ok(Stepped { batch, counts })
}

/// The gross of a net at `rate` %, rounded half-up to the grosz; `None`
/// when it is out of range (beyond 28 digits).
fn gross_of(net: Decimal, rate: Decimal) -> Option<Decimal> {
    crate::money::gross_of_net(net, rate, 2)
}

pub async fn load(cfg: &Config, batch: &Batch, dry_run: bool) -> Result<LoadOutcome> {
    super::load::load_batch(cfg, batch, dry_run, FLOW, &PRICE_ENTRIES, async |mag, b| {
        apply(cfg, mag, b)
    })
    .await
}

fn apply(cfg: &Config, mag: &mut Magazyn, batch: &Batch) -> Result<LoadOutcome> {
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
    let list = mag.price_list_id(&shop.import_price_list)?;
    let mut records = Records::<PriceEntry>::open(batch)?;
    let mut out = LoadOutcome::default();
    while let Some(p) = records.next_record()? {
        out.counts.records += 1;
        let (code, net, gross) = (p.code.clone(), p.net, p.gross);
        let Some(good) = mag.good_by_code(&code)? else {
            out.warnings.push(Note::new(
                code.clone(),
                "unknown_code".into(),
                format!(
                    "no Magazyn good has code `{code}` (run the catalog flow, or add the good)"
                ),
            ));
            continue;
        };
        match mag.price_get(list, good)? {
            Some((n, g)) if n == net && g == gross => out.counts.unchanged += 1,
            Some((n, g)) => {
                mag.set_price(list, good, net, gross)?;
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
                mag.set_price(list, good, net, gross)?;
                out.counts.inserted += 1;
                out.change(Change::Insert { key: code, what: format!("{} net, {} gross", money::fmt(net, 4), money::fmt(gross, 2)) });
            }
            None => out.warnings.push(Note::new(
                code.clone(),
                "not_on_list".into(),
                format!("good `{code}` is not on price list `{}`: not added (prices.add_missing = true adds it)", shop.import_price_list),
            )),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::batch::Source;
    use crate::staging::{BatchMeta, Format};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// An extracted prices batch of one shop product priced `price`.
    fn extracted(cfg: &Config, price: &str) -> Batch {
        let meta = BatchMeta::new(
            FLOW,
            Stage::Extracted,
            Format::Csv,
            Source {
                site: cfg.site.clone(),
                shop: "s1".into(),
                system: "oscommerce".into(),
                profile: "oscommerce-2.3".into(),
                encoding: None,
            },
        );
        let mut bw = BatchWriter::create(&cfg.site().outbox(), meta).unwrap();
        let mut w = bw.records(&SHOP_PRODUCTS).unwrap();
        let mut rec = Vec::new();
        ShopProduct {
            products_id: 7,
            model: "ABC-1".into(),
            model_count: 1,
            tax_rate: Some(dec("23")),
            price: dec(price),
            ..ShopProduct::default()
        }
        .write_into(&mut rec);
        w.write(&rec).unwrap();
        bw.add(&SHOP_PRODUCTS, w.finish().unwrap());
        bw.finish().unwrap()
    }

    #[test]
    fn a_net_whose_gross_is_beyond_28_digits_is_a_reject_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "staging = {:?}\n[shops.s1]\n",
            dir.path().join("staging").display().to_string()
        );
        let cfg = Config::parse(&text, &dir.path().join("magsync.toml")).unwrap();
        // The largest amount a batch can hold: its net is valid, its gross
        // at 23 % is not representable.
        let input = extracted(&cfg, "79228162514264337593543950335");
        let out = transform(&cfg, &input).unwrap();
        assert_eq!((out.counts.records, out.counts.rejected), (1, 1));
        let errors =
            std::fs::read_to_string(out.batch.dir.join("data/rejects/shop_products.errors.csv"))
                .unwrap();
        assert!(
            errors.contains("out_of_range") && errors.contains(",price,"),
            "{errors}"
        );
        // An ordinary price still goes through.
        let out = transform(&cfg, &extracted(&cfg, "10.00")).unwrap();
        assert_eq!((out.counts.records, out.counts.rejected), (1, 0));
    }
}
