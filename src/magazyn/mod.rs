//! The Magazyn side: one narrow interface ([`Magazyn`]) over the warehouse
//! database. Every SQL statement is a template of the `magazyn` profile, so a
//! deployment can point magsync at another schema by editing templates; a
//! second backend (Firebird 3, what DGCS uses) sits behind the same methods
//! with its own dialect of the profile (`<name>.firebird.sql` where the SQL
//! differs).

pub mod bulk;
pub mod firebird;
pub mod store;

pub use store::{CustomerRow, GoodRow, LedgerEntry, MRow, Magazyn, MatchStep, OrderState};
