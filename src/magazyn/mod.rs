//! The Magazyn side: one narrow interface ([`Magazyn`]) over the warehouse
//! database. Every SQL statement is a template of the `magazyn` profile
//! (the session settings, transactions and the migrations ledger too), so a
//! deployment can point magsync at another schema by editing templates. Two
//! engines sit behind the same methods: SQLite (`sqlite.rs`, the reference
//! schema) and Firebird 3 (`firebird.rs`, what DGCS uses), each reading its
//! dialect of the profile (`<name>.firebird.sql` where the SQL differs). The
//! store dispatches on the engine in one place (`store::Conn`).

pub mod bulk;
pub mod firebird;
pub mod sqlite;
pub mod store;

pub use store::{
    CustomerRow, DeletionCheck, GoodRow, LedgerEntry, MRow, Magazyn, MatchStep, ORDERS_CHECK,
    OrderState,
};
