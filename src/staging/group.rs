//! Records with child records: an order and its lines. In CSV they are two
//! files (the child file carries the parent's key and follows the parent
//! file's order); in XML the children are nested in their parent. Readers
//! hand out one parent with all its children, streaming, whichever format.

use super::batch::{Batch, BatchWriter};
use super::codec::{CsvReader, Format, Item, RecordReader, RecordWriter, XmlReader};
use super::schema::Entity;
use crate::error::{Error, Result};

pub struct GroupWriter {
    parent_entity: &'static Entity,
    parent: RecordWriter,
    /// CSV only: the child file.
    child: Option<RecordWriter>,
}

impl GroupWriter {
    pub fn create(bw: &mut BatchWriter, parent: &'static Entity) -> Result<GroupWriter> {
        let child_entity = parent
            .child
            .expect("a GroupWriter is for an entity with a child");
        let p = bw.records(parent)?;
        let child = match bw.meta().format {
            Format::Csv => Some(bw.records(child_entity)?),
            Format::Xml => None,
        };
        Ok(GroupWriter {
            parent_entity: parent,
            parent: p,
            child,
        })
    }

    pub fn write(&mut self, rec: &[String], children: &[Vec<String>]) -> Result<()> {
        match &mut self.child {
            Some(cw) => {
                self.parent.write(rec)?;
                for c in children {
                    cw.write(c)?;
                }
                Ok(())
            }
            None => self.parent.write_with_children(rec, children),
        }
    }

    pub fn finish(self, bw: &mut BatchWriter) -> Result<()> {
        bw.add(self.parent_entity, self.parent.finish()?);
        if let Some(cw) = self.child {
            bw.add(self.parent_entity.child.expect("has a child"), cw.finish()?);
        }
        Ok(())
    }
}

/// One parent record and its children.
#[derive(Debug, Default)]
pub struct Group {
    pub item: Option<Item>,
    pub rec: Vec<String>,
    pub children: Vec<(Item, Vec<String>)>,
}

pub enum GroupReader {
    Csv {
        parent: Box<CsvReader>,
        child: Box<CsvReader>,
        parent_entity: &'static Entity,
        child_entity: &'static Entity,
        child_file: String,
        lookahead: Option<(Item, Vec<String>)>,
        child_done: bool,
        /// Records of children handed out before, reused (a load reads
        /// hundreds of thousands of lines: one allocation each otherwise).
        spare: Vec<Vec<String>>,
    },
    Xml(Box<XmlReader>),
}

impl GroupReader {
    pub fn open(batch: &Batch, parent: &'static Entity) -> Result<GroupReader> {
        let child_entity = parent
            .child
            .expect("a GroupReader is for an entity with a child");
        let (p, parent_file) = batch.reader(parent)?;
        match p {
            RecordReader::Xml(x) => Ok(GroupReader::Xml(x)),
            RecordReader::Csv(pc) => {
                let (c, child_file) = batch.reader(child_entity)?;
                let RecordReader::Csv(cc) = c else {
                    return Err(Error::batch(
                        batch.id(),
                        format!(
                            "{}: {parent_file} is CSV but {child_file} is not (their lines go in a file of the same format)",
                            crate::staging::batch::TAG_FILE
                        ),
                    ));
                };
                Ok(GroupReader::Csv {
                    parent: pc,
                    child: cc,
                    parent_entity: parent,
                    child_entity,
                    child_file,
                    lookahead: None,
                    child_done: false,
                    spare: Vec::new(),
                })
            }
        }
    }

    /// The next parent with its children; `false` at the end.
    pub fn next(&mut self, g: &mut Group) -> Result<bool> {
        match self {
            GroupReader::Xml(x) => {
                g.children.clear();
                let Some(item) = x.next(&mut g.rec)? else {
                    return Ok(false);
                };
                g.item = Some(item);
                g.children.append(x.children());
                Ok(true)
            }
            GroupReader::Csv {
                parent,
                child,
                parent_entity,
                child_entity,
                child_file,
                lookahead,
                child_done,
                spare,
            } => {
                const SPARE: usize = 256;
                for (_, rec) in g.children.drain(..) {
                    if spare.len() < SPARE {
                        spare.push(rec);
                    }
                }
                let Some(item) = parent.next(&mut g.rec)? else {
                    // Children left over belong to no parent.
                    if lookahead.is_none() && !*child_done {
                        let mut rec = Vec::new();
                        if let Some(it) = child.next(&mut rec)? {
                            *lookahead = Some((it, rec));
                        }
                    }
                    if let Some((it, rec)) = lookahead.take() {
                        return Err(Error::Format {
                            file: child_file.clone(),
                            line: item_line(&it),
                            message: format!(
                                "{} `{}` belongs to no {} before it (child records follow the order of their parents)",
                                child_entity.record,
                                key_text(child_entity, child_entity.parent_key, &rec),
                                parent_entity.record
                            ),
                        });
                    }
                    return Ok(false);
                };
                g.item = Some(item);
                loop {
                    if lookahead.is_none() {
                        if *child_done {
                            break;
                        }
                        let mut rec = spare.pop().unwrap_or_default();
                        match child.next(&mut rec)? {
                            Some(it) => *lookahead = Some((it, rec)),
                            None => {
                                *child_done = true;
                                break;
                            }
                        }
                    }
                    let (_, rec) = lookahead.as_ref().expect("filled above");
                    let matches = child_entity
                        .parent_key
                        .iter()
                        .zip(parent_entity.key)
                        .all(|(k, pk)| rec[child_entity.col(k)] == g.rec[parent_entity.col(pk)]);
                    if !matches {
                        break;
                    }
                    g.children.push(lookahead.take().expect("checked"));
                }
                Ok(true)
            }
        }
    }
}

/// A window of groups read ahead: `groups[..filled]` hold records.
pub struct Window {
    pub groups: Vec<Group>,
    pub filled: usize,
}

/// A [`GroupReader`] on a thread of its own, a window of groups ahead of
/// the one using them: reading and splitting the batch's files (a sixth of
/// an orders load into SQLite; the client's time between round trips on
/// Firebird) overlaps the database's work. Two windows are in flight and
/// handed back for reuse, so memory stays two windows whatever the batch.
/// A read error arrives in place of the window it happened in, and the
/// thread stops there, as the reader would have; dropped early (a load
/// that stopped), the thread ends at its next window.
pub struct GroupsAhead {
    full: Option<std::sync::mpsc::Receiver<Result<Window>>>,
    empty: Option<std::sync::mpsc::Sender<Window>>,
    thread: Option<std::thread::JoinHandle<()>>,
    ended: bool,
}

impl GroupsAhead {
    /// Read `reader` ahead, `window` groups at a time; `batch` names it
    /// should the thread not start.
    pub fn start(batch: &Batch, mut reader: GroupReader, window: usize) -> Result<GroupsAhead> {
        let (full_tx, full) = std::sync::mpsc::sync_channel::<Result<Window>>(1);
        let (empty, empty_rx) = std::sync::mpsc::channel::<Window>();
        for _ in 0..2 {
            let groups = (0..window).map(|_| Group::default()).collect();
            let _ = empty.send(Window { groups, filled: 0 });
        }
        let thread = std::thread::Builder::new()
            .name("magsync-read".into())
            .spawn(move || {
                while let Ok(mut w) = empty_rx.recv() {
                    w.filled = 0;
                    let mut ended = false;
                    while w.filled < w.groups.len() {
                        match reader.next(&mut w.groups[w.filled]) {
                            Ok(true) => w.filled += 1,
                            Ok(false) => {
                                ended = true;
                                break;
                            }
                            Err(e) => {
                                let _ = full_tx.send(Err(e));
                                return;
                            }
                        }
                    }
                    if full_tx.send(Ok(w)).is_err() || ended {
                        return;
                    }
                }
            })
            .map_err(|e| Error::io(batch.dir.clone(), e))?;
        Ok(GroupsAhead {
            full: Some(full),
            empty: Some(empty),
            thread: Some(thread),
            ended: false,
        })
    }

    /// The next window (`filled` 0 at the end); `done` is the window
    /// handed out before, given back for reuse.
    pub fn next(&mut self, done: Option<Window>) -> Result<Window> {
        if let (Some(w), Some(empty)) = (done, &self.empty) {
            let _ = empty.send(w);
        }
        let ended = Window {
            groups: Vec::new(),
            filled: 0,
        };
        let Some(full) = self.full.as_ref().filter(|_| !self.ended) else {
            return Ok(ended);
        };
        match full.recv() {
            Ok(Ok(w)) => {
                self.ended = w.filled < w.groups.len();
                Ok(w)
            }
            Ok(Err(e)) => {
                self.ended = true;
                Err(e)
            }
            // The thread ended after a full last window.
            Err(_) => {
                self.ended = true;
                Ok(ended)
            }
        }
    }
}

impl Drop for GroupsAhead {
    fn drop(&mut self) {
        // Closing both channels ends the thread at its next send or wait.
        self.full.take();
        self.empty.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn item_line(it: &Item) -> u64 {
    match it {
        Item::Record(l) => *l,
        Item::Invalid { line, .. } => *line,
    }
}

fn key_text(e: &Entity, cols: &[&str], rec: &[String]) -> String {
    cols.iter()
        .filter_map(|c| e.index(c).and_then(|i| rec.get(i)))
        .cloned()
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::Stage;
    use crate::staging::entities::{ORDER_LINES, ORDERS};

    /// A CSV batch of `orders` orders, order i with i % 3 lines; `stray`: a
    /// line of no order after the last.
    fn batch(root: &std::path::Path, orders: usize, stray: bool) -> Batch {
        let meta = crate::staging::batch::test_meta(Stage::Transformed);
        let mut bw = BatchWriter::create(root, meta).unwrap();
        let mut gw = GroupWriter::create(&mut bw, &ORDERS).unwrap();
        let row = |e: &Entity, number: &str, n: usize| -> Vec<String> {
            let mut r = vec![n.to_string(); e.columns.len()];
            r[e.col("number")] = number.to_string();
            r
        };
        for i in 0..orders {
            let number = format!("N{i:04}");
            let lines: Vec<Vec<String>> =
                (0..i % 3).map(|n| row(&ORDER_LINES, &number, n)).collect();
            gw.write(&row(&ORDERS, &number, i), &lines).unwrap();
        }
        if stray {
            gw.write(&row(&ORDERS, "N9999", 0), &[]).unwrap();
        }
        gw.finish(&mut bw).unwrap();
        let batch = bw.finish().unwrap();
        if stray {
            // The stray line: a child whose order is not in the file.
            let f = batch.dir.join("data/order_lines.csv");
            let mut text = std::fs::read_to_string(&f).unwrap();
            text.push_str(&row(&ORDER_LINES, "N0000", 7).join(","));
            text.push('\n');
            std::fs::write(&f, text).unwrap();
        }
        batch
    }

    /// Every group the read-ahead hands out: (number, lines), and the error
    /// it ended with.
    fn read_ahead(b: &Batch, window: usize) -> (Vec<(String, usize)>, Option<String>) {
        let mut ahead =
            GroupsAhead::start(b, GroupReader::open(b, &ORDERS).unwrap(), window).unwrap();
        let (mut got, mut done) = (Vec::new(), None);
        loop {
            match ahead.next(done.take()) {
                Ok(w) if w.filled == 0 => return (got, None),
                Ok(w) => {
                    for g in &w.groups[..w.filled] {
                        got.push((g.rec[ORDERS.col("number")].clone(), g.children.len()));
                    }
                    done = Some(w);
                }
                Err(e) => return (got, Some(e.to_string())),
            }
        }
    }

    #[test]
    fn groups_read_ahead_come_in_order_and_an_error_in_place_of_its_window() {
        let root = tempfile::tempdir().unwrap();
        let b = batch(root.path(), 10, false);
        let want: Vec<(String, usize)> = (0..10).map(|i| (format!("N{i:04}"), i % 3)).collect();
        for window in [1, 3, 10, 64] {
            assert_eq!(
                read_ahead(&b, window),
                (want.clone(), None),
                "window {window}"
            );
        }
        // A line that belongs to no order: the windows before it, then the
        // error the reader gives (the window it happened in is not handed out).
        let root = tempfile::tempdir().unwrap();
        let b = batch(root.path(), 10, true);
        let (got, err) = read_ahead(&b, 4);
        assert_eq!(got, want[..8].to_vec());
        let err = err.expect("an error");
        assert!(
            err.contains("order_lines.csv") && err.contains("belongs to no order"),
            "{err}"
        );
        // Dropped before the end: the thread ends, nothing hangs.
        let mut early = GroupsAhead::start(&b, GroupReader::open(&b, &ORDERS).unwrap(), 2).unwrap();
        assert_eq!(early.next(None).unwrap().filled, 2);
        drop(early);
    }
}
