//! `magsync verify BATCH`: the bag (every checksum), the tag file and every
//! row against its schema. Applies nothing; needs no configuration.

use crate::base::Exit;
use crate::staging::Batch;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A batch directory, or a batch name in the configured staging area.
    pub batch: String,
}

pub fn run(cfg_path: &Path, a: Args) -> anyhow::Result<Exit> {
    let mut dir = PathBuf::from(&a.batch);
    if !dir.is_dir() {
        let cfg = crate::config::Config::load(cfg_path)?;
        dir = cfg.site().find(&a.batch)?;
    }
    let batch = Batch::open(&dir)?;
    let rows = batch.verify_rows()?;
    let m = &batch.meta;
    println!(
        "ok: {} ({} {} batch, format {}, shop {}), {} files, {rows} rows, tag manifest sha256 {}",
        batch.id(),
        m.flow,
        m.stage.as_str(),
        m.format_version,
        m.source.shop,
        m.files.len(),
        batch.tag_sha256
    );
    Ok(Exit::Done)
}
