//! magsync: a file-based, reviewable ETL between osCommerce 2.3.3 shops and a
//! Magazyn warehouse database. See README.md for the tour and SPEC-level
//! documentation in `docs/`.
//!
//! Layout: `staging` (batches: the contract), `shop` and `magazyn` (the two
//! sides), `flows` (one module per flow, read top to bottom), `cli` (one
//! thin module per command). Database knowledge lives in `templates/`.

pub mod base;
pub mod check;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod flows;
pub mod magazyn;
pub mod money;
pub mod polish;
pub mod reconcile;
pub mod report;
pub mod review;
pub mod run;
pub mod shop;
pub mod staging;
pub mod templates;
pub mod transfer;

pub use error::{Error, Result};
