//! Real shops' text: UTF-8 bytes in latin1 columns, ISO-8859-2 and
//! Windows-1250 bytes; read right, detected with `auto`, and `check`.

use crate::util::*;
use magsync::config::Encoding;
use magsync::shop::TextCodec;

const NAMES: &[(&str, &str, &str)] = &[
    ("Wąsowicz", "Źdźbło", "Łódź"),
    ("Żółkiewska", "Ścibor", "Kraków"),
    ("Chrząszcz", "Ąśka", "Gdańsk"),
    ("Nowak", "Jan", "Zielona Góra"),
];

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// A latin1 shop database whose text is stored as `enc` bytes, written the
/// way a PHP shop with no connection charset writes it (bytes untouched).
fn legacy_shop(test: &str, enc: Encoding) -> Option<MyDb> {
    let db = mariadb_with(test, "latin1")?;
    let c = TextCodec::new(enc);
    let mut sql = String::from("INSERT INTO countries VALUES (1, 'Polska', 'PL', 'POL', 1);\n");
    for (i, (last, first, city)) in NAMES.iter().enumerate() {
        let id = i + 1;
        sql.push_str(&format!(
            "INSERT INTO customers (customers_id, customers_firstname, customers_lastname, customers_email_address, customers_default_address_id, customers_telephone, customers_password) VALUES ({id}, X'{}', X'{}', 'k{id}@example.pl', {id}, '600100200', 'x');\n",
            hex(&c.encode(first)),
            hex(&c.encode(last))
        ));
        sql.push_str(&format!(
            "INSERT INTO address_book (address_book_id, customers_id, entry_firstname, entry_lastname, entry_street_address, entry_postcode, entry_city, entry_country_id) VALUES ({id}, {id}, X'{}', X'{}', X'{}', '00950', X'{}', 1);\n",
            hex(&c.encode(first)),
            hex(&c.encode(last)),
            hex(&c.encode("ul. Żwirki i Wigury 1")),
            hex(&c.encode(city))
        ));
        sql.push_str(&format!("INSERT INTO customers_info (customers_info_id, customers_info_date_account_created) VALUES ({id}, NOW());\n"));
    }
    db.exec(&sql);
    Some(db)
}

#[test]
fn legacy_encodings_are_read_exactly_and_detected() {
    for (i, enc) in [Encoding::Latin1Utf8, Encoding::Latin2, Encoding::Cp1250]
        .into_iter()
        .enumerate()
    {
        let Some(db) = legacy_shop(&format!("enc{i}"), enc) else {
            return;
        };
        let dir = Dir::with_config(
            &config(&db.url, "csv").replace("encoding = \"utf8\"", "encoding = \"auto\""),
        );
        let check = dir.magsync(&["check", "--shop", "s1"]);
        assert!(
            check.stdout.contains(&format!("auto: {}", enc.as_str())),
            "{}",
            check.stdout
        );
        assert!(
            check.stdout.contains("Wąsowicz"),
            "evidence decoded: {}",
            check.stdout
        );
        dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"])
            .ok();
        let rows = magazyn_rows(
            &dir,
            "SELECT name, city, street FROM customers ORDER BY code",
        );
        for ((last, first, city), r) in NAMES.iter().zip(&rows) {
            assert_eq!(r[0], format!("{first} {last}"), "{}", enc.as_str());
            assert_eq!(r[1], *city);
            assert_eq!(r[2], "ul. Żwirki i Wigury 1");
        }
        let tag =
            std::fs::read_to_string(dir.batches("outbox")[0].join("magsync-batch.toml")).unwrap();
        assert!(
            tag.contains(&format!("encoding = \"{}\"", enc.as_str())),
            "{tag}"
        );
        assert!(tag.contains("encoding_detected = \"auto\""), "{tag}");

        // Configured wrongly: check says so, with the fix.
        dir.write("magsync.toml", &config(&db.url, "csv"));
        let check = dir.magsync(&["check", "--shop", "s1"]);
        if enc != Encoding::Latin1Utf8 {
            assert_eq!(check.code, 1, "{}", check.stdout);
            assert!(
                check
                    .stdout
                    .contains(&format!("set encoding = \"{}\"", enc.as_str())),
                "{}",
                check.stdout
            );
        }
    }
}

#[test]
fn check_names_what_a_shop_lacks() {
    let Some(db) = mariadb("check") else { return };
    db.exec("ALTER TABLE orders_total DROP COLUMN class; DROP TABLE specials; ALTER TABLE products ENGINE=MyISAM;
             INSERT INTO products (products_quantity, products_model, products_price, products_date_added, products_weight, products_status, products_tax_class_id) VALUES (1, 'A', 1, NOW(), 0, 1, 0), (1, 'A', 1, NOW(), 0, 1, 0), (1, NULL, 1, NOW(), 0, 1, 0);");
    let dir = Dir::with_config(&config(&db.url, "csv"));
    let run = dir.magsync(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("orders_total.class") && run.stdout.contains("table specials"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("MyISAM"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("1 products without a model, 1 models shared"),
        "{}",
        run.stdout
    );
    // A wrong password file and an unreachable server are errors with advice, not panics.
    dir.write(
        "magsync.toml",
        &config("mysql://nobody@127.0.0.1:1/none", "csv"),
    );
    let run = dir.magsync(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("ERROR    connection"), "{}", run.stdout);
    assert!(!run.stdout.contains("panicked"));
}
