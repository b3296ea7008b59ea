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
    /// A new directory whose magsync.toml is `toml`.
    pub fn with_config(toml: &str) -> Dir {
        let dir = Dir::new();
        dir.write("magsync.toml", toml);
        dir
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
    /// The first batch under staging/<sub> of `flow` (its name holds
    /// `.<flow>.`).
    pub fn batch_of(&self, sub: &str, flow: &str) -> PathBuf {
        self.batches(sub)
            .into_iter()
            .find(|b| b.to_string_lossy().contains(&format!(".{flow}.")))
            .unwrap_or_else(|| panic!("no {flow} batch in staging/{sub}"))
    }
    /// `magsync extract --shop s1 --flow <flow>`, then `transform` of that
    /// batch: the transformed batch.
    pub fn transformed(&self, flow: &str) -> PathBuf {
        self.magsync(&["extract", "--shop", "s1", "--flow", flow])
            .ok();
        let extracted = self.batches("outbox").pop().unwrap();
        self.magsync(&["transform", extracted.to_str().unwrap()])
            .ok();
        self.batches("work").pop().unwrap()
    }
    /// `magsync review export <batch> -o <out>`.
    pub fn review_export(&self, batch: &Path, out: &Path) -> Run {
        self.magsync(&[
            "review",
            "export",
            batch.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
    }
    /// `magsync review import <batch> <file>`.
    pub fn review_import(&self, batch: &Path, file: &Path) -> Run {
        self.magsync(&[
            "review",
            "import",
            batch.to_str().unwrap(),
            file.to_str().unwrap(),
        ])
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
pub fn open_magazyn(dir: &Path) -> magsync::magazyn::Magazyn {
    magsync::magazyn::Magazyn::open(
        &magazyn_url(dir),
        firebird().map(|f| f.password.as_str()),
        true,
        magsync::templates::Templates::new(None),
    )
    .unwrap()
}

/// The Magazyn of a test directory with warehouse `MAG` and price list
/// `Detal` seeded, and their ids: (Magazyn, price list, warehouse).
pub fn open_magazyn_detal(dir: &Path) -> (magsync::magazyn::Magazyn, i64, i64) {
    let mut mag = open_magazyn(dir);
    mag.seed(&["MAG".to_string()], &["Detal".to_string()])
        .unwrap();
    let list = mag.price_list_id("Detal").unwrap();
    let wh = mag.warehouse_id("MAG").unwrap();
    (mag, list, wh)
}

/// The first column of a query on a MariaDB shop, as text.
pub fn mysql_column(url: &str, sql: &str) -> Vec<String> {
    rt().block_on(async {
        use sqlx::Row;
        let mut c = sqlx::mysql::MySqlConnection::connect(url).await.unwrap();
        sqlx::query(sql)
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| String::from_utf8(r.get::<Vec<u8>, _>(0)).unwrap())
            .collect()
    })
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

/// A MariaDB shop filled with `data` and a test directory whose
/// magsync.toml `toml` makes from the shop's URL; `None` when skipped (as
/// [`mariadb`]).
pub fn mariadb_site(
    test: &str,
    data: &ShopData,
    toml: impl FnOnce(&str) -> String,
) -> Option<(MyDb, Dir)> {
    let db = mariadb(test)?;
    db.populate(data);
    let dir = Dir::with_config(&toml(&db.url));
    Some((db, dir))
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
        let mut m = open_magazyn(dir.path());
        let rows = m.raw_rows(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        m.close();
        rows
    })
}

/// A statement on the Magazyn, as another program editing it would run.
pub fn magazyn_exec(dir: &Dir, sql: &str) -> u64 {
    rt().block_on(async {
        let mut m = open_magazyn(dir.path());
        let n = m.raw_exec(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        m.close();
        n
    })
}

pub fn magazyn_count(dir: &Dir, sql: &str) -> i64 {
    magazyn_rows(dir, sql)[0][0].parse().unwrap()
}

/// The Magazyn holds `n` orders, each number once.
#[track_caller]
pub fn assert_orders_once(dir: &Dir, n: i64) {
    assert_eq!(magazyn_count(dir, "SELECT COUNT(*) FROM orders"), n);
    assert_eq!(
        magazyn_count(dir, "SELECT COUNT(DISTINCT number) FROM orders"),
        n
    );
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

/// Where the tests' hand-made batches come from: the office's osCommerce
/// shop `s1`.
pub fn office_source() -> magsync::staging::Source {
    magsync::staging::Source {
        site: "office".into(),
        shop: "s1".into(),
        system: "oscommerce".into(),
        profile: "oscommerce-2.3".into(),
        encoding: None,
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

/// A shop product as a good of the Magazyn: its model as the code, its
/// Polish name, its VAT rate.
pub fn good_row(p: &magsync::demo::Product) -> magsync::magazyn::GoodRow {
    magsync::magazyn::GoodRow::new(&p.model, &p.name_pl, &p.rate.to_string())
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
        let mut mag = open_magazyn(dir);
        let lists: Vec<String> = lists.iter().map(|l| l.to_string()).collect();
        mag.seed(&["MAG".to_string()], &lists).unwrap();
        let wh = mag.warehouse_id("MAG").unwrap();
        let list = lists.first().map(|l| mag.price_list_id(l).unwrap());
        mag.begin().unwrap();
        for p in products {
            let id = mag.good_insert(&good_row(p)).unwrap();
            let (price, quantity) = stocking(p);
            if let (Some(list), Some((net, gross))) = (list, price) {
                mag.set_price(list, id, net, gross).unwrap();
            }
            if let Some(q) = quantity {
                mag.set_quantity(wh, id, q).unwrap();
            }
        }
        mag.commit().unwrap();
        mag.close();
    });
}

/// The URL of a test directory's SQLite shop (see [`sqlite_shop_with`]).
pub fn sqlite_shop_url(dir: &Dir) -> String {
    format!("sqlite://{}", dir.join("shop.db").display())
}

/// A test directory with an SQLite shop holding `data` and the magsync.toml
/// `toml` makes from the shop's URL.
pub fn sqlite_site(data: &ShopData, toml: impl FnOnce(&str) -> String) -> Dir {
    let dir = Dir::new();
    let url = sqlite_shop_with(&dir, data);
    dir.write("magsync.toml", &toml(&url));
    dir
}

/// SQL statements on an SQLite shop (test set-up and shop-side edits).
pub fn sqlite_exec(url: &str, sql: &str) {
    rt().block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::sqlite::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    });
}

/// The first column of a query on an SQLite shop, as strings.
pub fn sqlite_column(url: &str, sql: &str) -> Vec<String> {
    rt().block_on(async {
        use sqlx::{Connection, Row};
        let mut c = sqlx::sqlite::SqliteConnection::connect(url).await.unwrap();
        let rows = sqlx::query(sql).fetch_all(&mut c).await.unwrap();
        c.close().await.unwrap();
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    })
}

/// An SQLite shop (osCommerce tables) with a generated shop in it.
pub fn sqlite_shop_with(dir: &Dir, data: &ShopData) -> String {
    let url = sqlite_shop_url(dir);
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

// ------------------------------------------------------------ storefront

/// The real osCommerce 2.3.3 shop of `../shared/storefront` (the shop's own
/// PHP code on `php -S`, its own install SQL in MariaDB), one per test:
/// database `oscreal_it_<test>_<pid>` on a free port, stopped and dropped
/// when the value is dropped, also when the test fails.
///
/// Orders, totals, taxes and prices in it are what osCommerce computes; the
/// tests compare magsync with that, never with a formula of their own.
pub struct Storefront {
    pub db: String,
    pub port: u16,
    /// The shop's text storage: `utf8` or `latin1-utf8` (setup.sh's OSC_ENCODING).
    pub encoding: &'static str,
    scripts: PathBuf,
}

/// How a storefront is set up (setup.sh's environment).
#[derive(Clone, Copy)]
pub struct ShopSetup {
    /// DISPLAY_PRICE_WITH_TAX.
    pub gross: bool,
    /// `utf8` or `latin1-utf8`.
    pub encoding: &'static str,
}

impl ShopSetup {
    pub const GROSS: ShopSetup = ShopSetup {
        gross: true,
        encoding: "utf8",
    };
    pub const NET: ShopSetup = ShopSetup {
        gross: false,
        encoding: "utf8",
    };
}

/// A customer as the storefront's registration form takes one.
pub struct Buyer {
    pub email: &'static str,
    pub first: &'static str,
    pub last: &'static str,
    pub street: &'static str,
    pub postcode: &'static str,
    pub city: &'static str,
    pub company: Option<&'static str>,
}

/// Two Polish customers with every letter of the alphabet's diacritics between them.
pub const BUYERS: [Buyer; 2] = [
    Buyer {
        email: "zazolc@example.com",
        first: "Zażółć",
        last: "Gęślą",
        street: "ul. Świętokrzyska 11/13",
        postcode: "00-950",
        city: "Łódź",
        company: Some("Żółw Sp. z o.o."),
    },
    Buyer {
        email: "anna@example.com",
        first: "Anna",
        last: "Wąsowska-Źdźbło",
        street: "ul. Żeromskiego 5 m. 7",
        postcode: "31-000",
        city: "Kraków",
        company: None,
    },
];

/// The storefront's customer password (shop.py's default).
const STOREFRONT_PASSWORD: &str = "oscreal-Klient-1";

fn storefront_scripts() -> PathBuf {
    match std::env::var_os("MAGSYNC_STOREFRONT_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/storefront"),
    }
}

/// Why no storefront can start here, if none can (and the test should skip).
fn storefront_missing() -> Option<String> {
    let scripts = storefront_scripts();
    if !scripts.join("setup.sh").exists() {
        return Some(format!(
            "no storefront at {} (set MAGSYNC_STOREFRONT_DIR)",
            scripts.display()
        ));
    }
    // setup.sh installs PHP from Debian when it is missing; a test run does
    // that only where it was asked to (CI), never behind a developer's back.
    let php = Command::new("php").arg("-m").output();
    match php {
        Ok(o) if o.status.success() => {
            let mods = String::from_utf8_lossy(&o.stdout);
            let has = |m: &str| mods.lines().any(|l| l.trim() == m);
            if !has("mysqli") || !has("mbstring") {
                return Some(
                    "PHP lacks mysqli or mbstring (apt-get install php-mysql php-mbstring)".into(),
                );
            }
        }
        _ => return Some("no PHP (apt-get install php-cli php-mysql php-mbstring)".into()),
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh storefront for `test`, or `None` (after saying why) where PHP
/// or the storefront is missing, unless `MAGSYNC_REQUIRE_STOREFRONT` makes
/// that a failure (then setup.sh installs PHP itself).
pub fn storefront(test: &str, setup: ShopSetup) -> Option<Storefront> {
    let required = std::env::var_os("MAGSYNC_REQUIRE_STOREFRONT").is_some();
    // Required and only PHP missing: setup.sh installs it.
    if let Some(why) = storefront_missing()
        && (!required || !storefront_scripts().join("setup.sh").exists())
    {
        assert!(
            !required,
            "the storefront is required (MAGSYNC_REQUIRE_STOREFRONT) but {why}"
        );
        eprintln!("SKIPPED {test}: {why}; set MAGSYNC_REQUIRE_STOREFRONT=1 to install and run it");
        return None;
    }
    let db = format!("oscreal_it_{test}_{}", std::process::id());
    let scripts = storefront_scripts();
    // One setup.sh at a time: its `php -m | grep -q` check can fail on
    // SIGPIPE under load (pipefail) and then runs apt-get, and two apt-gets
    // at once fail on the dpkg lock.
    static SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let mut last = String::new();
    // A port found free can be taken before php -S binds it: try another.
    for _ in 0..5 {
        let port = free_port();
        let o = Command::new("bash")
            .arg(scripts.join("setup.sh"))
            .args([&db, &port.to_string()])
            .env(
                "DISPLAY_PRICE_WITH_TAX",
                if setup.gross { "true" } else { "false" },
            )
            .env("OSC_ENCODING", setup.encoding)
            .env("OSC_CURRENCY", "PLN")
            .env("OSC_PL_VAT", "23")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("bash");
        if o.status.success() {
            return Some(Storefront {
                db,
                port,
                encoding: setup.encoding,
                scripts,
            });
        }
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        if !last.contains("already in use") {
            break;
        }
    }
    let _ = Command::new("bash")
        .arg(scripts.join("stop.sh"))
        .arg(&db)
        .output();
    panic!("storefront setup.sh {db} failed:\n{last}");
}

impl Storefront {
    /// The shop's database URL for magsync.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:3306/{}", self.db)
    }

    /// A magsync configuration with this shop as `s1` (English, the only
    /// language of the stock install), warehouse `MAG`, price list `Detal`.
    pub fn config(&self, extra: &str) -> String {
        config_with(
            &self.url(),
            "csv",
            &format!("price_list = \"Detal\"\n{extra}"),
        )
        .replace(
            "encoding = \"utf8\"",
            &format!("encoding = \"{}\"", self.encoding),
        )
    }

    fn shop_py(&self, args: &[&str]) -> String {
        let o = Command::new("python3")
            .arg(self.scripts.join("shop.py"))
            .args(args)
            .args(["--port", &self.port.to_string()])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("python3");
        assert!(
            o.status.success(),
            "shop.py {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    }

    /// Register through create_account.php.
    pub fn register(&self, b: &Buyer) {
        let mut args = vec![
            "register",
            "--email",
            b.email,
            "--first",
            b.first,
            "--last",
            b.last,
            "--street",
            b.street,
            "--postcode",
            b.postcode,
            "--city",
            b.city,
        ];
        if let Some(c) = b.company {
            args.extend(["--company", c]);
        }
        self.shop_py(&args);
    }

    /// The whole checkout (Flat Rate, Cash on Delivery) of `cart`
    /// (products_id, quantity); returns the new orders_id.
    pub fn order(&self, b: &Buyer, cart: &[(i64, i64)]) -> i64 {
        let specs: Vec<String> = cart.iter().map(|(p, q)| format!("{p}:{q}")).collect();
        let mut args = vec![
            "order",
            "--email",
            b.email,
            "--password",
            STOREFRONT_PASSWORD,
        ];
        for s in &specs {
            args.extend(["--product", s]);
        }
        let out = self.shop_py(&args);
        out.lines().last().unwrap().parse().unwrap()
    }

    /// Change an order's status in admin/orders.php.
    pub fn status(&self, order: i64, status_id: i64, comment: &str) {
        self.shop_py(&[
            "status",
            "--order",
            &order.to_string(),
            "--status-id",
            &status_id.to_string(),
            "--comment",
            comment,
        ]);
    }

    /// The price product_info.php shows (the special price where one runs),
    /// as a decimal ("49,19zł" → 49.19).
    pub fn shown_price(&self, product: i64) -> Decimal {
        let text = self.shop_py(&["price", "--product", &product.to_string()]);
        let number: String = text
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
            .collect();
        number
            .replace(',', ".")
            .parse()
            .unwrap_or_else(|e| panic!("price {text:?} of product {product}: {e}"))
    }

    fn client(&self) -> Command {
        let mut c = Command::new("mariadb");
        // The connection character set the shop itself uses, so text comes
        // back as the bytes the shop stored.
        let cs = if self.encoding == "latin1-utf8" {
            "latin1"
        } else {
            "utf8mb4"
        };
        c.args(["-h127.0.0.1", "-P3306", "-uroot", "-N", "-B", "-r"])
            .arg(format!("--default-character-set={cs}"))
            .arg(&self.db);
        c
    }

    /// Rows of a query on the shop's database, each column as text
    /// (NULL as "NULL").
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let o = self.client().arg("-e").arg(sql).output().expect("mariadb");
        assert!(
            o.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    }

    /// Statements on the shop's database (set-ups the harness has no switch for).
    pub fn exec(&self, sql: &str) {
        self.rows(sql);
    }

    /// Set configuration values as the admin's module pages would.
    pub fn configure(&self, settings: &[(&str, &str)]) {
        for (key, value) in settings {
            let n = self.rows(&format!(
                "UPDATE configuration SET configuration_value = '{value}' WHERE configuration_key = '{key}';
                 SELECT COUNT(*) FROM configuration WHERE configuration_key = '{key}'"
            ));
            assert_eq!(n[0][0], "1", "configuration key {key} is not there");
        }
    }

    /// Install the core low order fee module as its `install()` does
    /// (admin/modules.php cannot on PHP 8), enabled, in `tax_class`.
    pub fn install_low_order_fee(&self, tax_class: &str) {
        self.rows(&format!(
            "INSERT INTO configuration (configuration_title, configuration_key, configuration_value, configuration_description, configuration_group_id, sort_order, set_function, use_function, date_added) VALUES
             ('Display Low Order Fee', 'MODULE_ORDER_TOTAL_LOWORDERFEE_STATUS', 'true', 'Do you want to display the low order fee?', 6, 1, 'tep_cfg_select_option(array(\\'true\\', \\'false\\'), ', NULL, now()),
             ('Sort Order', 'MODULE_ORDER_TOTAL_LOWORDERFEE_SORT_ORDER', '4', 'Sort order of display.', 6, 2, NULL, NULL, now()),
             ('Allow Low Order Fee', 'MODULE_ORDER_TOTAL_LOWORDERFEE_LOW_ORDER_FEE', 'true', 'Do you want to allow low order fees?', 6, 3, 'tep_cfg_select_option(array(\\'true\\', \\'false\\'), ', NULL, now()),
             ('Order Fee For Orders Under', 'MODULE_ORDER_TOTAL_LOWORDERFEE_ORDER_UNDER', '50', 'Add the low order fee to orders under this amount.', 6, 4, NULL, 'currencies->format', now()),
             ('Order Fee', 'MODULE_ORDER_TOTAL_LOWORDERFEE_FEE', '5', 'Low order fee.', 6, 5, NULL, 'currencies->format', now()),
             ('Attach Low Order Fee On Orders Made', 'MODULE_ORDER_TOTAL_LOWORDERFEE_DESTINATION', 'both', 'Attach low order fee for orders sent to the set destination.', 6, 6, 'tep_cfg_select_option(array(\\'national\\', \\'international\\', \\'both\\'), ', NULL, now()),
             ('Tax Class', 'MODULE_ORDER_TOTAL_LOWORDERFEE_TAX_CLASS', '{tax_class}', 'Use the following tax class on the low order fee.', 6, 7, 'tep_cfg_pull_down_tax_classes(', 'tep_get_tax_class_title', now());
             UPDATE configuration SET configuration_value = '5' WHERE configuration_key = 'MODULE_ORDER_TOTAL_TOTAL_SORT_ORDER'"
        ));
    }

    /// The shop's products as the Magazyn register needs them (code =
    /// products_model, English name, the shop's VAT of 23 %).
    pub fn products(&self) -> Vec<magsync::demo::Product> {
        self.rows(
            "SELECT p.products_id, p.products_model, d.products_name, p.products_tax_class_id, p.products_price, p.products_quantity
             FROM products p JOIN products_description d ON d.products_id = p.products_id AND d.language_id = 1
             ORDER BY p.products_id",
        )
        .into_iter()
        .map(|r| {
            let price: Decimal = r[4].parse().unwrap();
            let rate = Decimal::from(23);
            magsync::demo::Product {
                id: r[0].parse().unwrap(),
                model: r[1].clone(),
                name_pl: r[2].clone(),
                name_en: r[2].clone(),
                tax_class: r[3].parse().unwrap(),
                rate,
                gross: magsync::money::round2(price * Decimal::new(123, 2)),
                price,
                quantity: r[5].parse().unwrap(),
            }
        })
        .collect()
    }

    /// The shop's products with these ids (in the order of [`Self::products`]).
    pub fn products_of(&self, ids: &[i64]) -> Vec<magsync::demo::Product> {
        let mut products = self.products();
        products.retain(|p| ids.contains(&p.id));
        products
    }

    /// What the customer paid for an order: `ot_total × currency_value`
    /// to the grosz, as the shop wrote it.
    pub fn paid(&self, order: i64) -> Decimal {
        let r = &self.rows(&format!(
            "SELECT t.value, o.currency_value FROM orders_total t JOIN orders o ON o.orders_id = t.orders_id WHERE t.orders_id = {order} AND t.class = 'ot_total'"
        ))[0];
        let v: Decimal = r[0].parse().unwrap();
        let cv: Decimal = r[1].parse().unwrap();
        magsync::money::round2(v * cv)
    }
}

impl Drop for Storefront {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(self.scripts.join("stop.sh"))
            .arg(&self.db)
            .output();
        let _ = Command::new("mariadb")
            .args(["-h127.0.0.1", "-P3306", "-uroot", "-e"])
            .arg(format!("DROP DATABASE IF EXISTS `{}`", self.db))
            .output();
        let _ = std::fs::remove_dir_all(format!("/tmp/oscreal-{}", self.db));
    }
}

/// The first row of a worksheet, as text.
pub fn sheet_header(range: &calamine::Range<calamine::Data>) -> Vec<String> {
    range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// A person's edit: every cell copied from the workbook into a new one, with
/// `edits` (sheet, column name, row index from 0, new value) applied.
pub fn edit_workbook(src: &Path, dst: &Path, edits: &[(&str, &str, usize, &str)]) {
    use calamine::{Data, Reader};
    let mut wb = calamine::open_workbook_auto(src).unwrap();
    let mut out = rust_xlsxwriter::Workbook::new();
    let text = rust_xlsxwriter::Format::new().set_num_format("@");
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for name in wb.sheet_names().to_vec() {
        let range = wb.worksheet_range(&name).unwrap();
        let ws = out.add_worksheet();
        ws.set_name(&name).unwrap();
        let header = sheet_header(&range);
        for (r, row) in range.rows().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r32, c16) = (r as u32, c as u16);
                let edited = edits.iter().find(|(s, col, i, _)| {
                    *s == name && header.get(c).is_some_and(|h| h == col) && r == i + 1
                });
                if let Some((_, _, _, v)) = edited {
                    // `#950`: typed into a General cell (a number); `=…`: a formula.
                    if let Some(n) = v.strip_prefix('#') {
                        ws.write_number(r32, c16, n.parse::<f64>().unwrap())
                            .unwrap();
                    } else if v.starts_with('=') {
                        ws.write_formula(r32, c16, *v).unwrap();
                    } else {
                        match v.parse::<f64>() {
                            Ok(n) if !matches!(cell, Data::String(_)) => {
                                ws.write_number(r32, c16, n).unwrap()
                            }
                            _ => ws.write_string_with_format(r32, c16, *v, &text).unwrap(),
                        };
                    }
                    continue;
                }
                match cell {
                    Data::Empty => {}
                    Data::String(s) => {
                        ws.write_string_with_format(r32, c16, s, &text).unwrap();
                    }
                    Data::Float(f) => {
                        ws.write_number(r32, c16, *f).unwrap();
                    }
                    Data::Int(i) => {
                        ws.write_number(r32, c16, *i as f64).unwrap();
                    }
                    Data::DateTime(d) => {
                        ws.write_datetime_with_format(r32, c16, d.as_datetime().unwrap(), &date)
                            .unwrap();
                    }
                    other => {
                        ws.write_string(r32, c16, other.to_string()).unwrap();
                    }
                }
            }
        }
    }
    out.save(dst).unwrap();
}

/// Whether LibreOffice is here (a failure where MAGSYNC_REQUIRE_SOFFICE).
pub fn soffice_or_skip() -> bool {
    if Command::new("soffice").arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("MAGSYNC_REQUIRE_SOFFICE").is_none(),
        "soffice is required (MAGSYNC_REQUIRE_SOFFICE)"
    );
    eprintln!("SKIPPED: soffice not installed (apt-get install libreoffice-calc-nogui)");
    false
}

/// `file` opened and saved by LibreOffice Calc as `fmt` (ods, xlsx).
pub fn libreoffice_resave(dir: &Dir, file: &Path, fmt: &str) -> PathBuf {
    let outdir = dir.join(&format!("resaved-{fmt}"));
    let o = Command::new("soffice")
        .args(["--headless", "--calc", "--convert-to", fmt, "--outdir"])
        .arg(&outdir)
        .arg(file)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stem = file.file_stem().unwrap().to_string_lossy();
    let saved = outdir.join(format!("{stem}.{fmt}"));
    assert!(saved.is_file(), "{}", String::from_utf8_lossy(&o.stderr));
    saved
}
