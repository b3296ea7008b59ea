//! Review in a spreadsheet (SPEC §5): a batch out as a workbook, a person's
//! edits back in as a new batch with a report of every changed cell.
//!
//! Spreadsheets are hostile to data: they strip leading zeros, turn codes
//! into numbers and dates, lose digits, save CSV in Windows-1250 with
//! semicolons and decimal commas, and evaluate anything starting with `=`.
//! So the export types every column from the entity schema (codes and other
//! text as text cells with the text format, money as numbers, dates as
//! dates, never a formula), and the import compares cell by cell with the
//! original by value, refuses what a spreadsheet damaged, and names the cell.
//!
//! A review holds a batch's records in memory: it is for batches a person
//! reads (a worksheet ends at 1,048,576 rows anyway).

pub mod export;
pub mod import;

use crate::error::{Error, Result};
use crate::staging::entities;
use crate::staging::group::{Group, GroupReader};
use crate::staging::{Batch, Entity, Item};

/// The entities of a batch a person reviews, parents before children.
pub fn entities_of(batch: &Batch) -> Vec<&'static Entity> {
    let mut out: Vec<&'static Entity> = Vec::new();
    for f in &batch.meta.files {
        if f.path.starts_with("data/rejects/") {
            continue;
        }
        let Some(e) = entities::by_name(&f.entity) else {
            continue;
        };
        if !entities::reviewable(e) || out.iter().any(|x| x.name == e.name) {
            continue;
        }
        out.push(e);
        if let Some(c) = e.child
            && f.child_rows.is_some()
        {
            out.push(c); // nested in the parent's XML file
        }
    }
    out
}

/// Every record of an entity in the batch, in file order.
pub fn records(batch: &Batch, e: &'static Entity) -> Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    if let Some(parent) = entities::parent_of(e)
        && batch.file_of(e).is_none()
    {
        // Nested in the parent's XML.
        let mut r = GroupReader::open(batch, parent)?;
        let mut g = Group::default();
        while r.next(&mut g)? {
            out.extend(g.children.drain(..).map(|(_, rec)| rec));
        }
        return Ok(out);
    }
    let (mut r, display) = batch.reader(e)?;
    let mut rec = Vec::new();
    while let Some(item) = r.next(&mut rec)? {
        if let Item::Invalid {
            line,
            field,
            code,
            message,
        } = item
        {
            return Err(Error::Field {
                file: display,
                line,
                field,
                code,
                message,
            });
        }
        out.push(rec.clone());
    }
    Ok(out)
}

/// Columns a flow's batch holds but the flow does not use, left out of the
/// workbook (and taken from the batch on import): the prices flow reads
/// shop products for their prices, not their descriptions.
pub fn omitted(batch: &Batch, e: &Entity) -> &'static [&'static str] {
    match (batch.meta.flow.as_str(), e.name) {
        ("prices", "shop_products") => &["description"],
        _ => &[],
    }
}

/// The most characters a spreadsheet cell holds (xlsx and ods alike).
pub const CELL_LIMIT: usize = 32_767;

/// A number as a spreadsheet keeps it (an IEEE double), if that is exactly
/// the decimal: 81300812.9919 is, 12345678901234567.89 is not.
pub fn exact_number(v: &str) -> Option<f64> {
    let d: rust_decimal::Decimal = v.parse().ok()?;
    let n: f64 = v.parse().ok()?;
    let back: rust_decimal::Decimal = format!("{n}").parse().ok()?;
    (back == d).then_some(n)
}

/// Line breaks as one: a spreadsheet gives CR, CRLF and LF back as LF.
pub fn lf(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        s.into()
    }
}

/// A person's edit of a cell whose original has CR or CRLF breaks: the
/// edited text with the original's breaks wherever the lines around a break
/// are the original's (the lines before the first changed one and after the
/// last, and every break when the edit kept the number of lines).
pub fn with_original_breaks(orig: &str, edited: &str) -> String {
    fn split(s: &str) -> (Vec<&str>, Vec<&str>) {
        let (mut lines, mut breaks) = (Vec::new(), Vec::new());
        let (b, mut start, mut i) = (s.as_bytes(), 0, 0);
        while i < b.len() {
            let w = match (b[i], b.get(i + 1)) {
                (b'\r', Some(b'\n')) => 2,
                (b'\r' | b'\n', _) => 1,
                _ => 0,
            };
            if w > 0 {
                lines.push(&s[start..i]);
                breaks.push(&s[i..i + w]);
                i += w;
                start = i;
            } else {
                i += 1;
            }
        }
        lines.push(&s[start..]);
        (lines, breaks)
    }
    let (ol, ob) = split(orig);
    let (nl, nb) = split(edited);
    let (o, n) = (ol.len(), nl.len());
    let mut p = 0;
    while p < o.min(n) && ol[p] == nl[p] {
        p += 1;
    }
    let mut q = 0;
    while q < (o - p).min(n - p) && ol[o - 1 - q] == nl[n - 1 - q] {
        q += 1;
    }
    let mut out = String::with_capacity(edited.len() + ob.len());
    for (i, line) in nl.iter().enumerate() {
        out.push_str(line);
        if i + 1 == n {
            break;
        }
        let from_end = n - 2 - i; // breaks after this one
        let from_orig_end = ob.len().checked_sub(1 + from_end);
        let br = match () {
            _ if i < p && i < ob.len() => ob[i],
            _ if i + 1 >= n - q && from_orig_end.is_some() => ob[from_orig_end.unwrap_or(0)],
            _ if o == n => ob[i],
            _ => nb[i],
        };
        out.push_str(br);
    }
    // A CR before an empty line and an LF after it would read as one CRLF:
    // then the person's text as it came.
    if lf(&out) == lf(edited) {
        out
    } else {
        edited.to_string()
    }
}

/// Excel's sheet names are at most 31 characters.
pub fn sheet_name(e: &Entity) -> String {
    e.name.chars().take(31).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_a_spreadsheet_holds_exactly() {
        for v in [
            "81300812.9919",
            "99999999.99",
            "0.0001",
            "-12.3456",
            "0",
            "12.3400",
        ] {
            assert!(exact_number(v).is_some(), "{v}");
        }
        for v in ["12345678901234567.89", "1234567890123.45678"] {
            assert_eq!(exact_number(v), None, "{v}");
        }
    }

    #[test]
    fn an_edit_keeps_the_original_breaks_where_it_did_not_touch() {
        let orig = "Region 2.\r<br />\nLanguages: English.\r<br />\nAudio: Dolby.";
        // LibreOffice gives every break back as LF.
        let saved = lf(orig).into_owned();
        assert_eq!(
            saved,
            "Region 2.\n<br />\nLanguages: English.\n<br />\nAudio: Dolby."
        );
        let edited = saved.replace("English", "English, Polski");
        assert_eq!(
            with_original_breaks(orig, &edited),
            "Region 2.\r<br />\nLanguages: English, Polski.\r<br />\nAudio: Dolby."
        );
        // A line added: the untouched lines before and after keep theirs.
        let added = saved.replace("Audio: Dolby.", "Audio: Dolby.\nNowy wiersz");
        assert_eq!(
            with_original_breaks(orig, &added),
            "Region 2.\r<br />\nLanguages: English.\r<br />\nAudio: Dolby.\nNowy wiersz"
        );
        // Whatever the edit, the text is the person's: only breaks differ.
        let pieces = ["a", "", "\r", "\n", "\r\n", "<br />", "b\n", "\r\r"];
        for x in pieces {
            for y in pieces {
                for z in pieces {
                    let o = format!("{x}{y}{z}{orig}{z}");
                    for e in [
                        format!("{z}{x}"),
                        format!("{y}\n{x}\n"),
                        lf(&o).into_owned() + "!",
                        String::new(),
                    ] {
                        assert_eq!(
                            lf(&with_original_breaks(&o, &e)),
                            lf(&e),
                            "{o:?} edited {e:?}"
                        );
                    }
                }
            }
        }
        let first = saved.replace("Region 2.", "Region 2 i 3.");
        assert_eq!(
            with_original_breaks(orig, &first),
            "Region 2 i 3.\r<br />\nLanguages: English.\r<br />\nAudio: Dolby."
        );
    }
}
