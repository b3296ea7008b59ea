//! What magsync tells a person, drawn in one place: the lines a command
//! prints (a step's counts, its warnings, what a load changed), a run's
//! report as the text table cron mails and as `report.html` — one
//! self-contained page a shop owner opens in a browser, with the run's
//! table, the rejects with their reasons, the orders whose totals differ
//! from the shop's, and an inline SVG chart of the last 30 runs (no script,
//! no external file; every value from the data is HTML-escaped).
//!
//! `run` fills a [`RunReport`]; this module only reads it, so the two are
//! not a circle.

use crate::base::Note;
use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::{Path, PathBuf};

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
    pub rejects: Vec<Note>,
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

impl RunReport {
    /// The run's exit code (the worst step's).
    pub fn exit(&self) -> crate::base::Exit {
        use crate::base::Exit;
        match self.exit_code {
            0 => Exit::Done,
            1 => Exit::Rejects,
            _ => Exit::Failed,
        }
    }
}

/// The run's table, defined once for both renderers: its headings and one
/// step's cells (the step, seven figures, the status).
const COLUMNS: [&str; 9] = [
    "step",
    "extracted",
    "inserted",
    "updated",
    "unchanged",
    "rejected",
    "warnings",
    "seconds",
    "status",
];

fn cells(st: &StepReport) -> [String; 9] {
    [
        st.step.clone(),
        st.extracted.to_string(),
        st.inserted.to_string(),
        st.updated.to_string(),
        st.unchanged.to_string(),
        st.rejected.to_string(),
        st.warnings.to_string(),
        format!("{:.1}", st.seconds),
        st.status.clone(),
    ]
}

/// One line of the text table: the step left-aligned, the figures right.
fn text_row(s: &mut String, c: &[impl AsRef<str>]) {
    for (i, c) in c.iter().enumerate() {
        let c = c.as_ref();
        let _ = match i {
            0 => write!(s, "{c:<28}"),
            7 => write!(s, " {c:>8}"),
            8 => write!(s, "  {c}"),
            _ => write!(s, " {c:>9}"),
        };
    }
    s.push('\n');
}

/// The run as a text table (what cron mails).
pub fn text(r: &RunReport) -> String {
    let mut s = format!(
        "magsync run {} at site {} (plan {}), {} → {}\n",
        r.run_id, r.site, r.plan, r.started_at, r.finished_at
    );
    text_row(&mut s, &COLUMNS);
    for st in &r.steps {
        text_row(&mut s, &cells(st));
        if let Some(e) = &st.error {
            s.push_str(&format!("    error: {e}\n"));
        }
        for Note {
            key: k,
            code: c,
            message: m,
        } in st.rejects.iter().take(20)
        {
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
    let text = serde_json::to_string_pretty(r).map_err(|e| Error::io(&json, e.into()))?;
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
    let page = root.join("report.html");
    crate::staging::bag::write_synced(&page, html(r, &history).as_bytes())?;
    prune(&dir, cfg.run.log_retention_days)?;
    prune(&root.join("logs"), cfg.run.log_retention_days)?;
    Ok(page)
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

// ------------------------------------------------------- a command's lines

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

/// Print what a load did (shared with `sync`).
pub fn print_load(
    policy: &crate::base::Policy,
    flow: crate::base::Flow,
    batch: &crate::staging::Batch,
    loaded: &crate::flows::load::LoadOutcome,
    dry_run: bool,
) -> crate::base::Exit {
    if let Some(at) = &loaded.already_applied {
        println!(
            "{} load: batch {} was already applied at {at}; nothing changed",
            flow.as_str(),
            batch.id()
        );
        return crate::base::Exit::Done;
    }
    if dry_run {
        println!("dry run: nothing was written. Changes a load would make:");
        for c in &loaded.changes {
            match c {
                crate::flows::load::Change::Insert { key, what } => {
                    println!("  insert {key}: {what}")
                }
                crate::flows::load::Change::Update { key, fields } => {
                    println!("  update {key}:");
                    for (f, old, new) in fields {
                        println!("      {f}: {old:?} -> {new:?}");
                    }
                }
            }
        }
        if loaded.changes_not_kept > 0 {
            println!("  … and {} more", loaded.changes_not_kept);
        }
    }
    for Note {
        key,
        code,
        message: msg,
    } in &loaded.rejects
    {
        println!("  rejected {key}: {msg} [{code}]");
    }
    for Note {
        key,
        code,
        message: msg,
    } in &loaded.warnings
    {
        println!("  warning {key}: {msg} [{code}]");
    }
    let step = if dry_run { "load (dry run)" } else { "load" };
    println!(
        "{}",
        loaded.counts.summary(&format!("{} {step}", flow.as_str()))
    );
    if let Some(r) = &loaded.receipt {
        println!("receipt: {}", r.dir.display());
    }
    loaded.counts.exit(policy)
}

/// Write a reconciliation as `reports/reconcile-<shop>-<when>.json` and
/// `.html`; returns `…/reconcile-<shop>-<when>.json|html` for the message.
pub fn write_reconciliation(cfg: &Config, r: &crate::reconcile::Reconciliation) -> Result<PathBuf> {
    let dir = cfg.site().reports();
    std::fs::create_dir_all(&dir).at(&dir)?;
    let stem = format!("reconcile-{}-{}", r.shop, crate::base::stamp());
    let json = dir.join(format!("{stem}.json"));
    let text = serde_json::to_string_pretty(r).map_err(|e| Error::io(&json, e.into()))?;
    crate::staging::bag::write_synced(&json, text.as_bytes())?;
    let mut html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{t}</title><style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px 8px}}table{{border-collapse:collapse}}</style></head><body><h1>Shop {s} and the Magazyn, {at}</h1><table>",
        t = esc(&stem),
        s = esc(&r.shop),
        at = esc(&r.at)
    );
    for (what, n) in &r.lines() {
        html.push_str(&format!("<tr><td>{}</td><td>{n}</td></tr>", esc(what)));
    }
    html.push_str("</table><h2>Differences</h2><table><tr><th>model</th><th>name</th><th>shop → Magazyn</th></tr>");
    for (m, name, what) in &r.differing {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(m),
            esc(name),
            esc(what)
        ));
    }
    html.push_str("</table></body></html>\n");
    let page = dir.join(format!("{stem}.html"));
    crate::staging::bag::write_synced(&page, html.as_bytes())?;
    Ok(dir.join(format!("{stem}.json|html")))
}

// ------------------------------------------------------------ report.html

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const FLOWS: &[(&str, &str)] = &[
    ("catalog", "#6a4c93"),
    ("customers", "#1982c4"),
    ("orders", "#2a9d8f"),
    ("prices", "#e9c46a"),
    ("products", "#f4a261"),
];

/// Records per flow (lines) and rejects (red bars) over the runs.
fn chart(history: &[RunReport]) -> String {
    let (w, h, pad) = (720.0, 220.0, 36.0);
    let n = history.len().max(1);
    let per_flow = |r: &RunReport, flow: &str| -> u64 {
        r.steps
            .iter()
            .filter(|s| s.flow.as_deref() == Some(flow))
            .map(|s| s.extracted)
            .sum()
    };
    let rejects = |r: &RunReport| -> u64 { r.steps.iter().map(|s| s.rejected).sum() };
    let max = history
        .iter()
        .flat_map(|r| {
            FLOWS
                .iter()
                .map(move |(f, _)| per_flow(r, f))
                .chain([rejects(r)])
        })
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = |i: usize| {
        pad + (w - 2.0 * pad)
            * if n == 1 {
                0.5
            } else {
                i as f64 / (n - 1) as f64
            }
    };
    let y = |v: u64| h - pad - (h - 2.0 * pad) * v as f64 / max;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="records and rejects of the last {n} runs">"##
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/>"##
    );
    let _ = write!(
        s,
        r##"<line x1="{pad}" y1="{}" x2="{}" y2="{}" stroke="#888"/>"##,
        h - pad,
        w - pad,
        h - pad
    );
    let _ = write!(
        s,
        r##"<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{}" stroke="#888"/>"##,
        h - pad
    );
    let _ = write!(
        s,
        r##"<text x="4" y="{}" font-size="10">{}</text><text x="4" y="{}" font-size="10">0</text>"##,
        pad + 4.0,
        max as u64,
        h - pad
    );
    for (i, r) in history.iter().enumerate() {
        let v = rejects(r);
        if v > 0 {
            let _ = write!(
                s,
                r##"<rect x="{}" y="{}" width="6" height="{}" fill="#d62828"><title>{} rejects</title></rect>"##,
                x(i) - 3.0,
                y(v),
                h - pad - y(v),
                v
            );
        }
    }
    for (k, (flow, color)) in FLOWS.iter().enumerate() {
        let pts: Vec<String> = history
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{:.1},{:.1}", x(i), y(per_flow(r, flow))))
            .collect();
        let _ = write!(
            s,
            r##"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"##,
            pts.join(" ")
        );
        let _ = write!(
            s,
            r##"<rect x="{}" y="6" width="10" height="10" fill="{color}"/><text x="{}" y="15" font-size="11">{flow}</text>"##,
            pad + 90.0 * k as f64,
            pad + 90.0 * k as f64 + 14.0
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{}" y="6" width="10" height="10" fill="#d62828"/><text x="{}" y="15" font-size="11">rejects</text>"##,
        pad + 450.0,
        pad + 464.0
    );
    s.push_str("</svg>");
    s
}

pub fn html(r: &RunReport, history: &[RunReport]) -> String {
    let mut s = String::new();
    let status = match r.exit_code {
        0 => ("done", "#2a9d8f"),
        1 => ("done with rejects or warnings", "#e9c46a"),
        _ => ("failed", "#d62828"),
    };
    let _ = write!(
        s,
        r##"<!DOCTYPE html><html lang="pl"><head><meta charset="utf-8"><title>magsync {run}</title>
<style>body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child,th:first-child,td.l{{text-align:left}}.st{{padding:2px 8px;color:#fff;border-radius:3px}}</style></head><body>
<h1>magsync — site {site}</h1>
<p>Run {run}, plan {plan}, {start} → {end}: <span class="st" style="background:{color}">{label}</span></p>
<h2>This run</h2><table><tr>"##,
        run = esc(&r.run_id),
        site = esc(&r.site),
        plan = esc(&r.plan),
        start = esc(&r.started_at),
        end = esc(&r.finished_at),
        color = status.1,
        label = status.0
    );
    for h in COLUMNS {
        let _ = write!(s, "<th>{h}</th>");
    }
    s.push_str("</tr>");
    for st in &r.steps {
        let mut c = cells(st);
        if let Some(e) = &st.error {
            c[8] = format!("{}: {e}", st.status);
        }
        s.push_str("<tr>");
        for (i, c) in c.iter().enumerate() {
            let class = if i == 8 { " class=\"l\"" } else { "" };
            let _ = write!(s, "<td{class}>{}</td>", esc(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table><h2>Rejected records</h2>");
    let rejects: Vec<_> = r
        .steps
        .iter()
        .flat_map(|st| st.rejects.iter().map(move |x| (&st.step, x)))
        .collect();
    if rejects.is_empty() {
        s.push_str("<p>None.</p>");
    } else {
        s.push_str("<table><tr><th>step</th><th>record</th><th>reason</th><th>code</th></tr>");
        for (
            step,
            Note {
                key: k,
                code: c,
                message: m,
            },
        ) in rejects
        {
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                esc(step),
                esc(k),
                esc(m),
                esc(c)
            );
        }
        s.push_str("</table>");
    }
    s.push_str("<h2>Orders whose totals differ from the shop</h2>");
    let mism: Vec<_> = r
        .steps
        .iter()
        .flat_map(|st| st.total_mismatches.iter())
        .collect();
    if mism.is_empty() {
        s.push_str(
            "<p>None: every order's gross total is within the tolerance of the shop's total.</p>",
        );
    } else {
        s.push_str("<table><tr><th>order</th><th>difference</th></tr>");
        for (k, m) in mism {
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"l\">{}</td></tr>",
                esc(k),
                esc(m)
            );
        }
        s.push_str("</table>");
    }
    let _ = write!(
        s,
        "<h2>The last {} runs</h2>{}",
        history.len(),
        chart(history)
    );
    s.push_str("<p><small>Records read per flow (lines) and records rejected (red bars) per run.</small></p></body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_from_the_data() {
        let r = RunReport {
            run_id: "r1".into(),
            exit_code: 1,
            steps: vec![StepReport {
                step: "sync s1 customers".into(),
                flow: Some("customers".into()),
                extracted: 3,
                rejects: vec![Note::new(
                    "s1/7".into(),
                    "ambiguous_name".into(),
                    "<script>alert(1)</script>".into(),
                )],
                ..Default::default()
            }],
            ..Default::default()
        };
        let h = html(&r, std::slice::from_ref(&r));
        assert!(!h.contains("<script>"));
        assert!(h.contains("&lt;script&gt;"));
        assert!(h.contains("<svg") && h.contains("polyline"));
    }
}
