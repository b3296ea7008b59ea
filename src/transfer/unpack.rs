//! `unpack`: verify a packed file completely — its checksum, every entry's
//! path and type, every bag, the chain — and only then file its batches into
//! the inbox. A file that fails any check is refused by name and nothing of
//! it is filed.

use super::{PACK_MANIFEST, PackManifest};
use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::staging::Batch;
use crate::staging::bag::{is_safe_relative, sha256_file};
use std::io::Read;
use std::path::{Path, PathBuf};

pub struct Unpacked {
    pub file: PathBuf,
    pub channel: String,
    /// (sequence, batch id) filed into the inbox now.
    pub filed: Vec<(u64, String)>,
    /// Batches the inbox already had (the same stick read twice).
    pub already: Vec<(u64, String)>,
}

/// The packed files at `path` (a file, or every pack in a directory).
pub fn files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(path)
        .at(path)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            !n.starts_with('.') && (n.ends_with(".magsync.tar") || n.ends_with(".magsync.tar.age"))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Removes the scratch directory whatever happens.
struct Scratch(PathBuf);
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn unpack_file(cfg: &Config, file: &Path) -> Result<Unpacked> {
    let name = file.display().to_string();
    let refuse = |m: String| Error::Transfer {
        file: file.to_path_buf(),
        message: format!("refused: {m}; nothing of it was filed"),
    };

    // 1. The whole file against its checksum.
    let sidecar = PathBuf::from(format!("{name}.sha256"));
    let want = std::fs::read_to_string(&sidecar).map_err(|_| {
        refuse(format!(
            "its checksum file {} is missing: it cannot be verified",
            sidecar.display()
        ))
    })?;
    let want = want
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let (got, _) = sha256_file(file)?;
    if got != want {
        return Err(refuse(format!(
            "checksum mismatch (expected {want}, file has {got}): the file was changed, damaged or cut short"
        )));
    }

    // 2. Decrypt if needed, and read the tar into a scratch directory,
    //    refusing any entry that could land outside it.
    let inbox = super::inbox_dir(cfg);
    std::fs::create_dir_all(&inbox).at(&inbox)?;
    let scratch = Scratch(inbox.join(format!(
        ".unpack-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    )));
    std::fs::create_dir_all(&scratch.0).at(&scratch.0)?;
    let raw = std::io::BufReader::new(std::fs::File::open(file).at(file)?);
    let reader: Box<dyn Read> = if name.ends_with(".age") {
        Box::new(super::crypt::decrypt(cfg, raw, file)?)
    } else {
        Box::new(raw)
    };
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| refuse(format!("not a readable pack: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| refuse(format!("not a readable pack: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| refuse(format!("bad entry name: {e}")))?
            .to_string_lossy()
            .into_owned();
        let path = path.trim_end_matches('/').to_string();
        if !is_safe_relative(&path) {
            return Err(refuse(format!(
                "entry `{path}` would land outside the inbox"
            )));
        }
        let target = scratch.0.join(&path);
        match entry.header().entry_type() {
            tar::EntryType::Directory => std::fs::create_dir_all(&target).at(&target)?,
            tar::EntryType::Regular => {
                if let Some(p) = target.parent() {
                    std::fs::create_dir_all(p).at(p)?;
                }
                let mut f = std::fs::File::create(&target).at(&target)?;
                std::io::copy(&mut entry, &mut f)
                    .map_err(|e| refuse(format!("entry `{path}`: {e}")))?;
            }
            other => {
                return Err(refuse(format!(
                    "entry `{path}` is a {other:?}, not a file or directory"
                )));
            }
        }
    }

    // 3. The manifest, every bag, the chain.
    let mtext = std::fs::read_to_string(scratch.0.join(PACK_MANIFEST))
        .map_err(|_| refuse(format!("{PACK_MANIFEST} is missing")))?;
    let manifest: PackManifest =
        toml::from_str(&mtext).map_err(|e| refuse(format!("{PACK_MANIFEST}: {}", e.message())))?;
    if !manifest.channel.ends_with(&format!("-to-{}", cfg.site)) {
        return Err(refuse(format!(
            "it is for channel {}, and this is site `{}`",
            manifest.channel, cfg.site
        )));
    }
    let listed: Vec<&str> = manifest
        .batches
        .iter()
        .map(|b| b.batch_id.as_str())
        .collect();
    for e in std::fs::read_dir(&scratch.0).at(&scratch.0)? {
        let n = e.at(&scratch.0)?.file_name().to_string_lossy().into_owned();
        if n != PACK_MANIFEST && !listed.contains(&n.as_str()) {
            return Err(refuse(format!("`{n}` is not listed in {PACK_MANIFEST}")));
        }
    }
    let mut batches = Vec::new();
    let mut prev: Option<(u64, String)> = None;
    for pb in &manifest.batches {
        if !crate::staging::batch::is_valid_name(&pb.batch_id) {
            return Err(refuse(format!("`{}` is not a batch name", pb.batch_id)));
        }
        let b = Batch::open(&scratch.0.join(&pb.batch_id)).map_err(|e| refuse(e.to_string()))?;
        b.verify_rows().map_err(|e| refuse(e.to_string()))?;
        if b.tag_sha256 != pb.tagmanifest_sha256 {
            return Err(refuse(format!(
                "batch {} is not the one listed (tag manifest {})",
                pb.batch_id, b.tag_sha256
            )));
        }
        let ch = b
            .meta
            .channel
            .clone()
            .ok_or_else(|| refuse(format!("batch {} is on no channel", pb.batch_id)))?;
        if ch.name != manifest.channel || ch.sequence != pb.sequence {
            return Err(refuse(format!(
                "batch {} says channel {} #{}, the pack {} #{}",
                pb.batch_id, ch.name, ch.sequence, manifest.channel, pb.sequence
            )));
        }
        if let Some((seq, hash)) = &prev
            && ch.sequence == seq + 1
            && ch.previous_tagmanifest_sha256.as_deref() != Some(hash.as_str())
        {
            return Err(refuse(format!(
                "batch {} does not chain to #{seq} before it",
                pb.batch_id
            )));
        }
        prev = Some((ch.sequence, b.tag_sha256.clone()));
        batches.push(b);
    }

    // 4. File them.
    let dest_dir = inbox.join(&manifest.channel);
    std::fs::create_dir_all(&dest_dir).at(&dest_dir)?;
    let applied: super::InboxState = cfg.site().state().load("inbox", &manifest.channel)?;
    let mut out = Unpacked {
        file: file.to_path_buf(),
        channel: manifest.channel.clone(),
        filed: Vec::new(),
        already: Vec::new(),
    };
    for b in batches {
        let seq = b.meta.channel.as_ref().map_or(0, |c| c.sequence);
        let dest = dest_dir.join(b.id());
        let known = applied
            .applied
            .get(&seq.to_string())
            .is_some_and(|a| a.tagmanifest_sha256 == b.tag_sha256);
        if dest.exists() || known {
            out.already.push((seq, b.id().to_string()));
            continue;
        }
        std::fs::rename(&b.dir, &dest).at(&dest)?;
        out.filed.push((seq, b.id().to_string()));
    }
    Ok(out)
}
