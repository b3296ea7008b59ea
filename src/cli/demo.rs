//! `magsync demo [DIR]`: the whole product on a machine with no database
//! server. A built-in Polish demo shop (osCommerce 2.3.3 tables in SQLite)
//! and an embedded Magazyn; every flow that exists runs, twice (the second
//! run shows that nothing changes), and every batch is verified. DIR keeps
//! the batches, the databases, the configuration and a report.

use crate::base::Exit;
use crate::base::Flow;
use crate::config::{Config, Step};
use crate::shop::ShopDb;
use crate::staging::Batch;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to put the demo (created; a previous demo there is replaced).
    #[arg(default_value = "magsync-demo")]
    pub dir: PathBuf,
    /// Number of shop customers to generate.
    #[arg(long, default_value_t = 60)]
    pub customers: usize,
    /// Number of shop orders to generate.
    #[arg(long, default_value_t = 150)]
    pub orders: usize,
}

const MARKER: &str = ".magsync-demo";

const CONFIG: &str = r#"# magsync demo configuration (written by `magsync demo`).
site = "demo"
staging = "staging"
format = "csv"

[magazyn]
url = "sqlite://magazyn.db"

[shops.demo]
url = "sqlite://shop.db"
encoding = "utf8"
warehouse = "MAG"
price_list = "Detal"
import_price_list = "Sklep demo"
order_prefix = "DEMO/"
customer_code_prefix = "DEMO-"

# What `magsync discover --shop demo` found, edited:
[shops.demo.map.shipping]
"Kurier DPD (Kurier DPD)" = "TRANSPORT-DPD"
"Paczkomaty InPost (Paczkomat)" = "TRANSPORT-INPOST"
"Odbiór osobisty (W sklepie)" = "ODBIOR"

[shops.demo.map.order_status]
"Wysłane" = "realized"
"Anulowane" = "cancelled"

# The shop's prices fill the (new, empty) list "Sklep demo".
[shops.demo.prices]
add_missing = true
"#;

pub async fn run(a: Args) -> anyhow::Result<Exit> {
    let dir = prepare_dir(&a.dir)?;
    let mut report = String::new();
    let mut line = |s: String| {
        println!("{s}");
        report.push_str(&s);
        report.push('\n');
    };
    line(format!("magsync demo in {}", dir.display()));

    // The shop: osCommerce 2.3.3 tables in SQLite, Polish customers.
    let shop_url = format!("sqlite://{}?mode=rwc", dir.join("shop.db").display());
    let mut shop = ShopDb::connect(&shop_url, None, "demo shop").await?;
    let templates = crate::templates::Templates::new(None);
    shop.run_script(
        &templates.text("oscommerce-2.3", "fixture/schema.sqlite.sql", "sqlite")?,
        "demo shop schema",
    )
    .await?;
    crate::demo::populate_countries(&mut shop).await?;
    let list = crate::demo::customers(a.customers, 2026);
    crate::demo::populate_customers(&mut shop, &list).await?;
    let products = crate::demo::products(40, 2026);
    crate::demo::populate_catalog(&mut shop, &products).await?;
    let mut orders = crate::demo::orders(a.orders, &list, &products, 2026);
    let extras = add_ons(&mut orders);
    // The low order fee module is installed, in the 23 % class, after ot_tax.
    crate::demo::configure(
        &mut shop,
        &[
            (
                "MODULE_ORDER_TOTAL_INSTALLED",
                "ot_subtotal.php;ot_shipping.php;ot_tax.php;ot_loworderfee.php;ot_total.php",
            ),
            ("MODULE_ORDER_TOTAL_LOWORDERFEE_TAX_CLASS", "1"),
        ],
    )
    .await?;
    crate::demo::populate_orders(&mut shop, &orders).await?;
    shop.close().await;
    line(format!(
        "demo shop: {} customers, {} products, {} orders in shop.db (osCommerce 2.3.3 tables)",
        list.len(),
        products.len(),
        orders.len()
    ));
    let delivered = orders.iter().filter(|o| o.status == 3).count();
    line(format!(
        "  {extras}; {delivered} orders already delivered (Wysłane: realized, they reserve nothing)"
    ));

    let cfg_path = dir.join("magsync.toml");
    std::fs::write(&cfg_path, CONFIG)?;
    let cfg = Config::load(&cfg_path)?;

    // The Magazyn already knows one of the shop's companies, with its NIP
    // written with dashes: the load links it instead of creating a duplicate.
    let mut mag = crate::flows::open_magazyn(&cfg)?;
    if let Some(c) = list
        .iter()
        .find(|c| c.nip.as_deref().is_some_and(crate::polish::nip_checksum_ok))
    {
        let nip = crate::demo::written_nip(c.nip.as_deref().unwrap_or(""), 0);
        mag.customer_insert(&crate::magazyn::CustomerRow {
            code: "K-0001".into(),
            name: format!("{} (w Magazynie od lat)", c.lastname),
            nip: Some(nip.clone()),
            is_company: true,
            ..Default::default()
        })?;
        line(format!(
            "Magazyn: customer K-0001 already exists with NIP {nip}"
        ));
    }
    // The Magazyn's goods register knows the shop's products but two (the
    // catalog flow adds them before the orders come).
    // The retail price list ("Detal") holds their gross prices — a third of
    // them raised by 1.00 since the shop was last updated — and warehouse
    // MAG their stock.
    let list = mag.price_list_id("Detal")?;
    let warehouse = mag.warehouse_id("MAG")?;
    let mut known = 0;
    for p in products.iter().filter(|p| p.id % 20 != 7) {
        let mut g = crate::magazyn::GoodRow::new(&p.model, &p.name_pl, &p.rate.to_string());
        g.manufacturer = Some("Fabryka Łódź".into());
        let id = mag.good_insert(&g)?;
        let gross = if p.id % 3 == 0 {
            p.gross + rust_decimal::Decimal::ONE
        } else {
            p.gross
        };
        let net = crate::money::net_of_gross(gross, p.rate, 4).expect("a Polish VAT rate");
        mag.set_price(list, id, net, gross)?;
        mag.set_quantity(warehouse, id, rust_decimal::Decimal::from(40 + p.id % 25))?;
        known += 1;
    }
    line(format!(
        "Magazyn: {known} goods with prices on list Detal and stock in warehouse MAG"
    ));
    mag.close();

    // The same loop as `magsync run`, over the five flows of the demo shop,
    // twice: the second re-extracts everything and shows nothing changes.
    let steps: Vec<Step> = [
        Flow::Catalog,
        Flow::Customers,
        Flow::Orders,
        Flow::Prices,
        Flow::Products,
    ]
    .into_iter()
    .map(|flow| Step::Sync {
        shop: "demo".into(),
        flow,
    })
    .collect();
    let mut worst = Exit::Done;
    let mut runs = Vec::new();
    for (title, full) in [
        ("first run", false),
        (
            "second run, everything re-extracted (--full): only what the first run itself changed moves",
            true,
        ),
    ] {
        line(format!("\n== sync, {title} =="));
        let r = crate::run::run_steps(&cfg, "demo", &steps, full, false).await;
        line(crate::report::text(&r).trim_end().to_string());
        if !full {
            // Where a person finds the warnings (bad NIPs, a fee's tax class).
            for b in r.steps.iter().flat_map(|s| &s.batches) {
                let warnings = cfg.site().find(b)?.join("data/warnings.csv");
                if warnings.is_file() {
                    line(format!("  warnings: {}", warnings.display()));
                }
            }
        }
        worst = worst.max(r.exit());
        runs.push(r);
    }

    // The nightly job as cron would run it: one report for people.
    line("\n== the nightly job (magsync run) ==".into());
    let nightly = crate::run::run(&cfg, None, false).await?;
    line(crate::report::text(&nightly).trim_end().to_string());
    let html = crate::report::write_reports(&cfg, &nightly)?;
    worst = worst.max(nightly.exit());

    // A batch to review in a spreadsheet: tonight's orders.
    let orders_batch = crate::transfer::batch_dirs(&dir.join("staging/work"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains(".orders."));
    let workbook = dir.join("review-orders.xlsx");
    if let Some(b) = orders_batch {
        crate::review::export::export(&Batch::open(&b)?, &workbook)?;
        line(format!(
            "\nreview workbook: {} (edit, then `magsync review import <batch> <file>`)",
            workbook.display()
        ));
    }

    line("\n== verify every batch ==".into());
    let mut n = 0;
    for sub in ["outbox", "work", "receipts", "undo"] {
        let d = dir.join("staging").join(sub);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let b = Batch::open(&p)?;
            let rows = b.verify_rows()?;
            n += 1;
            line(format!("  ok {sub}/{} ({rows} rows)", b.id()));
        }
    }
    line(format!("{n} batches verified"));

    let mut json = serde_json::json!({ "runs": runs, "batches_verified": n });
    json["exit_code"] = (worst as u8).into();
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    let mut tour = String::new();
    let _ = writeln!(tour, "\nLook at:");
    let _ = writeln!(
        tour,
        "  {}/staging/outbox/   extracted batches (BagIt bags; open data/*.csv in a spreadsheet)",
        dir.display()
    );
    let _ = writeln!(
        tour,
        "  {}/staging/work/     transformed batches (what was loaded)",
        dir.display()
    );
    let _ = writeln!(
        tour,
        "  {}/staging/receipts/ what each load did",
        dir.display()
    );
    let _ = writeln!(
        tour,
        "  {}/magazyn.db        the Magazyn (sqlite3 {}/magazyn.db 'select code, name, nip, postcode, city from customers')",
        dir.display(),
        dir.display()
    );
    let _ = writeln!(tour, "  {}/report.txt, report.json", dir.display());
    let _ = writeln!(
        tour,
        "  {}                   the nightly job's report for people (open in a browser)",
        html.display()
    );
    let _ = writeln!(
        tour,
        "  {}     tonight's orders in a spreadsheet",
        workbook.display()
    );
    let _ = writeln!(
        tour,
        "Try: magsync --config {}/magsync.toml sync --shop demo --flow customers --dry-run",
        dir.display()
    );
    line(tour);
    std::fs::write(dir.join("report.txt"), &report)?;
    Ok(worst)
}

/// What real shops hold beyond plain orders, on a few open orders: a guest
/// ("purchase without account"), a coupon of an add-on, the core low order
/// fee on a small order, a comment at checkout. Says which orders.
fn add_ons(orders: &mut [crate::demo::Order]) -> String {
    use rust_decimal::Decimal;
    let open = |o: &crate::demo::Order| [1, 2].contains(&o.status) && o.currency == "PLN";
    let mut said = Vec::new();
    let mut taken = Vec::new();
    let mut pick = |orders: &mut [crate::demo::Order],
                    fits: &dyn Fn(&crate::demo::Order) -> bool,
                    what: &str,
                    edit: &dyn Fn(&mut crate::demo::Order)| {
        if let Some(o) = orders
            .iter_mut()
            .find(|o| open(o) && !taken.contains(&o.id) && fits(o))
        {
            edit(o);
            taken.push(o.id);
            said.push(format!("order {} {what}", o.id));
        }
    };
    pick(orders, &|_| true, "bought as a guest", &|o| o.guest = true);
    pick(
        orders,
        &|o| o.lines.iter().all(|l| l.product.rate == Decimal::from(23)),
        "with a coupon of 10.00 net",
        &|o| o.coupon = Decimal::from(10),
    );
    pick(
        orders,
        &|o| {
            o.lines
                .iter()
                .map(|l| l.final_price * Decimal::from(l.quantity))
                .sum::<Decimal>()
                < Decimal::from(50)
        },
        "under 50.00 with the low order fee",
        &|o| o.low_order_fee = Decimal::from(5),
    );
    pick(
        orders,
        &|_| true,
        "with a comment (Proszę o fakturę VAT)",
        &|o| o.comment = "Proszę o fakturę VAT".into(),
    );
    said.join(", ")
}

/// Create DIR, or empty it if it holds a previous demo; refuse anything else.
fn prepare_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty {
            if !dir.join(MARKER).exists() {
                anyhow::bail!(
                    "{} exists and is not a magsync demo directory; choose another DIR",
                    dir.display()
                );
            }
            std::fs::remove_dir_all(dir)?;
        }
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(MARKER),
        "magsync demo directory; `magsync demo` replaces it\n",
    )?;
    Ok(std::fs::canonicalize(dir)?)
}
