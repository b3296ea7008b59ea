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
//!   with RETURNING is a singleton, the rest count rows ([`Kind`]). A bulk
//!   block (`bulk.rs`: one SUSPEND, at its end) is run as a singleton too:
//!   its row comes back with the execution, one round trip; through a
//!   cursor it would be three (execute, the row count the driver asks for,
//!   fetch).
//! - Unquoted names come back upper-cased: columns are lower-cased here so
//!   the store reads `net`, as on SQLite.
//! - DDL takes effect at commit, so a migration runs statement by statement
//!   in autocommit ([`script`]; not atomic; each step is idempotent to look
//!   at: the bookkeeping row is written last).
//! - Transactions are API calls with a parameter block (isolation, lock
//!   wait), not SQL: [`begin_write`], [`begin_snapshot`].
//! - A lock conflict arrives as code -1 with "update conflicts" / "deadlock"
//!   in the message: [`is_lock_conflict`] recognises it so a load can be
//!   retried as a whole.

use crate::error::{Error, Result};
use crate::templates::Value;
use rsfbclient::prelude::*;
use rsfbclient::{Connection, FbError, Row, RustFbClient, SqlType};

pub type FbConn = Connection<RustFbClient>;

/// Where a `firebird://user@host:port/database` URL points (parsed by the
/// configuration, which checks it before anything connects).
pub type FbTarget = crate::config::FirebirdUrl;

impl FbTarget {
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
        // A block's RETURNING ... INTO is its own business; one that
        // returns rows (SUSPEND) is read like a SELECT.
        match sql
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w.eq_ignore_ascii_case("SUSPEND"))
        {
            true => Kind::Select,
            false => Kind::Exec,
        }
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
/// `known`: the statement's kind where the caller knows it (a bulk block,
/// whose 60 KB text is not worth reading for it); else read from the text.
pub fn run(
    conn: &mut FbConn,
    name: &str,
    text: &str,
    known: Option<Kind>,
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
    match known.unwrap_or_else(|| kind(text)) {
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

/// A script (session settings, a migration): statement by statement in
/// autocommit (DDL takes effect at commit in Firebird).
pub fn script(conn: &mut FbConn, ctx: &str, text: &str) -> Result<()> {
    for stmt in split_statements(text) {
        conn.execute(&stmt, ())
            .map_err(|e| fb(format!("{ctx} ({})", first_line(&stmt)))(e))?;
    }
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
        let block = "EXECUTE BLOCK (p0 INTEGER = ?) AS\nBEGIN\nINSERT INTO t (a) VALUES (:p0) RETURNING id INTO :i;\n";
        assert_eq!(kind(&format!("{block}END")), Kind::Exec);
        assert_eq!(kind(&format!("{block}SUSPEND;\nEND")), Kind::Select);
    }
}
