//! The customers flow (SPEC §1.1): registered shop customers into the
//! Magazyn customer register.
//!
//! extract   shop → `shop_customers` (a faithful copy; never a password)
//! transform `shop_customers` → `customers` (codes, NIP, postcodes, ISO country)
//! load      `customers` → Magazyn: link, or match code → NIP → name → e-mail
//!           (each step: none → next, one → match, several → reject), then
//!           update only what differs or insert; one transaction per batch
//!           with its ledger entry.

use super::extract::ExtractRun;
use super::load::{Change, LoadOutcome, Note};
use super::{Counts, Flow, Stepped};
use crate::config::{Config, NipSource};
use crate::error::{Error, Result};
use crate::magazyn::{CustomerRow, Magazyn, MatchStep};
use crate::polish;
use crate::staging::entities::{CUSTOMERS, Customer, SHOP_CUSTOMERS, SHOP_DELETED, ShopCustomer};
use crate::staging::records::Records;
use crate::staging::{Batch, BatchMeta, BatchWriter, Record, Stage};

const FLOW: Flow = Flow::Customers;

// ---------------------------------------------------------------- extract

pub async fn extract(cfg: &Config, shop_id: &str, full: bool) -> Result<Stepped> {
    let mut x = ExtractRun::start(
        cfg,
        shop_id,
        FLOW,
        full,
        "customers.max_id.sql",
        "customers_info.date_account_created/last_modified, customers_id",
    )
    .await?;
    let sql = x.sql("customers.extract.sql")?;
    let mut out = x.bw.records(&SHOP_CUSTOMERS)?;
    let e = &SHOP_CUSTOMERS;
    let mut rec = Vec::new();
    let mut last_id: Option<i64> = None;
    let mut screened = super::Screened::default();
    // The address book's edits touch no timestamp (address_book_process.php
    // updates address_book and customers, never customers_info): the whole
    // table is read, which is small, and a customer goes into the batch when
    // its content differs from what was acknowledged (state::Fingerprints).
    let full = x.watermark.full;
    let (mut seen, scan) = x.by_content()?;
    x.db.for_each(&sql, &scan, &x.codec, |r| {
        let id = r.int("customers_id")?.unwrap_or(0);
        if last_id == Some(id) {
            return Ok(()); // deduplicate on the key
        }
        last_id = Some(id);
        ShopCustomer {
            customers_id: id,
            gender: r.text_or_empty("gender")?,
            firstname: r.text_or_empty("firstname")?,
            lastname: r.text_or_empty("lastname")?,
            email: r.text_or_empty("email")?,
            telephone: r.text_or_empty("telephone")?,
            fax: r.text_or_empty("fax")?,
            company: r.text_or_empty("company")?,
            street: r.text_or_empty("street")?,
            suburb: r.text_or_empty("suburb")?,
            postcode: r.text_or_empty("postcode")?,
            city: r.text_or_empty("city")?,
            state: r.text_or_empty("state")?,
            country: r.text_or_empty("country")?,
            country_iso2: r.text_or_empty("country_iso2")?,
            nip: r.text_if_any("nip")?,
            created_at: r.datetime("created_at")?.unwrap_or_default(),
            modified_at: r.datetime("modified_at")?.unwrap_or_default(),
        }
        .write_into(&mut rec);
        if seen.changed(id, &rec)? || full {
            screened.take(e, &rec, &mut out)?;
        }
        Ok(())
    })
    .await?;
    x.bw.add(e, out.finish()?);
    x.end_scan(seen, e.name, "customers_id", "customer")?;
    let mut counts = screened.finish(e, &mut x.bw, "shop:customers")?;
    counts.warnings = x.bw.warned;
    let batch = x.finish().await?;
    Ok(Stepped { batch, counts })
}

// -------------------------------------------------------------- transform

/// A buyer's NIP by the shop's `nip_source`, one rule for customers and
/// for the buyer of an order: the template's NIP column if it has one, else
/// (by config) a NIP written in the company name. Where the NIP came from
/// the company name, or the name repeats it, it is taken out of the name:
/// "Firma Sp. z o.o., NIP 123-456-32-18" is the name "Firma Sp. z o.o." and
/// the NIP 1234563218. With `nip_source = "none"` names stay as written.
pub(super) struct BuyerNip {
    /// Digits only, `PL` dropped ("" for none).
    pub nip: String,
    /// The company name without the NIP ("" for a person).
    pub company: String,
    /// Why the NIP is doubtful: a Polish (or country-less) buyer whose NIP
    /// fails the checksum. It is loaded as written, and reported.
    pub checksum_warning: Option<String>,
}

impl BuyerNip {
    pub(super) fn of(source: NipSource, column: &str, company: &str, country: &str) -> BuyerNip {
        let (column, company) = (column.trim(), company.trim());
        let in_name = polish::locate_nip_in_text(company).map(|(n, _)| n);
        let raw = match source {
            NipSource::None => String::new(),
            NipSource::Column => column.to_string(),
            NipSource::ColumnOrCompany if column.is_empty() => in_name.clone().unwrap_or_default(),
            NipSource::ColumnOrCompany => column.to_string(),
        };
        let nip = polish::normalize_nip(&raw);
        let company = match in_name {
            Some(n) if !nip.is_empty() && n == nip => polish::strip_nip_from_text(company),
            _ => company.to_string(),
        };
        let checksum_warning = (!nip.is_empty()
            && (country == "PL" || country.is_empty())
            && !polish::nip_checksum_ok(&nip))
        .then(|| format!("NIP `{raw}` fails the checksum; loaded as written"));
        BuyerNip {
            nip,
            company,
            checksum_warning,
        }
    }
}

pub fn transform(cfg: &Config, input: &Batch) -> Result<Stepped> {
    super::expect(input, FLOW, Stage::Extracted, "transform")?;
    let m = &input.meta;
    let shop_id = &m.source.shop;
    let shop = cfg.shop(shop_id)?;
    let dirs = cfg.site();

    let meta = BatchMeta::derived(input, Stage::Transformed, cfg.format);
    let mut bw = BatchWriter::create(&dirs.work(), meta)?;
    let mut out = bw.records(&CUSTOMERS)?;

    let src = &SHOP_CUSTOMERS;
    let dst = &CUSTOMERS;
    let mut row = Vec::new();
    let mut counts = Counts::default();
    super::each_valid(
        input,
        &mut bw,
        &mut counts,
        |c: &ShopCustomer, rec, file, line, bw| {
            let id = c.customers_id;
            let company = c.company.trim();
            let country = c.country_iso2.trim().to_ascii_uppercase();
            let buyer = BuyerNip::of(shop.nip_source, &c.nip, company, &country);
            let person = format!("{} {}", c.firstname.trim(), c.lastname.trim())
                .trim()
                .to_string();
            let name = if buyer.company.is_empty() {
                person
            } else {
                buyer.company.clone()
            };
            if name.is_empty() {
                bw.reject(
                    src,
                    rec,
                    file,
                    line,
                    "lastname",
                    "empty_name",
                    "the customer has no name and no company",
                )?;
                return Ok(());
            }
            if let Some(msg) = &buyer.checksum_warning {
                bw.warn(
                    dst.name,
                    &format!("{shop_id}/{id}"),
                    "nip",
                    "nip_checksum",
                    msg,
                )?;
            }
            let raw_post = c.postcode.trim();
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
            let street = match c.suburb.trim() {
                "" => c.street.trim().to_string(),
                s => format!("{}, {s}", c.street.trim()),
            };
            Customer {
                shop: shop_id.clone(),
                shop_customer_id: id,
                code: format!("{}{id}", shop.customer_code_prefix),
                name,
                nip: buyer.nip,
                email: c.email.trim().to_string(),
                phone: c.telephone.trim().to_string(),
                street,
                postcode,
                city: c.city.trim().to_string(),
                country_code: country,
                is_company: !company.is_empty(),
                source_modified: match c.modified_at.trim() {
                    "" => c.created_at.trim().to_string(),
                    m => m.to_string(),
                },
            }
            .write_into(&mut row);
            if let Err(p) = dst.validate(&row) {
                bw.reject(src, rec, file, line, &p.field, p.code, &p.message)?;
                return Ok(());
            }
            out.write(&row)?;
            Ok(())
        },
    )?;
    bw.add(dst, out.finish()?);
    // Customers deleted in the shop travel on: the load retires their links.
    super::pass_on(input, &mut bw, &SHOP_DELETED)?;
    counts.rejected = bw.rejected;
    counts.warnings = bw.warned;
    let batch = bw.finish()?;
    Ok(Stepped { batch, counts })
}

// ------------------------------------------------------------------- load

pub async fn load(cfg: &Config, batch: &Batch, dry_run: bool) -> Result<LoadOutcome> {
    super::load::load_batch(cfg, batch, dry_run, FLOW, &CUSTOMERS, apply).await
}

async fn apply(mag: &mut Magazyn, batch: &Batch) -> Result<LoadOutcome> {
    mag.refresh_customer_keys()?;
    let mut records = Records::<Customer>::open(batch)?;
    let mut out = LoadOutcome::default();
    while let Some(c) = records.next_record()? {
        out.counts.records += 1;
        let opt = super::non_empty;
        let (shop, shop_id) = (&c.shop, c.shop_customer_id.to_string());
        let wanted = CustomerRow {
            code: c.code.clone(),
            name: c.name.clone(),
            nip: opt(&c.nip),
            email: opt(&c.email),
            phone: opt(&c.phone),
            street: opt(&c.street),
            postcode: opt(&c.postcode),
            city: opt(&c.city),
            country_code: opt(&c.country_code),
            is_company: c.is_company,
        };
        let key = format!("{shop}/{shop_id}");
        match upsert(mag, shop, &shop_id, &wanted, batch.id(), true)? {
            Upsert::Inserted(_) => {
                out.counts.inserted += 1;
                out.change(Change::Insert {
                    key: wanted.code.clone(),
                    what: wanted.name.clone(),
                });
            }
            Upsert::Updated(_, fields) => {
                out.counts.updated += 1;
                out.change(Change::Update { key, fields });
            }
            Upsert::Unchanged(_) => out.counts.unchanged += 1,
            Upsert::Weak { filled, kept, .. } => {
                if filled.is_empty() {
                    out.counts.unchanged += 1;
                } else {
                    out.counts.updated += 1;
                    out.change(Change::Update {
                        key: key.clone(),
                        fields: filled,
                    });
                }
                if !kept.is_empty() {
                    out.warnings.push(Note::new(
                        key,
                        "weak_match".into(),
                        format!(
                            "linked to Magazyn customer {} by name or e-mail alone: only its empty fields were filled; kept {}",
                            wanted.code,
                            kept.iter()
                                .map(|(f, mag, shop)| format!("{f} {mag:?} (shop: {shop:?})"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            Upsert::Ambiguous(code, message) => {
                out.counts.rejected += 1;
                out.rejects.push(Note::new(key, code, message));
            }
        }
    }
    let shop = batch.meta.source.shop.clone();
    super::retire_deleted(mag, batch, &shop, &["customer", WEAK_LINK], &mut out)?;
    Ok(out)
}

/// What [`upsert`] did with a shop customer.
pub enum Upsert {
    Inserted(i64),
    Updated(i64, Vec<(String, String, String)>),
    Unchanged(i64),
    /// Linked by name or e-mail alone (now or on an earlier run): such a
    /// match may be someone else of that name, so only the Magazyn record's
    /// empty fields are filled (`filled`); `kept` is what the shop would
    /// have overwritten (field, Magazyn value, shop value).
    Weak {
        id: i64,
        filled: Vec<(String, String, String)>,
        kept: Vec<(String, String, String)>,
    },
    /// (code, message): several Magazyn customers match; nothing was done.
    Ambiguous(String, String),
}

/// The link entity marking a customer linked by a weak match.
const WEAK_LINK: &str = "customer.weak";

/// A Magazyn customer found at the start of an upsert and gone before its end.
fn vanished(id: i64) -> Error {
    Error::Magazyn {
        what: "customers".into(),
        key: id.to_string(),
        message: format!("customer {id} vanished during the load"),
    }
}

/// Find the Magazyn customer of a shop customer (its link, else code → NIP
/// → name → e-mail), then update it where `update` and something differs,
/// or insert it; and remember the link. Used by the customers flow and, for
/// buyers the customers flow has not loaded yet, by the orders flow.
pub fn upsert(
    mag: &mut Magazyn,
    shop: &str,
    shop_id: &str,
    wanted: &CustomerRow,
    batch_id: &str,
    update: bool,
) -> Result<Upsert> {
    let found = find_customer(mag, shop, shop_id, wanted)?;
    let linked = matches!(found, Found::One(_, true) | Found::Weak(_, true));
    let result = match found {
        Found::Weak(id, linked) if !update => {
            if !linked {
                mag.link_put(shop, WEAK_LINK, shop_id, id, batch_id)?;
            }
            Upsert::Unchanged(id)
        }
        Found::Weak(id, linked) => {
            let current = mag.customer_get(id)?.ok_or_else(|| vanished(id))?;
            let fill = |c: &Option<String>, w: &Option<String>| match c {
                Some(v) if !v.trim().is_empty() => c.clone(),
                _ => w.clone(),
            };
            let merged = CustomerRow {
                code: current.code.clone(),
                name: current.name.clone(),
                nip: fill(&current.nip, &wanted.nip),
                email: fill(&current.email, &wanted.email),
                phone: fill(&current.phone, &wanted.phone),
                street: fill(&current.street, &wanted.street),
                postcode: fill(&current.postcode, &wanted.postcode),
                city: fill(&current.city, &wanted.city),
                country_code: fill(&current.country_code, &wanted.country_code),
                is_company: current.is_company,
            };
            let filled = diff(&current, &merged);
            let kept: Vec<_> = diff(&merged, wanted)
                .into_iter()
                .filter(|(_, _, shop)| !shop.is_empty())
                .collect();
            if !filled.is_empty() {
                mag.customer_update(id, &merged)?;
            }
            if !linked {
                mag.link_put(shop, WEAK_LINK, shop_id, id, batch_id)?;
            }
            Upsert::Weak { id, filled, kept }
        }
        Found::Ambiguous(step, ids) => {
            return Ok(Upsert::Ambiguous(
                format!("ambiguous_{}", step.as_str()),
                format!(
                    "{} Magazyn customers match by {} (ids {}): not guessing; merge them or link one by hand",
                    ids.len(),
                    step.as_str(),
                    ids.iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Found::One(id, _) if !update => Upsert::Unchanged(id),
        Found::One(id, _) => {
            let current = mag.customer_get(id)?.ok_or_else(|| vanished(id))?;
            let merged = CustomerRow {
                code: current.code.clone(), // a matched customer keeps its code
                nip: wanted.nip.clone().or(current.nip.clone()),
                ..wanted.clone()
            };
            if merged == current {
                Upsert::Unchanged(id)
            } else {
                mag.customer_update(id, &merged)?;
                Upsert::Updated(id, diff(&current, &merged))
            }
        }
        Found::None => Upsert::Inserted(mag.customer_insert(wanted)?),
    };
    let id = match &result {
        Upsert::Inserted(id)
        | Upsert::Updated(id, _)
        | Upsert::Unchanged(id)
        | Upsert::Weak { id, .. } => *id,
        Upsert::Ambiguous(..) => unreachable!("returned above"),
    };
    // A customer found by its live link keeps it as it is.
    if !linked {
        mag.link_put(shop, "customer", shop_id, id, batch_id)?;
    }
    Ok(result)
}

enum Found {
    None,
    /// By link (true), code or NIP.
    One(i64, bool),
    /// By name or e-mail alone, now or when the link was made (true: found
    /// by that link).
    Weak(i64, bool),
    Ambiguous(MatchStep, Vec<i64>),
}

/// The link from an earlier run, else the four matching steps in order.
fn find_customer(mag: &mut Magazyn, shop: &str, shop_id: &str, c: &CustomerRow) -> Result<Found> {
    if let Some((id, weak)) = mag.customer_link(shop, shop_id)? {
        return Ok(match weak {
            true => Found::Weak(id, true),
            false => Found::One(id, true),
        });
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
        let ids = mag.customer_candidates(step, &value, shop, shop_id)?;
        match ids.len() {
            0 => continue,
            1 if matches!(step, MatchStep::Name | MatchStep::Email) => {
                return Ok(Found::Weak(ids[0], false));
            }
            1 => return Ok(Found::One(ids[0], false)),
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
