//! Secrets stay secret, and shop text is data, never SQL.

use crate::util::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_password_file_others_can_read_is_refused() {
    let dir = Dir::new();
    let url = sqlite_shop(&dir, 3, 1);
    let pw = dir.write("shop.pw", "sekret-hasło\n");
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    dir.write(
        "magsync.toml",
        &config_with(&url, "csv", "password_file = \"shop.pw\"\n"),
    );
    let r = dir.magsync(&["extract", "--shop", "s1", "--flow", "customers"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("shop.pw") && r.stderr.contains("chmod 600"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("sekret"),
        "the secret itself is never printed"
    );
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    dir.magsync(&["extract", "--shop", "s1", "--flow", "customers"])
        .ok();
    assert_nowhere(&dir.join("staging"), "sekret");
}

#[test]
fn shop_text_that_looks_like_sql_round_trips_as_data() {
    let mut data = ShopData::new(3, 1, 0, 2);
    let evil = "'; DROP TABLE customers; --";
    data.customers[0].lastname = evil.into();
    data.customers[1].company = Some("Robert\"); DELETE FROM goods; --".into());
    let Some((_db, dir)) = mariadb_site("inject", &data, |url| config(url, "xml")) else {
        return;
    };
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"])
        .ok();
    let names: Vec<String> = magazyn_rows(&dir, "SELECT name FROM customers ORDER BY code")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(evil)), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n == "Robert\"); DELETE FROM goods; --"),
        "{names:?}"
    );
    // Both databases still have their tables.
    assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM customers"), 3);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "--full"])
        .ok();
}

/// The Magazyn's password (Firebird) comes from the environment or a 0600
/// file, is refused in the URL, and never appears in what magsync prints or
/// writes, even when the connection fails.
#[test]
fn the_firebird_password_is_never_printed_or_written() {
    let dir = Dir::new();
    let url = sqlite_shop(&dir, 3, 1);
    let secret = "sekret-FB-9d4e";
    // In the URL: refused, and not echoed.
    let cfg = config(&url, "csv").replace(
        "url = \"sqlite://magazyn.db\"",
        &format!("url = \"firebird://sysdba:{secret}@127.0.0.1:1/x.fdb\""),
    );
    std::fs::write(dir.join("magsync.toml"), &cfg).unwrap();
    let r = dir.magsync(&["check"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stdout.contains("password") || r.stderr.contains("password"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    assert!(!format!("{}{}", r.stdout, r.stderr).contains(secret));
    // From a file: a readable-by-others file is refused; at 0600 it is used,
    // and a server that is not there fails naming the database, not the secret.
    let pw = dir.write("fb.pw", &format!("{secret}\n"));
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = config(&url, "csv").replace(
        "url = \"sqlite://magazyn.db\"",
        "url = \"firebird://sysdba@127.0.0.1:1/var/lib/x.fdb\"\npassword_file = \"fb.pw\"",
    );
    std::fs::write(dir.join("magsync.toml"), &cfg).unwrap();
    let r = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("fb.pw") && r.stderr.contains("chmod 600"),
        "{}",
        r.stderr
    );
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/var/lib/x.fdb"), "{}", r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(!all.contains(secret), "{all}");
    assert_nowhere(&dir.join("staging"), secret);
}
