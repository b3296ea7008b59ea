//! What every load shares: the ledger check (a batch applied before is not
//! applied again; the same name with other content is refused), one
//! transaction per batch together with its ledger entry, dry runs rolled
//! back, the receipt batch, and the acknowledged watermark.

use super::{Counts, Flow};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::magazyn::Magazyn;
use crate::staging::entities::LOAD_COUNTS;
use crate::staging::{Batch, BatchMeta, BatchWriter, Entity, Item, Stage};

/// How many times a load meets a lock conflict before it gives up.
const LOCK_ATTEMPTS: u64 = 3;

/// How many changes a load keeps to show (`--dry-run`).
pub const CHANGES_KEPT: usize = 1000;

impl LoadOutcome {
    /// Whether the next change is kept (only the first [`CHANGES_KEPT`]
    /// are): what it says need not be written otherwise.
    pub fn keeps_changes(&self) -> bool {
        self.changes.len() < CHANGES_KEPT
    }

    pub fn change(&mut self, c: Change) {
        if self.keeps_changes() {
            self.changes.push(c);
        } else {
            self.changes_not_kept += 1;
        }
    }
}

/// One change a load makes (or would make, in a dry run).
#[derive(Debug, Clone)]
pub enum Change {
    Insert {
        key: String,
        what: String,
    },
    Update {
        key: String,
        fields: Vec<(String, String, String)>,
    },
}

pub use crate::base::Note;

#[derive(Debug, Default)]
pub struct LoadOutcome {
    pub counts: Counts,
    /// The first [`CHANGES_KEPT`] changes (a dry run prints them); the
    /// rest are only counted, so a million-order load stays small.
    pub changes: Vec<Change>,
    pub changes_not_kept: u64,
    pub rejects: Vec<Note>,
    pub warnings: Vec<Note>,
    /// Set when the batch had been applied before (nothing was done).
    pub already_applied: Option<String>,
    pub receipt: Option<Batch>,
}

/// Load a transformed batch of `flow` whose records are `entity`, with
/// `apply` doing the flow's work inside the transaction.
pub async fn load_batch<F>(
    cfg: &Config,
    batch: &Batch,
    dry_run: bool,
    flow: Flow,
    entity: &'static Entity,
    mut apply: F,
) -> Result<LoadOutcome>
where
    F: AsyncFnMut(&mut Magazyn, &Batch) -> Result<LoadOutcome>,
{
    let m = &batch.meta;
    super::expect(batch, flow, Stage::Transformed, "load")?;
    let mut rows = RowCheck::start(batch);
    let mut mag = super::open_magazyn(cfg)?;
    if let Some(prev) = mag.ledger_get(batch.id())? {
        mag.close();
        rows.wait()?;
        if prev.tag_sha256 != batch.tag_sha256 {
            return Err(Error::batch(
                batch.id(),
                format!(
                    "a batch of this name with different content was applied at {} (ledger hash {}, this batch {}): refusing to apply it",
                    prev.applied_at, prev.tag_sha256, batch.tag_sha256
                ),
            ));
        }
        return Ok(LoadOutcome {
            counts: Counts {
                records: prev.records as u64,
                unchanged: (prev.records - prev.rejected) as u64,
                rejected: prev.rejected as u64,
                ..Counts::default()
            },
            already_applied: Some(prev.applied_at),
            ..LoadOutcome::default()
        });
    }

    // Another program holding a row (Firebird) or the file (SQLite, past
    // its busy timeout): the whole transaction is tried again, a bounded
    // number of times, then the conflict is reported.
    let mut attempt = 1;
    let mut out = loop {
        let attempt_result = match mag.begin() {
            // What the backend queued is written inside the attempt: a lock
            // conflict there is retried like any other, and a dry run meets
            // the same errors a real load would.
            Ok(()) => match apply(&mut mag, batch).await {
                Ok(o) => mag.flush().map(|()| o),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match attempt_result {
            Ok(o) => break o,
            Err(e) => {
                let _ = mag.rollback();
                // A batch whose rows do not verify says so first: that is
                // why the load failed, if it did.
                rows.wait()?;
                if !e.is_lock_conflict() {
                    return Err(e);
                }
                if attempt == LOCK_ATTEMPTS {
                    return Err(Error::batch(
                        batch.id(),
                        format!(
                            "gave up after {LOCK_ATTEMPTS} attempts: another program holds data this load changes ({e}); nothing was applied, run the load again later"
                        ),
                    ));
                }
                tracing::warn!(
                    "{}: {e}; trying again (attempt {})",
                    batch.id(),
                    attempt + 1
                );
                std::thread::sleep(std::time::Duration::from_secs(attempt));
                attempt += 1;
            }
        }
    };
    out.counts.warnings = out.warnings.len() as u64;
    if let Err(e) = rows.wait() {
        let _ = mag.rollback();
        return Err(e);
    }
    if dry_run {
        mag.rollback()?;
        mag.close();
        return Ok(out);
    }
    mag.ledger_put(batch, &out.counts)?;
    mag.commit()?;
    mag.close();

    // After the commit: the receipt, and the acknowledged watermark where
    // this site extracted the batch.
    out.receipt = Some(write_receipt(cfg, batch, entity, &out, &[])?);
    if m.source.site == cfg.site
        && let Some(w) = &m.watermark
    {
        cfg.site().state().acknowledge(
            &m.source.shop,
            flow.as_str(),
            m.parent.as_deref().unwrap_or(batch.id()),
            w,
        )?;
    }
    Ok(out)
}

/// `Batch::verify_rows` (every record valid, every file's rows as the
/// manifest counts them) on a second thread while the load works in its
/// transaction: it reads the files the load reads once more, which on one
/// thread cost a tenth of a large load. Nothing commits before the check
/// has passed; where it fails, the load is rolled back and its error is
/// the one reported.
struct RowCheck {
    handle: Option<std::thread::JoinHandle<Result<u64>>>,
    batch: String,
}

impl RowCheck {
    fn start(batch: &Batch) -> RowCheck {
        let b = batch.clone();
        RowCheck {
            handle: Some(std::thread::spawn(move || b.verify_rows())),
            batch: batch.id().to_string(),
        }
    }

    /// The check's outcome (waiting for it); `Ok` once it has passed.
    fn wait(&mut self) -> Result<()> {
        match self.handle.take() {
            None => Ok(()),
            Some(h) => match h.join() {
                Ok(r) => r.map(|_| ()),
                Err(_) => Err(Error::batch(
                    &self.batch,
                    "the check of the batch's rows stopped unexpectedly: nothing was applied",
                )),
            },
        }
    }
}

/// A receipt batch: what the load did, the records the target refused
/// (with the reason) and the warnings. For a batch that came from another
/// site the receipt goes into the outbox on the return channel, naming the
/// batch it acknowledges; for a local one it stays in `receipts/`.
pub fn write_receipt(
    cfg: &Config,
    batch: &Batch,
    entity: &'static Entity,
    out: &LoadOutcome,
    extra: &[(&str, String)],
) -> Result<Batch> {
    let dirs = cfg.site();
    let remote = batch.meta.source.site != cfg.site;
    let mut meta = BatchMeta::derived(batch, Stage::Receipt, crate::staging::Format::Csv);
    meta.source.site = cfg.site.clone();
    meta.source.encoding = None;
    // What was written: the Magazyn, or (products) the shop.
    if batch.meta.flow == Flow::Products {
        meta.source.system = "oscommerce".into();
        meta.source.profile = cfg
            .shop(&batch.meta.source.shop)
            .map_or_else(|_| "oscommerce-2.3".into(), |s| s.profile.clone());
    } else {
        meta.source.system = "magazyn".into();
        meta.source.profile = "magazyn".into();
    }
    if let Some(ch) = &batch.meta.channel {
        let s = &mut meta.settings;
        s.insert("acknowledges_channel".into(), ch.name.clone());
        s.insert("acknowledges_sequence".into(), ch.sequence.to_string());
        if let (Some(p), Some(h)) = (&batch.meta.parent, &batch.meta.parent_tagmanifest_sha256) {
            s.insert("acknowledges_batch".into(), p.clone());
            s.insert("acknowledges_sha256".into(), h.clone());
        }
    }
    for (k, v) in extra {
        meta.settings.insert((*k).to_string(), v.clone());
    }
    meta.channel = None;
    let mut bw = BatchWriter::create(
        if remote {
            dirs.outbox()
        } else {
            dirs.receipts()
        }
        .as_path(),
        meta,
    )?;
    let mut w = bw.records(&LOAD_COUNTS)?;
    let c = &out.counts;
    let status = if c.rejected > 0 {
        "applied_with_rejects"
    } else {
        "applied"
    };
    w.write(&[
        batch.id().to_string(),
        entity.name.to_string(),
        status.to_string(),
        c.records.to_string(),
        c.inserted.to_string(),
        c.updated.to_string(),
        c.unchanged.to_string(),
        c.rejected.to_string(),
    ])?;
    bw.add(&LOAD_COUNTS, w.finish()?);
    for Note {
        key,
        code,
        message: msg,
    } in &out.warnings
    {
        bw.warn(entity.name, key, "", code, msg)?;
    }
    if !out.rejects.is_empty() {
        let (mut reader, _) = batch.reader(entity)?;
        let path = batch
            .file_of(entity)
            .map(|f| f.path.clone())
            .unwrap_or_default();
        let mut rec = Vec::new();
        while let Some(item) = reader.next(&mut rec)? {
            if let Item::Record(line) = item {
                let key = entity.key_of(&rec);
                if let Some(Note {
                    code, message: msg, ..
                }) = out.rejects.iter().find(|n| n.key == key)
                {
                    bw.reject(entity, &rec, &path, line, "", code, msg)?;
                }
            }
        }
    }
    if remote {
        let back = format!("{}-to-{}", cfg.site, batch.meta.source.site);
        super::finish_on_channel(cfg, bw, &back)
    } else {
        bw.finish()
    }
}
