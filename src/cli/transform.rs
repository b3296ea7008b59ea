//! `magsync transform BATCH`

use super::{Exit, exit_for, summary};
use crate::config::Config;
use crate::flows::{self, Dirs};
use crate::staging::Batch;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// An extracted batch: a path or a batch name in the staging area.
    pub batch: String,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let input = Batch::open(&Dirs::new(cfg).find(&a.batch)?)?;
    let out = flows::transform(cfg, &input).await?;
    println!(
        "{}",
        summary(&format!("{} transform", input.meta.flow), &out.counts)
    );
    super::print_warnings(&out.batch);
    println!("batch: {}", out.batch.dir.display());
    Ok(exit_for(cfg, &out.counts))
}
