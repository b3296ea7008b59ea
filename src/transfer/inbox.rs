//! `inbox`: apply what came in, per channel, in sequence order. A batch
//! already applied (same number, same hash) is skipped and its receipt sent
//! again; a gap waits and is reported; the same number with another hash
//! stops the channel. Extracted batches are transformed and loaded here;
//! receipts acknowledge what this site sent.

use super::{Applied, InboxState};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::flows;
use crate::staging::{Batch, Stage};

#[derive(Debug, Default)]
pub struct ChannelReport {
    pub channel: String,
    /// (sequence, batch id, what happened)
    pub applied: Vec<(u64, String, String)>,
    pub duplicates: Vec<u64>,
    /// Sequence numbers still missing before the next batch can apply.
    pub waiting_for: Vec<u64>,
    pub error: Option<String>,
}

pub async fn run(cfg: &Config) -> Result<Vec<ChannelReport>> {
    let mut reports = Vec::new();
    let root = super::inbox_dir(cfg);
    for dir in super::batch_dirs(&root) {
        let channel = dir
            .file_name()
            .expect("a directory")
            .to_string_lossy()
            .into_owned();
        let mut r = ChannelReport {
            channel: channel.clone(),
            ..Default::default()
        };
        if let Err(e) = channel_run(cfg, &channel, &mut r).await {
            r.error = Some(e.to_string());
        }
        reports.push(r);
    }
    super::prune_archive(cfg)?;
    Ok(reports)
}

async fn channel_run(cfg: &Config, channel: &str, r: &mut ChannelReport) -> Result<()> {
    let mut state: InboxState = cfg.site().state().load("inbox", channel)?;
    let mut batches = Vec::new();
    for d in super::batch_dirs(&super::inbox_dir(cfg).join(channel)) {
        batches.push(Batch::open(&d)?);
    }
    batches.sort_by_key(|b| b.meta.channel.as_ref().map_or(0, |c| c.sequence));
    for b in batches {
        let seq = b.meta.channel.as_ref().map_or(0, |c| c.sequence);
        if let Some(a) = state.applied.get(&seq.to_string()).cloned() {
            if a.tagmanifest_sha256 != b.tag_sha256 {
                return Err(Error::batch(
                    b.id(),
                    format!(
                        "channel {channel} stopped: #{seq} was applied as {} ({}) and now {} ({}) arrives under the same number; nothing more is applied on this channel until that is sorted out",
                        a.batch_id,
                        a.tagmanifest_sha256,
                        b.id(),
                        b.tag_sha256
                    ),
                ));
            }
            // The same batch again: skip it, send its receipt again.
            if let Some(receipt) = &a.receipt {
                resend(cfg, receipt)?;
            }
            r.duplicates.push(seq);
            super::archive(cfg, &b.dir)?;
            continue;
        }
        if seq != state.last_applied + 1 {
            r.waiting_for = (state.last_applied + 1..seq).collect();
            return Ok(());
        }
        let prev = b
            .meta
            .channel
            .as_ref()
            .and_then(|c| c.previous_tagmanifest_sha256.clone());
        if state.last_tagmanifest_sha256.is_some() && prev != state.last_tagmanifest_sha256 {
            return Err(Error::batch(
                b.id(),
                format!(
                    "channel {channel} stopped: #{seq} ({}) does not chain to #{} applied before",
                    b.id(),
                    state.last_applied
                ),
            ));
        }
        let (what, receipt) = apply(cfg, &b).await?;
        r.applied.push((seq, b.id().to_string(), what));
        state.applied.insert(
            seq.to_string(),
            Applied {
                batch_id: b.id().to_string(),
                tagmanifest_sha256: b.tag_sha256.clone(),
                receipt,
            },
        );
        state.last_applied = seq;
        state.last_tagmanifest_sha256 = Some(b.tag_sha256.clone());
        cfg.site().state().save("inbox", channel, &state)?;
        super::archive(cfg, &b.dir)?;
    }
    Ok(())
}

/// Apply one batch: transform and load an extracted batch (its receipt goes
/// back on the return channel), or take a receipt's acknowledgement.
async fn apply(cfg: &Config, b: &Batch) -> Result<(String, Option<String>)> {
    match b.meta.stage {
        Stage::Extracted => {
            let t = flows::transform(cfg, b).await?;
            let l = flows::load(cfg, &t.batch, false).await?;
            let c = &l.counts;
            Ok((
                format!(
                    "{} {}: {} records, {} inserted, {} updated, {} unchanged, {} rejected",
                    b.meta.flow,
                    b.meta.source.shop,
                    c.records,
                    c.inserted,
                    c.updated,
                    c.unchanged,
                    c.rejected
                ),
                l.receipt.map(|r| r.id().to_string()),
            ))
        }
        Stage::Receipt => Ok((acknowledge(cfg, b)?, None)),
        other => Err(Error::batch(
            b.id(),
            format!(
                "a {} batch cannot be applied from the inbox",
                other.as_str()
            ),
        )),
    }
}

/// A receipt from the other site: the batch it names was applied there.
/// Advance the acknowledged watermark and archive the batch.
pub fn acknowledge(cfg: &Config, receipt: &Batch) -> Result<String> {
    let s = &receipt.meta.settings;
    let (Some(channel), Some(seq), Some(hash)) = (
        s.get("acknowledges_channel"),
        s.get("acknowledges_sequence")
            .and_then(|v| v.parse::<u64>().ok()),
        s.get("acknowledges_sha256"),
    ) else {
        return Err(Error::batch(receipt.id(), "names no batch it acknowledges"));
    };
    let mut acks: super::AckState = cfg.site().state().load("acks", channel)?;
    let outbox = cfg.staging_root().join("outbox");
    let mut found = None;
    for d in super::batch_dirs(&outbox) {
        let b = Batch::open(&d)?;
        if b.meta
            .channel
            .as_ref()
            .is_some_and(|c| &c.name == channel && c.sequence == seq)
        {
            found = Some(b);
            break;
        }
    }
    let msg = match found {
        Some(b) if &b.tag_sha256 != hash => {
            return Err(Error::batch(
                receipt.id(),
                format!(
                    "acknowledges {channel} #{seq} with hash {hash}, but that batch here is {} ({})",
                    b.id(),
                    b.tag_sha256
                ),
            ));
        }
        Some(b) => {
            if let Some(w) = &b.meta.watermark {
                let flow = b.meta.flow;
                cfg.site()
                    .state()
                    .acknowledge(&b.meta.source.shop, flow.as_str(), b.id(), w)?;
            }
            super::archive(cfg, &b.dir)?;
            format!("acknowledges {channel} #{seq} ({})", b.id())
        }
        None => format!("acknowledges {channel} #{seq} again (already archived)"),
    };
    acks.acknowledged
        .insert(seq.to_string(), receipt.id().to_string());
    cfg.site().state().save("acks", channel, &acks)?;
    Ok(msg)
}

/// Put an earlier receipt back in the outbox for the next pack.
fn resend(cfg: &Config, receipt: &str) -> Result<()> {
    let outbox = cfg.staging_root().join("outbox").join(receipt);
    if outbox.exists() {
        return Ok(());
    }
    let archived = super::archive_dir(cfg).join(receipt);
    if archived.is_dir() {
        std::fs::rename(&archived, &outbox).map_err(|e| Error::io(&outbox, e))?;
    }
    Ok(())
}
