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

/// The `magsync_*` indexes a shop has: (name, table).
pub async fn magsync_indexes(
    db: &mut crate::shop::ShopDb,
    sql: &crate::templates::Sql,
    codec: &crate::shop::TextCodec,
) -> crate::error::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    db.for_each(sql, &crate::templates::Params::new(), codec, |r| {
        out.push((r.text_or_empty("name")?, r.text_or_empty("table_name")?));
        Ok(())
    })
    .await?;
    Ok(out)
}
