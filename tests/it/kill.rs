//! A load killed part-way (SIGKILL, for real) leaves the target with all of
//! the batch or none of it, and the rerun completes: loads into the Magazyn
//! (whichever backend the tests run on) and the products push into a shop.
//! A kill counts as landing inside the transaction only where magsync's own
//! debug log (`-vv`, target `magsync::tx`) shows it came after BEGIN and
//! before COMMIT: a kill during start-up proves nothing.

use crate::util::*;
use std::time::Instant;

/// Kill `magsync load BATCH` at twelve points (see `kill_during_load`) of an uninterrupted
/// load's duration. After every kill the Magazyn must be what it was before
/// the load (`before`) or what a complete load leaves (`after`), as `state`
/// sees it; then a rerun completes the job, and loading again is a no-op.
fn assert_all_or_nothing<T: PartialEq + std::fmt::Debug>(
    dir: &Dir,
    batch: &str,
    state: &dyn Fn() -> T,
) {
    // Set the Magazyn up (schema, warehouse) without loading anything.
    dir.magsync(&["load", batch, "--dry-run"]).ok();
    magazyn_save(dir);
    let target = Target {
        restore: &|| magazyn_restore(dir),
        integrity: &|| magazyn_integrity(dir),
        again_says: "already applied",
        database: "magazyn",
    };
    kill_during_load(dir, batch, state, &target);
}

/// What a kill test needs of the database a load writes.
struct Target<'a> {
    /// Back to the state before the load.
    restore: &'a dyn Fn(),
    /// The database's own consistency check.
    integrity: &'a dyn Fn() -> Result<(), String>,
    /// What a second load of the same batch says.
    again_says: &'a str,
    /// Whose transaction the load's `magsync::tx` log lines name.
    database: &'a str,
}

/// Kill the load at nine points spread over its whole run (start-up
/// included), then at three points spread over its transaction (found by
/// waiting for the log line that says BEGIN went through; up to three more
/// early ones while fewer than three have landed inside). After every kill
/// the target is `before` or `after`; the rerun completes; a third load is
/// a no-op. At least three kills must have landed inside the transaction,
/// as the log shows.
fn kill_during_load<T: PartialEq + std::fmt::Debug>(
    dir: &Dir,
    batch: &str,
    state: &dyn Fn() -> T,
    target: &Target,
) {
    let restore = target.restore;
    let begun = format!("{} transaction begun", target.database);
    let committed = format!("{} transaction committed", target.database);
    let before = state();
    // An uninterrupted load, timed: the whole run and its transaction.
    let t0 = Instant::now();
    let (mut child, log) = spawn_logged(dir, &["load", batch]);
    let (mut at_begin, mut at_commit) = (None, None);
    while child.try_wait().unwrap().is_none() {
        let text = std::fs::read_to_string(&log).unwrap();
        if at_begin.is_none() && text.contains(&begun) {
            at_begin = Some(t0.elapsed());
        }
        if at_commit.is_none() && text.contains(&committed) {
            at_commit = Some(t0.elapsed());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let full = t0.elapsed();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(&committed), "{text}");
    let window = at_commit.unwrap_or(full) - at_begin.unwrap_or_default();
    let after = state();
    assert_ne!(before, after);

    let mut killed_midway = 0;
    // After BEGIN: at a quarter, a half and three quarters of the
    // transaction; on a loaded machine a kill can miss it (the transaction
    // ran longer or shorter than timed), so up to three more early ones
    // follow until three kills are proven inside.
    let rounds = (1..=9)
        .map(|tenth| (false, full.mul_f64(tenth as f64 / 10.0)))
        .chain([1.0, 2.0, 3.0, 0.5, 0.5, 0.5].map(|q| (true, window.mul_f64(q / 4.0))))
        .enumerate();
    for (round, (after_begin, delay)) in rounds {
        if round >= 12 && killed_midway >= 3 {
            break;
        }
        restore();
        let (mut child, log) = spawn_logged(dir, &["load", batch]);
        if after_begin {
            while !std::fs::read_to_string(&log).unwrap().contains(&begun)
                && child.try_wait().unwrap().is_none()
            {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        }
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        let log = std::fs::read_to_string(log).unwrap();
        let now = state();
        assert!(
            now == before || now == after,
            "after a kill at {delay:?}: {now:?}, neither {before:?} nor {after:?}"
        );
        (target.integrity)().unwrap();
        // Inside the transaction: after the process said BEGIN went
        // through, before it said COMMIT did (not during start-up).
        if !finished && now == before && log.contains(&begun) && !log.contains(&committed) {
            killed_midway += 1;
        }
        // The rerun finishes the job, whatever the kill left.
        dir.magsync(&["load", batch]).ok();
        assert_eq!(state(), after);
        let again = dir.magsync(&["load", batch]);
        again.ok();
        assert!(again.stdout.contains(target.again_says), "{}", again.stdout);
    }
    assert!(
        killed_midway >= 3,
        "only {killed_midway} kills landed inside the load's transaction (it took {full:?}, its transaction {window:?})"
    );
}

/// Start magsync with its debug log (`-vv`) in a file: the kill tests read
/// its `magsync::tx` lines to tell where a kill landed.
fn spawn_logged(dir: &Dir, args: &[&str]) -> (std::process::Child, std::path::PathBuf) {
    let log = dir.join("kill.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut all = vec!["-vv"];
    all.extend_from_slice(args);
    let child = dir
        .magsync_cmd(&all)
        .stdout(std::process::Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap();
    (child, log)
}

/// The size of a Magazyn load to kill: as stated on SQLite, a quarter on
/// Firebird, where each of the nine rounds also backs up and restores the
/// database with gbak (the full size took over five minutes a test there;
/// a quarter still lasts long enough for the kills to land inside).
fn load_size(n: usize) -> usize {
    if firebird().is_some() { n / 4 } else { n }
}

fn transformed(dir: &Dir, flow: &str) -> String {
    dir.magsync(&["extract", "--shop", "s1", "--flow", flow])
        .ok();
    let extracted = dir.batches("outbox").pop().unwrap();
    dir.magsync(&["transform", extracted.to_str().unwrap()])
        .ok();
    dir.batches("work")
        .pop()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_killed_customers_load_is_all_or_nothing_and_the_rerun_completes() {
    let dir = Dir::new();
    let url = sqlite_shop(&dir, load_size(4000), 77);
    dir.write("magsync.toml", &config(&url, "csv"));
    let batch = transformed(&dir, "customers");
    let state = || {
        ["customers", "magsync_links", "magsync_batches"]
            .iter()
            .map(|t| magazyn_count(&dir, &format!("SELECT COUNT(*) FROM {t}")))
            .collect::<Vec<i64>>()
    };
    assert_all_or_nothing(&dir, &batch, &state);
}

#[test]
fn a_killed_orders_load_is_all_or_nothing_and_the_rerun_completes() {
    let data = ShopData::new(load_size(300), 40, load_size(2500), 31);
    let dir = sqlite_site(&data, |url| config(url, "csv"));
    magazyn_goods(&dir, &data.products);
    let batch = transformed(&dir, "orders");
    let state = || {
        let mut v: Vec<i64> = [
            "orders",
            "order_lines",
            "customers",
            "magsync_links",
            "magsync_batches",
        ]
        .iter()
        .map(|t| magazyn_count(&dir, &format!("SELECT COUNT(*) FROM {t}")))
        .collect();
        // Reservations, to the unit (an integer sum over all goods).
        v.push(magazyn_count(
            &dir,
            "SELECT COALESCE(SUM(CAST(reserved AS INTEGER)), 0) FROM stock",
        ));
        v
    };
    assert_all_or_nothing(&dir, &batch, &state);
}

/// The products push into a shop (Magazyn → shop), killed at nine points:
/// the shop has every product's new price, stock and status or none of
/// them; the rerun writes what is left; a third load changes nothing.
#[test]
fn a_killed_products_push_is_all_or_nothing_and_the_rerun_completes() {
    let data = ShopData::new(10, 3000, 0, 41);
    let extra =
        "price_list = \"Detal\"\n[shops.s1.products]\nsafety_buffer = 0\nhide_at_or_below = 0\n";
    let dir = sqlite_site(&data, |url| config_with(url, "csv", extra));
    let url = sqlite_shop_url(&dir);
    magazyn_stocked(dir.path(), &data.products, &["Detal"], |p| {
        let gross = rust_decimal::Decimal::new(1000 + p.id * 7, 2);
        let net = magsync::money::net_of_gross(gross, p.rate, 4).unwrap();
        (
            Some((net, gross)),
            Some(rust_decimal::Decimal::from(p.id % 17)),
        )
    });
    dir.magsync(&["extract", "--shop", "s1", "--flow", "products"])
        .ok();
    let extracted = dir.batches("outbox").pop().unwrap();
    dir.magsync(&["transform", extracted.to_str().unwrap()])
        .ok();
    let batch = dir.batches("work").pop().unwrap();
    let batch = batch.to_str().unwrap().to_string();

    let shop = dir.join("shop.db");
    let pristine = dir.join("shop.pristine");
    std::fs::copy(&shop, &pristine).unwrap();
    let shop_query = |sql: &str| sqlite_column(&url, sql);
    let state = || {
        shop_query(
            "SELECT products_id || '|' || products_price || '|' || products_quantity || '|' || products_status FROM products ORDER BY products_id",
        )
    };
    let target = Target {
        restore: &|| {
            for f in ["shop.db-wal", "shop.db-shm"] {
                let _ = std::fs::remove_file(dir.join(f));
            }
            std::fs::copy(&pristine, &shop).unwrap();
        },
        integrity: &|| match shop_query("PRAGMA integrity_check")[0].as_str() {
            "ok" => Ok(()),
            other => Err(other.to_string()),
        },
        again_says: " 0 updated",
        database: "shop",
    };
    kill_during_load(&dir, &batch, &state, &target);
}

/// A transform killed at nine points leaves no transformed batch that looks
/// finished but is not (anything visible verifies); the rerun writes exactly
/// one batch, which verifies.
#[test]
fn a_killed_transform_leaves_nothing_half_finished() {
    let data = ShopData::new(300, 40, 3000, 13);
    let dir = sqlite_site(&data, |url| config(url, "csv"));
    dir.magsync(&["extract", "--shop", "s1", "--flow", "orders"])
        .ok();
    let extracted = dir.batches("outbox").pop().unwrap();
    let extracted = extracted.to_str().unwrap();
    let clear = || {
        for b in dir.batches("work") {
            std::fs::remove_dir_all(b).unwrap();
        }
    };
    let t0 = Instant::now();
    dir.magsync(&["transform", extracted]).ok();
    let full = t0.elapsed();
    clear();
    let mut inside = 0;
    for tenth in 1..=9 {
        let (mut child, log) = spawn_logged(&dir, &["transform", extracted]);
        std::thread::sleep(full.mul_f64(tenth as f64 / 10.0));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        let log = std::fs::read_to_string(log).unwrap();
        let visible = dir.batches("work");
        assert!(visible.len() <= 1, "{visible:?}");
        for b in &visible {
            dir.magsync(&["verify", b.to_str().unwrap()]).ok();
        }
        // Inside: the batch was being written (not during start-up).
        if visible.is_empty() && !finished && log.contains("batch writing started") {
            inside += 1;
        }
        clear();
    }
    assert!(
        inside >= 3,
        "only {inside} kills landed inside the transform ({full:?})"
    );
    dir.magsync(&["transform", extracted]).ok();
    let work = dir.batches("work");
    assert_eq!(work.len(), 1, "{work:?}");
    dir.magsync(&["verify", work[0].to_str().unwrap()]).ok();
}
