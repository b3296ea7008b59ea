//! The command line: one thin module per command (xsv style). Commands parse
//! their arguments, call into `flows`/`staging`, and print a report; the exit
//! code is the worst outcome (SPEC §7: 0 done, 1 done with rejects or
//! counted warnings, 2 failed).

mod check;
mod demo;
mod discover;
mod extract;
mod index;
mod init;
mod load;
mod reconcile;
mod review;
mod run;
mod sync;
mod templates;
mod transfer;
mod transform;
mod undo;
mod verify;

use crate::config::Config;
use crate::flows::Counts;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Done = 0,
    Rejects = 1,
    Failed = 2,
}

#[derive(Parser, Debug)]
#[command(
    name = "magsync",
    version,
    about = "Sync osCommerce 2.3.3 shops with a Magazyn warehouse database through reviewable, checksummed staging batches"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, default_value = "magsync.toml")]
    pub config: PathBuf,
    /// More log output on stderr (-v info, -vv debug, -vvv every Magazyn
    /// statement with its time).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run all flows on a built-in demo shop and an embedded Magazyn; leaves everything in DIR.
    Demo(demo::Args),
    /// Write a commented sample configuration and create an empty Magazyn database.
    Init(init::Args),
    /// Check the configuration, connections, each shop's schema, text encoding, engines and models.
    Check(check::Args),
    /// List the statuses, payment methods, delivery titles and tax classes a shop uses, as a value-map skeleton.
    Discover(discover::Args),
    /// Add (or with --drop remove) the opt-in shop indexes that make incremental orders extracts cheap.
    Index(index::Args),
    /// Read one side into an extracted batch in the outbox.
    Extract(extract::Args),
    /// Turn an extracted batch into a transformed batch.
    Transform(transform::Args),
    /// Apply a transformed batch to its target.
    Load(load::Args),
    /// Extract, transform and load in one go where both sides are reachable.
    Sync(sync::Args),
    /// Check a batch's integrity and every row against its schema; applies nothing.
    Verify(verify::Args),
    /// Restore the shop rows a products load changed, where nobody changed them since.
    Undo(undo::Args),
    /// The nightly job: the plan's steps under one lock, one report, one exit code.
    Run(run::Args),
    /// A batch in a spreadsheet: `review export`, `review import`.
    #[command(subcommand)]
    Review(review::Cmd),
    /// Compare a shop and the Magazyn as they are now; write nothing.
    Reconcile(reconcile::Args),
    /// The template profiles: `templates export DIR`.
    #[command(subcommand)]
    Templates(templates::Cmd),
    /// Write every unacknowledged batch for other sites onto the medium, one file per channel.
    Pack(transfer::PackArgs),
    /// Verify packed files completely and file their batches into the inbox.
    Unpack(transfer::UnpackArgs),
    /// Apply the inbox in sequence order (transform + load; receipts acknowledge).
    Inbox,
    /// Channels, sequences, pending and unacknowledged batches, watermarks.
    Status,
}

pub fn main() -> anyhow::Result<Exit> {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let cfg_path = cli.config.clone();
    match cli.command {
        Command::Demo(a) => rt.block_on(demo::run(a)),
        Command::Init(a) => rt.block_on(init::run(a)),
        Command::Check(a) => rt.block_on(check::run(&cfg_path, a)),
        Command::Discover(a) => rt.block_on(discover::run(&load_config(&cfg_path)?, a)),
        Command::Index(a) => rt.block_on(index::run(&load_config(&cfg_path)?, a)),
        Command::Extract(a) => rt.block_on(extract::run(&load_config(&cfg_path)?, a)),
        Command::Transform(a) => rt.block_on(transform::run(&load_config(&cfg_path)?, a)),
        Command::Undo(a) => rt.block_on(undo::run(&load_config(&cfg_path)?, a)),
        Command::Load(a) => rt.block_on(load::run(&load_config(&cfg_path)?, a)),
        Command::Sync(a) => rt.block_on(sync::run(&load_config(&cfg_path)?, a)),
        Command::Verify(a) => verify::run(&cfg_path, a),
        Command::Run(a) => rt.block_on(run::run(&load_config(&cfg_path)?, a)),
        Command::Templates(c) => templates::run(c),
        Command::Review(c) => review::run(&load_config(&cfg_path)?, c),
        Command::Reconcile(a) => rt.block_on(reconcile::run(&load_config(&cfg_path)?, a)),
        Command::Pack(a) => transfer::pack(&load_config(&cfg_path)?, a),
        Command::Unpack(a) => transfer::unpack(&load_config(&cfg_path)?, a),
        Command::Inbox => rt.block_on(transfer::inbox(&load_config(&cfg_path)?)),
        Command::Status => transfer::status(&load_config(&cfg_path)?),
    }
}

pub fn load_config(path: &std::path::Path) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

/// The exit code a step's counts deserve under the configured policy.
pub fn exit_for(cfg: &Config, c: &Counts) -> Exit {
    if c.rejected > 0 {
        if cfg.policy.rejects_fatal {
            Exit::Failed
        } else {
            Exit::Rejects
        }
    } else if c.warnings > 0 && cfg.policy.warnings_count {
        Exit::Rejects
    } else {
        Exit::Done
    }
}

/// One summary line for a step. Extracts and transforms only count
/// records; loads say what happened to them.
/// The warnings a step wrote into its batch (`data/warnings.csv`), the
/// first [`WARNINGS_SHOWN`] of them, so a person sees them without opening
/// the batch (a special hiding a price, a tax class without a rate, …).
pub fn print_warnings(batch: &crate::staging::Batch) {
    let path = batch.dir.join("data/warnings.csv");
    let Ok(mut r) = csv::Reader::from_path(&path) else {
        return;
    };
    let mut n = 0usize;
    for rec in r.records().flatten() {
        n += 1;
        if n <= WARNINGS_SHOWN {
            println!(
                "  warning {}: {} [{}]",
                rec.get(1).unwrap_or_default(),
                rec.get(4).unwrap_or_default(),
                rec.get(3).unwrap_or_default()
            );
        }
    }
    if n > WARNINGS_SHOWN {
        println!("  … and {} more in {}", n - WARNINGS_SHOWN, path.display());
    }
}

pub const WARNINGS_SHOWN: usize = 20;

pub fn summary(step: &str, c: &Counts) -> String {
    let written = c.inserted + c.updated + c.unchanged > 0 || step.contains("load");
    let mut s = format!("{step}: {} records", c.records);
    if written {
        s.push_str(&format!(
            ", {} inserted, {} updated, {} unchanged",
            c.inserted, c.updated, c.unchanged
        ));
    }
    s.push_str(&format!(
        ", {} rejected, {} warnings",
        c.rejected, c.warnings
    ));
    s
}
