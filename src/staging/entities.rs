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
    child: None,
    parent_key: &[],
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
    child: None,
    parent_key: &[],
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
    child: None,
    parent_key: &[],
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
    child: None,
    parent_key: &[],
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
    child: None,
    parent_key: &[],
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

/// Orders as read from the shop (orders flow, stage `extracted`): the
/// header, the billing and delivery blocks, the status name in the shop's
/// language and the order totals by class.
pub static SHOP_ORDERS: Entity = Entity {
    name: "shop_orders",
    file: "shop_orders",
    record: "order",
    key: &["orders_id"],
    description: "shop orders with their totals",
    child: Some(&SHOP_ORDER_LINES),
    parent_key: &[],
    columns: &[
        C::new("orders_id", Int).req(),
        C::new("customers_id", Int),
        C::new("customers_name", Text),
        C::new("customers_company", Text),
        C::new("customers_email", Text),
        C::new("customers_telephone", Code),
        C::new("billing_name", Text),
        C::new("billing_company", Text),
        C::new("billing_street", Text),
        C::new("billing_suburb", Text),
        C::new("billing_city", Text),
        C::new("billing_postcode", Code),
        C::new("billing_state", Text),
        C::new("billing_country", Text),
        C::new("billing_country_iso2", Code),
        C::new("billing_nip", Code),
        C::new("delivery_name", Text),
        C::new("delivery_company", Text),
        C::new("delivery_street", Text),
        C::new("delivery_suburb", Text),
        C::new("delivery_city", Text),
        C::new("delivery_postcode", Code),
        C::new("delivery_state", Text),
        C::new("delivery_country", Text),
        C::new("delivery_country_iso2", Code),
        C::new("payment_method", Text),
        C::new("customer_comment", Text),
        C::new("date_purchased", DateTime),
        C::new("last_modified", DateTime),
        C::new("status_id", Int),
        C::new("status_name", Text),
        C::new("currency", Code),
        C::new("currency_value", Decimal(8)),
        C::new("subtotal", Decimal(4)),
        C::new("shipping_title", Text),
        C::new("shipping_value", Decimal(4)),
        C::new("tax_total", Decimal(4)),
        C::new("other_totals", Decimal(4)),
        C::new("total", Decimal(4)),
        // The totals other than subtotal, delivery, tax and total, one a
        // line: `class value title` (fees and discounts).
        C::new("extra_totals", Text),
    ],
};

/// The lines of a shop order (`orders_products` with the chosen attributes).
pub static SHOP_ORDER_LINES: Entity = Entity {
    name: "shop_order_lines",
    file: "shop_order_lines",
    record: "line",
    key: &["orders_id", "orders_products_id"],
    description: "lines of shop orders",
    child: None,
    parent_key: &["orders_id"],
    columns: &[
        C::new("orders_id", Int).req(),
        C::new("orders_products_id", Int).req(),
        C::new("products_id", Int),
        C::new("model", Code),
        C::new("name", Text),
        C::new("price", Decimal(4)).req(),
        C::new("final_price", Decimal(4)).req(),
        C::new("tax_rate", Decimal(4)).req(),
        C::new("quantity", Int).req(),
        C::new("attributes", Text),
    ],
};

/// Every order id the shop has up to the extract's signpost, in order (the
/// orders flow finds orders deleted in the shop by what is missing). CSV.
pub static SHOP_ORDER_IDS: Entity = Entity {
    name: "shop_order_ids",
    file: "shop_order_ids",
    record: "order",
    key: &["orders_id"],
    description: "every order id of the shop",
    child: None,
    parent_key: &[],
    columns: &[C::new("orders_id", Int).req()],
};

/// Shop records deleted since the last acknowledged extract (customers,
/// products): their links are retired at the load. In the extracted batch
/// and passed on unchanged in the transformed one.
pub static SHOP_DELETED: Entity = Entity {
    name: "shop_deleted",
    file: "shop_deleted",
    record: "deleted",
    key: &["shop_id"],
    description: "shop records deleted in the shop",
    child: None,
    parent_key: &[],
    columns: &[C::new("shop_id", Int).req()],
};

/// Orders for the Magazyn order register (stage `transformed`).
pub static ORDERS: Entity = Entity {
    name: "orders",
    file: "orders",
    record: "order",
    key: &["number"],
    description: "Magazyn orders built from shop orders",
    child: Some(&ORDER_LINES),
    parent_key: &[],
    columns: &[
        C::new("number", Code).req().max(50),
        C::new("confirmed_number", Code).req(),
        C::new("shop", Code).req(),
        C::new("shop_order_id", Int).req(),
        C::new("shop_customer_id", Int),
        C::new("ordered_at", DateTime),
        C::new("status", Text).req(),
        C::new("shop_status", Text),
        C::new("description", Text),
        C::new("currency", Code).req(),
        C::new("currency_rate", Decimal(8)).req(),
        C::new("buyer_name", Text).req(),
        C::new("buyer_is_company", Bool).req(),
        C::new("buyer_nip", Code),
        C::new("buyer_street", Text),
        C::new("buyer_postcode", Code),
        C::new("buyer_city", Text),
        C::new("buyer_country", Code),
        C::new("buyer_email", Text),
        C::new("buyer_phone", Code),
        C::new("recipient_name", Text),
        C::new("recipient_street", Text),
        C::new("recipient_postcode", Code),
        C::new("recipient_city", Text),
        C::new("recipient_country", Code),
        C::new("recipient_phone", Code),
        C::new("recipient_email", Text),
        C::new("total_net", Decimal(2)).req(),
        C::new("total_gross", Decimal(2)).req(),
        C::new("shop_total", Decimal(2)).req(),
        C::new("source_modified", DateTime),
        C::new("customer_comment", Text),
    ],
};

/// Lines of a Magazyn order: goods in shop order, the delivery last.
pub static ORDER_LINES: Entity = Entity {
    name: "order_lines",
    file: "order_lines",
    record: "line",
    key: &["number", "line_no"],
    description: "lines of Magazyn orders",
    child: None,
    parent_key: &["number"],
    columns: &[
        C::new("number", Code).req().max(50),
        C::new("line_no", Int).req(),
        C::new("kind", Code).req(),
        C::new("code", Code),
        C::new("name", Text).req(),
        C::new("quantity", Decimal(4)).req(),
        C::new("unit_net", Decimal(2)).req(),
        C::new("vat_rate", Decimal(2)).req(),
        C::new("unit_gross", Decimal(2)).req(),
        C::new("total_net", Decimal(2)).req(),
        C::new("total_gross", Decimal(2)).req(),
    ],
};

/// Goods as the Magazyn offers them to a shop (products flow, stage
/// `extracted`, written at the Magazyn's site).
pub static MAGAZYN_GOODS: Entity = Entity {
    name: "magazyn_goods",
    file: "magazyn_goods",
    record: "good",
    key: &["code"],
    description: "visible goods with the price of the shop's price list and the stock of its warehouse",
    child: None,
    parent_key: &[],
    columns: &[
        C::new("code", Code).req(),
        C::new("name", Text),
        C::new("vat_symbol", Code),
        C::new("vat_rate", Decimal(4)),
        C::new("barcodes", Code),
        C::new("net", Decimal(4)),
        C::new("gross", Decimal(2)),
        C::new("quantity", Decimal(4)).req(),
        C::new("reserved", Decimal(4)).req(),
        C::new("available", Int).req(),
        C::new("special_net", Decimal(4)),
        C::new("special_gross", Decimal(2)),
    ],
};

/// Changes to shop products (products flow, stage `transformed`): what the
/// shop holds now and what it will hold.
pub static PRODUCT_UPDATES: Entity = Entity {
    name: "product_updates",
    file: "product_updates",
    record: "product",
    key: &["products_id"],
    description: "shop products whose price, quantity or status will change",
    child: None,
    parent_key: &[],
    columns: &[
        C::new("products_id", Int).req(),
        C::new("model", Code).req(),
        C::new("name", Text),
        C::new("good_code", Code).req(),
        C::new("vat_rate", Decimal(4)).req(),
        C::new("gross", Decimal(2)),
        C::new("old_price", Decimal(4)).req(),
        C::new("new_price", Decimal(4)).req(),
        C::new("old_quantity", Int).req(),
        C::new("new_quantity", Int).req(),
        C::new("old_status", Int).req(),
        C::new("new_status", Int).req(),
    ],
};

/// The before-image of shop products a load changed (stage `undo`), and
/// what magsync wrote: `magsync undo` restores a row only where the shop
/// still holds the written values.
pub static PRODUCT_UNDO: Entity = Entity {
    name: "product_undo",
    file: "product_undo",
    record: "product",
    key: &["products_id"],
    description: "before-images of changed shop products",
    child: None,
    parent_key: &[],
    columns: &[
        C::new("products_id", Int).req(),
        C::new("model", Code),
        C::new("price_before", Decimal(4)).req(),
        C::new("quantity_before", Int).req(),
        C::new("status_before", Int).req(),
        C::new("last_modified_before", DateTime),
        C::new("price_written", Decimal(4)).req(),
        C::new("quantity_written", Int).req(),
        C::new("status_written", Int).req(),
        C::new("created", Bool).req(),
    ],
};

/// What the push does to the shop's specials (products flow, stages
/// `transformed` and `undo`; with `end_specials` or `specials_price_list`):
/// `end` a running special, `create` one at the specials list's price,
/// `update` one's price. In the undo batch, what the push did, for `magsync
/// undo` to take back.
pub static SPECIAL_CHANGES: Entity = Entity {
    name: "special_changes",
    file: "special_changes",
    record: "special",
    key: &["products_id"],
    description: "changes to the shop's specials",
    child: None,
    parent_key: &[],
    columns: &[
        C::new("action", Code).req(),
        C::new("specials_id", Int).req(),
        C::new("products_id", Int).req(),
        C::new("model", Code),
        C::new("old_price", Decimal(4)),
        C::new("new_price", Decimal(4)),
    ],
};

/// Goods the shop lacks, to be created as inactive products (products flow,
/// stage `transformed`, with `create_missing`).
pub static PRODUCT_CREATES: Entity = Entity {
    name: "product_creates",
    file: "product_creates",
    record: "product",
    key: &["model"],
    description: "shop products to create (inactive) for goods the shop lacks",
    child: None,
    parent_key: &[],
    columns: &[
        C::new("model", Code).req(),
        C::new("name", Text).req(),
        C::new("tax_class_id", Int).req(),
        C::new("vat_rate", Decimal(4)).req(),
        C::new("gross", Decimal(2)),
        C::new("price", Decimal(4)).req(),
        C::new("quantity", Int).req(),
    ],
};

/// Shop products as read for the catalog and prices flows (stage
/// `extracted`): definitions, the net price and the active special.
pub static SHOP_PRODUCTS: Entity = Entity {
    name: "shop_products",
    file: "shop_products",
    record: "product",
    key: &["products_id"],
    description: "shop products with names, tax, manufacturer and prices",
    child: None,
    parent_key: &[],
    columns: &[
        C::new("products_id", Int).req(),
        C::new("model", Code),
        C::new("model_count", Int).req(),
        C::new("name", Text),
        C::new("description", Text),
        C::new("tax_class_id", Int),
        C::new("tax_class_title", Text),
        C::new("tax_rate", Decimal(4)),
        C::new("weight", Decimal(4)),
        C::new("manufacturer", Text),
        C::new("ean", Code),
        C::new("price", Decimal(4)).req(),
        C::new("special_price", Decimal(4)),
        C::new("status", Int),
        C::new("date_added", DateTime),
        C::new("last_modified", DateTime),
    ],
};

/// Good definitions for the Magazyn's goods register (catalog flow, stage
/// `transformed`).
pub static GOODS: Entity = Entity {
    name: "goods",
    file: "goods",
    record: "good",
    key: &["code"],
    description: "Magazyn good definitions from shop products",
    child: None,
    parent_key: &[],
    columns: &[
        C::new("code", Code).req(),
        C::new("shop", Code).req(),
        C::new("products_id", Int).req(),
        C::new("name", Text).req().max(255),
        C::new("description", Text),
        C::new("vat_symbol", Code).req(),
        C::new("weight", Decimal(4)),
        C::new("manufacturer", Text),
        C::new("ean", Code),
    ],
};

/// Prices for a Magazyn price list (prices flow, stage `transformed`).
pub static PRICE_ENTRIES: Entity = Entity {
    name: "price_entries",
    file: "price_entries",
    record: "price",
    key: &["code"],
    description: "shop prices for the Magazyn's import price list",
    child: None,
    parent_key: &[],
    columns: &[
        C::new("code", Code).req(),
        C::new("shop", Code).req(),
        C::new("products_id", Int).req(),
        C::new("source", Code).req(),
        C::new("net", Decimal(4)).req(),
        C::new("vat_rate", Decimal(4)).req(),
        C::new("gross", Decimal(2)).req(),
    ],
};

/// The cells a spreadsheet review changed (`data/review_changes.csv` of an
/// edited batch).
pub static REVIEW_CHANGES: Entity = Entity {
    name: "review_changes",
    file: "review_changes",
    record: "change",
    key: &["entity", "key", "column"],
    description: "cells changed in a spreadsheet review",
    child: None,
    parent_key: &[],
    columns: &[
        C::new("entity", Code).req(),
        C::new("key", Code).req(),
        C::new("column", Code).req(),
        C::new("old", Text),
        C::new("new", Text),
    ],
};

pub static ALL: &[&Entity] = &[
    &REVIEW_CHANGES,
    &SHOP_PRODUCTS,
    &GOODS,
    &PRICE_ENTRIES,
    &MAGAZYN_GOODS,
    &PRODUCT_UPDATES,
    &PRODUCT_UNDO,
    &PRODUCT_CREATES,
    &SPECIAL_CHANGES,
    &SHOP_CUSTOMERS,
    &CUSTOMERS,
    &SHOP_ORDERS,
    &SHOP_ORDER_LINES,
    &SHOP_ORDER_IDS,
    &SHOP_DELETED,
    &ORDERS,
    &ORDER_LINES,
    &WARNINGS,
    &REJECT_ERRORS,
    &LOAD_COUNTS,
];

/// Entities a batch may hold as XML (each has a shipped XSD in
/// `templates/staging/`); the rest are always CSV.
pub static XML_ENTITIES: &[&Entity] = &[
    &SHOP_CUSTOMERS,
    &CUSTOMERS,
    &SHOP_ORDERS,
    &ORDERS,
    &MAGAZYN_GOODS,
    &PRODUCT_UPDATES,
    &PRODUCT_CREATES,
    &SHOP_PRODUCTS,
    &GOODS,
    &PRICE_ENTRIES,
];

pub fn by_name(name: &str) -> Option<&'static Entity> {
    ALL.iter().copied().find(|e| e.name == name)
}

/// Entities a person reviews in a spreadsheet (not the bookkeeping ones).
pub fn reviewable(e: &Entity) -> bool {
    !["warnings", "reject_errors", "load_counts", "review_changes"].contains(&e.name)
}

/// The entity whose records this entity's records belong to.
pub fn parent_of(child: &Entity) -> Option<&'static Entity> {
    ALL.iter()
        .copied()
        .find(|e| e.child.is_some_and(|c| std::ptr::eq(c, child)))
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
