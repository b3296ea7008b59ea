//! magsync's integration tests: one binary (ripgrep style), real parts only.
//! The shop is MariaDB with the osCommerce 2.3.3 schema (or the SQLite demo
//! shop), the Magazyn a real SQLite file, and magsync the real binary.
//!
//! MariaDB tests need `MAGSYNC_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/test`); without a server they print that
//! they are skipped, unless `MAGSYNC_REQUIRE_MYSQL=1` (CI) makes that a
//! failure.

mod bad;
mod catalog;
mod corruption;
mod customers;
mod demo;
mod encoding;
mod faults;
mod fixture;
mod fuzz;
mod kill;
mod magazyn;
mod orders;
mod products;
mod review;
mod run;
mod security;
mod staging;
mod storefront;
mod transfer;
mod util;
