//! Mutation fuzzing of the four parsers that read what comes from outside:
//! the staging CSV and XML readers (CSV orders also with their lines, read
//! together by `verify_rows`), the tag file (`magsync-batch.toml`, read by
//! `Batch::open`, then `verify_rows`) and the configuration (`Config::load`:
//! parse, then validate). cargo-fuzz needs a nightly toolchain, so this is
//! a small in-crate fuzzer instead.
//!
//! The seed corpus is what magsync itself writes (records from
//! `RecordWriter`, tag files of sealed batches, the sample configurations)
//! plus every file of `tests/data/bad/`. Each iteration takes one seed and
//! stacks a few mutations on it (bit flips, byte inserts and deletes,
//! duplicated chunks, splices from any seed of any target, truncation,
//! interesting tokens: quotes, `<!DOCTYPE`, BOMs, invalid UTF-8, huge
//! numbers, deep nesting, long lines, TOML `[[`, …), caps it at 64 KiB and
//! runs the parser on it in a worker thread. An error is fine; a panic, a
//! parse slower than [`TIMEOUT`], a peak RSS above [`MEMORY_LIMIT`] or an
//! error message that does not name the file is a failure. The input of a
//! failure is saved under `$TMPDIR/magsync-fuzz/` (path printed, with the
//! seed and iteration) to become a file of `tests/data/fuzz/`, which
//! [`regressions_from_earlier_fuzzing_stay_fixed`] replays.
//!
//! By default (CI) each target runs a fixed number of iterations from a
//! fixed seed. `MAGSYNC_FUZZ_SECONDS=N` runs each target for N seconds from
//! a time-based seed instead (`benches/fuzz.sh`); `MAGSYNC_FUZZ_SEED=S`
//! sets the seed. Iteration `i` of seed `S` always makes the same input.
//! `--nocapture` shows iterations and distinct error kinds per target.

use crate::util::{Dir, config_with, office_source};
use magsync::config::Config;
use magsync::demo::Rng;
use magsync::staging::batch::TAG_FILE;
use magsync::staging::{
    Batch, BatchMeta, BatchWriter, Entity, Format, Item, RecordReader, RecordWriter, Stage,
    entities,
};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Inputs are capped at this size.
const MAX_INPUT: usize = 64 << 10;
/// One parse of one input must finish within this.
const TIMEOUT: Duration = Duration::from_secs(2);
/// The test process's peak resident memory must stay below this (64 KiB
/// inputs: a parser that allocates hundreds of MB for one shows here).
const MEMORY_LIMIT: u64 = 1 << 30;
/// Default (CI) iterations per target (halved for the slow ones, which
/// open and check a whole batch each time).
const CI_ITERATIONS: u64 = 6000;

// ---------------------------------------------------------------- corpus

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files of `tests/data/<sub>` whose names end with `suffix`.
fn data_files(sub: &str, suffix: &str) -> Vec<PathBuf> {
    let dir = manifest_dir().join("tests/data").join(sub);
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// The staging entity a corpus file name such as `x.price_entries.csv`
/// stands for (customers when it names none).
fn entity_of_name(name: &str) -> &'static Entity {
    let parts: Vec<&str> = name.split('.').collect();
    let stem = parts.len().checked_sub(2).map_or("", |i| parts[i]);
    entities::ALL
        .iter()
        .copied()
        .find(|e| e.file == stem)
        .unwrap_or(&entities::CUSTOMERS)
}

/// A record of `entity` with the given values, every other field empty.
fn rec(entity: &Entity, values: &[(&str, &str)]) -> Vec<String> {
    let mut r = entity.empty_record();
    for (k, v) in values {
        r[entity.col(k)] = (*v).to_string();
    }
    r
}

fn customers() -> Vec<Vec<String>> {
    let e = &entities::CUSTOMERS;
    vec![
        rec(
            e,
            &[
                ("shop", "s1"),
                ("shop_customer_id", "1"),
                ("code", "S1-1"),
                ("name", "Jan Kowalski"),
                ("email", "jan@example.pl"),
                ("phone", "+48 600 100 200"),
                ("street", "ul. Długa 1"),
                ("postcode", "00-001"),
                ("city", "Warszawa"),
                ("country_code", "PL"),
                ("is_company", "0"),
                ("source_modified", "2026-01-02T03:04:05"),
            ],
        ),
        rec(
            e,
            &[
                ("shop", "s1"),
                ("shop_customer_id", "-9223372036854775808"),
                ("code", "S1-2"),
                ("name", "Firma \"Ąę\" Sp. z o.o., Kraków <&> 'x'"),
                ("nip", "5260250274"),
                ("street", "Rynek 1\r\nlok. 2"),
                ("city", "Kraków"),
                ("is_company", "1"),
                ("source_modified", "2026-12-31T23:59:59Z"),
            ],
        ),
    ]
}

fn price_entries() -> Vec<Vec<String>> {
    let e = &entities::PRICE_ENTRIES;
    let p = |code, id, net, vat, gross| {
        rec(
            e,
            &[
                ("code", code),
                ("shop", "s1"),
                ("products_id", id),
                ("source", "special"),
                ("net", net),
                ("vat_rate", vat),
                ("gross", gross),
            ],
        )
    };
    vec![
        p("P-1", "7", "12.5000", "23.0000", "15.38"),
        p("P-2", "8", "-0.0100", "8", "0.00"),
        p(
            "P,3",
            "9223372036854775807",
            "7922816251426433759354395.0335",
            "0",
            "1",
        ),
    ]
}

/// Orders, each with its lines.
fn orders() -> Vec<(Vec<String>, Vec<Vec<String>>)> {
    let (o, l) = (&entities::ORDERS, &entities::ORDER_LINES);
    let order = |number: &str, id: &str| {
        rec(
            o,
            &[
                ("number", number),
                ("confirmed_number", number),
                ("shop", "s1"),
                ("shop_order_id", id),
                ("shop_customer_id", "1"),
                ("ordered_at", "2026-03-04T05:06:07"),
                ("status", "new"),
                ("description", "Płatność: przelew; Dostawa: <kurier> & co"),
                ("currency", "PLN"),
                ("currency_rate", "1.00000000"),
                ("buyer_name", "Jan Kowalski"),
                ("buyer_is_company", "0"),
                ("total_net", "100.00"),
                ("total_gross", "123.00"),
                ("shop_total", "123.00"),
            ],
        )
    };
    let line = |number: &str, no: &str, kind: &str, code: &str| {
        rec(
            l,
            &[
                ("number", number),
                ("line_no", no),
                ("kind", kind),
                ("code", code),
                ("name", "Towar"),
                ("quantity", "2.0000"),
                ("unit_net", "50.00"),
                ("vat_rate", "23.00"),
                ("unit_gross", "61.50"),
                ("total_net", "100.00"),
                ("total_gross", "123.00"),
            ],
        )
    };
    vec![
        (
            order("S1/1", "1"),
            vec![
                line("S1/1", "1", "good", "G-1"),
                line("S1/1", "2", "service", "TRANSPORT"),
            ],
        ),
        (order("S1/2", "2"), vec![]),
    ]
}

/// A staging file written by `RecordWriter`, as bytes.
fn written(
    dir: &Dir,
    entity: &'static Entity,
    format: Format,
    rows: &[(Vec<String>, Vec<Vec<String>>)],
) -> Vec<u8> {
    let path = dir.join(&format!("seed/{}.{}", entity.file, format.ext()));
    let mut w = RecordWriter::create(&path, entity, format).unwrap();
    for (r, children) in rows {
        w.write_with_children(r, children).unwrap();
    }
    w.finish().unwrap();
    std::fs::read(&path).unwrap()
}

fn plain(rows: Vec<Vec<String>>) -> Vec<(Vec<String>, Vec<Vec<String>>)> {
    rows.into_iter().map(|r| (r, Vec::new())).collect()
}

/// A seed: bytes and what they are read as.
#[derive(Clone)]
struct Seed {
    name: String,
    bytes: Vec<u8>,
    entity: &'static Entity,
    /// Tag files: which of the target's batches it belongs in.
    bag: usize,
}

impl Seed {
    fn new(name: &str, bytes: Vec<u8>, entity: &'static Entity) -> Seed {
        Seed {
            name: name.to_string(),
            bytes,
            entity,
            bag: 0,
        }
    }
}

fn bad_files(suffix: &str) -> Vec<Seed> {
    data_files("bad", suffix)
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            Seed::new(&name, std::fs::read(&p).unwrap(), entity_of_name(&name))
        })
        .collect()
}

fn staging_seeds(dir: &Dir, format: Format) -> Vec<Seed> {
    let ext = format.ext();
    let mut v = vec![
        Seed::new(
            "customers",
            written(dir, &entities::CUSTOMERS, format, &plain(customers())),
            &entities::CUSTOMERS,
        ),
        Seed::new(
            "price_entries",
            written(
                dir,
                &entities::PRICE_ENTRIES,
                format,
                &plain(price_entries()),
            ),
            &entities::PRICE_ENTRIES,
        ),
    ];
    match format {
        Format::Xml => v.push(Seed::new(
            "orders",
            written(dir, &entities::ORDERS, format, &orders()),
            &entities::ORDERS,
        )),
        Format::Csv => {
            let lines: Vec<Vec<String>> = orders().into_iter().flat_map(|(_, l)| l).collect();
            v.push(Seed::new(
                "order_lines",
                written(dir, &entities::ORDER_LINES, format, &plain(lines)),
                &entities::ORDER_LINES,
            ));
        }
    }
    v.extend(bad_files(&format!(".{ext}")));
    v
}

/// The sample configuration `magsync init` writes, as its source holds it.
fn init_sample() -> Vec<u8> {
    let src = std::fs::read_to_string(manifest_dir().join("src/cli/init.rs")).unwrap();
    let start = src.find("pub const SAMPLE: &str = r#\"").unwrap() + 27;
    let len = src[start..].find("\"#;").unwrap();
    src.as_bytes()[start..start + len].to_vec()
}

fn config_seeds() -> Vec<Seed> {
    let c = &entities::CUSTOMERS;
    let mut v = vec![
        Seed::new("init-sample", init_sample(), c),
        Seed::new(
            "test-config",
            config_with(
                "sqlite://shop.db",
                "xml",
                "[shops.s1.orders]\nshipping_vat_rate = \"23\"\ntotal_tolerance = \"0.05\"\n\
                 [shops.s1.catalog]\nupdate = [\"name\", \"ean\"]\n\
                 [plans.p]\nsteps = [\"sync s1 orders\", \"inbox\"]\n[run]\nlog_retention_days = 7\n",
            )
            .into_bytes(),
            c,
        ),
    ];
    for s in ["office", "shop"] {
        let p = manifest_dir().join(format!("samples/{s}.magsync.toml"));
        v.push(Seed::new(s, std::fs::read(p).unwrap(), c));
    }
    v.extend(bad_files(".config.toml"));
    v
}

// ------------------------------------------------------------- mutation

/// Tokens that mean something to one of the parsers.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b",",
    b"\n",
    b"\r",
    b"\r\n",
    b"<",
    b">",
    b"&",
    b"/>",
    b"</",
    b"<customer>",
    b"</customer>",
    b"<price>",
    b"<order_lines>",
    b"<line>",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"<?xml version=\"1.0\"?>",
    b"<!DOCTYPE a [<!ENTITY e \"x\">]>",
    b"<!DOCTYPE",
    b"<!ENTITY",
    b"&amp;",
    b"&e;",
    b"&#0;",
    b"&#xD800;",
    b"&#x110000;",
    b"&#99999999999999999999;",
    b" xmlns=\"urn:x\"",
    b" a=\"1\" a=\"2\"",
    b"\xEF\xBB\xBF",
    b"\xFE\xFF",
    b"\xFF\xFE",
    b"\xC3\x28",
    b"\xC3",
    b"\xF4\x90\x80\x80",
    b"\xED\xA0\x80",
    b"\0",
    b"99999999999999999999999999999999999999",
    b"79228162514264337593543950336",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"1e308",
    b"-1e-400",
    b"-0",
    b"NaN",
    b"inf",
    b"-nan",
    b"0.00000000000000000000000000001",
    b"2026-02-30T25:61:61",
    b"9999-12-31T23:59:59Z",
    b"[[",
    b"]]",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"\"\"",
    b"'''",
    b"=",
    b" = ",
    b"[shops.x]",
    b"[[shops]]",
    b"[plans.p]\nsteps = [\"sync x orders\"]\n",
    b"a.b.c.d = 1",
    b"\\u0000",
    b"\\UFFFFFFFF",
    b"\\uD800",
    b"1979-05-27T07:32:00Z",
    b"format_version = \"2.0.0\"\n",
    b"format_version = \"1.999999999999999999999.0\"\n",
    b"rows = 18446744073709551616\n",
    b"[[files]]\npath = \"data/../x\"\nentity = \"customers\"\nrows = 1\n",
    b"#",
    // Names the tag file and the readers look up.
    b"customers",
    b"orders",
    b"order_lines",
    b"price_entries",
    b"reject_errors",
    b"shop_customer_id",
    b"number",
    b"data/orders.csv",
    b"data/order_lines.csv",
    b"data/orders.xml",
    b"data/warnings.csv",
    b"data/rejects/customers.csv",
    b"child_rows = 3\n",
    b"format = \"xml\"\n",
];

/// A token made on the spot: deep nesting, long lines, repetition.
fn generated_token(rng: &mut Rng) -> Vec<u8> {
    let n = 1 + rng.below(4000);
    match rng.below(6) {
        0 => b"<a>".repeat(n),
        1 => b"[".repeat(n),
        2 => b"{a=".repeat(n),
        3 => vec![b'x'; n * 16],
        4 => b"\",".repeat(n),
        _ => b"9".repeat(n),
    }
}

fn token(rng: &mut Rng) -> Vec<u8> {
    if rng.below(8) == 0 {
        generated_token(rng)
    } else {
        TOKENS[rng.below(TOKENS.len())].to_vec()
    }
}

/// A random range of `data` (possibly empty).
fn range(rng: &mut Rng, len: usize, max: usize) -> (usize, usize) {
    let start = rng.below(len + 1);
    let n = rng.below(max.min(len - start) + 1);
    (start, start + n)
}

/// One seed, a few stacked mutations.
fn mutate(rng: &mut Rng, base: &[u8], pool: &[Vec<u8>]) -> Vec<u8> {
    let mut d = base.to_vec();
    let most = if rng.below(4) == 0 { 16 } else { 4 };
    let rounds = 1 + rng.below(most);
    for _ in 0..rounds {
        let len = d.len();
        match rng.below(10) {
            // Flip a bit.
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            // Set a byte: anything, or one of the interesting ones.
            1 if len > 0 => {
                let i = rng.below(len);
                d[i] = match rng.below(3) {
                    0 => rng.next_u64() as u8,
                    _ => *b"\0\xff\x7f\x80\n\r\",<>&=[]#'\\"
                        .get(rng.below(18))
                        .unwrap_or(&b' '),
                };
            }
            // Insert random bytes.
            2 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                d.splice(i..i, bytes);
            }
            // Delete a range.
            3 if len > 0 => {
                let (a, b) = range(rng, len, 32);
                d.drain(a..b);
            }
            // Duplicate a chunk elsewhere.
            4 if len > 0 => {
                let (a, b) = range(rng, len, 256);
                let chunk = d[a..b].to_vec();
                let at = rng.below(len + 1);
                d.splice(at..at, chunk);
            }
            // Splice in a chunk of another seed (any target's).
            5 => {
                let other = &pool[rng.below(pool.len())];
                let (a, b) = range(rng, other.len(), 512);
                let at = rng.below(len + 1);
                if rng.below(2) == 0 {
                    d.splice(at..at, other[a..b].iter().copied());
                } else {
                    // Cross-over: our head, its tail.
                    d.truncate(at);
                    d.extend_from_slice(&other[a..]);
                }
            }
            // Truncate.
            6 => d.truncate(rng.below(len + 1)),
            // Insert a token.
            7 | 8 => {
                let at = rng.below(len + 1);
                d.splice(at..at, token(rng));
            }
            // Replace a value (up to the next delimiter) with a token.
            _ => {
                let at = rng.below(len + 1);
                let end = d[at..]
                    .iter()
                    .position(|b| b",\n\r<>\"=".contains(b))
                    .map_or(len, |i| at + i);
                d.splice(at..end, token(rng));
            }
        }
    }
    d.truncate(MAX_INPUT);
    d
}

// ------------------------------------------------------------ the harness

/// What one parse gave.
#[derive(Default)]
struct Outcome {
    /// The error the parser refused the input with, if any.
    error: Option<String>,
    /// Whether that error names the file (or the batch and its file).
    named: bool,
    /// Row problems (invalid rows, schema violations) by code.
    rows: Vec<&'static str>,
}

/// The parse of one input (made from that seed).
type Parse = Box<dyn FnMut(&Seed, &[u8]) -> Outcome + Send>;

/// A target: a name, its seeds, and the parse of one input.
struct Target {
    name: &'static str,
    seeds: Vec<Seed>,
    /// Names and display names an error message may hold, removed when
    /// sorting messages into kinds.
    names: Vec<String>,
    /// CI runs `CI_ITERATIONS / slowness` iterations.
    slowness: u64,
    run: Parse,
}

enum Budget {
    Iterations(u64),
    Until(Instant),
}

fn env_u64(var: &str) -> Option<u64> {
    std::env::var(var).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v}: not a number"))
    })
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn target_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Resident and peak resident memory of this process, in bytes.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

/// Sort an error message into a kind: without file names, numbers, quoted
/// values and element names, cut short.
fn kind_of(msg: &str, names: &[String]) -> String {
    // First and last line: toml's messages quote the source in between.
    let lines: Vec<&str> = msg.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut m = match lines.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [first, .., last] => format!("{first} / {}", last.trim()),
    };
    let mut names: Vec<&String> = names.iter().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for n in names {
        m = m.replace(n.as_str(), "FILE");
    }
    let mut out = String::new();
    let mut close = None;
    for c in m.chars() {
        match (close, c) {
            (Some(end), c) if c == end => close = None,
            (Some(_), _) => {}
            (None, '`' | '"' | '<') => {
                close = Some(if c == '<' { '>' } else { c });
                out.push('…');
            }
            (None, '0'..='9') if out.ends_with('#') => {}
            (None, '0'..='9') => out.push('#'),
            (None, c) if c.is_control() => {}
            (None, c) => out.push(c),
        }
    }
    out.chars().take(80).collect()
}

/// `what` went wrong with the input saved at `saved`: printed, and returned
/// as the failure's line.
fn said_with_input(name: &str, what: String, saved: &Path) -> String {
    let f = format!("{what}\n  input: {}", saved.display());
    println!("fuzz {name}: {f}");
    f
}

fn save_failure(target: &str, seed: u64, iteration: u64, ext: &str, input: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join("magsync-fuzz");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{target}-{seed}-{iteration}.{ext}"));
    std::fs::write(&path, input).unwrap();
    path
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// Fuzz one target; panics with every failure found.
fn fuzz(mut target: Target) {
    let (budget, default_seed) = match env_u64("MAGSYNC_FUZZ_SECONDS") {
        Some(s) => (
            Budget::Until(Instant::now() + Duration::from_secs(s)),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64,
        ),
        None => (
            Budget::Iterations(CI_ITERATIONS / target.slowness),
            0x006d_6167_7379_6e63,
        ),
    };
    let seed = env_u64("MAGSYNC_FUZZ_SEED").unwrap_or(default_seed);
    let name = target.name;
    // Saved inputs are named as `tests/data/fuzz/` wants them.
    let ext = |s: &Seed| match name {
        "staging-csv" | "staging-csv-orders" => format!("{}.csv", s.entity.file),
        "staging-xml" => format!("{}.xml", s.entity.file),
        "tag-file" => format!("{}.tag.toml", s.entity.file),
        _ => "config.toml".to_string(),
    };
    let mut pool: Vec<Vec<u8>> = Vec::new();
    for t in [
        staging_seeds(&Dir::new(), Format::Csv),
        staging_seeds(&Dir::new(), Format::Xml),
        config_seeds(),
    ] {
        pool.extend(t.into_iter().map(|s| s.bytes));
    }
    pool.extend(target.seeds.iter().map(|s| s.bytes.clone()));
    println!(
        "fuzz {name}: seed {seed} ({} seeds), MAGSYNC_FUZZ_SEED={seed} reproduces it",
        target.seeds.len()
    );

    // The worker parses; this thread watches the clock.
    let (job_tx, job_rx) = mpsc::channel::<(Seed, Vec<u8>)>();
    let (out_tx, out_rx) = mpsc::channel::<Result<Outcome, String>>();
    let mut run = std::mem::replace(&mut target.run, Box::new(|_, _| Outcome::default()));
    std::thread::spawn(move || {
        while let Ok((s, input)) = job_rx.recv() {
            let r = catch_unwind(AssertUnwindSafe(|| run(&s, &input))).map_err(panic_text);
            if out_tx.send(r).is_err() {
                break;
            }
        }
    });

    let started = Instant::now();
    let mut failures: Vec<String> = Vec::new();
    let mut unnamed: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut errors: BTreeSet<String> = BTreeSet::new();
    let mut rows: BTreeSet<&'static str> = BTreeSet::new();
    let (mut accepted, mut slowest) = (0u64, Duration::ZERO);
    let mut i = 0u64;
    loop {
        match budget {
            Budget::Iterations(n) if i >= n => break,
            Budget::Until(t) if Instant::now() >= t => break,
            _ => {}
        }
        let mut rng = Rng::new(splitmix(seed ^ target_hash(name) ^ splitmix(i)));
        let base = &target.seeds[rng.below(target.seeds.len())];
        let input = if rng.below(50) == 0 {
            base.bytes.clone()
        } else {
            mutate(&mut rng, &base.bytes, &pool)
        };
        let t0 = Instant::now();
        job_tx.send((base.clone(), input.clone())).unwrap();
        match out_rx.recv_timeout(TIMEOUT) {
            Ok(Ok(o)) => {
                slowest = slowest.max(t0.elapsed());
                rows.extend(o.rows);
                match o.error {
                    None => accepted += 1,
                    Some(e) => {
                        let kind = kind_of(&e, &target.names);
                        if !o.named && !unnamed.contains_key(&kind) {
                            let p = save_failure(name, seed, i, &ext(base), &input);
                            said_with_input(
                                name,
                                format!(
                                    "seed {seed} iteration {i}: the message does not name the file: {e}"
                                ),
                                &p,
                            );
                            unnamed.insert(kind.clone(), p);
                        }
                        errors.insert(kind);
                    }
                }
            }
            Ok(Err(panic)) => {
                let p = save_failure(name, seed, i, &ext(base), &input);
                let what = format!(
                    "PANIC seed {seed} iteration {i} (from {}): {panic}",
                    base.name
                );
                failures.push(said_with_input(name, what, &p));
                if failures.len() >= 3 {
                    break;
                }
            }
            Err(_) => {
                let p = save_failure(name, seed, i, &ext(base), &input);
                let what = format!(
                    "HANG (> {TIMEOUT:?}) seed {seed} iteration {i} (from {})",
                    base.name
                );
                failures.push(said_with_input(name, what, &p));
                // The worker is stuck: nothing more can be run.
                break;
            }
        }
        i += 1;
        if i.is_multiple_of(64) {
            let (_, peak) = memory();
            if peak > MEMORY_LIMIT {
                failures.push(format!(
                    "MEMORY: peak RSS {} MiB after iteration {i} (seed {seed})",
                    peak >> 20
                ));
                break;
            }
        }
    }
    let took = started.elapsed();
    let (rss, peak) = memory();
    println!(
        "fuzz {name}: {i} iterations in {:.1} s ({:.0} µs each, slowest {:.1} ms); \
         {accepted} accepted, {} distinct error kinds, {} row problem kinds; \
         RSS {} MiB, peak {} MiB",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / i.max(1) as f64,
        slowest.as_secs_f64() * 1e3,
        errors.len(),
        rows.len(),
        rss >> 20,
        peak >> 20,
    );
    if std::env::var_os("MAGSYNC_FUZZ_VERBOSE").is_some() {
        for e in &errors {
            println!("  error kind: {e}");
        }
        println!("  row problems: {rows:?}");
    }
    for (kind, p) in &unnamed {
        failures.push(format!(
            "message does not name the file: {kind}\n  input: {}",
            p.display()
        ));
    }
    assert!(
        failures.is_empty(),
        "fuzz {name}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(i > 0 && errors.len() > 1, "fuzz {name}: nothing ran");
}

// -------------------------------------------------------------- targets

/// Read every record of a staging file as `verify_rows` does; the outcome
/// names the file when the error holds `path` or `display`.
fn read_staging(path: &Path, entity: &'static Entity, display: &str) -> Outcome {
    let mut o = Outcome::default();
    let note = |o: &mut Outcome, e: &Entity, item: Item, rec: &[String]| match item {
        Item::Record(_) => {
            if let Err(p) = e.validate(rec) {
                o.rows.push(p.code);
            }
        }
        Item::Invalid { code, .. } => o.rows.push(code),
    };
    let result = (|| {
        let mut r = RecordReader::open(path, entity, display)?;
        let mut rec = Vec::new();
        while let Some(item) = r.next(&mut rec)? {
            note(&mut o, entity, item, &rec);
            if let (RecordReader::Xml(x), Some(child)) = (&mut r, entity.child) {
                for (item, crec) in x.children().drain(..) {
                    note(&mut o, child, item, &crec);
                }
            }
        }
        Ok::<_, magsync::Error>(())
    })();
    if let Err(e) = result {
        let msg = e.to_string();
        o.named = msg.contains(display) || msg.contains(&path.display().to_string());
        o.error = Some(msg);
    }
    o
}

fn staging_target(name: &'static str, format: Format) -> Target {
    let dir = Dir::new();
    let seeds = staging_seeds(&dir, format);
    let work = dir.join("fuzz/data");
    std::fs::create_dir_all(&work).unwrap();
    let mut names: Vec<String> = entities::ALL
        .iter()
        .map(|e| format!("fuzzbatch/data/{}.{}", e.file, format.ext()))
        .collect();
    names.push(dir.path().display().to_string());
    println!("fuzz {name}: inputs in {}", work.display());
    Target {
        name,
        seeds,
        names,
        slowness: 1,
        run: Box::new(move |seed, input| {
            let _keep = &dir;
            let file = format!("{}.{}", seed.entity.file, format.ext());
            let path = work.join(&file);
            std::fs::write(&path, input).unwrap();
            read_staging(&path, seed.entity, &format!("fuzzbatch/data/{file}"))
        }),
    }
}

/// Orders in CSV are two files read together (`GroupReader`): a sealed
/// batch of them, one of the two replaced by the input, checked as
/// `verify` checks it.
fn csv_group_target() -> Target {
    let dir = Dir::new();
    let meta = fixed_meta("orders", Format::Csv, "s1.orders.transformed.fuzz");
    let mut bw = BatchWriter::create(&dir.join("staging/work"), meta).unwrap();
    let mut g = magsync::staging::group::GroupWriter::create(&mut bw, &entities::ORDERS).unwrap();
    for (o, lines) in orders() {
        g.write(&o, &lines).unwrap();
    }
    g.finish(&mut bw).unwrap();
    let batch = bw.finish().unwrap();
    let files = [&entities::ORDERS, &entities::ORDER_LINES].map(|e| {
        let rel = batch.file_of(e).unwrap().path.clone();
        let bytes = std::fs::read(batch.dir.join(&rel)).unwrap();
        (e, rel, bytes)
    });
    let mut seeds: Vec<Seed> = files
        .iter()
        .map(|(e, _, bytes)| Seed::new(e.file, bytes.clone(), e))
        .collect();
    // Any CSV at all in place of either file.
    for (i, mut s) in staging_seeds(&dir, Format::Csv).into_iter().enumerate() {
        s.entity = files[i % 2].0;
        seeds.push(s);
    }
    let names = vec![batch.dir.display().to_string(), batch.id().to_string()];
    println!("fuzz staging-csv-orders: batch {}", batch.dir.display());
    Target {
        name: "staging-csv-orders",
        seeds,
        names,
        slowness: 2,
        run: Box::new(move |seed, input| {
            let _keep = &dir;
            for (e, rel, bytes) in &files {
                let data: &[u8] = if e.name == seed.entity.name {
                    input
                } else {
                    bytes
                };
                std::fs::write(batch.dir.join(rel), data).unwrap();
            }
            let mut o = Outcome::default();
            if let Err(e) = batch.verify_rows() {
                let msg = e.to_string();
                o.named = files.iter().any(|(_, rel, _)| msg.contains(rel.as_str()));
                o.error = Some(msg);
            }
            o
        }),
    }
}

/// A meta with a fixed id and date, so that tag seeds are the same each run.
fn fixed_meta(flow: &str, format: Format, id: &str) -> BatchMeta {
    let flow = magsync::flows::Flow::parse(flow).expect("a flow");
    let mut m = BatchMeta::new(flow, Stage::Transformed, format, office_source());
    m.batch_id = id.to_string();
    m.created_at = "2026-01-02T03:04:05Z".into();
    m
}

/// Three sealed batches: customers in CSV; orders in XML with all the
/// optional parts of a tag file (parent, channel, watermark, settings) and
/// a rejects file; orders in CSV with their lines in a file of their own.
/// Tag seeds are named after them: `customers`, `orders`, `order_lines`.
fn tag_bags(dir: &Dir) -> Vec<PathBuf> {
    let parent = dir.join("staging/work");
    let meta = fixed_meta("customers", Format::Csv, "s1.customers.transformed.fuzz");
    let mut bw = BatchWriter::create(&parent, meta).unwrap();
    let mut w = bw.records(&entities::CUSTOMERS).unwrap();
    for r in customers() {
        w.write(&r).unwrap();
    }
    bw.add(&entities::CUSTOMERS, w.finish().unwrap());
    bw.warn("customers", "s1/1", "nip", "nip_checksum", "a warning")
        .unwrap();
    let a = bw.finish().unwrap();

    let mut meta = fixed_meta("orders", Format::Xml, "s1.orders.transformed.fuzz");
    meta.parent = Some(a.meta.batch_id.clone());
    meta.parent_tagmanifest_sha256 = Some(a.tag_sha256.clone());
    meta.edited = true;
    meta.source.encoding = Some("cp1250".into());
    meta.channel = Some(magsync::staging::batch::ChannelInfo {
        name: "shop-to-office".into(),
        sequence: 7,
        previous_tagmanifest_sha256: Some(a.tag_sha256.clone()),
    });
    meta.watermark = Some(magsync::staging::batch::Watermark {
        column: "o.last_modified".into(),
        from: Some("2026-01-01T00:00:00".into()),
        to: Some("2026-01-02T00:00:00".into()),
        after_id: Some(12),
        max_id: Some(-1),
        full: false,
    });
    meta.settings
        .insert("DISPLAY_PRICE_WITH_TAX".into(), "true".into());
    let mut bw = BatchWriter::create(&parent, meta).unwrap();
    let mut w = bw.records(&entities::ORDERS).unwrap();
    for (o, lines) in orders() {
        w.write_with_children(&o, &lines).unwrap();
    }
    bw.add(&entities::ORDERS, w.finish().unwrap());
    bw.reject(
        &entities::CUSTOMERS,
        &customers()[0],
        "data/customers.csv",
        2,
        "nip",
        "nip",
        "rejected",
    )
    .unwrap();
    let b = bw.finish().unwrap();

    // Orders in CSV: the lines in a file of their own, read together.
    let meta = fixed_meta("orders", Format::Csv, "s1.orders.transformed.fuzz-csv");
    let mut bw = BatchWriter::create(&parent, meta).unwrap();
    let mut g = magsync::staging::group::GroupWriter::create(&mut bw, &entities::ORDERS).unwrap();
    for (o, lines) in orders() {
        g.write(&o, &lines).unwrap();
    }
    g.finish(&mut bw).unwrap();
    let c = bw.finish().unwrap();
    vec![a.dir, b.dir, c.dir]
}

/// Put `tag` into the batch and the tag manifest (so that the bag stays
/// valid and `Batch::open` reads it), then open and check the batch.
fn open_with_tag(bag: &Path, manifest: &str, tag: &[u8]) -> Outcome {
    std::fs::write(bag.join(TAG_FILE), tag).unwrap();
    let sha = magsync::staging::bag::sha256_bytes(tag);
    let tm: String = manifest
        .lines()
        .map(|l| match l.strip_suffix(&format!("  {TAG_FILE}")) {
            Some(_) => format!("{sha}  {TAG_FILE}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(bag.join("tagmanifest-sha256.txt"), tm).unwrap();
    let mut o = Outcome::default();
    let mut id = None;
    let r = Batch::open(bag).and_then(|b| {
        id = Some(b.id().to_string());
        b.verify_rows()
    });
    if let Err(e) = r {
        let msg = e.to_string();
        // The batch (by directory, or by the id its tag file gives) and a
        // file in it: the tag file or the payload file at fault.
        let batch = msg.contains(&bag.display().to_string())
            || id.as_ref().is_some_and(|id| msg.contains(id.as_str()));
        let file = msg.contains(TAG_FILE) || msg.contains("data/");
        o.named = batch && file;
        o.error = Some(msg);
    }
    o
}

fn tag_target() -> Target {
    let dir = Dir::new();
    let bags = tag_bags(&dir);
    let manifests: Vec<String> = bags
        .iter()
        .map(|b| std::fs::read_to_string(b.join("tagmanifest-sha256.txt")).unwrap())
        .collect();
    let mut seeds = Vec::new();
    for (i, b) in bags.iter().enumerate() {
        let mut s = Seed::new(
            &b.file_name().unwrap().to_string_lossy(),
            std::fs::read(b.join(TAG_FILE)).unwrap(),
            &entities::CUSTOMERS,
        );
        s.bag = i;
        s.entity = [
            &entities::CUSTOMERS,
            &entities::ORDERS,
            &entities::ORDER_LINES,
        ][i];
        seeds.push(s);
    }
    seeds.extend(bad_files(".tag.toml"));
    let mut names: Vec<String> = bags.iter().map(|b| b.display().to_string()).collect();
    names.push(dir.path().display().to_string());
    println!(
        "fuzz tag file: batches in {}",
        dir.join("staging/work").display()
    );
    Target {
        name: "tag-file",
        seeds,
        names,
        slowness: 2,
        run: Box::new(move |seed, input| {
            let _keep = &dir;
            open_with_tag(&bags[seed.bag], &manifests[seed.bag], input)
        }),
    }
}

fn load_config(path: &Path, input: &[u8]) -> Outcome {
    std::fs::write(path, input).unwrap();
    let mut o = Outcome::default();
    if let Err(e) = Config::load(path) {
        let msg = e.to_string();
        o.named = msg.contains(&path.display().to_string());
        o.error = Some(msg);
    }
    o
}

fn config_target() -> Target {
    let dir = Dir::new();
    let path = dir.join("magsync.toml");
    let names = vec![path.display().to_string()];
    println!("fuzz config: input {}", path.display());
    Target {
        name: "config",
        seeds: config_seeds(),
        names,
        slowness: 1,
        run: Box::new(move |_, input| {
            let _keep = &dir;
            load_config(&path, input)
        }),
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn fuzz_the_staging_csv_reader() {
    fuzz(staging_target("staging-csv", Format::Csv));
}

#[test]
fn fuzz_the_staging_csv_reader_of_orders_and_their_lines() {
    fuzz(csv_group_target());
}

#[test]
fn fuzz_the_staging_xml_reader() {
    fuzz(staging_target("staging-xml", Format::Xml));
}

#[test]
fn fuzz_the_tag_file() {
    fuzz(tag_target());
}

#[test]
fn fuzz_the_configuration() {
    fuzz(config_target());
}

/// The harness itself: a parser that panics is caught, and reported with
/// its seed, iteration and saved input.
#[test]
#[should_panic(expected = "PANIC seed")]
fn fuzz_catches_a_panicking_parser() {
    fuzz(Target {
        name: "self-test",
        seeds: vec![Seed::new("x", b"x".to_vec(), &entities::CUSTOMERS)],
        names: Vec::new(),
        slowness: 1,
        run: Box::new(|_, input| {
            assert!(input.is_empty(), "a parser bug");
            Outcome::default()
        }),
    });
}

/// Every input fuzzing once broke (`tests/data/fuzz/`, named like the
/// corpus of `tests/data/bad/`: `<what>.<entity>.csv|xml`, `<what>.config.toml`,
/// `<what>.<bag>.tag.toml` with the bag of [`tag_bags`] it was found in) is
/// refused cleanly, naming its file.
#[test]
fn regressions_from_earlier_fuzzing_stay_fixed() {
    let dir = Dir::new();
    let bags = tag_bags(&dir);
    let manifests: Vec<String> = bags
        .iter()
        .map(|b| std::fs::read_to_string(b.join("tagmanifest-sha256.txt")).unwrap())
        .collect();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let mut n = 0;
    for f in data_files("fuzz", "") {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let input = std::fs::read(&f).unwrap();
        let o = if name.ends_with(".config.toml") {
            load_config(&dir.join("magsync.toml"), &input)
        } else if name.ends_with(".tag.toml") {
            let i = [
                ".customers.tag.toml",
                ".orders.tag.toml",
                ".order_lines.tag.toml",
            ]
            .iter()
            .position(|e| name.ends_with(e))
            .unwrap_or(0);
            open_with_tag(&bags[i], &manifests[i], &input)
        } else {
            let entity = entity_of_name(&name);
            let ext = Format::from_path(&f).unwrap_or_else(|| panic!("{name}: .csv or .xml"));
            let file = format!("{}.{}", entity.file, ext.ext());
            let path = dir.join(&format!("data/{file}"));
            std::fs::write(&path, &input).unwrap();
            read_staging(&path, entity, &format!("fuzzbatch/data/{file}"))
        };
        if let Some(e) = &o.error {
            println!("fuzz regression {name}: {e}");
            assert!(o.named, "{name}: the message does not name the file: {e}");
        }
        n += 1;
    }
    println!("fuzz regressions: {n} inputs replayed");
}
