//! `magsync templates export DIR`: the built-in template profiles copied
//! out for editing; `templates = "DIR"` in the configuration then makes
//! magsync use them (a template missing there falls back to the built-in
//! one, with a warning).

use crate::base::Exit;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Copy the built-in profiles (SQL, fixtures, XSDs) to DIR.
    Export {
        dir: PathBuf,
        /// Overwrite files already there.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(cmd: Cmd) -> anyhow::Result<Exit> {
    match cmd {
        Cmd::Export { dir, force } => {
            if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() && !force {
                anyhow::bail!("{} is not empty (use --force to overwrite)", dir.display());
            }
            let n = crate::templates::Templates::export_builtin(&dir)?;
            println!("{n} template files written to {}", dir.display());
            println!(
                "use them with `templates = \"{}\"` at the top of magsync.toml",
                dir.display()
            );
            Ok(Exit::Done)
        }
    }
}
