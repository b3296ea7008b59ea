//! Test helpers: a temporary work directory, the magsync binary, a MariaDB
//! shop database per test, and the Magazyn.
//!
//! The Magazyn is an SQLite file in the test's directory, or, with
//! `MAGSYNC_TEST_MAGAZYN=firebird`, a Firebird 3 database of its own on the
//! local server (the same tests, the other backend). Configurations name
//! the Magazyn as `sqlite://magazyn.db`; [`Dir::write`] puts the test's
//! Firebird database in its place, and [`magazyn_rows`] / [`open_magazyn`]
//! reach whichever backend the test runs on.

use magsync::shop::ShopDb;
use rust_decimal::Decimal;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::Builder::new()
                .prefix("magsync-it-")
                .tempdir()
                .unwrap(),
        }
    }
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }
    pub fn join(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }
    pub fn write(&self, p: &str, text: &str) -> PathBuf {
        let path = self.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = match firebird() {
            Some(fb) if p.ends_with("magsync.toml") => text.replace(
                "url = \"sqlite://magazyn.db\"",
                &format!(
                    "url = \"{}\"\npassword_env = \"{FIREBIRD_PASSWORD_ENV}\"",
                    fb.url(path.parent().unwrap())
                ),
            ),
            _ => text.to_string(),
        };
        std::fs::write(&path, text).unwrap();
        path
    }
    /// Run magsync with this directory's magsync.toml.
    pub fn magsync(&self, args: &[&str]) -> Run {
        let out = self.magsync_cmd(args).output().unwrap();
        Run::from(out)
    }
    pub fn magsync_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_magsync"));
        c.arg("--config").arg(self.join("magsync.toml")).args(args);
        c.current_dir(self.path());
        if let Some(fb) = firebird() {
            c.env(FIREBIRD_PASSWORD_ENV, &fb.password);
        }
        c
    }
    /// Every batch directory under staging/<sub>.
    pub fn batches(&self, sub: &str) -> Vec<PathBuf> {
        let d = self.join("staging").join(sub);
        let mut v: Vec<PathBuf> = std::fs::read_dir(&d)
            .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.retain(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'));
        v.sort();
        v
    }
    pub fn all_batches(&self) -> Vec<PathBuf> {
        let mut v = self.batches("outbox");
        v.extend(self.batches("work"));
        v.extend(self.batches("receipts"));
        v.extend(self.batches("undo"));
        v
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        if let Some(fb) = firebird() {
            fb.drop_database(self.path());
            for d in std::fs::read_dir(self.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if d.path().is_dir() {
                    fb.drop_database(&d.path());
                }
            }
        }
    }
}

/// The environment variable the test configurations name for the
/// Firebird password (set on every magsync the tests run).
pub const FIREBIRD_PASSWORD_ENV: &str = "MAGSYNC_TEST_FIREBIRD_PASSWORD";

/// The Firebird server the tests use, when `MAGSYNC_TEST_MAGAZYN=firebird`.
pub struct Firebird {
    pub password: String,
    server: String,
    data_dir: String,
}

pub fn firebird() -> Option<&'static Firebird> {
    static FB: std::sync::OnceLock<Option<Firebird>> = std::sync::OnceLock::new();
    FB.get_or_init(|| {
        if std::env::var("MAGSYNC_TEST_MAGAZYN").ok()?.as_str() != "firebird" {
            return None;
        }
        // The password: the environment, else Debian's SYSDBA.password file.
        let password = std::env::var(FIREBIRD_PASSWORD_ENV).ok().or_else(|| {
            let text = std::fs::read_to_string("/etc/firebird/3.0/SYSDBA.password").ok()?;
            text.lines().find_map(|l| {
                l.trim()
                    .strip_prefix("ISC_PASSWORD=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        });
        Some(Firebird {
            password: password.expect(
                "MAGSYNC_TEST_MAGAZYN=firebird needs MAGSYNC_TEST_FIREBIRD_PASSWORD or /etc/firebird/3.0/SYSDBA.password",
            ),
            server: std::env::var("MAGSYNC_TEST_FIREBIRD_SERVER")
                .unwrap_or_else(|_| "SYSDBA@127.0.0.1:3050".into()),
            data_dir: std::env::var("MAGSYNC_TEST_FIREBIRD_DIR")
                .unwrap_or_else(|_| "var/lib/firebird/3.0/data".into()),
        })
    })
    .as_ref()
}

impl Firebird {
    /// The Firebird database of the Magazyn of a test directory.
    pub fn url(&self, dir: &Path) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        dir.hash(&mut h);
        format!(
            "firebird://{}/{}/magsync_it_{:016x}.fdb",
            self.server,
            self.data_dir.trim_matches('/'),
            h.finish()
        )
    }

    fn drop_database(&self, dir: &Path) {
        let target = magsync::magazyn::firebird::FbTarget::parse(&self.url(dir)).unwrap();
        if let Ok((conn, _)) = target.connect(&self.password, false) {
            let _ = conn.drop_database();
        }
        // A copy magazyn_save kept (the server is local in the tests).
        let _ = std::fs::remove_file(format!("{}.fbk", target.database));
    }
}

impl Firebird {
    fn database(&self, dir: &Path) -> String {
        magsync::magazyn::firebird::FbTarget::parse(&self.url(dir))
            .unwrap()
            .database
    }

    /// A Firebird tool through the server's service manager.
    fn tool(&self, program: &str, args: &[&str]) -> Output {
        let service = format!(
            "{}:service_mgr",
            self.server.rsplit_once('@').unwrap().1.replace(':', "/")
        );
        let args = args.iter().map(|a| a.replace("SERVICE", &service));
        let mut c = Command::new(program);
        if program == "fbsvcmgr" {
            // fbsvcmgr SERVICE user U password P action_… (credentials first)
            let mut args = args;
            c.arg(args.next().unwrap())
                .args(["user", "SYSDBA", "password", &self.password])
                .args(args);
        } else {
            c.args(args)
                .args(["-user", "SYSDBA", "-password", &self.password]);
        }
        c.output().unwrap_or_else(|e| panic!("{program}: {e}"))
    }
}

/// Whether the test's Magazyn has been created.
pub fn magazyn_exists(dir: &Dir) -> bool {
    match firebird() {
        None => dir.join("magazyn.db").exists(),
        Some(fb) => magsync::magazyn::firebird::FbTarget::parse(&fb.url(dir.path()))
            .unwrap()
            .connect(&fb.password, false)
            .is_ok(),
    }
}

/// Keep the Magazyn as it is now, to go back to with [`magazyn_restore`].
pub fn magazyn_save(dir: &Dir) {
    match firebird() {
        None => {
            std::fs::copy(dir.join("magazyn.db"), dir.join("magazyn.pristine")).unwrap();
        }
        Some(fb) => {
            let db = fb.database(dir.path());
            let o = fb.tool("gbak", &["-b", "-se", "SERVICE", &db, &format!("{db}.fbk")]);
            assert!(
                o.status.success(),
                "gbak -b: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

/// Put the Magazyn back as [`magazyn_save`] kept it.
pub fn magazyn_restore(dir: &Dir) {
    match firebird() {
        None => {
            for f in ["magazyn.db-wal", "magazyn.db-shm"] {
                let _ = std::fs::remove_file(dir.join(f));
            }
            std::fs::copy(dir.join("magazyn.pristine"), dir.join("magazyn.db")).unwrap();
        }
        Some(fb) => {
            // gbak refuses while a killed client's attachment lingers: retry.
            let db = fb.database(dir.path());
            for _ in 0..50 {
                let o = fb.tool(
                    "gbak",
                    &["-rep", "-se", "SERVICE", &format!("{db}.fbk"), &db],
                );
                if o.status.success() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            panic!("gbak -rep {db}: the database stays in use");
        }
    }
}

/// The Magazyn's own consistency check: SQLite's integrity_check, or
/// Firebird's online validation of every table and index.
pub fn magazyn_integrity(dir: &Dir) -> Result<(), String> {
    match firebird() {
        None => match magazyn_rows(dir, "PRAGMA integrity_check")[0][0].as_str() {
            "ok" => Ok(()),
            other => Err(other.to_string()),
        },
        Some(fb) => {
            let db = fb.database(dir.path());
            let o = fb.tool("fbsvcmgr", &["SERVICE", "action_validate", "dbname", &db]);
            let text = String::from_utf8_lossy(&o.stdout).to_lowercase();
            if o.status.success()
                && text.contains("validation finished")
                && !text.contains("error")
                && !text.contains("corrupt")
            {
                Ok(())
            } else {
                Err(format!("{text}{}", String::from_utf8_lossy(&o.stderr)))
            }
        }
    }
}

/// The Magazyn URL of a test directory (the backend the tests run on).
pub fn magazyn_url(dir: &Path) -> String {
    match firebird() {
        Some(fb) => fb.url(dir),
        None => format!("sqlite://{}?mode=rwc", dir.join("magazyn.db").display()),
    }
}

/// Open (creating if needed) the Magazyn of a test directory.
pub async fn open_magazyn(dir: &Path) -> magsync::magazyn::Magazyn {
    magsync::magazyn::Magazyn::open(
        &magazyn_url(dir),
        firebird().map(|f| f.password.as_str()),
        true,
        magsync::templates::Templates::new(None),
    )
    .await
    .unwrap()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &Run {
        assert_eq!(
            self.code, 0,
            "magsync failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    /// The numbers of the `customers load` summary line.
    pub fn load_counts(&self) -> LoadLine {
        self.load_counts_of("customers")
    }

    /// The numbers of the `<flow> load` summary line.
    pub fn load_counts_of(&self, flow: &str) -> LoadLine {
        let line = self
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{flow} load")))
            .unwrap_or_else(|| panic!("no {flow} load line in:\n{}", self.stdout));
        let num = |word: &str| -> u64 {
            let i = line
                .find(&format!(" {word}"))
                .unwrap_or_else(|| panic!("no `{word}` in {line}"));
            line[..i]
                .rsplit([' ', ',', ':'])
                .find(|s| !s.is_empty())
                .unwrap()
                .parse()
                .unwrap()
        };
        LoadLine {
            records: num("records"),
            inserted: num("inserted"),
            updated: num("updated"),
            unchanged: num("unchanged"),
            rejected: num("rejected"),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct LoadLine {
    pub records: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A MariaDB database of its own for one test, loaded with the osCommerce
/// 2.3.3 fixture schema. `None` (after saying so) when no server answers,
/// unless MAGSYNC_REQUIRE_MYSQL is set.
pub struct MyDb {
    pub url: String,
    pub name: String,
    server: String,
}

pub fn mariadb(test: &str) -> Option<MyDb> {
    mariadb_with(test, "")
}

/// The same in a database created with `CHARACTER SET <charset>` (the
/// server default when empty), as old shops' databases were.
pub fn mariadb_with(test: &str, charset: &str) -> Option<MyDb> {
    let base = std::env::var("MAGSYNC_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let server = base.rsplit_once('/').map(|(s, _)| s.to_string()).unwrap();
    let name = format!("magsync_it_{test}_{}", std::process::id());
    let required = std::env::var_os("MAGSYNC_REQUIRE_MYSQL").is_some();
    let r = rt().block_on(async {
        let mut admin = sqlx::mysql::MySqlConnection::connect(&base).await?;
        let cs = if charset.is_empty() {
            String::new()
        } else {
            format!(" CHARACTER SET {charset}")
        };
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}{cs}"
        ))
        .execute(&mut admin)
        .await?;
        Ok::<_, sqlx::Error>(())
    });
    if let Err(e) = r {
        if required {
            panic!("MariaDB is required (MAGSYNC_REQUIRE_MYSQL) but {base} does not answer: {e}");
        }
        eprintln!(
            "SKIPPED {test}: no MariaDB at {base} ({e}); set MAGSYNC_TEST_MYSQL_URL to run it"
        );
        return None;
    }
    let db = MyDb {
        url: format!("{server}/{name}"),
        name,
        server,
    };
    rt().block_on(async {
        let mut shop = db.shop().await;
        let t = magsync::templates::Templates::new(None);
        shop.run_script(
            &t.text("oscommerce-2.3", "fixture/schema.mysql.sql", "mysql")
                .unwrap(),
            "fixture",
        )
        .await
        .unwrap();
        if charset.is_empty() {
            magsync::demo::populate_countries(&mut shop).await.unwrap();
        }
        shop.close().await;
    });
    Some(db)
}

impl MyDb {
    pub async fn shop(&self) -> ShopDb {
        ShopDb::connect(&self.url, None, "test shop").await.unwrap()
    }
    /// Run SQL statements on the shop (test set-up and shop-side edits).
    /// Fill the shop with a generated one.
    pub fn populate(&self, data: &ShopData) {
        rt().block_on(async {
            let mut shop = self.shop().await;
            data.populate(&mut shop).await;
            shop.close().await;
        });
    }

    pub fn exec(&self, sql: &str) {
        rt().block_on(async {
            let mut c = sqlx::mysql::MySqlConnection::connect(&self.url)
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        });
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let _ = rt().block_on(async move {
            let mut c = sqlx::mysql::MySqlConnection::connect(&format!("{server}/test")).await?;
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut c)
                .await
        });
    }
}

/// A configuration with one shop `s1` and an embedded Magazyn.
pub fn config(shop_url: &str, format: &str) -> String {
    config_with(shop_url, format, "")
}

/// The same with extra lines for the shop's section.
pub fn config_with(shop_url: &str, format: &str, extra: &str) -> String {
    format!(
        r#"site = "office"
staging = "staging"
format = "{format}"

[magazyn]
url = "sqlite://magazyn.db"

[shops.s1]
url = "{shop_url}"
encoding = "utf8"
warehouse = "MAG"
customer_code_prefix = "S1-"
order_prefix = "S1/"
{extra}
"#
    )
}

/// Rows of a query on the Magazyn, each as strings.
/// Money columns are NUMERIC on Firebird: select them as
/// `CAST(col AS VARCHAR(40))` and compare them as decimals.
pub fn magazyn_rows(dir: &Dir, sql: &str) -> Vec<Vec<String>> {
    rt().block_on(async {
        let mut m = open_magazyn(dir.path()).await;
        let rows = m.raw_rows(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        m.close().await;
        rows
    })
}

/// A statement on the Magazyn, as another program editing it would run.
pub fn magazyn_exec(dir: &Dir, sql: &str) -> u64 {
    rt().block_on(async {
        let mut m = open_magazyn(dir.path()).await;
        let n = m.raw_exec(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        m.close().await;
        n
    })
}

pub fn magazyn_count(dir: &Dir, sql: &str) -> i64 {
    magazyn_rows(dir, sql)[0][0].parse().unwrap()
}

/// `bagit.py --validate` on a bag, where the validator is installed.
/// Returns false when it is not (and MAGSYNC_REQUIRE_BAGIT is not set).
pub fn bagit_validate(bag: &Path) -> bool {
    let required = std::env::var_os("MAGSYNC_REQUIRE_BAGIT").is_some();
    match Command::new("bagit.py").arg("--validate").arg(bag).output() {
        Ok(o) => {
            assert!(
                o.status.success(),
                "bagit.py --validate {} failed:\n{}{}",
                bag.display(),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            true
        }
        Err(e) => {
            if required {
                panic!("bagit.py is required (MAGSYNC_REQUIRE_BAGIT) but cannot run: {e}");
            }
            eprintln!("bagit.py not installed ({e}); skipping the independent BagIt validation");
            false
        }
    }
}

/// A generated shop: customers, products and orders.
pub struct ShopData {
    pub customers: Vec<magsync::demo::Customer>,
    pub products: Vec<magsync::demo::Product>,
    pub orders: Vec<magsync::demo::Order>,
}

impl ShopData {
    pub fn new(customers: usize, products: usize, orders: usize, seed: u64) -> ShopData {
        let c = magsync::demo::customers(customers, seed);
        let p = magsync::demo::products(products, seed);
        let o = magsync::demo::orders(orders, &c, &p, seed);
        ShopData {
            customers: c,
            products: p,
            orders: o,
        }
    }

    /// Write it into a shop database that has the fixture schema and countries.
    pub async fn populate(&self, shop: &mut ShopDb) {
        magsync::demo::populate_customers(shop, &self.customers)
            .await
            .unwrap();
        magsync::demo::populate_catalog(shop, &self.products)
            .await
            .unwrap();
        magsync::demo::populate_orders(shop, &self.orders)
            .await
            .unwrap();
    }
}

/// Goods in the Magazyn for the shop's products (the register the orders
/// flow links lines to), creating the Magazyn if needed.
pub fn magazyn_goods(dir: &Dir, products: &[magsync::demo::Product]) {
    magazyn_stocked(dir.path(), products, &[], |_| (None, None));
}

/// What [`magazyn_stocked`] gives one good: (net, gross) on the first
/// price list, and the quantity in warehouse `MAG`.
pub type Stocking = (Option<(Decimal, Decimal)>, Option<Decimal>);

/// The shop's products as goods of the Magazyn at `dir` (created if
/// needed, warehouse `MAG` and the `lists` price lists seeded), each priced
/// on `lists[0]` and stocked as `stocking` says, in one transaction.
pub fn magazyn_stocked(
    dir: &Path,
    products: &[magsync::demo::Product],
    lists: &[&str],
    stocking: impl Fn(&magsync::demo::Product) -> Stocking,
) {
    rt().block_on(async {
        let mut mag = open_magazyn(dir).await;
        let lists: Vec<String> = lists.iter().map(|l| l.to_string()).collect();
        mag.seed(&["MAG".to_string()], &lists).await.unwrap();
        let wh = mag.warehouse_id("MAG").await.unwrap();
        let list = match lists.first() {
            Some(l) => Some(mag.price_list_id(l).await.unwrap()),
            None => None,
        };
        mag.begin().await.unwrap();
        for p in products {
            let id = mag
                .good_insert(&magsync::magazyn::GoodRow::new(
                    &p.model,
                    &p.name_pl,
                    &p.rate.to_string(),
                ))
                .await
                .unwrap();
            let (price, quantity) = stocking(p);
            if let (Some(list), Some((net, gross))) = (list, price) {
                mag.set_price(list, id, net, gross).await.unwrap();
            }
            if let Some(q) = quantity {
                mag.set_quantity(wh, id, q).await.unwrap();
            }
        }
        mag.commit().await.unwrap();
        mag.close().await;
    });
}

/// An SQLite shop (osCommerce tables) with a generated shop in it.
pub fn sqlite_shop_with(dir: &Dir, data: &ShopData) -> String {
    let url = format!("sqlite://{}", dir.join("shop.db").display());
    rt().block_on(async {
        let mut shop = ShopDb::connect(&format!("{url}?mode=rwc"), None, "test shop")
            .await
            .unwrap();
        let t = magsync::templates::Templates::new(None);
        shop.run_script(
            &t.text("oscommerce-2.3", "fixture/schema.sqlite.sql", "sqlite")
                .unwrap(),
            "fixture",
        )
        .await
        .unwrap();
        magsync::demo::populate_countries(&mut shop).await.unwrap();
        data.populate(&mut shop).await;
        shop.close().await;
    });
    url
}

/// An SQLite demo shop (osCommerce tables) with `n` generated customers at
/// `dir/shop.db`; returns its URL.
pub fn sqlite_shop(dir: &Dir, n: usize, seed: u64) -> String {
    let data = ShopData {
        customers: magsync::demo::customers(n, seed),
        products: Vec::new(),
        orders: Vec::new(),
    };
    sqlite_shop_with(dir, &data)
}

/// Every batch a test wrote: `magsync verify` passes and, where installed,
/// the Library of Congress validator does too. Returns how many.
pub fn check_all_batches(dir: &Dir) -> usize {
    let all = dir.all_batches();
    for b in &all {
        dir.magsync(&["verify", b.to_str().unwrap()]).ok();
        bagit_validate(b);
    }
    all.len()
}

/// No file under `root` contains `needle`.
pub fn assert_nowhere(root: &Path, needle: &str) {
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        if e.file_type().is_file()
            && e.path()
                .extension()
                .is_none_or(|x| x != "db" && x != "db-wal")
        {
            let bytes = std::fs::read(e.path()).unwrap();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} contains `{needle}`",
                e.path().display()
            );
        }
    }
}

/// Re-seal a bag after a test edited it on purpose (as a program that
/// writes batches would), so a check past the checksums can be reached.
pub fn reseal(dir: &Path) {
    let mut payload = std::collections::BTreeMap::new();
    for e in walkdir::WalkDir::new(dir.join("data")) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .to_string();
            payload.insert(rel, magsync::staging::bag::sha256_file(e.path()).unwrap());
        }
    }
    magsync::staging::bag::seal(
        dir,
        &payload,
        &[("Source-Organization", "test".into())],
        &["magsync-batch.toml"],
    )
    .unwrap();
}
