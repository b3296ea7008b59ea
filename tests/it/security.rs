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
    let Some(db) = mariadb("inject") else { return };
    let mut data = ShopData::new(3, 1, 0, 2);
    let evil = "'; DROP TABLE customers; --";
    data.customers[0].lastname = evil.into();
    data.customers[1].company = Some("Robert\"); DELETE FROM goods; --".into());
    rt().block_on(async {
        let mut shop = db.shop().await;
        data.populate(&mut shop).await;
        shop.close().await;
    });
    let dir = Dir::new();
    dir.write("magsync.toml", &config(&db.url, "xml"));
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
