//! `magsync load BATCH [--dry-run]`

use super::{Exit, exit_for, summary};
use crate::config::Config;
use crate::flows::load::{Change, LoadOutcome};
use crate::flows::{self, Dirs, Flow};
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
    let batch = Batch::open(&Dirs::new(cfg).find(&a.batch)?)?;
    let flow = flows::flow_of(&batch)?;
    let loaded = flows::load(cfg, &batch, a.dry_run).await?;
    Ok(report(cfg, flow, &batch, &loaded, a.dry_run))
}

/// Print what a load did (shared with `sync`).
pub fn report(
    cfg: &Config,
    flow: Flow,
    batch: &Batch,
    loaded: &LoadOutcome,
    dry_run: bool,
) -> Exit {
    if let Some(at) = &loaded.already_applied {
        println!(
            "{} load: batch {} was already applied at {at}; nothing changed",
            flow.as_str(),
            batch.id()
        );
        return Exit::Done;
    }
    if dry_run {
        println!("dry run: nothing was written. Changes a load would make:");
        for c in &loaded.changes {
            match c {
                Change::Insert { key, what } => println!("  insert {key}: {what}"),
                Change::Update { key, fields } => {
                    println!("  update {key}:");
                    for (f, old, new) in fields {
                        println!("      {f}: {old:?} -> {new:?}");
                    }
                }
            }
        }
        if loaded.changes_not_kept > 0 {
            println!("  … and {} more", loaded.changes_not_kept);
        }
    }
    for (key, code, msg) in &loaded.rejects {
        println!("  rejected {key}: {msg} [{code}]");
    }
    for (key, code, msg) in &loaded.warnings {
        println!("  warning {key}: {msg} [{code}]");
    }
    let step = if dry_run { "load (dry run)" } else { "load" };
    println!(
        "{}",
        summary(&format!("{} {step}", flow.as_str()), &loaded.counts)
    );
    if let Some(r) = &loaded.receipt {
        println!("receipt: {}", r.dir.display());
    }
    exit_for(cfg, &loaded.counts)
}
