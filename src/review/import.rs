//! `review import BATCH FILE`: a reviewed workbook (`.xlsx`, `.ods`) or CSV
//! (also as Polish Excel saves it: `;`, decimal comma, Windows-1250) back
//! into a new batch — parent = BATCH, marked edited — with every changed cell
//! listed. Cells are compared with the original by value, so a workbook that
//! was only opened and saved again changes nothing.

use super::{entities_of, records, sheet_name};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::staging::entities::REVIEW_CHANGES;
use crate::staging::group::GroupWriter;
use crate::staging::schema::{ColType, Column, format_datetime, parse_datetime};
use crate::staging::{Batch, BatchMeta, BatchWriter, Entity, Record};
use calamine::{Data, Reader};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

/// One changed cell: (entity, key, column, old, new).
/// One cell a person changed: which record of which entity, the column,
/// the value before and after; the edited batch keeps them as its
/// `review_changes` records.
pub type CellChange = crate::staging::entities::ReviewChange;

pub struct Imported {
    pub changes: Vec<CellChange>,
    /// The new batch (none when nothing changed).
    pub batch: Option<Batch>,
    /// What was read: `xlsx`, or the CSV dialect detected.
    pub detected: String,
}

/// A cell as a spreadsheet gives it.
#[derive(Debug, Clone)]
enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(chrono::NaiveDateTime),
    Bool(bool),
    Formula(String),
    Error(String),
}

fn col_letters(mut c: usize) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (c % 26) as u8) as char);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s
}

/// The canonical staging text of a cell, given the original value.
fn canonical(
    col: &Column,
    cell: &Cell,
    orig: &str,
    decimal_comma: bool,
) -> std::result::Result<String, String> {
    // The shortest decimal that is this double: the digits that were
    // written (81300812.9919, not 81300812.991899997), never an exponent.
    let num_text = |n: f64| -> String {
        match format!("{n}") {
            s if s == "-0" => "0".into(),
            s => s,
        }
    };
    match cell {
        Cell::Formula(f) => Err(format!(
            "a formula ({}) where a value belongs: type the value",
            if f.starts_with('=') {
                f.clone()
            } else {
                format!("={f}")
            }
        )),
        Cell::Error(e) => Err(format!("the cell holds the error {e}")),
        Cell::Empty => Ok(String::new()),
        Cell::Bool(b) => match col.ty {
            ColType::Bool => Ok(if *b { "1" } else { "0" }.into()),
            _ => Err("TRUE/FALSE where a value belongs".into()),
        },
        Cell::Date(t) => match col.ty {
            ColType::DateTime => {
                Ok(format_datetime(t) + if orig.ends_with('Z') { "Z" } else { "" })
            }
            _ => Err(format!(
                "a date where {} belongs (a spreadsheet turned `{orig}` into a date): format the cell as text",
                col.ty.describe()
            )),
        },
        Cell::Number(n) => match col.ty {
            ColType::Text | ColType::Code => {
                let t = num_text(*n);
                if t == orig {
                    Ok(orig.to_string())
                } else if !orig.is_empty()
                    && orig.starts_with('0')
                    && orig.trim_start_matches('0') == t
                {
                    Err(format!(
                        "the code `{orig}` lost its leading zeros (the cell holds the number {t}): format the cell as text and type `{orig}`"
                    ))
                } else {
                    Err(format!(
                        "a number ({t}) where text belongs: format the cell as text so a code keeps every character"
                    ))
                }
            }
            ColType::Int | ColType::Bool => {
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    Ok(format!("{}", *n as i64))
                } else {
                    Err(format!("{n} is not a whole number"))
                }
            }
            ColType::Decimal(p) => {
                let d = Decimal::from_str(&num_text(*n)).map_err(|e| format!("{n}: {e}"))?;
                let r = d.round_dp(p);
                if (d - r).abs() > Decimal::new(1, 9) {
                    return Err(format!("{d} has more than {p} decimal places"));
                }
                Ok(r.normalize().to_string())
            }
            ColType::DateTime => Err("a number where a date belongs".into()),
        },
        Cell::Text(s) => match col.ty {
            ColType::Text => Ok(s.clone()),
            ColType::Code => {
                if s != orig
                    && !orig.is_empty()
                    && orig.starts_with('0')
                    && orig.trim_start_matches('0') == s
                {
                    return Err(format!(
                        "the code `{orig}` lost its leading zeros (now `{s}`)"
                    ));
                }
                let t = s.to_ascii_uppercase();
                if s != orig
                    && (t.contains("E+") || t.contains("E-"))
                    && t.replace(['E', '+', '-', ',', '.'], "")
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                {
                    return Err(format!(
                        "`{s}` is a number in exponent notation where the original was the text `{orig}`"
                    ));
                }
                Ok(s.clone())
            }
            ColType::Decimal(_) => {
                let t = s.trim();
                Ok(if decimal_comma || (t.contains(',') && !t.contains('.')) {
                    t.replace(',', ".")
                } else {
                    t.to_string()
                })
            }
            ColType::DateTime => {
                let t = s.trim();
                if parse_datetime(t).is_some() {
                    return Ok(t.to_string());
                }
                for f in [
                    "%Y-%m-%d %H:%M:%S",
                    "%Y-%m-%d %H:%M",
                    "%d.%m.%Y %H:%M:%S",
                    "%d.%m.%Y %H:%M",
                ] {
                    if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(t, f) {
                        return Ok(
                            format_datetime(&dt) + if orig.ends_with('Z') { "Z" } else { "" }
                        );
                    }
                }
                Ok(t.to_string()) // validation names it
            }
            ColType::Int | ColType::Bool => Ok(s.trim().to_string()),
        },
    }
}

/// Do two canonical values mean the same? Text that differs only in its
/// line breaks (a spreadsheet saves CR and CRLF as LF) is the same.
fn same(col: &Column, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match col.ty {
        ColType::Text | ColType::Code => super::lf(a) == super::lf(b),
        ColType::Decimal(_) => {
            matches!((Decimal::from_str(a), Decimal::from_str(b)), (Ok(x), Ok(y)) if x == y)
        }
        ColType::DateTime => {
            matches!((parse_datetime(a), parse_datetime(b)), (Some(x), Some(y)) if x == y)
        }
        _ => false,
    }
}

/// An error in the reviewed `file`, at `place` (empty: the file as a whole).
fn review(file: impl Into<String>, place: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Review {
        file: file.into(),
        place: place.into(),
        message: message.into(),
    }
}

/// The rows of one sheet: header names and cells, with 1-based row numbers.
struct Sheet {
    name: String,
    header: Vec<String>,
    rows: Vec<(usize, Vec<Cell>)>,
    decimal_comma: bool,
}

fn read_workbook(file: &Path, ents: &[&'static Entity]) -> Result<Vec<(&'static Entity, Sheet)>> {
    let name = file.display().to_string();
    let mut wb = calamine::open_workbook_auto(file)
        .map_err(|e| review(&name, "", format!("not a readable workbook: {e}")))?;
    let mut out = Vec::new();
    for e in ents {
        let sn = sheet_name(e);
        let range = wb.worksheet_range(&sn).map_err(|err| {
            review(
                &name,
                format!("sheet {sn}"),
                format!(
                    "the sheet is missing or unreadable ({err}): keep the sheets the export wrote"
                ),
            )
        })?;
        let formulas = wb.worksheet_formula(&sn).ok();
        let mut rows_iter = range.rows();
        let header: Vec<String> = rows_iter
            .next()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .unwrap_or_default();
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut rows = Vec::new();
        for (i, r) in rows_iter.enumerate() {
            let abs_row = r0 as usize + i + 1;
            let cells: Vec<Cell> = r
                .iter()
                .enumerate()
                .map(|(j, d)| {
                    let abs_col = c0 as usize + j;
                    if let Some(f) = formulas
                        .as_ref()
                        .and_then(|fr| fr.get_value((abs_row as u32, abs_col as u32)))
                        .filter(|f| !f.is_empty())
                    {
                        return Cell::Formula(f.clone());
                    }
                    match d {
                        Data::Empty => Cell::Empty,
                        Data::String(s) => Cell::Text(s.clone()),
                        Data::Float(f) => Cell::Number(*f),
                        Data::Int(i) => Cell::Number(*i as f64),
                        Data::Bool(b) => Cell::Bool(*b),
                        Data::DateTime(dt) => dt
                            .as_datetime()
                            .map_or(Cell::Number(dt.as_f64()), Cell::Date),
                        // ods keeps dates as ISO text; a date-time at
                        // midnight LibreOffice saves as the date alone.
                        Data::DateTimeIso(s) => {
                            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                                .or_else(|_| {
                                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                                        .map(|d| d.and_time(chrono::NaiveTime::MIN))
                                })
                                .map_or_else(|_| Cell::Text(s.clone()), Cell::Date)
                        }
                        Data::DurationIso(s) => Cell::Text(s.clone()),
                        Data::Error(e) => Cell::Error(format!("{e:?}")),
                    }
                })
                .collect();
            if cells.iter().all(|c| matches!(c, Cell::Empty)) {
                continue;
            }
            rows.push((abs_row + 1, cells));
        }
        out.push((
            *e,
            Sheet {
                name: sn,
                header,
                rows,
                decimal_comma: false,
            },
        ));
    }
    Ok(out)
}

/// A CSV as a spreadsheet saved it: the encoding (UTF-8 with or without BOM,
/// else Windows-1250), the separator and the decimal comma are detected.
fn read_csv(file: &Path, ents: &[&'static Entity]) -> Result<((&'static Entity, Sheet), String)> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    let (bytes, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(b) => (b.to_vec(), true),
        None => (bytes, false),
    };
    let (text, enc) = match String::from_utf8(bytes) {
        Ok(t) => (t, if bom { "UTF-8 with BOM" } else { "UTF-8" }),
        Err(e) => (
            encoding_rs::WINDOWS_1250
                .decode_without_bom_handling(e.as_bytes())
                .0
                .into_owned(),
            "Windows-1250",
        ),
    };
    let first = text.lines().next().unwrap_or("");
    let sep = [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|c| first.bytes().filter(|b| b == c).count())
        .unwrap_or(b',');
    let mut r = csv::ReaderBuilder::new()
        .delimiter(sep)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows_iter = r.records();
    let header: Vec<String> = match rows_iter.next() {
        Some(Ok(h)) => h.iter().map(str::to_string).collect(),
        _ => return Err(review(&name, "line 1", "empty or unreadable CSV")),
    };
    let e = ents
        .iter()
        .copied()
        .find(|e| header.len() == e.columns.len() && header.iter().all(|h| e.index(h).is_some()))
        .ok_or_else(|| {
            review(
                &name,
                "line 1",
                format!(
                    "its header matches none of the batch's entities ({})",
                    ents.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
    let decimal_comma = sep == b';';
    let mut rows = Vec::new();
    for (i, rec) in rows_iter.enumerate() {
        let rec = rec.map_err(|err| review(&name, format!("line {}", i + 2), err.to_string()))?;
        let cells = rec
            .iter()
            .map(|s| {
                if s.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(s.to_string())
                }
            })
            .collect();
        rows.push((i + 2, cells));
    }
    let sep_name = match sep {
        b';' => "semicolon",
        b'\t' => "tab",
        _ => "comma",
    };
    let detected = format!(
        "CSV: {enc}, {sep_name}-separated{}",
        if decimal_comma { ", decimal comma" } else { "" }
    );
    Ok((
        (
            e,
            Sheet {
                name: e.name.to_string(),
                header,
                rows,
                decimal_comma,
            },
        ),
        detected,
    ))
}

pub fn import(cfg: &Config, batch: &Batch, file: &Path) -> Result<Imported> {
    let ents = entities_of(batch);
    let ext = file
        .extension()
        .and_then(|x| x.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (sheets, detected) = match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" => (read_workbook(file, &ents)?, ext.clone()),
        "csv" | "txt" => {
            let (s, d) = read_csv(file, &ents)?;
            (vec![s], d)
        }
        _ => {
            return Err(review(
                file.display().to_string(),
                "",
                "expected .xlsx, .ods or .csv",
            ));
        }
    };
    let fname = file.display().to_string();
    let mut changes: Vec<CellChange> = Vec::new();
    let mut new_records: HashMap<&'static str, Vec<Vec<String>>> = HashMap::new();
    for e in &ents {
        new_records.insert(e.name, records(batch, e)?);
    }
    for (e, sheet) in &sheets {
        let cell_at = |row: usize, col: usize| {
            format!("sheet {}, cell {}{row}", sheet.name, col_letters(col))
        };
        let sheet_row = |row: usize| format!("sheet {}, row {row}", sheet.name);
        // Header: the entity's columns, in any order.
        let mut map = Vec::with_capacity(sheet.header.len());
        for (j, h) in sheet.header.iter().enumerate() {
            let idx = e.index(h.trim()).ok_or_else(|| {
                review(
                    &fname,
                    cell_at(1, j),
                    format!("`{h}` is not a column of {}", e.name),
                )
            })?;
            map.push(idx);
        }
        let skip = super::omitted(batch, e);
        if let Some(c) = e
            .columns
            .iter()
            .filter(|c| !skip.contains(&c.name))
            .find(|c| !sheet.header.iter().any(|h| h.trim() == c.name))
        {
            return Err(review(
                &fname,
                format!("sheet {}", sheet.name),
                format!("column `{}` is missing", c.name),
            ));
        }
        let originals = new_records.get_mut(e.name).expect("every entity read");
        let key_of = |rec: &[String]| e.key_of(rec);
        let index: HashMap<String, usize> = originals
            .iter()
            .enumerate()
            .map(|(i, r)| (key_of(r), i))
            .collect();
        let mut seen = vec![false; originals.len()];
        for (row, cells) in &sheet.rows {
            // The key first (it must be unchanged), then every cell.
            let mut rec = e.empty_record();
            let mut key_rec = e.empty_record();
            for (j, cell) in cells.iter().enumerate() {
                let Some(&idx) = map.get(j) else {
                    if !matches!(cell, Cell::Empty) {
                        return Err(review(
                            &fname,
                            cell_at(*row, j),
                            "a value outside the columns",
                        ));
                    }
                    continue;
                };
                key_rec[idx] = match cell {
                    Cell::Text(s) => s.clone(),
                    Cell::Number(n) => format!("{n}").trim_end_matches(".0").to_string(),
                    _ => String::new(),
                };
            }
            // Numbers in key columns come back as numbers: match by value.
            let key = {
                let k = key_of(&key_rec);
                if index.contains_key(&k) {
                    k
                } else {
                    index
                        .keys()
                        .find(|cand| {
                            let a: Vec<&str> = cand.split('/').collect();
                            let b: Vec<&str> = k.split('/').collect();
                            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || matches!((x.parse::<f64>(), y.parse::<f64>()), (Ok(p), Ok(q)) if p == q))
                        })
                        .cloned()
                        .ok_or_else(|| review(&fname, sheet_row(*row), format!("key `{k}` is not in the batch (rows cannot be added, and key columns cannot be edited)")))?
                }
            };
            let i = index[&key];
            if seen[i] {
                return Err(review(
                    &fname,
                    sheet_row(*row),
                    format!("key `{key}` appears twice"),
                ));
            }
            seen[i] = true;
            let orig = originals[i].clone();
            // Columns the export left out come from the batch unchanged.
            for (idx, v) in rec.iter_mut().enumerate() {
                if !map.contains(&idx) {
                    v.clone_from(&orig[idx]);
                }
            }
            for (j, cell) in cells.iter().enumerate() {
                let Some(&idx) = map.get(j) else { continue };
                let col = &e.columns[idx];
                let v = canonical(col, cell, &orig[idx], sheet.decimal_comma).map_err(|m| {
                    review(&fname, format!("{} ({})", cell_at(*row, j), col.name), m)
                })?;
                rec[idx] = if same(col, &v, &orig[idx]) {
                    orig[idx].clone()
                } else if orig[idx].contains('\r') && matches!(col.ty, ColType::Text) {
                    // An edit: the original's breaks where it was not edited.
                    super::with_original_breaks(&orig[idx], &v)
                } else {
                    v
                };
            }
            if let Err(p) = e.validate(&rec) {
                let j = map
                    .iter()
                    .position(|&x| e.columns[x].name == p.field)
                    .unwrap_or(0);
                return Err(review(
                    &fname,
                    format!("{} ({})", cell_at(*row, j), p.field),
                    format!("{} [{}]", p.message, p.code),
                ));
            }
            for (idx, col) in e.columns.iter().enumerate() {
                if rec[idx] != orig[idx] {
                    if e.key.contains(&col.name) {
                        return Err(review(
                            &fname,
                            sheet_row(*row),
                            format!("key column `{}` cannot be edited", col.name),
                        ));
                    }
                    changes.push(CellChange {
                        entity: e.name.into(),
                        key: key.clone(),
                        column: col.name.into(),
                        old: orig[idx].clone(),
                        new: rec[idx].clone(),
                    });
                }
            }
            originals[i] = rec;
        }
        if let Some(i) = seen.iter().position(|s| !s) {
            return Err(review(
                &fname,
                format!("sheet {}", sheet.name),
                format!(
                    "the row of `{}` is gone (rows cannot be removed in a review)",
                    key_of(&originals[i])
                ),
            ));
        }
    }
    if changes.is_empty() {
        return Ok(Imported {
            changes,
            batch: None,
            detected,
        });
    }

    // The edited batch: the same records with the changes, parent = BATCH.
    let mut meta = BatchMeta::derived(batch, batch.meta.stage, batch.meta.format);
    meta.edited = true;
    meta.channel = None;
    let mut bw = BatchWriter::create(&cfg.site().work(), meta)?;
    for e in &ents {
        if crate::staging::entities::parent_of(e)
            .is_some_and(|p| ents.iter().any(|x| x.name == p.name))
        {
            continue; // written with its parent
        }
        let recs = &new_records[e.name];
        match e.child {
            Some(child) => {
                let kids = new_records.get(child.name).cloned().unwrap_or_default();
                let mut gw = GroupWriter::create(&mut bw, e)?;
                let mut k = 0;
                for r in recs {
                    let pk: Vec<&String> = e.key.iter().map(|c| &r[e.col(c)]).collect();
                    let mut mine = Vec::new();
                    while k < kids.len()
                        && child
                            .parent_key
                            .iter()
                            .zip(&pk)
                            .all(|(c, v)| &kids[k][child.col(c)] == *v)
                    {
                        mine.push(kids[k].clone());
                        k += 1;
                    }
                    gw.write(r, &mine)?;
                }
                gw.finish(&mut bw)?;
            }
            None => {
                let mut w = bw.records(e)?;
                for r in recs {
                    w.write(r)?;
                }
                bw.add(e, w.finish()?);
            }
        }
    }
    let path = bw.scratch("data/review_changes.csv");
    let mut w =
        crate::staging::RecordWriter::create(&path, &REVIEW_CHANGES, crate::staging::Format::Csv)?;
    let mut row = Vec::new();
    for c in &changes {
        c.write_into(&mut row);
        w.write(&row)?;
    }
    bw.add(&REVIEW_CHANGES, w.finish()?);
    let batch = bw.finish()?;
    Ok(Imported {
        changes,
        batch: Some(batch),
        detected,
    })
}
