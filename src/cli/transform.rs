//! `magsync transform BATCH`

use crate::base::Exit;
use crate::config::Config;
use crate::flows;
use crate::staging::Batch;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// An extracted batch: a path or a batch name in the staging area.
    pub batch: String,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let input = Batch::open(&cfg.site().find(&a.batch)?)?;
    let out = flows::transform(cfg, &input).await?;
    println!(
        "{}",
        out.counts
            .summary(&format!("{} transform", input.meta.flow))
    );
    crate::report::print_warnings(&out.batch);
    println!("batch: {}", out.batch.dir.display());
    Ok(out.counts.exit(&cfg.policy))
}
