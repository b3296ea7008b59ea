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

/// Excel's sheet names are at most 31 characters.
pub fn sheet_name(e: &Entity) -> String {
    e.name.chars().take(31).collect()
}
