//! New orders written in bulk: the statements of many rows, built from the
//! one-row templates (`orders.insert.sql`, `order_lines.insert.sql`), so
//! the SQL stays the templates' and only the packing is magsync's.
//!
//! Why: a load is one transaction of small statements, and the cost of a
//! small statement is its round trip, not its work. On Firebird that is
//! the network (the wire protocol has no batch API in Firebird 3); on
//! SQLite it is a statement's start and end (its cursors opened on the
//! table and every index, its prepared statement looked up, reset and
//! cleared), three times the engine's work for the row of an order. So
//! the new orders of a load wait in a [`Queue`] and go many to a
//! statement ([`Packing`]): on SQLite as multi-row INSERTs, the orders'
//! returning each row's id with its number (SQLite gives the rows of
//! RETURNING in no promised order); on Firebird as `EXECUTE BLOCK`s that
//! take their rows packed in one text parameter ([`packed_text`]: a
//! block of a parameter per value holds at most 64 lines, and the server
//! spends about a microsecond on each parameter of a message; a packed
//! block holds as many rows as 12 000 bytes do, each value costing the
//! server about as much to read) and return their orders' ids as one
//! row. The orders go first, then the lines, each taking its
//! order's id like any other value. (Lines that found their order by
//! number cost the server a look-up each, a tenth of a load.) No value is
//! written into the SQL text: on SQLite every value is a parameter and a
//! statement's text depends only on how many rows it holds (as many as
//! fit, then halving), built once per size and compiled once per size; on
//! Firebird a block's text is one for the orders and one for the lines,
//! whatever they hold, each value read into a variable declared `TYPE OF
//! COLUMN <table>.<column>`, and a row too long to pack goes alone, a
//! parameter (so declared) per value.
//!
//! The queue is sent before any statement that reads or writes orders
//! ([`touches_orders`]), at the end of a load's attempt and at commit, and
//! dropped at rollback, so what the load sees and what it commits are
//! exactly as if each order had been written at once.

use crate::error::{Error, Result};
use crate::templates::{Params, Sql, Value};

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
fn without_returning_id(sql: &Sql) -> Result<&str> {
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

fn missing(sql: &Sql, name: &str) -> Error {
    Error::Template {
        name: sql.name.clone(),
        message: format!("uses parameter :{name}, which magsync does not provide here"),
    }
}

/// How an engine takes many rows in one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// Firebird 3: `EXECUTE BLOCK`s of packed rows, each returning one row
    /// (the ids of its orders, or how many lines it inserted); the
    /// limits below are for a row that goes alone, a parameter per value.
    Block,
    /// SQLite: multi-row `INSERT … VALUES (…), (…)`; the orders'
    /// `RETURNING id, <number column>`, the lines' rows changed counted.
    MultiRow,
}

/// The most one statement may hold, per engine.
struct Limits {
    rows: usize,
    params: usize,
    text: usize,
}

impl Packing {
    fn limits(self) -> Limits {
        match self {
            // Parameters: the wire client refuses to describe many more
            // than a thousand ("Invalid Xsqlda received from server").
            // Text: Firebird 3 over the wire takes a statement of at most
            // 64 KB (a longer one is never answered).
            Packing::Block => Limits {
                rows: 128,
                params: 960,
                text: 60_000,
            },
            // Far within SQLite's limits (32 766 parameters, 1 MB of
            // text); beyond 64 rows a statement gains nothing measurable
            // and costs more to compile.
            Packing::MultiRow => Limits {
                rows: 64,
                params: 4096,
                text: 100_000,
            },
        }
    }
}

/// A one-row INSERT as the rows of a packed statement: the table, its
/// columns, and for each column the template parameter it takes.
struct RowShape {
    table: String,
    columns: Vec<String>,
    params: Vec<String>,
    /// For each parameter, whether a later column takes it too (its value
    /// is copied there, and moved to the last).
    used_again: Vec<bool>,
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
        let params = sql.params.clone();
        let used_again = (0..params.len())
            .map(|i| params[i + 1..].contains(&params[i]))
            .collect();
        Ok(RowShape {
            table: table.trim().to_string(),
            columns,
            params,
            used_again,
        })
    }

    /// The values of one row, in column order, moved out of `row` (copied
    /// where a later column takes the same parameter) and appended to
    /// `out`.
    fn values_into(
        &self,
        sql: &Sql,
        row: &mut Params,
        skip: Option<&str>,
        out: &mut Vec<Value>,
    ) -> Result<()> {
        for (p, again) in self.params.iter().zip(&self.used_again) {
            if Some(p.as_str()) == skip {
                continue;
            }
            let v = match again {
                true => row.get(p).cloned(),
                false => row.take(p),
            };
            out.push(v.ok_or_else(|| missing(sql, p))?);
        }
        Ok(())
    }

    /// Where a line's `order_id` goes among its values.
    fn order_col(&self) -> usize {
        self.params
            .iter()
            .position(|p| p == "order_id")
            .expect("a line shape takes order_id")
    }

    /// The column that takes `param`.
    fn column_of(&self, param: &str) -> Option<&str> {
        let at = self.params.iter().position(|p| p == param)?;
        Some(&self.columns[at])
    }
}

/// New orders and their lines waiting to be written, each kind sent in
/// statements of a few fixed sizes (so the engine compiles each size
/// once). A statement's text is built once per size and kept; only values
/// are gathered per statement, borrowed from the queue.
pub struct Queue {
    packing: Packing,
    /// Each order's number (to name a statement, and on SQLite to find
    /// the id it returned).
    numbers: Vec<String>,
    /// The orders' values, one row after another, in column order.
    orders: Vec<Value>,
    /// Each line's order (its index in `numbers`).
    line_orders: Vec<usize>,
    /// The lines' values without `order_id`, one row after another.
    lines: Vec<Value>,
    /// Each order's id, as its statement returned it.
    ids: Vec<Value>,
    shapes: Option<(RowShape, RowShape)>,
    /// Statement texts by (lines?, rows).
    texts: std::collections::HashMap<(bool, usize), String>,
    /// A packed block's values (Firebird), its buffer kept between blocks.
    payload: String,
}

/// Orders queued before they are sent (or four times as many lines): each
/// send ends in statements halving down to the rows left over, so the
/// fewer sends, the fewer small statements (on Firebird at 128 orders a
/// send, a 200 000-order load sent 5 002 blocks, 3.3 s of its 53 s).
/// 1 024 orders and their lines are about 1 MB queued.
const QUEUE_ORDERS: usize = 1024;

/// One statement ready to run: its text, its values, what it holds (for
/// messages), and how many orders it returns the ids of (0 for lines),
/// with their numbers.
pub struct Block<'q> {
    pub text: &'q str,
    pub values: Vec<&'q Value>,
    pub what: String,
    pub returns: usize,
    pub numbers: &'q [String],
}

impl Queue {
    pub fn new(packing: Packing) -> Queue {
        Queue {
            packing,
            numbers: Vec::new(),
            orders: Vec::new(),
            line_orders: Vec::new(),
            lines: Vec::new(),
            ids: Vec::new(),
            shapes: None,
            texts: std::collections::HashMap::new(),
            payload: String::new(),
        }
    }

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
    /// (`order_lines.insert.sql`'s, without `order_id`); their values
    /// move into the queue.
    pub fn push(
        &mut self,
        order: &Sql,
        line: &Sql,
        mut fields: Params,
        lines: Vec<Params>,
    ) -> Result<()> {
        if self.shapes.is_none() {
            let o = RowShape::of(order)?;
            let l = RowShape::of(line)?;
            if !l.params.iter().any(|p| p == "order_id") {
                return Err(missing(line, "order_id"));
            }
            if o.column_of("number").is_none() {
                return Err(missing(order, "number"));
            }
            self.shapes = Some((o, l));
        }
        let (os, ls) = self.shapes.as_ref().expect("set above");
        let number = match fields.get("number") {
            Some(Value::Text(n)) => n.clone(),
            _ => return Err(missing(order, "number")),
        };
        os.values_into(order, &mut fields, None, &mut self.orders)?;
        for mut l in lines {
            ls.values_into(line, &mut l, Some("order_id"), &mut self.lines)?;
            self.line_orders.push(self.numbers.len());
        }
        self.numbers.push(number);
        Ok(())
    }

    /// Whether enough is queued to send it.
    pub fn full(&self) -> bool {
        self.numbers.len() >= QUEUE_ORDERS || self.line_orders.len() >= 4 * QUEUE_ORDERS
    }

    /// Send everything queued, orders before lines, and empty the queue:
    /// `run` executes a statement and returns, for orders, the ids of its
    /// orders in the order of `Block::numbers`; for lines, how many it
    /// inserted (one number).
    /// `file` is the Magazyn, as errors name it.
    pub fn send(
        &mut self,
        file: &str,
        mut run: impl FnMut(Block) -> Result<Vec<i64>>,
    ) -> Result<()> {
        if self.packing == Packing::Block {
            let res = self.send_packed(file, &mut run);
            self.clear();
            return res;
        }
        let Some((os, ls)) = &self.shapes else {
            return Ok(());
        };
        let packing = self.packing;
        let res = (|| {
            self.ids.clear();
            let per_order = os.columns.len();
            let most = most_rows(&mut self.texts, packing, os, false);
            let mut at = 0;
            while at < self.numbers.len() {
                let n = fit(most, self.numbers.len() - at);
                let text = statement_text(&mut self.texts, packing, os, false, n);
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
                    numbers: &self.numbers[at..at + n],
                };
                let what = block.what.clone();
                let ids = run(block)?;
                sent_all(file, &what, n, &ids, true)?;
                self.ids.extend(ids.into_iter().map(Value::Int));
                at += n;
            }
            let per_line = ls.columns.len() - 1;
            let most = most_rows(&mut self.texts, packing, ls, true);
            let order_col = ls.order_col();
            let mut at = 0;
            while at < self.line_orders.len() {
                let n = fit(most, self.line_orders.len() - at);
                // Built before the text is borrowed: `statement_text` needs
                // the cache mutably, the values only the queue's rows.
                statement_text(&mut self.texts, packing, ls, true, n);
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
                    numbers: &[],
                };
                let what = block.what.clone();
                let count = run(block)?;
                sent_all(file, &what, n, &count, false)?;
                at += n;
            }
            Ok(())
        })();
        self.clear();
        res
    }

    /// Firebird: the queue in packed blocks ([`packed_text`]), orders
    /// before lines, each block as many rows as fit [`PACKED_BYTES`]; a row
    /// too long to pack goes alone, a parameter per value
    /// ([`block_text`] of one row).
    fn send_packed(
        &mut self,
        file: &str,
        run: &mut impl FnMut(Block) -> Result<Vec<i64>>,
    ) -> Result<()> {
        let Some((os, ls)) = &self.shapes else {
            return Ok(());
        };
        self.ids.clear();
        let per_order = os.columns.len();
        let orders = self.numbers.len();
        let mut at = 0;
        while at < orders {
            let mut end = at;
            self.payload.clear();
            while end < orders && end - at < PACKED_ORDERS && self.payload.len() < PACKED_BYTES {
                let row = &self.orders[end * per_order..(end + 1) * per_order];
                if !pack_row(row.iter(), &mut self.payload) {
                    break;
                }
                end += 1;
            }
            let payload = Value::Text(std::mem::take(&mut self.payload));
            let (text, values, n) = match end > at {
                true => (packed(&mut self.texts, os, false), vec![&payload], end - at),
                false => (
                    statement_text(&mut self.texts, Packing::Block, os, false, 1),
                    self.orders[at * per_order..(at + 1) * per_order]
                        .iter()
                        .collect(),
                    1,
                ),
            };
            let what = format!(
                "{n} orders, {} … {}",
                self.numbers[at],
                self.numbers[at + n - 1]
            );
            let ids = run(Block {
                text,
                values,
                what: what.clone(),
                returns: n,
                numbers: &self.numbers[at..at + n],
            })?;
            if let Value::Text(buffer) = payload {
                self.payload = buffer;
            }
            sent_all(file, &what, n, &ids, true)?;
            self.ids.extend(ids.into_iter().map(Value::Int));
            at += n;
        }
        let per_line = ls.columns.len() - 1;
        let order_col = ls.order_col();
        let lines = self.line_orders.len();
        let mut at = 0;
        while at < lines {
            // The line's values with its order's id where `order_id` goes.
            let row = |i: usize| {
                let row = &self.lines[i * per_line..(i + 1) * per_line];
                row[..order_col]
                    .iter()
                    .chain(std::iter::once(&self.ids[self.line_orders[i]]))
                    .chain(&row[order_col..])
            };
            let mut end = at;
            let mut payload = std::mem::take(&mut self.payload);
            payload.clear();
            while end < lines && end - at < PACKED_LINES && payload.len() < PACKED_BYTES {
                if !pack_row(row(end), &mut payload) {
                    break;
                }
                end += 1;
            }
            let payload = Value::Text(payload);
            let (text, values, n) = match end > at {
                true => (packed(&mut self.texts, ls, true), vec![&payload], end - at),
                false => (
                    statement_text(&mut self.texts, Packing::Block, ls, true, 1),
                    row(at).collect(),
                    1,
                ),
            };
            let what = format!(
                "{n} lines, orders {} … {}",
                self.numbers[self.line_orders[at]],
                self.numbers[self.line_orders[at + n - 1]]
            );
            let count = run(Block {
                text,
                values,
                what: what.clone(),
                returns: 0,
                numbers: &[],
            })?;
            if let Value::Text(buffer) = payload {
                self.payload = buffer;
            }
            sent_all(file, &what, n, &count, false)?;
            at += n;
        }
        Ok(())
    }
}

/// That a statement did what it was sent for: for orders (`ids`) an id
/// for each of its `n` orders, for lines its `n` lines inserted.
fn sent_all(file: &str, what: &str, n: usize, got: &[i64], ids: bool) -> Result<()> {
    let (ok, template, message) = match ids {
        true => (
            got.len() == n,
            "orders.insert.sql",
            format!("the statement returned {} ids of {n} orders", got.len()),
        ),
        false => (
            got == [n as i64],
            "order_lines.insert.sql",
            format!("the statement inserted {got:?} of {n} lines"),
        ),
    };
    match ok {
        true => Ok(()),
        false => Err(Error::Magazyn {
            what: format!("{file}: {template} ({what})"),
            key: String::new(),
            message,
        }),
    }
}

/// Firebird: a packed block's values are at most this many bytes and a
/// little (it ends after the row that reaches it). Measured on 3.0.11 with
/// lines like a generated shop's (`benches/firebird_params.py`, each value
/// then cast to `VARCHAR(255)` first): about 21 µs of the server's time a
/// line at 64 lines (9 KB) a block, 23 µs at 200 (30 KB), 36 µs at 16.
const PACKED_BYTES: usize = 12_000;
/// The most bytes of one row in a packed block: a row longer than that
/// goes alone, so a block stays under its parameter's 32 000 bytes.
const ROW_BYTES: usize = 16_000;
/// The length written for NULL (no value is that long).
const NULL_LENGTH: usize = 99_999;
/// The most orders in one packed block: their ids come back as one text
/// of at most 4 000 characters (a BIGINT and a comma each).
const PACKED_ORDERS: usize = 128;
/// The most lines in one packed block.
const PACKED_LINES: usize = 512;

/// Append one row's values to a packed block's `payload`: each value the
/// five digits of its length in bytes, then its text (an integer in
/// decimal); NULL the length 99999 alone. False, and the payload as it
/// was, when the row cannot be packed: raw bytes, or the row over
/// [`ROW_BYTES`] (so no length has more than five digits).
fn pack_row<'v>(values: impl Iterator<Item = &'v Value>, payload: &mut String) -> bool {
    let mark = payload.len();
    let mut digits = itoa::Buffer::new();
    for v in values {
        let text = match v {
            Value::Null => {
                push_length(payload, NULL_LENGTH);
                continue;
            }
            Value::Int(i) => digits.format(*i),
            Value::Text(s) if s.len() <= ROW_BYTES => s.as_str(),
            Value::Text(_) | Value::Bytes(_) => {
                payload.truncate(mark);
                return false;
            }
        };
        push_length(payload, text.len());
        payload.push_str(text);
    }
    if payload.len() - mark > ROW_BYTES {
        payload.truncate(mark);
        return false;
    }
    true
}

/// Five decimal digits (`n` < 100 000).
fn push_length(payload: &mut String, n: usize) {
    for unit in [10_000, 1_000, 100, 10, 1] {
        payload.push(char::from(b'0' + (n / unit % 10) as u8));
    }
}

/// The packed block of a shape, built once (kept as the size 0).
fn packed<'t>(
    texts: &'t mut std::collections::HashMap<(bool, usize), String>,
    shape: &RowShape,
    is_line: bool,
) -> &'t str {
    texts
        .entry((is_line, 0))
        .or_insert_with(|| packed_text(shape, is_line))
}

/// Firebird: an `EXECUTE BLOCK` taking any number of rows as one text
/// parameter, `d`, that it reads a value at a time into variables declared
/// `TYPE OF COLUMN <table>.<column>` (as a parameter of [`block_text`] is,
/// so a value converts to its column exactly as it would there) and
/// inserts row by row. Returns, for orders, their ids as one text
/// (`17,18,…,`); for lines, how many it inserted.
///
/// Why: the server spends about a microsecond on every parameter of a
/// message, whatever the statement does with it (measured on 3.0.11 by
/// `benches/firebird_params.py`: an empty block of 768 BIGINT parameters
/// takes 0.7–0.8 ms of its time), and a
/// block of parameters holds at most 960 of them (the wire client's
/// limit), 64 lines or 16 orders. Reading a value out of `d` costs the
/// server about as much (0.9 µs: the lines of a 200 000-order load read
/// and not inserted took 8.9 s for 9.7 million values), so what packing
/// gains is fewer, larger statements and less work for the client: the
/// 200 000-order load took 46.0 / 47.0 s against 54.9 / 51.4 s in blocks
/// of parameters (binaries alternating), magsync's user time 6.5 s
/// against 9 s. Each value is assigned as the `SUBSTRING` it is, not cast
/// to a UTF8 text first: a cast to `VARCHAR(8191) CHARACTER SET UTF8`
/// made the same load 71 s.
fn packed_text(shape: &RowShape, is_line: bool) -> String {
    let table = &shape.table;
    let mut declare = String::new();
    let mut read = String::new();
    for (k, col) in shape.columns.iter().enumerate() {
        declare.push_str(&format!("DECLARE v{k} TYPE OF COLUMN {table}.{col};\n"));
        read.push_str(&format!(
            "l = CAST(SUBSTRING(d FROM p FOR 5) AS INTEGER);\n\
             v{k} = SUBSTRING(d FROM p + 5 FOR NULLIF(l, {NULL_LENGTH}));\n\
             p = p + 5 + MOD(l, {NULL_LENGTH});\n"
        ));
    }
    let values: Vec<String> = (0..shape.columns.len()).map(|k| format!(":v{k}")).collect();
    let (returns, start, returning, count) = match is_line {
        true => ("n INTEGER", "n = 0;", String::new(), "n = n + ROW_COUNT;"),
        false => (
            "ids VARCHAR(4000)",
            "ids = '';",
            " RETURNING id INTO :i".to_string(),
            "ids = ids || i || ',';",
        ),
    };
    let id = match is_line {
        true => String::new(),
        false => format!("DECLARE i TYPE OF COLUMN {table}.id;\n"),
    };
    format!(
        "EXECUTE BLOCK (d VARCHAR(32000) CHARACTER SET OCTETS = ?) RETURNS ({returns}) AS\n\
         DECLARE p INTEGER = 1;\nDECLARE e INTEGER;\nDECLARE l INTEGER;\n{id}{declare}\
         BEGIN\n{start}\ne = OCTET_LENGTH(d);\nWHILE (p <= e) DO\nBEGIN\n{read}\
         INSERT INTO {table} ({}) VALUES ({}){returning};\n{count}\nEND\nSUSPEND;\nEND",
        shape.columns.join(", "),
        values.join(", ")
    )
}

/// The ids a packed orders block returned as one text (`17,18,`).
pub fn ids_of_text(text: &str) -> Option<Vec<i64>> {
    text.split(',')
        .filter(|id| !id.is_empty())
        .map(|id| id.parse().ok())
        .collect()
}

/// The ids of a multi-row INSERT's orders in the order of `numbers`, from
/// the (number, id) rows its RETURNING gave in whatever order; `None`
/// where a number is missing, came twice, or is not the statement's.
pub fn ids_by_number(numbers: &[String], mut returned: Vec<(String, i64)>) -> Option<Vec<i64>> {
    if returned.len() != numbers.len() {
        return None;
    }
    // In the order inserted, as SQLite gives them today: no search.
    if returned.iter().zip(numbers).all(|((n, _), want)| n == want) {
        return Some(returned.into_iter().map(|(_, id)| id).collect());
    }
    returned.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    numbers
        .iter()
        .map(|want| {
            let at = returned
                .binary_search_by(|(n, _)| n.as_str().cmp(want))
                .ok()?;
            let twice = |i: usize| returned.get(i).is_some_and(|(n, _)| n == want);
            match twice(at + 1) || (at > 0 && twice(at - 1)) {
                true => None,
                false => Some(returned[at].1),
            }
        })
        .collect()
}

/// The largest statement of `most` rows or fewer, halving, for `left` rows.
fn fit(most: usize, left: usize) -> usize {
    let mut n = most;
    while n > left {
        n /= 2;
    }
    n
}

/// As many rows as keep a statement within the engine's limits on its
/// parameters and its text (a row's part is the same size in every one).
fn most_rows(
    texts: &mut std::collections::HashMap<(bool, usize), String>,
    packing: Packing,
    shape: &RowShape,
    is_line: bool,
) -> usize {
    let limits = packing.limits();
    let per_row = statement_text(texts, packing, shape, is_line, 1).len();
    let mut most = limits.rows;
    while most > 1 && (most * per_row > limits.text || most * shape.columns.len() > limits.params) {
        most /= 2;
    }
    most
}

/// The text of one statement inserting `rows` orders or `rows` lines,
/// built once per size.
fn statement_text<'t>(
    texts: &'t mut std::collections::HashMap<(bool, usize), String>,
    packing: Packing,
    shape: &RowShape,
    is_line: bool,
    rows: usize,
) -> &'t str {
    texts
        .entry((is_line, rows))
        .or_insert_with(|| match packing {
            Packing::Block => block_text(shape, is_line, rows),
            Packing::MultiRow => multi_row_text(shape, is_line, rows),
        })
}

/// A multi-row INSERT of `rows` rows; for orders returning each row's id
/// with its number.
fn multi_row_text(shape: &RowShape, is_line: bool, rows: usize) -> String {
    let tuple = format!("({})", vec!["?"; shape.columns.len()].join(", "));
    let mut text = format!(
        "INSERT INTO {} ({}) VALUES ",
        shape.table,
        shape.columns.join(", ")
    );
    for i in 0..rows {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&tuple);
    }
    if !is_line {
        let number = shape.column_of("number").expect("checked at push");
        text.push_str(&format!(" RETURNING id, {number}"));
    }
    text
}

/// The text of an EXECUTE BLOCK inserting `rows` orders (returning their
/// ids as one row, `id0`, `id1`, …) or `rows` lines (their `order_id` a
/// parameter like the rest: the id an orders block returned; returning
/// `n`, the rows inserted).
///
/// Each block SUSPENDs once, at its end, and is run as a singleton
/// select: its one row comes back with its execution (`op_execute2`, one
/// round trip), where a row per order read through a cursor cost an
/// execute, a count of rows and a fetch, and a block without output an
/// execute and a count: three and two round trips.
fn block_text(shape: &RowShape, is_line: bool, rows: usize) -> String {
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

    /// A packed block's values, as the block reads them (an integer
    /// comes back as its text).
    fn unpack(payload: &str) -> Vec<Value> {
        let (mut out, mut at) = (Vec::new(), 0);
        while at < payload.len() {
            let n: usize = payload[at..at + 5].parse().unwrap();
            at += 5;
            if n == NULL_LENGTH {
                out.push(Value::Null);
                continue;
            }
            out.push(Value::Text(payload[at..at + n].to_string()));
            at += n;
        }
        out
    }

    /// The rows of `table` a statement inserts, each its values in column
    /// order (`width` of them).
    fn rows_of(text: &str, values: &[Value], table: &str, width: usize) -> Vec<Vec<Value>> {
        let mine = match text.starts_with("EXECUTE BLOCK") {
            true => text.contains(&format!("INSERT INTO {table} ")),
            false => text.starts_with(&format!("INSERT INTO {table} ")),
        };
        let values = match (mine, values) {
            (false, _) => return Vec::new(),
            (true, [Value::Text(p)]) if text.contains("CHARACTER SET OCTETS") => unpack(p),
            (true, v) => v.to_vec(),
        };
        assert_eq!(values.len() % width, 0, "{text}");
        values.chunks(width).map(<[Value]>::to_vec).collect()
    }

    /// An order's id as a block takes it: an integer, or its text packed.
    fn id_in(v: &Value) -> i64 {
        match v {
            Value::Int(id) => *id,
            Value::Text(id) => id.parse().unwrap(),
            other => panic!("order_id {other:?}"),
        }
    }

    /// Send `q` to a stand-in engine that gives ids from 7000 by 3: the
    /// blocks as (text, values, what, ids returned), and each id's number.
    #[allow(clippy::type_complexity)]
    fn send_all(
        q: &mut Queue,
        (o, l): (&Sql, &Sql),
    ) -> (
        Vec<(String, Vec<Value>, String, usize)>,
        std::collections::HashMap<i64, Value>,
    ) {
        let mut next_id = 7000;
        let mut id_of = std::collections::HashMap::new();
        let mut blocks = Vec::new();
        q.send("m.fdb", |b| {
            let values: Vec<Value> = b.values.into_iter().cloned().collect();
            let mut ids = Vec::new();
            let orders = rows_of(b.text, &values, "orders", o.params.len());
            assert_eq!(orders.len(), b.numbers.len(), "{}", b.what);
            for (row, number) in orders.iter().zip(b.numbers) {
                assert_eq!(row[0], Value::Text(number.clone()));
                id_of.insert(next_id, Value::Text(number.clone()));
                ids.push(next_id);
                next_id += 3;
            }
            if b.returns == 0 {
                // A lines statement's count: the lines it inserted.
                ids.push(rows_of(b.text, &values, "order_lines", l.params.len()).len() as i64);
            }
            blocks.push((b.text.to_string(), values, b.what, b.returns));
            Ok(ids)
        })
        .unwrap();
        (blocks, id_of)
    }

    #[test]
    fn a_queue_goes_as_few_shapes_of_statement_within_the_engines_limits() {
        let (o, l) = shipped();
        for packing in [Packing::Block, Packing::MultiRow] {
            let limits = packing.limits();
            let mut q = Queue::new(packing);
            let (mut want_values, mut lines) = (0, 0);
            // Each line's order, by number: what its statement must name by id.
            let mut line_of = Vec::new();
            for n in 0..1000 {
                let ls: Vec<Params> = (0..1 + n % 5).map(line).collect();
                lines += ls.len();
                line_of.extend(std::iter::repeat_n(format!("B/{n}"), ls.len()));
                want_values += o.params.len() + ls.len() * l.params.len();
                q.push(&o, &l, order(n), ls).unwrap();
            }
            let (blocks, id_of) = send_all(&mut q, (&o, &l));
            assert!(q.is_empty());
            let shapes: std::collections::BTreeSet<&str> =
                blocks.iter().map(|b| b.0.as_str()).collect();
            assert!(shapes.len() <= 16, "{packing:?}: {} shapes", shapes.len());
            let orders = |b: &(String, Vec<Value>, String, usize)| {
                rows_of(&b.0, &b.1, "orders", o.params.len())
            };
            let line_rows = |b: &(String, Vec<Value>, String, usize)| {
                rows_of(&b.0, &b.1, "order_lines", l.params.len())
            };
            for (text, values, what, _) in &blocks {
                assert!(text.len() <= limits.text, "{what}: {} bytes", text.len());
                assert!(
                    values.len() <= limits.params,
                    "{what}: {} values",
                    values.len()
                );
                assert_eq!(text.matches('?').count(), values.len(), "{what}");
                assert!(!text.contains("ż"), "a value went into the text");
            }
            let values: usize = blocks
                .iter()
                .map(|b| orders(b).len() * o.params.len() + line_rows(b).len() * l.params.len())
                .sum();
            assert_eq!(values, want_values);
            // Orders first, in their order, each returning its id; then the
            // lines, each naming its order by the id returned.
            let inserted: usize = blocks.iter().map(|b| orders(b).len()).sum();
            let returned: usize = blocks.iter().map(|b| b.3).sum();
            let line_count: usize = blocks.iter().map(|b| line_rows(b).len()).sum();
            assert_eq!((inserted, returned, line_count), (1000, 1000, lines));
            let first_line = blocks
                .iter()
                .position(|b| b.0.contains("order_lines"))
                .unwrap();
            assert!(blocks[..first_line].iter().all(|b| b.3 > 0));
            assert!(blocks[first_line..].iter().all(|b| b.3 == 0));
            let first = &orders(&blocks[0])[0];
            assert_eq!(first[0], Value::Text("B/0".into()));
            match packing {
                Packing::MultiRow => {
                    assert!(
                        blocks[0].0.ends_with(" RETURNING id, number"),
                        "{}",
                        blocks[0].0
                    );
                    assert_eq!(blocks[0].3, limits.rows);
                }
                // Many orders a block, NULL and the customer's id as sent.
                Packing::Block => {
                    // Every orders block but the last as full as it may be.
                    for b in &blocks[..first_line - 1] {
                        let bytes = match &b.1[..] {
                            [Value::Text(p)] => p.len(),
                            _ => panic!("{}: not packed", b.2),
                        };
                        assert!(bytes >= PACKED_BYTES || b.3 == PACKED_ORDERS, "{}", b.2);
                    }
                    let at = |name: &str| o.params.iter().position(|p| p == name).unwrap();
                    assert_eq!(first[at("buyer_nip")], Value::Null);
                    assert_eq!(first[at("customer_id")], Value::Text("0".into()));
                }
            }
            // A parameter two columns take (`:now`) has its value in both.
            let nows: Vec<&Value> = o
                .params
                .iter()
                .zip(first)
                .filter(|(p, _)| *p == "now")
                .map(|(_, v)| v)
                .collect();
            assert_eq!(nows, [&Value::Text("now 0".into()); 2]);
            let at = l.params.iter().position(|p| p == "order_id").unwrap();
            let named: Vec<Value> = blocks[first_line..]
                .iter()
                .flat_map(line_rows)
                .map(|row| id_of[&id_in(&row[at])].clone())
                .collect();
            let want: Vec<Value> = line_of.into_iter().map(Value::Text).collect();
            assert_eq!(named, want);
        }
    }

    #[test]
    fn an_order_too_long_to_pack_goes_alone_with_a_parameter_each() {
        let (o, l) = shipped();
        let mut q = Queue::new(Packing::Block);
        for n in 0..5 {
            let mut fields = order(n);
            if n == 2 {
                fields = fields.reset("customer_comment", "ż".repeat(9000));
            }
            q.push(&o, &l, fields, vec![line(n)]).unwrap();
        }
        let (blocks, _) = send_all(&mut q, (&o, &l));
        let what: Vec<&str> = blocks.iter().map(|b| b.2.as_str()).collect();
        assert_eq!(
            what,
            [
                "2 orders, B/0 … B/1",
                "1 orders, B/2 … B/2",
                "2 orders, B/3 … B/4",
                "5 lines, orders B/0 … B/4"
            ]
        );
        let alone = &blocks[1];
        assert!(!alone.0.contains("OCTETS"), "{}", alone.0);
        assert_eq!(alone.1.len(), o.params.len());
        assert!(alone.1.contains(&Value::Text("ż".repeat(9000))));
    }

    #[test]
    fn a_statement_returning_fewer_ids_than_orders_is_an_error_and_the_queue_empties() {
        let (o, l) = shipped();
        let mut q = Queue::new(Packing::Block);
        for n in 0..3 {
            q.push(&o, &l, order(n), vec![line(n)]).unwrap();
        }
        let err = q.send("m.fdb", |_| Ok(vec![1])).unwrap_err().to_string();
        assert!(
            err.contains("m.fdb: orders.insert.sql (3 orders, B/0 … B/2)")
                && err.contains("1 ids of 3 orders"),
            "{err}"
        );
        assert!(q.is_empty());
        // A lines statement that says it inserted fewer rows than it holds.
        for n in 0..3 {
            q.push(&o, &l, order(n), vec![line(n)]).unwrap();
        }
        let err = q
            .send("m.fdb", |b| match b.returns {
                0 => Ok(vec![1]),
                n => Ok((0..n as i64).collect()),
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("m.fdb: order_lines.insert.sql (3 lines, orders B/0 … B/2)")
                && err.contains("inserted [1] of 3 lines"),
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
    fn the_ids_sqlite_returns_in_any_order_are_matched_by_number() {
        let numbers: Vec<String> = ["B/1", "B/2", "B/10"].map(String::from).to_vec();
        let rows = |r: &[(&str, i64)]| r.iter().map(|(n, id)| (n.to_string(), *id)).collect();
        assert_eq!(
            ids_by_number(&numbers, rows(&[("B/1", 5), ("B/2", 6), ("B/10", 7)])),
            Some(vec![5, 6, 7])
        );
        assert_eq!(
            ids_by_number(&numbers, rows(&[("B/10", 7), ("B/1", 5), ("B/2", 6)])),
            Some(vec![5, 6, 7])
        );
        // One missing, one twice, one not of this statement: no ids.
        assert_eq!(
            ids_by_number(&numbers, rows(&[("B/1", 5), ("B/2", 6)])),
            None
        );
        assert_eq!(
            ids_by_number(&numbers, rows(&[("B/1", 5), ("B/1", 6), ("B/10", 7)])),
            None
        );
        assert_eq!(
            ids_by_number(&numbers, rows(&[("B/3", 5), ("B/2", 6), ("B/10", 7)])),
            None
        );
    }
}
