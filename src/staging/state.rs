//! The site's one state store, under `<staging>/state/`: the watermark of
//! each (shop, flow), the sequence numbers of each channel, what the inbox
//! applied and which receipts acknowledged what. Small TOML files, replaced
//! atomically (write a temporary file, sync, rename).
//!
//! A watermark has two parts, after the Airbyte rule: what was last
//! *extracted* (informational) and what was *acknowledged* (loaded at the
//! target, locally or by a receipt). Extraction always restarts from the
//! acknowledged point, so a batch lost on the way is extracted again;
//! re-reading is harmless because loads are idempotent.
//!
//! Small tables with no reliable timestamp (osCommerce's address book edit
//! touches `address_book` and `customers`, never `customers_info`) are
//! scanned whole and compared by content: a fingerprint per key, kept as a
//! sorted `id,hash` file beside the watermark and merged with the sorted
//! scan, so memory stays flat. The same two parts apply: an extract writes
//! its fingerprints as pending under its batch's name; they become the
//! acknowledged ones only when that batch is acknowledged, so a batch lost
//! on the way is extracted again.

use crate::error::{Error, IoContext, Result};
use crate::staging::batch::Watermark;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FlowState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Mark>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted: Option<Mark>,
    /// The batch whose fingerprints are the acknowledged ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprints: Option<String>,
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

    /// The acknowledged fingerprints of a flow, and the pending ones of one
    /// of its batches.
    fn fingerprints_path(&self, shop: &str, flow: &str, batch: Option<&str>) -> PathBuf {
        match batch {
            None => self.dir.join(format!("{shop}.{flow}.fingerprints.csv")),
            Some(b) => self
                .dir
                .join("pending")
                .join(format!("{shop}.{flow}.fingerprints.{b}.csv")),
        }
    }

    /// Compare a scan with the acknowledged fingerprints of (shop, flow).
    pub fn fingerprints(&self, shop: &str, flow: &str) -> Result<Fingerprints> {
        let acked_path = self.fingerprints_path(shop, flow, None);
        let acked = match std::fs::File::open(&acked_path) {
            Ok(f) => Some(std::io::BufReader::new(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(&acked_path, e)),
        };
        let dir = self.dir.join("pending");
        std::fs::create_dir_all(&dir).at(&dir)?;
        let scratch = dir.join(format!(
            "{shop}.{flow}.fingerprints.scan-{}.tmp",
            std::process::id()
        ));
        let out = BufWriter::new(std::fs::File::create(&scratch).at(&scratch)?);
        let mut fp = Fingerprints {
            acked,
            acked_path,
            line_no: 0,
            next: None,
            line: String::new(),
            hash: String::new(),
            out,
            scratch,
            gone: Vec::new(),
            last: None,
            finished: false,
        };
        fp.advance()?;
        Ok(fp)
    }

    /// Keep a finished scan as the pending fingerprints of `batch`.
    pub fn keep_fingerprints(&self, shop: &str, flow: &str, scan: Scan, batch: &str) -> Result<()> {
        let path = self.fingerprints_path(shop, flow, Some(batch));
        std::fs::rename(&scan.0, &path).at(&path)
    }

    /// The shop products magsync itself hid (`hide_at_or_below`), kept at
    /// the site that pushes into the shop: `None` for the acknowledged set,
    /// else the set a transformed batch will leave once it is loaded.
    fn hidden_path(&self, shop: &str, batch: Option<&str>) -> PathBuf {
        match batch {
            None => self.dir.join(format!("{shop}.products.hidden.csv")),
            Some(b) => self
                .dir
                .join("pending")
                .join(format!("{shop}.products.hidden.{b}.csv")),
        }
    }

    /// The products magsync hid in the shop and nobody has shown since.
    pub fn products_hidden(&self, shop: &str) -> Result<std::collections::BTreeSet<i64>> {
        read_ids(&self.hidden_path(shop, None))
    }

    /// The hidden set a transformed batch leaves when it is loaded.
    pub fn stage_products_hidden(
        &self,
        shop: &str,
        batch: &str,
        ids: &std::collections::BTreeSet<i64>,
    ) -> Result<()> {
        let path = self.hidden_path(shop, Some(batch));
        let dir = path.parent().expect("in state/pending");
        std::fs::create_dir_all(dir).at(dir)?;
        let mut text = String::new();
        for id in ids {
            text.push_str(&format!("{id}\n"));
        }
        crate::staging::bag::write_synced(&path, text.as_bytes())?;
        Ok(())
    }

    /// The batch was loaded: its hidden set, less the hides the shop refused
    /// (`not_hidden`), becomes the set.
    pub fn adopt_products_hidden(&self, shop: &str, batch: &str, not_hidden: &[i64]) -> Result<()> {
        let pending = self.hidden_path(shop, Some(batch));
        let mut ids = match pending.exists() {
            true => read_ids(&pending)?,
            false => return Ok(()), // a batch from before magsync kept the set
        };
        ids.retain(|i| !not_hidden.contains(i));
        let acked = self.hidden_path(shop, None);
        let mut text = String::new();
        for id in &ids {
            text.push_str(&format!("{id}\n"));
        }
        let tmp = acked.with_extension(format!("csv.{}.tmp", std::process::id()));
        crate::staging::bag::write_synced(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, &acked).at(&acked)?;
        std::fs::remove_file(&pending).at(&pending)
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
    /// The batch's pending fingerprints are adopted when it is newer than
    /// the batch they came from last (batch ids sort by time), else dropped.
    pub fn acknowledge(&self, shop: &str, flow: &str, batch: &str, w: &Watermark) -> Result<bool> {
        let mut s = self.flow(shop, flow)?;
        let pending = self.fingerprints_path(shop, flow, Some(batch));
        let mut changed = false;
        if pending.exists() {
            if s.fingerprints.as_deref().is_none_or(|f| f < batch) {
                let acked = self.fingerprints_path(shop, flow, None);
                std::fs::rename(&pending, &acked).at(&acked)?;
                s.fingerprints = Some(batch.to_string());
                changed = true;
                // Older pending ones (dry runs, batches never loaded) are
                // superseded.
                let prefix = format!("{shop}.{flow}.fingerprints.");
                if let Ok(entries) = std::fs::read_dir(self.dir.join("pending")) {
                    for e in entries.flatten() {
                        let name = e.file_name().to_string_lossy().into_owned();
                        if let Some(b) = name
                            .strip_prefix(&prefix)
                            .and_then(|r| r.strip_suffix(".csv"))
                            && b < batch
                        {
                            let _ = std::fs::remove_file(e.path());
                        }
                    }
                }
            } else {
                std::fs::remove_file(&pending).at(&pending)?;
            }
        }
        let new = mark(batch, w);
        let advanced = match &s.acknowledged {
            Some(old) => old.to < new.to || old.max_id < new.max_id,
            None => true,
        };
        if advanced {
            s.acknowledged = Some(new);
        }
        if advanced || changed {
            write_toml(&self.flow_path(shop, flow), &s)?;
        }
        Ok(advanced)
    }

    /// Held while a batch gets its channel sequence and the channel's state
    /// moves on: two writers at one site (a manual extract beside the
    /// nightly run) never give out a number twice. An OS file lock
    /// (`flock`), so a killed holder releases it; a second writer waits up
    /// to a minute, then says so.
    pub fn lock_channel(&self, channel: &str) -> Result<std::fs::File> {
        let path = self.channel_path(channel).with_extension("lock");
        let wait = std::time::Duration::from_secs(60);
        super::site::flock(&path, super::site::Hold::Alone, wait, || {})?.ok_or_else(|| {
            Error::Locked {
                path,
                holders: "another magsync".into(),
                waited: wait.as_secs(),
            }
        })
    }

    pub fn set_channel(&self, channel: &str, st: &ChannelState) -> Result<()> {
        write_toml(&self.channel_path(channel), st)
    }

    /// A record of the store kept by `kind` (`inbox`, `acks`) for `name`
    /// (a channel): `state/<kind>/<name>.toml`, or the default when there is
    /// none yet.
    pub fn load<T: for<'de> Deserialize<'de> + Default>(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<T> {
        read_toml(&self.dir.join(kind).join(format!("{name}.toml")))
    }

    /// Replace a record of the store (atomically: see the module note).
    pub fn save<T: Serialize>(&self, kind: &str, name: &str, v: &T) -> Result<()> {
        write_toml(&self.dir.join(kind).join(format!("{name}.toml")), v)
    }
}

/// A scan in ascending key order compared with the acknowledged
/// fingerprints (see the module note); writes the scan's own as it goes.
pub struct Fingerprints {
    acked: Option<std::io::BufReader<std::fs::File>>,
    acked_path: PathBuf,
    line_no: u64,
    /// The next acknowledged (id, hash) not yet passed.
    next: Option<(i64, String)>,
    line: String,
    hash: String,
    out: BufWriter<std::fs::File>,
    scratch: PathBuf,
    /// Acknowledged keys the scan did not meet: deleted at the source.
    gone: Vec<i64>,
    last: Option<i64>,
    finished: bool,
}

impl Fingerprints {
    fn advance(&mut self) -> Result<()> {
        self.next = None;
        let Some(r) = self.acked.as_mut() else {
            return Ok(());
        };
        self.line.clear();
        if r.read_line(&mut self.line).at(&self.acked_path)? == 0 {
            return Ok(());
        }
        self.line_no += 1;
        let bad = || {
            Error::State {
            path: self.acked_path.clone(),
            line: self.line_no,
            message: "expected `id,hash` (delete the file: the next extract then sends every record once)".into(),
        }
        };
        let (id, hash) = self.line.trim_end().split_once(',').ok_or_else(bad)?;
        self.next = Some((id.parse().map_err(|_| bad())?, hash.to_string()));
        Ok(())
    }

    /// Whether the record of `id` is new or differs from the acknowledged
    /// one. Keys must come in ascending order; one out of order counts as
    /// changed (sent again, never lost).
    pub fn changed(&mut self, id: i64, fields: &[String]) -> Result<bool> {
        let mut h = Sha256::new();
        for f in fields {
            h.update(f.as_bytes());
            h.update([0x1f]);
        }
        let mut hash = std::mem::take(&mut self.hash);
        hash.clear();
        for b in &h.finalize()[..12] {
            let _ = std::fmt::Write::write_fmt(&mut hash, format_args!("{b:02x}"));
        }
        writeln!(self.out, "{id},{hash}").at(&self.scratch)?;
        let changed = self.compare(id, &hash);
        self.hash = hash;
        changed
    }

    fn compare(&mut self, id: i64, hash: &str) -> Result<bool> {
        if self.last.is_some_and(|l| l >= id) {
            return Ok(true);
        }
        self.last = Some(id);
        while let Some((n, _)) = &self.next
            && *n < id
        {
            self.gone.push(*n);
            self.advance()?;
        }
        match &self.next {
            Some((n, old)) if *n == id => {
                let same = *old == hash;
                self.advance()?;
                Ok(!same)
            }
            _ => Ok(true),
        }
    }

    /// The scan's fingerprints (for [`State::keep_fingerprints`]) and the
    /// acknowledged keys it did not meet.
    pub fn finish(mut self) -> Result<(Scan, Vec<i64>)> {
        while let Some((n, _)) = &self.next {
            self.gone.push(*n);
            self.advance()?;
        }
        self.out.flush().at(&self.scratch)?;
        self.out.get_ref().sync_all().at(&self.scratch)?;
        self.finished = true;
        Ok((Scan(self.scratch.clone()), std::mem::take(&mut self.gone)))
    }
}

impl Drop for Fingerprints {
    /// A scan that fails leaves no scratch file (`finish` hands it on).
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.scratch);
        }
    }
}

/// A finished scan's fingerprints, removed unless kept for a batch.
pub struct Scan(PathBuf);

impl Drop for Scan {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn mark(batch: &str, w: &Watermark) -> Mark {
    Mark {
        to: w.to.clone(),
        max_id: w.max_id,
        batch: batch.to_string(),
        at: crate::base::now_utc(),
    }
}

fn read_ids(path: &Path) -> Result<std::collections::BTreeSet<i64>> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| {
                l.trim().parse::<i64>().map_err(|_| Error::State {
                    path: path.to_path_buf(),
                    line: n as u64 + 1,
                    message: format!("`{l}` is not a product id"),
                })
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn read_toml<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| Error::State {
            path: path.to_path_buf(),
            line: e
                .span()
                .map_or(0, |s| text[..s.start].matches('\n').count() as u64 + 1),
            message: format!(
                "{} (fix or delete it; `--full` re-extracts everything)",
                e.message()
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn write_toml<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    let dir = path.parent().expect("state files live in a directory");
    std::fs::create_dir_all(dir).at(dir)?;
    let text = toml::to_string(v).map_err(|e| Error::State {
        path: path.to_path_buf(),
        line: 0,
        message: e.to_string(),
    })?;
    // A temporary name of this process's own: two writers never rename
    // each other's half.
    let tmp = path.with_extension(format!("toml.{}.tmp", std::process::id()));
    crate::staging::bag::write_synced(&tmp, text.as_bytes())?;
    std::fs::rename(&tmp, path).at(path)?;
    Ok(())
}
