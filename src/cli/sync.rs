//! `magsync sync [--shop ID] [--flow F…] [--dry-run]`: extract, transform and
//! load in one go, for every selected shop and flow.

use crate::base::Exit;
use crate::config::Config;
use crate::flows::{self, Flow};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this shop (default: every shop with a url).
    #[arg(long)]
    pub shop: Option<String>,
    /// Only these flows (default: all).
    #[arg(long, value_enum, num_args = 1..)]
    pub flow: Vec<Flow>,
    /// Re-extract everything.
    #[arg(long)]
    pub full: bool,
    /// Extract and transform, then show what the load would change; write nothing to the target.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let shops: Vec<String> = match &a.shop {
        Some(s) => {
            cfg.shop(s)?;
            vec![s.clone()]
        }
        None => cfg
            .shops
            .iter()
            .filter(|(_, s)| s.url.is_some())
            .map(|(id, _)| id.clone())
            .collect(),
    };
    let selected = if a.flow.is_empty() {
        // Definitions first (orders link their lines to goods), customers
        // before their orders, the shop's prices in, then the push out.
        vec![
            Flow::Catalog,
            Flow::Customers,
            Flow::Orders,
            Flow::Prices,
            Flow::Products,
        ]
    } else {
        a.flow.clone()
    };
    let mut worst = Exit::Done;
    for shop in &shops {
        for flow in &selected {
            let exit = match one(cfg, shop, *flow, a.full, a.dry_run).await {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("magsync: {} {shop}: error: {e:#}", flow.as_str());
                    Exit::Failed
                }
            };
            worst = worst.max(exit);
        }
    }
    Ok(worst)
}

pub async fn one(
    cfg: &Config,
    shop: &str,
    flow: Flow,
    full: bool,
    dry_run: bool,
) -> anyhow::Result<Exit> {
    let name = flow.as_str();
    let x = flows::extract(cfg, flow, shop, full).await?;
    println!("{}", x.counts.summary(&format!("{name} extract {shop}")));
    crate::report::print_warnings(&x.batch);
    let t = flows::transform(cfg, &x.batch).await?;
    println!("{}", t.counts.summary(&format!("{name} transform {shop}")));
    crate::report::print_warnings(&t.batch);
    let l = flows::load(cfg, &t.batch, dry_run).await?;
    let exit = crate::report::print_load(&cfg.policy, flow, &t.batch, &l, dry_run);
    Ok(exit
        .max(x.counts.exit(&cfg.policy))
        .max(t.counts.exit(&cfg.policy)))
}
