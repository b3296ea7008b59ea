//! Review in a spreadsheet: export, edit, import.

use crate::util::*;
use calamine::{Data, Reader};
use std::path::{Path, PathBuf};

/// A shop synced in every flow (SQLite shop, embedded Magazyn).
fn synced() -> (Dir, ShopData) {
    let mut data = ShopData::new(20, 8, 30, 12);
    // A web shop customer who typed a formula as her company name.
    data.customers[0].company = Some("=HYPERLINK(\"http://x\";\"klik\")".into());
    let extra = "price_list = \"Detal\"\nimport_price_list = \"Sklep1\"\n[shops.s1.prices]\nadd_missing = true\n";
    let dir = sqlite_site(&data, |url| config_with(url, "csv", extra));
    magazyn_stocked(dir.path(), &data.products, &["Detal", "Sklep1"], |p| {
        (Some((p.price, p.gross + rust_decimal::Decimal::ONE)), None)
    });
    let r = dir.magsync(&["sync", "--shop", "s1"]);
    assert!(r.code <= 1, "{}\n{}", r.stdout, r.stderr);
    (dir, data)
}

fn export(dir: &Dir, batch: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    dir.review_export(batch, &out).ok();
    out
}

/// The batch a review import wrote (its tag says `edited = true`), if any.
fn edited_batch(dir: &Dir) -> Option<PathBuf> {
    dir.batches("work").into_iter().find(|p| {
        std::fs::read_to_string(p.join("magsync-batch.toml"))
            .unwrap()
            .contains("edited = true")
    })
}

#[test]
fn every_batch_goes_out_and_back_without_changes() {
    let (dir, _) = synced();
    let mut n = 0;
    for b in dir.batches("outbox").into_iter().chain(dir.batches("work")) {
        let x = export(&dir, &b, "round.xlsx");
        let r = dir.review_import(&b, &x);
        r.ok();
        assert!(
            r.stdout.contains("no changes"),
            "{}: {}",
            b.display(),
            r.stdout
        );
        n += 1;
    }
    assert!(n >= 10, "{n} batches");
    // Re-saved by LibreOffice Calc: still no changes.
    if soffice_or_skip() {
        let b = dir.batch_of("work", "orders");
        let x = export(&dir, &b, "orders.xlsx");
        let resaved = libreoffice_resave(&dir, &x, "xlsx");
        let r = dir.review_import(&b, &resaved);
        r.ok();
        assert!(r.stdout.contains("no changes"), "{}", r.stdout);
    }
}

#[test]
fn an_edited_name_and_price_become_a_new_batch_with_exactly_those_cells() {
    let (dir, _) = synced();
    let b = dir.batch_of("work", "prices");
    let x = export(&dir, &b, "prices.xlsx");
    let edited = dir.join("edited.xlsx");
    edit_workbook(
        &x,
        &edited,
        &[
            ("price_entries", "gross", 1, "77.77"),
            ("price_entries", "source", 2, "korekta"),
        ],
    );
    let r = dir.review_import(&b, &edited);
    r.ok();
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("  price_entries"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" gross: ") && l.ends_with("-> \"77.77\"")),
        "{}",
        r.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" source: \"price\" -> \"korekta\"")),
        "{}",
        r.stdout
    );
    // The new batch: a valid bag, parent = the reviewed one, marked edited.
    let nb = edited_batch(&dir).expect("an edited batch");
    let tag = std::fs::read_to_string(nb.join("magsync-batch.toml")).unwrap();
    assert!(
        tag.contains(&format!(
            "parent = \"{}\"",
            b.file_name().unwrap().to_string_lossy()
        )),
        "{tag}"
    );
    dir.magsync(&["verify", nb.to_str().unwrap()]).ok();
    bagit_validate(&nb);
    let changes = std::fs::read_to_string(nb.join("data/review_changes.csv")).unwrap();
    assert_eq!(changes.lines().count(), 3, "{changes}");
    // Loading it records the edit in the ledger.
    dir.magsync(&["load", nb.to_str().unwrap()]).ok();
    let led = magazyn_rows(
        &dir,
        &format!(
            "SELECT edited, parent FROM magsync_batches WHERE batch_id = '{}'",
            nb.file_name().unwrap().to_string_lossy()
        ),
    );
    assert_eq!(
        led[0],
        vec![
            "1".to_string(),
            b.file_name().unwrap().to_string_lossy().to_string()
        ]
    );
}

#[test]
fn a_formula_from_the_shop_is_text_and_a_formula_typed_in_is_refused() {
    let (dir, _) = synced();
    let b = dir.batch_of("work", "customers");
    let x = export(&dir, &b, "customers.xlsx");
    let mut wb = calamine::open_workbook_auto(&x).unwrap();
    let range = wb.worksheet_range("customers").unwrap();
    let formulas = wb.worksheet_formula("customers").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no formula anywhere"
    );
    assert!(
        range.used_cells().any(
            |(_, _, c)| matches!(c, Data::String(s) if s == "=HYPERLINK(\"http://x\";\"klik\")")
        )
    );
    // A code that lost its leading zeros is named, cell and all.
    let edited = dir.join("zeros.xlsx");
    let row = range
        .rows()
        .position(|r| {
            r.iter()
                .any(|c| matches!(c, Data::String(s) if s == "00-950"))
        })
        .expect("a Warsaw postcode")
        - 1;
    edit_workbook(&x, &edited, &[("customers", "postcode", row, "#950")]);
    let r = dir.review_import(&b, &edited);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(&format!("sheet customers, cell I{}", row + 2))
            && r.stderr.contains("a number (950) where text belongs"),
        "{}",
        r.stderr
    );
    // A formula typed into a cell is refused, naming it.
    edit_workbook(&x, &edited, &[("customers", "city", 0, "=UPPER(\"x\")")]);
    let r = dir.review_import(&b, &edited);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("sheet customers, cell J2") && r.stderr.contains("a formula"),
        "{}",
        r.stderr
    );
    // Nothing was written for either.
    assert!(edited_batch(&dir).is_none());
}

/// A CSV file rewritten with semicolons between its fields, as a spreadsheet
/// in a Polish locale saves it, each record (its index, its fields) passed
/// through `edit` first.
fn semicolon_csv(text: &str, mut edit: impl FnMut(usize, &mut [String])) -> Vec<u8> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    w.write_record(rdr.headers().unwrap()).unwrap();
    for (i, rec) in rdr.records().enumerate() {
        let mut rec: Vec<String> = rec.unwrap().iter().map(String::from).collect();
        edit(i, &mut rec);
        w.write_record(&rec).unwrap();
    }
    w.into_inner().unwrap()
}

#[test]
fn a_polish_excel_csv_imports_with_the_right_values() {
    let (dir, _) = synced();
    let b = dir.batch_of("work", "customers");
    let orig = std::fs::read_to_string(b.join("data/customers.csv")).unwrap();
    // As Polish Excel saves it: semicolons, Windows-1250, CRLF.
    let mut first_city = String::new();
    let text = semicolon_csv(&orig, |i, rec| {
        if i == 0 {
            first_city = rec[9].clone();
            rec[9] = "Świnoujście".into();
        }
    });
    let text = String::from_utf8(text).unwrap();
    let cp1250 = encoding_rs::WINDOWS_1250.encode(&text).0.into_owned();
    let csv_path = dir.join("klienci.csv");
    std::fs::write(&csv_path, cp1250).unwrap();
    let r = dir.review_import(&b, &csv_path);
    r.ok();
    assert!(
        r.stdout.contains("Windows-1250, semicolon-separated"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("city: {first_city:?} -> \"Świnoujście\"")),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("  customers"))
            .count(),
        1,
        "{}",
        r.stdout
    );

    // Decimal commas: the order lines of an orders batch.
    let ob = dir.batch_of("work", "orders");
    let lines = std::fs::read_to_string(ob.join("data/order_lines.csv")).unwrap();
    let p = dir.join("pozycje.csv");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(semicolon_csv(&lines, |_, rec| {
        for f in rec.iter_mut() {
            if f.parse::<f64>().is_ok() && f.contains('.') {
                *f = f.replace('.', ",");
            }
        }
    }));
    std::fs::write(&p, bytes).unwrap();
    let r = dir.review_import(&ob, &p);
    r.ok();
    assert!(
        r.stdout
            .contains("UTF-8 with BOM, semicolon-separated, decimal comma")
            && r.stdout.contains("no changes"),
        "{}",
        r.stdout
    );
}

/// Real amounts come back exactly: large, tiny, negative, and one with more
/// digits than a spreadsheet number holds (kept as a text cell with a note),
/// untouched and after LibreOffice saved it. A description longer than a
/// cell holds is refused by name in a catalog workbook, and left out of a
/// prices workbook, which does not use it.
#[test]
fn real_amounts_round_trip_exactly_and_a_description_too_long_for_a_cell_is_named() {
    let data = ShopData::new(3, 6, 0, 19);
    let dir = sqlite_site(&data, |url| {
        config_with(url, "csv", "import_price_list = \"Sklep1\"\n")
    });
    let url = sqlite_shop_url(&dir);
    let long = "Opis. ".repeat(6_700); // 40 200 characters
    rt().block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
        for (id, price) in [
            (1, "81300812.9919"),
            (2, "99999999.99"),
            (3, "0.0001"),
            (4, "-12.3456"),
            (5, "1234567890123.4567"),
        ] {
            sqlx::query("UPDATE products SET products_price = ? WHERE products_id = ?")
                .bind(price)
                .bind(id)
                .execute(&mut c)
                .await
                .unwrap();
        }
        sqlx::query(
            "UPDATE products_description SET products_description = ? WHERE products_id = 6",
        )
        .bind(&long)
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    });
    dir.magsync(&["extract", "--shop", "s1", "--flow", "prices"])
        .ok();
    let prices = dir.batches("outbox").pop().unwrap();
    let x = export(&dir, &prices, "prices.xlsx");
    let import = |file: &Path| {
        let r = dir.review_import(&prices, file);
        r.ok();
        r.stdout
    };
    let out = import(&x);
    assert!(out.contains("no changes"), "{out}");
    if soffice_or_skip() {
        for fmt in ["ods", "xlsx"] {
            let out = import(&libreoffice_resave(&dir, &x, fmt));
            assert!(out.contains("no changes"), "{fmt}: {out}");
        }
    }
    // The amount no double holds is a text cell, with a note saying so.
    let mut wb = calamine::open_workbook_auto(&x).unwrap();
    let range = wb.worksheet_range("shop_products").unwrap();
    let header = sheet_header(&range);
    assert!(!header.iter().any(|h| h == "description"), "{header:?}");
    let price = header.iter().position(|h| h == "price").unwrap();
    let cells: Vec<Data> = range.rows().skip(1).map(|r| r[price].clone()).collect();
    assert!(
        cells.contains(&Data::String("1234567890123.4567".into())),
        "{cells:?}"
    );
    assert!(cells.contains(&Data::Float(81300812.9919)), "{cells:?}");

    dir.magsync(&["extract", "--shop", "s1", "--flow", "catalog"])
        .ok();
    let catalog = dir.batch_of("outbox", "catalog");
    let r = dir.review_export(&catalog, &dir.join("catalog.xlsx"));
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("shop_products 6, description: 40200 characters"),
        "{}",
        r.stderr
    );
}
