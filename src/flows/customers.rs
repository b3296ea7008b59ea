//! The customers flow (SPEC §1.1): registered shop customers into the
//! Magazyn customer register.
//!
//! extract   shop → `shop_customers` (a faithful copy; never a password)
//! transform `shop_customers` → `customers` (codes, NIP, postcodes, ISO country)
//! load      `customers` → Magazyn: link, or match code → NIP → name → e-mail
//!           (each step: none → next, one → match, several → reject), then
//!           update only what differs or insert; one transaction per batch
//!           with its ledger entry.

use super::{Counts, Dirs, Flow};
use crate::config::{Config, NipSource};
use crate::error::{Error, Result};
use crate::magazyn::{CustomerRow, Magazyn, MatchStep};
use crate::polish;
use crate::staging::batch::Watermark;
use crate::staging::entities::{CUSTOMERS, LOAD_COUNTS, SHOP_CUSTOMERS};
use crate::staging::{Batch, BatchMeta, BatchWriter, Item, Source, Stage};
use crate::templates::Params;

const FLOW: Flow = Flow::Customers;

// ---------------------------------------------------------------- extract

pub struct Extracted {
    pub batch: Batch,
    pub counts: Counts,
}

pub async fn extract(cfg: &Config, shop_id: &str, full: bool) -> Result<Extracted> {
    let shop = cfg.shop(shop_id)?;
    let dirs = Dirs::new(cfg);
    let templates = super::templates(cfg);
    let (mut db, codec) = super::connect_shop(cfg, shop_id).await?;
    let dialect = db.dialect();

    // The signpost: the shop's clock and highest id, read before the extract.
    let mut now = None;
    db.for_each(
        &templates.sql(&shop.profile, "clock.sql", dialect)?,
        &Params::new(),
        &codec,
        |r| {
            now = r.datetime("now")?;
            Ok(())
        },
    )
    .await?;
    let mut max_id = 0;
    db.for_each(
        &templates.sql(&shop.profile, "customers.max_id.sql", dialect)?,
        &Params::new(),
        &codec,
        |r| {
            max_id = r.int("max_id")?.unwrap_or(0);
            Ok(())
        },
    )
    .await?;

    let ack = dirs.state().flow(shop_id, FLOW.as_str())?.acknowledged;
    let full = full || ack.as_ref().and_then(|a| a.to.as_ref()).is_none();
    let since = match (&ack, full) {
        (Some(a), false) => {
            a.to.as_deref()
                .and_then(|to| minus_minutes(to, shop.overlap_minutes))
        }
        _ => None,
    };
    let after_id = if full {
        0
    } else {
        ack.as_ref().and_then(|a| a.max_id).unwrap_or(0)
    };
    let watermark = Watermark {
        column: "customers_info.date_account_created/last_modified, customers_id".into(),
        from: since.clone(),
        to: now.clone(),
        after_id: (!full).then_some(after_id),
        max_id: Some(max_id),
        full,
    };

    let mut meta = BatchMeta::new(
        FLOW.as_str(),
        Stage::Extracted,
        cfg.format,
        Source {
            site: cfg.site.clone(),
            shop: shop_id.to_string(),
            system: "oscommerce".into(),
            profile: shop.profile.clone(),
            encoding: Some(codec.encoding().as_str().to_string()),
        },
    );
    meta.watermark = Some(watermark.clone());
    let mut bw = BatchWriter::create(&dirs.outbox(), meta)?;
    let mut out = bw.records(&SHOP_CUSTOMERS)?;
    let sql = templates.sql(&shop.profile, "customers.extract.sql", dialect)?;
    let params = Params::new()
        .set("full", full)
        .set(
            "since",
            since
                .map(|s| s.replace('T', " "))
                .unwrap_or_else(|| "1970-01-01 00:00:00".into()),
        )
        .set("after_id", after_id)
        .set("language_id", shop.language_id);

    let e = &SHOP_CUSTOMERS;
    let mut rec = e.empty_record();
    let mut last_id: Option<i64> = None;
    let mut counts = Counts::default();
    let mut invalid: Vec<(Vec<String>, crate::staging::FieldProblem)> = Vec::new();
    db.for_each(&sql, &params, &codec, |r| {
        let id = r.int("customers_id")?.unwrap_or(0);
        if last_id == Some(id) {
            return Ok(()); // deduplicate on the key
        }
        last_id = Some(id);
        rec[e.col("customers_id")] = id.to_string();
        for (col, src) in [
            ("gender", "gender"),
            ("firstname", "firstname"),
            ("lastname", "lastname"),
            ("email", "email"),
            ("telephone", "telephone"),
            ("fax", "fax"),
            ("company", "company"),
            ("street", "street"),
            ("suburb", "suburb"),
            ("postcode", "postcode"),
            ("city", "city"),
            ("state", "state"),
            ("country", "country"),
            ("country_iso2", "country_iso2"),
        ] {
            rec[e.col(col)] = r.text_or_empty(src)?;
        }
        rec[e.col("nip")] = if r.has("nip") {
            r.text_or_empty("nip")?
        } else {
            String::new()
        };
        rec[e.col("created_at")] = r.datetime("created_at")?.unwrap_or_default();
        rec[e.col("modified_at")] = r.datetime("modified_at")?.unwrap_or_default();
        counts.records += 1;
        match e.validate(&rec) {
            Ok(()) => out.write(&rec),
            Err(p) => {
                invalid.push((rec.clone(), p));
                Ok(())
            }
        }
    })
    .await?;
    db.close().await;
    bw.add(e, out.finish()?);
    for (rec, p) in invalid {
        bw.reject(e, &rec, "shop:customers", 0, &p.field, p.code, &p.message)?;
    }
    counts.rejected = bw.rejected;
    counts.records -= counts.rejected;
    let channel = super::channel_for(cfg, FLOW);
    let batch = super::finish_on_channel(cfg, bw, &channel)?;
    dirs.state()
        .record_extracted(shop_id, FLOW.as_str(), batch.id(), &watermark)?;
    Ok(Extracted { batch, counts })
}

fn minus_minutes(staging_ts: &str, minutes: u32) -> Option<String> {
    let t = crate::staging::schema::parse_datetime(staging_ts)?;
    Some(crate::staging::schema::format_datetime(
        &(t - chrono::Duration::minutes(i64::from(minutes))),
    ))
}

// -------------------------------------------------------------- transform

pub struct Transformed {
    pub batch: Batch,
    pub counts: Counts,
}

pub fn transform(cfg: &Config, input: &Batch) -> Result<Transformed> {
    let m = &input.meta;
    if m.flow != FLOW.as_str() || m.stage != Stage::Extracted {
        return Err(Error::batch(
            input.id(),
            format!(
                "is a {} {} batch; transform takes an extracted customers batch here",
                m.stage.as_str(),
                m.flow
            ),
        ));
    }
    let shop_id = &m.source.shop;
    let shop = cfg.shop(shop_id)?;
    let dirs = Dirs::new(cfg);

    let mut meta = BatchMeta::new(
        FLOW.as_str(),
        Stage::Transformed,
        cfg.format,
        m.source.clone(),
    );
    meta.parent = Some(m.batch_id.clone());
    meta.parent_tagmanifest_sha256 = Some(input.tag_sha256.clone());
    meta.watermark = m.watermark.clone();
    meta.channel = m.channel.clone();
    let mut bw = BatchWriter::create(&dirs.work(), meta)?;
    let mut out = bw.records(&CUSTOMERS)?;

    let (mut reader, file) = input.reader(&SHOP_CUSTOMERS)?;
    let src = &SHOP_CUSTOMERS;
    let dst = &CUSTOMERS;
    let mut rec = Vec::new();
    let mut row = dst.empty_record();
    let mut counts = Counts::default();
    while let Some(item) = reader.next(&mut rec)? {
        counts.records += 1;
        let line = match item {
            Item::Record(line) => line,
            Item::Invalid {
                line,
                field,
                code,
                message,
            } => {
                bw.reject(src, &rec, &file, line, &field, code, &message)?;
                continue;
            }
        };
        if let Err(p) = src.validate(&rec) {
            bw.reject(src, &rec, &file, line, &p.field, p.code, &p.message)?;
            continue;
        }
        let get = |c: &str| rec[src.col(c)].trim();
        let id = get("customers_id");
        let company = get("company");
        let person = format!("{} {}", get("firstname"), get("lastname"))
            .trim()
            .to_string();
        let name = if company.is_empty() {
            person
        } else {
            company.to_string()
        };
        if name.is_empty() {
            bw.reject(
                src,
                &rec,
                &file,
                line,
                "lastname",
                "empty_name",
                "the customer has no name and no company",
            )?;
            continue;
        }
        // NIP: a template column if there is one, else (by config) one
        // written in the company name.
        let raw_nip = match shop.nip_source {
            NipSource::None => String::new(),
            NipSource::Column => get("nip").to_string(),
            NipSource::ColumnOrCompany => {
                if get("nip").is_empty() {
                    polish::find_nip_in_text(company).unwrap_or_default()
                } else {
                    get("nip").to_string()
                }
            }
        };
        let nip = polish::normalize_nip(&raw_nip);
        let country = get("country_iso2").to_ascii_uppercase();
        if !nip.is_empty()
            && (country == "PL" || country.is_empty())
            && !polish::nip_checksum_ok(&nip)
        {
            bw.warn(
                dst.name,
                &format!("{shop_id}/{id}"),
                "nip",
                "nip_checksum",
                &format!("NIP `{raw_nip}` fails the checksum; loaded as written"),
            )?;
        }
        let raw_post = get("postcode");
        let postcode = if country == "PL" || country.is_empty() {
            match polish::normalize_pl_postcode(raw_post) {
                Some(p) => p,
                None => {
                    if !raw_post.is_empty() {
                        bw.warn(
                            dst.name,
                            &format!("{shop_id}/{id}"),
                            "postcode",
                            "postcode_format",
                            &format!(
                                "`{raw_post}` is not a Polish postcode dd-ddd; kept as written"
                            ),
                        )?;
                    }
                    raw_post.to_string()
                }
            }
        } else {
            raw_post.to_string()
        };
        if country.is_empty() {
            bw.warn(
                dst.name,
                &format!("{shop_id}/{id}"),
                "country_code",
                "no_country",
                "the customer's address has no country",
            )?;
        }
        let street = match get("suburb") {
            "" => get("street").to_string(),
            s => format!("{}, {s}", get("street")),
        };
        row.iter_mut().for_each(String::clear);
        row[dst.col("shop")] = shop_id.clone();
        row[dst.col("shop_customer_id")] = id.to_string();
        row[dst.col("code")] = format!("{}{id}", shop.customer_code_prefix);
        row[dst.col("name")] = name;
        row[dst.col("nip")] = nip;
        row[dst.col("email")] = get("email").to_string();
        row[dst.col("phone")] = get("telephone").to_string();
        row[dst.col("street")] = street;
        row[dst.col("postcode")] = postcode;
        row[dst.col("city")] = get("city").to_string();
        row[dst.col("country_code")] = country;
        row[dst.col("is_company")] = if company.is_empty() { "0" } else { "1" }.into();
        row[dst.col("source_modified")] = match get("modified_at") {
            "" => get("created_at").to_string(),
            m => m.to_string(),
        };
        if let Err(p) = dst.validate(&row) {
            bw.reject(src, &rec, &file, line, &p.field, p.code, &p.message)?;
            continue;
        }
        out.write(&row)?;
    }
    bw.add(dst, out.finish()?);
    counts.rejected = bw.rejected;
    counts.warnings = bw.warned;
    let batch = bw.finish()?;
    Ok(Transformed { batch, counts })
}

// ------------------------------------------------------------------- load

/// One change a load makes (or would make, in a dry run).
#[derive(Debug, Clone)]
pub enum Change {
    Insert {
        code: String,
        name: String,
    },
    Update {
        code: String,
        fields: Vec<(String, String, String)>,
    },
}

pub struct Loaded {
    pub counts: Counts,
    pub changes: Vec<Change>,
    /// (key, code, message) of records the Magazyn refused.
    pub rejects: Vec<(String, String, String)>,
    /// Set when the batch had been applied before (nothing was done).
    pub already_applied: Option<String>,
    pub receipt: Option<Batch>,
}

pub async fn load(cfg: &Config, batch: &Batch, dry_run: bool) -> Result<Loaded> {
    let m = &batch.meta;
    if m.flow != FLOW.as_str() || m.stage != Stage::Transformed {
        return Err(Error::batch(
            batch.id(),
            format!(
                "is a {} {} batch; load takes a transformed customers batch",
                m.stage.as_str(),
                m.flow
            ),
        ));
    }
    batch.verify_rows()?;
    let mut mag = super::open_magazyn(cfg).await?;
    if let Some(prev) = mag.ledger_get(batch.id()).await? {
        mag.close().await;
        if prev.tag_sha256 != batch.tag_sha256 {
            return Err(Error::batch(
                batch.id(),
                format!(
                    "a batch of this name with different content was applied at {} (ledger hash {}, this batch {}): refusing to apply it",
                    prev.applied_at, prev.tag_sha256, batch.tag_sha256
                ),
            ));
        }
        let counts = Counts {
            records: prev.records as u64,
            unchanged: prev.records as u64 - prev.rejected as u64,
            rejected: prev.rejected as u64,
            ..Counts::default()
        };
        return Ok(Loaded {
            counts,
            changes: vec![],
            rejects: vec![],
            already_applied: Some(prev.applied_at),
            receipt: None,
        });
    }

    mag.begin().await?;
    let result = apply(&mut mag, batch, dry_run).await;
    let mut loaded = match result {
        Ok(l) => l,
        Err(e) => {
            let _ = mag.rollback().await;
            return Err(e);
        }
    };
    if dry_run {
        mag.rollback().await?;
        mag.close().await;
        return Ok(loaded);
    }
    mag.ledger_put(batch, &loaded.counts).await?;
    mag.commit().await?;
    mag.close().await;

    // After the commit: the receipt, and the acknowledged watermark where
    // this site extracted the batch.
    loaded.receipt = Some(write_receipt(cfg, batch, &loaded)?);
    if m.source.site == cfg.site
        && let Some(w) = &m.watermark
    {
        Dirs::new(cfg).state().acknowledge(
            &m.source.shop,
            FLOW.as_str(),
            m.parent.as_deref().unwrap_or(batch.id()),
            w,
        )?;
    }
    Ok(loaded)
}

async fn apply(mag: &mut Magazyn, batch: &Batch, dry_run: bool) -> Result<Loaded> {
    let e = &CUSTOMERS;
    mag.refresh_customer_keys().await?;
    let (mut reader, _) = batch.reader(e)?;
    let mut rec = Vec::new();
    let mut counts = Counts::default();
    let mut changes = Vec::new();
    let mut rejects = Vec::new();
    while let Some(item) = reader.next(&mut rec)? {
        if !matches!(item, Item::Record(_)) {
            continue; // verify_rows has already refused such a batch
        }
        counts.records += 1;
        let get = |c: &str| rec[e.col(c)].clone();
        let opt = |c: &str| Some(rec[e.col(c)].clone()).filter(|s| !s.is_empty());
        let shop = get("shop");
        let shop_id = get("shop_customer_id");
        let wanted = CustomerRow {
            code: get("code"),
            name: get("name"),
            nip: opt("nip"),
            email: opt("email"),
            phone: opt("phone"),
            street: opt("street"),
            postcode: opt("postcode"),
            city: opt("city"),
            country_code: opt("country_code"),
            is_company: get("is_company") == "1",
        };
        let key = format!("{shop}/{shop_id}");
        let target = match find_customer(mag, &shop, &shop_id, &wanted).await? {
            Found::One(id) => Some(id),
            Found::None => None,
            Found::Ambiguous(step, ids) => {
                counts.rejected += 1;
                rejects.push((
                    key,
                    format!("ambiguous_{}", step.as_str()),
                    format!(
                        "{} Magazyn customers match by {} (ids {}): not guessing; merge them or link one by hand",
                        ids.len(),
                        step.as_str(),
                        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                    ),
                ));
                continue;
            }
        };
        let id = match target {
            Some(id) => {
                let current = mag.customer_get(id).await?.ok_or_else(|| {
                    Error::Other(format!("Magazyn customer {id} vanished during the load"))
                })?;
                let merged = CustomerRow {
                    code: current.code.clone(), // a matched customer keeps its code
                    nip: wanted.nip.clone().or(current.nip.clone()),
                    ..wanted.clone()
                };
                if merged == current {
                    counts.unchanged += 1;
                } else {
                    let fields = diff(&current, &merged);
                    mag.customer_update(id, &merged).await?;
                    counts.updated += 1;
                    changes.push(Change::Update {
                        code: current.code.clone(),
                        fields,
                    });
                }
                id
            }
            None => {
                let id = mag.customer_insert(&wanted).await?;
                counts.inserted += 1;
                changes.push(Change::Insert {
                    code: wanted.code.clone(),
                    name: wanted.name.clone(),
                });
                id
            }
        };
        mag.link_put(&shop, "customer", &shop_id, id, batch.id())
            .await?;
    }
    let _ = dry_run;
    Ok(Loaded {
        counts,
        changes,
        rejects,
        already_applied: None,
        receipt: None,
    })
}

enum Found {
    None,
    One(i64),
    Ambiguous(MatchStep, Vec<i64>),
}

/// The link from an earlier run, else the four matching steps in order.
async fn find_customer(
    mag: &mut Magazyn,
    shop: &str,
    shop_id: &str,
    c: &CustomerRow,
) -> Result<Found> {
    if let Some(id) = mag.link_get(shop, "customer", shop_id).await?
        && mag.customer_get(id).await?.is_some()
    {
        return Ok(Found::One(id));
    }
    for step in MatchStep::ORDER {
        let value = match step {
            MatchStep::Code => c.code.clone(),
            MatchStep::Nip => c
                .nip
                .as_deref()
                .map(polish::normalize_nip)
                .unwrap_or_default(),
            MatchStep::Name => polish::name_key(&c.name),
            MatchStep::Email => c
                .email
                .as_deref()
                .map(polish::email_key)
                .unwrap_or_default(),
        };
        if value.is_empty() {
            continue;
        }
        let ids = mag.customer_candidates(step, &value, shop, shop_id).await?;
        match ids.len() {
            0 => continue,
            1 => return Ok(Found::One(ids[0])),
            _ => return Ok(Found::Ambiguous(step, ids)),
        }
    }
    Ok(Found::None)
}

fn diff(old: &CustomerRow, new: &CustomerRow) -> Vec<(String, String, String)> {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let pairs = [
        ("name", old.name.clone(), new.name.clone()),
        ("nip", s(&old.nip), s(&new.nip)),
        ("email", s(&old.email), s(&new.email)),
        ("phone", s(&old.phone), s(&new.phone)),
        ("street", s(&old.street), s(&new.street)),
        ("postcode", s(&old.postcode), s(&new.postcode)),
        ("city", s(&old.city), s(&new.city)),
        ("country_code", s(&old.country_code), s(&new.country_code)),
        (
            "is_company",
            old.is_company.to_string(),
            new.is_company.to_string(),
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(f, a, b)| (f.to_string(), a, b))
        .collect()
}

/// A receipt batch: what the load did, and the records the Magazyn refused.
fn write_receipt(cfg: &Config, batch: &Batch, loaded: &Loaded) -> Result<Batch> {
    let dirs = Dirs::new(cfg);
    let mut source = batch.meta.source.clone();
    source.site = cfg.site.clone();
    source.system = "magazyn".into();
    source.profile = "magazyn".into();
    source.encoding = None;
    let mut meta = BatchMeta::new(
        FLOW.as_str(),
        Stage::Receipt,
        crate::staging::Format::Csv,
        source,
    );
    meta.parent = Some(batch.id().to_string());
    meta.parent_tagmanifest_sha256 = Some(batch.tag_sha256.clone());
    meta.channel = batch.meta.channel.clone();
    meta.watermark = batch.meta.watermark.clone();
    let mut bw = BatchWriter::create(&dirs.receipts(), meta)?;
    let mut w = bw.records(&LOAD_COUNTS)?;
    let c = &loaded.counts;
    let status = if c.rejected > 0 {
        "applied_with_rejects"
    } else {
        "applied"
    };
    w.write(&[
        batch.id().to_string(),
        CUSTOMERS.name.to_string(),
        status.to_string(),
        c.records.to_string(),
        c.inserted.to_string(),
        c.updated.to_string(),
        c.unchanged.to_string(),
        c.rejected.to_string(),
    ])?;
    bw.add(&LOAD_COUNTS, w.finish()?);
    if !loaded.rejects.is_empty() {
        // The refused records themselves, from the batch.
        let (mut reader, file) = batch.reader(&CUSTOMERS)?;
        let mut rec = Vec::new();
        while let Some(item) = reader.next(&mut rec)? {
            if let Item::Record(line) = item {
                let key = CUSTOMERS.key_of(&rec);
                if let Some((_, code, msg)) = loaded.rejects.iter().find(|(k, _, _)| *k == key) {
                    bw.reject(&CUSTOMERS, &rec, &file, line, "", code, msg)?;
                }
            }
        }
    }
    bw.finish()
}
