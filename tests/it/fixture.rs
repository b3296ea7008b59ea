//! magsync's own osCommerce fixture against the official 2.3.3 install SQL
//! (`../shared/reference/oscommerce-2.3.3.sql`, where it is present): every
//! table of the fixture must have exactly the columns of the original, with
//! the same types, nullability and defaults.

use std::collections::BTreeMap;
use std::path::Path;

type Tables = BTreeMap<String, Vec<String>>;

/// Table → normalised column definitions (`name type [not null] [default x]`).
fn parse(sql: &str) -> Tables {
    let mut out = Tables::new();
    let lower = sql.to_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("create table ") {
        rest = &rest[i + 13..];
        let name = rest
            .split(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap()
            .to_string();
        let body_start = rest.find('(').unwrap() + 1;
        let body_end = rest.find("\n);").or_else(|| rest.find(");")).unwrap();
        let body = &rest[body_start..body_end];
        let mut cols = Vec::new();
        for line in body.lines() {
            let line = line.trim().trim_end_matches(',');
            if line.is_empty()
                || line.starts_with("--")
                || line.starts_with("primary key")
                || line.starts_with("key ")
                || line.starts_with("unique")
            {
                continue;
            }
            let mut words = line.split_whitespace();
            let col = words.next().unwrap().to_string();
            let ty = words.next().unwrap().to_string();
            let rest: Vec<&str> = words.collect();
            let rest = rest.join(" ");
            let not_null = rest.contains("not null");
            let default = rest
                .split("default ")
                .nth(1)
                .map(|d| d.split_whitespace().next().unwrap().to_string());
            let auto = rest.contains("auto_increment");
            cols.push(format!(
                "{col} {ty} not_null={not_null} default={default:?} auto={auto}"
            ));
        }
        cols.sort();
        out.insert(name, cols);
    }
    out
}

#[test]
fn fixture_matches_the_official_install_sql() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = root.join("../shared/reference/oscommerce-2.3.3.sql");
    let Ok(official) = std::fs::read_to_string(&reference) else {
        eprintln!("SKIPPED: {} not present", reference.display());
        return;
    };
    let ours = parse(
        &std::fs::read_to_string(root.join("templates/oscommerce-2.3/fixture/schema.mysql.sql"))
            .unwrap(),
    );
    let theirs = parse(&official);
    assert!(ours.len() >= 20, "fixture has {} tables", ours.len());
    for (table, cols) in &ours {
        let want = theirs
            .get(table)
            .unwrap_or_else(|| panic!("{table} is not an osCommerce 2.3.3 table"));
        assert_eq!(
            cols, want,
            "table {table} differs from the 2.3.3 install SQL"
        );
    }
    // The SQLite demo shop has the same tables and columns (types differ).
    let sqlite =
        std::fs::read_to_string(root.join("templates/oscommerce-2.3/fixture/schema.sqlite.sql"))
            .unwrap();
    for (table, cols) in parse(&sqlite) {
        let names = |v: &Vec<String>| {
            v.iter()
                .map(|c| c.split(' ').next().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&cols), names(&ours[&table]), "demo table {table}");
    }
}
