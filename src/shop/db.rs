//! A connection to a shop database: MariaDB/MySQL for real shops, SQLite for
//! the built-in demo shop. Rows are read through [`ShopRow`], which decodes
//! text from the bytes the shop actually stores (see `text.rs`), so a
//! template never has to know the shop's encoding.

use super::text::TextCodec;
use crate::error::{Error, Result};
use crate::templates::{Params, Sql, Value};
use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Column, ConnectOptions, Connection, Row};
use std::str::FromStr;

/// The same code for either database: `conn` is the connection, `bind`
/// the binder of its parameter types, `wrap` makes a row a [`ShopRow`]'s.
macro_rules! on_both {
    ($db:expr, |$conn:ident, $bind:ident, $wrap:ident| $body:block) => {
        match $db {
            ShopDb::MySql($conn) => {
                let $bind = bind_mysql;
                let $wrap = wrap_mysql;
                $body
            }
            ShopDb::Sqlite($conn) => {
                let $bind = bind_sqlite;
                let $wrap = wrap_sqlite;
                $body
            }
        }
    };
}

fn wrap_mysql(r: &MySqlRow) -> AnyRow<'_> {
    AnyRow::MySql(r)
}

fn wrap_sqlite(r: &SqliteRow) -> AnyRow<'_> {
    AnyRow::Sqlite(r)
}

pub enum ShopDb {
    MySql(MySqlConnection),
    Sqlite(SqliteConnection),
}

impl ShopDb {
    /// Connect. `url` carries no password (config validation refuses one);
    /// `password` comes from the environment or a password file.
    pub async fn connect(url: &str, password: Option<&str>, what: &str) -> Result<ShopDb> {
        let shown = crate::config::redact_url(url);
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(Error::db(format!("{what}: bad URL {shown}")))?
                .create_if_missing(url.contains("mode=rwc"))
                .disable_statement_logging();
            let conn = opts
                .connect()
                .await
                .map_err(Error::db(format!("{what}: cannot open {shown}")))?;
            return Ok(ShopDb::Sqlite(conn));
        }
        let url = url.replacen("mariadb://", "mysql://", 1);
        let mut opts = MySqlConnectOptions::from_str(&url)
            .map_err(Error::db(format!("{what}: bad URL {shown}")))?
            // Keep the server's own time zone: osCommerce writes now() in
            // server local time and watermarks must use that clock.
            .timezone(None)
            .statement_cache_capacity(64)
            // Long streaming reads are the point here, not a problem to log.
            .disable_statement_logging();
        if let Some(p) = password {
            opts = opts.password(p);
        }
        let mut conn = opts
            .connect()
            .await
            .map_err(Error::db(format!("{what}: cannot connect to {shown}")))?;
        // Text arrives as the bytes stored, undisturbed by charset conversion;
        // magsync decodes it according to the shop's `encoding`.
        sqlx::query("SET character_set_results = binary")
            .execute(&mut conn)
            .await
            .map_err(Error::db(format!("{what}: setting up the session")))?;
        Ok(ShopDb::MySql(conn))
    }

    pub fn dialect(&self) -> &'static str {
        match self {
            ShopDb::MySql(_) => "mysql",
            ShopDb::Sqlite(_) => "sqlite",
        }
    }

    /// Run a query and hand every row to `f`, streaming (constant memory).
    pub async fn for_each<F>(
        &mut self,
        sql: &Sql,
        params: &Params,
        codec: &TextCodec,
        f: F,
    ) -> Result<u64>
    where
        F: FnMut(&ShopRow<'_>) -> Result<()>,
    {
        self.for_each_values(sql, params.ordered(sql)?, codec, f)
            .await
    }

    /// `for_each` with the values bound in order (`Params::ordered_with_list`).
    pub async fn for_each_values<F>(
        &mut self,
        sql: &Sql,
        values: Vec<&Value>,
        codec: &TextCodec,
        mut f: F,
    ) -> Result<u64>
    where
        F: FnMut(&ShopRow<'_>) -> Result<()>,
    {
        let ctx = || format!("shop query {}", sql.name);
        let mut n = 0;
        on_both!(self, |conn, bind, wrap| {
            let mut q = sqlx::query(&sql.text);
            for v in values {
                q = bind(q, v);
            }
            let mut rows = q.fetch(&mut *conn);
            // The message only when there is an error (built for every
            // row, it was 5 % of an orders extract).
            while let Some(row) = rows.try_next().await.map_err(|e| Error::db(ctx())(e))? {
                f(&ShopRow {
                    row: wrap(&row),
                    codec,
                    query: &sql.name,
                    next: std::cell::Cell::new(0),
                })?;
                n += 1;
            }
        });
        Ok(n)
    }

    /// Run a statement; returns rows affected.
    pub async fn execute(&mut self, sql: &Sql, params: &Params) -> Result<u64> {
        let values = params.ordered(sql)?;
        self.execute_values(&sql.text, &sql.name, values).await
    }

    /// Run a statement with `?` markers bound to `values` in order.
    pub async fn execute_values(
        &mut self,
        text: &str,
        name: &str,
        values: Vec<&Value>,
    ) -> Result<u64> {
        let ctx = format!("shop statement {name}");
        Ok(on_both!(self, |conn, bind, _wrap| {
            let mut q = sqlx::query(text);
            for v in values {
                q = bind(q, v);
            }
            q.execute(&mut *conn)
                .await
                .map_err(Error::db(ctx))?
                .rows_affected()
        }))
    }

    /// Run an INSERT; returns the id the database gave the new row.
    pub async fn insert(&mut self, sql: &Sql, params: &Params) -> Result<i64> {
        let values = params.ordered(sql)?;
        let ctx = format!("shop statement {}", sql.name);
        match self {
            ShopDb::MySql(conn) => {
                let mut q = sqlx::query(&sql.text);
                for v in values {
                    q = bind_mysql(q, v);
                }
                Ok(q.execute(&mut *conn)
                    .await
                    .map_err(Error::db(ctx))?
                    .last_insert_id() as i64)
            }
            ShopDb::Sqlite(conn) => {
                let mut q = sqlx::query(&sql.text);
                for v in values {
                    q = bind_sqlite(q, v);
                }
                Ok(q.execute(&mut *conn)
                    .await
                    .map_err(Error::db(ctx))?
                    .last_insert_rowid())
            }
        }
    }

    /// Run a script of several statements (fixtures, demo data).
    pub async fn run_script(&mut self, sql: &str, what: &str) -> Result<()> {
        match self {
            ShopDb::MySql(conn) => {
                sqlx::raw_sql(sql)
                    .execute(&mut *conn)
                    .await
                    .map_err(Error::db(what))?;
            }
            ShopDb::Sqlite(conn) => {
                sqlx::raw_sql(sql)
                    .execute(&mut *conn)
                    .await
                    .map_err(Error::db(what))?;
            }
        }
        Ok(())
    }

    pub async fn close(self) {
        let _ = match self {
            ShopDb::MySql(c) => c.close().await,
            ShopDb::Sqlite(c) => c.close().await,
        };
    }
}

fn bind_mysql<'q>(
    q: sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments>,
    v: &'q Value,
) -> sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Int(i) => q.bind(*i),
        Value::Text(s) => q.bind(s.as_str()),
        Value::Bytes(b) => q.bind(b.as_slice()),
    }
}

fn bind_sqlite<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    v: &'q Value,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Int(i) => q.bind(*i),
        Value::Text(s) => q.bind(s.as_str()),
        Value::Bytes(b) => q.bind(b.as_slice()),
    }
}

enum AnyRow<'r> {
    MySql(&'r MySqlRow),
    Sqlite(&'r SqliteRow),
}

/// One result row, read by column name.
///
/// A column is looked for first where the last one read ends, since rows
/// are mostly read in the query's column order: a name compared instead of
/// hashed (sqlx's look-up by name was 5 % of an orders extract).
pub struct ShopRow<'r> {
    row: AnyRow<'r>,
    codec: &'r TextCodec,
    query: &'r str,
    /// The column after the one read last.
    next: std::cell::Cell<usize>,
}

impl ShopRow<'_> {
    /// The position of column `col`.
    fn at(&self, col: &str) -> Result<usize> {
        let guess = self.next.get();
        let hit = match self.row {
            AnyRow::MySql(r) => r.columns().get(guess).is_some_and(|c| c.name() == col),
            AnyRow::Sqlite(r) => r.columns().get(guess).is_some_and(|c| c.name() == col),
        };
        let i = match hit {
            true => guess,
            false => match self.row {
                AnyRow::MySql(r) => r.try_column(col).map(|c| c.ordinal()),
                AnyRow::Sqlite(r) => r.try_column(col).map(|c| c.ordinal()),
            }
            .map_err(|e| self.err(col, e))?,
        };
        self.next.set(i + 1);
        Ok(i)
    }

    fn err(&self, col: &str, e: impl std::fmt::Display) -> Error {
        Error::Template {
            name: self.query.to_string(),
            message: format!("shop query, column `{col}`: {e}"),
        }
    }

    pub fn has(&self, col: &str) -> bool {
        match self.row {
            AnyRow::MySql(r) => r.columns().iter().any(|c| c.name() == col),
            AnyRow::Sqlite(r) => r.columns().iter().any(|c| c.name() == col),
        }
    }

    /// Text of a column a template may leave out (an add-on's NIP, an
    /// EAN): "" when the query has no such column, or it is NULL.
    pub fn text_if_any(&self, col: &str) -> Result<String> {
        match self.has(col) {
            true => self.text_or_empty(col),
            false => Ok(String::new()),
        }
    }

    /// The stored bytes of a text column, borrowed from the row.
    fn stored(&self, col: &str) -> Result<Option<&[u8]>> {
        let i = self.at(col)?;
        match self.row {
            AnyRow::MySql(r) => r.try_get(i).map_err(|e| self.err(col, e)),
            AnyRow::Sqlite(r) => r.try_get(i).map_err(|e| self.err(col, e)),
        }
    }

    /// Text, decoded from the stored bytes; `None` for SQL NULL.
    pub fn text(&self, col: &str) -> Result<Option<String>> {
        let bytes = self.stored(col)?;
        Ok(bytes.map(|b| self.codec.decode(b)))
    }

    /// [`ShopRow::text_or_empty`] into `out`, reusing its allocation (the
    /// hot loop of an extract).
    pub fn text_into(&self, col: &str, out: &mut String) -> Result<()> {
        let bytes = self.stored(col)?;
        match bytes {
            Some(b) => self.codec.decode_into(b, out),
            None => out.clear(),
        }
        Ok(())
    }

    /// The bytes the shop stores, undecoded (encoding detection).
    pub fn bytes(&self, col: &str) -> Result<Option<Vec<u8>>> {
        let i = self.at(col)?;
        match self.row {
            AnyRow::MySql(r) => r.try_get(i).map_err(|e| self.err(col, e)),
            AnyRow::Sqlite(r) => r.try_get(i).map_err(|e| self.err(col, e)),
        }
    }

    /// Text, with NULL read as "".
    pub fn text_or_empty(&self, col: &str) -> Result<String> {
        Ok(self.text(col)?.unwrap_or_default())
    }

    pub fn int(&self, col: &str) -> Result<Option<i64>> {
        let i = self.at(col)?;
        match self.row {
            AnyRow::MySql(r) => {
                // Integer columns of any width, signed or not (osCommerce's
                // `orders_total_id` is `int unsigned`): the column's type
                // says which decoding applies, so no failed attempt builds
                // an error per row.
                use sqlx::{Decode, TypeInfo, ValueRef};
                let v = r.try_get_raw(i).map_err(|e| self.err(col, e))?;
                if v.is_null() {
                    return Ok(None);
                }
                let ty = v.type_info().into_owned();
                let decoded = if <i64 as sqlx::Type<sqlx::MySql>>::compatible(&ty) {
                    <i64 as Decode<sqlx::MySql>>::decode(v)
                } else if <u64 as sqlx::Type<sqlx::MySql>>::compatible(&ty) {
                    <u64 as Decode<sqlx::MySql>>::decode(v)
                        .and_then(|u| i64::try_from(u).map_err(Into::into))
                } else {
                    return Err(self.err(col, format!("{} is not an integer type", ty.name())));
                };
                decoded.map(Some).map_err(|e| self.err(col, e))
            }
            AnyRow::Sqlite(r) => r.try_get(i).map_err(|e| self.err(col, e)),
        }
    }

    pub fn decimal(&self, col: &str) -> Result<Option<Decimal>> {
        let i = self.at(col)?;
        self.decimal_at(i, col)
    }

    /// A decimal column as text into `out` ("" for NULL): what
    /// [`ShopRow::decimal`] displays. A MySQL DECIMAL arrives as its text
    /// (`12.3400`), which is that display already when it is canonical (no
    /// leading zero, no sign on a zero, a digit either side of the point,
    /// short enough for a `Decimal`): it is copied, not parsed and
    /// formatted again (three per order line). Anything else goes through
    /// [`ShopRow::decimal`].
    pub fn decimal_text_into(&self, col: &str, out: &mut String) -> Result<()> {
        out.clear();
        let i = self.at(col)?;
        if let AnyRow::MySql(r) = self.row {
            use sqlx::{Decode, TypeInfo, ValueRef};
            let v = r.try_get_raw(i).map_err(|e| self.err(col, e))?;
            if v.is_null() {
                return Ok(());
            }
            if v.type_info().name() == "DECIMAL" {
                let b = <&[u8] as Decode<sqlx::MySql>>::decode(v).map_err(|e| self.err(col, e))?;
                if crate::money::is_displayed_form(b) {
                    // ASCII digits, a sign and a point: valid UTF-8.
                    out.push_str(std::str::from_utf8(b).map_err(|e| self.err(col, e))?);
                    return Ok(());
                }
            }
        }
        if let Some(d) = self.decimal_at(i, col)? {
            use std::fmt::Write;
            let _ = write!(out, "{d}");
        }
        Ok(())
    }

    fn decimal_at(&self, i: usize, col: &str) -> Result<Option<Decimal>> {
        match self.row {
            AnyRow::MySql(r) => {
                if let Ok(v) = r.try_get::<Option<Decimal>, _>(i) {
                    return Ok(v);
                }
                // float columns (currencies.value) arrive as text digits.
                let raw: Option<Vec<u8>> = r.try_get(i).map_err(|e| self.err(col, e))?;
                raw.map(|b| {
                    Decimal::from_str(String::from_utf8_lossy(&b).trim())
                        .map_err(|e| self.err(col, e))
                })
                .transpose()
            }
            AnyRow::Sqlite(r) => {
                // The demo shop stores money as TEXT; an aggregate (SUM of
                // rates) comes back as a number: its shortest decimal form.
                if let Ok(raw) = r.try_get::<Option<String>, _>(i) {
                    return raw
                        .map(|s| Decimal::from_str(s.trim()).map_err(|e| self.err(col, e)))
                        .transpose();
                }
                if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
                    return Ok(v.map(Decimal::from));
                }
                let v: Option<f64> = r.try_get(i).map_err(|e| self.err(col, e))?;
                v.map(|f| Decimal::from_str(&f.to_string()).map_err(|e| self.err(col, e)))
                    .transpose()
            }
        }
    }

    /// A DATETIME in the staging form (`YYYY-MM-DDTHH:MM:SS`). MySQL's zero
    /// date (`0000-00-00 00:00:00`) reads as no value.
    pub fn datetime(&self, col: &str) -> Result<Option<String>> {
        let i = self.at(col)?;
        match self.row {
            AnyRow::MySql(r) => match r.try_get::<Option<chrono::NaiveDateTime>, _>(i) {
                Ok(v) => Ok(v.map(|t| crate::staging::schema::format_datetime(&t))),
                Err(sqlx::Error::ColumnDecode { .. }) => Ok(None),
                Err(e) => Err(self.err(col, e)),
            },
            AnyRow::Sqlite(r) => {
                let raw: Option<String> = r.try_get(i).map_err(|e| self.err(col, e))?;
                Ok(raw.and_then(|s| {
                    chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S")
                        .ok()
                        .map(|t| crate::staging::schema::format_datetime(&t))
                }))
            }
        }
    }
}
