//! The Magazyn on Firebird 3 (the engine DGCS System – Magazyn keeps each
//! company in), through rsfbclient's pure-Rust wire protocol: no native
//! client library to install beside magsync, and the server's default
//! settings (Srp login, wire encryption) work as they come.
//!
//! Shaped by what the driver does and does not do (measured on 3.0.11):
//! - NUMERIC arrives as a double. Every Firebird template (`magazyn/*.firebird.sql`) reads
//!   money as `CAST(col AS VARCHAR(40))`; a double reaching [`to_value`] is a
//!   template error, refused rather than rounded.
//! - The statement type is private: a SELECT opens a cursor, a statement
//!   with RETURNING is a singleton, the rest count rows ([`Kind`]).
//! - Unquoted names come back upper-cased: columns are lower-cased here so
//!   the store reads `net`, as on SQLite.
//! - DDL takes effect at commit, so a migration runs statement by statement
//!   in autocommit (not atomic; each step is idempotent to look at: the
//!   bookkeeping row is written last).
//! - A lock conflict arrives as code -1 with "update conflicts" / "deadlock"
//!   in the message: [`is_lock_conflict`] recognises it so a load can be
//!   retried as a whole.

use crate::error::{Error, Result};
use crate::templates::Value;
use rsfbclient::prelude::*;
use rsfbclient::{Connection, FbError, Row, RustFbClient, SqlType};

pub type FbConn = Connection<RustFbClient>;

/// Where a `firebird://user@host:port/database` URL points.
#[derive(Debug, Clone, PartialEq)]
pub struct FbTarget {
    pub user: String,
    pub host: String,
    pub port: u16,
    /// A path on the server (`/var/lib/firebird/3.0/data/firma.fdb`,
    /// `C:/DGCS/FIRMA.FDB`) or an alias from the server's databases.conf.
    pub database: String,
}

impl FbTarget {
    pub fn parse(url: &str) -> Result<FbTarget> {
        let bad = |m: &str| Error::Magazyn {
            what: format!("URL {}", crate::config::redact_url(url)),
            key: String::new(),
            message: format!("{m} (expected firebird://user@host:3050/path/to/db.fdb)"),
        };
        let rest = url
            .strip_prefix("firebird://")
            .ok_or_else(|| bad("not a firebird:// URL"))?;
        let (authority, path) = rest.split_once('/').ok_or_else(|| bad("no database"))?;
        let (user, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| bad("no user (user@host)"))?;
        if user.contains(':') {
            return Err(bad(
                "a password in the URL; use [magazyn] password_env or password_file",
            ));
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad("bad port"))?),
            None => (hostport, 3050),
        };
        // `/C:/x.fdb` is a Windows path; `/name` without a directory an alias;
        // anything else an absolute path on the server.
        let database = if path.len() > 2 && path.as_bytes()[1] == b':' {
            path.to_string()
        } else if path.contains('/') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        if database.is_empty() || host.is_empty() || user.is_empty() {
            return Err(bad("user, host and database are all needed"));
        }
        Ok(FbTarget {
            user: user.into(),
            host: host.into(),
            port,
            database,
        })
    }

    /// Connect; with `create`, create the database when it does not exist
    /// (UTF8, page size 8192).
    pub fn connect(&self, password: &str, create: bool) -> Result<(FbConn, bool)> {
        let mut b = rsfbclient::builder_pure_rust();
        b.host(self.host.as_str())
            .port(self.port)
            .user(self.user.as_str())
            .pass(password)
            .db_name(self.database.as_str())
            .charset(rsfbclient::charset::UTF_8)
            .stmt_cache_size(64);
        let ctx = || format!("Magazyn: cannot open {}", self.database);
        match b.connect() {
            Ok(c) => Ok((c, false)),
            Err(e) if create && is_missing_database(&e) => {
                b.page_size(8192);
                let mut c = b.create_database().map_err(fb(ctx()))?;
                c.execute("ALTER DATABASE SET DEFAULT CHARACTER SET UTF8", ())
                    .map_err(fb(ctx()))?;
                Ok((c, true))
            }
            Err(e) => Err(fb(ctx())(e)),
        }
    }
}

fn is_missing_database(e: &FbError) -> bool {
    let m = e.to_string();
    m.contains("No such file") || m.contains("I/O error during \"open\"")
}

/// A lock or update conflict with another transaction (worth retrying the
/// whole transaction a bounded number of times).
pub fn is_lock_conflict(e: &FbError) -> bool {
    match e {
        FbError::Sql { code, msg } => {
            *code == -913
                || msg.starts_with("deadlock")
                || msg.contains("update conflicts with concurrent update")
                || msg.contains("lock conflict on no wait transaction")
                || msg.contains("lock time-out on wait transaction")
        }
        _ => false,
    }
}

pub fn fb(context: impl Into<String>) -> impl FnOnce(FbError) -> Error {
    let context = context.into();
    move |source| {
        let lock_conflict = is_lock_conflict(&source);
        Error::Firebird {
            context,
            message: source.to_string().replace('\n', "; "),
            lock_conflict,
        }
    }
}

/// What the server does with a statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Select,
    Returning,
    Exec,
}

pub fn kind(sql: &str) -> Kind {
    let mut words = sql.split_whitespace();
    let first = words.next().unwrap_or("");
    if first.eq_ignore_ascii_case("SELECT") || first.eq_ignore_ascii_case("WITH") {
        Kind::Select
    } else if first.eq_ignore_ascii_case("EXECUTE") {
        // A block's RETURNING ... INTO is its own business.
        Kind::Exec
    } else if sql
        .split_whitespace()
        .any(|w| w.eq_ignore_ascii_case("RETURNING"))
    {
        Kind::Returning
    } else {
        Kind::Exec
    }
}

pub fn to_sql(v: &Value) -> SqlType {
    match v {
        Value::Null => SqlType::Null,
        Value::Int(i) => SqlType::Integer(*i),
        Value::Text(s) => SqlType::Text(s.clone()),
        Value::Bytes(b) => SqlType::Binary(b.clone()),
    }
}

pub fn to_value(name: &str, col: &str, v: SqlType) -> Result<Value> {
    Ok(match v {
        SqlType::Null => Value::Null,
        SqlType::Integer(i) => Value::Int(i),
        SqlType::Text(s) => Value::Text(s),
        SqlType::Binary(b) => Value::Bytes(b),
        SqlType::Boolean(b) => Value::Int(b as i64),
        SqlType::Timestamp(t) => Value::Text(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
        other => {
            return Err(Error::Template {
                name: name.to_string(),
                message: format!(
                    "column `{col}` arrives as {other:?}: NUMERIC reaches magsync only as text (CAST(... AS VARCHAR(40))), never through a double"
                ),
            });
        }
    })
}

/// Run one statement: rows (names lower-cased) to `f`; returns rows changed.
pub fn run(
    conn: &mut FbConn,
    name: &str,
    text: &str,
    values: &[&Value],
    mut f: impl FnMut(Vec<String>, Vec<Value>) -> Result<()>,
) -> Result<u64> {
    let params: Vec<SqlType> = values.iter().map(|v| to_sql(v)).collect();
    let ctx = || format!("Magazyn: {name}");
    let mut emit = |r: Row| -> Result<()> {
        let mut names = Vec::with_capacity(r.cols.len());
        let mut vals = Vec::with_capacity(r.cols.len());
        for c in r.cols {
            let col = c.name.to_ascii_lowercase();
            vals.push(to_value(name, &col, c.value)?);
            names.push(col);
        }
        f(names, vals)
    };
    match kind(text) {
        Kind::Select => {
            // Streamed: a cursor, one row at a time (the products extract
            // reads every good).
            let rows = conn.query_iter::<_, Row>(text, params).map_err(fb(ctx()))?;
            for r in rows {
                emit(r.map_err(fb(ctx()))?)?;
            }
            Ok(0)
        }
        Kind::Returning => {
            let r: Row = conn.execute_returnable(text, params).map_err(fb(ctx()))?;
            emit(r)?;
            Ok(1)
        }
        Kind::Exec => Ok(conn.execute(text, params).map_err(fb(ctx()))? as u64),
    }
}

/// The write transaction of a batch: read committed (record version), wait
/// up to `wait_secs` on a locked row, then fail as a lock conflict.
pub fn begin_write(conn: &mut FbConn, wait_secs: u32, ctx: &str) -> Result<()> {
    conn.begin_transaction_config(TransactionConfiguration {
        data_access: TrDataAccessMode::ReadWrite,
        isolation: TrIsolationLevel::ReadCommited(TrRecordVersion::RecordVersion),
        lock_resolution: TrLockResolution::Wait(Some(wait_secs)),
    })
    .map_err(fb(ctx))
}

/// A snapshot for reads (the products extract sees one moment).
pub fn begin_snapshot(conn: &mut FbConn) -> Result<()> {
    conn.begin_transaction_config(TransactionConfiguration {
        data_access: TrDataAccessMode::ReadOnly,
        isolation: TrIsolationLevel::Concurrency,
        lock_resolution: TrLockResolution::Wait(None),
    })
    .map_err(fb("Magazyn: begin snapshot"))
}

/// Migrations applied so far (creating the bookkeeping table if missing).
pub fn migrations_done(conn: &mut FbConn) -> Result<Vec<String>> {
    let ctx = "Magazyn: migrations table";
    let found: Option<(i64,)> = conn
        .query_first(
            "SELECT 1 FROM RDB$RELATIONS WHERE RDB$RELATION_NAME = 'MAGSYNC_MIGRATIONS'",
            (),
        )
        .map_err(fb(ctx))?;
    if found.is_none() {
        conn.execute(
            "CREATE TABLE magsync_migrations (version VARCHAR(64) NOT NULL PRIMARY KEY, applied_at VARCHAR(32) NOT NULL)",
            (),
        )
        .map_err(fb(ctx))?;
    }
    let rows: Vec<(String,)> = conn
        .query("SELECT version FROM magsync_migrations", ())
        .map_err(fb(ctx))?;
    Ok(rows.into_iter().map(|(v,)| v.trim().to_string()).collect())
}

/// Apply one migration file: statement by statement (DDL takes effect at
/// commit in Firebird), the bookkeeping row last.
pub fn migrate(conn: &mut FbConn, version: &str, text: &str, now: &str) -> Result<()> {
    let ctx = format!("Magazyn: migration {version}");
    for stmt in split_statements(text) {
        conn.execute(&stmt, ())
            .map_err(|e| fb(format!("{ctx} ({})", first_line(&stmt)))(e))?;
    }
    conn.execute(
        "INSERT INTO magsync_migrations (version, applied_at) VALUES (?, ?)",
        (version.to_string(), now.to_string()),
    )
    .map_err(fb(ctx))?;
    Ok(())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Statements end with `;` at the end of a line, outside quotes; `--`
/// comments are dropped. (Firebird prepares one statement at a time and
/// `SET TERM` is isql's; the schema has no PSQL bodies.)
pub fn split_statements(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    for line in src.lines() {
        let mut kept = String::new();
        let mut chars = line.chars().peekable();
        while let Some(ch) = chars.next() {
            if ch == '\'' {
                in_quote = !in_quote;
            }
            if !in_quote && ch == '-' && chars.peek() == Some(&'-') {
                break;
            }
            kept.push(ch);
        }
        let t = kept.trim_end();
        if !in_quote && let Some(stmt) = t.strip_suffix(';') {
            cur.push_str(stmt);
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
        } else {
            cur.push_str(t);
            cur.push('\n');
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// `Firebird 3.0.11, database character set UTF8`.
pub fn describe(conn: &mut FbConn) -> Result<String> {
    let ctx = "Magazyn: server version";
    let v: Option<(String, Option<String>)> = conn
        .query_first(
            "SELECT rdb$get_context('SYSTEM', 'ENGINE_VERSION'), RDB$CHARACTER_SET_NAME FROM RDB$DATABASE",
            (),
        )
        .map_err(fb(ctx))?;
    let (version, charset) = v.unwrap_or_default();
    Ok(format!(
        "Firebird {}, database character set {} (text arrives as UTF-8: the server converts)",
        version.trim(),
        charset.as_deref().map(str::trim).unwrap_or("NONE")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = FbTarget::parse("firebird://sysdba@db.local:3051/var/lib/fb/firma.fdb").unwrap();
        assert_eq!(
            (
                t.user.as_str(),
                t.host.as_str(),
                t.port,
                t.database.as_str()
            ),
            ("sysdba", "db.local", 3051, "/var/lib/fb/firma.fdb")
        );
        let t = FbTarget::parse("firebird://u@h/C:/DGCS/FIRMA.FDB").unwrap();
        assert_eq!((t.port, t.database.as_str()), (3050, "C:/DGCS/FIRMA.FDB"));
        let t = FbTarget::parse("firebird://u@h/firma").unwrap();
        assert_eq!(t.database, "firma");
        let e = FbTarget::parse("firebird://u:sekret@h/x.fdb")
            .unwrap_err()
            .to_string();
        assert!(e.contains("password_env") && !e.contains("sekret"), "{e}");
        assert!(FbTarget::parse("firebird://h/x.fdb").is_err());
    }

    #[test]
    fn statements_split_at_line_end_semicolons() {
        let s = split_statements(
            "-- a comment; not a statement\nCREATE TABLE t (\n  a VARCHAR(5) DEFAULT ';' -- x;\n);\nINSERT INTO t VALUES ('a;\nb');\n",
        );
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].starts_with("CREATE TABLE t") && s[0].contains("';'"));
        assert_eq!(s[1], "INSERT INTO t VALUES ('a;\nb')");
    }

    #[test]
    fn kinds() {
        assert_eq!(kind("  select 1 from rdb$database"), Kind::Select);
        assert_eq!(
            kind("INSERT INTO t (a) VALUES (?) RETURNING id"),
            Kind::Returning
        );
        assert_eq!(kind("UPDATE t SET a = ?"), Kind::Exec);
    }
}
