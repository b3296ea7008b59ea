//! The shop and the Magazyn compared as they
//! are now — prices and quantities that differ from what the products flow
//! would push, shop products with no good, goods with no shop product, goods
//! linked to products the shop deleted, duplicate or empty models,
//! customers and orders not in the Magazyn — as
//! figures `report` renders as text, JSON and HTML. Nothing is written to
//! either database.

use crate::config::Config;
use crate::error::Result;
use crate::staging::entities::{ProductUpdate, WARNINGS, Warning};
use crate::staging::records::Records;
use crate::templates::Params;
use serde::Serialize;

#[derive(Debug, Default, Serialize)]
pub struct Reconciliation {
    pub shop: String,
    pub at: String,
    /// model, name, what differs (shop now → what the Magazyn says)
    pub differing: Vec<(String, String, String)>,
    pub shop_products_without_good: Vec<String>,
    pub goods_without_shop_product: Vec<String>,
    /// code (shop product id): linked by the catalog flow to a product the
    /// shop no longer has.
    pub goods_linked_to_deleted_products: Vec<String>,
    pub duplicate_or_empty_models: Vec<String>,
    pub customers_not_in_magazyn: Vec<i64>,
    pub orders_not_in_magazyn: Vec<String>,
}

impl Reconciliation {
    /// What each list counts, as a person reads it.
    pub fn lines(&self) -> [(&'static str, usize); 7] {
        let r = self;
        [
            (
                "products whose price, quantity or status differ from the Magazyn",
                r.differing.len(),
            ),
            (
                "shop products with no good",
                r.shop_products_without_good.len(),
            ),
            (
                "goods with no shop product",
                r.goods_without_shop_product.len(),
            ),
            (
                "goods linked to products the shop no longer has",
                r.goods_linked_to_deleted_products.len(),
            ),
            (
                "products with a duplicate or empty model",
                r.duplicate_or_empty_models.len(),
            ),
            (
                "customers not in the Magazyn",
                r.customers_not_in_magazyn.len(),
            ),
            ("orders not in the Magazyn", r.orders_not_in_magazyn.len()),
        ]
    }

    /// Do the two sides agree?
    pub fn is_clean(&self) -> bool {
        self.lines().iter().all(|(_, n)| *n == 0)
    }
}

/// Compare shop `shop_id` with the Magazyn as they are now.
pub async fn reconcile(cfg: &Config, shop_id: &str) -> Result<Reconciliation> {
    let shop = cfg.shop(shop_id)?;
    let mut r = Reconciliation {
        shop: shop_id.to_string(),
        at: crate::base::now_utc(),
        ..Default::default()
    };

    // What a products push would change: the products extract and transform
    // run into a scratch staging area that is thrown away.
    let scratch = std::env::temp_dir().join(format!("magsync-reconcile-{}", std::process::id()));
    let mut tmp = cfg.clone();
    tmp.staging = scratch.clone();
    let result = async {
        let x = crate::flows::products::extract(&tmp, shop_id)?;
        crate::flows::products::transform(&tmp, &x.batch).await
    }
    .await;
    let t = result?;
    let mut updates = Records::<ProductUpdate>::open(&t.batch)?;
    while let Some(u) = updates.next_record()? {
        let mut what = Vec::new();
        if u.old_price != u.new_price {
            what.push(format!("price {} → {}", u.old_price, u.new_price));
        }
        if u.old_quantity != u.new_quantity {
            what.push(format!("quantity {} → {}", u.old_quantity, u.new_quantity));
        }
        if u.old_status != u.new_status {
            what.push(format!("status {} → {}", u.old_status, u.new_status));
        }
        r.differing
            .push((u.model.clone(), u.name.clone(), what.join(", ")));
    }
    if t.batch.file_of(&WARNINGS).is_some() {
        let mut warnings = Records::<Warning>::open(&t.batch)?;
        while let Some(w) = warnings.next_record()? {
            match w.code.as_str() {
                "no_shop_product" => r.goods_without_shop_product.push(w.key.clone()),
                "duplicate_model" | "empty_model" => {
                    r.duplicate_or_empty_models.push(w.message.clone())
                }
                _ => {}
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);

    // Shop products whose model is no good's code; customers and orders
    // the Magazyn does not have.
    let (mut db, codec) = crate::flows::connect_shop(cfg, shop_id).await?;
    let templates = crate::flows::templates(cfg);
    let d = db.dialect();
    let p = Params::new().set("language_id", shop.language_id);
    let mut models = Vec::new();
    let mut product_ids = std::collections::HashSet::new();
    db.for_each(
        &templates.sql(&shop.profile, "products.read.sql", d)?,
        &p,
        &codec,
        |row| {
            models.push(row.text_or_empty("model")?.trim().to_string());
            product_ids.insert(row.int("products_id")?.unwrap_or(0).to_string());
            Ok(())
        },
    )
    .await?;
    let mut customers = Vec::new();
    db.for_each(
        &templates.sql(&shop.profile, "reconcile.customers.sql", d)?,
        &p,
        &codec,
        |row| {
            customers.push(row.int("id")?.unwrap_or(0));
            Ok(())
        },
    )
    .await?;
    let mut orders = Vec::new();
    db.for_each(
        &templates.sql(&shop.profile, "reconcile.orders.sql", d)?,
        &p,
        &codec,
        |row| {
            orders.push(row.int("id")?.unwrap_or(0));
            Ok(())
        },
    )
    .await?;
    db.close().await;
    let mut mag = crate::flows::open_magazyn(cfg)?;
    for m in models.iter().filter(|m| !m.is_empty()) {
        if mag.good_by_code(m)?.is_none() {
            r.shop_products_without_good.push(m.clone());
        }
    }
    // Both ways: goods the catalog linked to products the shop lost.
    let linked = &mut r.goods_linked_to_deleted_products;
    mag.for_each(
        "links.products.sql",
        Params::new().set("shop", shop_id),
        |row| {
            let id = row.text("shop_id")?;
            if !product_ids.contains(&id) {
                linked.push(format!("{} (shop product {id})", row.text("code")?));
            }
            Ok(())
        },
    )?;
    for c in customers {
        if mag.link_get(shop_id, "customer", &c.to_string())?.is_none() {
            r.customers_not_in_magazyn.push(c);
        }
    }
    for o in orders {
        let number = format!("{}{o}{}", shop.order_prefix, shop.order_suffix);
        if mag.order_get(&number)?.is_none() {
            r.orders_not_in_magazyn.push(number);
        }
    }
    mag.close();

    Ok(r)
}
