//! Staging batches: a BagIt bag plus the `magsync-batch.toml` tag file.
//!
//! A batch is written under a temporary name (`.<id>.partial`) and renamed
//! into place only once every file is synced and the bag is sealed, so a
//! crash never leaves something that looks like a finished batch. A batch is
//! immutable once sealed: an edit (review) or the next stage is a new batch
//! whose `parent` names this one. A writer that fails removes its partial;
//! one killed outright (SIGKILL, power cut) leaves it behind, hidden, and the
//! next writer in the same directory sweeps it once nothing in it has
//! changed for [`STALE_PARTIAL`] (a live writer keeps its files moving).

use super::bag;
use super::codec::{Format, Item, RecordReader, RecordWriter, WrittenFile};
use super::entities;
use super::schema::Entity;
use crate::base::Flow;
use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The staging format version this build writes (semver).
pub const FORMAT_VERSION: &str = "1.0.0";
const FORMAT_MAJOR: u64 = 1;
pub const TAG_FILE: &str = "magsync-batch.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Extracted,
    Transformed,
    Receipt,
    Undo,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Extracted => "extracted",
            Stage::Transformed => "transformed",
            Stage::Receipt => "receipt",
            Stage::Undo => "undo",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Source {
    /// The site that wrote the batch (config `site`).
    pub site: String,
    /// The shop profile the batch belongs to.
    pub shop: String,
    /// `oscommerce` or `magazyn`: the system the records come from.
    pub system: String,
    /// Template profile used to read it (e.g. `oscommerce-2.3`).
    pub profile: String,
    /// Text encoding the source was decoded with, where it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChannelInfo {
    pub name: String,
    pub sequence: u64,
    /// SHA-256 of the previous batch's `tagmanifest-sha256.txt` on this
    /// channel (absent for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_tagmanifest_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Watermark {
    /// What the window is measured on (e.g. a timestamp expression).
    pub column: String,
    /// Lower bound used (inclusive, overlap already subtracted); absent for a full extract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The signpost: the source clock read before the extract started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Highest key seen before (rows beyond it are new whatever their timestamps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_id: Option<i64>,
    /// Highest key present when the extract started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_id: Option<i64>,
    pub full: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    pub path: String,
    pub entity: String,
    pub rows: u64,
    /// Child records nested in this file (XML files of entities with a child).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_rows: Option<u64>,
}

/// The contents of `magsync-batch.toml`. Unknown keys are ignored so that
/// a newer minor format version still loads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchMeta {
    pub format_version: String,
    pub batch_id: String,
    pub flow: Flow,
    pub stage: Stage,
    pub format: Format,
    pub created_at: String,
    pub tool_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_tagmanifest_sha256: Option<String>,
    #[serde(default)]
    pub edited: bool,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Watermark>,
    /// Source settings that decide how records are to be read, recorded at
    /// extract time (e.g. the shop's DISPLAY_PRICE_WITH_TAX).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    #[serde(default)]
    pub files: Vec<FileEntry>,
}

impl BatchMeta {
    pub fn new(flow: Flow, stage: Stage, format: Format, source: Source) -> BatchMeta {
        let now = chrono::Utc::now();
        let id = format!(
            "{}.{}.{}.{}",
            source.shop,
            flow.as_str(),
            stage.as_str(),
            now.format("%Y%m%dt%H%M%S%.3fz")
                .to_string()
                .replace('.', "")
        );
        BatchMeta {
            format_version: FORMAT_VERSION.to_string(),
            batch_id: id,
            flow,
            stage,
            format,
            created_at: now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            tool_version: concat!("magsync ", env!("CARGO_PKG_VERSION")).to_string(),
            parent: None,
            parent_tagmanifest_sha256: None,
            edited: false,
            source,
            channel: None,
            watermark: None,
            settings: BTreeMap::new(),
            files: Vec::new(),
        }
    }

    /// The meta of a batch made from `parent` (the next stage, a receipt,
    /// an edit): same flow and source, chained to it by name and hash,
    /// carrying its watermark, channel and settings.
    pub fn derived(parent: &Batch, stage: Stage, format: Format) -> BatchMeta {
        let p = &parent.meta;
        let mut m = BatchMeta::new(p.flow, stage, format, p.source.clone());
        m.parent = Some(p.batch_id.clone());
        m.parent_tagmanifest_sha256 = Some(parent.tag_sha256.clone());
        m.watermark = p.watermark.clone();
        m.channel = p.channel.clone();
        m.settings = p.settings.clone();
        m
    }
}

/// Is this a name magsync may generate (`[a-z0-9_.-]`, not starting with `.`)?
pub fn is_valid_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

/// Builds one batch in a temporary directory; [`BatchWriter::finish`] seals
/// and publishes it.
pub struct BatchWriter {
    tmp: PathBuf,
    final_dir: PathBuf,
    meta: BatchMeta,
    payload: BTreeMap<String, (String, u64)>,
    rejects: BTreeMap<&'static str, (RecordWriter, RecordWriter)>,
    warnings: Option<RecordWriter>,
    pub rejected: u64,
    pub warned: u64,
    /// Set once the batch is renamed into place.
    published: bool,
}

/// A batch that is not finished (an error on the way: a dropped shop
/// connection, a full disk) takes its temporary directory with it, so the
/// space it used is given back and the next run starts clean. (A killed
/// process leaves it behind, hidden and never taken for a batch.)
impl Drop for BatchWriter {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// How long an unfinished batch may sit untouched before it counts as left
/// by a killed writer.
pub const STALE_PARTIAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove the `.<id>.partial` directories under `dir` that nothing has
/// touched for `older_than`; returns how many went.
pub fn sweep_partials(dir: &Path, older_than: std::time::Duration) -> Result<usize> {
    let mut swept = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with('.') && name.ends_with(".partial")) {
            continue;
        }
        let newest = walkdir::WalkDir::new(e.path())
            .into_iter()
            .flatten()
            .filter_map(|f| f.metadata().ok()?.modified().ok())
            .max();
        let stale = newest
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= older_than);
        if stale {
            std::fs::remove_dir_all(e.path()).at(e.path())?;
            tracing::warn!(
                "removed {}: an unfinished batch left by a killed run",
                e.path().display()
            );
            swept += 1;
        }
    }
    Ok(swept)
}

impl BatchWriter {
    pub fn create(parent_dir: &Path, mut meta: BatchMeta) -> Result<BatchWriter> {
        std::fs::create_dir_all(parent_dir).at(parent_dir)?;
        sweep_partials(parent_dir, STALE_PARTIAL)?;
        // Unique name: add a counter if a batch of that name exists or
        // another process is writing one (two extracts started in the same
        // millisecond). The unfinished directory is claimed atomically, so
        // no two writers ever share it; a crashed writer's is swept above
        // once stale.
        let base = meta.batch_id.clone();
        let mut n = 1;
        let tmp = loop {
            let tmp = parent_dir.join(format!(".{}.partial", meta.batch_id));
            if !parent_dir.join(&meta.batch_id).exists() {
                match std::fs::create_dir(&tmp) {
                    Ok(()) => break tmp,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e).at(&tmp),
                }
            }
            n += 1;
            meta.batch_id = format!("{base}.{n}");
        };
        debug_assert!(is_valid_name(&meta.batch_id), "{}", meta.batch_id);
        std::fs::create_dir_all(tmp.join("data")).at(&tmp)?;
        // The kill tests read this line to know a kill landed while writing.
        tracing::debug!(target: "magsync::tx", batch = %meta.batch_id, "batch writing started");
        Ok(BatchWriter {
            final_dir: parent_dir.join(&meta.batch_id),
            tmp,
            meta,
            payload: BTreeMap::new(),
            rejects: BTreeMap::new(),
            warnings: None,
            rejected: 0,
            warned: 0,
            published: false,
        })
    }

    /// A working file inside the unfinished batch, outside its payload;
    /// remove it before [`BatchWriter::finish`].
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }

    pub fn meta(&self) -> &BatchMeta {
        &self.meta
    }
    pub fn meta_mut(&mut self) -> &mut BatchMeta {
        &mut self.meta
    }

    /// A writer for the entity's main payload file in the batch format.
    pub fn records(&mut self, entity: &'static Entity) -> Result<RecordWriter> {
        let rel = format!("data/{}.{}", entity.file, self.meta.format.ext());
        RecordWriter::create(&self.tmp.join(&rel), entity, self.meta.format)
    }

    /// Record a finished payload file.
    pub fn add(&mut self, entity: &'static Entity, w: WrittenFile) {
        let rel = w
            .path
            .strip_prefix(&self.tmp)
            .expect("payload is written inside the batch")
            .to_string_lossy()
            .replace('\\', "/");
        let nested = entity.child.is_some() && self.meta.format == Format::Xml;
        self.meta.files.push(FileEntry {
            path: rel.clone(),
            entity: entity.name.to_string(),
            rows: w.rows,
            child_rows: nested.then_some(w.child_rows),
        });
        self.payload.insert(rel, (w.sha256, w.bytes));
    }

    /// Put a record in `data/rejects/<entity>.csv` with its reason in
    /// `data/rejects/<entity>.errors.csv`.
    #[allow(clippy::too_many_arguments)]
    pub fn reject(
        &mut self,
        entity: &'static Entity,
        record: &[String],
        file: &str,
        line: u64,
        field: &str,
        code: &str,
        message: &str,
    ) -> Result<()> {
        if !self.rejects.contains_key(entity.name) {
            let dir = self.tmp.join("data/rejects");
            let rec = RecordWriter::create(
                &dir.join(format!("{}.csv", entity.file)),
                entity,
                Format::Csv,
            )?;
            let err = RecordWriter::create(
                &dir.join(format!("{}.errors.csv", entity.file)),
                &entities::REJECT_ERRORS,
                Format::Csv,
            )?;
            self.rejects.insert(entity.name, (rec, err));
        }
        let (rec_w, err_w) = self.rejects.get_mut(entity.name).expect("inserted above");
        let mut padded: Vec<String> = record.to_vec();
        padded.resize(entity.columns.len(), String::new());
        rec_w.write(&padded)?;
        err_w.write(&[
            file,
            &line.to_string(),
            &entity.key_of(&padded),
            field,
            code,
            message,
        ])?;
        self.rejected += 1;
        Ok(())
    }

    /// Note a record that passes with a warning (`data/warnings.csv`).
    pub fn warn(
        &mut self,
        entity: &str,
        key: &str,
        field: &str,
        code: &str,
        message: &str,
    ) -> Result<()> {
        if self.warnings.is_none() {
            self.warnings = Some(RecordWriter::create(
                &self.tmp.join("data/warnings.csv"),
                &entities::WARNINGS,
                Format::Csv,
            )?);
        }
        self.warnings
            .as_mut()
            .expect("created above")
            .write(&[entity, key, field, code, message])?;
        self.warned += 1;
        Ok(())
    }

    /// Seal the bag and move it into place. Returns the published batch.
    pub fn finish(mut self) -> Result<Batch> {
        for (name, (rec, err)) in std::mem::take(&mut self.rejects) {
            let w = rec.finish()?;
            self.add_sidecar(w, name);
            let w = err.finish()?;
            self.add_sidecar(w, entities::REJECT_ERRORS.name);
        }
        if let Some(w) = self.warnings.take() {
            let w = w.finish()?;
            self.add_sidecar(w, entities::WARNINGS.name);
        }
        let tag = toml::to_string(&self.meta)
            .map_err(|e| Error::batch(&self.meta.batch_id, format!("writing {TAG_FILE}: {e}")))?;
        bag::write_synced(&self.tmp.join(TAG_FILE), tag.as_bytes())?;
        let m = &self.meta;
        let mut info = vec![
            (
                "Source-Organization",
                format!("magsync site {}", m.source.site),
            ),
            ("Bagging-Date", m.created_at[..10].to_string()),
            ("Bag-Software-Agent", m.tool_version.clone()),
            ("External-Identifier", m.batch_id.clone()),
            (
                "External-Description",
                format!(
                    "magsync {} batch, flow {}, shop {}",
                    m.stage.as_str(),
                    m.flow,
                    m.source.shop
                ),
            ),
        ];
        if let Some(c) = &m.channel {
            info.push(("Bag-Group-Identifier", c.name.clone()));
            info.push((
                "Internal-Sender-Identifier",
                format!("{}/{}", c.name, c.sequence),
            ));
        }
        let tag_sha = bag::seal(&self.tmp, &self.payload, &info, &[TAG_FILE])?;
        sync_dir(&self.tmp.join("data"));
        sync_dir(&self.tmp);
        std::fs::rename(&self.tmp, &self.final_dir).at(&self.final_dir)?;
        self.published = true;
        if let Some(parent) = self.final_dir.parent() {
            sync_dir(parent);
        }
        Ok(Batch {
            dir: self.final_dir.clone(),
            meta: self.meta.clone(),
            tag_sha256: tag_sha,
        })
    }

    fn add_sidecar(&mut self, w: WrittenFile, entity: &str) {
        let rel = w
            .path
            .strip_prefix(&self.tmp)
            .expect("inside the batch")
            .to_string_lossy()
            .replace('\\', "/");
        self.meta.files.push(FileEntry {
            path: rel.clone(),
            entity: entity.to_string(),
            rows: w.rows,
            child_rows: None,
        });
        self.payload.insert(rel, (w.sha256, w.bytes));
    }
}

fn sync_dir(dir: &Path) {
    // Directory fsync makes the rename durable on Unix; best effort elsewhere.
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// A sealed, verified batch on disk.
#[derive(Debug, Clone)]
pub struct Batch {
    pub dir: PathBuf,
    pub meta: BatchMeta,
    /// SHA-256 of the tag manifest: the batch's identity.
    pub tag_sha256: String,
}

impl Batch {
    /// Open a batch: verify the bag (every checksum), then read the tag file.
    pub fn open(dir: &Path) -> Result<Batch> {
        let summary = bag::verify(dir)?;
        let name = dir.display().to_string();
        let raw = super::codec::read_small(&dir.join(TAG_FILE), 1 << 20)
            .map_err(|_| Error::batch(&name, format!("{TAG_FILE} is missing")))?;
        let text = String::from_utf8(raw)
            .map_err(|_| Error::batch(&name, format!("{TAG_FILE} is not UTF-8")))?;
        let meta =
            parse_tag_file(&text).map_err(|m| Error::batch(&name, format!("{TAG_FILE}: {m}")))?;
        for f in &meta.files {
            if !summary.payload_files.contains(&f.path) {
                return Err(Error::batch(
                    &name,
                    format!("{TAG_FILE} names {}, which is not in the payload", f.path),
                ));
            }
            if entities::by_name(&f.entity).is_none() {
                return Err(Error::batch(
                    &name,
                    format!("{}: unknown entity `{}`", f.path, f.entity),
                ));
            }
        }
        for p in &summary.payload_files {
            if !meta.files.iter().any(|f| &f.path == p) {
                return Err(Error::batch(
                    &name,
                    format!("{p}: payload file not described in {TAG_FILE}"),
                ));
            }
        }
        Ok(Batch {
            dir: dir.to_path_buf(),
            meta,
            tag_sha256: summary.tag_sha256,
        })
    }

    pub fn id(&self) -> &str {
        &self.meta.batch_id
    }

    /// The main payload file of an entity (not a rejects file).
    pub fn file_of(&self, entity: &Entity) -> Option<&FileEntry> {
        self.meta
            .files
            .iter()
            .find(|f| f.entity == entity.name && !f.path.starts_with("data/rejects/"))
    }

    pub fn reader(&self, entity: &'static Entity) -> Result<(RecordReader, String)> {
        let f = self.file_of(entity).ok_or_else(|| {
            Error::batch(
                self.id(),
                format!("{TAG_FILE} lists no {} file (data/)", entity.name),
            )
        })?;
        let display = format!("{}/{}", self.id(), f.path);
        Ok((
            RecordReader::open(&self.dir.join(&f.path), entity, &display)?,
            display,
        ))
    }

    /// Check every row of every file against its entity schema and the row
    /// counts of the tag file. Returns the number of rows checked. Rejected
    /// records (`data/rejects/<entity>.csv`) are kept as they came, invalid
    /// values included: only their structure is checked.
    pub fn verify_rows(&self) -> Result<u64> {
        let mut total = 0;
        for f in &self.meta.files {
            let entity = entities::by_name(&f.entity).expect("checked in open");
            let originals = f.path.starts_with("data/rejects/") && !f.path.ends_with(".errors.csv");
            let display = format!("{}/{}", self.id(), f.path);
            if originals {
                total += self.check_file(f, entity, &display, false)?;
            } else if let Some(child) = entity.child {
                total += self.check_group(f, entity, child)?;
            } else if entities::parent_of(entity).is_some_and(|p| self.file_of(p).is_some()) {
                // Read with its parent file.
            } else {
                total += self.check_file(f, entity, &display, true)?;
            }
        }
        Ok(total)
    }

    fn check_file(
        &self,
        f: &FileEntry,
        entity: &'static Entity,
        display: &str,
        validate: bool,
    ) -> Result<u64> {
        let mut r = RecordReader::open(&self.dir.join(&f.path), entity, display)?;
        let mut rec = Vec::new();
        let mut n = 0u64;
        while let Some(item) = r.next(&mut rec)? {
            if validate {
                check_item(entity, item, &rec, display)?;
            }
            n += 1;
        }
        self.check_count(&f.path, n, f.rows)?;
        Ok(n)
    }

    fn check_group(
        &self,
        f: &FileEntry,
        parent: &'static Entity,
        child: &'static Entity,
    ) -> Result<u64> {
        let mut r = super::group::GroupReader::open(self, parent)?;
        let display = format!("{}/{}", self.id(), f.path);
        let child_display = match self.file_of(child) {
            Some(cf) => format!("{}/{}", self.id(), cf.path),
            None => display.clone(),
        };
        let mut g = super::group::Group::default();
        let (mut n, mut nc) = (0u64, 0u64);
        while r.next(&mut g)? {
            check_item(
                parent,
                g.item.take().expect("set by next"),
                &g.rec,
                &display,
            )?;
            for (item, rec) in g.children.drain(..) {
                check_item(child, item, &rec, &child_display)?;
                nc += 1;
            }
            n += 1;
        }
        self.check_count(&f.path, n, f.rows)?;
        match (self.file_of(child), f.child_rows) {
            (Some(cf), _) => self.check_count(&cf.path, nc, cf.rows)?,
            (None, Some(want)) => {
                self.check_count(&format!("{} (nested {})", f.path, child.name), nc, want)?
            }
            (None, None) => {}
        }
        Ok(n + nc)
    }

    fn check_count(&self, path: &str, n: u64, want: u64) -> Result<()> {
        if n != want {
            return Err(Error::batch(
                self.id(),
                format!("{path}: {n} rows, the tag file says {want}"),
            ));
        }
        Ok(())
    }
}

fn check_item(entity: &Entity, item: Item, rec: &[String], display: &str) -> Result<()> {
    match item {
        Item::Record(line) => entity.validate(rec).map_err(|p| Error::Field {
            file: display.to_string(),
            line,
            field: p.field,
            code: p.code,
            message: p.message,
        }),
        Item::Invalid {
            line,
            field,
            code,
            message,
        } => Err(Error::Field {
            file: display.to_string(),
            line,
            field,
            code,
            message,
        }),
    }
}

/// Parse and version-check a tag file.
pub fn parse_tag_file(text: &str) -> std::result::Result<BatchMeta, String> {
    // Check the version first, so a newer major is named as such rather
    // than as whatever field it renamed.
    let value: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
    let version = value
        .get("format_version")
        .and_then(|v| v.as_str())
        .ok_or("format_version is missing")?;
    // MAJOR.MINOR.PATCH, digits only.
    let parts: Vec<u64> = version
        .split('.')
        .map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<Vec<u64>>>()
        .filter(|p| p.len() == 3)
        .ok_or_else(|| {
            format!("format_version `{version}` is not a version (MAJOR.MINOR.PATCH)")
        })?;
    let major = parts[0];
    if major > FORMAT_MAJOR {
        return Err(format!(
            "staging format {version} is newer than this magsync reads ({FORMAT_MAJOR}.x): upgrade magsync to read it"
        ));
    }
    if major < FORMAT_MAJOR {
        return Err(format!(
            "staging format {version} is an old major version this magsync no longer reads"
        ));
    }
    let meta: BatchMeta = toml::from_str(text).map_err(|e| e.to_string())?;
    if !is_valid_name(&meta.batch_id) {
        return Err(format!(
            "batch_id `{}` is not a valid batch name",
            meta.batch_id
        ));
    }
    Ok(meta)
}

#[cfg(test)]
mod sweep_tests {
    use super::*;

    #[test]
    fn a_partial_left_untouched_is_swept_a_recent_one_kept() {
        let root = tempfile::tempdir().unwrap();
        let old = root
            .path()
            .join(".s1.orders.extracted.20260101t000000z.partial");
        let new = root
            .path()
            .join(".s1.orders.extracted.20260102t000000z.partial");
        let done = root.path().join("s1.orders.extracted.20260101t000000z");
        for d in [&old, &new, &done] {
            std::fs::create_dir_all(d.join("data")).unwrap();
            std::fs::write(d.join("data/x.csv"), "a\n").unwrap();
        }
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        // Directories cannot be opened for writing: set their times through
        // a read handle (set_modified needs only the handle on Linux).
        for p in [old.join("data/x.csv"), old.join("data"), old.clone()] {
            std::fs::File::open(&p)
                .unwrap()
                .set_modified(long_ago)
                .unwrap();
        }
        assert_eq!(sweep_partials(root.path(), STALE_PARTIAL).unwrap(), 1);
        assert!(!old.exists(), "the stale partial is gone");
        assert!(new.exists(), "a partial being written is kept");
        assert!(done.exists(), "finished batches are never touched");
    }
}

/// A CSV orders batch's description of shop `s1` at `stage`, for tests.
#[cfg(test)]
pub(crate) fn test_meta(stage: Stage) -> BatchMeta {
    BatchMeta::new(
        Flow::Orders,
        stage,
        crate::staging::Format::Csv,
        Source {
            site: "s".into(),
            shop: "s1".into(),
            system: "oscommerce".into(),
            profile: "oscommerce-2.3".into(),
            encoding: None,
        },
    )
}

#[cfg(test)]
mod create_tests {
    use super::*;

    #[test]
    fn two_writers_started_in_the_same_millisecond_never_share_a_directory() {
        let root = tempfile::tempdir().unwrap();
        let meta = test_meta(Stage::Extracted);
        let a = BatchWriter::create(root.path(), meta.clone()).unwrap();
        std::fs::write(a.scratch("mine"), "a").unwrap();
        let b = BatchWriter::create(root.path(), meta.clone()).unwrap();
        assert_ne!(a.meta().batch_id, b.meta().batch_id);
        assert_eq!(
            std::fs::read_to_string(a.scratch("mine")).unwrap(),
            "a",
            "the first writer's files are left alone"
        );
        assert!(!b.scratch("mine").exists());
    }
}
