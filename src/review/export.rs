//! `review export BATCH -o FILE.xlsx`: one sheet per entity, the header row
//! frozen and filtered, each column typed from the entity schema, an info
//! sheet; no formula anywhere.

use super::{CELL_LIMIT, entities_of, exact_number, omitted, records, sheet_name};
use crate::error::{Error, Result};
use crate::staging::Batch;
use crate::staging::schema::{ColType, parse_datetime};
use rust_xlsxwriter::{Format, Workbook};
use std::path::Path;

const MAX_ROWS: usize = 1_048_575;

/// An error of the workbook writer, at a sheet of the file being written.
fn xerr(out: &Path, place: &str, e: rust_xlsxwriter::XlsxError) -> Error {
    Error::Review {
        file: out.display().to_string(),
        place: place.to_string(),
        message: format!("writing the workbook: {e}"),
    }
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
        let place = format!("sheet {}", sheet_name(e));
        let xerr = |x| xerr(out, &place, x);
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(e)).map_err(xerr)?;
        // The columns the flow uses, in order (the rest stay in the batch).
        let skip = omitted(batch, e);
        let cols: Vec<(usize, &crate::staging::schema::Column)> = e
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| !skip.contains(&c.name))
            .collect();
        for (c, (_, col)) in cols.iter().enumerate() {
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
            for (c, (i, col)) in cols.iter().enumerate() {
                let (c, v) = (c as u16, &rec[*i]);
                if v.is_empty() {
                    continue;
                }
                if v.chars().count() > CELL_LIMIT {
                    return Err(Error::batch(
                        batch.id(),
                        format!(
                            "{} {}, {}: {} characters, more than a spreadsheet cell holds ({CELL_LIMIT}); nothing is cut: review this batch's {} file as it is, or shorten the text at its source",
                            e.name,
                            e.key_of(rec),
                            col.name,
                            v.chars().count(),
                            e.file
                        ),
                    ));
                }
                // Numbers and dates as such; everything else a text cell
                // (never a formula, whatever it starts with). An amount a
                // spreadsheet number cannot hold exactly stays text, with a
                // note saying why.
                let written = match col.ty {
                    ColType::Decimal(p) => match exact_number(v) {
                        Some(n) => Some(ws.write_number_with_format(row, c, n, &decimal(p))),
                        None => {
                            let note = rust_xlsxwriter::Note::new(format!(
                                "{v} has more digits than a spreadsheet number holds: kept as text so it comes back exactly"
                            ));
                            ws.insert_note(row, c, &note).map_err(xerr)?;
                            None
                        }
                    },
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
        let last_col = cols.len().saturating_sub(1) as u16;
        ws.autofilter(0, 0, rows.len() as u32, last_col)
            .map_err(xerr)?;
        counts.push((e.name.to_string(), rows.len()));
    }
    // The info sheet: what this workbook is, so an import can check it.
    let xerr = |x| xerr(out, "sheet magsync", x);
    let ws = wb.add_worksheet();
    ws.set_name("magsync").map_err(xerr)?;
    let m = &batch.meta;
    let mut info = vec![
        ("batch", m.batch_id.clone()),
        ("flow", m.flow.as_str().to_string()),
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
    wb.save(out).map_err(|e| Error::Review {
        file: out.display().to_string(),
        place: String::new(),
        message: e.to_string(),
    })?;
    Ok(counts)
}
