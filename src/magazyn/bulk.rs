//! New orders written in bulk: the statements of many rows, built from the
//! one-row templates (`orders.insert.sql`, `order_lines.insert.sql`), so
//! the SQL stays the templates' and only the packing is magsync's.
//!
//! Why: a load is one transaction of small statements, and the cost of a
//! small statement is its round trip, not its work. On SQLite that is the
//! bind-and-step of a prepared statement: an order's lines go in one
//! multi-row INSERT ([`multi_row_text`]). On Firebird it is the network (the
//! wire protocol has no batch API in Firebird 3): the new orders of a load
//! wait in a [`Queue`] and go as `EXECUTE BLOCK`s, the orders first (each
//! block returning its orders' ids, a row each), then the lines, each
//! taking its order's id like any other value. (Lines that found their
//! order by number cost the server a look-up each, a tenth of a load.)
//! Every value is a block parameter declared `TYPE OF COLUMN
//! <table>.<column>`, none is written into the SQL text, and a block's
//! text depends only on how many rows it holds (as many as fit, then
//! halving): it is built once per size, and the server compiles each
//! size once.
//!
//! The queue is sent before any statement that reads or writes orders
//! ([`touches_orders`]), at the end of a load's attempt and at commit, and
//! dropped at rollback, so what the load sees and what it commits are
//! exactly as if each order had been written at once.

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

    /// The values of one row, in column order, appended to `out`.
    fn values_into(
        &self,
        sql: &Sql,
        row: &Params,
        skip: Option<&str>,
        out: &mut Vec<Value>,
    ) -> Result<()> {
        for p in self.params.iter().filter(|p| Some(p.as_str()) != skip) {
            out.push(row.get(p).cloned().ok_or_else(|| missing(sql, p))?);
        }
        Ok(())
    }
}

/// New orders and their lines waiting for Firebird, each kind sent in
/// blocks of a few fixed sizes (so the server compiles each size once: a
/// parameter is declared `TYPE OF COLUMN`, not by its value). A block's
/// text is built once per size and kept; only values are gathered per
/// block, borrowed from the queue.
#[derive(Default)]
pub struct Queue {
    /// Each order's number (to name a block).
    numbers: Vec<String>,
    /// The orders' values, one row after another, in column order.
    orders: Vec<Value>,
    /// Each line's order (its index in `numbers`).
    line_orders: Vec<usize>,
    /// The lines' values without `order_id`, one row after another.
    lines: Vec<Value>,
    /// Each order's id, as its block returned it.
    ids: Vec<Value>,
    shapes: Option<(RowShape, RowShape)>,
    /// Block texts by (lines?, rows).
    texts: std::collections::HashMap<(bool, usize), String>,
}

/// Rows per block at most; smaller blocks halve down to one row, so that
/// a load needs at most a dozen statement shapes.
const BLOCK_ROWS: usize = 128;
/// Orders queued before they are sent (or four times as many lines): each
/// send ends in blocks halving down to the rows left over, so the fewer
/// sends, the fewer small blocks (at 128 orders a send, a 200 000-order
/// load sent 5 002 of them, 3.3 s of its 53 s). 1 024 orders and their
/// lines are about 1 MB queued.
const QUEUE_ORDERS: usize = 1024;
/// Parameters per block at most: the wire client refuses to describe
/// many more than a thousand ("Invalid Xsqlda received from server").
const BLOCK_PARAMS: usize = 960;
/// Text of a block at most: Firebird 3 over the wire takes a statement of
/// at most 64 KB (a longer one is never answered).
const BLOCK_TEXT: usize = 60_000;

/// One block ready to send: its text, its values, what it holds (for
/// messages), and how many orders it returns the ids of (0 for lines).
pub struct Block<'q> {
    pub text: &'q str,
    pub values: Vec<&'q Value>,
    pub what: String,
    pub returns: usize,
}

impl Queue {
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// Forget what is queued (a rollback).
    pub fn clear(&mut self) {
        self.numbers.clear();
        self.orders.clear();
        self.line_orders.clear();
        self.lines.clear();
        self.ids.clear();
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
        os.values_into(order, fields, None, &mut self.orders)?;
        for l in lines {
            ls.values_into(line, l, Some("order_id"), &mut self.lines)?;
            self.line_orders.push(self.numbers.len());
        }
        self.numbers.push(number);
        Ok(())
    }

    /// Whether enough is queued for a full block.
    pub fn full(&self) -> bool {
        self.numbers.len() >= QUEUE_ORDERS || self.line_orders.len() >= 4 * QUEUE_ORDERS
    }

    /// Send everything queued, orders before lines, and empty the queue:
    /// `run` executes a block and returns the one row it gives, its
    /// columns in order (an orders block: the ids of its orders, in order;
    /// a lines block: how many it inserted).
    /// `file` is the Magazyn, as errors name it.
    pub fn send(
        &mut self,
        file: &str,
        mut run: impl FnMut(Block) -> Result<Vec<i64>>,
    ) -> Result<()> {
        let Some((os, ls)) = &self.shapes else {
            return Ok(());
        };
        let res = (|| {
            self.ids.clear();
            let per_order = os.columns.len();
            let most = most_rows(&mut self.texts, os, false);
            let mut at = 0;
            while at < self.numbers.len() {
                let n = fit(most, self.numbers.len() - at);
                let text = block_text(&mut self.texts, os, false, n);
                let block = Block {
                    text,
                    values: self.orders[at * per_order..(at + n) * per_order]
                        .iter()
                        .collect(),
                    what: format!(
                        "{n} orders, {} … {}",
                        self.numbers[at],
                        self.numbers[at + n - 1]
                    ),
                    returns: n,
                };
                let what = block.what.clone();
                let ids = run(block)?;
                if ids.len() != n {
                    return Err(Error::Magazyn {
                        what: format!("{file}: orders.insert.sql ({what})"),
                        key: String::new(),
                        message: format!("the block returned {} ids of {n} orders", ids.len()),
                    });
                }
                self.ids.extend(ids.into_iter().map(Value::Int));
                at += n;
            }
            let per_line = ls.columns.len() - 1;
            let most = most_rows(&mut self.texts, ls, true);
            let order_col = ls
                .params
                .iter()
                .position(|p| p == "order_id")
                .expect("a line shape takes order_id");
            let mut at = 0;
            while at < self.line_orders.len() {
                let n = fit(most, self.line_orders.len() - at);
                // Built before the text is borrowed: `block_text` needs the
                // cache mutably, the values only the queue's rows.
                block_text(&mut self.texts, ls, true, n);
                let mut values = Vec::with_capacity(n * (per_line + 1));
                for i in at..at + n {
                    let row = &self.lines[i * per_line..(i + 1) * per_line];
                    values.extend(&row[..order_col]);
                    values.push(&self.ids[self.line_orders[i]]);
                    values.extend(&row[order_col..]);
                }
                let block = Block {
                    text: &self.texts[&(true, n)],
                    values,
                    what: format!(
                        "{n} lines, orders {} … {}",
                        self.numbers[self.line_orders[at]],
                        self.numbers[self.line_orders[at + n - 1]]
                    ),
                    returns: 0,
                };
                let what = block.what.clone();
                let count = run(block)?;
                if count != [n as i64] {
                    return Err(Error::Magazyn {
                        what: format!("{file}: order_lines.insert.sql ({what})"),
                        key: String::new(),
                        message: format!("the block inserted {count:?} of {n} lines"),
                    });
                }
                at += n;
            }
            Ok(())
        })();
        self.clear();
        res
    }
}

/// The largest block of `most` rows or fewer, halving, for `left` rows.
fn fit(most: usize, left: usize) -> usize {
    let mut n = most;
    while n > left {
        n /= 2;
    }
    n
}

/// As many rows as keep a block within the limits on its parameters and
/// its text (a row's part is the same size in every block).
fn most_rows(
    texts: &mut std::collections::HashMap<(bool, usize), String>,
    shape: &RowShape,
    is_line: bool,
) -> usize {
    let per_row = block_text(texts, shape, is_line, 1).len();
    let mut most = BLOCK_ROWS;
    while most > 1 && (most * per_row > BLOCK_TEXT || most * shape.columns.len() > BLOCK_PARAMS) {
        most /= 2;
    }
    most
}

/// The text of an EXECUTE BLOCK inserting `rows` orders (returning their
/// ids as one row, `id0`, `id1`, …) or `rows` lines (their `order_id` a
/// parameter like the rest: the id an orders block returned; returning
/// `n`, the rows inserted). Built once per size.
///
/// Each block SUSPENDs once, at its end, and is run as a singleton
/// select: its one row comes back with its execution (`op_execute2`, one
/// round trip), where a row per order read through a cursor cost an
/// execute, a count of rows and a fetch, and a block without output an
/// execute and a count: three and two round trips.
fn block_text<'t>(
    texts: &'t mut std::collections::HashMap<(bool, usize), String>,
    shape: &RowShape,
    is_line: bool,
    rows: usize,
) -> &'t str {
    texts.entry((is_line, rows)).or_insert_with(|| {
        let mut decl = Vec::with_capacity(rows * shape.columns.len());
        let mut body = String::new();
        let columns = shape.columns.join(", ");
        for row in 0..rows {
            let items: Vec<String> = shape
                .columns
                .iter()
                .map(|col| {
                    let p = decl.len();
                    decl.push(format!("p{p} TYPE OF COLUMN {}.{col} = ?", shape.table));
                    format!(":p{p}")
                })
                .collect();
            body.push_str(&format!(
                "INSERT INTO {} ({columns}) VALUES ({})",
                shape.table,
                items.join(", ")
            ));
            match is_line {
                true => body.push_str(";\nn = n + ROW_COUNT;\n"),
                false => body.push_str(&format!(" RETURNING id INTO :id{row};\n")),
            }
        }
        let returns = match is_line {
            true => " RETURNS (n INTEGER)".to_string(),
            false => {
                let ids: Vec<String> = (0..rows)
                    .map(|row| format!("id{row} TYPE OF COLUMN {}.id", shape.table))
                    .collect();
                format!(" RETURNS ({})", ids.join(", "))
            }
        };
        let start = match is_line {
            true => "n = 0;\n",
            false => "",
        };
        format!(
            "EXECUTE BLOCK ({}){returns} AS\nBEGIN\n{start}{body}SUSPEND;\nEND",
            decl.join(", ")
        )
    })
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

    /// The shipped Firebird order and line templates.
    fn shipped() -> (Sql, Sql) {
        (
            template("orders.insert.sql"),
            template("order_lines.insert.sql"),
        )
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
        let (o, l) = shipped();
        let mut q = Queue::default();
        let (mut want_values, mut lines) = (0, 0);
        // Each line's order, by number: what its block must name by id.
        let mut line_of = Vec::new();
        for n in 0..1000 {
            let ls: Vec<Params> = (0..1 + n % 5).map(line).collect();
            lines += ls.len();
            line_of.extend(std::iter::repeat_n(format!("B/{n}"), ls.len()));
            want_values += o.params.len() + ls.len() * l.params.len();
            q.push(&o, &l, &order(n), &ls).unwrap();
        }
        // The server's ids: not the queue's positions.
        let mut next_id = 7000;
        let mut id_of = std::collections::HashMap::new();
        let mut blocks = Vec::new();
        q.send("m.fdb", |b| {
            let mut ids = Vec::new();
            for i in 0..b.returns {
                let number = b.values[i * o.params.len()].clone();
                id_of.insert(next_id, number);
                ids.push(next_id);
                next_id += 3;
            }
            if b.returns == 0 {
                // A lines block's row: the lines it inserted.
                ids.push(b.text.matches("INSERT INTO order_lines ").count() as i64);
            }
            let values: Vec<Value> = b.values.into_iter().cloned().collect();
            blocks.push((b.text.to_string(), values, b.what, b.returns));
            Ok(ids)
        })
        .unwrap();
        assert!(q.is_empty());
        let shapes: std::collections::BTreeSet<&str> =
            blocks.iter().map(|b| b.0.as_str()).collect();
        assert!(shapes.len() <= 16, "{} shapes", shapes.len());
        for (text, values, what, _) in &blocks {
            assert!(text.len() <= BLOCK_TEXT, "{what}: {} bytes", text.len());
            assert!(
                values.len() <= BLOCK_PARAMS,
                "{what}: {} values",
                values.len()
            );
            assert_eq!(text.matches('?').count(), values.len(), "{what}");
            assert!(!text.contains("ż"), "a value went into the text");
        }
        let values: usize = blocks.iter().map(|b| b.1.len()).sum();
        assert_eq!(values, want_values);
        // Orders first, in their order, each returning its id; then the
        // lines, each naming its order by the id returned.
        let inserted: usize = blocks
            .iter()
            .map(|b| b.0.matches("INSERT INTO orders ").count())
            .sum();
        let returned: usize = blocks.iter().map(|b| b.3).sum();
        let line_rows: usize = blocks
            .iter()
            .map(|b| b.0.matches("INSERT INTO order_lines ").count())
            .sum();
        assert_eq!((inserted, returned, line_rows), (1000, 1000, lines));
        let first_line = blocks
            .iter()
            .position(|b| b.0.contains("order_lines"))
            .unwrap();
        assert!(blocks[..first_line].iter().all(|b| b.3 > 0));
        assert!(blocks[first_line..].iter().all(|b| b.3 == 0));
        assert_eq!(blocks[0].1[0], Value::Text("B/0".into()));
        let at = l.params.iter().position(|p| p == "order_id").unwrap();
        let named: Vec<Value> = blocks[first_line..]
            .iter()
            .flat_map(|b| b.1.chunks(l.params.len()).map(|row| row[at].clone()))
            .map(|id| match id {
                Value::Int(id) => id_of[&id].clone(),
                other => panic!("order_id {other:?}"),
            })
            .collect();
        let want: Vec<Value> = line_of.into_iter().map(Value::Text).collect();
        assert_eq!(named, want);
    }

    #[test]
    fn a_block_returning_fewer_ids_than_orders_is_an_error_and_the_queue_empties() {
        let (o, l) = shipped();
        let mut q = Queue::default();
        for n in 0..3 {
            q.push(&o, &l, &order(n), &[line(n)]).unwrap();
        }
        let err = q.send("m.fdb", |_| Ok(vec![1])).unwrap_err().to_string();
        assert!(
            err.contains("m.fdb: orders.insert.sql (2 orders, B/0 … B/1)")
                && err.contains("1 ids of 2 orders"),
            "{err}"
        );
        assert!(q.is_empty());
        // A lines block that says it inserted fewer rows than it holds.
        for n in 0..3 {
            q.push(&o, &l, &order(n), &[line(n)]).unwrap();
        }
        let err = q
            .send("m.fdb", |b| match b.returns {
                0 => Ok(vec![1]),
                n => Ok((0..n as i64).collect()),
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("m.fdb: order_lines.insert.sql (2 lines, orders B/0 … B/1)")
                && err.contains("inserted [1] of 2 lines"),
            "{err}"
        );
        assert!(q.is_empty());
    }

    #[test]
    fn the_shipped_templates_fit_and_an_edited_one_with_an_expression_does_not() {
        let (o, l) = shipped();
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
