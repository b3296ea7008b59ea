//! The nightly job: a plan's steps in order under one lock, one report.
//!
//! A step failing does not stop the steps after it (a shop that does not
//! answer must not keep the other shops from syncing); the run's exit code
//! is the worst step's. The lock is a file in the staging root holding the
//! holder's pid and start time; a lock whose process is gone is taken over.
//! Every run leaves `reports/<run>.json`, `report.html` (with the history
//! of the last 30 runs) and a log under `logs/`.

use crate::cli::Exit;
use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::flows::{self, Counts, Flow};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One step of a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Sync { shop: String, flow: Flow },
    Extract { shop: String, flow: Flow },
    Pack { dir: PathBuf },
    Unpack { dir: PathBuf },
    Inbox,
}

impl Step {
    pub fn parse(s: &str, cfg: &Config) -> std::result::Result<Step, String> {
        let w: Vec<&str> = s.split_whitespace().collect();
        let flow = |f: &str| {
            Flow::parse(f).ok_or_else(|| {
                format!("unknown flow `{f}` (customers, orders, products, prices, catalog)")
            })
        };
        let shop = |id: &str| {
            if cfg.shops.contains_key(id) {
                Ok(id.to_string())
            } else {
                Err(format!("no shop `{id}` in the configuration"))
            }
        };
        match w.as_slice() {
            ["sync", s, f] => Ok(Step::Sync { shop: shop(s)?, flow: flow(f)? }),
            ["extract", s, f] => Ok(Step::Extract { shop: shop(s)?, flow: flow(f)? }),
            ["pack", d] => Ok(Step::Pack { dir: PathBuf::from(d) }),
            ["unpack", d] => Ok(Step::Unpack { dir: PathBuf::from(d) }),
            ["inbox"] => Ok(Step::Inbox),
            _ => Err("expected `sync SHOP FLOW`, `extract SHOP FLOW`, `pack DIR`, `unpack DIR` or `inbox`".into()),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Step::Sync { shop, flow } => format!("sync {shop} {}", flow.as_str()),
            Step::Extract { shop, flow } => format!("extract {shop} {}", flow.as_str()),
            Step::Pack { dir } => format!("pack {}", dir.display()),
            Step::Unpack { dir } => format!("unpack {}", dir.display()),
            Step::Inbox => "inbox".into(),
        }
    }
}

/// The steps of a named plan, or the default: every shop both sides of
/// which this site reaches, its five flows in a sensible order.
pub fn plan(cfg: &Config, name: Option<&str>) -> Result<Vec<Step>> {
    if let Some(n) = name {
        let p = cfg.plans.get(n).ok_or_else(|| Error::Config {
            path: cfg.path.clone(),
            message: format!(
                "no plan `{n}` (plans: {})",
                cfg.plans.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })?;
        return p
            .steps
            .iter()
            .map(|s| Step::parse(s, cfg).map_err(|m| Error::Other(format!("plan {n}: `{s}`: {m}"))))
            .collect();
    }
    let magazyn = cfg.magazyn.as_ref().is_some_and(|m| m.url.is_some());
    let mut steps = Vec::new();
    for (id, shop) in &cfg.shops {
        if shop.url.is_none() || !magazyn {
            continue;
        }
        for flow in [
            Flow::Catalog,
            Flow::Customers,
            Flow::Orders,
            Flow::Prices,
            Flow::Products,
        ] {
            // Prices go to a list only a shop with import_price_list has.
            if flow == Flow::Prices && shop.import_price_list.is_empty() {
                continue;
            }
            steps.push(Step::Sync {
                shop: id.clone(),
                flow,
            });
        }
    }
    Ok(steps)
}

// ------------------------------------------------------------------- lock

#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true // cannot tell: never take over a possibly live lock
    }
}

/// Take the staging root's lock, or say who holds it. The lock file
/// appears with its content in one step (a hard link of a finished file),
/// so nobody ever reads a half-written lock.
pub fn lock(root: &Path) -> Result<Lock> {
    std::fs::create_dir_all(root).at(root)?;
    let path = root.join("magsync.lock");
    let me = format!(
        "{} {}\n",
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
    let tmp = root.join(format!(".magsync.lock.{}", std::process::id()));
    crate::staging::bag::write_synced(&tmp, me.as_bytes())?;
    let result = (|| {
        for _ in 0..2 {
            match std::fs::hard_link(&tmp, &path) {
                Ok(()) => return Ok(Lock { path: path.clone() }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let mut parts = text.split_whitespace();
                    let pid: Option<u32> = parts.next().and_then(|p| p.parse().ok());
                    let since = parts.next().unwrap_or("?").to_string();
                    match pid {
                        Some(pid) if !alive(pid) => {
                            tracing::warn!(
                                "taking over the lock of pid {pid} (started {since}), which is no longer running"
                            );
                            std::fs::remove_file(&path).at(&path)?;
                        }
                        Some(pid) => {
                            return Err(Error::Other(format!(
                                "another magsync run holds {} (pid {pid}, started {since}); not starting a second one",
                                path.display()
                            )));
                        }
                        None => {
                            return Err(Error::Other(format!(
                                "{} exists but names no process: if no magsync is running, remove it",
                                path.display()
                            )));
                        }
                    }
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::Other(format!(
            "cannot take the lock {}",
            path.display()
        )))
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

// ----------------------------------------------------------------- report

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepReport {
    pub step: String,
    pub shop: Option<String>,
    pub flow: Option<String>,
    /// `ok`, `rejects` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub extracted: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub warnings: u64,
    pub seconds: f64,
    pub batches: Vec<String>,
    /// (key, code, message) of rejected records, from transform and load.
    pub rejects: Vec<(String, String, String)>,
    /// Orders whose Magazyn total differs from the shop's.
    pub total_mismatches: Vec<(String, String)>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunReport {
    pub run_id: String,
    pub site: String,
    pub plan: String,
    pub started_at: String,
    pub finished_at: String,
    pub exit_code: u8,
    pub steps: Vec<StepReport>,
}

/// Rejects and warnings written into a batch (transform time).
fn batch_notes(b: &crate::staging::Batch, rep: &mut StepReport) {
    for f in &b.meta.files {
        let path = b.dir.join(&f.path);
        let Ok(mut r) = csv::Reader::from_path(&path) else {
            continue;
        };
        let headers = r.headers().cloned().unwrap_or_default();
        let col = |n: &str| headers.iter().position(|h| h == n);
        if f.entity == "reject_errors" {
            let (k, c, m) = (col("key"), col("code"), col("message"));
            for rec in r.records().flatten() {
                let g = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").to_string();
                rep.rejects.push((g(k), g(c), g(m)));
            }
        } else if f.entity == "warnings" {
            let (k, c, m) = (col("key"), col("code"), col("message"));
            for rec in r.records().flatten() {
                let g = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").to_string();
                if g(c) == "total_mismatch" {
                    rep.total_mismatches.push((g(k), g(m)));
                }
            }
        }
    }
}

fn add(rep: &mut StepReport, c: &Counts) {
    rep.inserted += c.inserted;
    rep.updated += c.updated;
    rep.unchanged += c.unchanged;
    rep.rejected += c.rejected;
    rep.warnings += c.warnings;
}

async fn run_step(cfg: &Config, step: &Step, rep: &mut StepReport) -> Result<()> {
    match step {
        Step::Sync { shop, flow } | Step::Extract { shop, flow } => {
            let x = flows::extract(cfg, *flow, shop, false).await?;
            rep.extracted = x.counts.records;
            rep.rejected += x.counts.rejected;
            rep.batches.push(x.batch.id().to_string());
            batch_notes(&x.batch, rep);
            if matches!(step, Step::Extract { .. }) {
                return Ok(());
            }
            let t = flows::transform(cfg, &x.batch).await?;
            rep.rejected += t.counts.rejected;
            rep.warnings += t.counts.warnings;
            // The products transform decides what is unchanged (it compares
            // with the live shop); its load only sees the changes.
            if *flow == Flow::Products {
                rep.unchanged += t.counts.unchanged;
            }
            rep.batches.push(t.batch.id().to_string());
            batch_notes(&t.batch, rep);
            let l = flows::load(cfg, &t.batch, false).await?;
            let rejected_before = rep.rejected;
            add(rep, &l.counts);
            rep.rejected = rejected_before + l.counts.rejected;
            rep.rejects.extend(l.rejects.iter().cloned());
            if let Some(r) = &l.receipt {
                rep.batches.push(r.id().to_string());
            }
        }
        Step::Pack { dir } => {
            for p in crate::transfer::pack::pack(cfg, &cfg.resolve(dir), None)? {
                rep.notes.push(format!(
                    "{}: {} batches",
                    p.file.display(),
                    p.manifest.batches.len()
                ));
            }
        }
        Step::Unpack { dir } => {
            let mut failed = Vec::new();
            for f in crate::transfer::unpack::files(&cfg.resolve(dir))? {
                match crate::transfer::unpack::unpack_file(cfg, &f) {
                    Ok(u) => rep
                        .notes
                        .push(format!("{}: {} filed", f.display(), u.filed.len())),
                    Err(e) => failed.push(e.to_string()),
                }
            }
            if !failed.is_empty() {
                return Err(Error::Other(failed.join("; ")));
            }
        }
        Step::Inbox => {
            let mut errors = Vec::new();
            for r in crate::transfer::inbox::run(cfg).await? {
                for (seq, id, what) in &r.applied {
                    rep.notes.push(format!("{} #{seq} {id}: {what}", r.channel));
                }
                if !r.waiting_for.is_empty() {
                    rep.notes
                        .push(format!("{}: waiting for {:?}", r.channel, r.waiting_for));
                    rep.warnings += 1;
                }
                if let Some(e) = r.error {
                    errors.push(e);
                }
            }
            if !errors.is_empty() {
                return Err(Error::Other(errors.join("; ")));
            }
        }
    }
    Ok(())
}

/// Run the steps; every step is tried, whatever the one before did.
pub async fn run(cfg: &Config, plan_name: Option<&str>, progress: bool) -> Result<RunReport> {
    let steps = plan(cfg, plan_name)?;
    let started = chrono::Utc::now();
    let mut report = RunReport {
        run_id: started
            .format("%Y%m%dt%H%M%S%.3fz")
            .to_string()
            .replace('.', ""),
        site: cfg.site.clone(),
        plan: plan_name.unwrap_or("default").to_string(),
        started_at: started.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ..RunReport::default()
    };
    let mut worst = Exit::Done;
    for step in &steps {
        let bar = progress.then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_message(step.name());
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        let t0 = Instant::now();
        let mut rep = StepReport {
            step: step.name(),
            ..StepReport::default()
        };
        if let Step::Sync { shop, flow } | Step::Extract { shop, flow } = step {
            rep.shop = Some(shop.clone());
            rep.flow = Some(flow.as_str().to_string());
        }
        tracing::info!(step = %rep.step, "step started");
        let result = run_step(cfg, step, &mut rep).await;
        rep.seconds = t0.elapsed().as_secs_f64();
        let exit = match &result {
            Err(e) => {
                rep.error = Some(e.to_string());
                tracing::error!(step = %rep.step, error = %e, "step failed");
                Exit::Failed
            }
            Ok(()) => {
                let c = Counts {
                    rejected: rep.rejected,
                    warnings: rep.warnings,
                    ..Counts::default()
                };
                crate::cli::exit_for(cfg, &c)
            }
        };
        rep.status = match exit {
            Exit::Done => "ok",
            Exit::Rejects => "rejects",
            Exit::Failed => "failed",
        }
        .into();
        tracing::info!(step = %rep.step, status = %rep.status, seconds = rep.seconds, "step finished");
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        worst = worst.max(exit);
        report.steps.push(rep);
    }
    report.exit_code = worst as u8;
    report.finished_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Ok(report)
}

/// The run as a text table (what cron mails).
pub fn text(r: &RunReport) -> String {
    let mut s = format!(
        "magsync run {} at site {} (plan {}), {} → {}\n",
        r.run_id, r.site, r.plan, r.started_at, r.finished_at
    );
    s.push_str(&format!(
        "{:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}  status\n",
        "step", "extracted", "inserted", "updated", "unchanged", "rejected", "warnings", "seconds"
    ));
    for st in &r.steps {
        s.push_str(&format!(
            "{:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8.1}  {}\n",
            st.step,
            st.extracted,
            st.inserted,
            st.updated,
            st.unchanged,
            st.rejected,
            st.warnings,
            st.seconds,
            st.status
        ));
        if let Some(e) = &st.error {
            s.push_str(&format!("    error: {e}\n"));
        }
        for (k, c, m) in st.rejects.iter().take(20) {
            s.push_str(&format!("    rejected {k}: {m} [{c}]\n"));
        }
        for (k, m) in st.total_mismatches.iter().take(20) {
            s.push_str(&format!("    total differs {k}: {m}\n"));
        }
    }
    s.push_str(&format!("exit code {}\n", r.exit_code));
    s
}

/// Write `reports/<run>.json` and `report.html`; prune old reports and logs.
pub fn write_reports(cfg: &Config, r: &RunReport) -> Result<PathBuf> {
    let root = cfg.staging_root();
    let dir = root.join("reports");
    std::fs::create_dir_all(&dir).at(&dir)?;
    let json = dir.join(format!("{}.json", r.run_id));
    let text = serde_json::to_string_pretty(r).map_err(|e| Error::Other(e.to_string()))?;
    crate::staging::bag::write_synced(&json, text.as_bytes())?;
    // History: the last 30 runs.
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .at(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    runs.sort();
    let history: Vec<RunReport> = runs
        .iter()
        .rev()
        .take(30)
        .rev()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| serde_json::from_str(&t).ok())
        .collect();
    let html = root.join("report.html");
    crate::staging::bag::write_synced(&html, crate::report::html(r, &history).as_bytes())?;
    prune(&dir, cfg.run.log_retention_days)?;
    prune(&root.join("logs"), cfg.run.log_retention_days)?;
    Ok(html)
}

fn prune(dir: &Path, days: u32) -> Result<()> {
    let keep = std::time::Duration::from_secs(u64::from(days) * 86_400);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|a| a > keep);
        if old && e.path().is_file() {
            std::fs::remove_file(e.path()).at(e.path())?;
        }
    }
    Ok(())
}
