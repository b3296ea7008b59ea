//! New orders written in bulk: the statements of many rows, built from the
//! one-row templates (`orders.insert.sql`, `order_lines.insert.sql`), so
//! the SQL stays the templates' and only the packing is magsync's.
//!
//! Why: a load is one transaction of small statements, and the cost of a
//! small statement is its round trip, not its work. On SQLite that is the
//! bind-and-step of a prepared statement: an order's lines go in one
//! multi-row INSERT ([`multi_row_text`]). On Firebird it is the network (the
//! wire protocol has no batch API in Firebird 3): the new orders of a load
//! wait in a [`Queue`] and go as `EXECUTE BLOCK`s, the orders first, then
//! the lines, each line finding its order by number (the block's orders or
//! an earlier block's). Every value is a block parameter declared
//! `TYPE OF COLUMN <table>.<column>`, none is written into the SQL text,
//! and a block's text depends only on how many rows it holds (128 at most,
//! then halving), so the server compiles each size once.
//!
//! The queue is sent before any statement that reads or writes orders
//! ([`touches_orders`]), at the end of a load's attempt and at commit, and
//! dropped at rollback, so what the load sees and what it commits are
//! exactly as if each order had been written at once. A block stays within
//! Firebird 3's 64 KB limit on a statement's text.

use crate::error::{Error, Result};
use crate::templates::{Params, Sql, Value};

/// Lines per multi-row INSERT on SQLite.
pub const ROWS_PER_INSERT: usize = 32;

/// Whether a Magazyn template reads or writes the orders a queue may hold.
pub fn touches_orders(template: &str) -> bool {
    ["orders.", "order_lines.", "goods_issues."]
        .iter()
        .any(|p| template.starts_with(p))
}

/// Whether the order and line templates can be packed: one-row INSERTs
/// with a parameter per column, the order's ending `RETURNING id`, the
/// line's taking `:order_id` (an edited copy that is not is written one
/// statement at a time).
pub fn fits(order: &Sql, line: &Sql) -> bool {
    let shapes = RowShape::of(order).is_ok() && RowShape::of(line).is_ok();
    shapes
        && without_returning_id(order).is_ok()
        && values_tuple(line).is_ok()
        && line.params.iter().any(|p| p == "order_id")
        && order.params.iter().any(|p| p == "number")
}

/// The VALUES tuple of a one-row INSERT: (text before it, the tuple).
fn values_tuple(sql: &Sql) -> Result<(&str, &str)> {
    let upper = sql.text.to_ascii_uppercase();
    let bad = || Error::Template {
        name: sql.name.clone(),
        message: "a bulk insert needs `INSERT INTO … VALUES (…)` with nothing after the tuple"
            .into(),
    };
    let at = upper.rfind("VALUES").ok_or_else(bad)?;
    let tuple = sql.text[at + "VALUES".len()..].trim();
    if !(tuple.starts_with('(') && tuple.ends_with(')')) {
        return Err(bad());
    }
    Ok((&sql.text[..at], tuple))
}

/// A one-row INSERT ending `RETURNING id`, without it.
pub fn without_returning_id(sql: &Sql) -> Result<&str> {
    let t = sql.text.trim_end();
    let cut = t.len().saturating_sub("RETURNING id".len());
    match t.is_char_boundary(cut) && t[cut..].eq_ignore_ascii_case("RETURNING id") {
        true => Ok(&t[..cut]),
        false => Err(Error::Template {
            name: sql.name.clone(),
            message: "a bulk insert needs the order template to end `RETURNING id`".into(),
        }),
    }
}

/// The text of one INSERT of `rows` rows from a one-row template (the
/// same for every chunk of that many rows: built once per size, and
/// prepared once by the connection).
pub fn multi_row_text(sql: &Sql, rows: usize) -> Result<String> {
    let (head, tuple) = values_tuple(sql)?;
    let mut text = String::with_capacity(head.len() + rows * (tuple.len() + 2) + 8);
    text.push_str(head);
    text.push_str("VALUES ");
    for i in 0..rows {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(tuple);
    }
    Ok(text)
}

/// The values of [`multi_row_text`]'s statement for `rows`, `fixed` bound
/// to the parameter `fixed_name` of every row; borrowed, not copied.
pub fn multi_row_values<'a>(
    sql: &Sql,
    rows: &'a [Params],
    fixed_name: &'static str,
    fixed: &'a Value,
) -> Result<Vec<&'a Value>> {
    let mut values = Vec::with_capacity(rows.len() * sql.params.len());
    for row in rows {
        for name in &sql.params {
            values.push(match name.as_str() == fixed_name {
                true => fixed,
                false => row.get(name).ok_or_else(|| missing(sql, name))?,
            });
        }
    }
    Ok(values)
}

fn missing(sql: &Sql, name: &str) -> Error {
    Error::Template {
        name: sql.name.clone(),
        message: format!("uses parameter :{name}, which magsync does not provide here"),
    }
}

/// A one-row INSERT as the rows of an EXECUTE BLOCK: the table, its
/// columns, and for each column the template parameter it takes.
struct RowShape {
    table: String,
    columns: Vec<String>,
    params: Vec<String>,
}

impl RowShape {
    /// `INSERT INTO t (c1, c2, ...) VALUES (?, ?, ...) [RETURNING id]`: every
    /// tuple item one marker.
    fn of(sql: &Sql) -> Result<RowShape> {
        let bad = |m: &str| Error::Template {
            name: sql.name.clone(),
            message: format!(
                "a bulk insert needs `INSERT INTO table (columns) VALUES (?, …)`: {m}"
            ),
        };
        let text = sql.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let rest = text
            .strip_prefix("INSERT INTO ")
            .ok_or_else(|| bad("no INSERT INTO"))?;
        let (table, rest) = rest.split_once(" (").ok_or_else(|| bad("no column list"))?;
        let (cols, rest) = rest.split_once(')').ok_or_else(|| bad("no column list"))?;
        let tuple = rest
            .trim()
            .strip_prefix("VALUES (")
            .and_then(|t| t.split_once(')'))
            .map(|(t, _)| t)
            .ok_or_else(|| bad("no VALUES tuple"))?;
        let columns: Vec<String> = cols.split(',').map(|c| c.trim().to_string()).collect();
        let items: Vec<&str> = tuple.split(',').map(str::trim).collect();
        if items.len() != columns.len()
            || items.iter().any(|i| *i != "?")
            || items.len() != sql.params.len()
        {
            return Err(bad("each value a parameter of its own"));
        }
        Ok(RowShape {
            table: table.trim().to_string(),
            columns,
            params: sql.params.clone(),
        })
    }

    /// The values of one row, in column order.
    fn values(&self, sql: &Sql, row: &Params, skip: Option<&str>) -> Result<Vec<Value>> {
        self.params
            .iter()
            .filter(|p| Some(p.as_str()) != skip)
            .map(|p| row.get(p).cloned().ok_or_else(|| missing(sql, p)))
            .collect()
    }
}

/// New orders and their lines waiting for Firebird, each kind sent in
/// blocks of a few fixed sizes (so the server compiles each size once: a
/// parameter is declared `TYPE OF COLUMN`, not by its value).
#[derive(Default)]
pub struct Queue {
    orders: Vec<(String, Vec<Value>)>,
    /// (the order's number, the line's values without `order_id`).
    lines: Vec<(String, Vec<Value>)>,
    shapes: Option<(RowShape, RowShape)>,
}

/// Rows per block at most; smaller blocks halve down to one row, so that
/// a load needs at most a dozen statement shapes.
const BLOCK_ROWS: usize = 128;
/// Firebird 3 takes a statement of at most 64 KB.
const BLOCK_TEXT: usize = 60_000;

impl Queue {
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.lines.is_empty()
    }

    /// Forget what is queued (a rollback).
    pub fn clear(&mut self) {
        self.orders.clear();
        self.lines.clear();
    }

    /// Queue an order (`orders.insert.sql`'s parameters) and its lines
    /// (`order_lines.insert.sql`'s, without `order_id`).
    pub fn push(
        &mut self,
        order: &Sql,
        line: &Sql,
        fields: &Params,
        lines: &[Params],
    ) -> Result<()> {
        if self.shapes.is_none() {
            let o = RowShape::of(order)?;
            let l = RowShape::of(line)?;
            if !l.params.iter().any(|p| p == "order_id") || !o.params.iter().any(|p| p == "number")
            {
                return Err(missing(line, "order_id"));
            }
            self.shapes = Some((o, l));
        }
        let (os, ls) = self.shapes.as_ref().expect("set above");
        let number = match fields.get("number") {
            Some(Value::Text(n)) => n.clone(),
            _ => return Err(missing(order, "number")),
        };
        self.orders
            .push((number.clone(), os.values(order, fields, None)?));
        for l in lines {
            self.lines
                .push((number.clone(), ls.values(line, l, Some("order_id"))?));
        }
        Ok(())
    }

    /// Whether enough is queued for a full block.
    pub fn full(&self) -> bool {
        self.orders.len() >= BLOCK_ROWS || self.lines.len() >= 4 * BLOCK_ROWS
    }

    /// The blocks of everything queued, orders before lines: (text,
    /// values, which orders). Empties the queue.
    pub fn take_blocks(&mut self) -> Vec<(String, Vec<Value>, String)> {
        let Some((os, ls)) = &self.shapes else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (rows, shape, is_line) in [(&mut self.orders, os, false), (&mut self.lines, ls, true)] {
            // As many rows as keep the block's text within Firebird 3's
            // 64 KB (a row's part is about the same size in every block).
            let per_row = rows.first().map_or(1, |r| {
                block(shape, std::slice::from_ref(r), is_line).0.len()
            });
            let mut most = BLOCK_ROWS;
            while most > 1 && most * per_row > BLOCK_TEXT {
                most /= 2;
            }
            let mut rest = &rows[..];
            while !rest.is_empty() {
                let mut n = most;
                while n > rest.len() {
                    n /= 2;
                }
                let (chunk, tail) = rest.split_at(n);
                rest = tail;
                out.push(block(shape, chunk, is_line));
            }
            rows.clear();
        }
        out
    }
}

/// One EXECUTE BLOCK inserting `rows` (for lines, the order found by its
/// number, which the block's orders or an earlier block inserted).
fn block(
    shape: &RowShape,
    rows: &[(String, Vec<Value>)],
    is_line: bool,
) -> (String, Vec<Value>, String) {
    let mut decl = Vec::new();
    let mut body = String::new();
    let mut values = Vec::new();
    for (number, row) in rows {
        let mut items = Vec::with_capacity(shape.columns.len());
        let mut vals = row.iter();
        for (col, param) in shape.columns.iter().zip(&shape.params) {
            if is_line && param == "order_id" {
                let p = decl.len();
                decl.push(format!("p{p} TYPE OF COLUMN orders.number = ?"));
                values.push(Value::Text(number.clone()));
                items.push(format!("(SELECT id FROM orders WHERE number = :p{p})"));
                continue;
            }
            let p = decl.len();
            decl.push(format!("p{p} TYPE OF COLUMN {}.{col} = ?", shape.table));
            values.push(vals.next().cloned().unwrap_or(Value::Null));
            items.push(format!(":p{p}"));
        }
        body.push_str(&format!(
            "INSERT INTO {} ({}) VALUES ({});\n",
            shape.table,
            shape.columns.join(", "),
            items.join(", ")
        ));
    }
    let what = match (rows.first(), rows.last()) {
        (Some(a), Some(b)) => format!(
            "{} {}, orders {} … {}",
            rows.len(),
            if is_line { "lines" } else { "orders" },
            a.0,
            b.0
        ),
        _ => String::new(),
    };
    (
        format!("EXECUTE BLOCK ({}) AS\nBEGIN\n{body}END", decl.join(", ")),
        values,
        what,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::Templates;

    fn template(name: &str) -> Sql {
        Templates::new(None)
            .sql("magazyn", name, "firebird")
            .unwrap()
    }

    fn order(n: usize) -> Params {
        let t = |s: String| Value::Text(s);
        let mut p = Params::new();
        for name in template("orders.insert.sql").params {
            let v = match name.as_str() {
                "number" => t(format!("B/{n}")),
                "customer_id" | "warehouse_id" => Value::Int(n as i64),
                "buyer_nip" => Value::Null,
                // Long text in some orders: the block is sized by its text,
                // not by the values (their types come from the columns).
                "customer_comment" => t("ż".repeat(n % 7 * 300)),
                _ => t(format!("{name} {n}")),
            };
            if p.get(&name).is_none() {
                p = p.set(Box::leak(name.into_boxed_str()), v);
            }
        }
        p
    }

    fn line(n: usize) -> Params {
        let mut p = Params::new();
        for name in template("order_lines.insert.sql").params {
            if name != "order_id" {
                p = p.set(
                    Box::leak(name.into_boxed_str()),
                    Value::Text(format!("{n}")),
                );
            }
        }
        p
    }

    #[test]
    fn a_queue_goes_as_few_shapes_of_block_within_firebirds_limits() {
        let (o, l) = (
            template("orders.insert.sql"),
            template("order_lines.insert.sql"),
        );
        let mut q = Queue::default();
        let (mut want_values, mut lines) = (0, 0);
        for n in 0..1000 {
            let ls: Vec<Params> = (0..1 + n % 5).map(line).collect();
            lines += ls.len();
            want_values += o.params.len() + ls.len() * l.params.len();
            q.push(&o, &l, &order(n), &ls).unwrap();
        }
        let blocks = q.take_blocks();
        assert!(q.is_empty());
        let shapes: std::collections::BTreeSet<&str> =
            blocks.iter().map(|b| b.0.as_str()).collect();
        assert!(shapes.len() <= 16, "{} shapes", shapes.len());
        for (text, values, what) in &blocks {
            assert!(text.len() < 64 * 1024, "{what}: {} bytes", text.len());
            assert_eq!(text.matches('?').count(), values.len(), "{what}");
            assert!(!text.contains("ż"), "a value went into the text");
        }
        let values: usize = blocks.iter().map(|b| b.1.len()).sum();
        assert_eq!(values, want_values);
        // Orders first, in their order; then the lines, naming their order.
        let inserted: usize = blocks
            .iter()
            .map(|b| b.0.matches("INSERT INTO orders ").count())
            .sum();
        let line_rows: usize = blocks
            .iter()
            .map(|b| b.0.matches("INSERT INTO order_lines ").count())
            .sum();
        assert_eq!((inserted, line_rows), (1000, lines));
        let first_line = blocks
            .iter()
            .position(|b| b.0.contains("order_lines"))
            .unwrap();
        assert!(
            blocks[..first_line]
                .iter()
                .all(|b| !b.0.contains("order_lines"))
        );
        assert!(
            blocks[first_line..]
                .iter()
                .all(|b| !b.0.contains("INSERT INTO orders "))
        );
        assert_eq!(blocks[0].1[0], Value::Text("B/0".into()));
    }

    #[test]
    fn the_shipped_templates_fit_and_an_edited_one_with_an_expression_does_not() {
        let (o, l) = (
            template("orders.insert.sql"),
            template("order_lines.insert.sql"),
        );
        assert!(fits(&o, &l));
        let edited = Sql::parse(
            "orders.insert.sql",
            &l.text
                .replace("VALUES (?", "VALUES (COALESCE(:order_id, 0)")
                .replacen(", ?", "", 1),
        )
        .unwrap();
        assert!(!fits(&o, &edited));
        let no_returning = Sql::parse(
            "orders.insert.sql",
            o.text.trim_end().trim_end_matches("RETURNING id"),
        )
        .unwrap();
        assert!(!fits(&no_returning, &l));
    }

    #[test]
    fn an_orders_lines_go_in_one_statement_on_sqlite() {
        let l = Templates::new(None)
            .sql("magazyn", "order_lines.insert.sql", "sqlite")
            .unwrap();
        let rows: Vec<Params> = (0..3).map(line).collect();
        let text = multi_row_text(&l, rows.len()).unwrap();
        let values = multi_row_values(&l, &rows, "order_id", &Value::Int(42)).unwrap();
        assert_eq!(text.matches('?').count(), values.len());
        assert_eq!(values.len(), 3 * l.params.len());
        assert_eq!(values.iter().filter(|v| ***v == Value::Int(42)).count(), 3);
        assert_eq!(text.matches("), (").count(), 2);
    }
}
