//! `magsync extract --shop ID --flow F [--full]`

use crate::base::Exit;
use crate::config::Config;
use crate::flows::{self, Flow};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub shop: String,
    #[arg(long, value_enum)]
    pub flow: Flow,
    /// Re-extract everything instead of what changed since the last acknowledged run.
    #[arg(long)]
    pub full: bool,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let out = flows::extract(cfg, a.flow, &a.shop, a.full).await?;
    println!(
        "{}",
        out.counts
            .summary(&format!("{} extract {}", a.flow.as_str(), a.shop))
    );
    crate::report::print_warnings(&out.batch);
    println!("batch: {}", out.batch.dir.display());
    Ok(out.counts.exit(&cfg.policy))
}
