//! `magsync index --shop ID [--drop]`: the opt-in indexes that make an
//! incremental orders extract cheap on a large shop.
//!
//! osCommerce 2.3.3 has no index on `orders.last_modified` or
//! `orders.date_purchased`, so "the orders changed since the last run"
//! scans the whole table: about a second per million orders, every night.
//! New orders are found by `orders_id` anyway; these two indexes let the
//! server find status changes without the scan. They change the shop's
//! schema, so magsync never adds them by itself: this command does, on
//! request, and `--drop` removes exactly them (they are named `magsync_*`).
//! The statements are templates (`indexes.add.sql`, `indexes.drop.sql`),
//! so a shop with its own naming rules edits them like any other.

use crate::base::Exit;
use crate::config::Config;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub shop: String,
    /// Remove the indexes this command added (and nothing else).
    #[arg(long)]
    pub drop: bool,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let shop = cfg.shop(&a.shop)?;
    let (mut db, codec) = crate::flows::connect_shop(cfg, &a.shop).await?;
    let t = crate::flows::templates(cfg);
    let dialect = db.dialect();
    let script = if a.drop {
        "indexes.drop.sql"
    } else {
        "indexes.add.sql"
    };
    let text = t.text(&shop.profile, script, dialect)?;
    db.run_script(
        &text,
        &format!("shop {}: {}/{script}", a.shop, shop.profile),
    )
    .await?;
    let present = crate::shop::magsync_indexes(
        &mut db,
        &t.sql(&shop.profile, "indexes.list.sql", dialect)?,
        &codec,
    )
    .await?;
    db.close().await;
    if present.is_empty() {
        println!("shop {}: no magsync indexes", a.shop);
    } else {
        println!("shop {}: magsync indexes present:", a.shop);
        for (name, table) in &present {
            println!("  {name} on {table}");
        }
        println!(
            "(remove them with `magsync index --shop {} --drop`)",
            a.shop
        );
    }
    Ok(Exit::Done)
}
