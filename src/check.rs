//! Is this site ready (`magsync check [--shop ID]`)? The configuration, each
//! connection, each shop's schema against the profile, how the shop stores
//! text (with decoded samples as evidence), table engines, and products whose
//! model cannot identify a good — each problem with what to do about it.
//! Exit 0 all well, 1 warnings, 2 errors. Nothing is written.
//!
//! The findings are lines handed to the caller as they are found (a slow
//! connection shows where the check is), so the command only prints them.

use crate::base::Exit;
use crate::config::{Config, Encoding};
use crate::error::Result;
use crate::templates::Params;

struct Report<'a> {
    worst: Exit,
    say: &'a mut dyn FnMut(String),
}

impl Report<'_> {
    fn section(&mut self, name: String) {
        (self.say)(name);
    }
    fn ok(&mut self, what: &str, msg: String) {
        (self.say)(format!("  ok       {what}: {msg}"));
    }
    fn warn(&mut self, what: &str, msg: String, advice: &str) {
        (self.say)(format!("  WARNING  {what}: {msg}\n           -> {advice}"));
        self.worst = self.worst.max(Exit::Rejects);
    }
    fn error(&mut self, what: &str, msg: String, advice: &str) {
        (self.say)(format!("  ERROR    {what}: {msg}\n           -> {advice}"));
        self.worst = self.worst.max(Exit::Failed);
    }
}

/// An SQLite Magazyn file that is not there (check must not create it).
fn sqlite_missing(cfg: &Config, url: &str) -> bool {
    let resolved = crate::flows::resolve_sqlite_url(cfg, url);
    match resolved.strip_prefix("sqlite://") {
        Some(rest) => !std::path::Path::new(rest.split('?').next().unwrap_or("")).exists(),
        None => false,
    }
}

/// Check the site configured in `cfg_path` (every shop, or `only_shop`),
/// handing each line of findings to `say`; returns the exit code they earn.
pub async fn check(
    cfg_path: &std::path::Path,
    only_shop: Option<&str>,
    say: &mut dyn FnMut(String),
) -> Result<Exit> {
    let mut r = Report {
        worst: Exit::Done,
        say,
    };
    r.section(format!("configuration {}", cfg_path.display()));
    let cfg = match Config::load(cfg_path) {
        Ok(c) => {
            r.ok(
                "configuration",
                format!("valid, site `{}`, {} shop(s)", c.site, c.shops.len()),
            );
            c
        }
        Err(e) => {
            r.error(
                "configuration",
                e.to_string(),
                "fix the file (see `magsync init` for a commented sample)",
            );
            return Ok(r.worst);
        }
    };

    if let Some(m) = &cfg.magazyn {
        r.section("magazyn".into());
        match &m.url {
            None => r.ok(
                "connection",
                format!(
                    "not reachable from this site (site `{}`)",
                    m.site.as_deref().unwrap_or("?")
                ),
            ),
            Some(url) if sqlite_missing(&cfg, url) => {
                r.error(
                    "connection",
                    format!("{} does not exist yet", crate::config::redact_url(url)),
                    "create it with `magsync init` (or let the first sync create it)",
                );
            }
            Some(url) => {
                match crate::flows::open_magazyn(&cfg) {
                    Ok(mut mag) => {
                        r.ok("connection", crate::config::redact_url(url));
                        match mag.describe() {
                            Ok(d) => r.ok("server", d),
                            Err(e) => r.error("server", e.to_string(), "check the Magazyn server"),
                        }
                        for (id, shop) in &cfg.shops {
                            if let Err(e) = mag.warehouse_id(&shop.warehouse) {
                                r.error(
                                    &format!("shop {id} warehouse"),
                                    e.to_string(),
                                    "create the warehouse in the Magazyn or fix `warehouse`",
                                );
                            }
                            for list in [&shop.price_list, &shop.import_price_list]
                                .into_iter()
                                .filter(|l| !l.is_empty())
                            {
                                if let Err(e) = mag.price_list_id(list) {
                                    r.error(&format!("shop {id} price list"), e.to_string(), "create the price list in the Magazyn or fix the configuration");
                                }
                            }
                        }
                        mag.close();
                    }
                    Err(e) => r.error(
                        "connection",
                        e.to_string(),
                        "check [magazyn] url and that the file or server is there",
                    ),
                }
            }
        }
    }

    for (id, shop) in &cfg.shops {
        if only_shop.is_some_and(|s| s != id) {
            continue;
        }
        r.section(format!("shop {id}"));
        if shop.url.is_none() {
            r.ok("connection", "not reachable from this site (no url)".into());
            continue;
        }
        let (mut db, _) = match crate::flows::connect_shop(&cfg, id).await {
            Ok(x) => x,
            Err(e) => {
                r.error("connection", e.to_string(), "check the url, that the server runs, and the password (password_env / password_file)");
                continue;
            }
        };
        r.ok(
            "connection",
            crate::config::redact_url(shop.url.as_deref().unwrap_or("")),
        );
        let t = crate::flows::templates(&cfg);
        let dialect = db.dialect();
        let raw = crate::shop::TextCodec::new(Encoding::Utf8);

        // Schema: every table and column of the profile's fixture.
        let fixture = t.text(
            &shop.profile,
            &format!("fixture/schema.{dialect}.sql"),
            dialect,
        )?;
        let want = crate::shop::schema::tables(&fixture);
        let mut have: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        db.for_each(
            &t.sql(&shop.profile, "schema.columns.sql", dialect)?,
            &Params::new(),
            &raw,
            |row| {
                have.entry(row.text_or_empty("table_name")?.to_lowercase())
                    .or_default()
                    .push(row.text_or_empty("column_name")?.to_lowercase());
                Ok(())
            },
        )
        .await?;
        let mut missing = Vec::new();
        for (table, cols) in &want {
            match have.get(table) {
                None => missing.push(format!("table {table}")),
                Some(h) => missing.extend(
                    cols.iter()
                        .filter(|c| !h.contains(c))
                        .map(|c| format!("{table}.{c}")),
                ),
            }
        }
        if missing.is_empty() {
            r.ok(
                "schema",
                format!(
                    "profile {}: all {} tables and their columns are there",
                    shop.profile,
                    want.len()
                ),
            );
        } else {
            r.error(
                "schema",
                format!("profile {} expects what the database lacks: {}", shop.profile, missing.join(", ")),
                "point `profile` at the right template profile, or copy and edit one (`templates` in the configuration)",
            );
        }

        // Text encoding, with evidence.
        let d = crate::flows::detect_encoding(&cfg, id, &mut db).await?;
        let evidence = if d.evidence.is_empty() {
            String::new()
        } else {
            format!("; e.g. {}", d.evidence.join(", "))
        };
        match shop.encoding {
            Encoding::Auto => r.ok(
                "encoding",
                format!("auto: {} ({}){evidence}", d.encoding.as_str(), d.reason),
            ),
            e if e == d.encoding || d.evidence.is_empty() => r.ok(
                "encoding",
                format!("{} ({}){evidence}", e.as_str(), d.reason),
            ),
            e => r.warn(
                "encoding",
                format!(
                    "configured {} but the data looks like {} ({}){evidence}",
                    e.as_str(),
                    d.encoding.as_str(),
                    d.reason
                ),
                &format!(
                    "set encoding = \"{}\" (or \"auto\") for this shop",
                    d.encoding.as_str()
                ),
            ),
        }

        // Engines: MyISAM cannot roll back.
        let mut myisam = Vec::new();
        db.for_each(
            &t.sql(&shop.profile, "engines.sql", dialect)?,
            &Params::new(),
            &raw,
            |row| {
                let engine = row.text_or_empty("engine")?;
                if engine.eq_ignore_ascii_case("myisam") || engine.eq_ignore_ascii_case("aria") {
                    myisam.push(format!("{} ({engine})", row.text_or_empty("name")?));
                }
                Ok(())
            },
        )
        .await?;
        if myisam.is_empty() {
            r.ok(
                "engines",
                "transactional: shop writes are all or nothing".into(),
            );
        } else {
            r.warn(
                "engines",
                format!(
                    "no transactions in {}: a products push cannot be all-or-nothing",
                    myisam.join(", ")
                ),
                "convert them with ALTER TABLE … ENGINE=InnoDB (after a backup)",
            );
        }

        // Models that cannot identify a good.
        let (mut empty, mut dup) = (0, 0);
        db.for_each(
            &t.sql(&shop.profile, "check.models.sql", dialect)?,
            &Params::new(),
            &raw,
            |row| {
                empty = row.int("empty_models")?.unwrap_or(0);
                dup = row.int("duplicate_models")?.unwrap_or(0);
                Ok(())
            },
        )
        .await?;
        if empty + dup == 0 {
            r.ok("models", "every product has its own products_model".into());
        } else {
            r.warn(
                "models",
                format!("{empty} products without a model, {dup} models shared by several products: those are never matched or written"),
                "give each product its own products_model (Catalog → edit product)",
            );
        }

        // The opt-in indexes of `magsync index` (information, not advice to act).
        let present = crate::shop::magsync_indexes(
            &mut db,
            &t.sql(&shop.profile, "indexes.list.sql", dialect)?,
            &raw,
        )
        .await?;
        r.ok(
            "indexes",
            if present.is_empty() {
                format!("an incremental orders extract scans the orders table (about a second per million orders); `magsync index --shop {id}` adds two indexes that avoid it")
            } else {
                let names: Vec<&str> = present.iter().map(|(n, _)| n.as_str()).collect();
                format!("{} (added by `magsync index`; `--drop` removes them)", names.join(", "))
            },
        );
        db.close().await;
    }
    let worst = r.worst;
    r.section(
        match worst {
            Exit::Done => "all well",
            Exit::Rejects => "usable, with warnings",
            Exit::Failed => "not ready: see the errors above",
        }
        .into(),
    );
    Ok(worst)
}
