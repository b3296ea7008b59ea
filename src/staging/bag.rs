//! BagIt (RFC 8493) bags: the envelope of every staging batch.
//!
//! Written in-house on `sha2` + `walkdir` (about as long as adapting a young
//! crate). Payload files are hashed while they are written
//! ([`super::behind::WriteBehind`]),
//! so sealing a bag reads nothing twice. Verification follows RFC 8493 §3:
//! complete (every payload file listed, every listed file present) and valid
//! (every checksum matches), plus the tag manifest, which magsync always
//! writes and whose hash identifies a batch in channel chains and ledgers.

use crate::error::{Error, IoContext, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Component, Path};

pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

pub fn sha256_bytes(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut f = std::fs::File::open(path).at(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf).at(path)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        n_total += n as u64;
    }
    Ok((hex(&h.finalize()), n_total))
}

/// Write a file and sync it; returns its digest.
pub fn write_synced(path: &Path, data: &[u8]) -> Result<String> {
    let mut f = std::fs::File::create(path).at(path)?;
    f.write_all(data).at(path)?;
    f.sync_all().at(path)?;
    Ok(sha256_bytes(data))
}

/// Percent-encode a manifest path as RFC 8493 §2.1.3 asks (CR, LF, `%`).
fn encode_path(p: &str) -> String {
    p.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn decode_path(p: &str) -> String {
    p.replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%25", "%")
}

/// Seal a bag whose payload is already under `dir/data` with the given
/// digests: writes `bagit.txt`, `manifest-sha256.txt`, `bag-info.txt` (with
/// Payload-Oxum) and, after the extra tag files already in `dir`,
/// `tagmanifest-sha256.txt`. Returns the tag manifest's own SHA-256.
pub fn seal(
    dir: &Path,
    payload: &BTreeMap<String, (String, u64)>,
    info: &[(&str, String)],
    extra_tag_files: &[&str],
) -> Result<String> {
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    tags.insert(
        "bagit.txt".into(),
        write_synced(&dir.join("bagit.txt"), BAGIT_TXT.as_bytes())?,
    );
    let mut manifest = String::new();
    let (mut octets, mut streams) = (0u64, 0u64);
    for (path, (sha, bytes)) in payload {
        manifest.push_str(&format!("{sha}  {}\n", encode_path(path)));
        octets += bytes;
        streams += 1;
    }
    tags.insert(
        "manifest-sha256.txt".into(),
        write_synced(&dir.join("manifest-sha256.txt"), manifest.as_bytes())?,
    );
    let mut bag_info = String::new();
    for (k, v) in info {
        // Labels and values are single-line by construction.
        bag_info.push_str(&format!("{k}: {}\n", v.replace(['\r', '\n'], " ")));
    }
    bag_info.push_str(&format!("Payload-Oxum: {octets}.{streams}\n"));
    tags.insert(
        "bag-info.txt".into(),
        write_synced(&dir.join("bag-info.txt"), bag_info.as_bytes())?,
    );
    for name in extra_tag_files {
        tags.insert((*name).to_string(), sha256_file(&dir.join(name))?.0);
    }
    let mut tm = String::new();
    for (name, sha) in &tags {
        tm.push_str(&format!("{sha}  {}\n", encode_path(name)));
    }
    write_synced(&dir.join("tagmanifest-sha256.txt"), tm.as_bytes())
}

/// What a verified bag holds.
#[derive(Debug)]
pub struct BagSummary {
    /// SHA-256 of `tagmanifest-sha256.txt`: the batch's identity hash.
    pub tag_sha256: String,
    pub payload_files: Vec<String>,
    pub payload_bytes: u64,
}

/// Verify a bag completely (RFC 8493 §3, complete and valid). Every problem
/// names the bag and the file.
pub fn verify(dir: &Path) -> Result<BagSummary> {
    let name = dir.display().to_string();
    let bad = |msg: String| Error::batch(&name, msg);
    if !dir.is_dir() {
        return Err(bad("not a directory".into()));
    }
    let bagit = super::codec::read_small(&dir.join("bagit.txt"), 4096)
        .map_err(|_| bad("bagit.txt is missing or unreadable".into()))?;
    if bagit != BAGIT_TXT.as_bytes() {
        return Err(bad(
            "bagit.txt is not the BagIt 1.0 declaration (two lines, UTF-8, no BOM)".into(),
        ));
    }
    let tagmanifest = parse_manifest(dir, "tagmanifest-sha256.txt", &name)?;

    // Tag files first: a damaged manifest is named as such, not as the
    // payload file whose line it garbled.
    for (rel, want) in &tagmanifest {
        if rel.starts_with("data/") {
            return Err(bad(format!(
                "tagmanifest-sha256.txt lists payload file {rel}"
            )));
        }
        let path = dir.join(rel);
        if !path.is_file() {
            return Err(bad(format!(
                "{rel}: listed in tagmanifest-sha256.txt but missing"
            )));
        }
        let (got, _) = sha256_file(&path)?;
        if &got != want {
            return Err(bad(format!(
                "{rel}: checksum mismatch (tag manifest {want}, file {got}): the file was changed or damaged"
            )));
        }
    }
    // Payload: every file under data/ listed, every listed file present.
    let manifest = parse_manifest(dir, "manifest-sha256.txt", &name)?;
    let data = dir.join("data");
    if !data.is_dir() {
        return Err(bad("the payload directory data/ is missing".into()));
    }
    let mut on_disk = Vec::new();
    for entry in walkdir::WalkDir::new(&data).sort_by_file_name() {
        let entry = entry.map_err(|e| bad(format!("reading data/: {e}")))?;
        let ft = entry.file_type();
        if ft.is_symlink() {
            return Err(bad(format!(
                "{}: symbolic links are not allowed in a batch",
                entry.path().display()
            )));
        }
        if ft.is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .expect("walk stays below dir")
                .to_string_lossy()
                .replace('\\', "/");
            on_disk.push(rel);
        }
    }
    for rel in &on_disk {
        if !manifest.contains_key(rel) {
            return Err(bad(format!(
                "{rel}: payload file not listed in manifest-sha256.txt"
            )));
        }
    }
    let mut bytes = 0u64;
    for (rel, want) in &manifest {
        if !rel.starts_with("data/") {
            return Err(bad(format!(
                "manifest-sha256.txt lists {rel}, which is outside data/"
            )));
        }
        let path = dir.join(rel);
        if !path.is_file() {
            return Err(bad(format!(
                "{rel}: listed in manifest-sha256.txt but missing"
            )));
        }
        let (got, n) = sha256_file(&path)?;
        if &got != want {
            return Err(bad(format!(
                "{rel}: checksum mismatch (manifest {want}, file {got}): the file was changed or damaged"
            )));
        }
        bytes += n;
    }
    // Payload-Oxum must agree (a quick completeness check).
    let info = String::from_utf8(super::codec::read_small(
        &dir.join("bag-info.txt"),
        1 << 20,
    )?)
    .map_err(|_| bad("bag-info.txt is not UTF-8".into()))?;
    if let Some(oxum) = info.lines().find_map(|l| l.strip_prefix("Payload-Oxum:")) {
        let want = format!("{bytes}.{}", manifest.len());
        if oxum.trim() != want {
            return Err(bad(format!(
                "bag-info.txt: Payload-Oxum {} does not match the payload ({want})",
                oxum.trim()
            )));
        }
    }
    for required in ["bagit.txt", "bag-info.txt", "manifest-sha256.txt"] {
        if !tagmanifest.contains_key(required) {
            return Err(bad(format!(
                "tagmanifest-sha256.txt does not list {required}"
            )));
        }
    }
    let tag_sha256 = sha256_file(&dir.join("tagmanifest-sha256.txt"))?.0;
    Ok(BagSummary {
        tag_sha256,
        payload_files: on_disk,
        payload_bytes: bytes,
    })
}

fn parse_manifest(dir: &Path, file: &str, bag: &str) -> Result<BTreeMap<String, String>> {
    let raw = super::codec::read_small(&dir.join(file), 64 << 20)
        .map_err(|_| Error::batch(bag, format!("{file} is missing or unreadable")))?;
    let text =
        String::from_utf8(raw).map_err(|_| Error::batch(bag, format!("{file} is not UTF-8")))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |m: &str| Error::batch(bag, format!("{file}, line {}: {m}", i + 1));
        let (sum, path) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("expected `<sha256> <path>`"))?;
        let path = decode_path(path.trim_start());
        if sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("not a SHA-256 checksum"));
        }
        if !is_safe_relative(&path) {
            return Err(bad(&format!("unsafe path `{path}`")));
        }
        if out.insert(path.clone(), sum.to_ascii_lowercase()).is_some() {
            return Err(bad(&format!("`{path}` is listed twice")));
        }
    }
    Ok(out)
}

/// A relative path with no `..`, no root, no drive: cannot leave its base.
pub fn is_safe_relative(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty()
        && !p.contains('\\')
        && path.components().all(|c| matches!(c, Component::Normal(_)))
}
