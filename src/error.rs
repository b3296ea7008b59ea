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

    #[error("{0}")]
    Other(String),
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

/// `result.at(path)?` turns an `io::Error` into one that names the file.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
