//! Typed records: one Rust struct per staging entity, made by the same
//! definition as the entity's schema (`entities!` in `entities.rs`), so a
//! column cannot be named in one and missing in the other.
//!
//! The engine below (codec, bag, review, transfer) moves records as text in
//! schema order, which is what a file and a spreadsheet hold. A flow reads a
//! record into its struct once, at the reader, and works on fields: `i64` for
//! whole numbers, `Decimal` for amounts, `bool` for flags (`Option<…>` where
//! the column may be empty), `String` for text and codes, where "" is "no
//! value". A date-time stays its canonical text (`2026-11-29T03:47:51`): the
//! flows pass it on and compare it, and that text sorts as the time does.
//!
//! A decimal is written with the scale it carries (`12.50` stays `12.50`, a
//! quantity `3` stays `3`); `money::fixed` gives an amount its places.
//! `read_into` reuses the struct's strings, so a hot loop allocates nothing
//! per record once its buffers have grown.

use super::schema::{Entity, FieldProblem};
use rust_decimal::Decimal;
use std::fmt::Write as _;
use std::str::FromStr;

/// A struct of one entity's columns.
pub trait Record: Default {
    /// The schema this struct was made with.
    const ENTITY: &'static Entity;

    /// Fill `self` from a record in schema order (`rec` as a reader gives
    /// it). A value that does not parse is a problem naming its field.
    fn read_into(&mut self, rec: &[String]) -> Result<(), FieldProblem>;

    /// The record as text in schema order, into `out` (resized to fit).
    fn write_into(&self, out: &mut Vec<String>);

    fn read(rec: &[String]) -> Result<Self, FieldProblem> {
        let mut r = Self::default();
        r.read_into(rec)?;
        Ok(r)
    }
}

/// A record of `e` a load cannot read: `Error::Record` naming the entity,
/// the record's key and the field.
pub fn unreadable(e: &Entity, rec: &[String], p: FieldProblem) -> crate::error::Error {
    crate::error::Error::record(e.name, e.key_of(rec), p.field, p.message)
}

/// One column's value: how it reads from and writes to canonical text.
pub trait Field {
    fn parse_into(&mut self, s: &str) -> Result<(), String>;
    fn put(&self, out: &mut String);
}

impl Field for String {
    fn parse_into(&mut self, s: &str) -> Result<(), String> {
        self.clear();
        self.push_str(s);
        Ok(())
    }
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

fn int(s: &str) -> Result<i64, String> {
    s.parse()
        .map_err(|_| format!("`{s}` is not a whole number"))
}

fn decimal(s: &str) -> Result<Decimal, String> {
    Decimal::from_str(s).map_err(|e| format!("`{s}` is not a decimal: {e}"))
}

fn flag(s: &str) -> Result<bool, String> {
    match s {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(format!("`{s}` is not a flag 0/1")),
    }
}

fn required(s: &str) -> Result<&str, String> {
    if s.is_empty() {
        Err("a value is required".into())
    } else {
        Ok(s)
    }
}

macro_rules! scalar_field {
    ($t:ty, $parse:ident, $put:expr) => {
        impl Field for $t {
            fn parse_into(&mut self, s: &str) -> Result<(), String> {
                *self = $parse(required(s)?)?;
                Ok(())
            }
            fn put(&self, out: &mut String) {
                $put(self, out)
            }
        }
        impl Field for Option<$t> {
            fn parse_into(&mut self, s: &str) -> Result<(), String> {
                *self = if s.is_empty() { None } else { Some($parse(s)?) };
                Ok(())
            }
            fn put(&self, out: &mut String) {
                if let Some(v) = self {
                    $put(v, out)
                }
            }
        }
    };
}

scalar_field!(i64, int, |v: &i64, out: &mut String| {
    let _ = write!(out, "{v}");
});
scalar_field!(Decimal, decimal, |v: &Decimal, out: &mut String| {
    let _ = write!(out, "{v}");
});
scalar_field!(bool, flag, |v: &bool, out: &mut String| {
    out.push(if *v { '1' } else { '0' });
});

/// The Rust type of a column: its `ColType`, and whether `req` comes first
/// among its flags.
#[macro_export]
#[doc(hidden)]
macro_rules! field_type {
    (Int; req $($f:ident)*) => { i64 };
    (Int; $($f:ident)*) => { Option<i64> };
    (Decimal; req $($f:ident)*) => { rust_decimal::Decimal };
    (Decimal; $($f:ident)*) => { Option<rust_decimal::Decimal> };
    (Bool; req $($f:ident)*) => { bool };
    (Bool; $($f:ident)*) => { Option<bool> };
    (Text; $($f:ident)*) => { String };
    (Code; $($f:ident)*) => { String };
    (DateTime; $($f:ident)*) => { String };
}

/// Entities with their typed records, from one definition each:
///
/// ```text
/// /// doc
/// pub static CUSTOMERS: Entity => Customer {
///     name: "customers", file: "customers", record: "customer",
///     key: ["shop", "shop_customer_id"], description: "…",
///     child: None, parent_key: [],
///     columns {
///         shop: Code.req(),
///         code: Code.req().max(40),
///         total_net: Decimal(2).req(),
///     }
/// }
/// ```
///
/// makes the `Entity` static (what files, XSDs and spreadsheets are made
/// from) and `pub struct Customer` with one field a column, implementing
/// [`Record`]. `req` must come first among a column's flags.
#[macro_export]
#[doc(hidden)]
macro_rules! entities {
    ($(
        $(#[$meta:meta])*
        pub static $stat:ident: Entity => $ty:ident {
            name: $name:literal, file: $file:literal, record: $record:literal,
            key: [$($key:literal),* $(,)?], description: $descr:literal,
            child: $child:expr, parent_key: [$($pk:literal),* $(,)?],
            columns {
                $( $col:ident : $cty:ident $(($scale:literal))? $(. $flag:ident ($($arg:literal)?))* ),* $(,)?
            }
        }
    )*) => {
        $(
            $(#[$meta])*
            pub static $stat: $crate::staging::schema::Entity = $crate::staging::schema::Entity {
                name: $name,
                file: $file,
                record: $record,
                key: &[$($key),*],
                description: $descr,
                child: $child,
                parent_key: &[$($pk),*],
                columns: &[$(
                    $crate::staging::schema::Column::new(
                        stringify!($col),
                        $crate::staging::schema::ColType::$cty $(($scale))?,
                    ) $(.$flag($($arg)?))*
                ),*],
            };

            #[doc = concat!("A record of [`", stringify!($stat), "`] (`", $name, "`).")]
            #[derive(Debug, Clone, Default, PartialEq)]
            pub struct $ty {
                $( pub $col: $crate::field_type!($cty; $($flag)*), )*
            }

            impl $crate::staging::records::Record for $ty {
                const ENTITY: &'static $crate::staging::schema::Entity = &$stat;

                fn read_into(
                    &mut self,
                    rec: &[String],
                ) -> Result<(), $crate::staging::schema::FieldProblem> {
                    let e = Self::ENTITY;
                    if rec.len() != e.columns.len() {
                        return Err($crate::staging::schema::FieldProblem {
                            field: String::new(),
                            code: "field_count",
                            message: format!(
                                "{} fields where {} are expected",
                                rec.len(),
                                e.columns.len()
                            ),
                        });
                    }
                    let mut values = rec.iter();
                    $(
                        let v = values.next().map(String::as_str).unwrap_or("");
                        $crate::staging::records::Field::parse_into(&mut self.$col, v).map_err(
                            |message| $crate::staging::schema::FieldProblem {
                                field: stringify!($col).to_string(),
                                code: "not_readable",
                                message,
                            },
                        )?;
                    )*
                    Ok(())
                }

                fn write_into(&self, out: &mut Vec<String>) {
                    out.resize(Self::ENTITY.columns.len(), String::new());
                    let mut slots = out.iter_mut();
                    $(
                        if let Some(s) = slots.next() {
                            s.clear();
                            $crate::staging::records::Field::put(&self.$col, s);
                        }
                    )*
                }
            }
        )*
    };
}

/// The records of one entity of a batch, each read into one reused `T`.
/// Records the reader marks invalid are passed over: a load has refused
/// such a batch before it reads (`Batch::verify_rows`).
pub struct Records<T> {
    reader: super::RecordReader,
    text: Vec<String>,
    rec: T,
}

impl<T: Record> Records<T> {
    pub fn open(batch: &super::Batch) -> crate::error::Result<Records<T>> {
        let (reader, _) = batch.reader(T::ENTITY)?;
        Ok(Records {
            reader,
            text: Vec::new(),
            rec: T::default(),
        })
    }

    /// The next record; a value that does not read is `Error::Record`
    /// naming the entity, the record's key and the field.
    pub fn next_record(&mut self) -> crate::error::Result<Option<&T>> {
        loop {
            match self.reader.next(&mut self.text)? {
                None => return Ok(None),
                Some(super::Item::Invalid { .. }) => continue,
                Some(super::Item::Record(_)) => {
                    self.rec
                        .read_into(&self.text)
                        .map_err(|p| unreadable(T::ENTITY, &self.text, p))?;
                    return Ok(Some(&self.rec));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::entities::*;
    use crate::staging::schema::ColType;

    /// A valid value of a column's type, different per column.
    fn sample(ty: ColType, i: usize) -> String {
        match ty {
            ColType::Text | ColType::Code => format!("v{i}"),
            ColType::Int => format!("{}", i as i64 - 3),
            ColType::Decimal(0) => format!("{i}"),
            ColType::Decimal(s) => format!("{i}.{}", "5".repeat(s.min(2) as usize)),
            ColType::Bool => (i % 2).to_string(),
            ColType::DateTime => format!("2026-11-{:02}T03:47:51", i % 28 + 1),
        }
    }

    /// Every entity's record reads from its text and writes the same text
    /// back, value for value (a column the struct lost or reordered, or a
    /// decimal that lost its scale, fails here); an empty optional column
    /// stays empty.
    fn round_trip<T: Record + std::fmt::Debug>() {
        let e = T::ENTITY;
        let full: Vec<String> = e
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let v = sample(c.ty, i);
                v.chars().take(c.max_len.unwrap_or(v.len())).collect()
            })
            .collect();
        let sparse: Vec<String> = e
            .columns
            .iter()
            .zip(&full)
            .map(|(c, v)| if c.required { v.clone() } else { String::new() })
            .collect();
        for text in [full, sparse] {
            assert_eq!(e.validate(&text), Ok(()), "{}: {text:?}", e.name);
            let r = T::read(&text).unwrap_or_else(|p| panic!("{}: {p:?}", e.name));
            let mut back = Vec::new();
            r.write_into(&mut back);
            assert_eq!(back, text, "{}: {r:?}", e.name);
        }
    }

    #[test]
    fn every_entity_round_trips_through_its_struct() {
        round_trip::<ShopCustomer>();
        round_trip::<Customer>();
        round_trip::<Warning>();
        round_trip::<RejectError>();
        round_trip::<LoadCount>();
        round_trip::<ShopOrder>();
        round_trip::<ShopOrderLine>();
        round_trip::<ShopOrderId>();
        round_trip::<ShopDeleted>();
        round_trip::<Order>();
        round_trip::<OrderLine>();
        round_trip::<MagazynGood>();
        round_trip::<ProductUpdate>();
        round_trip::<ProductUndo>();
        round_trip::<SpecialChange>();
        round_trip::<ProductCreate>();
        round_trip::<ShopProduct>();
        round_trip::<Good>();
        round_trip::<PriceEntry>();
        round_trip::<ReviewChange>();
        assert_eq!(ALL.len(), 20, "a new entity: add it above");
    }

    #[test]
    fn a_value_that_does_not_read_names_its_field() {
        let mut text = Vec::new();
        OrderLine {
            number: "Z1".into(),
            line_no: 1,
            kind: "product".into(),
            name: "Towar".into(),
            ..OrderLine::default()
        }
        .write_into(&mut text);
        assert_eq!(text[5], "0", "a default decimal is written as 0");
        text[5] = "3,5".into();
        let p = OrderLine::read(&text).unwrap_err();
        assert_eq!(p.field, "quantity");
        assert!(p.message.contains("3,5"), "{}", p.message);
        text[1] = String::new();
        assert_eq!(OrderLine::read(&text).unwrap_err().field, "line_no");
        assert_eq!(OrderLine::read(&text[..3]).unwrap_err().code, "field_count");
    }
}
