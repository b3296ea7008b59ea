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
