//! The Magazyn side: one narrow interface ([`Magazyn`]) over the warehouse
//! database. Every SQL statement is a template of the `magazyn` profile, so a
//! deployment can point magsync at another schema by editing templates; a
//! second backend (Firebird, what DGCS uses) plugs in behind the same methods.

pub mod store;

pub use store::{CustomerRow, GoodRow, LedgerEntry, MRow, Magazyn, MatchStep, OrderState};
