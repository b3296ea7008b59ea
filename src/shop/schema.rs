//! The osCommerce tables and columns magsync relies on, read from the
//! profile's fixture (`templates/<profile>/fixture/schema.*.sql`), so `check`
//! can name what a shop's database lacks.

use std::collections::BTreeMap;

/// Table → column names of every `CREATE TABLE` in a DDL script.
pub fn tables(ddl: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let lower = ddl.to_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("create table ") {
        rest = &rest[i + 13..];
        let name = rest
            .split(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("")
            .to_string();
        let Some(open) = rest.find('(') else { break };
        let end = rest
            .find("\n);")
            .or_else(|| rest.find(");"))
            .unwrap_or(rest.len());
        let body = &rest[open + 1..end.max(open + 1)];
        let cols = body
            .lines()
            .map(|l| l.trim().trim_end_matches(','))
            .filter(|l| {
                !l.is_empty()
                    && !l.starts_with("--")
                    && !l.starts_with("primary key")
                    && !l.starts_with("key ")
                    && !l.starts_with("unique")
            })
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect();
        out.insert(name, cols);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_fixture() {
        let t = super::tables(include_str!(
            "../../templates/oscommerce-2.3/fixture/schema.mysql.sql"
        ));
        assert!(t["customers"].contains(&"customers_password".to_string()));
        assert!(t["orders_total"].contains(&"class".to_string()));
        assert!(t.len() >= 20);
    }
}
