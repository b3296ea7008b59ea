//! One error type for the library, every variant carrying the place it
//! happened: a file and line, a batch, a table and key, a config key.
//!
//! The CLI wraps these in `anyhow` only at the top (`main.rs`); inside the
//! library a caller can match on the variant (e.g. `verify` tells a checksum
//! mismatch from a schema error).

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("configuration {path}: {message}")]
    Config { path: PathBuf, message: String },

    /// A value in a staging file that does not fit its schema.
    #[error("{file}, line {line}, field `{field}`: {message} [{code}]")]
    Field {
        file: String,
        line: u64,
        field: String,
        code: &'static str,
        message: String,
    },

    /// A staging file that cannot be read as a whole (bad header, broken CSV/XML).
    #[error("{file}, line {line}: {message}")]
    Format {
        file: String,
        line: u64,
        message: String,
    },

    /// A shop row magsync cannot take, named by its table and key.
    #[error("shop table {table}, {key}: {message}")]
    Shop {
        table: String,
        key: String,
        message: String,
    },

    /// A batch (bag) that is incomplete, corrupted or from an unknown version.
    #[error("batch {batch}: {message}")]
    Batch { batch: String, message: String },

    #[error("{context}: {source}")]
    Db {
        context: String,
        source: sqlx::Error,
    },

    /// The Magazyn's SQLite file (the embedded reference store).
    #[error("{context}: {source}")]
    Sqlite {
        context: String,
        source: rusqlite::Error,
    },

    /// The Magazyn on a Firebird server.
    #[error("{context}: {message}")]
    Firebird {
        context: String,
        message: String,
        /// Another transaction holds a row this one needs.
        lock_conflict: bool,
    },

    /// A state file under `<staging>/state/` that cannot be read or
    /// written as it should (line 0: the file as a whole).
    #[error("state file {}{}: {message}", path.display(), if *line > 0 { format!(", line {line}") } else { String::new() })]
    State {
        path: PathBuf,
        line: u64,
        message: String,
    },

    /// Several things failed in one step (packs on a medium, channels of
    /// the inbox), each with its own place.
    #[error("{}", .0.join("; "))]
    Several(Vec<String>),

    /// A lock (the site's, a channel's) another command held for longer
    /// than we wait.
    #[error("{holders} holds {}; gave up after waiting {waited} s: try again when it is done", path.display())]
    Locked {
        path: PathBuf,
        /// Who holds it, as a person reads it.
        holders: String,
        waited: u64,
    },

    #[error("template {name}: {message}")]
    Template { name: String, message: String },

    /// A reviewed workbook or CSV (`review import`, `review export`): the
    /// file, and where in it (`sheet orders, cell C5 (price)`, `line 7`;
    /// empty for the file as a whole).
    #[error("{file}{}: {message}", place_suffix(.place))]
    Review {
        file: String,
        place: String,
        message: String,
    },

    /// What the Magazyn holds or answers that magsync cannot take: `what`
    /// is the template, table or URL, `key` the row's key (may be empty).
    #[error("Magazyn {what}{}: {message}", key_suffix(.key))]
    Magazyn {
        what: String,
        key: String,
        message: String,
    },

    /// A staging record a flow cannot take (an amount out of range, a bad
    /// quantity), named by its entity, key and field.
    #[error("{entity} `{key}`, field `{field}`: {message}")]
    Record {
        entity: String,
        key: String,
        field: String,
        message: String,
    },

    /// A packed file, its checksum or its encryption (`pack`, `unpack`).
    #[error("{file}: {message}")]
    Transfer { file: PathBuf, message: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn batch(batch: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Error::Batch {
            batch: batch.to_string(),
            message: message.into(),
        }
    }

    /// A staging record a flow cannot take: its entity, key and field.
    pub fn record(
        entity: impl Into<String>,
        key: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Record {
            entity: entity.into(),
            key: key.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn db(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Self {
        let context = context.into();
        move |source| Error::Db { context, source }
    }

    /// A conflict with another program's transaction: the whole
    /// transaction may succeed if tried again.
    pub fn is_lock_conflict(&self) -> bool {
        match self {
            Error::Firebird { lock_conflict, .. } => *lock_conflict,
            Error::Sqlite { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            _ => false,
        }
    }

    pub fn sqlite(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> Self {
        let context = context.into();
        move |source| Error::Sqlite { context, source }
    }
}

fn place_suffix(place: &str) -> String {
    if place.is_empty() {
        String::new()
    } else {
        format!(", {place}")
    }
}

fn key_suffix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!(" `{key}`")
    }
}

/// `result.at(path)?` turns an `io::Error` into one that names the file.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_variants_start_with_their_place() {
        let e = Error::Review {
            file: "r.xlsx".into(),
            place: "sheet orders, cell C5 (price)".into(),
            message: "a formula".into(),
        };
        assert_eq!(
            e.to_string(),
            "r.xlsx, sheet orders, cell C5 (price): a formula"
        );
        let e = Error::Review {
            file: "r.txt".into(),
            place: String::new(),
            message: "expected .xlsx, .ods or .csv".into(),
        };
        assert_eq!(e.to_string(), "r.txt: expected .xlsx, .ods or .csv");
        let e = Error::Magazyn {
            what: "warehouses".into(),
            key: "MAG".into(),
            message: "no such warehouse".into(),
        };
        assert_eq!(e.to_string(), "Magazyn warehouses `MAG`: no such warehouse");
        let e = Error::Magazyn {
            what: "m.db: stock.get.sql".into(),
            key: String::new(),
            message: "column `reserved` is NULL".into(),
        };
        assert_eq!(
            e.to_string(),
            "Magazyn m.db: stock.get.sql: column `reserved` is NULL"
        );
        let e = Error::record("price_entries", "ABC-1", "net", "`x`: invalid");
        assert_eq!(
            e.to_string(),
            "price_entries `ABC-1`, field `net`: `x`: invalid"
        );
        let e = Error::Transfer {
            file: "out/a.tar.age".into(),
            message: "encrypting: no".into(),
        };
        assert_eq!(e.to_string(), "out/a.tar.age: encrypting: no");
    }
}
