//! The VAT the shop applies, read the way osCommerce's `tep_get_tax_rate`
//! reads it for the store's home zone (`STORE_COUNTRY` / `STORE_ZONE`):
//! every rate of a geo zone that holds that country and zone (a zone of 0
//! or NULL stands for all of the country's zones), rates of one priority
//! added, different priorities compounded. One reader for every flow that
//! needs a rate (products, orders).

use super::{ShopDb, TextCodec};
use crate::error::Result;
use crate::templates::{Params, Sql};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// The rate (percent) per tax class. `home` returns `name`/`value` rows of
/// STORE_COUNTRY and STORE_ZONE; `rates` takes `:country` and `:zone` and
/// returns `tax_class_id`, `tax_priority`, `rate`.
pub async fn home_rates(
    db: &mut ShopDb,
    codec: &TextCodec,
    home: &Sql,
    rates: &Sql,
) -> Result<HashMap<i64, Decimal>> {
    let (mut country, mut zone) = (0i64, 0i64);
    db.for_each(home, &Params::new(), codec, |r| {
        let v = r.text_or_empty("value")?.trim().parse().unwrap_or(0);
        match r.text_or_empty("name")?.as_str() {
            "STORE_COUNTRY" => country = v,
            "STORE_ZONE" => zone = v,
            _ => {}
        }
        Ok(())
    })
    .await?;
    let mut by_class: HashMap<i64, Vec<(i64, Decimal)>> = HashMap::new();
    db.for_each(
        rates,
        &Params::new().set("country", country).set("zone", zone),
        codec,
        |r| {
            let class = r.int("tax_class_id")?.unwrap_or(0);
            let prio = r.int("tax_priority")?.unwrap_or(1);
            let rate = r.decimal("rate")?.unwrap_or_default();
            let v = by_class.entry(class).or_default();
            match v.iter_mut().find(|(p, _)| *p == prio) {
                Some((_, r)) => *r += rate,
                None => v.push((prio, rate)),
            }
            Ok(())
        },
    )
    .await?;
    let hundred = Decimal::from(100);
    Ok(by_class
        .into_iter()
        .map(|(class, prios)| {
            let f = prios.iter().fold(Decimal::ONE, |acc, (_, r)| {
                acc * (Decimal::ONE + r / hundred)
            });
            (class, ((f - Decimal::ONE) * hundred).normalize())
        })
        .collect())
}
