//! `magsync load BATCH [--dry-run]`

use crate::base::Exit;
use crate::config::Config;
use crate::flows;
use crate::staging::Batch;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A transformed batch: a path or a batch name in the staging area.
    pub batch: String,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let batch = Batch::open(&cfg.site().find(&a.batch)?)?;
    let flow = batch.meta.flow;
    let loaded = flows::load(cfg, &batch, a.dry_run).await?;
    Ok(crate::report::print_load(
        &cfg.policy,
        flow,
        &batch,
        &loaded,
        a.dry_run,
    ))
}
