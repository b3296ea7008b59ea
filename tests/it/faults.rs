//! Database faults (issue [J]): a shop connection dropped mid-extract, a
//! lock wait timeout during the products push, a read-only Magazyn, a full
//! disk under the staging area and under the Magazyn. Each one fails
//! cleanly, applies nothing, and the rerun finishes the job — with real
//! parts only: MariaDB, SQLite files, tmpfs and bind mounts, the binary.
//!
//! The mount cases need root (CI runs the tests as root); without it they
//! print why they are skipped, unless `MAGSYNC_REQUIRE_MOUNT=1`.

use crate::util::*;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

// ------------------------------------------------------------- helpers

/// A mount made for a test (tmpfs, read-only bind), unmounted on drop.
struct Mount {
    at: PathBuf,
}

impl Mount {
    fn run(args: &[&str]) -> Result<(), String> {
        match Command::new("mount").args(args).output() {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// `None` (after printing why) when this process may not mount.
    fn try_new(test: &str, at: &Path, args: &[&str]) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let mut all: Vec<&str> = args.to_vec();
        all.push(at.to_str().unwrap());
        match Mount::run(&all) {
            Ok(()) => Some(Mount { at: at.into() }),
            Err(e) => {
                if std::env::var_os("MAGSYNC_REQUIRE_MOUNT").is_some() {
                    panic!(
                        "mounting is required (MAGSYNC_REQUIRE_MOUNT) but `mount {all:?}` failed: {e}"
                    );
                }
                eprintln!("SKIPPED {test}: cannot mount ({e}); run the tests as root to cover it");
                None
            }
        }
    }

    fn tmpfs(test: &str, at: &Path, size: &str) -> Option<Mount> {
        let opts = format!("size={size},mode=0755");
        Mount::try_new(test, at, &["-t", "tmpfs", "-o", &opts, "tmpfs"])
    }

    /// `at` mounted on itself, read-only.
    fn read_only(test: &str, at: &Path) -> Option<Mount> {
        let m = Mount::try_new(test, at, &["--bind", at.to_str().unwrap()])?;
        match Mount::run(&["-o", "remount,bind,ro", at.to_str().unwrap()]) {
            Ok(()) => Some(m),
            Err(e) => {
                drop(m);
                if std::env::var_os("MAGSYNC_REQUIRE_MOUNT").is_some() {
                    panic!("cannot remount {} read-only: {e}", at.display());
                }
                eprintln!("SKIPPED {test}: cannot remount read-only ({e})");
                None
            }
        }
    }

    fn remount(&self, opts: &str) {
        let o = format!("remount,{opts}");
        Mount::run(&["-o", &o, self.at.to_str().unwrap()]).unwrap();
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let at = self.at.to_str().unwrap();
        let ok = Command::new("umount")
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").args(["-l", at]).status();
        }
    }
}

/// Bytes of every file under `root`.
fn bytes_under(root: &Path) -> u64 {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum()
}

/// Every entry under `staging/<sub>`, hidden ones included.
fn entries(dir: &Dir, sub: &str) -> Vec<String> {
    std::fs::read_dir(dir.join("staging").join(sub))
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A failure as the spec wants it: exit 2, an error line, no panic.
#[track_caller]
fn assert_clean_failure(run: &Run, names: &[&str]) {
    eprint!("{}", run.stderr);
    assert_eq!(
        run.code, 2,
        "expected a failure (exit 2):\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains("magsync: error:") && !run.stderr.contains("panicked"),
        "not a clean error:\n{}",
        run.stderr
    );
    for n in names {
        assert!(
            run.stderr.contains(n),
            "the error does not name `{n}`:\n{}",
            run.stderr
        );
    }
}

/// One number from an SQLite file (the Magazyn wherever the test put it).
fn count_at(db: &Path, sql: &str) -> i64 {
    use sqlx::Row;
    let url = format!("sqlite://{}", db.display());
    rt().block_on(async {
        let mut c = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
        let n: i64 = sqlx::query(sql).fetch_one(&mut c).await.unwrap().get(0);
        c.close().await.unwrap();
        n
    })
}

fn integrity_ok(db: &Path) {
    let url = format!("sqlite://{}", db.display());
    let r = sqlite_column(&url, "PRAGMA integrity_check");
    assert_eq!(r[0], "ok", "{}", db.display());
}

/// What a customers load changes in the Magazyn at `db`.
fn customer_state(db: &Path) -> Vec<i64> {
    ["customers", "magsync_links", "magsync_batches"]
        .iter()
        .map(|t| count_at(db, &format!("SELECT COUNT(*) FROM {t}")))
        .collect()
}

/// Extract and transform one flow; the transformed batch's path.
fn transformed(dir: &Dir, flow: &str) -> String {
    dir.magsync(&["extract", "--shop", "s1", "--flow", flow, "--full"])
        .ok();
    let extracted = dir.batches("outbox").pop().unwrap();
    dir.magsync(&["transform", extracted.to_str().unwrap()])
        .ok();
    let work = dir.batches("work").pop().unwrap();
    work.to_str().unwrap().to_string()
}

/// The acknowledged watermark of a flow has not moved (absent: the only
/// earlier loads in these tests failed).
#[track_caller]
fn assert_not_acknowledged(dir: &Dir, flow: &str) {
    let f = dir.join(&format!("staging/state/s1.{flow}.toml"));
    let text = std::fs::read_to_string(&f).unwrap_or_default();
    assert!(
        !text.contains("[acknowledged]"),
        "{} acknowledged after a failed load:\n{text}",
        f.display()
    );
}

// ------------------------------------------- 1. a dropped shop connection

/// `KILL CONNECTION` on magsync's shop connection while the orders extract
/// streams. Returns the run, or `None` when the extract finished first.
fn extract_with_killed_connection(dir: &Dir, db: &MyDb) -> Option<(Run, Duration)> {
    let outbox = dir.join("staging/outbox");
    let mut child = dir
        .magsync_cmd(&["extract", "--shop", "s1", "--flow", "orders", "--full"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // Streaming: the unfinished batch holds rows already.
    let streaming = || {
        std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .any(|e| bytes_under(&e.path()) > 0)
    };
    while !streaming() {
        if child.try_wait().unwrap().is_some() || t0.elapsed() > Duration::from_secs(30) {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let at = t0.elapsed();
    let killed = rt().block_on(async {
        use sqlx::Row;
        let mut admin = sqlx::mysql::MySqlConnection::connect(&db.url)
            .await
            .unwrap();
        let ids: Vec<i64> = sqlx::query(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
        )
        .bind(&db.name)
        .fetch_all(&mut admin)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
        let mut killed = false;
        for id in ids {
            killed |= sqlx::raw_sql(&format!("KILL CONNECTION {id}"))
                .execute(&mut admin)
                .await
                .is_ok();
        }
        killed
    });
    let run = Run::from(child.wait_with_output().unwrap());
    (killed && run.code != 0).then_some((run, at))
}

#[test]
fn a_shop_connection_dropped_mid_extract_leaves_no_batch_and_the_rerun_loads_every_order() {
    let data = ShopData::new(300, 40, 4000, 41);
    let Some((db, dir)) = mariadb_site("faults_drop", &data, |url| config(url, "csv")) else {
        return;
    };
    magazyn_goods(&dir, &data.products);

    let mut failed = None;
    for attempt in 1..=5 {
        if let Some(r) = extract_with_killed_connection(&dir, &db) {
            failed = Some(r);
            break;
        }
        eprintln!("attempt {attempt}: the extract finished before the kill; again");
        std::fs::remove_dir_all(dir.join("staging")).unwrap();
    }
    let (run, at) = failed.expect("the extract always finished before its connection was killed");
    eprintln!("connection killed {at:?} into the extract");
    // Exit 2 naming the query that lost its connection.
    assert_clean_failure(&run, &["shop query oscommerce-2.3/orders."]);
    // Nothing that looks finished, and nothing unfinished left behind.
    assert!(
        dir.batches("outbox").is_empty(),
        "{:?}",
        dir.batches("outbox")
    );
    assert_eq!(entries(&dir, "outbox"), Vec::<String>::new());
    // Neither the watermark nor the channel moved.
    let state: Vec<_> = walkdir::WalkDir::new(dir.join("staging/state"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(
        state.is_empty(),
        "state written by a failed extract: {state:?}"
    );

    // The rerun: every public order exactly once, with all its lines.
    let sync = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    sync.ok();
    let public: Vec<_> = data.orders.iter().filter(|o| o.status != 6).collect();
    let lines: usize = public.iter().map(|o| o.lines.len() + 1).sum();
    assert_eq!(
        sync.load_counts_of("orders").inserted,
        public.len() as u64,
        "{}",
        sync.stdout
    );
    assert_orders_once(&dir, public.len() as i64);
    assert_eq!(
        magazyn_count(
            &dir,
            "SELECT COUNT(*) FROM order_lines WHERE kind <> 'rounding'"
        ),
        lines as i64
    );
    check_all_batches(&dir);
}

// ------------------------------------- 2. a lock wait during the push

/// Every product of a shop, `id|model|price|quantity|status`, and whether
/// it has a last-modified time.
fn shop_products(url: &str) -> Vec<String> {
    mysql_column(
        url,
        "SELECT CONCAT_WS('|', products_id, IFNULL(products_model, 'NULL'), products_price, products_quantity, products_status, products_last_modified IS NULL) FROM products ORDER BY products_id",
    )
}

/// `SET GLOBAL innodb_lock_wait_timeout` for the test (magsync's session
/// takes the server's default), restored on drop.
struct LockWait {
    url: String,
    old: u64,
}

impl LockWait {
    fn set(url: &str, secs: u64) -> LockWait {
        use sqlx::Row;
        let old = rt().block_on(async {
            let mut c = sqlx::mysql::MySqlConnection::connect(url).await.unwrap();
            let old: u64 = sqlx::query("SELECT @@GLOBAL.innodb_lock_wait_timeout")
                .fetch_one(&mut c)
                .await
                .unwrap()
                .get(0);
            sqlx::raw_sql(&format!("SET GLOBAL innodb_lock_wait_timeout = {secs}"))
                .execute(&mut c)
                .await
                .unwrap();
            old
        });
        LockWait {
            url: url.into(),
            old,
        }
    }
}

impl Drop for LockWait {
    fn drop(&mut self) {
        let (url, old) = (self.url.clone(), self.old);
        rt().block_on(async move {
            if let Ok(mut c) = sqlx::mysql::MySqlConnection::connect(&url).await {
                let _ = sqlx::raw_sql(&format!("SET GLOBAL innodb_lock_wait_timeout = {old}"))
                    .execute(&mut c)
                    .await;
            }
        });
    }
}

#[test]
fn a_lock_wait_timeout_during_the_products_push_applies_nothing_and_the_rerun_converges() {
    let Some(db) = mariadb("faults_lock") else {
        return;
    };
    let Some(twin) = mariadb("faults_lock_twin") else {
        return;
    };
    let data = ShopData::new(5, 30, 0, 23);
    for d in [&db, &twin] {
        d.populate(&data);
    }
    let extra =
        "price_list = \"Detal\"\n[shops.s1.products]\nsafety_buffer = 0\nhide_at_or_below = 0\n";
    let dir = Dir::with_config(&config_with(&db.url, "csv", extra));
    // The Magazyn: a new gross price and stock for every product.
    magazyn_stocked(dir.path(), &data.products, &["Detal"], |p| {
        use rust_decimal::Decimal;
        let gross = Decimal::new(1000 + p.id * 137, 2);
        let net = magsync::money::net_of_gross(gross, p.rate, 4).unwrap();
        (Some((net, gross)), Some(Decimal::from(500 + p.id)))
    });
    let batch = transformed(&dir, "products");
    let ids: Vec<i64> = csv::Reader::from_path(Path::new(&batch).join("data/product_updates.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].parse().unwrap())
        .collect();
    assert!(ids.len() >= 20, "only {} updates planned", ids.len());

    // What an uninterrupted push of the same batch does (the twin shop).
    let clean = Dir::new();
    clean.write("magsync.toml", &config_with(&twin.url, "csv", extra));
    if firebird().is_none() {
        std::fs::copy(dir.join("magazyn.db"), clean.join("magazyn.db")).unwrap();
    }
    clean.magsync(&["load", &batch]).ok();
    let uninterrupted = shop_products(&twin.url);
    let before = shop_products(&db.url);
    assert_eq!(before.len(), uninterrupted.len());
    assert_ne!(before, uninterrupted);

    // Another session holds the last product the push writes, so every
    // other row is written inside the push's transaction first.
    let locked = *ids.last().unwrap();
    let _timeout = LockWait::set(&db.url, 2);
    let rt = rt();
    let mut holder = rt.block_on(async {
        let mut c = sqlx::mysql::MySqlConnection::connect(&db.url)
            .await
            .unwrap();
        sqlx::raw_sql(&format!(
            "BEGIN; SELECT products_id FROM products WHERE products_id = {locked} FOR UPDATE"
        ))
        .execute(&mut c)
        .await
        .unwrap();
        c
    });
    let t0 = Instant::now();
    let run = dir.magsync(&["load", &batch]);
    let waited = t0.elapsed();
    assert_clean_failure(&run, &["products.update", "Lock wait timeout"]);
    assert!(waited >= Duration::from_secs(2), "failed after {waited:?}");
    // The push is one transaction: not one row of it is in the shop, and
    // nothing claims it was applied.
    assert_eq!(shop_products(&db.url), before);
    assert!(
        dir.batches("receipts").is_empty(),
        "{:?}",
        dir.batches("receipts")
    );
    // What is left: the before-image, saved before the first write (by
    // design, so that a push interrupted after its commit can be undone).
    assert_eq!(dir.batches("undo").len(), 1);

    // The lock released, the rerun applies the whole batch.
    rt.block_on(async {
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut holder)
            .await
            .unwrap();
        holder.close().await.unwrap();
    });
    let rerun = dir.magsync(&["load", &batch]);
    rerun.ok();
    assert_eq!(
        rerun.load_counts_of("products").updated,
        ids.len() as u64,
        "{}",
        rerun.stdout
    );
    assert_eq!(shop_products(&db.url), uninterrupted);
    assert_eq!(dir.batches("receipts").len(), 1);
}

// ------------------------------------------------ 3. a read-only Magazyn

/// Make a file write-protected, even for root (`chattr +i` where chmod is
/// not enough); undone on drop.
struct Protected {
    path: PathBuf,
    immutable: bool,
}

impl Protected {
    fn new(test: &str, path: &Path) -> Option<Protected> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let mut p = Protected {
            path: path.into(),
            immutable: false,
        };
        if std::fs::OpenOptions::new().write(true).open(path).is_err() {
            return Some(p); // chmod is enough: not root
        }
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok || std::fs::OpenOptions::new().write(true).open(path).is_ok() {
            eprintln!(
                "SKIPPED {test} (write-protected file): chmod does not stop this user and chattr +i is not available"
            );
            return None;
        }
        p.immutable = true;
        Some(p)
    }
}

impl Drop for Protected {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(&self.path).status();
        }
        let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o644));
    }
}

#[test]
fn a_read_only_magazyn_fails_naming_the_file_applies_nothing_and_the_rerun_works() {
    let dir = Dir::new();
    let url = sqlite_shop(&dir, 300, 5);
    let cfg = config(&url, "csv").replace("sqlite://magazyn.db", "sqlite://mag/magazyn.db");
    dir.write("magsync.toml", &cfg);
    let mag_dir = dir.join("mag");
    std::fs::create_dir(&mag_dir).unwrap();
    let db = mag_dir.join("magazyn.db");
    let batch = transformed(&dir, "customers");
    // The Magazyn exists (schema, warehouse) with nothing loaded.
    dir.magsync(&["load", &batch, "--dry-run"]).ok();
    let before = customer_state(&db);
    assert_eq!(before, vec![0, 0, 0]);
    let mut cases = 0;

    // (a) The file write-protected.
    if let Some(_p) = Protected::new("faults read-only", &db) {
        let run = dir.magsync(&["load", &batch]);
        assert_clean_failure(&run, &["mag/magazyn.db", "read-only"]);
        cases += 1;
    }
    assert_eq!(customer_state(&db), before);

    // (b) The file system read-only.
    if let Some(_m) = Mount::read_only("faults read-only", &mag_dir) {
        assert!(std::fs::write(mag_dir.join("probe"), "x").is_err());
        let run = dir.magsync(&["load", &batch]);
        assert_clean_failure(&run, &["mag/magazyn.db"]);
        cases += 1;
    }
    eprintln!("{cases} of 2 read-only cases run");
    assert_eq!(customer_state(&db), before);
    integrity_ok(&db);
    assert!(dir.batches("receipts").is_empty());
    assert_not_acknowledged(&dir, "customers");

    // Writable again: the rerun loads the batch, once.
    let run = dir.magsync(&["load", &batch]);
    run.ok();
    assert_eq!(run.load_counts().inserted, 300, "{}", run.stdout);
    assert_eq!(customer_state(&db), vec![300, 300, 1]);
}

// ------------------------------------------------------- 4. a full disk

#[test]
fn a_full_staging_disk_during_an_extract_leaves_nothing_and_the_rerun_works() {
    let dir = Dir::new();
    let url = sqlite_shop(&dir, 3000, 9);
    dir.write("magsync.toml", &config(&url, "csv"));
    let Some(disk) = Mount::tmpfs("faults disk full (staging)", &dir.join("staging"), "256k")
    else {
        return;
    };
    let run = dir.magsync(&["extract", "--shop", "s1", "--flow", "customers", "--full"]);
    // The file named is the one that met the full disk first: the batch's,
    // or the fingerprints kept beside it (both written behind the extract).
    assert_clean_failure(&run, &["No space left on device", "/staging/"]);
    assert!(dir.batches("outbox").is_empty());
    // The unfinished batch is gone, and the space it took with it.
    assert_eq!(entries(&dir, "outbox"), Vec::<String>::new());
    assert!(
        bytes_under(&dir.join("staging")) < 4096,
        "{} bytes left under staging",
        bytes_under(&dir.join("staging"))
    );
    assert!(!dir.join("staging/state/s1.customers.toml").exists());

    // Space again: the rerun extracts, and the batch loads completely.
    disk.remount("size=64m");
    dir.magsync(&["extract", "--shop", "s1", "--flow", "customers", "--full"])
        .ok();
    let extracted = dir.batches("outbox").pop().unwrap();
    dir.magsync(&["transform", extracted.to_str().unwrap()])
        .ok();
    let work = dir.batches("work").pop().unwrap();
    let run = dir.magsync(&["load", work.to_str().unwrap()]);
    run.ok();
    assert_eq!(run.load_counts().inserted, 3000, "{}", run.stdout);
    assert_eq!(check_all_batches(&dir), 3);
}

#[test]
fn a_full_magazyn_disk_during_a_load_rolls_back_and_the_rerun_works() {
    let dir = Dir::new();
    let url = sqlite_shop(&dir, 3000, 11);
    let cfg = config(&url, "csv").replace("sqlite://magazyn.db", "sqlite://mag/magazyn.db");
    dir.write("magsync.toml", &cfg);
    let mag_dir = dir.join("mag");
    let Some(disk) = Mount::tmpfs("faults disk full (Magazyn)", &mag_dir, "64m") else {
        return;
    };
    let db = mag_dir.join("magazyn.db");
    let batch = transformed(&dir, "customers");
    dir.magsync(&["load", &batch, "--dry-run"]).ok();
    let before = customer_state(&db);
    assert_eq!(before, vec![0, 0, 0]);
    // Room for the Magazyn as it is and its WAL index, not for the load.
    let used = bytes_under(&mag_dir);
    let size = (used + 64 * 1024).div_ceil(4096) * 4096;
    disk.remount(&format!("size={size}"));

    let run = dir.magsync(&["load", &batch]);
    assert_clean_failure(&run, &["disk is full", "mag/magazyn.db"]);
    assert!(dir.batches("receipts").is_empty());
    assert_not_acknowledged(&dir, "customers");

    disk.remount("size=64m");
    integrity_ok(&db);
    assert_eq!(customer_state(&db), before, "a failed load left rows");
    let run = dir.magsync(&["load", &batch]);
    run.ok();
    assert_eq!(run.load_counts().inserted, 3000, "{}", run.stdout);
    assert_eq!(customer_state(&db), vec![3000, 3000, 1]);
    integrity_ok(&db);
}
