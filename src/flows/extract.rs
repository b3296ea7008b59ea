//! What every shop extract shares: connecting, reading the signpost (the
//! shop's clock and highest id) before anything else, working out the window
//! from the acknowledged watermark, opening the batch, and at the end
//! numbering it on its channel and recording what was extracted.
//!
//! A record spread over several tables (an order: header, totals, status
//! history, lines, attributes) is read as one plain stream per table, in key
//! order, and merged here rather than joined by the shop's server: MariaDB
//! serves each table as fast as a dump, where correlated subqueries per row
//! cost it seven times that. One connection serves one stream at a time and
//! every stream must come from the one snapshot, so the streams read first go
//! to sorted scratch files (`sorted::Spool`) and the last one merges with
//! them: memory stays a few thousand rows, whatever the shop's size.

use super::Flow;
use crate::config::{Config, ShopConfig};
use crate::error::Result;
use crate::shop::{ShopDb, TextCodec};
use crate::staging::batch::Watermark;
use crate::staging::{Batch, BatchMeta, BatchWriter, Source, Stage};
use crate::templates::{Params, Sql, Templates, Value};

/// An extract that has read its signpost and opened its batch.
pub struct ExtractRun<'c> {
    pub cfg: &'c Config,
    pub shop_id: &'c str,
    pub shop: &'c ShopConfig,
    pub flow: Flow,
    pub db: ShopDb,
    pub codec: TextCodec,
    templates: Templates,
    pub watermark: Watermark,
    /// `:full`, `:since`, `:after_id`, `:max_id`, `:language_id`.
    pub params: Params,
    pub bw: BatchWriter,
    /// A content scan's fingerprints, kept as the batch's pending ones.
    pub fingerprints: Option<crate::staging::state::Scan>,
    /// The old records an incremental run takes again, as key ranges
    /// (lo, hi] (`changed_by`); `None`: read them in one pass.
    changed: Option<Vec<(i64, i64)>>,
}

/// One changed old record in this many at most is read by key; more are
/// read in one pass.
pub const CHANGED_BY_KEY: i64 = 20;

/// Keys a statement asks for at most when records are read by key; a
/// shorter list goes as the next power of two, the last key repeated, so
/// the server prepares a few shapes of each template.
pub const KEYS_AT_ONCE: usize = 512;

/// A run of more consecutive changed keys than this is read as a key range
/// of its own rather than listed.
const RUN_AS_RANGE: i64 = 16;

/// One statement's share of a window.
enum Part {
    /// The keys in (lo, hi]: all of them, or (false) those changed since `:since`.
    Range(i64, i64, bool),
    /// These keys, ascending.
    Keys(Vec<i64>),
}

impl<'c> ExtractRun<'c> {
    /// `max_id_sql` names the template returning the highest key (`max_id`);
    /// `column` says what the window is measured on (for the tag file).
    pub async fn start(
        cfg: &'c Config,
        shop_id: &'c str,
        flow: Flow,
        full: bool,
        max_id_sql: &str,
        column: &str,
    ) -> Result<ExtractRun<'c>> {
        let shop = cfg.shop(shop_id)?;
        let dirs = cfg.site();
        let templates = super::templates(cfg);
        let (mut db, codec) = super::connect_shop(cfg, shop_id).await?;
        let dialect = db.dialect();

        // The signpost: the shop's clock and highest id, before the extract.
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
            &templates.sql(&shop.profile, max_id_sql, dialect)?,
            &Params::new(),
            &codec,
            |r| {
                max_id = r.int("max_id")?.unwrap_or(0);
                Ok(())
            },
        )
        .await?;

        // The window: from the acknowledged point minus the overlap.
        let ack = dirs.state().flow(shop_id, flow.as_str())?.acknowledged;
        let full = full || ack.as_ref().and_then(|a| a.to.as_ref()).is_none();
        let since = match (&ack, full) {
            (Some(a), false) => {
                a.to.as_deref()
                    .and_then(|to| super::minus_minutes(to, shop.overlap_minutes))
            }
            _ => None,
        };
        let after_id = if full {
            0
        } else {
            ack.as_ref().and_then(|a| a.max_id).unwrap_or(0)
        };
        let watermark = Watermark {
            column: column.into(),
            from: since.clone(),
            to: now,
            after_id: (!full).then_some(after_id),
            max_id: Some(max_id),
            full,
        };
        let params = Params::new()
            .set("full", full)
            .set(
                "since",
                since
                    .map(|s| s.replace('T', " "))
                    .unwrap_or_else(|| "1970-01-01 00:00:00".into()),
            )
            .set("after_id", after_id)
            .set("max_id", max_id)
            .set("language_id", shop.language_id)
            .set(
                "now",
                watermark
                    .to
                    .as_deref()
                    .map(|t| t.replace('T', " "))
                    .unwrap_or_else(|| {
                        chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
                    }),
            );

        let mut meta = BatchMeta::new(
            flow,
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
        if shop.encoding == crate::config::Encoding::Auto {
            meta.settings
                .insert("encoding_detected".into(), "auto".into());
        }
        let bw = BatchWriter::create(&dirs.outbox(), meta)?;
        Ok(ExtractRun {
            cfg,
            shop_id,
            shop,
            flow,
            db,
            codec,
            templates,
            watermark,
            params,
            bw,
            fingerprints: None,
            changed: None,
        })
    }

    /// Compare by content (`state::Fingerprints`): the scan reads the whole
    /// table whatever the window; returns the comparer and its parameters.
    pub fn by_content(&self) -> Result<(crate::staging::state::Fingerprints, Params)> {
        let seen = self
            .cfg
            .site()
            .state()
            .fingerprints(self.shop_id, self.flow.as_str())?;
        Ok((seen, self.params.clone().reset("full", true)))
    }

    /// End a content scan: its fingerprints wait for the batch to be
    /// acknowledged; the records the scan no longer met were deleted in the
    /// shop: listed (`shop_deleted`, their links are retired at the load)
    /// and reported (`deleted_in_shop`), `what` naming them.
    pub fn end_scan(
        &mut self,
        seen: crate::staging::state::Fingerprints,
        entity: &str,
        field: &str,
        what: &str,
    ) -> Result<()> {
        let (scan, gone) = seen.finish()?;
        self.fingerprints = Some(scan);
        if gone.is_empty() {
            return Ok(());
        }
        let e = &crate::staging::entities::SHOP_DELETED;
        let path = self.bw.scratch("data/shop_deleted.csv");
        let mut w = crate::staging::RecordWriter::create(&path, e, crate::staging::Format::Csv)?;
        for id in &gone {
            w.write(&[id.to_string()])?;
            self.bw.warn(
                entity,
                &format!("{}/{id}", self.shop_id),
                field,
                "deleted_in_shop",
                &format!("the {what} is no longer in the shop (deleted in the admin): its link is retired, the Magazyn keeps its record"),
            )?;
        }
        self.bw.add(e, w.finish()?);
        Ok(())
    }

    /// Run a record's template (`:lo`, `:hi`, `:all`, `:since`, and
    /// `:keys` where it has it) over the window, in key order. A full run is
    /// one key range (0, max_id]; an incremental one is first the old
    /// records changed since `:since`, then the new ones (after_id, max_id]
    /// as a plain range. The old ones are read by key when
    /// [`ExtractRun::changed_by`] listed few enough: up to [`KEYS_AT_ONCE`]
    /// keys a statement (`:all = 2`, the keys in `:keys`), a long run of
    /// consecutive keys as a range of its own (a template without `:keys`:
    /// one range per run); else in one pass over (0, after_id] with
    /// `:all = 0`. Every part ascends and starts above the one before, so
    /// the rows arrive in key order as one stream.
    pub async fn for_each_part<F>(&mut self, sql: &Sql, mut f: F) -> Result<u64>
    where
        F: FnMut(&crate::shop::ShopRow<'_>) -> Result<()>,
    {
        let max_id = self.watermark.max_id.unwrap_or(0);
        let after_id = match self.watermark.full {
            true => 0,
            false => self.watermark.after_id.unwrap_or(0).min(max_id),
        };
        let by_keys = sql.params.iter().any(|p| p == "keys");
        let parts = parts(self.changed.as_deref(), after_id, max_id, by_keys);
        let mut keys: Vec<Value> = Vec::new();
        let mut n = 0;
        for part in &parts {
            keys.clear();
            let (lo, hi, all, listed) = match part {
                Part::Range(lo, hi, _) if hi <= lo => continue,
                Part::Range(lo, hi, all) => {
                    keys.push(Value::Int(0)); // the list's one marker, unused
                    (*lo, *hi, *all as i64, None)
                }
                Part::Keys(k) => {
                    keys.extend(k.iter().map(|&k| Value::Int(k)));
                    let listed = sql.with_list("keys", k.len().next_power_of_two())?;
                    (k[0] - 1, k[k.len() - 1], 2, Some(listed))
                }
            };
            let p = self
                .params
                .clone()
                .set("lo", lo)
                .set("hi", hi)
                .set("all", all);
            let sql = listed.as_ref().unwrap_or(sql);
            let values = match by_keys {
                true => p.ordered_with_list(sql, "keys", &keys)?,
                false => p.ordered(sql)?,
            };
            n += self
                .db
                .for_each_values(sql, values, &self.codec, &mut f)
                .await?;
        }
        Ok(n)
    }

    /// Before the child streams of an incremental run: list the old
    /// records changed since `:since` (`template` returns their `key` in
    /// order) as runs of consecutive keys, so that the child tables are
    /// read by key. Where more than one in [`CHANGED_BY_KEY`] of the old
    /// records changed, one pass over them costs less. Measured on the
    /// 200 000-order shop (an incremental orders extract, MariaDB's slow
    /// log): one pass over the five tables took 2.4 s; by key, 512 keys a
    /// statement, 1 000 changed orders took 0.6 s, 3 000 1.1 s, 6 000 and
    /// 9 000 1.6 s (one range query per changed order, before the keys were
    /// listed: 1.6 s for 1 000).
    pub async fn changed_by(&mut self, template: &str, key: &str) -> Result<()> {
        if self.watermark.full {
            return Ok(());
        }
        let sql = self.sql(template)?;
        let mut runs: Vec<(i64, i64)> = Vec::new();
        let mut many = false;
        let most = (self.watermark.after_id.unwrap_or(0) / CHANGED_BY_KEY) as usize;
        self.db
            .for_each(&sql, &self.params, &self.codec, |r| {
                let id = r.int(key)?.unwrap_or(0);
                let full = runs.len() >= most;
                match runs.last_mut() {
                    Some(last) if last.1 == id - 1 => last.1 = id,
                    Some(last) if last.1 >= id => {}
                    _ if full => many = true,
                    _ => runs.push((id - 1, id)),
                }
                Ok(())
            })
            .await?;
        self.changed = (!many).then_some(runs);
        Ok(())
    }

    /// Stream a child table's template over the window into a sorted
    /// spool (`sorted`), keyed on its `parent` and `child` columns, with the
    /// fields `fields` adds to each row's record.
    pub async fn spool<F>(
        &mut self,
        template: &str,
        (parent, child): (&str, &str),
        mut fields: F,
    ) -> Result<super::sorted::Merged>
    where
        F: FnMut(&crate::shop::ShopRow<'_>, &mut super::sorted::SpoolRecord) -> Result<()>,
    {
        let sql = self.sql(template)?;
        let name = template.trim_end_matches(".sql").replace('.', "_");
        let mut spool = super::sorted::Spool::new(&self.bw.scratch(""), &name);
        self.for_each_part(&sql, |r| {
            let (p, c) = (r.int(parent)?.unwrap_or(0), r.int(child)?.unwrap_or(0));
            let mut rec = spool.record(p, c);
            fields(r, &mut rec)?;
            spool.push(rec)
        })
        .await?;
        spool.finish()
    }

    /// A template of the shop's profile, in the shop's dialect.
    pub fn sql(&self, name: &str) -> Result<Sql> {
        self.templates
            .sql(&self.shop.profile, name, self.db.dialect())
    }

    /// Seal the batch on its channel and record what was extracted.
    pub async fn finish(self) -> Result<Batch> {
        self.db.close().await;
        let channel = super::channel_for(self.cfg, self.flow, self.shop_id);
        let batch = super::finish_on_channel(self.cfg, self.bw, &channel)?;
        let state = self.cfg.site().state();
        if let Some(scan) = self.fingerprints {
            state.keep_fingerprints(self.shop_id, self.flow.as_str(), scan, batch.id())?;
        }
        state.record_extracted(
            self.shop_id,
            self.flow.as_str(),
            batch.id(),
            &self.watermark,
        )?;
        Ok(batch)
    }
}

/// The parts of a window, in key order: the changed old records' `runs`
/// (consecutive keys as (lo, hi]; `None`: too many, one pass over
/// (0, after_id] for those changed), then the new ones (after_id, max_id].
/// `by_keys`: the template lists keys, so short runs are gathered into
/// lists of up to [`KEYS_AT_ONCE`] keys and only a run longer than
/// [`RUN_AS_RANGE`] stays a range.
fn parts(runs: Option<&[(i64, i64)]>, after_id: i64, max_id: i64, by_keys: bool) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    match runs {
        Some(runs) if by_keys => {
            let mut keys: Vec<i64> = Vec::new();
            let flush = |keys: &mut Vec<i64>, parts: &mut Vec<Part>| {
                for chunk in keys.chunks(KEYS_AT_ONCE) {
                    parts.push(Part::Keys(chunk.to_vec()));
                }
                keys.clear();
            };
            for &(lo, hi) in runs {
                if hi - lo > RUN_AS_RANGE {
                    flush(&mut keys, &mut parts);
                    parts.push(Part::Range(lo, hi, true));
                } else {
                    keys.extend(lo + 1..=hi);
                }
            }
            flush(&mut keys, &mut parts);
        }
        Some(runs) => parts.extend(runs.iter().map(|&(lo, hi)| Part::Range(lo, hi, true))),
        None => parts.push(Part::Range(0, after_id, false)),
    }
    parts.push(Part::Range(after_id, max_id, true));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys each part reads, of the keys 1..=max (changed: those
    /// `changed` says; a part with `false` reads the changed ones).
    fn read(parts: &[Part], changed: &[i64]) -> Vec<i64> {
        let mut keys = Vec::new();
        for p in parts {
            match p {
                Part::Range(lo, hi, true) => keys.extend(lo + 1..=*hi),
                Part::Range(lo, hi, false) => {
                    keys.extend(changed.iter().filter(|k| (lo + 1..=*hi).contains(k)))
                }
                Part::Keys(k) => keys.extend(k),
            }
        }
        keys
    }

    #[test]
    fn a_windows_parts_read_each_changed_and_new_key_once_in_order() {
        // 700 scattered changed keys, a run of 40 among them, then new keys.
        let mut changed: Vec<i64> = (0..700).map(|i| 3 * i + 1).collect();
        changed.extend(5000..5040);
        let mut runs: Vec<(i64, i64)> = Vec::new();
        for &k in &changed {
            match runs.last_mut() {
                Some(r) if r.1 == k - 1 => r.1 = k,
                _ => runs.push((k - 1, k)),
            }
        }
        let (after_id, max_id) = (6000, 6100);
        let mut want = changed.clone();
        want.extend(after_id + 1..=max_id);
        for by_keys in [true, false] {
            let p = parts(Some(&runs), after_id, max_id, by_keys);
            assert_eq!(read(&p, &changed), want, "by_keys {by_keys}");
        }
        let p = parts(Some(&runs), after_id, max_id, true);
        let shapes: Vec<String> = p
            .iter()
            .map(|p| match p {
                Part::Keys(k) => format!("keys {}", k.len()),
                Part::Range(lo, hi, all) => format!("range {lo}..{hi} {all}"),
            })
            .collect();
        assert_eq!(
            shapes,
            [
                "keys 512",
                "keys 188",
                "range 4999..5039 true",
                "range 6000..6100 true"
            ]
        );
        // Too many changed: one pass for them, then the new ones.
        let p = parts(None, after_id, max_id, true);
        assert_eq!(read(&p, &changed), want);
        assert_eq!(p.len(), 2);
    }
}
