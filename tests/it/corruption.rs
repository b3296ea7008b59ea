//! Corruption at scale: 1 200 random single-byte changes and truncations
//! over a bag and a packed file. Every one is refused before anything is
//! applied, and the message names the damaged file.

use crate::util::*;
use magsync::demo::Rng;
use magsync::staging::Batch;
use std::path::{Path, PathBuf};

fn files_of(dir: &Path) -> Vec<(String, PathBuf)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .to_string(),
                e.path().to_path_buf(),
            )
        })
        .collect()
}

#[test]
fn a_thousand_damaged_bags_and_packs_are_all_refused_by_name() {
    let data = ShopData::new(10, 5, 25, 3);
    let dir = sqlite_site(&data, |url| {
        format!(
            "site = \"shop\"\nstaging = \"staging\"\n[magazyn]\nsite = \"office\"\n[shops.s1]\nurl = \"{url}\"\norder_prefix = \"S1/\"\n"
        )
    });
    dir.magsync(&["extract", "--shop", "s1", "--flow", "orders"])
        .ok();
    let bag = dir.batches("outbox").pop().unwrap();
    let files = files_of(&bag);
    let mut rng = Rng::new(2026);
    let mut refused = 0;
    // 650 single-byte changes spread over every file of the bag.
    for _ in 0..650 {
        let (rel, path) = &files[rng.below(files.len())];
        let orig = std::fs::read(path).unwrap();
        if orig.is_empty() {
            continue;
        }
        let mut bytes = orig.clone();
        let pos = rng.below(bytes.len());
        bytes[pos] ^= 1 << rng.below(8);
        // A checksum's hex digit changing case is no damage: checksums are
        // compared case-insensitively (RFC 8493), and the bag stays valid.
        let (a, b) = (orig[pos], bytes[pos]);
        if rel.contains("manifest") && a.is_ascii_hexdigit() && a.eq_ignore_ascii_case(&b) {
            continue;
        }
        std::fs::write(path, &bytes).unwrap();
        let err = Batch::open(&bag)
            .and_then(|b| b.verify_rows().map(|_| ()))
            .expect_err(&format!("{rel}@{pos} accepted"));
        let msg = err.to_string();
        let named = msg.contains(rel.as_str())
            || (rel == "tagmanifest-sha256.txt" && msg.contains("tag manifest"));
        assert!(named, "{rel}@{pos}: {msg}");
        std::fs::write(path, &orig).unwrap();
        refused += 1;
    }
    Batch::open(&bag).unwrap().verify_rows().unwrap();

    // 600 damaged packs: flipped bytes and truncations.
    let stick = dir.join("stick");
    dir.magsync(&["pack", "--out", stick.to_str().unwrap()])
        .ok();
    let pack = std::fs::read_dir(&stick)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "tar"))
        .unwrap();
    let orig = std::fs::read(&pack).unwrap();
    let office = Dir::new();
    office.write("magsync.toml", "site = \"office\"\nstaging = \"staging\"\n[magazyn]\nurl = \"sqlite://magazyn.db\"\n[shops.s1]\nsite = \"shop\"\n");
    let cfg_path = office.join("magsync.toml");
    let mut cfg =
        magsync::config::Config::parse(&std::fs::read_to_string(&cfg_path).unwrap(), &cfg_path)
            .unwrap();
    cfg.path = cfg_path.clone();
    for i in 0..600 {
        let mut bytes = orig.clone();
        if i % 5 == 0 {
            bytes.truncate(rng.below(orig.len()));
        } else {
            let pos = rng.below(bytes.len());
            bytes[pos] ^= 1 << rng.below(8);
        }
        std::fs::write(&pack, &bytes).unwrap();
        let err = match magsync::transfer::unpack::unpack_file(&cfg, &pack) {
            Ok(_) => panic!("damaged pack #{i} accepted"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(&pack.display().to_string()) && err.contains("refused"),
            "{err}"
        );
        refused += 1;
    }
    assert!(refused >= 1000, "{refused}");
    assert!(
        office.batches("inbox/shop-to-office").is_empty(),
        "nothing was filed"
    );
    std::fs::write(&pack, &orig).unwrap();
    magsync::transfer::unpack::unpack_file(&cfg, &pack).unwrap();
    assert_eq!(office.batches("inbox/shop-to-office").len(), 1);
}
