//! `report.html`: one self-contained page a shop owner opens in a browser —
//! the run's table, the rejects with their reasons, the orders whose totals
//! differ from the shop's, and an inline SVG chart of the last 30 runs. No
//! script, no external file; every value from the data is HTML-escaped.

use crate::run::RunReport;
use std::fmt::Write;

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
<h2>This run</h2><table><tr><th>step</th><th>extracted</th><th>inserted</th><th>updated</th><th>unchanged</th><th>rejected</th><th>warnings</th><th>seconds</th><th>status</th></tr>"##,
        run = esc(&r.run_id),
        site = esc(&r.site),
        plan = esc(&r.plan),
        start = esc(&r.started_at),
        end = esc(&r.finished_at),
        color = status.1,
        label = status.0
    );
    for st in &r.steps {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td class=\"l\">{}</td></tr>",
            esc(&st.step),
            st.extracted,
            st.inserted,
            st.updated,
            st.unchanged,
            st.rejected,
            st.warnings,
            st.seconds,
            esc(&match &st.error {
                Some(e) => format!("{}: {e}", st.status),
                None => st.status.clone(),
            })
        );
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
        for (step, (k, c, m)) in rejects {
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
    use crate::run::StepReport;

    #[test]
    fn escapes_everything_from_the_data() {
        let r = RunReport {
            run_id: "r1".into(),
            exit_code: 1,
            steps: vec![StepReport {
                step: "sync s1 customers".into(),
                flow: Some("customers".into()),
                extracted: 3,
                rejects: vec![(
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
