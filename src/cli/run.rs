//! `magsync run [--plan NAME]`: the nightly job — the site lock held alone
//! (taken in `cli`), the plan's steps
//! in order, one report (text on stdout, JSON and HTML under the staging
//! root), a log file per run, one exit code (the worst step's).

use crate::base::Exit;
use crate::config::Config;
use std::io::IsTerminal;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A plan from the configuration (default: every shop's five flows).
    #[arg(long)]
    pub plan: Option<String>,
    /// The run log's format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let root = cfg.staging_root();
    // A log file per run, under the staging root.
    let logs = root.join("logs");
    std::fs::create_dir_all(&logs)?;
    let log_path = logs.join(format!("{}.log", crate::base::stamp()));
    let file = std::fs::File::create(&log_path)?;
    let writer = std::sync::Mutex::new(file);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO);
    let dispatch = match a.log_format {
        LogFormat::Json => tracing::Dispatch::new(subscriber.json().finish()),
        LogFormat::Text => tracing::Dispatch::new(subscriber.finish()),
    };
    let progress = std::io::stdout().is_terminal();
    let report = {
        let _guard = tracing::dispatcher::set_default(&dispatch);
        tracing::info!(site = %cfg.site, plan = a.plan.as_deref().unwrap_or("default"), "run started");
        let r = crate::run::run(cfg, a.plan.as_deref(), progress).await?;
        tracing::info!(exit_code = r.exit_code, "run finished");
        r
    };
    print!("{}", crate::report::text(&report));
    let html = crate::report::write_reports(cfg, &report)?;
    println!(
        "report: {} and {}",
        html.display(),
        root.join("reports")
            .join(format!("{}.json", report.run_id))
            .display()
    );
    println!("log: {}", log_path.display());
    Ok(report.exit())
}
