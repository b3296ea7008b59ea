//! `magsync reconcile --shop ID`: the shop and the Magazyn compared as they
//! are now — prices and quantities that differ from what the products flow
//! would push, shop products with no good, goods with no shop product, goods
//! linked to products the shop deleted, duplicate or empty models,
//! customers and orders not in the Magazyn — as
//! text, JSON and HTML. Nothing is written to either database.

use crate::base::Exit;
use crate::config::Config;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub shop: String,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let r = crate::reconcile::reconcile(cfg, &a.shop).await?;
    println!("reconcile shop {} at {}", r.shop, r.at);
    for (what, n) in &r.lines() {
        println!("  {n:>6}  {what}");
    }
    for (m, name, what) in r.differing.iter().take(50) {
        println!("          {m} {name}: {what}");
    }
    let dir = crate::report::write_reconciliation(cfg, &r)?;
    println!("report: {}", dir.display());
    Ok(if r.is_clean() {
        Exit::Done
    } else {
        Exit::Rejects
    })
}
