//! The catalog and prices flows: shop products into the goods register and
//! shop prices into a Magazyn price list (MariaDB, osCommerce 2.3.3 schema).

use crate::util::*;
use rust_decimal::Decimal;

fn shop_with_awkward_models(test: &str) -> Option<(MyDb, ShopData)> {
    let db = mariadb(test)?;
    let data = ShopData::new(5, 30, 0, 23);
    db.populate(&data);
    db.exec(
        "UPDATE products SET products_model = 'PL-00002' WHERE products_id = 3;
         UPDATE products SET products_model = NULL WHERE products_id = 4;
         UPDATE products SET products_model = '' WHERE products_id = 5;
         UPDATE products SET products_model = 'LONG-00006' WHERE products_id = 6;",
    );
    Some((db, data))
}

const REFUSED: [i64; 5] = [2, 3, 4, 5, 6];

#[test]
fn catalog_creates_each_good_once_and_never_overwrites_a_definition() {
    let Some((db, data)) = shop_with_awkward_models("catalog") else {
        return;
    };
    let dir = Dir::with_config(&config_with(
        &db.url,
        "csv",
        "[shops.s1.catalog]\ncode_length = 8\n",
    ));
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog"]);
    assert_eq!(
        run.code, 1,
        "rejects make exit code 1:\n{}\n{}",
        run.stdout, run.stderr
    );
    let good = data.products.len() - REFUSED.len();
    assert_eq!(
        run.load_counts_of("catalog").inserted,
        good as u64,
        "{}",
        run.stdout
    );
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM goods"),
        good as i64
    );
    for p in &data.products {
        let rows = magazyn_rows(
            &dir,
            &format!(
                "SELECT name, description, vat_symbol, manufacturer, kind, visible FROM goods WHERE code = '{}'",
                p.model
            ),
        );
        if REFUSED.contains(&p.id) {
            continue;
        }
        assert_eq!(rows.len(), 1, "{}", p.model);
        let r = &rows[0];
        assert_eq!(r[0], p.name_pl);
        assert_eq!(r[1], format!("<p>{}</p>", p.name_pl));
        assert_eq!(r[2], p.rate.to_string());
        assert_eq!(
            (r[3].as_str(), r[4].as_str(), r[5].as_str()),
            ("Fabryka Łódź", "good", "1")
        );
    }
    // The refused products, each with its reason, in the transform's rejects.
    let work = dir.batches("work").pop().unwrap();
    let errors =
        std::fs::read_to_string(work.join("data/rejects/shop_products.errors.csv")).unwrap();
    assert_eq!(errors.matches("duplicate_code").count(), 2, "{errors}");
    assert_eq!(errors.matches("empty_code").count(), 2, "{errors}");
    assert_eq!(errors.matches("code_too_long").count(), 1, "{errors}");
    let rejected = std::fs::read_to_string(work.join("data/rejects/shop_products.csv")).unwrap();
    assert_eq!(rejected.lines().count(), 1 + REFUSED.len());

    // A good renamed in the Magazyn keeps its name through a full re-sync.
    let code = &data.products[0].model;
    magazyn_exec(
        &dir,
        &format!("UPDATE goods SET name = 'Nazwa nadana w Magazynie' WHERE code = '{code}'"),
    );
    let stamps = || {
        magazyn_rows(
            &dir,
            "SELECT code, name, updated_at FROM goods ORDER BY code",
        )
    };
    let before = stamps();
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog", "--full"]);
    let c = run.load_counts_of("catalog");
    assert_eq!(
        (c.inserted, c.updated, c.unchanged),
        (0, 0, good as u64),
        "{}",
        run.stdout
    );
    assert_eq!(stamps(), before);
    assert_eq!(
        magazyn_rows(
            &dir,
            &format!("SELECT name FROM goods WHERE code = '{code}'")
        )[0][0],
        "Nazwa nadana w Magazynie"
    );

    // Unless the configuration names the field.
    dir.write(
        "magsync.toml",
        &config_with(
            &db.url,
            "csv",
            "[shops.s1.catalog]\ncode_length = 8\nupdate = [\"name\"]\n",
        ),
    );
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog", "--full"]);
    assert_eq!(run.load_counts_of("catalog").updated, 1, "{}", run.stdout);
    assert_eq!(
        magazyn_rows(
            &dir,
            &format!("SELECT name FROM goods WHERE code = '{code}'")
        )[0][0],
        data.products[0].name_pl
    );
    check_all_batches(&dir);
}

/// The catalog compares by content: an edit that moves no timestamp
/// arrives on the next ordinary run; a product deleted in the shop is
/// reported once, its link retired and its good kept.
#[test]
fn a_product_deleted_in_the_shop_is_reported_once_and_its_good_kept() {
    let data = ShopData::new(5, 12, 0, 29);
    let Some((db, dir)) = mariadb_site("catalog_deleted", &data, |url| {
        config_with(url, "csv", "[shops.s1.catalog]\nupdate = [\"name\"]\n")
    }) else {
        return;
    };
    dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog"])
        .ok();
    let quiet = dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog"]);
    quiet.ok();
    assert_eq!(
        quiet.load_counts_of("catalog").records,
        0,
        "{}",
        quiet.stdout
    );

    let (renamed, gone) = (&data.products[1], &data.products[4]);
    db.exec(&format!(
        "UPDATE products_description SET products_name = 'Nowa nazwa' WHERE products_id = {r};
         DELETE FROM products_description WHERE products_id = {g};
         DELETE FROM products_to_categories WHERE products_id = {g};
         DELETE FROM products WHERE products_id = {g};",
        r = renamed.id,
        g = gone.id
    ));
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog"]);
    run.ok();
    let c = run.load_counts_of("catalog");
    assert_eq!((c.records, c.updated), (1, 1), "{}", run.stdout);
    assert_eq!(
        magazyn_rows(
            &dir,
            &format!("SELECT name FROM goods WHERE code = '{}'", renamed.model)
        )[0][0],
        "Nowa nazwa"
    );
    assert!(
        run.stdout.contains("deleted_in_shop") && run.stdout.contains(&format!("s1/{}", gone.id)),
        "{}",
        run.stdout
    );
    assert_eq!(
        magazyn_count(
            &dir,
            &format!("SELECT COUNT(*) FROM goods WHERE code = '{}'", gone.model)
        ),
        1,
        "the good is kept"
    );
    assert_eq!(
        magazyn_rows(
            &dir,
            &format!(
                "SELECT COUNT(retired_at) FROM magsync_links WHERE entity = 'product' AND shop_id = '{}'",
                gone.id
            )
        )[0][0],
        "1"
    );
    let again = dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog"]);
    again.ok();
    assert!(
        !again.stdout.contains("deleted_in_shop"),
        "{}",
        again.stdout
    );
    assert_eq!(again.load_counts_of("catalog").records, 0);
}

#[test]
fn prices_update_the_list_and_add_only_when_asked() {
    let Some((db, data)) = shop_with_awkward_models("prices") else {
        return;
    };
    // An active special on product 7; an expired one on product 8.
    db.exec(
        "INSERT INTO specials (products_id, specials_new_products_price, status, expires_date) VALUES (7, 9.9900, 1, NULL);
         INSERT INTO specials (products_id, specials_new_products_price, status, expires_date) VALUES (8, 1.0000, 1, '2001-01-01 00:00:00');",
    );
    let dir = Dir::new();
    let base = "import_price_list = \"Sklep1\"\n[shops.s1.catalog]\ncode_length = 8\n";
    dir.write("magsync.toml", &config_with(&db.url, "csv", base));
    dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog"]);
    // The list holds half of the goods, at stale prices.
    let codes: Vec<String> = magazyn_rows(&dir, "SELECT code FROM goods ORDER BY code")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    rt().block_on(async {
        let mut mag = open_magazyn(dir.path());
        let list = mag.price_list_id("Sklep1").unwrap();
        for code in codes.iter().step_by(2) {
            let id = mag.good_by_code(code).unwrap().unwrap();
            mag.set_price(list, id, Decimal::ZERO, Decimal::ZERO)
                .unwrap();
        }
        mag.close();
    });
    let half = codes.len().div_ceil(2) as i64;
    let entries = || {
        magazyn_rows(
            &dir,
            "SELECT g.code, CAST(p.net AS VARCHAR(40)), CAST(p.gross AS VARCHAR(40)) FROM prices p JOIN goods g ON g.id = p.good_id JOIN price_lists l ON l.id = p.price_list_id WHERE l.name = 'Sklep1' ORDER BY g.code",
        )
    };

    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "prices"]);
    let c = run.load_counts_of("prices");
    assert_eq!((c.inserted, c.updated), (0, half as u64), "{}", run.stdout);
    assert!(run.stdout.contains("not_on_list"), "{}", run.stdout);
    let list = entries();
    assert_eq!(list.len() as i64, half, "the same entries as before");
    for e in &list {
        let p = data.products.iter().find(|p| p.model == e[0]).unwrap();
        let net: Decimal = e[1].parse().unwrap();
        assert_eq!(net, p.price, "{}: the shop's net", e[0]);
        let gross: Decimal = e[2].parse().unwrap();
        let want = magsync::money::gross_of_net(p.price, p.rate, 2).unwrap();
        assert_eq!(gross, want, "{}: gross rounded half-up", e[0]);
    }
    // Nothing changed: nothing written.
    let stamps = || {
        magazyn_rows(
            &dir,
            "SELECT good_id, updated_at FROM prices ORDER BY good_id",
        )
    };
    let before = stamps();
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "prices"]);
    assert_eq!(run.load_counts_of("prices").updated, 0);
    assert_eq!(stamps(), before);

    // add_missing fills the list; use_special takes the active special only.
    dir.write(
        "magsync.toml",
        &config_with(
            &db.url,
            "csv",
            &format!("{base}[shops.s1.prices]\nadd_missing = true\nuse_special = true\n"),
        ),
    );
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "prices"]);
    assert_eq!(
        run.code, 1,
        "the refused models are rejects:\n{}",
        run.stdout
    );
    assert_eq!(entries().len(), codes.len());
    let net_of = |code: &str| entries().into_iter().find(|e| e[0] == code).unwrap()[1].clone();
    assert_eq!(net_of("PL-00007"), "9.9900");
    assert_eq!(
        net_of("PL-00008").parse::<Decimal>().unwrap(),
        data.products[7].price
    );
    check_all_batches(&dir);
}
