//! A load killed part-way (SIGKILL, for real) leaves the Magazyn with all of
//! the batch or none of it, and the rerun completes.

use crate::util::*;
use std::time::{Duration, Instant};

#[test]
fn a_killed_load_is_all_or_nothing_and_the_rerun_completes() {
    const N: i64 = 4000;
    let dir = Dir::new();
    let url = sqlite_shop(&dir, N as usize, 77);
    dir.write("magsync.toml", &config(&url, "csv"));
    dir.magsync(&["extract", "--shop", "s1", "--flow", "customers"])
        .ok();
    let extracted = dir.batches("outbox").pop().unwrap();
    dir.magsync(&["transform", extracted.to_str().unwrap()])
        .ok();
    let batch = dir.batches("work").pop().unwrap();
    let batch = batch.to_str().unwrap();

    let wipe = || {
        for f in ["magazyn.db", "magazyn.db-wal", "magazyn.db-shm"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
    };
    // How long an uninterrupted load takes here.
    let t0 = Instant::now();
    dir.magsync(&["load", batch]).ok();
    let full = t0.elapsed();
    assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM customers"), N);
    wipe();

    let mut killed_midway = 0;
    for tenth in 1..=9 {
        let delay = full.mul_f64(tenth as f64 / 10.0);
        let mut child = dir.magsync_cmd(&["load", batch]).spawn().unwrap();
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        if !dir.join("magazyn.db").exists() {
            continue; // killed before the database was even created
        }
        let customers = magazyn_count(&dir, "SELECT COUNT(*) FROM customers");
        let ledger = magazyn_count(&dir, "SELECT COUNT(*) FROM magsync_batches");
        let links = magazyn_count(&dir, "SELECT COUNT(*) FROM magsync_links");
        assert!(
            (customers, links, ledger) == (0, 0, 0) || (customers, links, ledger) == (N, N, 1),
            "after a kill at {delay:?}: {customers} customers, {links} links, {ledger} ledger rows"
        );
        let integrity = magazyn_rows(&dir, "PRAGMA integrity_check");
        assert_eq!(integrity[0][0], "ok");
        if !finished && customers == 0 {
            killed_midway += 1;
        }
        // The rerun finishes the job, whatever the kill left.
        dir.magsync(&["load", batch]).ok();
        assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM customers"), N);
        let again = dir.magsync(&["load", batch]);
        again.ok();
        assert!(again.stdout.contains("already applied"));
        wipe();
    }
    assert!(
        killed_midway >= 3,
        "only {killed_midway} kills landed inside the load (load took {full:?})"
    );
    let _ = Duration::ZERO;
}
