//! Per-site state under `<staging>/state/`: the watermark of each (shop,
//! flow) and the sequence numbers of each channel. Small TOML files, replaced
//! atomically (write a temporary file, sync, rename).
//!
//! A watermark has two parts, after the Airbyte rule: what was last
//! *extracted* (informational) and what was *acknowledged* (loaded at the
//! target, locally or by a receipt). Extraction always restarts from the
//! acknowledged point, so a batch lost on the way is extracted again;
//! re-reading is harmless because loads are idempotent.

use crate::error::{Error, IoContext, Result};
use crate::staging::batch::Watermark;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FlowState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Mark>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted: Option<Mark>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Mark {
    /// The signpost (source clock) the window ended at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_id: Option<i64>,
    pub batch: String,
    pub at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChannelState {
    pub last_sequence: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tagmanifest_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_batch: Option<String>,
}

pub struct State {
    dir: PathBuf,
}

impl State {
    pub fn new(staging_root: &Path) -> State {
        State {
            dir: staging_root.join("state"),
        }
    }

    fn flow_path(&self, shop: &str, flow: &str) -> PathBuf {
        self.dir.join(format!("{shop}.{flow}.toml"))
    }

    fn channel_path(&self, channel: &str) -> PathBuf {
        self.dir.join("channels").join(format!("{channel}.toml"))
    }

    pub fn flow(&self, shop: &str, flow: &str) -> Result<FlowState> {
        read_toml(&self.flow_path(shop, flow))
    }

    pub fn channel(&self, channel: &str) -> Result<ChannelState> {
        read_toml(&self.channel_path(channel))
    }

    pub fn record_extracted(
        &self,
        shop: &str,
        flow: &str,
        batch: &str,
        w: &Watermark,
    ) -> Result<()> {
        let mut s = self.flow(shop, flow)?;
        s.extracted = Some(mark(batch, w));
        write_toml(&self.flow_path(shop, flow), &s)
    }

    /// Advance the acknowledged watermark (never backwards).
    pub fn acknowledge(&self, shop: &str, flow: &str, batch: &str, w: &Watermark) -> Result<bool> {
        let mut s = self.flow(shop, flow)?;
        let new = mark(batch, w);
        if let Some(old) = &s.acknowledged
            && old.to >= new.to
            && old.max_id >= new.max_id
        {
            return Ok(false);
        }
        s.acknowledged = Some(new);
        write_toml(&self.flow_path(shop, flow), &s)?;
        Ok(true)
    }

    pub fn set_channel(&self, channel: &str, st: &ChannelState) -> Result<()> {
        write_toml(&self.channel_path(channel), st)
    }
}

fn mark(batch: &str, w: &Watermark) -> Mark {
    Mark {
        to: w.to.clone(),
        max_id: w.max_id,
        batch: batch.to_string(),
        at: crate::magazyn::store::now_utc(),
    }
}

fn read_toml<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            Error::Other(format!(
                "state file {}: {} (fix or delete it; `--full` re-extracts everything)",
                path.display(),
                e.message()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn write_toml<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    let dir = path.parent().expect("state files live in a directory");
    std::fs::create_dir_all(dir).at(dir)?;
    let text = toml::to_string(v).map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    let tmp = path.with_extension("toml.tmp");
    crate::staging::bag::write_synced(&tmp, text.as_bytes())?;
    std::fs::rename(&tmp, path).at(path)?;
    Ok(())
}
