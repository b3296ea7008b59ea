//! The Magazyn in an SQLite file (magsync's reference schema), through
//! rusqlite in the calling thread: sqlx's hand-off of every statement to a
//! worker thread cost a load 25 times its time.
//!
//! What this backend does that SQL cannot say: open the file in the mode
//! the URL asks (`?mode=ro|rw|rwc`), wait `lock_wait` seconds for the file
//! another program holds, keep prepared statements per connection, and bind
//! a template's values in its order with one reused row for the results.
//! The session settings (`session.sql`) and the transaction statements
//! (`transaction.*.sql`) are templates of the `magazyn` profile.

use super::store::MRow;
use crate::error::{Error, Result};
use crate::templates::Value;
use std::time::Duration;

/// Open `sqlite://path[?mode=ro|rw|rwc]` (or `sqlite:path`); returns the
/// connection and the file, as errors name it.
pub fn open(url: &str, create: bool, lock_wait: u32) -> Result<(rusqlite::Connection, String)> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| Error::Magazyn {
            what: crate::config::redact_url(url),
            key: String::new(),
            message: "neither a sqlite:// nor a firebird:// URL".into(),
        })?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mode = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("mode="))
        .unwrap_or(if create { "rwc" } else { "rw" });
    use rusqlite::OpenFlags as F;
    let flags = F::SQLITE_OPEN_NO_MUTEX
        | match mode {
            "ro" => F::SQLITE_OPEN_READ_ONLY,
            "rw" => F::SQLITE_OPEN_READ_WRITE,
            "rwc" => F::SQLITE_OPEN_READ_WRITE | F::SQLITE_OPEN_CREATE,
            other => {
                return Err(Error::Magazyn {
                    what: url.to_string(),
                    key: String::new(),
                    message: format!("unknown mode `{other}` (ro, rw or rwc)"),
                });
            }
        };
    let cant = |e| Error::sqlite(format!("Magazyn: cannot open {url}"))(e);
    let conn = if path == ":memory:" {
        rusqlite::Connection::open_in_memory().map_err(cant)?
    } else {
        rusqlite::Connection::open_with_flags(path, flags).map_err(cant)?
    };
    conn.busy_timeout(Duration::from_secs(lock_wait.into()))
        .map_err(cant)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok((conn, path.to_string()))
}

/// Wait up to `seconds` for the file another program holds.
pub fn set_lock_wait(c: &rusqlite::Connection, seconds: u32, file: &str) -> Result<()> {
    c.busy_timeout(Duration::from_secs(seconds.into()))
        .map_err(Error::sqlite(format!("Magazyn {file}")))
}

/// SQLite opens a write-protected file read-only without a word; only the
/// first write would fail, naming a template. Say it before BEGIN.
pub fn refuse_read_only(c: &rusqlite::Connection, file: &str, ctx: &str) -> Result<()> {
    if c.is_readonly(rusqlite::DatabaseName::Main)
        .map_err(Error::sqlite(ctx))?
    {
        return Err(Error::Magazyn {
            what: file.to_string(),
            key: String::new(),
            message: "the database is read-only (a write-protected file or a read-only file system): nothing was written".into(),
        });
    }
    Ok(())
}

/// Run one statement (a script where `script`: several, no values, no
/// rows), calling `f` with each row it returns; returns the rows it
/// changed.
pub fn run(
    c: &mut rusqlite::Connection,
    name: &str,
    text: &str,
    values: &[&Value],
    mut f: impl FnMut(&MRow) -> Result<()>,
    row: &mut MRow,
) -> Result<u64> {
    let ctx = || format!("Magazyn: {name}");
    // Prepared once per connection, bound in the template's order,
    // stepped with one reused row.
    let mut st = c
        .prepare_cached(text)
        .map_err(|e| Error::sqlite(ctx())(e))?;
    for (i, v) in values.iter().enumerate() {
        let r = match v {
            Value::Null => st.raw_bind_parameter(i + 1, rusqlite::types::Null),
            Value::Int(x) => st.raw_bind_parameter(i + 1, x),
            Value::Text(s) => st.raw_bind_parameter(i + 1, s.as_str()),
            Value::Bytes(b) => st.raw_bind_parameter(i + 1, b.as_slice()),
        };
        r.map_err(|e| Error::sqlite(ctx())(e))?;
    }
    row.names = st
        .column_names()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .into();
    let width = row.names.len();
    let mut rows = st.raw_query();
    while let Some(r) = rows.next().map_err(|e| Error::sqlite(ctx())(e))? {
        row.values.clear();
        for i in 0..width {
            use rusqlite::types::ValueRef;
            let v = match r.get_ref(i).map_err(|e| Error::sqlite(ctx())(e))? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(x) => Value::Int(x),
                ValueRef::Real(x) => Value::Text(x.to_string()),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
            };
            row.values.push(v);
        }
        f(row)?;
    }
    drop(rows);
    Ok(c.changes())
}

/// A script of several statements with no values (session settings,
/// transactions, migrations); `ctx` names the file and the template.
pub fn script(c: &mut rusqlite::Connection, ctx: &str, text: &str) -> Result<()> {
    c.execute_batch(text).map_err(Error::sqlite(ctx))
}
