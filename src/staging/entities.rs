//! Every entity a batch can hold, in one place. `docs/staging-format.md`
//! describes the same definitions for other programs; the XSDs under
//! `templates/staging/` are checked against them by the tests.

use super::schema::Entity;

crate::entities! {
/// Customers as read from the shop (customers flow, stage `extracted`).
/// A faithful copy of the shop's data: no normalisation, and never a
/// password or password hash.
pub static SHOP_CUSTOMERS: Entity => ShopCustomer {
    name: "shop_customers",
    file: "shop_customers",
    record: "customer",
    key: ["customers_id"],
    description: "registered shop customers with their default address",
    child: None,
    parent_key: [],
    columns {
        customers_id: Int.req(),
        gender: Code,
        firstname: Text,
        lastname: Text,
        email: Text,
        telephone: Code,
        fax: Code,
        company: Text,
        street: Text,
        suburb: Text,
        postcode: Code,
        city: Text,
        state: Text,
        country: Text,
        country_iso2: Code,
        nip: Code,
        created_at: DateTime,
        modified_at: DateTime,
    }
}

/// Customers ready for the Magazyn customer register (stage `transformed`).
pub static CUSTOMERS: Entity => Customer {
    name: "customers",
    file: "customers",
    record: "customer",
    key: ["shop", "shop_customer_id"],
    description: "Magazyn customer records built from shop customers",
    child: None,
    parent_key: [],
    columns {
        shop: Code.req(),
        shop_customer_id: Int.req(),
        code: Code.req().max(40),
        name: Text.req().max(255),
        nip: Code.max(20),
        email: Text.max(255),
        phone: Code.max(64),
        street: Text.max(255),
        postcode: Code.max(20),
        city: Text.max(255),
        country_code: Code.max(2),
        is_company: Bool.req(),
        source_modified: DateTime,
    }
}

/// Per-record warnings of a stage (loaded anyway), e.g. a NIP with a bad
/// checksum. File `data/warnings.csv`.
pub static WARNINGS: Entity => Warning {
    name: "warnings",
    file: "warnings",
    record: "warning",
    key: ["entity", "key", "field", "code"],
    description: "records that were passed on with a warning",
    child: None,
    parent_key: [],
    columns {
        entity: Code.req(),
        key: Code,
        field: Code,
        code: Code.req(),
        message: Text.req(),
    }
}

/// Why each rejected record was rejected: `data/rejects/<entity>.errors.csv`,
/// beside `data/rejects/<entity>.csv` holding the original records.
pub static REJECT_ERRORS: Entity => RejectError {
    name: "reject_errors",
    file: "errors",
    record: "error",
    key: ["line", "field", "code"],
    description: "reasons for rejected records",
    child: None,
    parent_key: [],
    columns {
        file: Code.req(),
        line: Int.req(),
        key: Code,
        field: Code,
        code: Code.req(),
        message: Text.req(),
    }
}

/// What a load did, per entity (receipt batches).
pub static LOAD_COUNTS: Entity => LoadCount {
    name: "load_counts",
    file: "load_counts",
    record: "count",
    key: ["entity"],
    description: "per-entity counts of a load",
    child: None,
    parent_key: [],
    columns {
        batch: Code.req(),
        entity: Code.req(),
        status: Code.req(),
        records: Int.req(),
        inserted: Int.req(),
        updated: Int.req(),
        unchanged: Int.req(),
        rejected: Int.req(),
    }
}

/// Orders as read from the shop (orders flow, stage `extracted`): the
/// header, the billing and delivery blocks, the status name in the shop's
/// language and the order totals by class.
pub static SHOP_ORDERS: Entity => ShopOrder {
    name: "shop_orders",
    file: "shop_orders",
    record: "order",
    key: ["orders_id"],
    description: "shop orders with their totals",
    child: Some(&SHOP_ORDER_LINES),
    parent_key: [],
    columns {
        orders_id: Int.req(),
        customers_id: Int,
        customers_name: Text,
        customers_company: Text,
        customers_email: Text,
        customers_telephone: Code,
        billing_name: Text,
        billing_company: Text,
        billing_street: Text,
        billing_suburb: Text,
        billing_city: Text,
        billing_postcode: Code,
        billing_state: Text,
        billing_country: Text,
        billing_country_iso2: Code,
        billing_nip: Code,
        delivery_name: Text,
        delivery_company: Text,
        delivery_street: Text,
        delivery_suburb: Text,
        delivery_city: Text,
        delivery_postcode: Code,
        delivery_state: Text,
        delivery_country: Text,
        delivery_country_iso2: Code,
        payment_method: Text,
        customer_comment: Text,
        date_purchased: DateTime,
        last_modified: DateTime,
        status_id: Int,
        status_name: Text,
        currency: Code,
        currency_value: Decimal(8),
        subtotal: Decimal(4),
        shipping_title: Text,
        shipping_value: Decimal(4),
        tax_total: Decimal(4),
        other_totals: Decimal(4),
        total: Decimal(4),
        // The totals other than subtotal, delivery, tax and total, one a
        // line: `class value title` (fees and discounts).
        extra_totals: Text,
    }
}

/// The lines of a shop order (`orders_products` with the chosen attributes).
pub static SHOP_ORDER_LINES: Entity => ShopOrderLine {
    name: "shop_order_lines",
    file: "shop_order_lines",
    record: "line",
    key: ["orders_id", "orders_products_id"],
    description: "lines of shop orders",
    child: None,
    parent_key: ["orders_id"],
    columns {
        orders_id: Int.req(),
        orders_products_id: Int.req(),
        products_id: Int,
        model: Code,
        name: Text,
        price: Decimal(4).req(),
        final_price: Decimal(4).req(),
        tax_rate: Decimal(4).req(),
        quantity: Int.req(),
        attributes: Text,
    }
}

/// Every order id the shop has up to the extract's signpost, in order (the
/// orders flow finds orders deleted in the shop by what is missing). CSV.
pub static SHOP_ORDER_IDS: Entity => ShopOrderId {
    name: "shop_order_ids",
    file: "shop_order_ids",
    record: "order",
    key: ["orders_id"],
    description: "every order id of the shop",
    child: None,
    parent_key: [],
    columns {
        orders_id: Int.req(),
    }
}

/// Shop records deleted since the last acknowledged extract (customers,
/// products): their links are retired at the load. In the extracted batch
/// and passed on unchanged in the transformed one.
pub static SHOP_DELETED: Entity => ShopDeleted {
    name: "shop_deleted",
    file: "shop_deleted",
    record: "deleted",
    key: ["shop_id"],
    description: "shop records deleted in the shop",
    child: None,
    parent_key: [],
    columns {
        shop_id: Int.req(),
    }
}

/// Orders for the Magazyn order register (stage `transformed`).
pub static ORDERS: Entity => Order {
    name: "orders",
    file: "orders",
    record: "order",
    key: ["number"],
    description: "Magazyn orders built from shop orders",
    child: Some(&ORDER_LINES),
    parent_key: [],
    columns {
        number: Code.req().max(50),
        confirmed_number: Code.req(),
        shop: Code.req(),
        shop_order_id: Int.req(),
        shop_customer_id: Int,
        ordered_at: DateTime,
        status: Text.req(),
        shop_status: Text,
        description: Text,
        currency: Code.req(),
        currency_rate: Decimal(8).req(),
        buyer_name: Text.req(),
        buyer_is_company: Bool.req(),
        buyer_nip: Code,
        buyer_street: Text,
        buyer_postcode: Code,
        buyer_city: Text,
        buyer_country: Code,
        buyer_email: Text,
        buyer_phone: Code,
        recipient_name: Text,
        recipient_street: Text,
        recipient_postcode: Code,
        recipient_city: Text,
        recipient_country: Code,
        recipient_phone: Code,
        recipient_email: Text,
        total_net: Decimal(2).req(),
        total_gross: Decimal(2).req(),
        shop_total: Decimal(2).req(),
        source_modified: DateTime,
        customer_comment: Text,
    }
}

/// Lines of a Magazyn order: goods in shop order, the delivery last.
pub static ORDER_LINES: Entity => OrderLine {
    name: "order_lines",
    file: "order_lines",
    record: "line",
    key: ["number", "line_no"],
    description: "lines of Magazyn orders",
    child: None,
    parent_key: ["number"],
    columns {
        number: Code.req().max(50),
        line_no: Int.req(),
        kind: Code.req(),
        code: Code,
        name: Text.req(),
        quantity: Decimal(4).req(),
        unit_net: Decimal(2).req(),
        vat_rate: Decimal(2).req(),
        unit_gross: Decimal(2).req(),
        total_net: Decimal(2).req(),
        total_gross: Decimal(2).req(),
    }
}

/// Goods as the Magazyn offers them to a shop (products flow, stage
/// `extracted`, written at the Magazyn's site).
pub static MAGAZYN_GOODS: Entity => MagazynGood {
    name: "magazyn_goods",
    file: "magazyn_goods",
    record: "good",
    key: ["code"],
    description: "visible goods with the price of the shop's price list and the stock of its warehouse",
    child: None,
    parent_key: [],
    columns {
        code: Code.req(),
        name: Text,
        vat_symbol: Code,
        vat_rate: Decimal(4),
        barcodes: Code,
        net: Decimal(4),
        gross: Decimal(2),
        quantity: Decimal(4).req(),
        reserved: Decimal(4).req(),
        available: Int.req(),
        special_net: Decimal(4),
        special_gross: Decimal(2),
    }
}

/// Changes to shop products (products flow, stage `transformed`): what the
/// shop holds now and what it will hold.
pub static PRODUCT_UPDATES: Entity => ProductUpdate {
    name: "product_updates",
    file: "product_updates",
    record: "product",
    key: ["products_id"],
    description: "shop products whose price, quantity or status will change",
    child: None,
    parent_key: [],
    columns {
        products_id: Int.req(),
        model: Code.req(),
        name: Text,
        good_code: Code.req(),
        vat_rate: Decimal(4).req(),
        gross: Decimal(2),
        old_price: Decimal(4).req(),
        new_price: Decimal(4).req(),
        old_quantity: Int.req(),
        new_quantity: Int.req(),
        old_status: Int.req(),
        new_status: Int.req(),
    }
}

/// The before-image of shop products a load changed (stage `undo`), and
/// what magsync wrote: `magsync undo` restores a row only where the shop
/// still holds the written values.
pub static PRODUCT_UNDO: Entity => ProductUndo {
    name: "product_undo",
    file: "product_undo",
    record: "product",
    key: ["products_id"],
    description: "before-images of changed shop products",
    child: None,
    parent_key: [],
    columns {
        products_id: Int.req(),
        model: Code,
        price_before: Decimal(4).req(),
        quantity_before: Int.req(),
        status_before: Int.req(),
        last_modified_before: DateTime,
        price_written: Decimal(4).req(),
        quantity_written: Int.req(),
        status_written: Int.req(),
        created: Bool.req(),
    }
}

/// What the push does to the shop's specials (products flow, stages
/// `transformed` and `undo`; with `end_specials` or `specials_price_list`):
/// `end` a running special, `create` one at the specials list's price,
/// `update` one's price. In the undo batch, what the push did, for `magsync
/// undo` to take back.
pub static SPECIAL_CHANGES: Entity => SpecialChange {
    name: "special_changes",
    file: "special_changes",
    record: "special",
    key: ["products_id"],
    description: "changes to the shop's specials",
    child: None,
    parent_key: [],
    columns {
        action: Code.req(),
        specials_id: Int.req(),
        products_id: Int.req(),
        model: Code,
        old_price: Decimal(4),
        new_price: Decimal(4),
    }
}

/// Goods the shop lacks, to be created as inactive products (products flow,
/// stage `transformed`, with `create_missing`).
pub static PRODUCT_CREATES: Entity => ProductCreate {
    name: "product_creates",
    file: "product_creates",
    record: "product",
    key: ["model"],
    description: "shop products to create (inactive) for goods the shop lacks",
    child: None,
    parent_key: [],
    columns {
        model: Code.req(),
        name: Text.req(),
        tax_class_id: Int.req(),
        vat_rate: Decimal(4).req(),
        gross: Decimal(2),
        price: Decimal(4).req(),
        quantity: Int.req(),
    }
}

/// Shop products as read for the catalog and prices flows (stage
/// `extracted`): definitions, the net price and the active special.
pub static SHOP_PRODUCTS: Entity => ShopProduct {
    name: "shop_products",
    file: "shop_products",
    record: "product",
    key: ["products_id"],
    description: "shop products with names, tax, manufacturer and prices",
    child: None,
    parent_key: [],
    columns {
        products_id: Int.req(),
        model: Code,
        model_count: Int.req(),
        name: Text,
        description: Text,
        tax_class_id: Int,
        tax_class_title: Text,
        tax_rate: Decimal(4),
        weight: Decimal(4),
        manufacturer: Text,
        ean: Code,
        price: Decimal(4).req(),
        special_price: Decimal(4),
        status: Int,
        date_added: DateTime,
        last_modified: DateTime,
    }
}

/// Good definitions for the Magazyn's goods register (catalog flow, stage
/// `transformed`).
pub static GOODS: Entity => Good {
    name: "goods",
    file: "goods",
    record: "good",
    key: ["code"],
    description: "Magazyn good definitions from shop products",
    child: None,
    parent_key: [],
    columns {
        code: Code.req(),
        shop: Code.req(),
        products_id: Int.req(),
        name: Text.req().max(255),
        description: Text,
        vat_symbol: Code.req(),
        weight: Decimal(4),
        manufacturer: Text,
        ean: Code,
    }
}

/// Prices for a Magazyn price list (prices flow, stage `transformed`).
pub static PRICE_ENTRIES: Entity => PriceEntry {
    name: "price_entries",
    file: "price_entries",
    record: "price",
    key: ["code"],
    description: "shop prices for the Magazyn's import price list",
    child: None,
    parent_key: [],
    columns {
        code: Code.req(),
        shop: Code.req(),
        products_id: Int.req(),
        source: Code.req(),
        net: Decimal(4).req(),
        vat_rate: Decimal(4).req(),
        gross: Decimal(2).req(),
    }
}

/// The cells a spreadsheet review changed (`data/review_changes.csv` of an
/// edited batch).
pub static REVIEW_CHANGES: Entity => ReviewChange {
    name: "review_changes",
    file: "review_changes",
    record: "change",
    key: ["entity", "key", "column"],
    description: "cells changed in a spreadsheet review",
    child: None,
    parent_key: [],
    columns {
        entity: Code.req(),
        key: Code.req(),
        column: Code.req(),
        old: Text,
        new: Text,
    }
}
}

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
