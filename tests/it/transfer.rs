//! Two sites that share nothing but a directory standing for a USB stick:
//! the shop's site (shop database, no Magazyn) and the office (Magazyn, no
//! shop). Orders and customers go out, products come back, receipts close
//! the loop.

use crate::util::*;
use std::path::Path;

struct Sites {
    shop: Dir,
    office: Dir,
    data: ShopData,
}

fn sites(extra_shop: &str, extra_office: &str) -> Sites {
    let data = ShopData::new(30, 12, 60, 5);
    let shop = sqlite_site(&data, |url| {
        format!(
            "site = \"shop\"\nstaging = \"staging\"\n{extra_shop}\n[magazyn]\nsite = \"office\"\n\n[shops.s1]\nurl = \"{url}\"\nwarehouse = \"MAG\"\nprice_list = \"Detal\"\ncustomer_code_prefix = \"S1-\"\norder_prefix = \"S1/\"\n"
        )
    });
    let office = Dir::with_config(&format!(
        "site = \"office\"\nstaging = \"staging\"\n{extra_office}\n[magazyn]\nurl = \"sqlite://magazyn.db\"\n\n[shops.s1]\nsite = \"shop\"\nwarehouse = \"MAG\"\nprice_list = \"Detal\"\ncustomer_code_prefix = \"S1-\"\norder_prefix = \"S1/\"\n"
    ));
    // The office's Magazyn: the goods, a price list with prices, stock.
    magazyn_stocked(office.path(), &data.products, &["Detal"], |p| {
        let gross = p.gross + rust_decimal::Decimal::ONE;
        (Some((gross, gross)), Some(rust_decimal::Decimal::from(50)))
    });
    Sites { shop, office, data }
}

fn stick(d: &Dir, name: &str) -> String {
    let p = d.join(name);
    std::fs::create_dir_all(&p).unwrap();
    p.to_str().unwrap().to_string()
}

/// `magsync extract --shop s1 --flow <args…>` at a site, which must succeed.
fn extract(site: &Dir, args: &[&str]) {
    let mut all = vec!["extract", "--shop", "s1", "--flow"];
    all.extend_from_slice(args);
    site.magsync(&all).ok();
}

/// `magsync pack` at a site onto a new stick `name`: the stick and the run.
fn pack(site: &Dir, name: &str) -> (String, Run) {
    let medium = stick(site, name);
    let run = site.magsync(&["pack", "--out", &medium]);
    (medium, run)
}

/// A stick arrives at a site: `magsync unpack` (which must succeed), then
/// the `magsync inbox` run.
fn deliver(site: &Dir, medium: &str) -> Run {
    site.magsync(&["unpack", medium]).ok();
    site.magsync(&["inbox"])
}

fn shop_products(s: &Sites) -> Vec<Vec<String>> {
    rt().block_on(async {
        use sqlx::{Connection, Row};
        let url = format!("sqlite://{}", s.shop.join("shop.db").display());
        let mut c = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("SELECT products_model, products_price, CAST(products_quantity AS TEXT) FROM products ORDER BY products_id")
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| (0..3).map(|i| r.get::<String, _>(i)).collect())
            .collect()
    })
}

#[test]
fn batches_travel_both_ways_and_receipts_close_the_loop() {
    let s = sites("", "");
    let public = s.data.orders.iter().filter(|o| o.status != 6).count() as i64;
    // The shop's site: customers and orders out.
    extract(&s.shop, &["customers"]);
    extract(&s.shop, &["orders"]);
    let (medium, p) = pack(&s.shop, "stick1");
    p.ok();
    assert!(p.stdout.contains("shop-to-office"), "{}", p.stdout);
    // The office: unpack, apply.
    let i = deliver(&s.office, &medium);
    i.ok();
    assert!(
        i.stdout.contains("applied #1") && i.stdout.contains("applied #2"),
        "{}",
        i.stdout
    );
    assert_eq!(
        magazyn_count(&s.office, "SELECT COUNT(*) FROM orders"),
        public
    );
    assert_eq!(
        magazyn_count(&s.office, "SELECT COUNT(*) FROM customers"),
        30
    );
    // Products back, with the receipts.
    extract(&s.office, &["products"]);
    let (back, p) = pack(&s.office, "stick2");
    p.ok();
    assert!(
        p.stdout.contains("office-to-shop")
            && p.stdout.contains("receipt")
            && p.stdout.contains("products"),
        "{}",
        p.stdout
    );
    let i = deliver(&s.shop, &back);
    i.ok();
    assert!(
        i.stdout.contains("acknowledges shop-to-office #1"),
        "{}",
        i.stdout
    );
    let products = shop_products(&s);
    for (p, row) in s.data.products.iter().zip(&products) {
        // 50 in the warehouse less what the shop's own orders reserved.
        let reserved: rust_decimal::Decimal = magazyn_rows(
            &s.office,
            &format!("SELECT CAST(s.reserved AS VARCHAR(40)) FROM stock s JOIN goods g ON g.id = s.good_id WHERE g.code = '{}'", p.model),
        )
        .first()
        .map_or(rust_decimal::Decimal::ZERO, |r| r[0].parse().unwrap());
        let want = (rust_decimal::Decimal::from(50) - reserved).max(rust_decimal::Decimal::ZERO);
        assert_eq!(
            row[2],
            want.normalize().to_string(),
            "{}: the office's available stock reached the shop",
            p.model
        );
    }
    // The shop's receipt for the products goes back; then nothing is pending.
    let (last, p) = pack(&s.shop, "stick3");
    p.ok();
    let i = deliver(&s.office, &last);
    assert!(
        i.stdout.contains("acknowledges office-to-shop #3"),
        "{}",
        i.stdout
    );
    for site in [&s.shop, &s.office] {
        let st = site.magsync(&["status"]);
        st.ok();
        assert!(
            st.stdout.contains("pending []") && !st.stdout.contains("missing [1"),
            "{}",
            st.stdout
        );
        assert!(!st.stdout.contains("waiting in inbox [1"), "{}", st.stdout);
        assert!(
            site.batches("outbox").is_empty(),
            "{:?}",
            site.batches("outbox")
        );
    }
    let st = s.shop.magsync(&["status"]);
    assert!(
        st.stdout
            .contains("shop-to-office: last sent #3, last acknowledged #2"),
        "{}",
        st.stdout
    );
    assert!(
        st.stdout.contains("s1 orders: acknowledged"),
        "{}",
        st.stdout
    );

    // Replaying the first stick changes nothing.
    let before = magazyn_rows(
        &s.office,
        "SELECT number, status, updated_at FROM orders ORDER BY id",
    );
    let u = s.office.magsync(&["unpack", &medium]);
    u.ok();
    assert!(
        u.stdout.contains("0 filed, 2 already here") || u.stdout.contains("already"),
        "{}",
        u.stdout
    );
    s.office.magsync(&["inbox"]).ok();
    assert_eq!(
        magazyn_rows(
            &s.office,
            "SELECT number, status, updated_at FROM orders ORDER BY id"
        ),
        before
    );

    // A stick that skips a number waits for it, then both apply in order.
    extract(&s.shop, &["customers", "--full"]); // #4
    extract(&s.shop, &["orders", "--full"]); // #5
    let only5 = stick(&s.shop, "stick5");
    s.shop
        .magsync(&["pack", "--out", &only5, "--from", "5"])
        .ok();
    let i = deliver(&s.office, &only5);
    assert_eq!(i.code, 1, "{}", i.stdout);
    assert!(i.stdout.contains("sequence [4] missing"), "{}", i.stdout);
    let (both, p) = pack(&s.shop, "stick45");
    p.ok();
    let i = deliver(&s.office, &both);
    i.ok();
    let (a4, a5) = (
        i.stdout.find("applied #4").unwrap(),
        i.stdout.find("applied #5").unwrap(),
    );
    assert!(a4 < a5, "{}", i.stdout);
    assert_eq!(
        magazyn_count(&s.office, "SELECT COUNT(*) FROM orders"),
        public
    );
    for site in [&s.shop, &s.office] {
        check_all_batches(site);
    }
}

#[test]
fn a_lost_stick_loses_nothing() {
    let s = sites("", "");
    extract(&s.shop, &["orders"]);
    let (lost, p) = pack(&s.shop, "lost");
    p.ok();
    std::fs::remove_dir_all(&lost).unwrap(); // dropped on the way
    // Next night: nothing was acknowledged, so the extract starts from the
    // same point and the pack carries the old batch as well.
    extract(&s.shop, &["orders"]);
    let (next, p) = pack(&s.shop, "next");
    assert!(
        p.stdout.contains("#1") && p.stdout.contains("#2"),
        "{}",
        p.stdout
    );
    deliver(&s.office, &next).ok();
    let public = s.data.orders.iter().filter(|o| o.status != 6).count() as i64;
    assert_orders_once(&s.office, public);
}

/// A hand-made pack with one hostile entry (and a valid checksum file).
fn hostile_pack(dir: &Path, entry: &str) -> std::path::PathBuf {
    let path = dir.join("shop-to-office.00000001-00000001.magsync.tar");
    let f = std::fs::File::create(&path).unwrap();
    let mut t = tar::Builder::new(f);
    let data = b"owned";
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.as_gnu_mut().unwrap().name[..entry.len()].copy_from_slice(entry.as_bytes());
    h.set_cksum();
    t.append(&h, &data[..]).unwrap();
    t.finish().unwrap();
    drop(t);
    let (sha, _) = magsync::staging::bag::sha256_file(&path).unwrap();
    std::fs::write(
        dir.join("shop-to-office.00000001-00000001.magsync.tar.sha256"),
        format!("{sha}  x\n"),
    )
    .unwrap();
    path
}

#[test]
fn damaged_tampered_or_hostile_packs_are_refused_whole() {
    let s = sites("", "");
    extract(&s.shop, &["customers"]);
    let (medium, p) = pack(&s.shop, "stick");
    p.ok();
    let file = transfer_file(&medium);
    let bytes = std::fs::read(&file).unwrap();
    let sidecar = std::fs::read(format!("{}.sha256", file.display())).unwrap();
    let inbox_empty = |d: &Dir| d.batches("inbox/shop-to-office").is_empty();
    let trial = s.office.join("trial");
    std::fs::create_dir_all(&trial).unwrap();
    let name = file.file_name().unwrap().to_owned();
    // A flipped byte anywhere (every 97th position), and cut short.
    let mut cases: Vec<Vec<u8>> = (0..bytes.len())
        .step_by(97)
        .map(|i| {
            let mut b = bytes.clone();
            b[i] ^= 0x20;
            b
        })
        .collect();
    cases.push(bytes[..bytes.len() / 2].to_vec());
    cases.push(bytes[..bytes.len() - 512].to_vec());
    assert!(cases.len() > 20);
    for (n, case) in cases.iter().enumerate() {
        std::fs::write(trial.join(&name), case).unwrap();
        std::fs::write(
            trial.join(format!("{}.sha256", name.to_string_lossy())),
            &sidecar,
        )
        .unwrap();
        let u = s
            .office
            .magsync(&["unpack", trial.join(&name).to_str().unwrap()]);
        assert_eq!(u.code, 2, "case {n} was accepted");
        assert!(
            u.stderr.contains(&name.to_string_lossy().to_string()) && u.stderr.contains("refused"),
            "{}",
            u.stderr
        );
        assert!(inbox_empty(&s.office));
    }
    // Entries that would escape the inbox, even with a valid checksum.
    for entry in ["../evil", "/tmp/magsync-evil", "a/../../evil"] {
        let hostile = s.office.join("hostile");
        std::fs::create_dir_all(&hostile).unwrap();
        let p = hostile_pack(&hostile, entry);
        let u = s.office.magsync(&["unpack", p.to_str().unwrap()]);
        assert_eq!(u.code, 2, "{entry}: {}", u.stdout);
        assert!(
            u.stderr.contains("outside the inbox"),
            "{entry}: {}",
            u.stderr
        );
        assert!(!s.office.join("staging/evil").exists() && !s.office.join("evil").exists());
    }
    // The intact file is accepted.
    s.office.magsync(&["unpack", file.to_str().unwrap()]).ok();
    assert!(!inbox_empty(&s.office));
}

fn transfer_file(medium: &str) -> std::path::PathBuf {
    std::fs::read_dir(medium)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.to_string_lossy().ends_with(".magsync.tar")
                || p.to_string_lossy().ends_with(".magsync.tar.age")
        })
        .unwrap()
}

#[test]
fn encrypted_packs_open_only_with_the_key() {
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public().to_string();
    let secret = {
        use age::secrecy::ExposeSecret;
        id.to_string().expose_secret().to_string()
    };
    let s = sites(&format!("[transfer]\nencrypt_to = [\"{recipient}\"]\n"), "");
    extract(&s.shop, &["customers"]);
    let (medium, p) = pack(&s.shop, "stick");
    assert!(p.stdout.contains("encrypted"), "{}", p.stdout);
    let file = transfer_file(&medium);
    let bytes = std::fs::read(&file).unwrap();
    let email = s.data.customers[0].email.as_bytes();
    assert!(
        !bytes.windows(email.len()).any(|w| w == email),
        "customer data readable in the pack"
    );
    // Without the key: refused.
    let u = s.office.magsync(&["unpack", &medium]);
    assert_eq!(u.code, 2);
    assert!(
        u.stderr.contains("encrypted") || u.stderr.contains("decrypt"),
        "{}",
        u.stderr
    );
    // With the key: opened and applied.
    let key = s.office.write("office.key", &format!("{secret}\n"));
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let cfg = std::fs::read_to_string(s.office.join("magsync.toml")).unwrap();
    s.office.write(
        "magsync.toml",
        &cfg.replacen(
            "staging = \"staging\"\n",
            "staging = \"staging\"\n[transfer]\nidentity_file = \"office.key\"\n",
            1,
        ),
    );
    deliver(&s.office, &medium).ok();
    assert_eq!(
        magazyn_count(&s.office, "SELECT COUNT(*) FROM customers"),
        30
    );
}

#[test]
fn a_different_batch_under_an_applied_number_stops_the_channel() {
    let s = sites("", "");
    extract(&s.shop, &["customers"]);
    let (first, p) = pack(&s.shop, "first");
    p.ok();
    deliver(&s.office, &first).ok();
    // The shop's state is lost (a restored backup, a new machine): it numbers
    // a new batch #1 again.
    std::fs::remove_dir_all(s.shop.join("staging/state")).unwrap();
    for b in s.shop.batches("outbox") {
        std::fs::remove_dir_all(b).unwrap();
    }
    extract(&s.shop, &["orders"]);
    let (again, p) = pack(&s.shop, "again");
    p.ok();
    let i = deliver(&s.office, &again);
    assert_eq!(i.code, 2, "{}", i.stdout);
    assert!(
        i.stderr.contains("channel shop-to-office stopped") && i.stderr.contains("#1"),
        "{}",
        i.stderr
    );
    assert_eq!(
        magazyn_count(&s.office, "SELECT COUNT(*) FROM orders"),
        0,
        "nothing of it applied"
    );
}

/// Run `args` at `site`, killing it after `at` (None: let it finish).
fn killed(site: &Dir, args: &[&str], at: Option<std::time::Duration>) {
    let mut child = site
        .magsync_cmd(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    if let Some(at) = at {
        std::thread::sleep(at);
        child.kill().ok();
    }
    child.wait().unwrap();
}

/// Nothing that looks finished is broken: every batch directory under the
/// staging root verifies, every packed file has its checksum.
fn consistent(site: &Dir) {
    for sub in ["outbox", "work", "receipts", "archive"] {
        for b in site.batches(sub) {
            site.magsync(&["verify", b.to_str().unwrap()]).ok();
        }
    }
    let inbox = site.join("staging/inbox");
    if let Ok(chs) = std::fs::read_dir(&inbox) {
        for ch in chs
            .flatten()
            .filter(|c| !c.file_name().to_string_lossy().starts_with('.'))
        {
            for b in std::fs::read_dir(ch.path()).unwrap().flatten() {
                if !b.file_name().to_string_lossy().starts_with('.') {
                    site.magsync(&["verify", b.path().to_str().unwrap()]).ok();
                }
            }
        }
    }
}

#[test]
fn killed_extracts_packs_unpacks_and_inbox_runs_converge() {
    let s = sites("", "");
    let public = s.data.orders.iter().filter(|o| o.status != 6).count() as i64;
    let mut rng = magsync::demo::Rng::new(99);
    let mut kills = 0;
    let stick = stick(&s.shop, "stick");
    // Each step: time it once on a copy of the state, then kill it at random
    // points, check that nothing half-done looks finished, and let it finish.
    type StepFn<'a> = (&'a Dir, Vec<&'a str>);
    let steps: Vec<StepFn> = vec![
        (&s.shop, vec!["extract", "--shop", "s1", "--flow", "orders"]),
        (&s.shop, vec!["pack", "--out", &stick]),
        (&s.office, vec!["unpack", &stick]),
        (&s.office, vec!["inbox"]),
    ];
    for (site, args) in &steps {
        for _ in 0..6 {
            let at = std::time::Duration::from_millis(rng.below(120) as u64);
            killed(site, args, Some(at));
            kills += 1;
            consistent(site);
        }
        killed(site, args, None);
        consistent(site);
    }
    assert!(kills >= 20);
    // However the kills fell, the office ends with every public order once.
    s.office.magsync(&["unpack", &stick]).ok();
    s.office.magsync(&["inbox"]);
    assert_orders_once(&s.office, public);
    magazyn_integrity(&s.office).unwrap();
}
