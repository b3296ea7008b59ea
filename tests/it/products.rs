//! The products flow: Magazyn prices and stock into a MariaDB shop with the
//! osCommerce 2.3.3 schema, dry run, idempotence and undo.

use crate::util::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Every product row of the shop, all columns as text (the byte-for-byte check).
fn shop_rows(db: &MyDb) -> Vec<String> {
    mysql_column(
        &db.url,
        "SELECT CONCAT_WS('|', products_id, IFNULL(products_model, 'NULL'), products_price, products_quantity, products_status, IFNULL(products_last_modified, 'NULL')) FROM products ORDER BY products_id",
    )
}

/// (price, quantity, status) of one product.
fn product(db: &MyDb, id: i64) -> (Decimal, i64, i64) {
    let row = shop_rows(db)
        .into_iter()
        .find(|r| r.starts_with(&format!("{id}|")))
        .unwrap();
    let f: Vec<&str> = row.split('|').collect();
    (d(f[2]), f[3].parse().unwrap(), f[4].parse().unwrap())
}

#[test]
fn prices_and_stock_reach_the_shop_exactly_with_dry_run_and_undo() {
    let data = ShopData::new(10, 60, 0, 17);
    let extra =
        "price_list = \"Detal\"\n[shops.s1.products]\nsafety_buffer = 1\nhide_at_or_below = 0\n";
    let Some((db, dir)) = mariadb_site("products", &data, |url| config_with(url, "csv", extra))
    else {
        return;
    };
    // What real shops have: a copied product (same model), models left empty.
    db.exec(
        "UPDATE products SET products_model = 'PL-00002' WHERE products_id = 3;
         UPDATE products SET products_model = NULL WHERE products_id = 4;
         UPDATE products SET products_model = '' WHERE products_id = 5;",
    );
    // The Magazyn: every product's good, gross prices awkward on purpose
    // (19.99 at 8 %, 0.01, …), stock with reservations.
    let grosses = [
        "19.99", "0.01", "7.77", "999.99", "1.05", "12.34", "0.02", "49.00",
    ];
    let mut expected = std::collections::BTreeMap::new();
    rt().block_on(async {
        let (mut mag, list, wh) = open_magazyn_detal(dir.path());
        for (i, p) in data.products.iter().enumerate() {
            let symbol = if p.id == 9 {
                "zw".to_string()
            } else {
                p.rate.to_string()
            };
            let id = mag
                .good_insert(&magsync::magazyn::GoodRow::new(
                    &p.model, &p.name_pl, &symbol,
                ))
                .unwrap();
            let gross = d(grosses[i % grosses.len()]);
            mag.set_price(
                list,
                id,
                magsync::money::net_of_gross(gross, p.rate, 4).unwrap(),
                gross,
            )
            .unwrap();
            let qty = Decimal::from((p.id * 7) % 13);
            mag.set_quantity(wh, id, qty).unwrap();
            if p.id % 4 == 0 {
                mag.reserve(wh, id, Decimal::from(2)).unwrap();
            }
            let reserved = if p.id % 4 == 0 { 2 } else { 0 };
            let avail = ((p.id * 7) % 13 - reserved - 1).max(0);
            expected.insert(p.id, (gross, p.rate, avail));
        }
        mag.close();
    });
    let untouchable = [2i64, 3, 4, 5];
    let before = shop_rows(&db);

    // Dry run: the diff, and the shop byte for byte as it was.
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products", "--dry-run"]);
    run.ok();
    assert!(
        run.stdout.contains("products_price: \"") && run.stdout.contains("\" -> \""),
        "{}",
        run.stdout
    );
    assert_eq!(shop_rows(&db), before);

    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    run.ok();
    let c = run.load_counts_of("products");
    assert!(c.updated >= 50, "{}", run.stdout);
    for p in &data.products {
        let (price, qty, status) = product(&db, p.id);
        if untouchable.contains(&p.id) {
            continue;
        }
        let (gross, rate, avail) = expected[&p.id];
        let shown = magsync::money::gross_of_net(price, rate, 2).unwrap();
        assert_eq!(
            shown, gross,
            "product {}: net {price} at {rate} % shows {shown}, Magazyn gross {gross}",
            p.id
        );
        assert_eq!(qty, avail, "product {} quantity", p.id);
        assert_eq!(status, i64::from(avail > 0), "product {} status", p.id);
    }
    // Duplicate and empty models: untouched, reported.
    let after = shop_rows(&db);
    for id in untouchable {
        let row = |rows: &[String]| {
            rows.iter()
                .find(|r| r.starts_with(&format!("{id}|")))
                .unwrap()
                .clone()
        };
        assert_eq!(
            row(&after),
            row(&before),
            "product {id} must not be written"
        );
    }
    let work = dir.batch_of("work", "products");
    let warnings = std::fs::read_to_string(work.join("data/warnings.csv")).unwrap();
    assert!(
        warnings.contains("duplicate_model") && warnings.contains("products 2, 3"),
        "{warnings}"
    );
    assert_eq!(warnings.matches("empty_model").count(), 2, "{warnings}");
    assert!(
        warnings.contains("vat_mismatch"),
        "good 9 has symbol zw: {warnings}"
    );

    // Nothing changed in the Magazyn: nothing is written to the shop.
    let pushed = shop_rows(&db);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    run.ok();
    assert_eq!(run.load_counts_of("products").updated, 0, "{}", run.stdout);
    assert_eq!(shop_rows(&db), pushed);

    // Undo: every row back to its pre-push values, except one a customer's
    // order changed in between (reported, left alone).
    let sold = 11;
    db.exec(&format!(
        "UPDATE products SET products_quantity = products_quantity - 1 WHERE products_id = {sold}"
    ));
    let undo = dir
        .batches("undo")
        .pop()
        .expect("the push saved a before-image");
    let run = dir.magsync(&["undo", undo.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!("kept {sold} ")),
        "{}",
        run.stdout
    );
    let restored = shop_rows(&db);
    for (b, r) in before.iter().zip(&restored) {
        if b.starts_with(&format!("{sold}|")) {
            assert_ne!(b, r);
        } else {
            assert_eq!(b, r, "restored exactly, last_modified included");
        }
    }
    // Undoing again changes nothing.
    let again = dir.magsync(&["undo", undo.to_str().unwrap()]);
    assert!(again.stdout.contains("0 restored"), "{}", again.stdout);
    assert_eq!(shop_rows(&db), restored);
    check_all_batches(&dir);
}

#[test]
fn goods_the_shop_lacks_can_be_created_inactive_and_undone() {
    let data = ShopData::new(5, 6, 0, 2);
    let extra = "price_list = \"Detal\"\n[shops.s1.products]\ncreate_missing = true\n";
    let dir = sqlite_site(&data, |url| config_with(url, "csv", extra));
    let url = sqlite_shop_url(&dir);
    sqlite_exec(
        &url,
        "INSERT INTO categories (categories_id, parent_id) VALUES (7, 0); INSERT INTO categories_description VALUES (7, 1, 'Nowości');",
    );
    rt().block_on(async {
        let (mut mag, list, wh) = open_magazyn_detal(dir.path());
        for (code, name, vat, gross, qty) in [
            ("NEW-1", "Młynek do kawy", "23", "129.99", 4),
            ("NEW-2", "Kawa ziarnista", "8", "45.50", 9),
            ("TOO-LONG-CODE-123", "Za długi kod", "23", "10.00", 1),
        ] {
            let id = mag
                .good_insert(&magsync::magazyn::GoodRow::new(code, name, vat))
                .unwrap();
            mag.set_price(list, id, d(gross), d(gross)).unwrap();
            mag.set_quantity(wh, id, Decimal::from(qty)).unwrap();
        }
        mag.close();
    });
    let dry = dir.magsync(&["sync", "--shop", "s1", "--flow", "products", "--dry-run"]);
    dry.ok();
    assert!(
        dry.stdout.contains("insert NEW-1: Młynek do kawy"),
        "{}",
        dry.stdout
    );
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    run.ok();
    assert_eq!(run.load_counts_of("products").inserted, 2, "{}", run.stdout);
    let rows = |sql: &str| sqlite_column(&url, sql);
    let created = rows(
        "SELECT p.products_model || '|' || p.products_price || '|' || p.products_quantity || '|' || p.products_status || '|' || p.products_tax_class_id || '|' || d.products_name || '|' || c.categories_id FROM products p JOIN products_description d ON d.products_id = p.products_id JOIN products_to_categories c ON c.products_id = p.products_id WHERE p.products_model LIKE 'NEW-%' ORDER BY p.products_model",
    );
    assert_eq!(
        created,
        vec![
            "NEW-1|105.6829|4|0|1|Młynek do kawy|7".to_string(),
            "NEW-2|42.1296|9|0|2|Kawa ziarnista|7".to_string()
        ]
    );
    let work = dir.batch_of("work", "products");
    let warnings = std::fs::read_to_string(work.join("data/warnings.csv")).unwrap();
    assert!(warnings.contains("model_too_long"), "{warnings}");
    // Again: nothing new.
    let again = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    assert_eq!(
        again.load_counts_of("products").inserted,
        0,
        "{}",
        again.stdout
    );
    assert_eq!(
        rows("SELECT products_model FROM products WHERE products_model LIKE 'NEW-%'").len(),
        2
    );
    // Undo removes what magsync created.
    let undo = dir
        .batches("undo")
        .into_iter()
        .find(|b| {
            std::fs::read_to_string(b.join("data/product_undo.csv"))
                .unwrap()
                .contains("NEW-1")
        })
        .unwrap();
    let u = dir.magsync(&["undo", undo.to_str().unwrap()]);
    u.ok();
    assert!(
        rows("SELECT products_model FROM products WHERE products_model LIKE 'NEW-%'").is_empty()
    );
    assert!(
        rows(
            "SELECT CAST(products_id AS TEXT) FROM products_to_categories WHERE categories_id = 7"
        )
        .is_empty()
    );
    check_all_batches(&dir);
}

/// `hide_at_or_below` hides a product whose stock runs out and shows it
/// again when the stock returns, but only its own hides: a product the
/// admin disabled stays disabled whatever the stock. A shop that sells what
/// it does not hold (STOCK_ALLOW_CHECKOUT) gets no hiding at all.
#[test]
fn magsync_shows_again_only_what_it_hid_and_an_admin_disabled_product_stays_off() {
    let data = ShopData::new(5, 6, 0, 23);
    let extra =
        "price_list = \"Detal\"\n[shops.s1.products]\nsafety_buffer = 0\nhide_at_or_below = 0\n";
    let Some((db, dir)) = mariadb_site("product_status", &data, |url| {
        config_with(url, "csv", extra)
    }) else {
        return;
    };
    let stock = std::cell::RefCell::new(std::collections::BTreeMap::<i64, i64>::new());
    let stocked = |q: &dyn Fn(i64) -> i64| {
        let fresh = stock.borrow().is_empty();
        rt().block_on(async {
            let mut mag = open_magazyn(dir.path());
            if fresh {
                mag.seed(&["MAG".to_string()], &["Detal".to_string()])
                    .unwrap();
            }
            let list = mag.price_list_id("Detal").unwrap();
            let wh = mag.warehouse_id("MAG").unwrap();
            for p in &data.products {
                let id = match mag.good_by_code(&p.model).unwrap() {
                    Some(id) => id,
                    None => {
                        let id = mag.good_insert(&good_row(p)).unwrap();
                        mag.set_price(list, id, p.price, p.gross).unwrap();
                        id
                    }
                };
                mag.set_quantity(wh, id, Decimal::from(q(p.id))).unwrap();
                stock.borrow_mut().insert(p.id, q(p.id));
            }
            mag.close();
        });
    };
    let status = |id: i64| product(&db, id).2;
    // The admin disabled product 2 (a seasonal item, say).
    db.exec("UPDATE products SET products_status = 0 WHERE products_id = 2");

    // Product 1 runs out: hidden. Product 2 has stock: still disabled.
    stocked(&|id| if id == 1 { 0 } else { 5 });
    dir.magsync(&["sync", "--shop", "s1", "--flow", "products"])
        .ok();
    assert_eq!((status(1), status(2), status(3)), (0, 0, 1));
    assert_eq!(product(&db, 2).1, 5, "its stock is pushed all the same");

    // The stock returns: magsync shows product 1 again, never product 2.
    stocked(&|_| 7);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "products"])
        .ok();
    assert_eq!((status(1), status(2)), (1, 0));
    // Product 2 out of stock and back: still the admin's.
    stocked(&|id| if id == 2 { 0 } else { 7 });
    dir.magsync(&["sync", "--shop", "s1", "--flow", "products"])
        .ok();
    stocked(&|_| 9);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "products"])
        .ok();
    assert_eq!((status(1), status(2)), (1, 0));

    // A shop that sells on backorder: nothing is hidden, and it says why.
    db.exec(
        "INSERT INTO configuration (configuration_title, configuration_key, configuration_value, configuration_description, configuration_group_id, date_added)
         VALUES ('Allow Checkout', 'STOCK_ALLOW_CHECKOUT', 'true', 'Allow customer to checkout even if there is insufficient stock', 9, NOW())",
    );
    stocked(&|id| if id == 3 { 0 } else { 9 });
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    run.ok();
    assert_eq!(status(3), 1);
    assert_eq!(product(&db, 3).1, 0);
    assert!(run.stdout.contains("allow_checkout"), "{}", run.stdout);
}

/// A tax class with no rate in the store's zone (a rate for another
/// country only) is taxed at 0 % by the shop: its product gets the price at
/// 0 %, a warning, and its stock all the same.
#[test]
fn a_tax_class_with_no_home_rate_still_gets_its_stock() {
    let data = ShopData::new(3, 4, 0, 31);
    let extra = "price_list = \"Detal\"\n[shops.s1.products]\nsafety_buffer = 0\n";
    let Some((db, dir)) = mariadb_site("no_home_rate", &data, |url| config_with(url, "csv", extra))
    else {
        return;
    };
    db.exec(
        "INSERT INTO tax_class (tax_class_id, tax_class_title, tax_class_description, date_added) VALUES (9, 'Niemcy tylko', 'DE only', NOW());
         INSERT INTO geo_zones (geo_zone_id, geo_zone_name, geo_zone_description, date_added) VALUES (9, 'Niemcy', 'DE', NOW());
         INSERT INTO zones_to_geo_zones (zone_country_id, zone_id, geo_zone_id, date_added) VALUES (2, 0, 9, NOW());
         INSERT INTO tax_rates (tax_zone_id, tax_class_id, tax_priority, tax_rate, tax_description, date_added) VALUES (9, 9, 1, 19.0, 'MwSt 19%', NOW());
         UPDATE products SET products_tax_class_id = 9, products_quantity = 0 WHERE products_id = 1;",
    );

    magazyn_stocked(dir.path(), &data.products, &["Detal"], |_| {
        (Some((d("40.65"), d("50.00"))), Some(Decimal::from(17)))
    });
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    run.ok();
    assert!(run.stdout.contains("no_tax_rate"), "{}", run.stdout);
    // A net shop (the generated one) gets the Magazyn net either way.
    assert_eq!(product(&db, 1), (d("40.6500"), 17, 1), "the stock arrives");
    assert_eq!(product(&db, 2), (d("40.6500"), 17, 1));
    // A gross shop shows price × (1 + rate): at the 0 % it charges, the
    // product gets the Magazyn gross itself.
    db.exec("UPDATE configuration SET configuration_value = 'true' WHERE configuration_key = 'DISPLAY_PRICE_WITH_TAX'");
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    run.ok();
    assert!(run.stdout.contains("no_tax_rate"), "{}", run.stdout);
    assert_eq!(product(&db, 1).0, d("50.0000"), "shows 50.00 at 0 %");
    // What the product page shows (the storefront tests hold gross_of_net
    // to the real page).
    let shown = magsync::money::gross_of_net(product(&db, 2).0, data.products[1].rate, 2).unwrap();
    assert_eq!(shown, d("50.00"), "product 2 at its class's rate");
}
