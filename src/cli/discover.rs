//! `magsync discover --shop ID`: the distinct values a shop's orders and
//! products use — payment methods, delivery titles, statuses, tax classes —
//! written as a value-map skeleton to paste into the configuration.

use crate::base::Exit;
use crate::config::Config;
use crate::templates::Params;
use std::fmt::Write as _;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub shop: String,
    /// Write the skeleton to this file instead of standard output.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

pub async fn run(cfg: &Config, a: Args) -> anyhow::Result<Exit> {
    let shop = cfg.shop(&a.shop)?;
    let (mut db, codec) = crate::flows::connect_shop(cfg, &a.shop).await?;
    let t = crate::flows::templates(cfg);
    let dialect = db.dialect();
    let p = Params::new().set("language_id", shop.language_id);
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let id = &a.shop;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Value maps found in shop `{id}` by `magsync discover` ({}).\n# Edit the right-hand sides, then paste into magsync.toml.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );

    let mut rows: Vec<(String, String)> = Vec::new();
    db.for_each(
        &t.sql(&shop.profile, "discover.shipping.sql", dialect)?,
        &p,
        &codec,
        |r| {
            let title = r.text_or_empty("value")?;
            rows.push((
                title.trim_end().trim_end_matches(':').trim().to_string(),
                format!("{} orders", r.int("n")?.unwrap_or(0)),
            ));
            Ok(())
        },
    )
    .await?;
    let _ = writeln!(
        out,
        "# Delivery methods (ot_shipping titles) -> Magazyn service code of the delivery line."
    );
    let _ = writeln!(out, "[shops.{id}.map.shipping]");
    for (v, n) in &rows {
        let current = shop
            .map
            .shipping
            .get(v)
            .unwrap_or(&shop.orders.shipping_code);
        let _ = writeln!(out, "{} = {}   # {n}", q(v), q(current));
    }

    rows.clear();
    let mut public = Vec::new();
    let mut ids = Vec::new();
    db.for_each(
        &t.sql(&shop.profile, "discover.statuses.sql", dialect)?,
        &p,
        &codec,
        |r| {
            rows.push((
                r.text_or_empty("value")?,
                format!("{} orders", r.int("n")?.unwrap_or(0)),
            ));
            public.push(r.int("public_flag")?.unwrap_or(1) != 0);
            ids.push(r.int("id")?);
            Ok(())
        },
    )
    .await?;
    let _ = writeln!(
        out,
        "\n# Order statuses (language {}) -> Magazyn status. Open orders reserve their goods;\n# \"realized\" (goods issued) and \"cancelled\" reserve nothing and release what an order held.",
        shop.language_id
    );
    let _ = writeln!(out, "[shops.{id}.map.order_status]");
    for (((v, n), public), id) in rows.iter().zip(&public).zip(&ids) {
        let current = shop.map.order_status_code(v, *id);
        let note = if *public {
            String::new()
        } else {
            ", not public: such orders are not exported".into()
        };
        let _ = writeln!(out, "{} = {}   # {n}{note}", q(v), q(current));
    }

    rows.clear();
    db.for_each(
        &t.sql(&shop.profile, "discover.payments.sql", dialect)?,
        &p,
        &codec,
        |r| {
            rows.push((
                r.text_or_empty("value")?,
                format!("{} orders", r.int("n")?.unwrap_or(0)),
            ));
            Ok(())
        },
    )
    .await?;
    let _ = writeln!(out, "\n# Payment methods as the shop names them.");
    let _ = writeln!(out, "[shops.{id}.map.payment]");
    for (v, n) in &rows {
        let current = shop.map.payment.get(v).unwrap_or(v);
        let _ = writeln!(out, "{} = {}   # {n}", q(v), q(current));
    }

    rows.clear();
    db.for_each(
        &t.sql(&shop.profile, "discover.tax_classes.sql", dialect)?,
        &p,
        &codec,
        |r| {
            let rate = r
                .decimal("rate")?
                .map(|d| d.normalize().to_string())
                .unwrap_or_else(|| "0".into());
            rows.push((
                r.text_or_empty("value")?,
                format!("{rate}|{} products", r.int("n")?.unwrap_or(0)),
            ));
            Ok(())
        },
    )
    .await?;
    let _ = writeln!(
        out,
        "\n# Tax classes -> Magazyn VAT symbol (23, 8, 5, 0, zw, np)."
    );
    let _ = writeln!(out, "[shops.{id}.map.tax_class]");
    for (v, n) in &rows {
        let (rate, n) = n.split_once('|').unwrap_or(("0", n));
        let current = shop
            .map
            .tax_class
            .get(v)
            .map(String::as_str)
            .unwrap_or(rate);
        let _ = writeln!(out, "{} = {}   # rate {rate} %, {n}", q(v), q(current));
    }
    db.close().await;

    match &a.out {
        Some(path) => {
            std::fs::write(path, &out)?;
            println!("wrote {}", path.display());
        }
        None => print!("{out}"),
    }
    Ok(Exit::Done)
}
