//! `review export BATCH -o FILE.xlsx`: one sheet per entity, the header row
//! frozen and filtered, each column typed from the entity schema, an info
//! sheet; no formula anywhere.

use super::{entities_of, records, sheet_name};
use crate::error::{Error, Result};
use crate::staging::Batch;
use crate::staging::schema::{ColType, parse_datetime};
use rust_xlsxwriter::{Format, Workbook};
use std::path::Path;

const MAX_ROWS: usize = 1_048_575;

fn xerr(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::Other(format!("writing the workbook: {e}"))
}

pub fn export(batch: &Batch, out: &Path) -> Result<Vec<(String, usize)>> {
    let mut wb = Workbook::new();
    let text = Format::new().set_num_format("@");
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let int = Format::new().set_num_format("0");
    let mut counts = Vec::new();
    for e in entities_of(batch) {
        let rows = records(batch, e)?;
        if rows.len() > MAX_ROWS {
            return Err(Error::batch(
                batch.id(),
                format!(
                    "{} has {} rows, more than a worksheet holds",
                    e.name,
                    rows.len()
                ),
            ));
        }
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(e)).map_err(xerr)?;
        for (c, col) in e.columns.iter().enumerate() {
            let c = c as u16;
            ws.write_string_with_format(0, c, col.name, &bold)
                .map_err(xerr)?;
            ws.set_column_width(c, (col.name.len().max(10) + 2) as f64)
                .map_err(xerr)?;
        }
        let decimal = |places: u32| {
            Format::new().set_num_format(format!("0.{}", "0".repeat(places.max(2) as usize)))
        };
        for (r, rec) in rows.iter().enumerate() {
            let row = (r + 1) as u32;
            for (c, (col, v)) in e.columns.iter().zip(rec).enumerate() {
                let c = c as u16;
                if v.is_empty() {
                    continue;
                }
                // Numbers and dates as such; everything else a text cell
                // (never a formula, whatever it starts with).
                let written = match col.ty {
                    ColType::Decimal(p) => v
                        .parse::<f64>()
                        .ok()
                        .map(|n| ws.write_number_with_format(row, c, n, &decimal(p))),
                    ColType::Int | ColType::Bool => v
                        .parse::<f64>()
                        .ok()
                        .map(|n| ws.write_number_with_format(row, c, n, &int)),
                    ColType::DateTime => {
                        parse_datetime(v).map(|t| ws.write_datetime_with_format(row, c, t, &date))
                    }
                    ColType::Text | ColType::Code => None,
                };
                match written {
                    Some(res) => {
                        res.map_err(xerr)?;
                    }
                    None => {
                        ws.write_string_with_format(row, c, v, &text)
                            .map_err(xerr)?;
                    }
                }
            }
        }
        ws.set_freeze_panes(1, 0).map_err(xerr)?;
        let last_col = e.columns.len().saturating_sub(1) as u16;
        ws.autofilter(0, 0, rows.len() as u32, last_col)
            .map_err(xerr)?;
        counts.push((e.name.to_string(), rows.len()));
    }
    // The info sheet: what this workbook is, so an import can check it.
    let ws = wb.add_worksheet();
    ws.set_name("magsync").map_err(xerr)?;
    let m = &batch.meta;
    let mut info = vec![
        ("batch", m.batch_id.clone()),
        ("flow", m.flow.clone()),
        ("stage", m.stage.as_str().to_string()),
        ("shop", m.source.shop.clone()),
        ("created_at", m.created_at.clone()),
        ("tagmanifest_sha256", batch.tag_sha256.clone()),
    ];
    for (e, n) in &counts {
        info.push(("rows", format!("{e}: {n}")));
    }
    info.push(("note", "Edit values only; keep the header row, the sheet names and the rows. Import with: magsync review import BATCH FILE".into()));
    for (r, (k, v)) in info.iter().enumerate() {
        ws.write_string_with_format(r as u32, 0, *k, &bold)
            .map_err(xerr)?;
        ws.write_string_with_format(r as u32, 1, v, &text)
            .map_err(xerr)?;
    }
    ws.set_column_width(0, 20).map_err(xerr)?;
    ws.set_column_width(1, 80).map_err(xerr)?;
    wb.save(out)
        .map_err(|e| Error::Other(format!("{}: {e}", out.display())))?;
    Ok(counts)
}
