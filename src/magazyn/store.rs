//! The Magazyn store on SQLite (the embedded reference schema).
//!
//! The schema is created and migrated on first use from
//! `templates/magazyn/migrations/*.sql`. A load runs in one transaction
//! (`BEGIN IMMEDIATE` … `COMMIT`) together with its ledger entry, so a crash
//! leaves all of a batch or none of it. Money and quantities are TEXT in
//! canonical decimal form.

use crate::error::{Error, Result};
use crate::templates::{Params, Sql, Templates, Value};
use rust_decimal::Decimal;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row};
use std::str::FromStr;
use std::time::Duration;

const PROFILE: &str = "magazyn";
const DIALECT: &str = "sqlite";
const MIGRATIONS: &[&str] = &[
    "0001_reference_schema",
    "0002_order_reservations",
    "0003_base_prices",
];

pub struct Magazyn {
    conn: SqliteConnection,
    templates: Templates,
    url: String,
    /// True when this open created the schema (a fresh reference Magazyn).
    pub created: bool,
}

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

fn dec(s: &str, what: &str) -> Result<Decimal> {
    Decimal::from_str(s.trim())
        .map_err(|e| Error::Other(format!("Magazyn {what}: `{s}` is not a decimal: {e}")))
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

pub fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Magazyn {
    /// Open (and if `create`, create) the Magazyn at `url` (`sqlite://path`),
    /// then bring its schema up to date.
    pub async fn open(url: &str, create: bool, templates: Templates) -> Result<Magazyn> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(Error::db(format!("Magazyn: bad URL {url}")))?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .disable_statement_logging();
        let conn = opts
            .connect()
            .await
            .map_err(Error::db(format!("Magazyn: cannot open {url}")))?;
        let mut m = Magazyn {
            conn,
            templates,
            url: url.to_string(),
            created: false,
        };
        m.migrate().await?;
        Ok(m)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn migrate(&mut self) -> Result<()> {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS magsync_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .execute(&mut self.conn)
        .await
        .map_err(Error::db("Magazyn: migrations table"))?;
        let done: Vec<String> = sqlx::query_scalar("SELECT version FROM magsync_migrations")
            .fetch_all(&mut self.conn)
            .await
            .map_err(Error::db("Magazyn: reading migrations"))?;
        for m in MIGRATIONS {
            if done.iter().any(|d| d == m) {
                continue;
            }
            let text = self
                .templates
                .text(PROFILE, &format!("migrations/{m}.sql"), DIALECT)?;
            let mut tx = self
                .conn
                .begin()
                .await
                .map_err(Error::db("Magazyn: begin migration"))?;
            sqlx::raw_sql(&text)
                .execute(&mut *tx)
                .await
                .map_err(Error::db(format!("Magazyn: migration {m}")))?;
            sqlx::query("INSERT INTO magsync_migrations (version, applied_at) VALUES (?, ?)")
                .bind(*m)
                .bind(now_utc())
                .execute(&mut *tx)
                .await
                .map_err(Error::db(format!("Magazyn: migration {m}")))?;
            tx.commit()
                .await
                .map_err(Error::db(format!("Magazyn: migration {m}")))?;
            if *m == MIGRATIONS[0] {
                self.created = true;
            }
        }
        Ok(())
    }

    /// On a fresh reference Magazyn, create the warehouses and price lists
    /// the configuration names.
    pub async fn seed(&mut self, warehouses: &[String], price_lists: &[String]) -> Result<()> {
        for w in warehouses {
            self.exec(
                "warehouses.ensure.sql",
                Params::new().set("symbol", w.as_str()),
            )
            .await?;
        }
        for p in price_lists.iter().filter(|p| !p.is_empty()) {
            self.exec(
                "price_lists.ensure.sql",
                Params::new().set("name", p.as_str()),
            )
            .await?;
        }
        Ok(())
    }

    fn sql(&self, name: &str) -> Result<Sql> {
        self.templates.sql(PROFILE, name, DIALECT)
    }

    fn query<'q>(
        sql: &'q Sql,
        values: Vec<&'q Value>,
    ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
        let mut q = sqlx::query(&sql.text);
        for v in values {
            q = match v {
                Value::Null => q.bind(None::<String>),
                Value::Int(i) => q.bind(*i),
                Value::Text(s) => q.bind(s.as_str()),
                Value::Bytes(b) => q.bind(b.as_slice()),
            };
        }
        q
    }

    async fn exec(&mut self, name: &str, params: Params) -> Result<u64> {
        let sql = self.sql(name)?;
        let values = params.ordered(&sql)?;
        Ok(Self::query(&sql, values)
            .execute(&mut self.conn)
            .await
            .map_err(Error::db(format!("Magazyn: {name}")))?
            .rows_affected())
    }

    async fn fetch_all(
        &mut self,
        name: &str,
        params: Params,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>> {
        let sql = self.sql(name)?;
        let values = params.ordered(&sql)?;
        Self::query(&sql, values)
            .fetch_all(&mut self.conn)
            .await
            .map_err(Error::db(format!("Magazyn: {name}")))
    }

    // ---- transactions -------------------------------------------------

    /// Start the write transaction of a batch (takes the write lock now).
    pub async fn begin(&mut self) -> Result<()> {
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut self.conn)
            .await
            .map_err(Error::db("Magazyn: begin"))?;
        Ok(())
    }

    pub async fn commit(&mut self) -> Result<()> {
        sqlx::raw_sql("COMMIT")
            .execute(&mut self.conn)
            .await
            .map_err(Error::db("Magazyn: commit"))?;
        Ok(())
    }

    pub async fn rollback(&mut self) -> Result<()> {
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut self.conn)
            .await
            .map_err(Error::db("Magazyn: rollback"))?;
        Ok(())
    }

    // ---- ledger and links --------------------------------------------

    pub async fn ledger_get(&mut self, batch_id: &str) -> Result<Option<LedgerEntry>> {
        let rows = self
            .fetch_all("ledger.get.sql", Params::new().set("batch_id", batch_id))
            .await?;
        Ok(rows.first().map(|r| LedgerEntry {
            batch_id: r.get("batch_id"),
            tag_sha256: r.get("tag_sha256"),
            applied_at: r.get("applied_at"),
            records: r.get("records"),
            inserted: r.get("inserted"),
            updated: r.get("updated"),
            unchanged: r.get("unchanged"),
            rejected: r.get("rejected"),
        }))
    }

    pub async fn ledger_put(
        &mut self,
        batch: &crate::staging::Batch,
        counts: &crate::flows::Counts,
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
        self.exec("ledger.put.sql", p).await?;
        Ok(())
    }

    pub async fn link_get(
        &mut self,
        shop: &str,
        entity: &str,
        shop_id: &str,
    ) -> Result<Option<i64>> {
        let rows = self
            .fetch_all(
                "links.get.sql",
                Params::new()
                    .set("shop", shop)
                    .set("entity", entity)
                    .set("shop_id", shop_id),
            )
            .await?;
        Ok(rows.first().map(|r| r.get::<i64, _>(0)))
    }

    pub async fn link_put(
        &mut self,
        shop: &str,
        entity: &str,
        shop_id: &str,
        magazyn_id: i64,
        batch_id: &str,
    ) -> Result<()> {
        self.exec(
            "links.put.sql",
            Params::new()
                .set("shop", shop)
                .set("entity", entity)
                .set("shop_id", shop_id)
                .set("magazyn_id", magazyn_id)
                .set("batch_id", batch_id)
                .set("now", now_utc()),
        )
        .await?;
        Ok(())
    }

    // ---- customers -----------------------------------------------------

    pub async fn customer_get(&mut self, id: i64) -> Result<Option<CustomerRow>> {
        let rows = self
            .fetch_all("customers.get.sql", Params::new().set("id", id))
            .await?;
        Ok(rows.first().map(|r| CustomerRow {
            code: r.get("code"),
            name: r.get("name"),
            nip: r.get("nip"),
            email: r.get("email"),
            phone: r.get("phone"),
            street: r.get("street"),
            postcode: r.get("postcode"),
            city: r.get("city"),
            country_code: r.get("country_code"),
            is_company: r.get::<i64, _>("is_company") != 0,
        }))
    }

    /// Candidates of one matching step (at most a few: more than one is
    /// ambiguous whatever the number).
    pub async fn customer_candidates(
        &mut self,
        step: MatchStep,
        value: &str,
        shop: &str,
        shop_id: &str,
    ) -> Result<Vec<i64>> {
        let name = format!("customers.match_{}.sql", step.as_str());
        let rows = self
            .fetch_all(
                &name,
                Params::new()
                    .set("value", value)
                    .set("shop", shop)
                    .set("shop_id", shop_id),
            )
            .await?;
        Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
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

    pub async fn customer_insert(&mut self, c: &CustomerRow) -> Result<i64> {
        let rows = self
            .fetch_all("customers.insert.sql", Self::customer_params(c))
            .await?;
        rows.first()
            .map(|r| r.get::<i64, _>(0))
            .ok_or_else(|| Error::Other("Magazyn: customers.insert.sql returned no id".into()))
    }

    pub async fn customer_update(&mut self, id: i64, c: &CustomerRow) -> Result<()> {
        self.exec(
            "customers.update.sql",
            Self::customer_params(c).set("id", id),
        )
        .await?;
        Ok(())
    }

    /// Recompute the matching keys of customers edited by other programs
    /// (or created before magsync). Returns how many were re-keyed.
    pub async fn refresh_customer_keys(&mut self) -> Result<u64> {
        let rows = self
            .fetch_all("customers.stale_keys.sql", Params::new())
            .await?;
        let mut n = 0;
        for r in rows {
            let id: i64 = r.get("id");
            let name: String = r.get("name");
            let email: Option<String> = r.get("email");
            let nip: Option<String> = r.get("nip");
            let nip_key = nip
                .as_deref()
                .map(crate::polish::normalize_nip)
                .filter(|s| !s.is_empty());
            self.exec(
                "customers.set_keys.sql",
                Params::new()
                    .set("id", id)
                    .set("name_key", crate::polish::name_key(&name))
                    .set("email_key", email.as_deref().map(crate::polish::email_key))
                    .set("nip_key", nip_key)
                    .set(
                        "keys_source",
                        keys_source(&name, email.as_deref(), nip.as_deref()),
                    ),
            )
            .await?;
            n += 1;
        }
        Ok(n)
    }

    // ---- orders --------------------------------------------------------

    pub async fn warehouse_id(&mut self, symbol: &str) -> Result<i64> {
        let rows = self
            .fetch_all("warehouses.get.sql", Params::new().set("symbol", symbol))
            .await?;
        rows.first().map(|r| r.get::<i64, _>(0)).ok_or_else(|| {
            Error::Other(format!(
                "the Magazyn has no warehouse `{symbol}` (create it in the Magazyn, or fix `warehouse` in the shop's configuration)"
            ))
        })
    }

    pub async fn order_get(&mut self, number: &str) -> Result<Option<OrderState>> {
        let rows = self
            .fetch_all("orders.get.sql", Params::new().set("number", number))
            .await?;
        Ok(rows.first().map(|r| OrderState {
            id: r.get("id"),
            status: r.get::<Option<String>, _>("status").unwrap_or_default(),
            description: r
                .get::<Option<String>, _>("description")
                .unwrap_or_default(),
            reserved: r.get::<i64, _>("reserved") != 0,
            warehouse_id: r.get("warehouse_id"),
        }))
    }

    /// Insert an order; `fields` are the template's named parameters.
    pub async fn order_insert(&mut self, fields: Params) -> Result<i64> {
        let rows = self
            .fetch_all("orders.insert.sql", fields.set("now", now_utc()))
            .await?;
        rows.first()
            .map(|r| r.get::<i64, _>(0))
            .ok_or_else(|| Error::Other("Magazyn: orders.insert.sql returned no id".into()))
    }

    pub async fn order_update_status(
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
        )
        .await?;
        Ok(())
    }

    pub async fn order_line_insert(&mut self, fields: Params) -> Result<()> {
        self.exec("order_lines.insert.sql", fields).await?;
        Ok(())
    }

    /// Goods and quantities an order's reservation holds.
    pub async fn order_reserved_goods(&mut self, order_id: i64) -> Result<Vec<(i64, Decimal)>> {
        let rows = self
            .fetch_all(
                "order_lines.reserved.sql",
                Params::new().set("order_id", order_id),
            )
            .await?;
        rows.iter()
            .map(|r| {
                let q: String = r.get("quantity");
                Ok((r.get("good_id"), dec(&q, "order_lines.quantity")?))
            })
            .collect()
    }

    /// The good with this code, else the one good with it as a barcode alias.
    pub async fn good_by_code(&mut self, code: &str) -> Result<Option<i64>> {
        if code.is_empty() {
            return Ok(None);
        }
        let rows = self
            .fetch_all("goods.by_code.sql", Params::new().set("code", code))
            .await?;
        if let Some(r) = rows.first() {
            return Ok(Some(r.get(0)));
        }
        let rows = self
            .fetch_all("goods.by_barcode.sql", Params::new().set("code", code))
            .await?;
        Ok(if rows.len() == 1 {
            Some(rows[0].get(0))
        } else {
            None
        })
    }

    /// Create a good (definition); returns its id.
    pub async fn good_insert(&mut self, g: &GoodRow) -> Result<i64> {
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
        let rows = self.fetch_all("goods.insert.sql", p).await?;
        rows.first()
            .map(|r| r.get::<i64, _>(0))
            .ok_or_else(|| Error::Other("Magazyn: goods.insert.sql returned no id".into()))
    }

    /// A good by its code.
    pub async fn good_get(&mut self, code: &str) -> Result<Option<(i64, GoodRow)>> {
        let rows = self
            .fetch_all("goods.get.sql", Params::new().set("code", code))
            .await?;
        Ok(rows.first().map(|r| {
            (
                r.get("id"),
                GoodRow {
                    code: r.get("code"),
                    name: r.get("name"),
                    description: r.get("description"),
                    unit: r.get("unit"),
                    vat_symbol: r.get("vat_symbol"),
                    ean: r.get("ean"),
                    weight: r.get("weight"),
                    manufacturer: r.get("manufacturer"),
                    kind: r.get("kind"),
                    visible: r.get::<i64, _>("visible") != 0,
                },
            )
        }))
    }

    pub async fn good_update(&mut self, id: i64, g: &GoodRow) -> Result<()> {
        let p = Params::new()
            .set("id", id)
            .set("name", g.name.as_str())
            .set("description", g.description.clone())
            .set("vat_symbol", g.vat_symbol.as_str())
            .set("ean", g.ean.clone())
            .set("weight", g.weight.clone())
            .set("manufacturer", g.manufacturer.clone())
            .set("now", now_utc());
        self.exec("goods.update.sql", p).await?;
        Ok(())
    }

    /// The VAT symbols the Magazyn knows, with their rates.
    pub async fn vat_rates(&mut self) -> Result<Vec<(String, Decimal)>> {
        let rows = self.fetch_all("vat_rates.all.sql", Params::new()).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.get("symbol"),
                    dec(&r.get::<String, _>("rate"), "vat_rates.rate")?,
                ))
            })
            .collect()
    }

    /// A good's (net, gross) on a price list, if it is on it.
    pub async fn price_get(
        &mut self,
        price_list_id: i64,
        good_id: i64,
    ) -> Result<Option<(Decimal, Decimal)>> {
        let rows = self
            .fetch_all(
                "prices.get.sql",
                Params::new()
                    .set("price_list_id", price_list_id)
                    .set("good_id", good_id),
            )
            .await?;
        match rows.first() {
            None => Ok(None),
            Some(r) => Ok(Some((
                dec(&r.get::<String, _>("net"), "prices.net")?,
                dec(&r.get::<String, _>("gross"), "prices.gross")?,
            ))),
        }
    }

    /// Add `delta` (negative to release) to the reserved quantity of a good.
    pub async fn reserve(&mut self, warehouse_id: i64, good_id: i64, delta: Decimal) -> Result<()> {
        let p = Params::new()
            .set("warehouse_id", warehouse_id)
            .set("good_id", good_id);
        let rows = self.fetch_all("stock.get.sql", p.clone()).await?;
        let current = match rows.first() {
            Some(r) => dec(&r.get::<String, _>("reserved"), "stock.reserved")?,
            None => Decimal::ZERO,
        };
        let new = current + delta;
        self.exec(
            "stock.set_reserved.sql",
            p.set("reserved", crate::money::fmt(new, 4)),
        )
        .await?;
        Ok(())
    }

    // ---- products (goods with prices and stock) --------------------------

    pub async fn price_list_id(&mut self, name: &str) -> Result<i64> {
        let rows = self
            .fetch_all("price_lists.get.sql", Params::new().set("name", name))
            .await?;
        rows.first().map(|r| r.get::<i64, _>(0)).ok_or_else(|| {
            Error::Other(format!(
                "the Magazyn has no price list `{name}` (create it in the Magazyn, or fix the price list in the shop's configuration)"
            ))
        })
    }

    pub async fn set_price(
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
        self.exec("prices.set.sql", p).await?;
        Ok(())
    }

    pub async fn set_quantity(
        &mut self,
        warehouse_id: i64,
        good_id: i64,
        quantity: Decimal,
    ) -> Result<()> {
        let p = Params::new()
            .set("warehouse_id", warehouse_id)
            .set("good_id", good_id)
            .set("quantity", crate::money::fmt(quantity, 4));
        self.exec("stock.set_quantity.sql", p).await?;
        Ok(())
    }

    /// Stream the rows of a read-only template.
    pub async fn for_each<F>(&mut self, name: &str, params: Params, mut f: F) -> Result<u64>
    where
        F: FnMut(&sqlx::sqlite::SqliteRow) -> Result<()>,
    {
        use futures_util::TryStreamExt;
        let sql = self.sql(name)?;
        let values = params.ordered(&sql)?;
        let mut rows = Self::query(&sql, values).fetch(&mut self.conn);
        let mut n = 0;
        while let Some(r) = rows
            .try_next()
            .await
            .map_err(Error::db(format!("Magazyn: {name}")))?
        {
            f(&r)?;
            n += 1;
        }
        Ok(n)
    }

    /// Raw access for tests and reports (read-only queries).
    pub fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

fn keys_source(name: &str, email: Option<&str>, nip: Option<&str>) -> String {
    format!("{name}|{}|{}", email.unwrap_or(""), nip.unwrap_or(""))
}
