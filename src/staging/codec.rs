//! Reading and writing entity records as CSV or XML.
//!
//! Both formats carry the same records (see `schema.rs`); readers return
//! them in schema column order whatever the file's column order, so the
//! rest of magsync never cares which format a batch used.
//!
//! A reader separates two kinds of trouble: a bad *row* (ragged, invalid
//! UTF-8, unknown element) is reported as [`Item::Invalid`] and reading goes
//! on, so a transform can put it in the rejects file; a bad *file* (wrong
//! header, broken XML, a DOCTYPE) is an `Err` and nothing of it is used.

use super::behind::WriteBehind;
use super::schema::Entity;
use crate::error::{Error, IoContext, Result};
use quick_xml::events::Event;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Csv,
    Xml,
}

impl Format {
    pub fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xml => "xml",
        }
    }
    pub fn from_path(p: &Path) -> Option<Format> {
        match p.extension()?.to_str()? {
            "csv" => Some(Format::Csv),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

/// Namespace of staging XML documents (major format version in the name).
pub const XML_NS: &str = "urn:magsync:staging:1";

/// Writes one entity's records to one payload file, hashing as it goes.
pub struct RecordWriter {
    entity: &'static Entity,
    path: PathBuf,
    inner: Inner,
    rows: u64,
    child_rows: u64,
}

enum Inner {
    Csv(Box<csv::Writer<WriteBehind>>),
    Xml(WriteBehind),
}

/// What a finished payload file is: its bytes' digest and size, its rows.
#[derive(Debug, Clone)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
    pub rows: u64,
    /// Child records nested in this file (XML only).
    pub child_rows: u64,
}

impl RecordWriter {
    pub fn create(path: &Path, entity: &'static Entity, format: Format) -> Result<RecordWriter> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).at(dir)?;
        }
        let file = File::create(path).at(path)?;
        let out = WriteBehind::new(file, true).at(path)?;
        let inner = match format {
            Format::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(out);
                w.write_record(entity.columns.iter().map(|c| c.name))
                    .map_err(|e| csv_err(path, 1, e))?;
                Inner::Csv(Box::new(w))
            }
            Format::Xml => {
                let mut out = out;
                write!(
                    out,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{} xmlns=\"{XML_NS}\">\n",
                    entity.file
                )
                .at(path)?;
                Inner::Xml(out)
            }
        };
        Ok(RecordWriter {
            entity,
            path: path.to_path_buf(),
            inner,
            rows: 0,
            child_rows: 0,
        })
    }

    pub fn write<S: AsRef<str>>(&mut self, rec: &[S]) -> Result<()> {
        self.write_with_children::<S, Vec<String>>(rec, &[])
    }

    /// Write a record with its child records nested inside it (XML). In
    /// CSV the children go to their own file: see [`super::group::GroupWriter`].
    pub fn write_with_children<S: AsRef<str>, C: AsRef<[String]>>(
        &mut self,
        rec: &[S],
        children: &[C],
    ) -> Result<()> {
        debug_assert_eq!(rec.len(), self.entity.columns.len());
        match &mut self.inner {
            Inner::Csv(w) => w
                .write_record(rec.iter().map(|s| s.as_ref()))
                .map_err(|e| csv_err(&self.path, self.rows + 2, e))?,
            Inner::Xml(w) => {
                let mut s = String::with_capacity(256);
                s.push_str("  ");
                xml_record_open(&mut s, self.entity, rec);
                if let Some(child) = self.entity.child
                    && !children.is_empty()
                {
                    s.push('<');
                    s.push_str(child.file);
                    s.push('>');
                    for c in children {
                        xml_record_open(&mut s, child, c.as_ref());
                        xml_record_close(&mut s, child);
                    }
                    s.push_str("</");
                    s.push_str(child.file);
                    s.push('>');
                    self.child_rows += children.len() as u64;
                }
                xml_record_close(&mut s, self.entity);
                s.push('\n');
                w.write_all(s.as_bytes()).at(&self.path)?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    pub fn finish(self) -> Result<WrittenFile> {
        let path = self.path;
        let hashing = match self.inner {
            Inner::Csv(w) => w
                .into_inner()
                .map_err(|e| Error::io(&path, e.into_error()))?,
            Inner::Xml(mut w) => {
                writeln!(w, "</{}>", self.entity.file).at(&path)?;
                w
            }
        };
        let done = hashing.finish().at(&path)?;
        done.file.sync_all().at(&path)?;
        Ok(WrittenFile {
            sha256: done.sha256.unwrap_or_default(),
            bytes: done.bytes,
            path,
            rows: self.rows,
            child_rows: self.child_rows,
        })
    }
}

/// A CSV writer's error at `line` of the file being written: the I/O error
/// as such (a full disk), anything else a format error.
fn csv_err(path: &Path, line: u64, e: csv::Error) -> Error {
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(source) => Error::io(path, source),
        _ => Error::Format {
            file: path.display().to_string(),
            line,
            message,
        },
    }
}

fn xml_record_open<S: AsRef<str>>(s: &mut String, entity: &Entity, rec: &[S]) {
    s.push('<');
    s.push_str(entity.record);
    s.push('>');
    for (col, v) in entity.columns.iter().zip(rec) {
        let v = v.as_ref();
        if v.is_empty() {
            continue;
        }
        s.push('<');
        s.push_str(col.name);
        s.push('>');
        xml_escape_into(s, v);
        s.push_str("</");
        s.push_str(col.name);
        s.push('>');
    }
}

fn xml_record_close(s: &mut String, entity: &Entity) {
    s.push_str("</");
    s.push_str(entity.record);
    s.push('>');
}

pub fn xml_escape_into(out: &mut String, v: &str) {
    for ch in v.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// One step of a reader.
#[derive(Debug)]
pub enum Item {
    /// A record in schema order, from this line of the file.
    Record(u64),
    /// A row that could not be read as a record; the buffer holds what
    /// could be read of it (for the rejects file).
    Invalid {
        line: u64,
        field: String,
        code: &'static str,
        message: String,
    },
}

pub enum RecordReader {
    Csv(Box<CsvReader>),
    Xml(Box<XmlReader>),
}

impl RecordReader {
    pub fn open(path: &Path, entity: &'static Entity, display: &str) -> Result<RecordReader> {
        match Format::from_path(path) {
            Some(Format::Csv) => Ok(RecordReader::Csv(Box::new(CsvReader::open(
                path, entity, display,
            )?))),
            Some(Format::Xml) => Ok(RecordReader::Xml(Box::new(XmlReader::open(
                path, entity, display,
            )?))),
            None => Err(Error::Format {
                file: display.to_string(),
                line: 0,
                message: "not a .csv or .xml file".into(),
            }),
        }
    }

    /// Read the next record into `rec` (resized to the entity's columns).
    pub fn next(&mut self, rec: &mut Vec<String>) -> Result<Option<Item>> {
        match self {
            RecordReader::Csv(r) => r.next(rec),
            RecordReader::Xml(r) => r.next(rec),
        }
    }
}

pub struct CsvReader {
    entity: &'static Entity,
    display: String,
    rdr: csv::Reader<BufReader<File>>,
    /// file column -> schema column
    map: Vec<usize>,
    raw: csv::ByteRecord,
    /// The csv crate reports a record after a CRLF one line early (it
    /// starts at the LF); CRLF files get their line numbers corrected.
    line_fix: u64,
}

impl CsvReader {
    pub fn open(path: &Path, entity: &'static Entity, display: &str) -> Result<CsvReader> {
        let mut head = Vec::with_capacity(4096);
        File::open(path)
            .at(path)?
            .take(1 << 16)
            .read_to_end(&mut head)
            .at(path)?;
        let crlf = head
            .iter()
            .position(|&b| b == b'\n')
            .is_some_and(|i| i > 0 && head[i - 1] == b'\r');
        let file = File::open(path).at(path)?;
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(BufReader::with_capacity(1 << 16, file));
        let mut header = csv::ByteRecord::new();
        let fmt = |line: u64, message: String| Error::Format {
            file: display.to_string(),
            line,
            message,
        };
        match rdr.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(fmt(1, "empty file: the header row is missing".into())),
            Err(e) => return Err(fmt(1, format!("header row: {e}"))),
        }
        let mut map = Vec::with_capacity(header.len());
        let mut seen = vec![false; entity.columns.len()];
        for (i, name) in header.iter().enumerate() {
            let name = if i == 0 {
                name.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(name)
            } else {
                name
            };
            let name = std::str::from_utf8(name)
                .map_err(|_| fmt(1, format!("header column {} is not UTF-8", i + 1)))?;
            let Some(idx) = entity.index(name) else {
                return Err(fmt(
                    1,
                    format!("header: unknown column `{name}` for entity {}", entity.name),
                ));
            };
            if seen[idx] {
                return Err(fmt(1, format!("header: column `{name}` appears twice")));
            }
            seen[idx] = true;
            map.push(idx);
        }
        if let Some(missing) = entity.columns.iter().zip(&seen).find(|(_, s)| !**s) {
            return Err(fmt(
                1,
                format!("header: column `{}` is missing", missing.0.name),
            ));
        }
        Ok(CsvReader {
            entity,
            display: display.to_string(),
            rdr,
            map,
            raw: csv::ByteRecord::new(),
            line_fix: u64::from(crlf),
        })
    }

    pub fn next(&mut self, rec: &mut Vec<String>) -> Result<Option<Item>> {
        rec.resize(self.entity.columns.len(), String::new());
        rec.iter_mut().for_each(String::clear);
        let ok = match self.rdr.read_byte_record(&mut self.raw) {
            Ok(ok) => ok,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() + self.line_fix);
                return match e.kind() {
                    // An unterminated quote or I/O error: the rest of the
                    // file cannot be trusted.
                    csv::ErrorKind::Io(_) => Err(Error::Format {
                        file: self.display.clone(),
                        line,
                        message: e.to_string(),
                    }),
                    _ => Ok(Some(Item::Invalid {
                        line,
                        field: String::new(),
                        code: "csv",
                        message: e.to_string(),
                    })),
                };
            }
        };
        if !ok {
            return Ok(None);
        }
        let line = self.raw.position().map_or(0, |p| p.line() + self.line_fix);
        // Each field checked as UTF-8 once: valid text is copied as it is,
        // invalid bytes as replacement characters, and the record named.
        let mut not_utf8 = None;
        for (i, field) in self.raw.iter().enumerate() {
            if let Some(&idx) = self.map.get(i) {
                match std::str::from_utf8(field) {
                    Ok(text) => rec[idx].push_str(text),
                    Err(_) => {
                        rec[idx].push_str(&String::from_utf8_lossy(field));
                        not_utf8.get_or_insert(idx);
                    }
                }
            }
        }
        if self.raw.len() != self.map.len() {
            return Ok(Some(Item::Invalid {
                line,
                field: String::new(),
                code: "ragged",
                message: format!(
                    "{} fields where the header has {}",
                    self.raw.len(),
                    self.map.len()
                ),
            }));
        }
        if let Some(idx) = not_utf8 {
            return Ok(Some(Item::Invalid {
                line,
                field: self.entity.columns[idx].name.to_string(),
                code: "utf8",
                message: "not valid UTF-8".into(),
            }));
        }
        Ok(Some(Item::Record(line)))
    }
}

/// Streaming reader of a staging XML document. Entity expansion is off:
/// a DOCTYPE is refused outright, and only the five predefined entities and
/// character references are understood.
pub struct XmlReader {
    entity: &'static Entity,
    display: String,
    rdr: quick_xml::Reader<BufReader<File>>,
    buf: Vec<u8>,
    line: u64,
    started: bool,
    children: Vec<(Item, Vec<String>)>,
}

impl XmlReader {
    pub fn open(path: &Path, entity: &'static Entity, display: &str) -> Result<XmlReader> {
        let file = File::open(path).at(path)?;
        let mut rdr = quick_xml::Reader::from_reader(BufReader::with_capacity(1 << 16, file));
        rdr.config_mut().trim_text(false);
        rdr.config_mut().expand_empty_elements = true;
        Ok(XmlReader {
            entity,
            display: display.to_string(),
            rdr,
            buf: Vec::with_capacity(1024),
            line: 1,
            started: false,
            children: Vec::new(),
        })
    }

    fn err(&self, message: impl Into<String>) -> Error {
        Error::Format {
            file: self.display.clone(),
            line: self.line,
            message: message.into(),
        }
    }

    fn event(&mut self) -> Result<Event<'static>> {
        self.buf.clear();
        let ev = self
            .rdr
            .read_event_into(&mut self.buf)
            .map_err(|e| Error::Format {
                file: self.display.clone(),
                line: self.line,
                message: format!("XML: {e}"),
            })?
            .into_owned();
        let newlines = match &ev {
            Event::Text(t) => t.iter().filter(|&&b| b == b'\n').count(),
            Event::CData(t) => t.iter().filter(|&&b| b == b'\n').count(),
            Event::Comment(t) => t.iter().filter(|&&b| b == b'\n').count(),
            Event::Start(t) => t.iter().filter(|&&b| b == b'\n').count(),
            _ => 0,
        };
        self.line += newlines as u64;
        if let Event::DocType(_) = ev {
            return Err(self.err("a DOCTYPE is not allowed in staging XML (no entity expansion)"));
        }
        Ok(ev)
    }

    pub fn next(&mut self, rec: &mut Vec<String>) -> Result<Option<Item>> {
        rec.resize(self.entity.columns.len(), String::new());
        rec.iter_mut().for_each(String::clear);
        if !self.started {
            loop {
                match self.event()? {
                    Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                    Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                    Event::Start(s) => {
                        if s.local_name().as_ref() != self.entity.file.as_bytes() {
                            return Err(self.err(format!(
                                "root element <{}> where <{}> is expected",
                                String::from_utf8_lossy(s.local_name().as_ref()),
                                self.entity.file
                            )));
                        }
                        break;
                    }
                    Event::Eof => return Err(self.err("no root element")),
                    _ => return Err(self.err("unexpected content before the root element")),
                }
            }
            self.started = true;
        }
        // Find the next record element.
        loop {
            match self.event()? {
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Comment(_) => {}
                Event::Start(s) if s.local_name().as_ref() == self.entity.record.as_bytes() => {
                    break;
                }
                Event::Start(s) => {
                    return Err(self.err(format!(
                        "element <{}> where <{}> is expected",
                        String::from_utf8_lossy(s.local_name().as_ref()),
                        self.entity.record
                    )));
                }
                Event::End(_) => {
                    // End of the root: nothing may follow but white space.
                    loop {
                        match self.event()? {
                            Event::Eof => return Ok(None),
                            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                            Event::Comment(_) => {}
                            _ => return Err(self.err("content after the root element")),
                        }
                    }
                }
                Event::Eof => {
                    return Err(self.err("the document ends inside the root element (truncated?)"));
                }
                _ => return Err(self.err("unexpected content between records")),
            }
        }
        let line = self.line;
        let entity = self.entity;
        let mut children = std::mem::take(&mut self.children);
        children.clear();
        let item = self.read_fields(entity, rec, line, Some(&mut children))?;
        self.children = children;
        Ok(Some(item))
    }

    /// The nested child records of the record `next` returned last (order
    /// lines of an order), each with its own line and validity.
    pub fn children(&mut self) -> &mut Vec<(Item, Vec<String>)> {
        &mut self.children
    }

    /// Fields of one record, up to its end tag. Child records (where the
    /// entity has a child) are collected into `children`.
    fn read_fields(
        &mut self,
        entity: &'static Entity,
        rec: &mut [String],
        line: u64,
        mut children: Option<&mut Vec<(Item, Vec<String>)>>,
    ) -> Result<Item> {
        let mut invalid: Option<Item> = None;
        loop {
            match self.event()? {
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Comment(_) => {}
                Event::End(_) => break,
                Event::Start(s)
                    if entity
                        .child
                        .is_some_and(|c| s.local_name().as_ref() == c.file.as_bytes())
                        && children.is_some() =>
                {
                    let child = entity.child.expect("checked in the guard");
                    let out = children.as_deref_mut().expect("checked in the guard");
                    loop {
                        match self.event()? {
                            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                            Event::Comment(_) => {}
                            Event::End(_) => break,
                            Event::Start(r)
                                if r.local_name().as_ref() == child.record.as_bytes() =>
                            {
                                let cline = self.line;
                                let mut crec = child.empty_record();
                                let item = self.read_fields(child, &mut crec, cline, None)?;
                                out.push((item, crec));
                            }
                            Event::Eof => {
                                return Err(
                                    self.err("the document ends inside a record (truncated?)")
                                );
                            }
                            _ => {
                                return Err(self.err(format!(
                                    "<{}> holds only <{}> elements",
                                    child.file, child.record
                                )));
                            }
                        }
                    }
                }
                Event::Start(s) => {
                    let name = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
                    let idx = entity.index(&name);
                    let mut value = String::new();
                    loop {
                        match self.event()? {
                            Event::Text(t) => {
                                let raw = std::str::from_utf8(&t)
                                    .map_err(|_| self.err(format!("<{name}> is not UTF-8")))?;
                                let un = quick_xml::escape::unescape(raw).map_err(|e| {
                                    self.err(format!("<{name}>: {e} (only the predefined XML entities are allowed)"))
                                })?;
                                value.push_str(&un);
                            }
                            Event::CData(t) => {
                                value.push_str(&String::from_utf8_lossy(&t));
                            }
                            Event::End(_) => break,
                            Event::Start(_) => {
                                return Err(self.err(format!(
                                    "<{name}> holds an element; fields hold text only"
                                )));
                            }
                            Event::Eof => {
                                return Err(
                                    self.err("the document ends inside a record (truncated?)")
                                );
                            }
                            _ => {}
                        }
                    }
                    match idx {
                        Some(i) => rec[i] = value,
                        None => {
                            invalid.get_or_insert(Item::Invalid {
                                line,
                                field: name.clone(),
                                code: "unknown_field",
                                message: format!("<{name}> is not a field of {}", entity.name),
                            });
                        }
                    }
                }
                Event::Eof => {
                    return Err(self.err("the document ends inside a record (truncated?)"));
                }
                _ => return Err(self.err("unexpected content in a record")),
            }
        }
        Ok(invalid.unwrap_or(Item::Record(line)))
    }
}

/// Read a whole small file (tag files).
pub fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let f = File::open(path).at(path)?;
    let mut out = Vec::new();
    f.take(limit + 1).read_to_end(&mut out).at(path)?;
    if out.len() as u64 > limit {
        return Err(Error::Format {
            file: path.display().to_string(),
            line: 0,
            message: format!("larger than {limit} bytes"),
        });
    }
    Ok(out)
}
