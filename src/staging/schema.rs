//! Typed entity schemas: one definition per entity, used to write, read and
//! validate staging files (and later to type spreadsheet columns).
//!
//! Values travel as canonical text (`12.5000`, `2026-11-29T03:47:51`, `1`), so a
//! record is a `Vec<String>` in schema column order and the empty string means
//! "no value". Validation never guesses a type: a column says what it holds,
//! and a value that does not fit is an error naming the field. The flows
//! do not index such vectors: they read a record into its struct
//! (`staging/records.rs`), made from the same definition.

use rust_decimal::Decimal;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// Free text (names, addresses). Any UTF-8.
    Text,
    /// An identifier that must survive spreadsheets: codes, NIPs, postcodes,
    /// phone numbers. Text, never a number; no surrounding white space.
    Code,
    /// A whole number (`-12`).
    Int,
    /// An exact decimal with at most this many decimal places; `.` separator,
    /// no exponent, no thousands separator.
    Decimal(u32),
    /// `0` or `1`.
    Bool,
    /// `YYYY-MM-DDTHH:MM:SS`, optionally with a trailing `Z` (UTC).
    DateTime,
}

impl ColType {
    pub fn xsd_type(self) -> &'static str {
        match self {
            ColType::Text | ColType::Code => "xs:string",
            ColType::Int => "xs:long",
            ColType::Decimal(_) => "xs:decimal",
            ColType::Bool => "ms:flag",
            ColType::DateTime => "ms:dateTime",
        }
    }

    pub fn describe(self) -> String {
        match self {
            ColType::Text => "text".into(),
            ColType::Code => "code (text)".into(),
            ColType::Int => "integer".into(),
            ColType::Decimal(s) => format!("decimal (max {s} places)"),
            ColType::Bool => "flag 0/1".into(),
            ColType::DateTime => "date-time".into(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    pub required: bool,
    /// Maximum length in characters, where the target has one.
    pub max_len: Option<usize>,
}

impl Column {
    pub const fn new(name: &'static str, ty: ColType) -> Column {
        Column {
            name,
            ty,
            required: false,
            max_len: None,
        }
    }
    pub const fn req(mut self) -> Column {
        self.required = true;
        self
    }
    pub const fn max(mut self, n: usize) -> Column {
        self.max_len = Some(n);
        self
    }
}

/// One kind of record in a batch: its file stem, its key and its columns.
#[derive(Debug)]
pub struct Entity {
    /// Entity name, e.g. `shop_customers`. Also the rejects file stem.
    pub name: &'static str,
    /// Payload file stem (`data/<file>.csv` / `.xml`).
    pub file: &'static str,
    /// XML element of one record.
    pub record: &'static str,
    /// Columns that identify a record (for review matching and reports).
    pub key: &'static [&'static str],
    pub columns: &'static [Column],
    pub description: &'static str,
    /// Records that belong to one record of this entity (order lines of an
    /// order): a separate file in CSV, nested elements in XML.
    pub child: Option<&'static Entity>,
    /// On a child entity: the columns naming its parent record (the
    /// parent's key columns, same names, same order).
    pub parent_key: &'static [&'static str],
}

impl Entity {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Index of a column the code knows exists; panics only on a programming
    /// error in a static schema (caught by the schema tests).
    pub fn col(&self, name: &str) -> usize {
        self.index(name)
            .unwrap_or_else(|| panic!("entity {} has no column {name}", self.name))
    }

    pub fn empty_record(&self) -> Vec<String> {
        vec![String::new(); self.columns.len()]
    }

    /// The key of a record, joined with `/` (for messages).
    pub fn key_of(&self, rec: &[String]) -> String {
        self.key
            .iter()
            .filter_map(|k| self.index(k).and_then(|i| rec.get(i)))
            .cloned()
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Check every field of a record; the first problem found is returned.
    pub fn validate(&self, rec: &[String]) -> Result<(), FieldProblem> {
        if rec.len() != self.columns.len() {
            return Err(FieldProblem {
                field: String::new(),
                code: "field_count",
                message: format!(
                    "{} fields where {} are expected",
                    rec.len(),
                    self.columns.len()
                ),
            });
        }
        for (col, value) in self.columns.iter().zip(rec) {
            validate_value(col, value).map_err(|(code, message)| FieldProblem {
                field: col.name.to_string(),
                code,
                message,
            })?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// Validate one value against its column; `(code, message)` on failure.
pub fn validate_value(col: &Column, v: &str) -> Result<(), (&'static str, String)> {
    if v.is_empty() {
        return if col.required {
            Err(("required", "a value is required".into()))
        } else {
            Ok(())
        };
    }
    if let Some(bad) = bad_character(v) {
        return Err((
            "bad_character",
            if bad == '\0' {
                "a NUL character inside the value".to_string()
            } else {
                "a byte-order mark inside the value (two files joined?)".to_string()
            },
        ));
    }
    if let Some(max) = col.max_len {
        // No more bytes than allowed characters: no need to count them.
        let n = match v.len() <= max {
            true => 0,
            false => v.chars().count(),
        };
        if n > max {
            return Err(("too_long", format!("{n} characters, at most {max} allowed")));
        }
    }
    match col.ty {
        ColType::Text => Ok(()),
        ColType::Code => Ok(()),
        ColType::Int => {
            let digits = v.strip_prefix('-').unwrap_or(v);
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && v.parse::<i64>().is_ok()
            {
                Ok(())
            } else {
                Err(("not_integer", format!("`{v}` is not a whole number")))
            }
        }
        ColType::Decimal(scale) => check_decimal(v, scale),
        ColType::Bool => match v {
            "0" | "1" => Ok(()),
            _ => Err(("not_flag", format!("`{v}` is not 0 or 1"))),
        },
        ColType::DateTime => {
            if parse_datetime(v).is_some() {
                Ok(())
            } else {
                Err((
                    "not_datetime",
                    format!("`{v}` is not a date-time YYYY-MM-DDTHH:MM:SS"),
                ))
            }
        }
    }
}

/// A NUL or a byte-order mark in `v`, found by its bytes (every field of
/// every record passes here: decoding the characters was a tenth of an
/// extract's validation). In UTF-8, U+FEFF is exactly EF BB BF.
fn bad_character(v: &str) -> Option<char> {
    let b = v.as_bytes();
    b.iter().enumerate().find_map(|(i, &c)| match c {
        0 => Some('\0'),
        0xEF if b[i + 1..].starts_with(&[0xBB, 0xBF]) => Some('\u{feff}'),
        _ => None,
    })
}

fn check_decimal(v: &str, scale: u32) -> Result<(), (&'static str, String)> {
    let body = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int) || frac.is_some_and(|f| !digits_ok(f)) {
        let hint = if v.contains(',') {
            " (the decimal separator is `.`)"
        } else if v.contains(['e', 'E']) {
            " (exponent notation is not allowed)"
        } else {
            ""
        };
        return Err((
            "not_decimal",
            format!("`{v}` is not a decimal number{hint}"),
        ));
    }
    let places = frac.map_or(0, str::len) as u32;
    if places > scale {
        return Err((
            "scale",
            format!("`{v}` has {places} decimal places, at most {scale} allowed"),
        ));
    }
    if Decimal::from_str(v).is_err() {
        return Err(("not_decimal", format!("`{v}` is out of range")));
    }
    Ok(())
}

/// Parse `YYYY-MM-DDTHH:MM:SS[Z]` (the staging form).
pub fn parse_datetime(v: &str) -> Option<chrono::NaiveDateTime> {
    let v = v.strip_suffix('Z').unwrap_or(v).as_bytes();
    // By hand, every character in its place (chrono's parse_from_str reads
    // its pattern for every value: the extract, the transform and the load
    // check two or three per order).
    if v.len() != 19 || [v[4], v[7], v[10], v[13], v[16]] != *b"--T::" {
        return None;
    }
    let num = |at: usize, len: usize| -> Option<u32> {
        v[at..at + len].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    chrono::NaiveDate::from_ymd_opt(year, num(5, 2)?, num(8, 2)?)?.and_hms_opt(
        num(11, 2)?,
        num(14, 2)?,
        num(17, 2)?,
    )
}

/// The staging form of a date-time (no zone: shop clocks are local).
pub fn format_datetime(t: &chrono::NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    // By hand: chrono's strftime parses its pattern for every value, and an
    // extract formats two per order.
    if !(0..=9999).contains(&t.year()) {
        return t.format("%Y-%m-%dT%H:%M:%S").to_string();
    }
    let mut b = [0u8; 19];
    let mut put = |at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, t.year() as u32, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    for (at, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        b[at] = c;
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_strict() {
        let c = Column::new("x", ColType::Decimal(4));
        assert!(validate_value(&c, "12.5000").is_ok());
        assert!(validate_value(&c, "-0.01").is_ok());
        assert_eq!(validate_value(&c, "12,5").unwrap_err().0, "not_decimal");
        assert!(
            validate_value(&c, "12,5")
                .unwrap_err()
                .1
                .contains("separator")
        );
        assert_eq!(validate_value(&c, "1e3").unwrap_err().0, "not_decimal");
        assert_eq!(validate_value(&c, "1.23456").unwrap_err().0, "scale");
        assert_eq!(validate_value(&c, ".5").unwrap_err().0, "not_decimal");
        assert_eq!(validate_value(&c, "+5").unwrap_err().0, "not_decimal");
    }

    #[test]
    fn codes_and_required() {
        let c = Column::new("code", ColType::Code).req().max(5);
        assert_eq!(validate_value(&c, "").unwrap_err().0, "required");
        assert_eq!(validate_value(&c, "123456").unwrap_err().0, "too_long");
        assert!(validate_value(&c, "00123").is_ok());
    }

    #[test]
    fn characters_counted_not_bytes_and_nul_and_bom_found_by_their_bytes() {
        let c = Column::new("name", ColType::Text).max(4);
        assert!(
            validate_value(&c, "żółw").is_ok(),
            "4 characters in 7 bytes"
        );
        assert_eq!(validate_value(&c, "żółwi").unwrap_err().0, "too_long");
        assert!(
            validate_value(&c, "żółwi")
                .unwrap_err()
                .1
                .contains("5 characters")
        );
        let t = Column::new("text", ColType::Text);
        assert_eq!(validate_value(&t, "a\0b").unwrap_err().0, "bad_character");
        let bom = validate_value(&t, "x\u{feff}y").unwrap_err();
        assert!(bom.1.contains("byte-order mark"), "{bom:?}");
        // Other characters whose UTF-8 starts with EF (U+FFFD, U+F8FF,
        // U+FBBF), and a byte-order mark read as Latin-1, are text.
        assert!(validate_value(&t, "\u{fffd}\u{f8ff}\u{fbbf}ï»¿").is_ok());
    }

    #[test]
    fn datetimes() {
        let c = Column::new("t", ColType::DateTime);
        assert!(validate_value(&c, "2026-11-29T03:47:51").is_ok());
        assert!(validate_value(&c, "2026-11-29T03:47:51Z").is_ok());
        assert!(validate_value(&c, "2026-11-29 03:47:51").is_err());
        assert!(validate_value(&c, "29.11.2026").is_err());
        for bad in [
            "2026-02-29T00:00:00",
            "2026-13-01T00:00:00",
            "2026-11-29T24:00:00",
            "2026-11-29T03:60:00",
            "2026-11-29T03:47:5x",
            "2026-1-29T03:47:511",
            "+202-11-29T03:47:51",
            "2026-11-29T03:47:51ZZ",
        ] {
            assert!(parse_datetime(bad).is_none(), "{bad}");
        }
        // What chrono reads from the same text, for every valid one.
        for good in [
            "2024-02-29T23:59:59",
            "0001-01-01T00:00:00",
            "9999-12-31T23:59:59",
            "2026-11-29T03:47:51Z",
        ] {
            let t = good.strip_suffix('Z').unwrap_or(good);
            let want = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").unwrap();
            assert_eq!(parse_datetime(good), Some(want), "{good}");
            assert_eq!(format_datetime(&want), t);
        }
    }
}
