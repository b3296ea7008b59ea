//! `magsync demo` works with no database server at all.

use crate::util::*;

#[test]
fn demo_runs_without_a_database_server() {
    let dir = Dir::new();
    let demo = dir.join("demo");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_magsync"))
        .arg("demo")
        .arg(&demo)
        .env("MAGSYNC_TEST_MYSQL_URL", "mysql://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    let run = Run::from(out);
    run.ok();
    assert!(run.stdout.contains("batches verified"), "{}", run.stdout);
    assert!(demo.join("report.txt").is_file() && demo.join("report.json").is_file());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo.join("report.json")).unwrap()).unwrap();
    // Each run is the report of `magsync run`'s loop: one step per flow.
    let step = |run: usize, flow: &str| -> serde_json::Value {
        report["runs"][run]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["flow"] == flow)
            .unwrap_or_else(|| panic!("run {run} has no {flow} step: {report}"))
            .clone()
    };
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    let customers = step(0, "customers");
    assert_eq!(n(&customers, "inserted") + n(&customers, "updated"), 60);
    let first_orders = step(0, "orders");
    let orders = n(&first_orders, "inserted");
    assert!(orders > 100, "{orders} orders loaded");
    assert_eq!(n(&first_orders, "rejected"), 0);
    // Every order total as paid: the only warnings are the generator's
    // deliberately wrong NIPs, on each order of those companies.
    let work = demo.join("staging/work");
    let mut checked = 0;
    for b in std::fs::read_dir(&work).unwrap() {
        let b = b.unwrap().path();
        let file = b.join("data/warnings.csv");
        if b.to_string_lossy().contains(".orders.transformed.") && file.is_file() {
            let warnings = std::fs::read_to_string(file).unwrap();
            assert!(
                warnings
                    .lines()
                    .skip(1)
                    .all(|l| l.contains(",nip_checksum,")),
                "{warnings}"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "the orders transforms said nothing of the bad NIPs"
    );
    // What real shops hold beyond plain orders reaches the Magazyn: the low
    // order fee and a coupon as lines of their own, a guest linked to no
    // customer, delivered orders realized.
    let mag = rusqlite::Connection::open(demo.join("magazyn.db")).unwrap();
    let rows = |sql: &str| -> Vec<Vec<String>> {
        let mut st = mag.prepare(sql).unwrap();
        let n = st.column_count();
        st.query_map([], |r| {
            (0..n)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Null => String::new(),
                        other => format!("{other:?}"),
                    })
                })
                .collect()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let kinds = rows(
        "SELECT kind, code, vat_rate FROM order_lines WHERE kind IN ('service', 'discount') ORDER BY kind",
    );
    assert_eq!(
        kinds,
        [
            ["discount", "RABAT", "23.00"],
            ["service", "OPLATA", "23.00"]
        ],
        "the coupon and the low order fee"
    );
    assert_eq!(
        rows("SELECT COUNT(*) FROM orders WHERE customer_id IS NULL")[0][0],
        "1",
        "the guest"
    );
    let realized: usize = rows("SELECT COUNT(*) FROM orders WHERE status = 'realized'")[0][0]
        .parse()
        .unwrap();
    assert!(realized > 10, "{realized} delivered orders");
    // The stock is not eaten by history: reserved is what open orders hold,
    // within every stocked good's stock.
    let open: std::collections::BTreeMap<String, rust_decimal::Decimal> = rows(
        "SELECT l.good_id, l.quantity FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE l.good_id IS NOT NULL AND o.status NOT IN ('realized', 'cancelled', 'deleted')",
    )
    .into_iter()
    .fold(Default::default(), |mut m, r| {
        *m.entry(r[0].clone()).or_default() += r[1].parse::<rust_decimal::Decimal>().unwrap();
        m
    });
    let stock = rows("SELECT good_id, quantity, reserved FROM stock");
    for r in &stock {
        let (q, reserved): (rust_decimal::Decimal, rust_decimal::Decimal) =
            (r[1].parse().unwrap(), r[2].parse().unwrap());
        assert_eq!(
            reserved,
            open.get(&r[0]).copied().unwrap_or_default(),
            "good {}",
            r[0]
        );
        // (The two goods the catalog flow added have no stock yet.)
        assert!(
            q.is_zero() || reserved <= q,
            "good {}: {reserved} reserved of {q}",
            r[0]
        );
    }
    let pushed = n(&step(0, "products"), "updated");
    assert!(pushed > 30, "{pushed} shop products updated");
    assert_eq!(n(&step(1, "products"), "updated"), 0);
    assert_eq!(n(&step(1, "customers"), "unchanged"), 60);
    assert_eq!(n(&step(1, "orders"), "unchanged"), orders);
    assert_eq!(n(&step(1, "orders"), "inserted"), 0);
    for sub in ["outbox", "work", "receipts"] {
        for e in std::fs::read_dir(demo.join("staging").join(sub)).unwrap() {
            bagit_validate(&e.unwrap().path());
        }
    }
    assert_nowhere(&demo.join("staging"), magsync::demo::SECRET_MARKER);
    // Running it again replaces the previous demo.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_magsync"))
        .arg("demo")
        .arg(&demo)
        .output()
        .unwrap();
    Run::from(again).ok();
}
