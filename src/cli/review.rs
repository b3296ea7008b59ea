//! `magsync review export BATCH -o FILE.xlsx` and `magsync review import
//! BATCH FILE`: a batch through a person's spreadsheet and back (SPEC §5).

use crate::base::Exit;
use crate::config::Config;
use crate::staging::Batch;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Write a batch as a workbook: a sheet per entity, typed columns, no formulas.
    Export {
        batch: String,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Read a reviewed workbook or CSV back; the edits become a new batch.
    Import { batch: String, file: PathBuf },
}

pub fn run(cfg: &Config, cmd: Cmd) -> anyhow::Result<Exit> {
    match cmd {
        Cmd::Export { batch, out } => {
            let b = Batch::open(&cfg.site().find(&batch)?)?;
            let counts = crate::review::export::export(&b, &out)?;
            println!(
                "{}: {}",
                out.display(),
                counts
                    .iter()
                    .map(|(e, n)| format!("{e} {n} rows"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(Exit::Done)
        }
        Cmd::Import { batch, file } => {
            let b = Batch::open(&cfg.site().find(&batch)?)?;
            let r = crate::review::import::import(cfg, &b, &file)?;
            println!("read {} ({})", file.display(), r.detected);
            if r.changes.is_empty() {
                println!("no changes");
                return Ok(Exit::Done);
            }
            for c in &r.changes {
                println!(
                    "  {} {} {}: {:?} -> {:?}",
                    c.entity, c.key, c.column, c.old, c.new
                );
            }
            let nb = r.batch.expect("a batch when there are changes");
            println!(
                "{} changed cells; edited batch: {} (parent {})",
                r.changes.len(),
                nb.dir.display(),
                b.id()
            );
            Ok(Exit::Done)
        }
    }
}
