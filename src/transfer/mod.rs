//! Moving batches between sites that share nothing but removable media.
//!
//! A *channel* `<from>-to-<to>` is one-way; every batch put on it gets the
//! channel's next sequence number and the hash of the channel's previous
//! batch (see `flows::finish_on_channel`). `pack` writes the channel's
//! unacknowledged batches into one file per channel on the medium (a tar,
//! optionally age-encrypted, with a SHA-256 sidecar); `unpack` verifies the
//! whole file, every bag and the chain before it files anything into the
//! inbox; `inbox` applies batches in sequence order (duplicates skipped,
//! gaps waited for, a different batch under an applied number refused) and
//! writes receipts that travel back and acknowledge. Acknowledged batches
//! move to `archive/`, pruned after `transfer.retention_days`.

pub mod crypt;
pub mod inbox;
pub mod pack;
pub mod unpack;

use crate::config::Config;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file at the head of every pack.
pub const PACK_MANIFEST: &str = "MAGSYNC-PACK.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackManifest {
    pub format_version: String,
    pub channel: String,
    pub from_site: String,
    pub created_at: String,
    pub batches: Vec<PackedBatch>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackedBatch {
    pub batch_id: String,
    pub sequence: u64,
    pub tagmanifest_sha256: String,
    pub flow: String,
    pub stage: String,
}

/// What the receiving side of a channel has applied.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InboxState {
    pub last_applied: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tagmanifest_sha256: Option<String>,
    /// sequence → (batch id, tag-manifest hash, receipt id)
    #[serde(default)]
    pub applied: BTreeMap<String, Applied>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Applied {
    pub batch_id: String,
    pub tagmanifest_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

/// What the sending side has had acknowledged, per channel.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AckState {
    #[serde(default)]
    pub acknowledged: BTreeMap<String, String>,
}

pub fn inbox_dir(cfg: &Config) -> PathBuf {
    cfg.site().inbox()
}

pub fn archive_dir(cfg: &Config) -> PathBuf {
    cfg.site().archive()
}

/// Batch directories directly under `dir` (not hidden, not partial).
pub fn batch_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| {
        p.is_dir()
            && !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
    });
    v.sort();
    v
}

/// Move a batch into the archive (acknowledged or applied).
pub fn archive(cfg: &Config, dir: &Path) -> Result<()> {
    let a = archive_dir(cfg);
    std::fs::create_dir_all(&a).map_err(|e| Error::io(&a, e))?;
    let target = a.join(dir.file_name().expect("a batch directory"));
    if target.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))
    } else {
        std::fs::rename(dir, &target).map_err(|e| Error::io(&target, e))
    }
}

/// Remove archived batches older than the retention.
pub fn prune_archive(cfg: &Config) -> Result<usize> {
    let keep = std::time::Duration::from_secs(u64::from(cfg.transfer.retention_days) * 86_400);
    let mut n = 0;
    for d in batch_dirs(&archive_dir(cfg)) {
        let old = std::fs::metadata(&d)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > keep);
        if old {
            std::fs::remove_dir_all(&d).map_err(|e| Error::io(&d, e))?;
            n += 1;
        }
    }
    Ok(n)
}
