//! `magsync check [--shop ID]`: is this site ready? (`crate::check` does
//! the checking; this prints its lines.) Exit 0 all well, 1 warnings, 2
//! errors. Nothing is written.

use crate::base::Exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this shop.
    #[arg(long)]
    pub shop: Option<String>,
}

pub async fn run(cfg_path: &std::path::Path, a: Args) -> anyhow::Result<Exit> {
    Ok(crate::check::check(cfg_path, a.shop.as_deref(), &mut |line| println!("{line}")).await?)
}
