//! The malformed-input corpus (`tests/data/bad/`): every file gets a clear
//! error naming the file (and the line or field where there is one), never
//! a panic, and nothing of it is applied.

use crate::util::*;
use magsync::staging::{BatchMeta, BatchWriter, Format, Stage, entities};
use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// A sealed transformed batch of `entity` holding `payload` as its file.
fn batch_with(
    dir: &Dir,
    flow: &str,
    entity: &'static magsync::staging::Entity,
    payload: &Path,
    ext: &str,
) -> PathBuf {
    let meta = BatchMeta::new(
        magsync::flows::Flow::parse(flow).expect("a flow"),
        Stage::Transformed,
        if ext == "xml" {
            Format::Xml
        } else {
            Format::Csv
        },
        office_source(),
    );
    let mut bw = BatchWriter::create(&dir.join("staging/work"), meta).unwrap();
    let w = bw.records(entity).unwrap();
    bw.add(entity, w.finish().unwrap());
    let b = bw.finish().unwrap();
    let target = b.dir.join(format!("data/{}.{ext}", entity.file));
    std::fs::copy(payload, &target).unwrap();
    // The tag file counts what the file roughly holds, so that a refusal
    // comes from the content, not from a row count.
    let bytes = std::fs::read(payload).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let rows = if ext == "xml" {
        text.matches(&format!("<{}>", entity.record)).count()
    } else {
        csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(bytes.as_slice())
            .byte_records()
            .count()
    };
    let tag = b.dir.join("magsync-batch.toml");
    let t = std::fs::read_to_string(&tag)
        .unwrap()
        .replace("rows = 0", &format!("rows = {rows}"));
    std::fs::write(&tag, t).unwrap();
    reseal(&b.dir);
    b.dir
}

#[test]
fn every_malformed_input_is_refused_by_name_without_a_panic() {
    let files = corpus();
    assert!(files.len() >= 50, "{} files in the corpus", files.len());
    let dir = Dir::new();
    let url = sqlite_shop(&dir, 1, 1);
    dir.write(
        "magsync.toml",
        &config_with(&url, "csv", "import_price_list = \"Sklep1\"\n"),
    );
    let mut checked = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let (run, must_name) = if let Some(stem) = name.strip_suffix(".config.toml") {
            let _ = stem;
            let r = Run::from(
                std::process::Command::new(env!("CARGO_BIN_EXE_magsync"))
                    .arg("--config")
                    .arg(f)
                    .arg("check")
                    .output()
                    .unwrap(),
            );
            (r, name.clone())
        } else if name.ends_with(".tag.toml") {
            let b = batch_with(&dir, "customers", &entities::CUSTOMERS, &corpus()[0], "csv");
            std::fs::copy(f, b.join("magsync-batch.toml")).unwrap();
            reseal(&b);
            let r = dir.magsync(&["verify", b.to_str().unwrap()]);
            std::fs::remove_dir_all(&b).unwrap();
            (r, "magsync-batch.toml".into())
        } else {
            let (flow, entity) = if name.contains(".price_entries.") {
                ("prices", &entities::PRICE_ENTRIES)
            } else {
                ("customers", &entities::CUSTOMERS)
            };
            let ext = if name.ends_with(".xml") { "xml" } else { "csv" };
            let b = batch_with(&dir, flow, entity, f, ext);
            let v = dir.magsync(&["verify", b.to_str().unwrap()]);
            // Loading it applies nothing either.
            let l = dir.magsync(&["load", b.to_str().unwrap()]);
            assert_eq!(l.code, 2, "{name}: load accepted it:\n{}", l.stdout);
            std::fs::remove_dir_all(&b).unwrap();
            (v, format!("data/{}.{ext}", entity.file))
        };
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !all.contains("rows, the tag file says"),
            "{name}: refused only for its row count:\n{all}"
        );
        assert_eq!(run.code, 2, "{name}: not refused:\n{all}");
        assert!(!all.contains("panicked"), "{name}: panicked:\n{all}");
        assert!(
            all.contains(&must_name),
            "{name}: the message does not name {must_name}:\n{all}"
        );
        checked += 1;
    }
    assert!(checked >= 50);
    if magazyn_exists(&dir) {
        assert_eq!(
            magazyn_count(&dir, "SELECT COUNT(*) FROM customers"),
            0,
            "nothing applied"
        );
        assert_eq!(
            magazyn_count(&dir, "SELECT COUNT(*) FROM magsync_batches"),
            0
        );
    }
}
