//! The Magazyn store: SQLite (the embedded reference schema) or Firebird 3
//! (what DGCS System – Magazyn runs on), behind one set of methods.
//!
//! Every statement is a template of the `magazyn` profile, in the backend's
//! dialect (`<name>.firebird.sql` where Firebird's SQL differs), and runs
//! through one place, [`Magazyn::run`], which
//! hands rows back as a backend-neutral [`MRow`]. The schema is created and
//! migrated on first use from the profile's `migrations/*.sql`. A load runs
//! in one write transaction together with its ledger entry, so a crash
//! leaves all of a batch or none of it. Money and quantities reach magsync
//! as decimal text (TEXT on SQLite, NUMERIC read through a CAST on Firebird).
//!
//! SQLite runs in the calling thread (rusqlite): sqlx's worker-thread
//! hand-off per statement cost most of a load's time. The methods stay
//! `async` so the flows read the same whatever the backend; the run has one
//! task, so a blocking call holds up nothing else.

use crate::base::now_utc;
use crate::error::{Error, Result};
use crate::templates::{Params, Sql, Templates, Value};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use super::firebird::{self, FbConn, FbTarget};
use super::sqlite;
const MIGRATIONS: &[&str] = &[
    "0001_reference_schema",
    "0002_order_reservations",
    "0003_base_prices",
    "0004_order_line_kinds",
    "0005_order_buyer_and_comment",
    "0006_goods_issues",
    "0007_retired_links",
    "0008_deletion_checks",
];

pub use crate::config::DEFAULT_LOCK_WAIT;

/// How many candidates of one matching step a warning names.
pub const CANDIDATES: usize = 5;

/// The backend seam: one connection of either engine, dispatched here and
/// nowhere else (the methods of [`Magazyn`] are engine-blind; what differs
/// in SQL is a template's dialect, what SQL cannot say is in `sqlite.rs` and
/// `firebird.rs`).
enum Conn {
    Sqlite(rusqlite::Connection),
    Firebird(Box<FbConn>),
}

impl Conn {
    /// The dialect of the `magazyn` profile this engine reads.
    fn dialect(&self) -> &'static str {
        match self {
            Conn::Sqlite(_) => "sqlite",
            Conn::Firebird(_) => "firebird",
        }
    }

    /// Run one statement, `f` called with each row; returns rows seen, and
    /// the rows it changed in `changed`. `-vvv` traces each with its time.
    fn run(
        &mut self,
        name: &str,
        text: &str,
        values: &[&Value],
        f: impl FnMut(&MRow) -> Result<()>,
        changed: &mut u64,
    ) -> Result<u64> {
        self.run_known(name, text, None, values, f, changed)
    }

    /// [`Conn::run`] of a statement whose Firebird kind the caller knows
    /// (a bulk block: whether it returns rows).
    fn run_known(
        &mut self,
        name: &str,
        text: &str,
        known: Option<firebird::Kind>,
        values: &[&Value],
        mut f: impl FnMut(&MRow) -> Result<()>,
        changed: &mut u64,
    ) -> Result<u64> {
        let t0 = std::time::Instant::now();
        let query: std::sync::Arc<str> = name.into();
        let mut n = 0;
        let mut count = |r: &MRow| {
            n += 1;
            f(r)
        };
        let r = match self {
            Conn::Firebird(c) => {
                let mut names: Option<std::sync::Arc<[String]>> = None;
                firebird::run(c, name, text, known, values, |cols, vals| {
                    let names = names.get_or_insert_with(|| cols.into());
                    count(&MRow {
                        query: query.clone(),
                        names: names.clone(),
                        values: vals,
                    })
                })
            }
            Conn::Sqlite(c) => {
                let mut row = MRow {
                    query: query.clone(),
                    names: Vec::new().into(),
                    values: Vec::new(),
                };
                sqlite::run(c, name, text, values, &mut count, &mut row)
            }
        };
        tracing::trace!("{name}: {} µs", t0.elapsed().as_micros());
        *changed = r?;
        Ok(n)
    }

    /// A script of statements with no values (session settings,
    /// migrations). Firebird prepares one statement at a time.
    fn script(&mut self, name: &str, text: &str, file: &str) -> Result<()> {
        let ctx = format!("Magazyn {file}: {name}");
        match self {
            Conn::Sqlite(c) => sqlite::script(c, &ctx, text),
            Conn::Firebird(c) => firebird::script(c, &ctx, text),
        }
    }

    /// The write transaction of a batch. SQLite runs the template's
    /// `BEGIN IMMEDIATE` (it takes the write lock now); Firebird's is an
    /// API call (read committed, waiting `lock_wait` s on a locked row).
    fn begin_write(&mut self, begin: &str, lock_wait: u32, file: &str) -> Result<()> {
        let ctx = format!("Magazyn {file}: begin");
        match self {
            Conn::Sqlite(c) => {
                sqlite::refuse_read_only(c, file, &ctx)?;
                sqlite::script(c, &format!("Magazyn {file}: transaction.begin.sql"), begin)
            }
            Conn::Firebird(c) => firebird::begin_write(c, lock_wait, &ctx),
        }
    }

    /// A read transaction that sees one moment (an extract).
    fn begin_snapshot(&mut self, begin: &str, file: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => sqlite::script(
                c,
                &format!("Magazyn {file}: transaction.snapshot.sql"),
                begin,
            ),
            Conn::Firebird(c) => firebird::begin_snapshot(c),
        }
    }

    /// End the transaction: `commit` (the template's text on SQLite).
    fn end(&mut self, commit: bool, text: &str, file: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => {
                let name = if commit {
                    "transaction.commit.sql"
                } else {
                    "transaction.rollback.sql"
                };
                sqlite::script(c, &format!("Magazyn {file}: {name}"), text)
            }
            Conn::Firebird(c) => {
                let ctx = format!(
                    "Magazyn {file}: {}",
                    if commit { "commit" } else { "rollback" }
                );
                if commit { c.commit() } else { c.rollback() }.map_err(firebird::fb(ctx))
            }
        }
    }

    fn set_lock_wait(&mut self, seconds: u32, file: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => sqlite::set_lock_wait(c, seconds, file),
            Conn::Firebird(_) => Ok(()), // given with each write transaction
        }
    }

    /// How this engine takes many new orders in one statement.
    fn packing(&self) -> super::bulk::Packing {
        match self {
            Conn::Sqlite(_) => super::bulk::Packing::MultiRow,
            Conn::Firebird(_) => super::bulk::Packing::Block,
        }
    }

    /// Whether DDL takes effect only at commit (Firebird), so that a
    /// migration runs statement by statement in autocommit.
    fn ddl_at_commit(&self) -> bool {
        matches!(self, Conn::Firebird(_))
    }

    fn close(self) {
        match self {
            Conn::Sqlite(c) => {
                let _ = c.close();
            }
            Conn::Firebird(c) => {
                let _ = c.close();
            }
        }
    }
}

pub struct Magazyn {
    conn: Conn,
    /// The template profile of this backend, and its dialect.
    profile: &'static str,
    dialect: &'static str,
    templates: Templates,
    /// Templates parsed once per open, by name.
    parsed: HashMap<String, Sql>,
    url: String,
    /// The database (file or server path), as errors name it.
    file: String,
    /// Seconds to wait for data another program holds.
    lock_wait: u32,
    /// True when this open created the schema (a fresh reference Magazyn).
    pub created: bool,
    /// New orders waiting to be written many to a statement.
    queued: super::bulk::Queue,
    /// Whether the order templates can be packed (`bulk::fits`), once known.
    bulk_fits: Option<bool>,
    /// The time new orders of this transaction are created at (`:now`):
    /// the time of its first, formatted once.
    now: Option<String>,
    /// Customer links looked up ahead ([`Magazyn::customer_links_ahead`]):
    /// the shop, and each shop customer's link (`None`: not linked).
    links_ahead: Option<(String, LinksAhead)>,
}

/// Shop customers' links by their shop id: (Magazyn id, weak), `None` for
/// not linked.
type LinksAhead = HashMap<String, Option<(i64, bool)>>;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerRow {
    pub code: String,
    pub name: String,
    pub nip: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country_code: Option<String>,
    pub is_company: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchStep {
    Code,
    Nip,
    Name,
    Email,
}

impl MatchStep {
    pub const ORDER: [MatchStep; 4] = [
        MatchStep::Code,
        MatchStep::Nip,
        MatchStep::Name,
        MatchStep::Email,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            MatchStep::Code => "code",
            MatchStep::Nip => "nip",
            MatchStep::Name => "name",
            MatchStep::Email => "email",
        }
    }
}

/// A good's definition (kartoteka towarowa).
#[derive(Debug, Clone, PartialEq)]
pub struct GoodRow {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub unit: String,
    pub vat_symbol: String,
    pub ean: Option<String>,
    pub weight: Option<String>,
    pub manufacturer: Option<String>,
    pub kind: String,
    pub visible: bool,
}

impl GoodRow {
    pub fn new(code: &str, name: &str, vat_symbol: &str) -> GoodRow {
        GoodRow {
            code: code.into(),
            name: name.into(),
            description: None,
            unit: "szt.".into(),
            vat_symbol: vat_symbol.into(),
            ean: None,
            weight: None,
            manufacturer: None,
            kind: "good".into(),
            visible: true,
        }
    }
}

/// What the Magazyn holds of an order already loaded.
#[derive(Debug, Clone)]
pub struct OrderState {
    pub id: i64,
    pub status: String,
    pub description: String,
    pub reserved: bool,
    pub warehouse_id: Option<i64>,
}

/// One row of a Magazyn query, the same whatever the backend: values by
/// column name, typed on access (a wrong type names the template's column).
#[derive(Debug, Clone)]
pub struct MRow {
    /// The statement, as errors name it (`<file>: <template>`).
    pub(super) query: std::sync::Arc<str>,
    pub(super) names: std::sync::Arc<[String]>,
    pub(super) values: Vec<Value>,
}

impl MRow {
    /// An error about this row's query (the template that returned it).
    fn err(&self, message: String) -> Error {
        Error::Magazyn {
            what: self.query.to_string(),
            key: String::new(),
            message,
        }
    }

    fn at(&self, col: &str) -> Result<&Value> {
        self.names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(col))
            .map(|i| &self.values[i])
            .ok_or_else(|| {
                self.err(format!(
                    "the query returns no column `{col}` (it returns {})",
                    self.names.join(", ")
                ))
            })
    }

    fn wrong(&self, col: &str, want: &str, v: &Value) -> Error {
        self.err(format!("column `{col}` holds {v:?}, not {want}"))
    }

    pub fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        match self.at(col)? {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            v @ Value::Text(t) => t
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.wrong(col, "an integer", v)),
            v => Err(self.wrong(col, "an integer", v)),
        }
    }

    pub fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?
            .ok_or_else(|| self.err(format!("column `{col}` is NULL")))
    }

    pub fn opt_text(&self, col: &str) -> Result<Option<String>> {
        match self.at(col)? {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(i.to_string())),
            Value::Text(t) => Ok(Some(t.clone())),
            v @ Value::Bytes(b) => String::from_utf8(b.clone())
                .map(Some)
                .map_err(|_| self.wrong(col, "text", v)),
        }
    }

    /// Text, NULL read as empty.
    pub fn text(&self, col: &str) -> Result<String> {
        Ok(self.opt_text(col)?.unwrap_or_default())
    }

    pub fn dec(&self, col: &str) -> Result<Decimal> {
        let s = self.text(col)?;
        Decimal::from_str(s.trim())
            .map_err(|e| self.err(format!("column `{col}`: `{s}` is not a decimal: {e}")))
    }

    /// The first column as an integer (`RETURNING id`, `SELECT id …`).
    pub fn id(&self) -> Result<i64> {
        let col = self.names.first().map(String::as_str).unwrap_or("?");
        match self.values.first() {
            Some(Value::Int(i)) => Ok(*i),
            Some(v) => Err(self.wrong(col, "an id", v)),
            None => Err(self.err("the query returned no column".into())),
        }
    }
}

/// The entity an orders load records its comparison under (`check_get`).
pub const ORDERS_CHECK: &str = "order";

/// What a load compared looking for records deleted in the shop
/// (`magsync_checks`): the shop's ids up to `covered_to` (how many, and
/// their order-independent digest), and the Magazyn's records up to id
/// `seen_to`, whose highest shop id was `key_max` (those marked deleted
/// too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletionCheck {
    pub covered_to: i64,
    pub ids_count: i64,
    pub ids_digest: i64,
    pub seen_to: i64,
    pub key_max: i64,
}

#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub batch_id: String,
    pub tag_sha256: String,
    pub applied_at: String,
    pub records: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
}

/// Keys a statement with a list parameter asks for at most (the buyers
/// and the goods' codes of the next orders, the goods whose reservations
/// a load changes).
const LIST_AT_ONCE: usize = 256;

/// A good's stock `column` plus `delta`, exactly; beyond 28 digits an
/// error naming the good, not a panic.
fn added(
    warehouse_id: i64,
    good_id: i64,
    column: &str,
    current: Decimal,
    delta: Decimal,
) -> Result<Decimal> {
    current.checked_add(delta).ok_or_else(|| Error::Magazyn {
        what: "stock".into(),
        key: format!("warehouse {warehouse_id}, good {good_id}"),
        message: format!("{column} {current} + {delta} is beyond 28 digits"),
    })
}

impl Magazyn {
    /// Open (and if `create`, create) the Magazyn at `url` (`sqlite://path`,
    /// `sqlite:path`, an optional `?mode=ro|rw|rwc`), then bring its schema
    /// up to date.
    pub fn open(
        url: &str,
        password: Option<&str>,
        create: bool,
        templates: Templates,
    ) -> Result<Magazyn> {
        let (conn, file) = if url.starts_with("firebird://") {
            let target = FbTarget::parse(url).map_err(|message| Error::Config {
                path: "[magazyn] url".into(),
                message,
            })?;
            let password = password.ok_or_else(|| Error::Magazyn {
                what: crate::config::redact_url(url),
                key: String::new(),
                message: "no password (set [magazyn] password_env or password_file)".into(),
            })?;
            let (conn, _) = target.connect(password, create)?;
            (Conn::Firebird(Box::new(conn)), target.database)
        } else {
            let (c, file) = sqlite::open(url, create, DEFAULT_LOCK_WAIT)?;
            (Conn::Sqlite(c), file)
        };
        let (profile, dialect) = ("magazyn", conn.dialect());
        let packing = conn.packing();
        let mut m = Magazyn {
            conn,
            profile,
            dialect,
            templates,
            parsed: HashMap::new(),
            url: url.to_string(),
            file,
            lock_wait: DEFAULT_LOCK_WAIT,
            created: false,
            queued: super::bulk::Queue::new(packing),
            bulk_fits: None,
            now: None,
            links_ahead: None,
        };
        let session = m.templates.text(m.profile, "session.sql", m.dialect)?;
        m.conn.script("session.sql", &session, &m.file)?;
        m.migrate()?;
        Ok(m)
    }

    /// How long a write waits for data another program holds before it
    /// fails as a lock conflict (the load then tries again).
    pub fn set_lock_wait(&mut self, seconds: u32) -> Result<()> {
        self.lock_wait = seconds;
        self.conn.set_lock_wait(seconds, &self.file)
    }

    /// What the Magazyn is, for `check`: engine, version, character set.
    pub fn describe(&mut self) -> Result<String> {
        self.first("describe.sql", Params::new())?
            .map(|r| r.text("description"))
            .unwrap_or_else(|| Ok(String::new()))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Bring the schema up to date: every migration not yet in the
    /// bookkeeping table (`migrations.*.sql`), in order, each recorded last.
    fn migrate(&mut self) -> Result<()> {
        if self
            .first("migrations.exists.sql", Params::new())?
            .is_none()
        {
            let table = self
                .templates
                .text(self.profile, "migrations.table.sql", self.dialect)?;
            self.conn
                .script("migrations.table.sql", &table, &self.file)?;
        }
        let mut done = Vec::new();
        self.rows("migrations.done.sql", &Params::new(), |r| {
            done.push(r.text("version")?.trim().to_string());
            Ok(())
        })?;
        for m in MIGRATIONS {
            if done.iter().any(|d| d == m) {
                continue;
            }
            let name = format!("migrations/{m}.sql");
            let text = self.templates.text(self.profile, &name, self.dialect)?;
            let record = Params::new().set("version", *m).set("now", now_utc());
            if self.conn.ddl_at_commit() {
                // Firebird: DDL takes effect at commit, so statement by
                // statement in autocommit; the bookkeeping row last.
                self.conn.script(&name, &text, &self.file)?;
                self.exec("migrations.record.sql", record)?;
            } else {
                self.begin_named("transaction.begin.sql")?;
                let applied = (|| {
                    self.conn.script(&name, &text, &self.file)?;
                    self.exec("migrations.record.sql", record)?;
                    self.end(true)
                })();
                if let Err(e) = applied {
                    let _ = self.end(false);
                    return Err(e);
                }
            }
            if *m == MIGRATIONS[0] {
                self.created = true;
            }
        }
        Ok(())
    }

    /// On a fresh reference Magazyn, create the warehouses and price lists
    /// the configuration names.
    pub fn seed(&mut self, warehouses: &[String], price_lists: &[String]) -> Result<()> {
        for w in warehouses {
            self.exec(
                "warehouses.ensure.sql",
                Params::new().set("symbol", w.as_str()),
            )?;
        }
        for p in price_lists.iter().filter(|p| !p.is_empty()) {
            self.exec(
                "price_lists.ensure.sql",
                Params::new().set("name", p.as_str()),
            )?;
        }
        Ok(())
    }

    // ---- the one place SQL runs ------------------------------------------

    /// The template `name`, parsed once per open.
    fn sql(&mut self, name: &str) -> Result<&Sql> {
        if !self.parsed.contains_key(name) {
            let sql = self.templates.sql(self.profile, name, self.dialect)?;
            self.parsed.insert(name.to_string(), sql);
        }
        Ok(&self.parsed[name])
    }

    /// Every row of a template with a list parameter (`list`, written once
    /// as `IN (:list)`) for all of `keys`: [`LIST_AT_ONCE`] keys a
    /// statement, a shorter list shaped as the next power of two (its last
    /// key repeated, so the server sees a few shapes), each shape parsed
    /// once and named `<template> (<n> <what>)` in traces and errors.
    fn rows_listed(
        &mut self,
        template: &str,
        (list, what): (&str, &str),
        params: &Params,
        keys: &[Value],
        mut f: impl FnMut(&MRow) -> Result<()>,
    ) -> Result<()> {
        for chunk in keys.chunks(LIST_AT_ONCE) {
            let n = chunk.len().next_power_of_two();
            let key = format!("{template} ({n} {what})");
            if !self.parsed.contains_key(&key) {
                let sql = self.sql(template)?.with_list(list, n)?;
                self.parsed.insert(key.clone(), sql);
            }
            let sql = &self.parsed[&key];
            let values = params.ordered_with_list(sql, list, chunk)?;
            let name = format!("{}: {key}", self.file);
            self.conn.run(&name, &sql.text, &values, &mut f, &mut 0)?;
        }
        Ok(())
    }

    /// Run a statement; returns the number of rows it changed.
    fn exec(&mut self, name: &str, params: Params) -> Result<u64> {
        let mut n = 0;
        self.run(name, &params, |_| Ok(()), &mut n)?;
        Ok(n)
    }

    /// Run a statement, calling `f` with each row it returns.
    fn rows(
        &mut self,
        name: &str,
        params: &Params,
        f: impl FnMut(&MRow) -> Result<()>,
    ) -> Result<u64> {
        let mut changed = 0;
        self.run(name, params, f, &mut changed)
    }

    /// The first row of a query, if any.
    fn first(&mut self, name: &str, params: Params) -> Result<Option<MRow>> {
        let mut found = None;
        self.rows(name, &params, |r| {
            if found.is_none() {
                found = Some(r.clone());
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// Every row of a query (for the short lists lookups return).
    fn all(&mut self, name: &str, params: Params) -> Result<Vec<MRow>> {
        let mut out = Vec::new();
        self.rows(name, &params, |r| {
            out.push(r.clone());
            Ok(())
        })?;
        Ok(out)
    }

    /// Run a template: bind its parameters in order, rows to `f`.
    fn run(
        &mut self,
        name: &str,
        params: &Params,
        f: impl FnMut(&MRow) -> Result<()>,
        changed: &mut u64,
    ) -> Result<u64> {
        // Queued orders go before anything that reads or writes orders.
        if !self.queued.is_empty() && super::bulk::touches_orders(name) {
            self.flush_orders()?;
        }
        self.sql(name)?;
        let sql = &self.parsed[name];
        let values = params.ordered(sql)?;
        let name = format!("{}: {name}", self.file);
        self.conn.run(&name, &sql.text, &values, f, changed)
    }

    /// A read-only query given as text, every value as a string (NULL as
    /// ""): for tests and reports that look into the Magazyn directly.
    pub fn raw_rows(&mut self, sql: &str) -> Result<Vec<Vec<String>>> {
        self.flush_orders()?;
        let mut out = Vec::new();
        let mut changed = 0;
        self.conn.run(
            "query",
            sql,
            &[],
            |r| {
                out.push(
                    (0..r.values.len())
                        .map(|i| match &r.values[i] {
                            Value::Null => String::new(),
                            Value::Int(v) => v.to_string(),
                            Value::Text(t) => t.clone(),
                            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                        })
                        .collect(),
                );
                Ok(())
            },
            &mut changed,
        )?;
        Ok(out)
    }

    /// A statement given as text, outside any template (tests that play
    /// another program editing the Magazyn). Returns rows changed.
    pub fn raw_exec(&mut self, sql: &str) -> Result<u64> {
        self.flush_orders()?;
        self.links_ahead = None;
        let mut changed = 0;
        self.conn
            .run("statement", sql, &[], |_| Ok(()), &mut changed)?;
        Ok(changed)
    }

    // ---- transactions -------------------------------------------------

    /// Start the write transaction of a batch (on SQLite it takes the
    /// write lock now; on Firebird row locks wait `lock_wait` seconds).
    pub fn begin(&mut self) -> Result<()> {
        self.begin_named("transaction.begin.sql")?;
        // The kill tests read this line to know a kill landed after BEGIN.
        tracing::debug!(target: "magsync::tx", "magazyn transaction begun");
        Ok(())
    }

    fn begin_named(&mut self, name: &str) -> Result<()> {
        self.links_ahead = None;
        self.now = None;
        let text = self.sql(name)?.text.clone();
        self.conn.begin_write(&text, self.lock_wait, &self.file)
    }

    /// Start a read transaction that sees one moment (an extract).
    pub fn begin_snapshot(&mut self) -> Result<()> {
        let text = self.sql("transaction.snapshot.sql")?.text.clone();
        self.conn.begin_snapshot(&text, &self.file)
    }

    pub fn commit(&mut self) -> Result<()> {
        self.flush_orders()?;
        self.end(true)?;
        tracing::debug!(target: "magsync::tx", "magazyn transaction committed");
        Ok(())
    }

    pub fn rollback(&mut self) -> Result<()> {
        self.queued.clear();
        self.end(false)
    }

    fn end(&mut self, commit: bool) -> Result<()> {
        self.links_ahead = None;
        self.now = None;
        let name = if commit {
            "transaction.commit.sql"
        } else {
            "transaction.rollback.sql"
        };
        let text = self.sql(name)?.text.clone();
        self.conn.end(commit, &text, &self.file)
    }

    // ---- ledger and links --------------------------------------------

    pub fn ledger_get(&mut self, batch_id: &str) -> Result<Option<LedgerEntry>> {
        let p = Params::new().set("batch_id", batch_id);
        self.first("ledger.get.sql", p)?
            .map(|r| {
                Ok(LedgerEntry {
                    batch_id: r.text("batch_id")?,
                    tag_sha256: r.text("tag_sha256")?,
                    applied_at: r.text("applied_at")?,
                    records: r.int("records")?,
                    inserted: r.int("inserted")?,
                    updated: r.int("updated")?,
                    unchanged: r.int("unchanged")?,
                    rejected: r.int("rejected")?,
                })
            })
            .transpose()
    }

    pub fn ledger_put(
        &mut self,
        batch: &crate::staging::Batch,
        counts: &crate::base::Counts,
    ) -> Result<()> {
        let m = &batch.meta;
        let p = Params::new()
            .set("batch_id", m.batch_id.as_str())
            .set("flow", m.flow.as_str())
            .set("shop", m.source.shop.as_str())
            .set("stage", m.stage.as_str())
            .set("channel", m.channel.as_ref().map(|c| c.name.clone()))
            .set(
                "sequence",
                m.channel
                    .as_ref()
                    .map_or(Value::Null, |c| Value::Int(c.sequence as i64)),
            )
            .set("tag_sha256", batch.tag_sha256.as_str())
            .set("parent", m.parent.clone())
            .set("edited", m.edited)
            .set("now", now_utc())
            .set("records", counts.records as i64)
            .set("inserted", counts.inserted as i64)
            .set("updated", counts.updated as i64)
            .set("unchanged", counts.unchanged as i64)
            .set("rejected", counts.rejected as i64);
        self.exec("ledger.put.sql", p)?;
        Ok(())
    }

    /// What the last load of `shop` compared looking for its `entity`
    /// records deleted in the shop; `None` before the first.
    pub fn check_get(&mut self, shop: &str, entity: &str) -> Result<Option<DeletionCheck>> {
        let p = Params::new().set("shop", shop).set("entity", entity);
        self.first("checks.get.sql", p)?
            .map(|r| {
                Ok(DeletionCheck {
                    covered_to: r.int("covered_to")?,
                    ids_count: r.int("ids_count")?,
                    ids_digest: r.int("ids_digest")?,
                    seen_to: r.int("seen_to")?,
                    key_max: r.int("key_max")?,
                })
            })
            .transpose()
    }

    /// Record what this load compared (replacing the last load's record).
    pub fn check_put(
        &mut self,
        shop: &str,
        entity: &str,
        c: &DeletionCheck,
        batch_id: &str,
    ) -> Result<()> {
        let p = Params::new()
            .set("shop", shop)
            .set("entity", entity)
            .set("covered_to", c.covered_to)
            .set("ids_count", c.ids_count)
            .set("ids_digest", c.ids_digest)
            .set("seen_to", c.seen_to)
            .set("key_max", c.key_max)
            .set("batch_id", batch_id)
            .set("now", now_utc());
        self.exec("checks.put.sql", p)?;
        Ok(())
    }

    pub fn link_get(&mut self, shop: &str, entity: &str, shop_id: &str) -> Result<Option<i64>> {
        let p = Params::new()
            .set("shop", shop)
            .set("entity", entity)
            .set("shop_id", shop_id);
        self.first("links.get.sql", p)?.map(|r| r.id()).transpose()
    }

    /// Retire the link of a shop record deleted in the shop (kept, matching
    /// nothing); whether there was a live one.
    pub fn link_retire(
        &mut self,
        shop: &str,
        entity: &str,
        shop_id: &str,
        batch_id: &str,
    ) -> Result<bool> {
        self.forget_link_ahead(shop, shop_id);
        let n = self.exec(
            "links.retire.sql",
            Params::new()
                .set("shop", shop)
                .set("entity", entity)
                .set("shop_id", shop_id)
                .set("batch_id", batch_id)
                .set("now", now_utc()),
        )?;
        Ok(n > 0)
    }

    /// The live link of a shop customer to an existing Magazyn customer:
    /// (id, whether the link is weak).
    pub fn customer_link(&mut self, shop: &str, shop_id: &str) -> Result<Option<(i64, bool)>> {
        if let Some((s, links)) = &self.links_ahead
            && s == shop
            && let Some(link) = links.get(shop_id)
        {
            return Ok(*link);
        }
        let p = Params::new().set("shop", shop).set("shop_id", shop_id);
        self.first("links.customer.sql", p)?
            .map(|r| Ok((r.id()?, r.int("weak")? > 0)))
            .transpose()
    }

    /// Look up the links of many shop customers in few statements (the
    /// buyers of the next orders a load applies: a round trip each would
    /// cost more than the look-up). [`Magazyn::customer_link`] answers
    /// them from memory until the next call; a link written or retired,
    /// and the transaction's end, forget what it holds.
    pub fn customer_links_ahead(&mut self, shop: &str, shop_ids: &[String]) -> Result<()> {
        let mut links = match self.links_ahead.take() {
            Some((_, mut m)) => {
                m.clear();
                m
            }
            None => HashMap::new(),
        };
        for k in shop_ids {
            links.insert(k.clone(), None);
        }
        let ids: Vec<Value> = shop_ids.iter().map(|k| Value::from(k.as_str())).collect();
        self.rows_listed(
            "links.customers.sql",
            ("shop_ids", "customers"),
            &Params::new().set("shop", shop),
            &ids,
            |r| {
                let found = Some((r.int("id")?, r.int("weak")? > 0));
                links.insert(r.text("shop_id")?, found);
                Ok(())
            },
        )?;
        self.links_ahead = Some((shop.to_string(), links));
        Ok(())
    }

    /// A link of this shop customer is written: what was looked up ahead
    /// of it no longer holds.
    fn forget_link_ahead(&mut self, shop: &str, shop_id: &str) {
        if let Some((s, links)) = &mut self.links_ahead
            && s == shop
        {
            links.remove(shop_id);
        }
    }

    pub fn link_put(
        &mut self,
        shop: &str,
        entity: &str,
        shop_id: &str,
        magazyn_id: i64,
        batch_id: &str,
    ) -> Result<()> {
        self.forget_link_ahead(shop, shop_id);
        self.exec(
            "links.put.sql",
            Params::new()
                .set("shop", shop)
                .set("entity", entity)
                .set("shop_id", shop_id)
                .set("magazyn_id", magazyn_id)
                .set("batch_id", batch_id)
                .set("now", now_utc()),
        )?;
        Ok(())
    }

    // ---- customers -----------------------------------------------------

    pub fn customer_get(&mut self, id: i64) -> Result<Option<CustomerRow>> {
        self.first("customers.get.sql", Params::new().set("id", id))?
            .map(|r| {
                Ok(CustomerRow {
                    code: r.text("code")?,
                    name: r.text("name")?,
                    nip: r.opt_text("nip")?,
                    email: r.opt_text("email")?,
                    phone: r.opt_text("phone")?,
                    street: r.opt_text("street")?,
                    postcode: r.opt_text("postcode")?,
                    city: r.opt_text("city")?,
                    country_code: r.opt_text("country_code")?,
                    is_company: r.int("is_company")? != 0,
                })
            })
            .transpose()
    }

    /// Candidates of one matching step, the first [`CANDIDATES`] in id
    /// order (more than one is ambiguous whatever the number).
    pub fn customer_candidates(
        &mut self,
        step: MatchStep,
        value: &str,
        shop: &str,
        shop_id: &str,
    ) -> Result<Vec<i64>> {
        let name = format!("customers.match_{}.sql", step.as_str());
        let p = Params::new()
            .set("value", value)
            .set("shop", shop)
            .set("shop_id", shop_id);
        let mut ids = Vec::new();
        self.rows(&name, &p, |r| {
            if ids.len() < CANDIDATES {
                ids.push(r.id()?);
            }
            Ok(())
        })?;
        Ok(ids)
    }

    fn customer_params(c: &CustomerRow) -> Params {
        let nip_key = c
            .nip
            .as_deref()
            .map(crate::polish::normalize_nip)
            .filter(|s| !s.is_empty());
        Params::new()
            .set("code", c.code.as_str())
            .set("name", c.name.as_str())
            .set("nip", c.nip.clone())
            .set("email", c.email.clone())
            .set("phone", c.phone.clone())
            .set("street", c.street.clone())
            .set("postcode", c.postcode.clone())
            .set("city", c.city.clone())
            .set("country_code", c.country_code.clone())
            .set("is_company", c.is_company)
            .set("now", now_utc())
            .set("name_key", crate::polish::name_key(&c.name))
            .set(
                "email_key",
                c.email.as_deref().map(crate::polish::email_key),
            )
            .set("nip_key", nip_key)
            .set(
                "keys_source",
                keys_source(&c.name, c.email.as_deref(), c.nip.as_deref()),
            )
    }

    /// The id an `INSERT … RETURNING id` template gave back.
    fn insert(&mut self, name: &str, params: Params) -> Result<i64> {
        self.first(name, params)?
            .ok_or_else(|| Error::Magazyn {
                what: format!("{}: {name}", self.file),
                key: String::new(),
                message: "returned no id".into(),
            })?
            .id()
    }

    pub fn customer_insert(&mut self, c: &CustomerRow) -> Result<i64> {
        self.insert("customers.insert.sql", Self::customer_params(c))
    }

    pub fn customer_update(&mut self, id: i64, c: &CustomerRow) -> Result<()> {
        self.exec(
            "customers.update.sql",
            Self::customer_params(c).set("id", id),
        )?;
        Ok(())
    }

    /// Recompute the matching keys of customers edited by other programs
    /// (or created before magsync). Returns how many were re-keyed.
    pub fn refresh_customer_keys(&mut self) -> Result<u64> {
        let rows = self.all("customers.stale_keys.sql", Params::new())?;
        let mut n = 0;
        for r in rows {
            let name = r.text("name")?;
            let email = r.opt_text("email")?;
            let nip = r.opt_text("nip")?;
            let nip_key = nip
                .as_deref()
                .map(crate::polish::normalize_nip)
                .filter(|s| !s.is_empty());
            self.exec(
                "customers.set_keys.sql",
                Params::new()
                    .set("id", r.int("id")?)
                    .set("name_key", crate::polish::name_key(&name))
                    .set("email_key", email.as_deref().map(crate::polish::email_key))
                    .set("nip_key", nip_key)
                    .set(
                        "keys_source",
                        keys_source(&name, email.as_deref(), nip.as_deref()),
                    ),
            )?;
            n += 1;
        }
        Ok(n)
    }

    // ---- orders --------------------------------------------------------

    pub fn warehouse_id(&mut self, symbol: &str) -> Result<i64> {
        match self.first("warehouses.get.sql", Params::new().set("symbol", symbol))? {
            Some(r) => r.id(),
            None => Err(Error::Magazyn {
                what: "warehouses".into(),
                key: symbol.into(),
                message: "no such warehouse (create it in the Magazyn, or fix `warehouse` in the shop's configuration)".into(),
            }),
        }
    }

    pub fn order_get(&mut self, number: &str) -> Result<Option<OrderState>> {
        self.first("orders.get.sql", Params::new().set("number", number))?
            .map(|r| {
                Ok(OrderState {
                    id: r.int("id")?,
                    status: r.text("status")?,
                    description: r.text("description")?,
                    reserved: r.int("reserved")? != 0,
                    warehouse_id: r.opt_int("warehouse_id")?,
                })
            })
            .transpose()
    }

    /// Insert a new order with its lines (their parameters without
    /// `order_id`) in as few statements as the backend allows: queued, and
    /// sent with other orders many to a statement (`bulk::Queue`: SQLite's
    /// multi-row INSERTs, Firebird's EXECUTE BLOCKs) before the next
    /// statement that reads or writes orders, at the end of the load's
    /// attempt or at commit; returns `None` (the id is the engine's until
    /// then). Templates that do not fit the packing (`bulk::fits`): one
    /// statement per row, returning the order's id.
    pub fn order_insert_new(&mut self, fields: Params, lines: Vec<Params>) -> Result<Option<i64>> {
        let now = self.now.get_or_insert_with(now_utc).clone();
        let fields = fields.set("now", now);
        self.sql("orders.insert.sql")?;
        self.sql("order_lines.insert.sql")?;
        let fits = *self.bulk_fits.get_or_insert_with(|| {
            let fits = super::bulk::fits(
                &self.parsed["orders.insert.sql"],
                &self.parsed["order_lines.insert.sql"],
            );
            if !fits {
                tracing::warn!(
                    "Magazyn: orders.insert.sql or order_lines.insert.sql is not a one-row INSERT with a parameter per column (the order's ending RETURNING id): new orders are written one statement at a time"
                );
            }
            fits
        });
        if !fits {
            let id = self.insert("orders.insert.sql", fields)?;
            for l in lines {
                self.exec("order_lines.insert.sql", l.set("order_id", id))?;
            }
            return Ok(Some(id));
        }
        let order = &self.parsed["orders.insert.sql"];
        let line = &self.parsed["order_lines.insert.sql"];
        self.queued.push(order, line, fields, lines)?;
        if self.queued.full() {
            self.flush_orders()?;
        }
        Ok(None)
    }

    /// Write what is queued (new orders) now; a commit does too.
    pub fn flush(&mut self) -> Result<()> {
        self.flush_orders()
    }

    /// Send the queued orders and lines, many to a statement.
    fn flush_orders(&mut self) -> Result<()> {
        let (conn, file) = (&mut self.conn, &self.file);
        let packing = conn.packing();
        self.queued.send(file, |b| {
            let name = format!(
                "{file}: orders.insert.sql, order_lines.insert.sql ({})",
                b.what
            );
            let mut row = Vec::with_capacity(b.returns.max(1));
            match packing {
                // A block run as a singleton select: its one row (the
                // orders' ids, or the lines inserted) comes back with the
                // execution.
                super::bulk::Packing::Block => {
                    conn.run_known(
                        &name,
                        b.text,
                        Some(super::firebird::Kind::Returning),
                        &b.values,
                        |r| {
                            for (col, value) in r.names.iter().zip(&r.values) {
                                match value {
                                    // A packed orders block: its ids as one text.
                                    Value::Text(ids) => {
                                        row.extend(super::bulk::ids_of_text(ids).ok_or_else(
                                            || Error::Magazyn {
                                                what: name.clone(),
                                                key: String::new(),
                                                message: format!("ids not numbers: {ids}"),
                                            },
                                        )?)
                                    }
                                    _ => row.push(r.int(col)?),
                                }
                            }
                            Ok(())
                        },
                        &mut 0,
                    )?;
                }
                // A multi-row INSERT: the orders' rows (id, number) in no
                // promised order, matched by number; the lines' count.
                super::bulk::Packing::MultiRow => {
                    let mut returned = Vec::with_capacity(b.returns);
                    let mut changed = 0;
                    conn.run(
                        &name,
                        b.text,
                        &b.values,
                        |r| {
                            let number = match r.values.get(1) {
                                Some(Value::Text(n)) => n.clone(),
                                _ => String::new(), // matches no order
                            };
                            returned.push((number, r.int("id")?));
                            Ok(())
                        },
                        &mut changed,
                    )?;
                    let unmatched = || Error::Magazyn {
                        what: name.clone(),
                        key: String::new(),
                        message: "the ids returned are not one for each order of the statement"
                            .into(),
                    };
                    match b.returns {
                        0 => row.push(changed as i64),
                        _ => {
                            row = super::bulk::ids_by_number(b.numbers, returned)
                                .ok_or_else(unmatched)?
                        }
                    }
                }
            }
            Ok(row)
        })
    }

    pub fn order_update_status(
        &mut self,
        id: i64,
        status: &str,
        description: &str,
        reserved: bool,
    ) -> Result<()> {
        self.exec(
            "orders.update_status.sql",
            Params::new()
                .set("id", id)
                .set("status", status)
                .set("description", description)
                .set("reserved", reserved)
                .set("now", now_utc()),
        )?;
        Ok(())
    }

    /// Goods and quantities an order's reservation holds.
    pub fn order_reserved_goods(&mut self, order_id: i64) -> Result<Vec<(i64, Decimal)>> {
        Ok(self
            .order_goods_lines(order_id)?
            .into_iter()
            .map(|(_, good, qty)| (good, qty))
            .collect())
    }

    /// The highest shop order number of this shop the Magazyn holds; `None`
    /// before its first orders load.
    /// The last load's comparison (`check_get`) read every order of the
    /// shop up to its `seen_to` and kept the highest number, so only the
    /// orders added since are read.
    pub fn orders_loaded_max(&mut self, shop: &str) -> Result<Option<i64>> {
        let check = self.check_get(shop, ORDERS_CHECK)?;
        let after = check.map_or(0, |c| c.seen_to);
        let p = Params::new().set("shop", shop).set("after", after);
        let since = match self.first("orders.max_loaded.sql", p)? {
            Some(r) => r.text("max_id")?.trim().parse::<i64>().ok(),
            None => None,
        };
        Ok(since.max(check.map(|c| c.key_max).filter(|&k| k > 0)))
    }

    /// The goods lines of an order: (line_no, good_id, quantity).
    pub fn order_goods_lines(&mut self, order_id: i64) -> Result<Vec<(i64, i64, Decimal)>> {
        let p = Params::new().set("order_id", order_id);
        self.all("order_lines.reserved.sql", p)?
            .iter()
            .map(|r| Ok((r.int("line_no")?, r.int("good_id")?, r.dec("quantity")?)))
            .collect()
    }

    /// What has left the warehouse for an order, per goods line: its goods
    /// issues and reversals added up (lines at zero left out).
    pub fn order_issued(&mut self, order_id: i64) -> Result<BTreeMap<i64, (i64, Decimal)>> {
        let mut net: BTreeMap<i64, (i64, Decimal)> = BTreeMap::new();
        let p = Params::new().set("order_id", order_id);
        for r in self.all("goods_issues.of_order.sql", p)? {
            let e = net
                .entry(r.int("line_no")?)
                .or_insert((r.int("good_id")?, Decimal::ZERO));
            e.1 = e.1.checked_add(r.dec("quantity")?).ok_or_else(|| {
                r.err(format!(
                    "the goods issued for order {order_id} add up beyond 28 digits"
                ))
            })?;
        }
        net.retain(|_, (_, q)| !q.is_zero());
        Ok(net)
    }

    /// Goods of one order line leave the warehouse (`quantity` < 0 reverses
    /// an issue): a `goods_issues` row, and the stock lowered by as much.
    pub fn issue_goods(
        &mut self,
        order_id: i64,
        line_no: i64,
        warehouse_id: i64,
        good_id: i64,
        quantity: Decimal,
        batch_id: &str,
    ) -> Result<()> {
        let q = crate::money::fmt(quantity, 4);
        self.exec(
            "goods_issues.insert.sql",
            Params::new()
                .set("order_id", order_id)
                .set("line_no", line_no)
                .set("good_id", good_id)
                .set("warehouse_id", warehouse_id)
                .set("quantity", q)
                .set("issued_at", now_utc())
                .set("batch_id", batch_id),
        )?;
        self.stock_add(warehouse_id, good_id, "quantity", -quantity)
    }

    /// The good with this code, else the one good with it as a barcode alias.
    pub fn good_by_code(&mut self, code: &str) -> Result<Option<i64>> {
        if code.is_empty() {
            return Ok(None);
        }
        if let Some(r) = self.first("goods.by_code.sql", Params::new().set("code", code))? {
            return Ok(Some(r.id()?));
        }
        let rows = self.all("goods.by_barcode.sql", Params::new().set("code", code))?;
        match rows.as_slice() {
            [one] => Ok(Some(one.id()?)),
            _ => Ok(None),
        }
    }

    /// [`Magazyn::good_by_code`] for many codes, by code only
    /// ([`LIST_AT_ONCE`] a statement): (code, good) for the codes found.
    pub fn goods_by_codes(&mut self, codes: &[String]) -> Result<Vec<(String, i64)>> {
        let mut found = Vec::with_capacity(codes.len());
        let asked: Vec<Value> = codes.iter().map(|c| Value::from(c.as_str())).collect();
        self.rows_listed(
            "goods.by_codes.sql",
            ("codes", "codes"),
            &Params::new(),
            &asked,
            |r| {
                found.push((r.text("code")?, r.int("id")?));
                Ok(())
            },
        )?;
        Ok(found)
    }

    /// Create a good (definition); returns its id.
    pub fn good_insert(&mut self, g: &GoodRow) -> Result<i64> {
        let p = Params::new()
            .set("code", g.code.as_str())
            .set("name", g.name.as_str())
            .set("description", g.description.clone())
            .set("unit", g.unit.as_str())
            .set("vat_symbol", g.vat_symbol.as_str())
            .set("ean", g.ean.clone())
            .set("weight", g.weight.clone())
            .set("manufacturer", g.manufacturer.clone())
            .set("kind", g.kind.as_str())
            .set("visible", g.visible)
            .set("now", now_utc());
        self.insert("goods.insert.sql", p)
    }

    /// A good by its code.
    pub fn good_get(&mut self, code: &str) -> Result<Option<(i64, GoodRow)>> {
        self.first("goods.get.sql", Params::new().set("code", code))?
            .map(|r| {
                Ok((
                    r.int("id")?,
                    GoodRow {
                        code: r.text("code")?,
                        name: r.text("name")?,
                        description: r.opt_text("description")?,
                        unit: r.text("unit")?,
                        vat_symbol: r.text("vat_symbol")?,
                        ean: r.opt_text("ean")?,
                        weight: r.opt_text("weight")?,
                        manufacturer: r.opt_text("manufacturer")?,
                        kind: r.text("kind")?,
                        visible: r.int("visible")? != 0,
                    },
                ))
            })
            .transpose()
    }

    pub fn good_update(&mut self, id: i64, g: &GoodRow) -> Result<()> {
        let p = Params::new()
            .set("id", id)
            .set("name", g.name.as_str())
            .set("description", g.description.clone())
            .set("vat_symbol", g.vat_symbol.as_str())
            .set("ean", g.ean.clone())
            .set("weight", g.weight.clone())
            .set("manufacturer", g.manufacturer.clone())
            .set("now", now_utc());
        self.exec("goods.update.sql", p)?;
        Ok(())
    }

    /// The VAT symbols the Magazyn knows, with their rates.
    pub fn vat_rates(&mut self) -> Result<Vec<(String, Decimal)>> {
        self.all("vat_rates.all.sql", Params::new())?
            .iter()
            .map(|r| Ok((r.text("symbol")?, r.dec("rate")?)))
            .collect()
    }

    /// A good's (net, gross) on a price list, if it is on it.
    pub fn price_get(
        &mut self,
        price_list_id: i64,
        good_id: i64,
    ) -> Result<Option<(Decimal, Decimal)>> {
        let p = Params::new()
            .set("price_list_id", price_list_id)
            .set("good_id", good_id);
        self.first("prices.get.sql", p)?
            .map(|r| Ok((r.dec("net")?, r.dec("gross")?)))
            .transpose()
    }

    /// Add `delta` (negative to release) to the reserved quantity of a good.
    pub fn reserve(&mut self, warehouse_id: i64, good_id: i64, delta: Decimal) -> Result<()> {
        self.stock_add(warehouse_id, good_id, "reserved", delta)
    }

    /// [`Magazyn::reserve`] for many goods (each once): their stock read
    /// by list (`stock.of_goods.sql`), not a round trip each, then each
    /// good's new reservation written.
    pub fn reserve_all(&mut self, warehouse_id: i64, deltas: &[(i64, Decimal)]) -> Result<()> {
        let ids: Vec<Value> = deltas.iter().map(|(g, _)| Value::Int(*g)).collect();
        let mut reserved = HashMap::with_capacity(deltas.len());
        self.rows_listed(
            "stock.of_goods.sql",
            ("good_ids", "goods"),
            &Params::new().set("warehouse_id", warehouse_id),
            &ids,
            |r| {
                reserved.insert(r.int("good_id")?, r.dec("reserved")?);
                Ok(())
            },
        )?;
        for (good, delta) in deltas {
            let current = reserved.get(good).copied().unwrap_or(Decimal::ZERO);
            let total = added(warehouse_id, *good, "reserved", current, *delta)?;
            self.exec(
                "stock.set_reserved.sql",
                Params::new()
                    .set("warehouse_id", warehouse_id)
                    .set("good_id", *good)
                    .set("reserved", crate::money::fmt(total, 4)),
            )?;
        }
        Ok(())
    }

    /// Add `delta` to a good's stock `quantity` or `reserved`: read, add
    /// exactly in magsync, write (the store keeps decimals as text).
    fn stock_add(
        &mut self,
        warehouse_id: i64,
        good_id: i64,
        column: &'static str,
        delta: Decimal,
    ) -> Result<()> {
        let p = Params::new()
            .set("warehouse_id", warehouse_id)
            .set("good_id", good_id);
        let current = match self.first("stock.get.sql", p.clone())? {
            Some(r) => r.dec(column)?,
            None => Decimal::ZERO,
        };
        let template = match column {
            "reserved" => "stock.set_reserved.sql",
            _ => "stock.set_quantity.sql",
        };
        self.exec(
            template,
            p.set(
                column,
                crate::money::fmt(added(warehouse_id, good_id, column, current, delta)?, 4),
            ),
        )?;
        Ok(())
    }

    // ---- products (goods with prices and stock) --------------------------

    pub fn price_list_id(&mut self, name: &str) -> Result<i64> {
        match self.first("price_lists.get.sql", Params::new().set("name", name))? {
            Some(r) => r.id(),
            None => Err(Error::Magazyn {
                what: "price_lists".into(),
                key: name.into(),
                message: "no such price list (create it in the Magazyn, or fix the price list in the shop's configuration)".into(),
            }),
        }
    }

    pub fn set_price(
        &mut self,
        price_list_id: i64,
        good_id: i64,
        net: Decimal,
        gross: Decimal,
    ) -> Result<()> {
        let p = Params::new()
            .set("price_list_id", price_list_id)
            .set("good_id", good_id)
            .set("net", crate::money::fmt(net, 4))
            .set("gross", crate::money::fmt(gross, 2))
            .set("now", now_utc());
        self.exec("prices.set.sql", p)?;
        Ok(())
    }

    pub fn set_quantity(
        &mut self,
        warehouse_id: i64,
        good_id: i64,
        quantity: Decimal,
    ) -> Result<()> {
        let p = Params::new()
            .set("warehouse_id", warehouse_id)
            .set("good_id", good_id)
            .set("quantity", crate::money::fmt(quantity, 4));
        self.exec("stock.set_quantity.sql", p)?;
        Ok(())
    }

    /// Stream the rows of a read-only template.
    pub fn for_each<F>(&mut self, name: &str, params: Params, f: F) -> Result<u64>
    where
        F: FnMut(&MRow) -> Result<()>,
    {
        self.rows(name, &params, f)
    }

    pub fn close(self) {
        self.conn.close()
    }
}

fn keys_source(name: &str, email: Option<&str>, nip: Option<&str>) -> String {
    format!("{name}|{}|{}", email.unwrap_or(""), nip.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stock_sum_beyond_28_digits_is_an_error_naming_the_good() {
        let big = Decimal::MAX;
        assert_eq!(
            added(1, 7, "reserved", Decimal::new(15, 1), Decimal::new(25, 1)).unwrap(),
            Decimal::from(4)
        );
        let err = added(1, 7, "reserved", big, Decimal::ONE)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("warehouse 1, good 7") && err.contains("beyond 28 digits"),
            "{err}"
        );
    }
}
