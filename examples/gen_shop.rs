//! Generate a Polish osCommerce 2.3.3 shop of any size in MariaDB: the
//! project's own fixture schema, customers with address books, products in
//! two languages, and orders with lines, attributes, totals and status
//! history as `checkout_process.php` writes them.
//!
//! cargo run --release --example gen_shop -- --url mysql://root@127.0.0.1:3306/magsync_bench --orders 100000

use clap::Parser;
use magsync::demo;
use magsync::shop::ShopDb;
use sqlx::Connection;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// The database to (re)create, e.g. mysql://root@127.0.0.1:3306/magsync_bench
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 100_000)]
    orders: usize,
    /// Default: one customer per five orders.
    #[arg(long)]
    customers: Option<usize>,
    #[arg(long, default_value_t = 2000)]
    products: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A shop that displays gross prices (DISPLAY_PRICE_WITH_TAX = true).
    #[arg(long)]
    gross: bool,
    /// The order-total modules in the fresh-install order (ot_tax before
    /// ot_shipping: the delivery's VAT in ot_total only).
    #[arg(long)]
    fresh_install_totals: bool,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (server, name) = a
            .url
            .rsplit_once('/')
            .ok_or_else(|| anyhow::anyhow!("--url needs a database name"))?;
        anyhow::ensure!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "database name: [A-Za-z0-9_] only"
        );
        let mut admin = sqlx::mysql::MySqlConnection::connect(&format!("{server}/mysql")).await?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"
        ))
        .execute(&mut admin)
        .await?;
        admin.close().await?;

        let t0 = Instant::now();
        let mut db = ShopDb::connect(&a.url, None, "shop").await?;
        let t = magsync::templates::Templates::new(None);
        db.run_script(
            &t.text("oscommerce-2.3", "fixture/schema.mysql.sql", "mysql")?,
            "schema",
        )
        .await?;
        demo::populate_countries(&mut db).await?;
        let customers = demo::customers(a.customers.unwrap_or(a.orders / 5).max(1), a.seed);
        demo::populate_customers(&mut db, &customers).await?;
        let products = demo::products(a.products, a.seed);
        demo::populate_catalog(&mut db, &products).await?;
        let checkout = demo::Checkout {
            prices_with_tax: a.gross,
            tax_before_shipping: a.fresh_install_totals,
            ..demo::Checkout::default()
        };
        demo::set_checkout(&mut db, &checkout).await?;
        let chunk = 20_000;
        let mut first = 1;
        while first <= a.orders as i64 {
            let n = chunk.min(a.orders + 1 - first as usize);
            let mut orders = demo::orders_from(first, n, &customers, &products, a.seed);
            for o in &mut orders {
                o.checkout = checkout;
            }
            demo::populate_orders(&mut db, &orders).await?;
            first += n as i64;
            eprint!("\r{} orders", first - 1);
        }
        db.close().await;
        eprintln!(
            "\r{} orders, {} customers, {} products in {name} in {:.1} s",
            a.orders,
            customers.len(),
            products.len(),
            t0.elapsed().as_secs_f64()
        );
        Ok(())
    })
}
