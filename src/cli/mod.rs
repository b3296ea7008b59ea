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
use crate::staging::Hold;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub use crate::base::Exit;

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
    // Every command that writes under the staging root holds the site lock
    // for as long as it runs (see `staging::site`).
    let hold = match &cli.command {
        Command::Run(_)
        | Command::Pack(_)
        | Command::Unpack(_)
        | Command::Inbox
        | Command::Undo(_) => Some(Hold::Alone),
        Command::Extract(_)
        | Command::Transform(_)
        | Command::Load(_)
        | Command::Sync(_)
        | Command::Reconcile(_)
        | Command::Review(review::Cmd::Import { .. }) => Some(Hold::Shared),
        _ => None,
    };
    let _lock = match hold {
        Some(hold) => {
            let command: Vec<String> = std::env::args().collect();
            let command = format!("magsync {}", command[1..].join(" "));
            Some(load_config(&cfg_path)?.site().lock(hold, &command)?)
        }
        None => None,
    };
    match cli.command {
        Command::Demo(a) => rt.block_on(demo::run(a)),
        Command::Init(a) => init::run(a),
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
