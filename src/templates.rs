//! SQL templates: the knowledge of each database schema, kept as data.
//!
//! A template is `templates/<profile>/<name>.sql`, optionally with a dialect
//! variant `<name>.<dialect>.sql` (`mysql`, `sqlite`) that wins where the
//! SQL must differ. The built-in profiles are compiled into the binary; a
//! `templates = "DIR"` directory in the configuration overrides any of them
//! file by file. Parameters are named (`:since`); they are bound, never
//! spliced into the SQL text.

use crate::error::{Error, Result};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

macro_rules! builtin {
    ($($path:literal),* $(,)?) => {
        pub static BUILTIN: &[(&str, &str)] = &[
            $(($path, include_str!(concat!("../templates/", $path))),)*
        ];
    };
}

builtin![
    "oscommerce-2.3/fixture/schema.mysql.sql",
    "oscommerce-2.3/fixture/schema.sqlite.sql",
    "oscommerce-2.3/clock.mysql.sql",
    "oscommerce-2.3/clock.sqlite.sql",
    "oscommerce-2.3/customers.extract.sql",
    "oscommerce-2.3/customers.max_id.sql",
    "oscommerce-2.3/settings.sql",
    "oscommerce-2.3/indexes.add.mysql.sql",
    "oscommerce-2.3/indexes.add.sqlite.sql",
    "oscommerce-2.3/indexes.drop.mysql.sql",
    "oscommerce-2.3/indexes.drop.sqlite.sql",
    "oscommerce-2.3/indexes.list.mysql.sql",
    "oscommerce-2.3/indexes.list.sqlite.sql",
    "oscommerce-2.3/reconcile.customers.sql",
    "oscommerce-2.3/reconcile.orders.sql",
    "oscommerce-2.3/encoding.sample.sql",
    "oscommerce-2.3/encoding.columns.mysql.sql",
    "oscommerce-2.3/encoding.columns.sqlite.sql",
    "oscommerce-2.3/schema.columns.mysql.sql",
    "oscommerce-2.3/schema.columns.sqlite.sql",
    "oscommerce-2.3/check.models.sql",
    "oscommerce-2.3/catalog.extract.sql",
    "oscommerce-2.3/catalog.max_id.sql",
    "oscommerce-2.3/products.read.sql",
    "oscommerce-2.3/products.tax_classes.sql",
    "oscommerce-2.3/products.by_model.sql",
    "oscommerce-2.3/products.first_category.sql",
    "oscommerce-2.3/products.create.mysql.sql",
    "oscommerce-2.3/products.create.sqlite.sql",
    "oscommerce-2.3/products.create_description.sql",
    "oscommerce-2.3/products.create_category.sql",
    "oscommerce-2.3/products.delete_created.sql",
    "oscommerce-2.3/products.delete_created_rest.sql",
    "oscommerce-2.3/products.delete_created_links.sql",
    "oscommerce-2.3/products.tax_rates.sql",
    "oscommerce-2.3/products.settings.sql",
    "oscommerce-2.3/products.in_flight.sql",
    "oscommerce-2.3/products.specials.sql",
    "oscommerce-2.3/products.end_special.sql",
    "oscommerce-2.3/products.restart_special.sql",
    "oscommerce-2.3/products.create_special.sql",
    "oscommerce-2.3/products.running_special.sql",
    "oscommerce-2.3/products.reprice_special.mysql.sql",
    "oscommerce-2.3/products.reprice_special.sqlite.sql",
    "oscommerce-2.3/products.delete_special.mysql.sql",
    "oscommerce-2.3/products.delete_special.sqlite.sql",
    "oscommerce-2.3/products.home_zone.sql",
    "oscommerce-2.3/products.get.sql",
    "oscommerce-2.3/products.update.mysql.sql",
    "oscommerce-2.3/products.update.sqlite.sql",
    "oscommerce-2.3/products.undo.mysql.sql",
    "oscommerce-2.3/products.undo.sqlite.sql",
    "oscommerce-2.3/engines.mysql.sql",
    "oscommerce-2.3/engines.sqlite.sql",
    "oscommerce-2.3/transaction.mysql.sql",
    "oscommerce-2.3/transaction.sqlite.sql",
    "oscommerce-2.3/discover.payments.sql",
    "oscommerce-2.3/discover.shipping.sql",
    "oscommerce-2.3/discover.statuses.sql",
    "oscommerce-2.3/discover.tax_classes.sql",
    "oscommerce-2.3/snapshot.mysql.sql",
    "oscommerce-2.3/snapshot.sqlite.sql",
    "oscommerce-2.3/commit.sql",
    "oscommerce-2.3/orders.max_id.sql",
    "oscommerce-2.3/orders.currencies.sql",
    "oscommerce-2.3/orders.ids.sql",
    "oscommerce-2.3/orders.extract.sql",
    "oscommerce-2.3/orders.countries.sql",
    "oscommerce-2.3/orders.changed.sql",
    "oscommerce-2.3/orders.totals.sql",
    "oscommerce-2.3/orders.history.sql",
    "oscommerce-2.3/orders.lines.sql",
    "oscommerce-2.3/orders.attributes.sql",
    "magazyn/migrations/0001_reference_schema.sql",
    "magazyn/migrations/0002_order_reservations.sql",
    "magazyn/migrations/0003_base_prices.sql",
    "magazyn/migrations/0004_order_line_kinds.sql",
    "magazyn/migrations/0005_order_buyer_and_comment.sql",
    "magazyn/migrations/0006_goods_issues.sql",
    "magazyn/migrations/0007_retired_links.sql",
    "magazyn/migrations/0008_deletion_checks.sql",
    "magazyn/checks.get.sql",
    "magazyn/checks.put.sql",
    "magazyn/links.retire.sql",
    "magazyn/links.customer.sql",
    "magazyn/links.customers.sql",
    "magazyn/links.products.sql",
    "magazyn/goods_issues.insert.sql",
    "magazyn/goods_issues.of_order.sql",
    "magazyn/products.extract.sql",
    "magazyn/price_lists.get.sql",
    "magazyn/prices.set.sql",
    "magazyn/stock.set_quantity.sql",
    "magazyn/stock.of_goods.sql",
    "magazyn/orders.get.sql",
    "magazyn/orders.max_loaded.sql",
    "magazyn/orders.of_shop.sql",
    "magazyn/orders.insert.sql",
    "magazyn/orders.update_status.sql",
    "magazyn/order_lines.insert.sql",
    "magazyn/order_lines.reserved.sql",
    "magazyn/goods.by_code.sql",
    "magazyn/goods.by_codes.sql",
    "magazyn/goods.by_barcode.sql",
    "magazyn/goods.insert.sql",
    "magazyn/goods.get.sql",
    "magazyn/goods.update.sql",
    "magazyn/vat_rates.all.sql",
    "magazyn/prices.get.sql",
    "magazyn/warehouses.get.sql",
    "magazyn/stock.get.sql",
    "magazyn/stock.set_reserved.sql",
    "magazyn/customers.get.sql",
    "magazyn/customers.match_code.sql",
    "magazyn/customers.match_nip.sql",
    "magazyn/customers.match_name.sql",
    "magazyn/customers.match_email.sql",
    "magazyn/customers.insert.sql",
    "magazyn/customers.update.sql",
    "magazyn/customers.stale_keys.sql",
    "magazyn/customers.set_keys.sql",
    "magazyn/links.get.sql",
    "magazyn/links.put.sql",
    "magazyn/ledger.get.sql",
    "magazyn/ledger.put.sql",
    "magazyn/warehouses.ensure.sql",
    "magazyn/price_lists.ensure.sql",
    "magazyn/session.sql",
    "magazyn/transaction.begin.sql",
    "magazyn/transaction.snapshot.sql",
    "magazyn/transaction.commit.sql",
    "magazyn/transaction.rollback.sql",
    "magazyn/migrations.exists.sql",
    "magazyn/migrations.table.sql",
    "magazyn/migrations.done.sql",
    "magazyn/migrations.record.sql",
    "magazyn/describe.sql",
    "magazyn/goods.by_barcode.firebird.sql",
    "magazyn/session.firebird.sql",
    "magazyn/migrations.exists.firebird.sql",
    "magazyn/migrations.table.firebird.sql",
    "magazyn/describe.firebird.sql",
    "magazyn/links.put.firebird.sql",
    "magazyn/order_lines.reserved.firebird.sql",
    "magazyn/price_lists.ensure.firebird.sql",
    "magazyn/prices.get.firebird.sql",
    "magazyn/prices.set.firebird.sql",
    "magazyn/products.extract.firebird.sql",
    "magazyn/stock.get.firebird.sql",
    "magazyn/stock.of_goods.firebird.sql",
    "magazyn/stock.set_quantity.firebird.sql",
    "magazyn/stock.set_reserved.firebird.sql",
    "magazyn/vat_rates.all.firebird.sql",
    "magazyn/warehouses.ensure.firebird.sql",
    "magazyn/migrations/0001_reference_schema.firebird.sql",
    "magazyn/migrations/0002_order_reservations.firebird.sql",
    "magazyn/migrations/0003_base_prices.firebird.sql",
    "magazyn/migrations/0004_order_line_kinds.firebird.sql",
    "magazyn/migrations/0005_order_buyer_and_comment.firebird.sql",
    "magazyn/migrations/0006_goods_issues.firebird.sql",
    "magazyn/migrations/0007_retired_links.firebird.sql",
    "magazyn/migrations/0008_deletion_checks.firebird.sql",
    "magazyn/checks.put.firebird.sql",
    "magazyn/goods_issues.insert.firebird.sql",
    "magazyn/goods_issues.of_order.firebird.sql",
    "staging/shop_customers.xsd",
    "staging/customers.xsd",
    "staging/shop_orders.xsd",
    "staging/orders.xsd",
    "staging/magazyn_goods.xsd",
    "staging/product_updates.xsd",
    "staging/product_creates.xsd",
    "staging/shop_products.xsd",
    "staging/goods.xsd",
    "staging/price_entries.xsd",
];

/// Where templates come from: an override directory, then the built-ins.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    dir: Option<PathBuf>,
}

impl Templates {
    pub fn new(dir: Option<PathBuf>) -> Templates {
        Templates { dir }
    }

    /// The text of `<profile>/<name>`, the dialect variant first
    /// (`<stem>.<dialect>.sql`: `.mysql`/`.sqlite` for shops, `.firebird`
    /// where the Magazyn's SQL differs on Firebird).
    pub fn text(&self, profile: &str, name: &str, dialect: &str) -> Result<Cow<'static, str>> {
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        let variant = format!("{profile}/{stem}.{dialect}.{ext}");
        let plain = format!("{profile}/{name}");
        // A copy exported before the Firebird templates became a dialect of
        // `magazyn` keeps them in `magazyn-firebird/`: still read, first.
        if let (Some(dir), "magazyn", "firebird") = (&self.dir, profile, dialect) {
            let old = dir.join("magazyn-firebird").join(name);
            if old.is_file() {
                warn_legacy(&old, &variant);
                return std::fs::read_to_string(&old).map(Cow::Owned).map_err(|e| {
                    Error::Template {
                        name: old.display().to_string(),
                        message: e.to_string(),
                    }
                });
            }
        }
        for rel in [&variant, &plain] {
            if let Some(dir) = &self.dir {
                let p = dir.join(rel);
                if p.is_file() {
                    return std::fs::read_to_string(&p).map(Cow::Owned).map_err(|e| {
                        Error::Template {
                            name: p.display().to_string(),
                            message: e.to_string(),
                        }
                    });
                }
            }
        }
        for rel in [&variant, &plain] {
            if let Some((_, text)) = BUILTIN.iter().find(|(p, _)| p == rel) {
                if let Some(dir) = &self.dir {
                    warn_fallback(dir, rel);
                }
                return Ok(Cow::Borrowed(text));
            }
        }
        Err(Error::Template {
            name: plain,
            message: "no such template (built-in or in the templates directory)".into(),
        })
    }

    /// A parsed SQL template.
    pub fn sql(&self, profile: &str, name: &str, dialect: &str) -> Result<Sql> {
        let text = self.text(profile, name, dialect)?;
        Sql::parse(&format!("{profile}/{name}"), &text)
    }

    /// Copy every built-in template to `dir` (for `magsync templates export`).
    pub fn export_builtin(dir: &Path) -> Result<usize> {
        for (rel, text) in BUILTIN {
            let p = dir.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::write(&p, text).map_err(|e| Error::io(&p, e))?;
        }
        Ok(BUILTIN.len())
    }
}

/// A profile copied out and edited may lack a template a newer magsync
/// needs: the built-in one is used, and that is said once per run.
fn warn_fallback(dir: &Path, rel: &str) {
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if !said.iter().any(|s| s == rel) {
        tracing::warn!(
            "template {rel} is not in {}: using the built-in one",
            dir.display()
        );
        said.push(rel.to_string());
    }
}

/// A template in the old `magazyn-firebird/` directory: used, and said
/// once per run where it belongs now.
fn warn_legacy(path: &Path, now: &str) {
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    let shown = path.display().to_string();
    if !said.contains(&shown) {
        tracing::warn!(
            "template {shown}: read; its place is now {now} (the Firebird templates are the `firebird` dialect of the magazyn profile)"
        );
        said.push(shown);
    }
}

/// SQL with its named parameters turned into positional `?` markers.
#[derive(Debug, Clone)]
pub struct Sql {
    pub name: String,
    pub text: String,
    /// Parameter names in the order of the `?` markers.
    pub params: Vec<String>,
}

impl Sql {
    /// Replace `:name` markers (outside quotes and comments) by `?`.
    pub fn parse(name: &str, src: &str) -> Result<Sql> {
        let mut text = String::with_capacity(src.len());
        let mut params = Vec::new();
        let b = src.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            match c {
                b'\'' | b'"' | b'`' => {
                    let start = i;
                    i += 1;
                    while i < b.len() && b[i] != c {
                        if b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    if i >= b.len() {
                        return Err(Error::Template {
                            name: name.into(),
                            message: "unterminated quote".into(),
                        });
                    }
                    i += 1;
                    text.push_str(&src[start..i]);
                }
                b'-' if b.get(i + 1) == Some(&b'-') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b':' if b
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == b'_')
                    && (i == 0 || b[i - 1] != b':') =>
                {
                    let start = i + 1;
                    i = start;
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                    params.push(src[start..i].to_string());
                    text.push('?');
                }
                _ => {
                    // Copy one UTF-8 character.
                    let ch = src[i..].chars().next().expect("in bounds");
                    text.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        Ok(Sql {
            name: name.into(),
            text: text.trim().trim_end_matches(';').to_string(),
            params,
        })
    }

    /// The statement with its parameter `list` (written once, as in
    /// `IN (:shop_ids)`) standing for `n` values: its marker becomes `n`
    /// markers, bound in order. A template names a list where one
    /// statement asks for many keys at once.
    pub fn with_list(&self, list: &str, n: usize) -> Result<Sql> {
        let bad = |m: &str| Error::Template {
            name: self.name.clone(),
            message: format!("the list parameter :{list} {m}"),
        };
        if n == 0 {
            return Err(bad("needs at least one value"));
        }
        if self.params.iter().filter(|p| *p == list).count() != 1 {
            return Err(bad("must appear exactly once"));
        }
        let mut text = String::with_capacity(self.text.len() + 3 * n);
        let mut params = Vec::with_capacity(self.params.len() + n);
        let mut names = self.params.iter();
        let (mut quote, mut escaped) = (None, false);
        for ch in self.text.chars() {
            match (quote, ch) {
                // As `parse` reads quotes: a backslash keeps the next one.
                (Some(_), _) if escaped => escaped = false,
                (Some(_), '\\') => escaped = true,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"' | '`') => quote = Some(ch),
                (None, '?') => {
                    let name = names.next().ok_or_else(|| bad("is not a marker"))?;
                    if name == list {
                        text.push_str(&vec!["?"; n].join(", "));
                        params.extend(std::iter::repeat_n(name.clone(), n));
                    } else {
                        text.push('?');
                        params.push(name.clone());
                    }
                    continue;
                }
                (None, _) => {}
            }
            text.push(ch);
        }
        Ok(Sql {
            name: self.name.clone(),
            text,
            params,
        })
    }
}

/// A value bound to a named parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}

/// Named parameter values for one execution.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(&'static str, Value)>);

impl Params {
    pub fn new() -> Params {
        Params(Vec::new())
    }
    /// Room for `n` parameters (a statement of many, built per row).
    pub fn with_capacity(n: usize) -> Params {
        Params(Vec::with_capacity(n))
    }
    pub fn set(mut self, name: &'static str, v: impl Into<Value>) -> Params {
        self.0.push((name, v.into()));
        self
    }
    /// `set`, dropping a value the name had.
    pub fn reset(mut self, name: &'static str, v: impl Into<Value>) -> Params {
        self.0.retain(|(n, _)| *n != name);
        self.set(name, v)
    }
    /// The value of one parameter, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
    /// The value of one parameter moved out (a `Null` left in its place).
    pub fn take(&mut self, name: &str) -> Option<Value> {
        let (_, v) = self.0.iter_mut().find(|(n, _)| *n == name)?;
        Some(std::mem::replace(v, Value::Null))
    }
    /// The values in the order the SQL wants them.
    pub fn ordered<'a>(&'a self, sql: &Sql) -> Result<Vec<&'a Value>> {
        let mut at = 0;
        sql.params
            .iter()
            .map(|p| self.find(sql, p, &mut at))
            .collect()
    }

    /// `ordered` for a statement built by [`Sql::with_list`]`(list, n)`:
    /// its `n` markers of `list` take `keys` in order, the last one
    /// repeated where there are fewer (so that a few sizes of statement
    /// serve every count). More keys than markers, or none, is an error.
    pub fn ordered_with_list<'a>(
        &'a self,
        sql: &Sql,
        list: &str,
        keys: &'a [Value],
    ) -> Result<Vec<&'a Value>> {
        let bad = |m: String| Error::Template {
            name: sql.name.clone(),
            message: format!("the list parameter :{list} {m}"),
        };
        let last = keys.last().ok_or_else(|| bad("has no values".into()))?;
        let mut asked = keys.iter();
        let mut at = 0;
        let values = sql
            .params
            .iter()
            .map(|p| match p == list {
                true => Ok(asked.next().unwrap_or(last)),
                false => self.find(sql, p, &mut at),
            })
            .collect::<Result<Vec<_>>>()?;
        if asked.next().is_some() {
            let markers = sql.params.iter().filter(|p| *p == list).count();
            return Err(bad(format!(
                "has {markers} markers for {} values",
                keys.len()
            )));
        }
        Ok(values)
    }

    /// The value of parameter `p`, looked for from where the last one was
    /// found first: values are mostly set in the template's order (a hot
    /// path of every load).
    fn find<'a>(&'a self, sql: &Sql, p: &str, at: &mut usize) -> Result<&'a Value> {
        let len = self.0.len();
        (0..len)
            .map(|k| (*at + k) % len)
            .find(|&i| self.0[i].0 == p)
            .map(|i| {
                *at = i + 1;
                &self.0[i].1
            })
            .ok_or_else(|| Error::Template {
                name: sql.name.clone(),
                message: format!(
                    "uses parameter :{p}, which magsync does not provide here (available: {})",
                    self.0
                        .iter()
                        .map(|(n, _)| format!(":{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_params_outside_quotes() {
        let s = Sql::parse(
            "t",
            "SELECT ':x', a FROM t -- :comment\nWHERE b = :since AND c::text = :id_2;",
        )
        .unwrap();
        assert_eq!(s.params, vec!["since", "id_2"]);
        assert!(s.text.contains("':x'"));
        assert!(!s.text.contains(":comment"));
        assert!(s.text.ends_with("= ?"));
    }

    #[test]
    fn a_list_parameter_stands_for_as_many_markers_as_values() {
        let s = Sql::parse(
            "t",
            "SELECT a FROM t WHERE s = :shop AND k IN (:keys) AND n <> '?' AND m = :m",
        )
        .unwrap();
        let three = s.with_list("keys", 3).unwrap();
        assert_eq!(
            three.text,
            "SELECT a FROM t WHERE s = ? AND k IN (?, ?, ?) AND n <> '?' AND m = ?"
        );
        assert_eq!(three.params, ["shop", "keys", "keys", "keys", "m"]);
        assert_eq!(s.with_list("keys", 1).unwrap().text, s.text);
        assert!(s.with_list("keys", 0).is_err());
        assert!(s.with_list("absent", 2).is_err());

        // The values: the keys in order, the last repeated to fill the markers.
        let p = Params::new().set("m", 7).set("shop", "b");
        let keys: Vec<Value> = vec![10.into(), 11.into()];
        let four = s.with_list("keys", 4).unwrap();
        let bound = p.ordered_with_list(&four, "keys", &keys).unwrap();
        let ints: Vec<_> = bound.iter().map(|v| format!("{v:?}")).collect();
        assert_eq!(
            ints,
            [
                "Text(\"b\")",
                "Int(10)",
                "Int(11)",
                "Int(11)",
                "Int(11)",
                "Int(7)"
            ]
        );
        let one = p.ordered_with_list(&s, "keys", &keys[..1]).unwrap();
        assert_eq!(format!("{:?}", one[1]), "Int(10)");
        let err = p.ordered_with_list(&s, "keys", &keys).unwrap_err();
        assert!(
            err.to_string().contains("has 1 markers for 2 values"),
            "{err}"
        );
        assert!(p.ordered_with_list(&four, "keys", &[]).is_err());
    }

    #[test]
    fn every_template_file_is_built_in() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in walkdir::WalkDir::new(&root) {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                assert!(
                    BUILTIN.iter().any(|(p, _)| *p == rel),
                    "templates/{rel} is not in templates::BUILTIN"
                );
            }
        }
    }

    #[test]
    fn every_sql_template_parses() {
        for (rel, text) in BUILTIN {
            if rel.ends_with(".sql") {
                Sql::parse(rel, text).unwrap();
            }
        }
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn every_sql_template_is_documented() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/templates.md"))
                .unwrap();
        for (rel, _) in super::BUILTIN {
            let Some(name) = rel.strip_suffix(".sql") else {
                continue;
            };
            let file = name.rsplit('/').next().unwrap();
            // Dialect variants are documented under their plain name.
            let plain = file
                .trim_end_matches(".mysql")
                .trim_end_matches(".sqlite")
                .trim_end_matches(".firebird");
            let documented =
                doc.contains(&format!("{plain}.sql")) || doc.contains(&format!("{file}.sql"));
            assert!(documented, "docs/templates.md does not mention {rel}");
        }
    }
}
