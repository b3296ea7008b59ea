//! `magsync undo BATCH`: put back the shop rows a products load changed,
//! from the load's undo batch, wherever the shop still holds exactly what
//! magsync wrote; every other row is reported and left alone.

use crate::base::Exit;
use crate::config::Config;
use crate::flows::products;
use crate::staging::Batch;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// An undo batch (staging/undo/…), a path or a name.
    pub batch: String,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let batch = Batch::open(&cfg.site().find(&a.batch)?)?;
    let r = products::undo(cfg, &batch).await?;
    for crate::base::Note {
        key,
        code,
        message: msg,
    } in &r.kept
    {
        println!("  kept {key}: {msg} [{code}]");
    }
    println!(
        "undo {}: {} restored, {} already as before, {} changed since and left alone",
        batch.id(),
        r.restored,
        r.already,
        r.kept.len()
    );
    Ok(if r.kept.is_empty() {
        Exit::Done
    } else {
        Exit::Rejects
    })
}
