//! A load killed part-way (SIGKILL, for real) leaves the Magazyn with all of
//! the batch or none of it, and the rerun completes.

use crate::util::*;
use std::time::Instant;

/// Kill `magsync load BATCH` at nine points spread over an uninterrupted
/// load's duration. After every kill the Magazyn must be what it was before
/// the load (`before`) or what a complete load leaves (`after`), as `state`
/// sees it; then a rerun completes the job, and loading again is a no-op.
fn assert_all_or_nothing(dir: &Dir, batch: &str, state: &dyn Fn() -> Vec<i64>) {
    let restore = || magazyn_restore(dir);
    // Set the Magazyn up (schema, warehouse) without loading anything.
    dir.magsync(&["load", batch, "--dry-run"]).ok();
    magazyn_save(dir);
    let before = state();
    let t0 = Instant::now();
    dir.magsync(&["load", batch]).ok();
    let full = t0.elapsed();
    let after = state();
    assert_ne!(before, after);

    let mut killed_midway = 0;
    for tenth in 1..=9 {
        restore();
        let delay = full.mul_f64(tenth as f64 / 10.0);
        let mut child = dir.magsync_cmd(&["load", batch]).spawn().unwrap();
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        let now = state();
        assert!(
            now == before || now == after,
            "after a kill at {delay:?}: {now:?}, neither {before:?} nor {after:?}"
        );
        magazyn_integrity(dir).unwrap();
        if !finished && now == before {
            killed_midway += 1;
        }
        // The rerun finishes the job, whatever the kill left.
        dir.magsync(&["load", batch]).ok();
        assert_eq!(state(), after);
        let again = dir.magsync(&["load", batch]);
        again.ok();
        assert!(again.stdout.contains("already applied"));
    }
    assert!(
        killed_midway >= 3,
        "only {killed_midway} kills landed inside the load (it took {full:?})"
    );
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
    let url = sqlite_shop(&dir, 4000, 77);
    dir.write("magsync.toml", &config(&url, "csv"));
    let batch = transformed(&dir, "customers");
    let state = || {
        ["customers", "magsync_links", "magsync_batches"]
            .iter()
            .map(|t| magazyn_count(&dir, &format!("SELECT COUNT(*) FROM {t}")))
            .collect()
    };
    assert_all_or_nothing(&dir, &batch, &state);
}

#[test]
fn a_killed_orders_load_is_all_or_nothing_and_the_rerun_completes() {
    let data = ShopData::new(300, 40, 2500, 31);
    let dir = Dir::new();
    let url = sqlite_shop_with(&dir, &data);
    dir.write("magsync.toml", &config(&url, "csv"));
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
