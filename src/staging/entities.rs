//! Every entity a batch can hold, in one place. `docs/staging-format.md`
//! describes the same definitions for other programs; the XSDs under
//! `templates/staging/` are checked against them by the tests.

use super::schema::{ColType::*, Column as C, Entity};

/// Customers as read from the shop (customers flow, stage `extracted`).
/// A faithful copy of the shop's data: no normalisation, and never a
/// password or password hash.
pub static SHOP_CUSTOMERS: Entity = Entity {
    name: "shop_customers",
    file: "shop_customers",
    record: "customer",
    key: &["customers_id"],
    description: "registered shop customers with their default address",
    columns: &[
        C::new("customers_id", Int).req(),
        C::new("gender", Code),
        C::new("firstname", Text),
        C::new("lastname", Text),
        C::new("email", Text),
        C::new("telephone", Code),
        C::new("fax", Code),
        C::new("company", Text),
        C::new("street", Text),
        C::new("suburb", Text),
        C::new("postcode", Code),
        C::new("city", Text),
        C::new("state", Text),
        C::new("country", Text),
        C::new("country_iso2", Code),
        C::new("nip", Code),
        C::new("created_at", DateTime),
        C::new("modified_at", DateTime),
    ],
};

/// Customers ready for the Magazyn customer register (stage `transformed`).
pub static CUSTOMERS: Entity = Entity {
    name: "customers",
    file: "customers",
    record: "customer",
    key: &["shop", "shop_customer_id"],
    description: "Magazyn customer records built from shop customers",
    columns: &[
        C::new("shop", Code).req(),
        C::new("shop_customer_id", Int).req(),
        C::new("code", Code).req().max(40),
        C::new("name", Text).req().max(255),
        C::new("nip", Code).max(20),
        C::new("email", Text).max(255),
        C::new("phone", Code).max(64),
        C::new("street", Text).max(255),
        C::new("postcode", Code).max(20),
        C::new("city", Text).max(255),
        C::new("country_code", Code).max(2),
        C::new("is_company", Bool).req(),
        C::new("source_modified", DateTime),
    ],
};

/// Per-record warnings of a stage (loaded anyway), e.g. a NIP with a bad
/// checksum. File `data/warnings.csv`.
pub static WARNINGS: Entity = Entity {
    name: "warnings",
    file: "warnings",
    record: "warning",
    key: &["entity", "key", "field", "code"],
    description: "records that were passed on with a warning",
    columns: &[
        C::new("entity", Code).req(),
        C::new("key", Code),
        C::new("field", Code),
        C::new("code", Code).req(),
        C::new("message", Text).req(),
    ],
};

/// Why each rejected record was rejected: `data/rejects/<entity>.errors.csv`,
/// beside `data/rejects/<entity>.csv` holding the original records.
pub static REJECT_ERRORS: Entity = Entity {
    name: "reject_errors",
    file: "errors",
    record: "error",
    key: &["line", "field", "code"],
    description: "reasons for rejected records",
    columns: &[
        C::new("file", Code).req(),
        C::new("line", Int).req(),
        C::new("key", Code),
        C::new("field", Code),
        C::new("code", Code).req(),
        C::new("message", Text).req(),
    ],
};

/// What a load did, per entity (receipt batches).
pub static LOAD_COUNTS: Entity = Entity {
    name: "load_counts",
    file: "load_counts",
    record: "count",
    key: &["entity"],
    description: "per-entity counts of a load",
    columns: &[
        C::new("batch", Code).req(),
        C::new("entity", Code).req(),
        C::new("status", Code).req(),
        C::new("records", Int).req(),
        C::new("inserted", Int).req(),
        C::new("updated", Int).req(),
        C::new("unchanged", Int).req(),
        C::new("rejected", Int).req(),
    ],
};

pub static ALL: &[&Entity] = &[
    &SHOP_CUSTOMERS,
    &CUSTOMERS,
    &WARNINGS,
    &REJECT_ERRORS,
    &LOAD_COUNTS,
];

pub fn by_name(name: &str) -> Option<&'static Entity> {
    ALL.iter().copied().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_keys_exist() {
        let mut names = HashSet::new();
        for e in ALL {
            assert!(names.insert(e.name), "duplicate entity {}", e.name);
            let mut cols = HashSet::new();
            for c in e.columns {
                assert!(
                    cols.insert(c.name),
                    "{}: duplicate column {}",
                    e.name,
                    c.name
                );
                assert!(
                    c.name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "{}: column name {} must be [a-z0-9_]",
                    e.name,
                    c.name
                );
            }
            for k in e.key {
                assert!(e.index(k).is_some(), "{}: key {k} is not a column", e.name);
            }
        }
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn every_column_is_documented() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/staging-format.md"
        ))
        .unwrap();
        for e in super::ALL {
            assert!(
                doc.contains(&format!("`{}`", e.name)),
                "docs/staging-format.md lacks entity {}",
                e.name
            );
            for c in e.columns {
                assert!(
                    doc.contains(c.name),
                    "docs/staging-format.md lacks {}.{}",
                    e.name,
                    c.name
                );
            }
        }
    }
}
