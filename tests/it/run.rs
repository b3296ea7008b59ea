//! `magsync run`: the nightly job over two MariaDB shops into one Magazyn,
//! the site lock, its reports, and templates a user edits.

use crate::util::*;
use std::time::{Duration, Instant};

fn two_shops() -> Option<(MyDb, MyDb, Dir)> {
    let a = mariadb("run_a")?;
    let b = mariadb("run_b")?;
    for (db, seed) in [(&a, 41u64), (&b, 42u64)] {
        let data = ShopData::new(12, 15, 40, seed);
        db.populate(&data);
    }
    let dir = Dir::new();
    let shop = |id: &str, url: &str, n: u32| {
        format!(
            "[shops.{id}]\nurl = \"{url}\"\nwarehouse = \"MAG\"\nprice_list = \"Detal\"\nimport_price_list = \"Sklep{n}\"\ncustomer_code_prefix = \"S{n}-\"\norder_prefix = \"S{n}/\"\n[shops.{id}.map.order_status]\n\"Anulowane\" = \"cancelled\"\n[shops.{id}.prices]\nadd_missing = true\n"
        )
    };
    dir.write(
        "magsync.toml",
        &format!(
            "site = \"office\"\nstaging = \"staging\"\n[magazyn]\nurl = \"sqlite://magazyn.db\"\n{}{}",
            shop("s1", &a.url, 1),
            shop("s2", &b.url, 2)
        ),
    );
    Some((a, b, dir))
}

/// The (first) JSON report under staging/reports.
fn json_report(dir: &Dir) -> serde_json::Value {
    let json = std::fs::read_dir(dir.join("staging/reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".json"))
        .unwrap();
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn the_nightly_run_syncs_two_shops_and_reports() {
    let Some((_a, _b, dir)) = two_shops() else {
        return;
    };
    let run = dir.magsync(&["run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for flow in ["catalog", "customers", "orders", "prices", "products"] {
        for shop in ["s1", "s2"] {
            assert!(
                run.stdout.contains(&format!("sync {shop} {flow}")),
                "{}",
                run.stdout
            );
        }
    }
    // Cron gets plain text: no carriage returns, no escape codes.
    assert!(
        !run.stdout.contains('\r') && !run.stdout.contains('\x1b'),
        "{:?}",
        run.stdout
    );
    assert!(!run.stderr.contains('\r') && !run.stderr.contains('\x1b'));

    // The JSON report's counts are what the Magazyn holds.
    let reports: Vec<_> = std::fs::read_dir(dir.join("staging/reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(reports.len(), 1);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&reports[0]).unwrap()).unwrap();
    let sum = |flow: &str, field: &str| -> u64 {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["flow"] == flow)
            .map(|s| s[field].as_u64().unwrap())
            .sum()
    };
    for (flow, table) in [
        ("orders", "orders"),
        ("customers", "customers"),
        ("prices", "prices"),
        ("catalog", "goods"),
    ] {
        assert_eq!(
            sum(flow, "inserted") as i64,
            magazyn_count(&dir, &format!("SELECT COUNT(*) FROM {table}")),
            "{flow}"
        );
    }
    assert_eq!(r["exit_code"], 0);
    let html = std::fs::read_to_string(dir.join("staging/report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("sync s2 orders"));
    assert!(std::fs::read_dir(dir.join("staging/logs")).unwrap().count() >= 1);
    // No password hash in any batch, log or report; on Firebird, not the
    // Magazyn's password either.
    assert_nowhere(&dir.join("staging"), magsync::demo::SECRET_MARKER);
    if let Some(fb) = firebird() {
        assert_nowhere(&dir.join("staging"), &fb.password);
    }

    // Again: exit 0, nothing changed.
    let orders = magazyn_rows(
        &dir,
        "SELECT number, status, updated_at FROM orders ORDER BY id",
    );
    let goods = magazyn_rows(&dir, "SELECT code, updated_at FROM goods ORDER BY id");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = dir.magsync(&["run"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert_eq!(
        magazyn_rows(
            &dir,
            "SELECT number, status, updated_at FROM orders ORDER BY id"
        ),
        orders
    );
    assert_eq!(
        magazyn_rows(&dir, "SELECT code, updated_at FROM goods ORDER BY id"),
        goods
    );

    // The page renders in a real browser, where there is one.
    if let Ok(chromium) = which("chromium") {
        let png = dir.join("report.png");
        let out = std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--window-size=1000,900",
            ])
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!(
                "file://{}",
                dir.join("staging/report.html").display()
            ))
            .output()
            .unwrap();
        assert!(
            png.is_file() && std::fs::metadata(&png).unwrap().len() > 10_000,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        assert!(
            std::env::var_os("MAGSYNC_REQUIRE_CHROMIUM").is_none(),
            "chromium is required (MAGSYNC_REQUIRE_CHROMIUM)"
        );
        eprintln!("chromium not installed: report.html not rendered");
    }
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .ok_or(())
}

/// Every command that writes holds the site lock. A run holds it alone: a
/// manual extract beside it waits `[run] site_lock_wait`, then refuses,
/// naming the run; a second run too. A run killed while it holds the lock
/// frees the site at once (the lock is the kernel's, not a file to remove).
#[test]
fn a_writer_beside_a_run_waits_then_names_it_and_a_killed_run_frees_the_site() {
    use sqlx::Connection;
    let data = ShopData::new(5, 2, 4, 7);
    let Some((db, dir)) = mariadb_site("site_lock", &data, |url| {
        format!(
            "{}\n[plans.p]\nsteps = [\"sync s1 customers\"]\n[run]\nsite_lock_wait = 1\n",
            config(url, "csv")
        )
    }) else {
        return;
    };
    // The run's extract meets a table another session locked, and waits.
    let rt = rt();
    let mut holder = rt.block_on(async {
        let mut c = sqlx::mysql::MySqlConnection::connect(&db.url)
            .await
            .unwrap();
        sqlx::raw_sql("LOCK TABLES customers WRITE")
            .execute(&mut c)
            .await
            .unwrap();
        c
    });
    let mut run = dir
        .magsync_cmd(&["run", "--plan", "p"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let holders = dir.join("staging/.holders");
    let t0 = Instant::now();
    while !std::fs::read_dir(&holders)
        .map(|d| d.flatten().count() > 0)
        .unwrap_or(false)
    {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for args in [
        &["extract", "--shop", "s1", "--flow", "orders"][..],
        &["run"][..],
    ] {
        let t0 = Instant::now();
        let r = dir.magsync(args);
        assert_eq!(r.code, 2, "{args:?}: {}\n{}", r.stdout, r.stderr);
        assert!(
            t0.elapsed() >= Duration::from_secs(1),
            "{args:?} did not wait"
        );
        assert!(
            r.stderr.contains(&format!("pid {}", run.id()))
                && r.stderr.contains("run --plan p`")
                && r.stderr.contains("holds ")
                && r.stderr.contains("magsync.lock; gave up after waiting 1 s"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert!(
        dir.batches("outbox").is_empty(),
        "a refused extract wrote nothing"
    );
    // Killed while it holds the lock (and waits on the shop).
    run.kill().unwrap();
    run.wait().unwrap();
    rt.block_on(async {
        sqlx::raw_sql("UNLOCK TABLES")
            .execute(&mut holder)
            .await
            .unwrap();
        holder.close().await.unwrap();
    });
    let r = dir.magsync(&["run", "--plan", "p"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = dir.magsync(&["extract", "--shop", "s1", "--flow", "orders"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        std::fs::read_dir(&holders).unwrap().flatten().count() == 0,
        "every holder let go"
    );
}

#[test]
fn an_edited_template_changes_the_result_without_a_rebuild() {
    let Some(db) = mariadb("tmpl") else { return };
    let data = ShopData::new(6, 2, 0, 3);
    db.populate(&data);
    let dir = Dir::new();
    let t = dir.join("my-templates");
    let out = dir.magsync(&["templates", "export", t.to_str().unwrap()]);
    out.ok();
    let f = t.join("oscommerce-2.3/customers.extract.sql");
    let sql = std::fs::read_to_string(&f).unwrap().replace(
        "a.entry_city                                 AS city",
        "UPPER(a.entry_city) AS city",
    );
    assert!(sql.contains("UPPER(a.entry_city)"));
    std::fs::write(&f, sql).unwrap();
    // A template the copy lacks falls back to the built-in one, with a warning.
    std::fs::remove_file(t.join("oscommerce-2.3/customers.max_id.sql")).unwrap();
    dir.write(
        "magsync.toml",
        &format!("templates = \"my-templates\"\n{}", config(&db.url, "csv")),
    );
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    run.ok();
    assert!(
        run.stderr.contains("customers.max_id.sql is not in"),
        "{}",
        run.stderr
    );
    let cities = magazyn_rows(&dir, "SELECT city FROM customers ORDER BY code");
    for (c, row) in data.customers.iter().zip(&cities) {
        assert_eq!(row[0], c.city.to_uppercase());
    }
}

#[test]
fn reconcile_compares_without_writing() {
    let data = ShopData::new(8, 6, 10, 9);
    let dir = sqlite_site(&data, |url| config(url, "csv"));
    magazyn_goods(&dir, &data.products[..5]); // the sixth product has no good
    dir.magsync(&[
        "sync",
        "--shop",
        "s1",
        "--flow",
        "customers",
        "orders",
        "products",
    ])
    .ok();
    // The Magazyn's stock of one good changes after the push.
    rt().block_on(async {
        let mut mag = open_magazyn(dir.path());
        mag.set_quantity(1, 1, rust_decimal::Decimal::from(99))
            .unwrap();
        mag.close();
    });
    let shop_before = std::fs::read(dir.join("shop.db")).unwrap();
    let mag_before = magazyn_rows(&dir, "SELECT COUNT(*), MAX(updated_at) FROM orders");
    let r = dir.magsync(&["reconcile", "--shop", "s1"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("     1  products whose price, quantity or status differ"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("     1  shop products with no good"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("     0  orders not in the Magazyn"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read(dir.join("shop.db")).unwrap(),
        shop_before,
        "the shop is untouched"
    );
    assert_eq!(
        magazyn_rows(&dir, "SELECT COUNT(*), MAX(updated_at) FROM orders"),
        mag_before
    );
    let v = json_report(&dir);
    assert_eq!(v["differing"].as_array().unwrap().len(), 1);
}

/// Both ways: a good the catalog linked to a product the shop has since
/// deleted is named, until the next catalog run retires the link.
#[test]
fn reconcile_names_goods_whose_shop_product_is_gone() {
    let data = ShopData::new(3, 6, 0, 13);
    let dir = sqlite_site(&data, |url| config(url, "csv"));
    dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog"])
        .ok();
    let gone = &data.products[2];
    let deletes = ["products_description", "products_to_categories", "products"]
        .map(|t| format!("DELETE FROM {t} WHERE products_id = {};", gone.id));
    sqlite_exec(&sqlite_shop_url(&dir), &deletes.concat());
    let reconcile_says = |line: &str| {
        let r = dir.magsync(&["reconcile", "--shop", "s1"]);
        assert!(r.stdout.contains(line), "{}", r.stdout);
    };
    reconcile_says("     1  goods linked to products the shop no longer has");
    let v = json_report(&dir);
    assert_eq!(
        v["goods_linked_to_deleted_products"][0],
        format!("{} (shop product {})", gone.model, gone.id)
    );
    dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog"])
        .ok();
    reconcile_says("     0  goods linked to products the shop no longer has");
}

#[test]
fn the_sample_configurations_are_valid() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for f in ["shop.magsync.toml", "office.magsync.toml"] {
        let text = std::fs::read_to_string(samples.join(f)).unwrap();
        let mut cfg = magsync::config::Config::parse(&text, &samples.join(f)).unwrap();
        cfg.path = samples.join(f);
        cfg.validate().unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!cfg.plans.is_empty());
    }
}

/// A manual extract and sync beside the nightly run at one site, again and
/// again: every batch put on a channel has a sequence number of its own
/// (before the channel lock, 6 of 48 shared one, which stops the channel at
/// the other site).
#[test]
fn a_manual_extract_and_sync_beside_the_nightly_run_never_share_a_sequence() {
    let data = ShopData::new(40, 10, 80, 5);
    let dir = sqlite_site(&data, |url| config(url, "csv"));
    magazyn_goods(&dir, &data.products);
    for _ in 0..4 {
        let quiet = |args: &[&str]| {
            dir.magsync_cmd(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut kids = vec![
            quiet(&["run"]),
            quiet(&["extract", "--shop", "s1", "--flow", "customers", "--full"]),
            quiet(&["extract", "--shop", "s1", "--flow", "orders", "--full"]),
            quiet(&["sync", "--shop", "s1", "--flow", "catalog", "--full"]),
            quiet(&["extract", "--shop", "s1", "--flow", "customers", "--full"]),
        ];
        for k in &mut kids {
            k.wait().unwrap(); // a load may lose to another on the Magazyn: not the point here
        }
    }
    let mut seen: std::collections::BTreeMap<(String, u64), String> = Default::default();
    let mut numbered = 0;
    for b in dir.all_batches() {
        let batch =
            magsync::staging::Batch::open(&b).unwrap_or_else(|e| panic!("{}: {e}", b.display()));
        // Put on a channel: extracts and receipts (a transformed batch
        // carries its extract's number).
        let put = matches!(
            batch.meta.stage,
            magsync::staging::Stage::Extracted | magsync::staging::Stage::Receipt
        );
        if let (Some(ch), true) = (&batch.meta.channel, put) {
            numbered += 1;
            if let Some(other) = seen.insert((ch.name.clone(), ch.sequence), batch.id().to_string())
            {
                panic!(
                    "{} #{} given to {} and {}",
                    ch.name,
                    ch.sequence,
                    other,
                    batch.id()
                );
            }
        }
    }
    assert!(numbered >= 20, "{numbered} numbered batches");
}
