//! The Magazyn store itself, on whichever backend the tests run on
//! (SQLite, or Firebird 3 with `MAGSYNC_TEST_MAGAZYN=firebird`): money kept
//! exactly, and a load that meets another program's lock.

use crate::util::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Awkward amounts go in and come back exactly: the smallest unit, the
/// largest NUMERIC(18,4) holds, values a double cannot represent.
#[test]
fn money_round_trips_exactly() {
    let dir = Dir::new();
    // (net with 4 places, gross with 2)
    let cases = [
        ("0.0001", "0.01"),
        ("0.1", "0.10"),
        ("16.2520", "19.99"),
        ("12345678901234.5678", "15185185048518.52"),
        ("99999999999999.9999", "99999999999999.99"),
        ("-0.0001", "-0.01"),
        ("0", "0.00"),
        ("1.0005", "1.23"),
    ];
    rt().block_on(async {
        let (mut mag, list, wh) = open_magazyn_detal(dir.path());
        mag.begin().unwrap();
        let mut ids = Vec::new();
        for (i, (net, gross)) in cases.iter().enumerate() {
            let id = mag
                .good_insert(&magsync::magazyn::GoodRow::new(
                    &format!("M-{i}"),
                    "Kwota",
                    "23",
                ))
                .unwrap();
            mag.set_price(list, id, d(net), d(gross)).unwrap();
            mag.set_quantity(wh, id, d(net).abs()).unwrap();
            // A reservation of the smallest unit.
            mag.reserve(wh, id, d("0.0001")).unwrap();
            ids.push(id);
        }
        mag.commit().unwrap();
        for ((net, gross), id) in cases.iter().zip(&ids) {
            let (n, g) = mag.price_get(list, *id).unwrap().unwrap();
            assert_eq!((n, g), (d(net), d(gross)), "good {id}");
        }
        mag.close();
    });
    // The same through a query, as text: no digit lost anywhere.
    let rows = magazyn_rows(
        &dir,
        "SELECT g.code, CAST(p.net AS VARCHAR(40)), CAST(p.gross AS VARCHAR(40)), CAST(s.quantity AS VARCHAR(40)), CAST(s.reserved AS VARCHAR(40)) FROM goods g JOIN prices p ON p.good_id = g.id JOIN stock s ON s.good_id = g.id ORDER BY g.id",
    );
    assert_eq!(rows.len(), cases.len());
    for (r, (net, gross)) in rows.iter().zip(&cases) {
        assert_eq!(d(&r[1]), d(net), "{r:?}");
        assert_eq!(d(&r[2]), d(gross), "{r:?}");
        assert_eq!(d(&r[3]), d(net).abs(), "{r:?}");
        assert_eq!(d(&r[4]), d("0.0001"), "{r:?}");
    }
    // And the columns are exact types: NUMERIC on Firebird (a scaled
    // integer), never DOUBLE PRECISION; decimal text on SQLite.
    match firebird() {
        Some(_) => {
            let types = magazyn_rows(
                &dir,
                "SELECT TRIM(r.RDB$RELATION_NAME) || '.' || TRIM(r.RDB$FIELD_NAME), f.RDB$FIELD_TYPE, f.RDB$FIELD_SCALE FROM RDB$RELATION_FIELDS r JOIN RDB$FIELDS f ON f.RDB$FIELD_NAME = r.RDB$FIELD_SOURCE WHERE r.RDB$FIELD_NAME IN ('NET', 'GROSS', 'QUANTITY', 'RESERVED', 'TOTAL_NET', 'TOTAL_GROSS', 'UNIT_NET', 'UNIT_GROSS') AND NOT (r.RDB$RELATION_NAME = 'ORDERS' AND r.RDB$FIELD_NAME = 'RESERVED') ORDER BY 1",
            );
            assert!(types.len() >= 10, "{types:?}");
            for t in &types {
                // 16 = BIGINT storage; a negative scale makes it NUMERIC(18, -scale).
                assert_eq!(t[1], "16", "{} is not NUMERIC(18,n): {t:?}", t[0]);
                assert!(
                    t[2].starts_with('-'),
                    "{} has no decimal places: {t:?}",
                    t[0]
                );
            }
        }
        None => {
            let kinds = magazyn_rows(
                &dir,
                "SELECT DISTINCT typeof(net) || ' ' || typeof(gross) FROM prices",
            );
            assert_eq!(kinds, vec![vec!["text text".to_string()]]);
        }
    }
}

/// Another program holds data the load must change: the load waits
/// `lock_wait`, rolls back, tries twice more, then says so with nothing
/// applied; once the other program lets go, the rerun loads everything.
#[test]
fn a_load_meeting_a_lock_retries_then_gives_up_cleanly() {
    let data = ShopData::new(20, 8, 30, 5);
    let dir = sqlite_site(&data, |url| {
        config(url, "csv").replace(
            "url = \"sqlite://magazyn.db\"",
            "url = \"sqlite://magazyn.db\"\nlock_wait = 1",
        )
    });
    magazyn_stocked(dir.path(), &data.products, &[], |_| {
        (None, Some(Decimal::from(100)))
    });
    let batch = dir.transformed("orders");
    let batch = batch.to_str().unwrap();

    // The other program: a write transaction holding every stock row
    // (Firebird: row locks; SQLite: the database's write lock).
    let held = rt().block_on(async {
        let mut other = open_magazyn(dir.path());
        other.begin().unwrap();
        other
            .raw_exec("UPDATE stock SET quantity = quantity")
            .unwrap();
        other
    });
    let t0 = std::time::Instant::now();
    let run = dir.magsync(&["load", batch]);
    let took = t0.elapsed();
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains("gave up after 3 attempts")
            && run.stderr.contains("nothing was applied"),
        "{}",
        run.stderr
    );
    // Three waits of lock_wait (1 s) and the pauses between them.
    assert!(took.as_secs_f64() >= 3.0, "gave up after only {took:?}");
    rt().block_on(async {
        let mut other = held;
        other.rollback().unwrap();
        other.close();
    });
    for t in ["orders", "order_lines", "magsync_batches"] {
        assert_eq!(
            magazyn_count(&dir, &format!("SELECT COUNT(*) FROM {t}")),
            0,
            "{t}: nothing of the batch may be there"
        );
    }

    let run = dir.magsync(&["load", batch]);
    run.ok();
    let public = data.orders.iter().filter(|o| o.status != 6).count() as i64;
    assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM orders"), public);
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM magsync_batches"),
        1
    );
}

/// A DGCS company database may be WIN1250: `check` names the engine and the
/// character set, and Polish text goes in and comes back exactly (the server
/// converts between the database's character set and the UTF-8 connection).
/// Firebird only (SQLite is UTF-8 throughout).
#[test]
fn a_win1250_firebird_magazyn_keeps_polish_text() {
    let Some(fb) = firebird() else {
        println!("SKIPPED: the Magazyn is not on Firebird in this run");
        return;
    };
    let dir = Dir::new();
    // The company database exists already, in WIN1250 (as DGCS makes them).
    let target = magsync::magazyn::firebird::FbTarget::parse(&magazyn_url(dir.path())).unwrap();
    {
        use rsfbclient::Execute;
        let (mut conn, created) = target.connect(&fb.password, true).unwrap();
        assert!(created);
        conn.execute("ALTER DATABASE SET DEFAULT CHARACTER SET WIN1250", ())
            .unwrap();
        conn.close().unwrap();
    }
    let mut data = ShopData::new(12, 2, 0, 8);
    data.customers[0].lastname = "Żółkiewska-Gęślą".into();
    data.customers[0].company = Some("Zakład Ślusarski „Łoś” sp. z o.o.".into());
    let url = sqlite_shop_with(&dir, &data);
    dir.write("magsync.toml", &config(&url, "csv"));
    let check = dir.magsync(&["check"]);
    assert!(
        check.stdout.contains("Firebird 3.") && check.stdout.contains("character set WIN1250"),
        "{}",
        check.stdout
    );
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"])
        .ok();
    let names: Vec<String> = magazyn_rows(&dir, "SELECT name FROM customers ORDER BY id")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(names.len(), data.customers.len());
    assert!(
        names
            .iter()
            .any(|n| n.contains("Zakład Ślusarski „Łoś” sp. z o.o.")),
        "{names:?}"
    );
    // A second sync finds every customer unchanged: nothing was mangled.
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "--full"]);
    let c = run.load_counts_of("customers");
    assert_eq!((c.inserted, c.updated), (0, 0), "{}", run.stdout);
}

/// Customer links looked up ahead, for the buyers of the next orders a
/// load applies, answer exactly as one look-up each would: beyond one
/// statement's worth of keys, weak and strong, unlinked, retired, and a
/// link written or retired after the look-up.
#[test]
fn links_looked_up_ahead_answer_as_one_look_up_each() {
    let dir = Dir::new();
    rt().block_on(async {
        let mut mag = open_magazyn(dir.path());
        mag.begin().unwrap();
        let customer = |i: usize| magsync::magazyn::CustomerRow {
            code: format!("L-{i}"),
            name: format!("Klient {i}"),
            nip: None,
            email: None,
            phone: None,
            street: None,
            postcode: None,
            city: None,
            country_code: None,
            is_company: false,
        };
        // 300 shop customers: every third unlinked, every fifth linked
        // weakly, #7 retired; more than one statement's worth of keys.
        let mut want = std::collections::BTreeMap::new();
        for i in 1..=300usize {
            let id = mag.customer_insert(&customer(i)).unwrap();
            let key = i.to_string();
            if i % 3 == 0 {
                want.insert(key, None);
                continue;
            }
            mag.link_put("b", "customer", &key, id, "t").unwrap();
            if i % 5 == 0 {
                mag.link_put("b", "customer.weak", &key, id, "t").unwrap();
            }
            want.insert(key, Some((id, i % 5 == 0)));
        }
        mag.link_retire("b", "customer", "7", "t").unwrap();
        want.insert("7".into(), None);
        // Another shop's link of the same id is not this shop's.
        let other = mag.customer_insert(&customer(999)).unwrap();
        mag.link_put("c", "customer", "3", other, "t").unwrap();
        want.insert("999".into(), None);

        let keys: Vec<String> = want.keys().cloned().collect();
        mag.customer_links_ahead("b", &keys).unwrap();
        for (key, link) in &want {
            assert_eq!(
                mag.customer_link("b", key).unwrap(),
                *link,
                "shop customer {key}"
            );
        }
        assert_eq!(mag.customer_link("c", "3").unwrap(), Some((other, false)));
        // Written after the look-up: the new state, not the remembered one.
        let one = want["1"].unwrap().0;
        mag.link_put("b", "customer", "3", one, "t").unwrap();
        assert_eq!(mag.customer_link("b", "3").unwrap(), Some((one, false)));
        mag.link_retire("b", "customer", "1", "t").unwrap();
        assert_eq!(mag.customer_link("b", "1").unwrap(), None);
        mag.commit().unwrap();
        mag.close();
    });
}
