//! The five flows. Each flow module reads top to bottom as
//! extract → transform → load; what they share (where batches go, channel
//! numbering, opening the two sides, counting) is here.

pub mod catalog;
pub mod customers;
pub mod extract;
pub mod load;
pub mod orders;
pub mod prices;
pub mod products;
pub mod sorted;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::magazyn::Magazyn;
use crate::shop::{ShopDb, TextCodec};
use crate::staging::batch::ChannelInfo;
use crate::staging::{Batch, BatchWriter, Record};
use crate::templates::Templates;

pub use crate::base::{Counts, Flow};

/// A batch a step wrote, and what it counted.
pub struct Stepped {
    pub batch: Batch,
    pub counts: Counts,
}

/// Extract one flow of one shop into an extracted batch in the outbox.
pub async fn extract(cfg: &Config, flow: Flow, shop: &str, full: bool) -> Result<Stepped> {
    match flow {
        Flow::Customers => customers::extract(cfg, shop, full).await,
        Flow::Orders => orders::extract(cfg, shop, full).await,
        // Stock has no timestamp: the products flow always reads every good
        // and the transform compares values.
        Flow::Products => products::extract(cfg, shop),
        Flow::Prices => prices::extract(cfg, shop).await,
        Flow::Catalog => catalog::extract(cfg, shop, Flow::Catalog, full).await,
    }
}

/// Transform an extracted batch (of whichever flow it is).
pub async fn transform(cfg: &Config, batch: &Batch) -> Result<Stepped> {
    match batch.meta.flow {
        Flow::Customers => customers::transform(cfg, batch),
        Flow::Orders => orders::transform(cfg, batch),
        Flow::Products => products::transform(cfg, batch).await,
        Flow::Prices => prices::transform(cfg, batch),
        Flow::Catalog => catalog::transform(cfg, batch),
    }
}

/// Load a transformed batch into its target.
pub async fn load(cfg: &Config, batch: &Batch, dry_run: bool) -> Result<load::LoadOutcome> {
    match batch.meta.flow {
        Flow::Customers => customers::load(cfg, batch, dry_run).await,
        Flow::Orders => orders::load(cfg, batch, dry_run).await,
        Flow::Products => products::load(cfg, batch, dry_run).await,
        Flow::Prices => prices::load(cfg, batch, dry_run).await,
        Flow::Catalog => catalog::load(cfg, batch, dry_run).await,
    }
}

/// A staging text as an optional database value: "" is none.
pub fn non_empty(v: &str) -> Option<String> {
    Some(v).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Refuse a batch of another flow or stage than a step takes.
pub fn expect(batch: &Batch, flow: Flow, stage: crate::staging::Stage, step: &str) -> Result<()> {
    let m = &batch.meta;
    if m.flow != flow || m.stage != stage {
        return Err(Error::batch(
            batch.id(),
            format!(
                "is a {} {} batch; {step} takes a{} {} {} batch here",
                m.stage.as_str(),
                m.flow,
                if stage.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "n"
                } else {
                    ""
                },
                stage.as_str(),
                flow.as_str()
            ),
        ));
    }
    Ok(())
}

/// Every record of `T`'s entity in `input` that reads and validates, read
/// into one reused `T` and handed to `f` with its text (for a reject) and
/// line; the others go to the rejects file of `bw` with the reason. Counts
/// every record read in `counts.records`.
pub fn each_valid<T, F>(
    input: &Batch,
    bw: &mut BatchWriter,
    counts: &mut Counts,
    mut f: F,
) -> Result<()>
where
    T: Record,
    F: FnMut(&T, &[String], &str, u64, &mut BatchWriter) -> Result<()>,
{
    let entity = T::ENTITY;
    let (mut reader, file) = input.reader(entity)?;
    let mut rec = Vec::new();
    let mut typed = T::default();
    while let Some(item) = reader.next(&mut rec)? {
        counts.records += 1;
        match item {
            crate::staging::Item::Invalid {
                line,
                field,
                code,
                message,
            } => {
                bw.reject(entity, &rec, &file, line, &field, code, &message)?;
            }
            crate::staging::Item::Record(line) => {
                match entity.validate(&rec).and_then(|()| typed.read_into(&rec)) {
                    Err(p) => bw.reject(entity, &rec, &file, line, &p.field, p.code, &p.message)?,
                    Ok(()) => f(&typed, &rec, &file, line, bw)?,
                }
            }
        }
    }
    Ok(())
}

/// Records read from a source during an extract: valid ones are written,
/// invalid ones set aside and put in the rejects file once the payload file
/// is finished (a batch writer writes one file at a time).
#[derive(Default)]
pub struct Screened {
    read: u64,
    invalid: Vec<(Vec<String>, crate::staging::FieldProblem)>,
}

impl Screened {
    pub fn take(
        &mut self,
        e: &crate::staging::Entity,
        rec: &[String],
        out: &mut crate::staging::RecordWriter,
    ) -> Result<()> {
        match self.admit(e, rec) {
            true => out.write(rec),
            false => Ok(()),
        }
    }

    /// Write `rec`, checked by the caller already.
    pub fn pass(&mut self, rec: &[String], out: &mut crate::staging::RecordWriter) -> Result<()> {
        self.read += 1;
        out.write(rec)
    }

    /// Set `rec` aside for the rejects, with the problem found in it.
    pub fn set_aside(&mut self, rec: &[String], p: crate::staging::FieldProblem) {
        self.read += 1;
        self.invalid.push((rec.to_vec(), p));
    }

    /// Whether `rec` is valid; an invalid one is set aside for the rejects.
    pub fn admit(&mut self, e: &crate::staging::Entity, rec: &[String]) -> bool {
        self.read += 1;
        match e.validate(rec) {
            Ok(()) => true,
            Err(p) => {
                self.invalid.push((rec.to_vec(), p));
                false
            }
        }
    }

    /// Reject what was set aside (`source` names where it came from) and
    /// count: records = the valid ones, rejected = the others.
    pub fn finish(
        self,
        e: &'static crate::staging::Entity,
        bw: &mut BatchWriter,
        source: &str,
    ) -> Result<Counts> {
        for (rec, p) in &self.invalid {
            bw.reject(e, rec, source, 0, &p.field, p.code, &p.message)?;
        }
        Ok(Counts {
            records: self.read - self.invalid.len() as u64,
            rejected: self.invalid.len() as u64,
            ..Counts::default()
        })
    }
}

/// Copy an entity of the input batch into the transformed one unchanged
/// (what the load needs of the shop as it was: order ids, deletions).
pub fn pass_on(
    input: &Batch,
    bw: &mut BatchWriter,
    e: &'static crate::staging::Entity,
) -> Result<()> {
    if input.file_of(e).is_none() {
        return Ok(());
    }
    let (mut reader, _) = input.reader(e)?;
    let mut w = crate::staging::RecordWriter::create(
        &bw.scratch(&format!("data/{}.csv", e.file)),
        e,
        crate::staging::Format::Csv,
    )?;
    let mut rec = Vec::new();
    while let Some(item) = reader.next(&mut rec)? {
        if matches!(item, crate::staging::Item::Record(_)) {
            w.write(&rec)?;
        }
    }
    bw.add(e, w.finish()?);
    Ok(())
}

/// The load's end for records deleted in the shop (`shop_deleted`): their
/// links retired, each reported as a change.
pub fn retire_deleted(
    mag: &mut Magazyn,
    batch: &Batch,
    shop: &str,
    entities: &[&str],
    out: &mut load::LoadOutcome,
) -> Result<()> {
    let e = &crate::staging::entities::SHOP_DELETED;
    if batch.file_of(e).is_none() {
        return Ok(());
    }
    let (mut reader, _) = batch.reader(e)?;
    let mut rec = Vec::new();
    while let Some(item) = reader.next(&mut rec)? {
        if !matches!(item, crate::staging::Item::Record(_)) {
            continue;
        }
        let mut retired = false;
        for entity in entities {
            retired |= mag.link_retire(shop, entity, &rec[0], batch.id())?;
        }
        if retired {
            out.change(load::Change::Update {
                key: format!("{shop}/{}", rec[0]),
                fields: vec![(
                    "link".into(),
                    "linked".into(),
                    "retired (deleted in the shop)".into(),
                )],
            });
        }
    }
    Ok(())
}

/// A staging date-time moved back by the overlap.
pub fn minus_minutes(staging_ts: &str, minutes: u32) -> Option<String> {
    let t = crate::staging::schema::parse_datetime(staging_ts)?;
    Some(crate::staging::schema::format_datetime(
        &(t - chrono::Duration::minutes(i64::from(minutes))),
    ))
}

pub fn templates(cfg: &Config) -> Templates {
    Templates::new(cfg.templates.as_ref().map(|p| cfg.resolve(p)))
}

/// The channel a flow's extracted batches travel on from this site: to
/// the Magazyn's site for shop → Magazyn flows, to the shop's site for
/// products (`<from>-to-<to>`; the same site when both are here).
pub fn channel_for(cfg: &Config, flow: Flow, shop_id: &str) -> String {
    let peer = if flow.to_magazyn() {
        cfg.magazyn.as_ref().and_then(|m| m.site.clone())
    } else {
        cfg.shops.get(shop_id).and_then(|s| s.site.clone())
    };
    format!(
        "{}-to-{}",
        cfg.site,
        peer.unwrap_or_else(|| cfg.site.clone())
    )
}

/// Number a batch on its channel and chain it to the previous one, seal it,
/// then record the channel's new head.
pub fn finish_on_channel(cfg: &Config, mut w: BatchWriter, channel: &str) -> Result<Batch> {
    let st = cfg.site().state();
    // Read, number, seal and record under the channel's lock (released when
    // `_held` goes, also if this process dies).
    let _held = st.lock_channel(channel)?;
    let mut ch = st.channel(channel)?;
    w.meta_mut().channel = Some(ChannelInfo {
        name: channel.to_string(),
        sequence: ch.last_sequence + 1,
        previous_tagmanifest_sha256: ch.last_tagmanifest_sha256.clone(),
    });
    let batch = w.finish()?;
    ch.last_sequence += 1;
    ch.last_tagmanifest_sha256 = Some(batch.tag_sha256.clone());
    ch.last_batch = Some(batch.meta.batch_id.clone());
    st.set_channel(channel, &ch)?;
    Ok(batch)
}

pub fn open_magazyn(cfg: &Config) -> Result<Magazyn> {
    let m = cfg.magazyn()?;
    let url = m.url.as_deref().ok_or_else(|| Error::Config {
        path: cfg.path.clone(),
        message: "[magazyn] has no url: this site cannot reach the Magazyn".into(),
    })?;
    let url = resolve_sqlite_url(cfg, url);
    let password = crate::config::password(&m.password_env, &m.password_file, cfg, "magazyn")?;
    let mut mag = Magazyn::open(&url, password.as_deref(), m.create, templates(cfg))?;
    mag.set_lock_wait(m.lock_wait)?;
    if mag.created {
        let warehouses: Vec<String> = cfg.shops.values().map(|s| s.warehouse.clone()).collect();
        let lists: Vec<String> = cfg
            .shops
            .values()
            .flat_map(|s| [s.price_list.clone(), s.import_price_list.clone()])
            .collect();
        mag.seed(&warehouses, &lists)?;
    }
    Ok(mag)
}

/// `sqlite://rel/path` is relative to the config file, not the working directory.
pub fn resolve_sqlite_url(cfg: &Config, url: &str) -> String {
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let (path, query) = rest.split_at(rest.find('?').unwrap_or(rest.len()));
        if !path.starts_with('/') && !path.is_empty() && path != ":memory:" {
            return format!("sqlite://{}{query}", cfg.base_dir().join(path).display());
        }
    }
    url.to_string()
}

pub async fn connect_shop(cfg: &Config, shop_id: &str) -> Result<(ShopDb, TextCodec)> {
    let shop = cfg.shop(shop_id)?;
    let url = shop.url.as_deref().ok_or_else(|| Error::Config {
        path: cfg.path.clone(),
        message: format!("shops.{shop_id} has no url: this site cannot reach that shop"),
    })?;
    let pw = crate::config::password(
        &shop.password_env,
        &shop.password_file,
        cfg,
        &format!("shops.{shop_id}"),
    )?;
    let url = resolve_sqlite_url(cfg, url);
    let mut db = ShopDb::connect(&url, pw.as_deref(), &format!("shop {shop_id}")).await?;
    let encoding = match shop.encoding {
        crate::config::Encoding::Auto => {
            let d = detect_encoding(cfg, shop_id, &mut db).await?;
            tracing::info!(
                "shop {shop_id}: text encoding {} ({})",
                d.encoding.as_str(),
                d.reason
            );
            d.encoding
        }
        e => e,
    };
    Ok((db, TextCodec::new(encoding)))
}

/// Detect how a shop stores text (`encoding = "auto"`): its text columns'
/// character sets and a sample of names, read as raw bytes.
pub async fn detect_encoding(
    cfg: &Config,
    shop_id: &str,
    db: &mut ShopDb,
) -> Result<crate::shop::detect::Detection> {
    let shop = cfg.shop(shop_id)?;
    let t = templates(cfg);
    let raw = TextCodec::new(crate::config::Encoding::Utf8);
    let mut latin1 = false;
    let sql = t.sql(&shop.profile, "encoding.columns.sql", db.dialect())?;
    db.for_each(&sql, &crate::templates::Params::new(), &raw, |r| {
        latin1 |= r.text_or_empty("charset")?.eq_ignore_ascii_case("latin1");
        Ok(())
    })
    .await?;
    let mut samples = Vec::new();
    let sql = t.sql(&shop.profile, "encoding.sample.sql", db.dialect())?;
    db.for_each(&sql, &crate::templates::Params::new(), &raw, |r| {
        if let Some(b) = r.bytes("v")? {
            samples.push(b);
        }
        Ok(())
    })
    .await?;
    Ok(crate::shop::detect::detect(&samples, latin1))
}
