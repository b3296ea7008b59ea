//! The nightly job: a plan's steps in order under the site lock (held
//! alone: see `staging::site`), one report.
//!
//! A step failing does not stop the steps after it (a shop that does not
//! answer must not keep the other shops from syncing); the run's exit code
//! is the worst step's. Every run leaves `reports/<run>.json`, `report.html` (with the history
//! of the last 30 runs) and a log under `logs/`.

use crate::base::{Exit, Note};
use crate::config::{Config, Step};
use crate::error::{Error, Result};
use crate::flows::{self, Counts, Flow};
use crate::report::{RunReport, StepReport};
use std::time::Instant;

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
        return Ok(p.steps.clone());
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
                rep.rejects.push(Note::new(g(k), g(c), g(m)));
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

async fn run_step(cfg: &Config, step: &Step, full: bool, rep: &mut StepReport) -> Result<()> {
    match step {
        Step::Sync { shop, flow } | Step::Extract { shop, flow } => {
            let x = flows::extract(cfg, *flow, shop, full).await?;
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
                return Err(Error::Several(failed));
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
                return Err(Error::Several(errors));
            }
        }
    }
    Ok(())
}

/// Run the steps; every step is tried, whatever the one before did.
pub async fn run(cfg: &Config, plan_name: Option<&str>, progress: bool) -> Result<RunReport> {
    let steps = plan(cfg, plan_name)?;
    Ok(run_steps(cfg, plan_name.unwrap_or("default"), &steps, false, progress).await)
}

/// Run `steps` (with `full`, every extract re-reads everything) and
/// report; the loop `run` and the demo share.
pub async fn run_steps(
    cfg: &Config,
    plan_name: &str,
    steps: &[Step],
    full: bool,
    progress: bool,
) -> RunReport {
    let started = chrono::Utc::now();
    let mut report = RunReport {
        run_id: started
            .format("%Y%m%dt%H%M%S%.3fz")
            .to_string()
            .replace('.', ""),
        site: cfg.site.clone(),
        plan: plan_name.to_string(),
        started_at: started.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ..RunReport::default()
    };
    let mut worst = Exit::Done;
    for step in steps {
        let bar = progress.then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_message(step.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        let t0 = Instant::now();
        let mut rep = StepReport {
            step: step.to_string(),
            ..StepReport::default()
        };
        if let Some((shop, flow)) = step.shop() {
            rep.shop = Some(shop.to_string());
            rep.flow = Some(flow.as_str().to_string());
        }
        tracing::info!(step = %rep.step, "step started");
        let result = run_step(cfg, step, full, &mut rep).await;
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
                c.exit(&cfg.policy)
            }
        };
        rep.status = exit.as_str().into();
        tracing::info!(step = %rep.step, status = %rep.status, seconds = rep.seconds, "step finished");
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        worst = worst.max(exit);
        report.steps.push(rep);
    }
    report.exit_code = worst as u8;
    report.finished_at = crate::base::now_utc();
    report
}
