//! `pack`: every unacknowledged batch in the outbox, one file per channel,
//! written atomically onto the medium.

use super::{PACK_MANIFEST, PackManifest, PackedBatch};
use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::staging::Batch;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Packed {
    pub file: PathBuf,
    pub manifest: PackManifest,
    pub bytes: u64,
    pub encrypted: bool,
}

/// Batches waiting in the outbox for channels leading to other sites,
/// by channel, in sequence order.
pub fn pending(cfg: &Config) -> Result<BTreeMap<String, Vec<Batch>>> {
    let mut by_channel: BTreeMap<String, Vec<Batch>> = BTreeMap::new();
    let local = format!("{}-to-{}", cfg.site, cfg.site);
    for dir in super::batch_dirs(&cfg.staging_root().join("outbox")) {
        let b = Batch::open(&dir)?;
        if let Some(ch) = &b.meta.channel
            && ch.name.starts_with(&format!("{}-to-", cfg.site))
            && ch.name != local
        {
            by_channel.entry(ch.name.clone()).or_default().push(b);
        }
    }
    for v in by_channel.values_mut() {
        v.sort_by_key(|b| b.meta.channel.as_ref().map_or(0, |c| c.sequence));
    }
    Ok(by_channel)
}

/// Pack every channel's pending batches; `from` keeps only sequence
/// numbers from that one on (to resend part of a channel).
pub fn pack(cfg: &Config, out: &Path, from: Option<u64>) -> Result<Vec<Packed>> {
    std::fs::create_dir_all(out).at(out)?;
    let mut packed = Vec::new();
    for (channel, mut batches) in pending(cfg)? {
        if let Some(from) = from {
            batches.retain(|b| b.meta.channel.as_ref().is_some_and(|c| c.sequence >= from));
        }
        if batches.is_empty() {
            continue;
        }
        let first = batches
            .first()
            .and_then(|b| b.meta.channel.as_ref())
            .map_or(0, |c| c.sequence);
        let last = batches
            .last()
            .and_then(|b| b.meta.channel.as_ref())
            .map_or(0, |c| c.sequence);
        let encrypted = super::crypt::encrypts(cfg);
        let name = format!(
            "{channel}.{first:08}-{last:08}.magsync.tar{}",
            if encrypted { ".age" } else { "" }
        );
        let manifest = PackManifest {
            format_version: crate::staging::batch::FORMAT_VERSION.into(),
            channel: channel.clone(),
            from_site: cfg.site.clone(),
            created_at: crate::base::now_utc(),
            batches: batches
                .iter()
                .map(|b| PackedBatch {
                    batch_id: b.id().to_string(),
                    sequence: b.meta.channel.as_ref().map_or(0, |c| c.sequence),
                    tagmanifest_sha256: b.tag_sha256.clone(),
                    flow: b.meta.flow.as_str().to_string(),
                    stage: b.meta.stage.as_str().into(),
                })
                .collect(),
        };
        let target = out.join(&name);
        let tmp = out.join(format!(".{name}.partial"));
        let file = std::fs::File::create(&tmp).at(&tmp)?;
        let hashing = crate::staging::behind::WriteBehind::new(file, true).at(&tmp)?;
        let hashing = if encrypted {
            let mut w = super::crypt::encrypt_to(cfg, hashing, &tmp)?;
            write_tar(&mut w, &manifest, &batches, &tmp)?;
            w.finish().at(&tmp)?
        } else {
            let mut h = hashing;
            write_tar(&mut h, &manifest, &batches, &tmp)?;
            h
        };
        let done = hashing.finish().at(&tmp)?;
        done.file.sync_all().at(&tmp)?;
        let (sha, bytes) = (done.sha256.unwrap_or_default(), done.bytes);
        // The checksum first, then the file under its real name: a medium
        // pulled out half-way leaves no file that looks complete.
        let sidecar = out.join(format!("{name}.sha256"));
        crate::staging::bag::write_synced(&sidecar, format!("{sha}  {name}\n").as_bytes())?;
        std::fs::rename(&tmp, &target).at(&target)?;
        // Receipts are sent once: a lost one is sent again when the batch it
        // acknowledges arrives again (see inbox).
        for b in batches
            .iter()
            .filter(|b| b.meta.stage == crate::staging::Stage::Receipt)
        {
            super::archive(cfg, &b.dir)?;
        }
        packed.push(Packed {
            file: target,
            manifest,
            bytes,
            encrypted,
        });
    }
    Ok(packed)
}

fn write_tar<W: Write>(
    w: &mut W,
    manifest: &PackManifest,
    batches: &[Batch],
    name: &Path,
) -> Result<()> {
    let err = |e: std::io::Error| Error::io(name, e);
    let mut t = tar::Builder::new(w);
    t.mode(tar::HeaderMode::Deterministic);
    t.follow_symlinks(false);
    let text = toml::to_string(manifest).map_err(|e| Error::Transfer {
        file: name.to_path_buf(),
        message: format!("writing {PACK_MANIFEST}: {e}"),
    })?;
    let mut h = tar::Header::new_ustar();
    h.set_size(text.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    t.append_data(&mut h, PACK_MANIFEST, text.as_bytes())
        .map_err(err)?;
    for b in batches {
        t.append_dir_all(b.id(), &b.dir).map_err(err)?;
    }
    t.finish().map_err(err)?;
    Ok(())
}
