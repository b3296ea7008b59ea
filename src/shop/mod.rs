//! The shop side: connections to osCommerce databases and the decoding of
//! what they store. Which tables and columns are read is not here but in the
//! `templates/oscommerce-2.3/` profile.

pub mod db;
pub mod detect;
pub mod schema;
pub mod tax;
pub mod text;

pub use db::{ShopDb, ShopRow};
pub use text::TextCodec;
