//! The customers flow against MariaDB with the osCommerce 2.3.3 schema.

use crate::util::*;
use magsync::demo;
use magsync::polish;

/// The generator writes companies as "<name>, NIP <nip>": the Magazyn gets
/// the name alone, the NIP in its own field.
fn expected_name(c: &demo::Customer) -> String {
    match &c.company {
        Some(company) => company.split(", NIP ").next().unwrap().to_string(),
        None => format!("{} {}", c.firstname, c.lastname),
    }
}

fn expected_postcode(c: &demo::Customer) -> String {
    if c.country_id == 1 {
        polish::normalize_pl_postcode(&c.postcode).unwrap()
    } else {
        c.postcode.clone()
    }
}

/// A MariaDB shop holding these customers (and nothing else) and a test
/// directory configured for it in `format`; `None` when skipped.
fn customers_site(test: &str, list: &[demo::Customer], format: &str) -> Option<(MyDb, Dir)> {
    let db = mariadb(test)?;
    rt().block_on(async {
        let mut shop = db.shop().await;
        demo::populate_customers(&mut shop, list).await.unwrap();
        shop.close().await;
    });
    let dir = Dir::with_config(&config(&db.url, format));
    Some((db, dir))
}

#[test]
fn sync_loads_every_customer_exactly_and_reruns_change_nothing() {
    let list = demo::customers(300, 11);
    let Some((db, dir)) = customers_site("sync", &list, "csv") else {
        return;
    };

    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    run.ok();
    assert_eq!(
        run.load_counts(),
        LoadLine {
            records: 300,
            inserted: 300,
            updated: 0,
            unchanged: 0,
            rejected: 0
        }
    );

    // Exact names and addresses, normalised where the spec says so.
    let rows = magazyn_rows(
        &dir,
        "SELECT code, name, nip, email, postcode, city, country_code, street, is_company FROM customers ORDER BY id",
    );
    assert_eq!(rows.len(), 300);
    for c in &list {
        let code = format!("S1-{}", c.id);
        let r = rows
            .iter()
            .find(|r| r[0] == code)
            .unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(r[1], expected_name(c), "{code} name");
        assert_eq!(r[2], c.nip.clone().unwrap_or_default(), "{code} nip");
        assert_eq!(r[3], c.email, "{code} email");
        assert_eq!(r[4], expected_postcode(c), "{code} postcode");
        assert_eq!(r[5], c.city, "{code} city");
        assert_eq!(
            r[6],
            if c.country_id == 1 { "PL" } else { "DE" },
            "{code} country"
        );
        assert_eq!(r[7], c.street, "{code} street");
        assert_eq!(
            r[8],
            if c.company.is_some() { "1" } else { "0" },
            "{code} is_company"
        );
    }
    assert!(
        rows.iter()
            .any(|r| r[1].contains('ż') || r[1].contains('Ż')),
        "diacritics survive"
    );

    let snapshot = || magazyn_rows(&dir, "SELECT code, updated_at FROM customers ORDER BY id");
    let before = snapshot();
    std::thread::sleep(std::time::Duration::from_millis(1100));

    // Everything again: nothing inserted, nothing updated, no updated_at moved.
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "--full"]);
    run.ok();
    assert_eq!(
        run.load_counts(),
        LoadLine {
            records: 300,
            inserted: 0,
            updated: 0,
            unchanged: 300,
            rejected: 0
        }
    );
    assert_eq!(snapshot(), before);

    // Incremental with nothing changed: nothing to read.
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    run.ok();
    assert_eq!(run.load_counts().inserted + run.load_counts().updated, 0);

    // One customer edited in the shop (as account_edit.php does it): exactly
    // that one is updated.
    db.exec(
        "UPDATE address_book SET entry_city = 'Gdynia', entry_postcode = '81300' WHERE customers_id = 7;
         UPDATE customers_info SET customers_info_date_account_last_modified = NOW() WHERE customers_info_id = 7;",
    );
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    run.ok();
    let counts = run.load_counts();
    assert_eq!((counts.inserted, counts.updated), (0, 1), "{}", run.stdout);
    let after = snapshot();
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a[0].clone())
        .collect();
    assert_eq!(changed, vec!["S1-7".to_string()]);
    let r = magazyn_rows(
        &dir,
        "SELECT city, postcode FROM customers WHERE code = 'S1-7'",
    );
    assert_eq!(r[0], vec!["Gdynia".to_string(), "81-300".to_string()]);

    // A customer created without a customers_info row is still found (by id).
    db.exec(
        "INSERT INTO customers (customers_id, customers_firstname, customers_lastname, customers_email_address, customers_default_address_id, customers_telephone, customers_password)
         VALUES (301, 'Świętopełk', 'Ćwikła', 'S.Cwikla@Example.PL', NULL, '600100200', 'x');",
    );
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    let counts = run.load_counts();
    assert_eq!(counts.inserted, 1, "{}", run.stdout);
    assert_eq!(
        magazyn_rows(&dir, "SELECT name FROM customers WHERE code = 'S1-301'")[0][0],
        "Świętopełk Ćwikła"
    );

    assert!(check_all_batches(&dir) >= 12);
    assert_nowhere(dir.path(), demo::SECRET_MARKER);
    assert_nowhere(dir.path(), "customers_password");
    assert!(!run.stdout.contains(demo::SECRET_MARKER) && !run.stderr.contains(demo::SECRET_MARKER));
}

#[test]
fn nip_match_links_and_ambiguous_name_is_rejected() {
    let list = demo::customers(50, 5);
    let Some((_db, dir)) = customers_site("match", &list, "csv") else {
        return;
    };

    // The Magazyn knows one shop company by its NIP written with dashes, and
    // has two customers with the same name as one private shop customer.
    let by_nip = list
        .iter()
        .find(|c| c.nip.as_deref().is_some_and(polish::nip_checksum_ok))
        .unwrap();
    let by_name = list
        .iter()
        .find(|c| {
            c.company.is_none()
                && list
                    .iter()
                    .filter(|o| expected_name(o) == expected_name(c))
                    .count()
                    == 1
        })
        .unwrap();
    rt().block_on(async {
        let mut mag = open_magazyn(dir.path());
        let row = |code: &str, name: String, nip: Option<String>| magsync::magazyn::CustomerRow {
            code: code.into(),
            name,
            nip,
            ..Default::default()
        };
        let nip = by_nip.nip.clone().unwrap();
        let dashed = format!("{}-{}-{}-{}", &nip[..3], &nip[3..6], &nip[6..8], &nip[8..]);
        mag.customer_insert(&row("K-1", "Stara nazwa firmy".into(), Some(dashed)))
            .unwrap();
        mag.customer_insert(&row("K-2", expected_name(by_name).to_uppercase(), None))
            .unwrap();
        mag.customer_insert(&row("K-3", expected_name(by_name), None))
            .unwrap();
        mag.close();
    });

    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    assert_eq!(
        run.code, 1,
        "completed with rejects:\n{}\n{}",
        run.stdout, run.stderr
    );
    let counts = run.load_counts();
    assert_eq!(counts.rejected, 1);
    assert_eq!(counts.inserted, 48);
    assert_eq!(counts.updated, 1);
    assert!(
        run.stdout.contains(&format!("rejected s1/{}", by_name.id)),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ambiguous_name"), "{}", run.stdout);

    // Linked, not duplicated: K-1 now carries the shop's data under its own code.
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM customers"),
        3 + 48
    );
    let k1 = magazyn_rows(&dir, "SELECT id, name FROM customers WHERE code = 'K-1'");
    assert_eq!(k1[0][1], expected_name(by_nip));
    let link = magazyn_rows(
        &dir,
        &format!(
            "SELECT magazyn_id FROM magsync_links WHERE shop = 's1' AND shop_id = '{}'",
            by_nip.id
        ),
    );
    assert_eq!(link[0][0], k1[0][0]);
    assert_eq!(
        magazyn_count(
            &dir,
            &format!(
                "SELECT COUNT(*) FROM customers WHERE code = 'S1-{}'",
                by_nip.id
            )
        ),
        0
    );
    assert_eq!(
        magazyn_count(
            &dir,
            &format!(
                "SELECT COUNT(*) FROM customers WHERE code = 'S1-{}'",
                by_name.id
            )
        ),
        0
    );

    // The receipt holds the refused record and its reason.
    let receipt = dir.batches("receipts").pop().unwrap();
    let errors =
        std::fs::read_to_string(receipt.join("data/rejects/customers.errors.csv")).unwrap();
    assert!(errors.contains("ambiguous_name"), "{errors}");
    let rejected = std::fs::read_to_string(receipt.join("data/rejects/customers.csv")).unwrap();
    assert!(
        rejected.contains(&format!("s1,{},S1-{}", by_name.id, by_name.id)),
        "{rejected}"
    );

    check_all_batches(&dir);
}

#[test]
fn dry_run_writes_nothing_and_shows_the_changes() {
    let list = demo::customers(20, 3);
    let Some((_db, dir)) = customers_site("dry", &list, "xml") else {
        return;
    };
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "--dry-run"]);
    run.ok();
    assert!(
        run.stdout.contains("dry run: nothing was written"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("insert S1-1: {}", expected_name(&list[0]))),
        "{}",
        run.stdout
    );
    assert_eq!(run.load_counts().inserted, 20);
    assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM customers"), 0);
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM magsync_batches"),
        0
    );
    assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM magsync_links"), 0);
    assert!(dir.batches("receipts").is_empty());

    // The real load of the same (XML) batch, then the same batch again.
    let batch = dir.batches("work").pop().unwrap();
    assert!(batch.join("data/customers.xml").is_file());
    let run = dir.magsync(&["load", batch.to_str().unwrap()]);
    run.ok();
    assert_eq!(run.load_counts().inserted, 20);
    let run = dir.magsync(&["load", batch.to_str().unwrap()]);
    run.ok();
    assert!(run.stdout.contains("already applied"), "{}", run.stdout);
    assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM customers"), 20);
    check_all_batches(&dir);
}

/// A match by name alone may be someone else of that name: the shop
/// customer is linked, the Magazyn record's empty fields are filled, and
/// what the shop would have overwritten is reported, not written — on the
/// first run and on every later one.
#[test]
fn a_weak_match_fills_only_empty_fields_and_says_what_it_kept() {
    let list: Vec<_> = demo::customers(20, 5)
        .into_iter()
        .filter(|c| c.company.is_none() && c.nip.is_none())
        .collect();
    let c = list[0].clone();
    let Some((db, dir)) = customers_site("weak", &list, "csv") else {
        return;
    };
    // An unrelated Magazyn customer of the same name, with an address.
    let name = expected_name(&c);
    rt().block_on(async {
        let mut mag = open_magazyn(dir.path());
        mag.begin().unwrap();
        mag.customer_insert(&magsync::magazyn::CustomerRow {
            code: "K-0001".into(),
            name: name.clone(),
            nip: None,
            email: None,
            phone: None,
            street: Some("ul. Inna 99".into()),
            postcode: Some("99-999".into()),
            city: Some("Suwałki".into()),
            country_code: Some("PL".into()),
            is_company: false,
        })
        .unwrap();
        mag.commit().unwrap();
        mag.close();
    });
    let row = || {
        magazyn_rows(
            &dir,
            "SELECT code, name, street, postcode, city, email FROM customers WHERE code = 'K-0001'",
        )[0]
        .clone()
    };
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    run.ok();
    assert!(
        run.stdout.contains("weak_match") && run.stdout.contains("Suwałki"),
        "{}",
        run.stdout
    );
    assert_eq!(
        row(),
        [
            "K-0001",
            name.as_str(),
            "ul. Inna 99",
            "99-999",
            "Suwałki",
            c.email.as_str()
        ],
        "the address stays, the empty e-mail is filled"
    );
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM customers"),
        list.len() as i64,
        "linked, not created again"
    );
    // Later runs keep to it: the link remembers it was a weak match.
    db.exec(&format!(
        "UPDATE address_book SET entry_city = 'Gniezno' WHERE customers_id = {}",
        c.id
    ));
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "--full"])
        .ok();
    assert_eq!(row()[4], "Suwałki");
}

/// The address book's edits touch no timestamp: `address_book_process.php`
/// updates `address_book` and `customers`, never `customers_info`. They
/// arrive on the next ordinary run all the same; a customer deleted in the
/// admin is reported once, and the Magazyn keeps its record.
#[test]
fn an_address_book_edit_arrives_without_a_timestamp_and_a_deletion_is_reported_once() {
    let list = demo::customers(40, 5);
    let Some((db, dir)) = customers_site("address_book", &list, "csv") else {
        return;
    };
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"])
        .ok();
    let quiet = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    quiet.ok();
    assert_eq!(
        quiet.load_counts().records,
        0,
        "nothing changed, nothing sent"
    );

    let (moved, gone) = (&list[3], &list[7]);
    db.exec(&format!(
        "UPDATE address_book SET entry_street_address = 'ul. Nowa 5', entry_postcode = '30-001', entry_city = 'Kraków'
           WHERE customers_id = {id};
         UPDATE customers SET customers_telephone = '601 000 111' WHERE customers_id = {id};
         DELETE FROM address_book WHERE customers_id = {g};
         DELETE FROM customers_info WHERE customers_info_id = {g};
         DELETE FROM customers WHERE customers_id = {g};",
        id = moved.id,
        g = gone.id
    ));
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    run.ok();
    let counts = run.load_counts();
    assert_eq!((counts.records, counts.updated), (1, 1), "{}", run.stdout);
    let r = magazyn_rows(
        &dir,
        &format!(
            "SELECT street, postcode, city, phone FROM customers WHERE code = 'S1-{}'",
            moved.id
        ),
    );
    assert_eq!(r[0], ["ul. Nowa 5", "30-001", "Kraków", "601 000 111"]);
    let deleted = format!("s1/{}", gone.id);
    assert!(
        run.stdout.contains("deleted_in_shop") && run.stdout.contains(&deleted),
        "{}",
        run.stdout
    );
    assert_eq!(
        magazyn_count(
            &dir,
            &format!(
                "SELECT COUNT(*) FROM customers WHERE code = 'S1-{}'",
                gone.id
            )
        ),
        1,
        "the Magazyn keeps its record"
    );
    let link = magazyn_rows(
        &dir,
        &format!(
            "SELECT COUNT(*), COUNT(retired_at) FROM magsync_links WHERE shop = 's1' AND entity = 'customer' AND shop_id = '{}'",
            gone.id
        ),
    );
    assert_eq!(link[0], ["1", "1"], "its link kept, retired");
    assert_eq!(
        magazyn_count(
            &dir,
            "SELECT COUNT(*) FROM magsync_links WHERE entity = 'customer' AND retired_at IS NULL"
        ),
        39,
        "every other link live"
    );
    let again = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    again.ok();
    assert!(
        !again.stdout.contains("deleted_in_shop"),
        "{}",
        again.stdout
    );
    assert_eq!(again.load_counts().records, 0);
}
