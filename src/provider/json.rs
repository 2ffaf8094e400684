//! The provider's JSON (its API's answer, or JSON Lines), walked as a
//! stream: serde visits one node at a time, the reader hands it the file in
//! chunks, and a record is built only when its object has been read, so one
//! record at most (`RECORD_MAX_BYTES`) is held.

use super::{checked_text, status_code, HashingReader, Skipped, RECORD_MAX_BYTES};
use crate::domain::reconcile::ProviderRecord;
use crate::domain::types::{limits, shorten, validate_text};
use crate::error::{Error, Result};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

/// What the JSON walk shares: the callback, the first error (with its
/// path), and the reader's position.
struct Walk<'a> {
    visit: &'a mut dyn FnMut(ProviderRecord) -> Result<()>,
    error: Option<Error>,
    position: Rc<Position>,
}

/// The bytes of the file being parsed, one chunk at a time, and where the
/// parser is in them.
#[derive(Default)]
struct Position {
    chunk: RefCell<Vec<u8>>,
    /// The next byte of `chunk` to hand out.
    at: Cell<usize>,
    /// The offset in the file (after a BOM) of `chunk[0]`.
    chunk_offset: Cell<u64>,
    /// Newlines before `chunk[0]` (in the file, the skipped white space
    /// included).
    newlines_before: Cell<u64>,
    /// The bytes of `chunk[0]`'s line before it.
    line_bytes_before: Cell<u64>,
    /// The offset where the last record ended.
    record_end: Cell<u64>,
    /// Whether the reader refused a record longer than `RECORD_MAX_BYTES`.
    too_long: Cell<bool>,
}

impl Position {
    /// The line (from 1) of the next byte.
    fn line(&self) -> u64 {
        let chunk = self.chunk.borrow();
        let newlines = chunk[..self.at.get()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.newlines_before.get() + newlines as u64 + 1
    }

    /// The column (from 1, in bytes) of the last byte handed out: where
    /// serde_json found what it reports.
    fn column(&self) -> u64 {
        let chunk = self.chunk.borrow();
        let at = self.at.get();
        match chunk[..at].iter().rposition(|b| *b == b'\n') {
            Some(newline) => (at - newline - 1) as u64,
            None => self.line_bytes_before.get() + at as u64,
        }
    }

    /// The offset of the next byte (after the skipped white space).
    fn offset(&self) -> u64 {
        self.chunk_offset.get() + self.at.get() as u64
    }

    /// A record ended here: the next may take `RECORD_MAX_BYTES` from now.
    fn end_record(&self) {
        self.record_end
            .set(self.chunk_offset.get() + self.at.get() as u64);
    }
}

/// The bytes one chunk takes from the file (a refill is a copy of this).
const CHUNK_BYTES: usize = 64 * 1024;

/// The reader serde_json parses from. serde_json reads one byte at a time,
/// so this hands bytes out of a chunk (cheap), and does its bookkeeping
/// once a chunk: the line count, and the cap on one record's length, which
/// no chunk may pass.
struct Chunked<'a> {
    inner: &'a mut BufReader<HashingReader>,
    position: Rc<Position>,
}

impl Chunked<'_> {
    /// The next chunk (false at the end of the file).
    fn refill(&mut self) -> std::io::Result<bool> {
        let position = &self.position;
        let mut chunk = position.chunk.borrow_mut();
        let newlines = chunk.iter().filter(|b| **b == b'\n').count() as u64;
        position
            .newlines_before
            .set(position.newlines_before.get() + newlines);
        match chunk.iter().rposition(|b| *b == b'\n') {
            Some(last) => position
                .line_bytes_before
                .set((chunk.len() - last - 1) as u64),
            None => position
                .line_bytes_before
                .set(position.line_bytes_before.get() + chunk.len() as u64),
        }
        position
            .chunk_offset
            .set(position.chunk_offset.get() + chunk.len() as u64);
        chunk.clear();
        position.at.set(0);
        let since = position.chunk_offset.get() - position.record_end.get();
        if since > RECORD_MAX_BYTES {
            position.too_long.set(true);
            return Err(std::io::Error::other(RecordTooLong));
        }
        let allowed = CHUNK_BYTES.min((RECORD_MAX_BYTES + 1 - since) as usize);
        let buffer = self.inner.fill_buf()?;
        let count = buffer.len().min(allowed);
        chunk.extend_from_slice(&buffer[..count]);
        self.inner.consume(count);
        Ok(count > 0)
    }

    /// Skips white space; true at the end of the file.
    fn skip_white_space(&mut self) -> std::io::Result<bool> {
        loop {
            {
                let chunk = self.position.chunk.borrow();
                let at = self.position.at.get();
                let white = chunk[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_whitespace())
                    .count();
                self.position.at.set(at + white);
                if at + white < chunk.len() {
                    return Ok(false);
                }
            }
            if !self.refill()? {
                return Ok(true);
            }
        }
    }
}

impl Read for Chunked<'_> {
    #[inline]
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        loop {
            {
                let chunk = self.position.chunk.borrow();
                let at = self.position.at.get();
                if at < chunk.len() {
                    let count = buffer.len().min(chunk.len() - at);
                    buffer[..count].copy_from_slice(&chunk[at..at + count]);
                    self.position.at.set(at + count);
                    return Ok(count);
                }
            }
            if !self.refill()? {
                return Ok(0);
            }
        }
    }
}

#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record is longer than {RECORD_MAX_BYTES} bytes")
    }
}

impl std::error::Error for RecordTooLong {}

/// One JSON document, or JSON Lines (a sequence of documents): each is
/// walked in turn until the end of the file.
pub(super) fn read_json(
    buffered: &mut BufReader<HashingReader>,
    skipped: Skipped,
    visit: &mut dyn FnMut(ProviderRecord) -> Result<()>,
) -> Result<()> {
    let position = Rc::new(Position::default());
    position.newlines_before.set(skipped.newlines);
    position.line_bytes_before.set(skipped.line_bytes);
    let mut walk = Walk {
        visit,
        error: None,
        position: position.clone(),
    };
    let mut reader = Chunked {
        inner: buffered,
        position,
    };
    let mut documents = 0_u64;
    loop {
        match reader.skip_white_space() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) => return Err(json_error(&mut walk, serde_json::Error::io(error))),
        }
        let start = reader.position.offset();
        let mut deserializer = serde_json::Deserializer::from_reader(&mut reader);
        let result = Node {
            walk: &mut walk,
            path: String::new(),
        }
        .deserialize(&mut deserializer);
        if let Err(error) = result {
            // What cannot start a value after a whole document is trailing
            // garbage, not a new document (JSON Lines) gone wrong.
            let trailing = documents > 0
                && error.is_syntax()
                && walk.error.is_none()
                && walk.position.offset() == start + 1;
            if trailing {
                return Err(Error::usage(format!(
                    "line {}, column {}: not valid JSON: unexpected characters after the \
                     end of the JSON value (another record must be an object or an array)",
                    walk.position.line(),
                    walk.position.column()
                )));
            }
            return Err(json_error(&mut walk, error));
        }
        documents += 1;
    }
}

/// The error to report: the walk's own (it names the JSON path), a record
/// that is too long, a read error, or the JSON syntax error with its line.
fn json_error(walk: &mut Walk, error: serde_json::Error) -> Error {
    let line = walk.position.line();
    match walk.error.take() {
        Some(Error::Usage(own)) => return Error::usage(format!("line {line}: {own}")),
        Some(other) => return other,
        None => {}
    }
    if error.is_io() {
        // The reader refuses a record past the cap; anything else is I/O.
        if walk.position.too_long.get() {
            return Error::usage(format!("line {line}: {RecordTooLong}"));
        }
        return Error::storage(format!("cannot read the file: {error}"));
    }
    let text = error.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    // serde_json counts from the start of the document it parses, which is
    // not the file's for the white space before it and for JSON Lines: the
    // reader counts from the file's.
    Error::usage(format!(
        "line {line}, column {}: not valid JSON: {message}",
        walk.position.column()
    ))
}

/// A value somewhere in the document: an array (of responses, items or
/// records), or an object (a response, an item, or a record).
struct Node<'w, 'a> {
    walk: &'w mut Walk<'a>,
    path: String,
}

impl Node<'_, '_> {
    /// Stops the walk with a message naming this value's path.
    fn fail<E: serde::de::Error>(&mut self, problem: String) -> E {
        let shown = if self.path.is_empty() {
            "the document".to_string()
        } else {
            self.path.clone()
        };
        self.walk.error = Some(Error::usage(format!("{shown}: {problem}")));
        E::custom("stopped")
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object or an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut index = 0_u64;
        loop {
            let element = Node {
                walk: &mut *self.walk,
                path: format!("{}[{index}]", self.path),
            };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut fields = Map::new();
        // The keys read into no field, to find one given twice.
        let mut others: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.contains_key(&key) || others.contains(&key) {
                let problem = twice(&self.path, &key);
                self.walk.error = Some(Error::usage(problem));
                return Err(serde::de::Error::custom("stopped"));
            }
            match key.as_str() {
                "datas" | "Datas" | "bsnDO" | "BsnDO" => {
                    let path = child_path(&self.path, &key);
                    map.next_value_seed(Node {
                        walk: &mut *self.walk,
                        path,
                    })?;
                    others.push(key);
                }
                "RequestId" | "requestId" | "opSource" => {
                    map.next_value::<IgnoredAny>()?;
                    others.push(key);
                }
                _ => {
                    let mut problem = None;
                    let value = map.next_value_seed(Strict {
                        path: child_path(&self.path, &key),
                        problem: &mut problem,
                    });
                    if let Some(problem) = problem {
                        self.walk.error = Some(Error::usage(problem));
                        return Err(serde::de::Error::custom("stopped"));
                    }
                    fields.insert(key, value?);
                }
            }
        }
        if fields.is_empty() {
            return Ok(());
        }
        let record = match json_record(&self.path, &fields) {
            Ok(record) => record,
            Err(problem) => {
                self.walk.error = Some(Error::usage(problem));
                return Err(serde::de::Error::custom("stopped"));
            }
        };
        if let Err(error) = (self.walk.visit)(record) {
            self.walk.error = Some(error);
            return Err(serde::de::Error::custom("stopped"));
        }
        self.walk.position.end_record();
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(mut self, _: &str) -> std::result::Result<(), E> {
        Err(self.fail("expected an object or an array, got a string".into()))
    }
    fn visit_i64<E: serde::de::Error>(mut self, _: i64) -> std::result::Result<(), E> {
        Err(self.fail("expected an object or an array, got a number".into()))
    }
    fn visit_u64<E: serde::de::Error>(mut self, _: u64) -> std::result::Result<(), E> {
        Err(self.fail("expected an object or an array, got a number".into()))
    }
    fn visit_f64<E: serde::de::Error>(mut self, _: f64) -> std::result::Result<(), E> {
        Err(self.fail("expected an object or an array, got a number".into()))
    }
    fn visit_bool<E: serde::de::Error>(mut self, _: bool) -> std::result::Result<(), E> {
        Err(self.fail("expected an object or an array, got a boolean".into()))
    }
    fn visit_unit<E: serde::de::Error>(mut self) -> std::result::Result<(), E> {
        Err(self.fail("expected an object or an array, got null".into()))
    }
}

/// A key given twice in one object: the provider's API never sends one,
/// and which of the two is meant cannot be known (serde_json would keep
/// the last silently).
fn twice(path: &str, key: &str) -> String {
    format!(
        "{}: the key \"{}\" is given twice in one object",
        child_path(path, key),
        shorten(key)
    )
}

/// A JSON value inside a record, read as serde_json's `Value` is, except
/// that an object giving one key twice is refused (`problem` says where).
struct Strict<'p> {
    path: String,
    problem: &'p mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_u64<E>(self, value: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_f64<E>(self, value: f64) -> std::result::Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_str<E>(self, value: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }
    fn visit_string<E>(self, value: String) -> std::result::Result<Value, E> {
        Ok(Value::String(value))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut values = Vec::new();
        loop {
            let element = Strict {
                path: format!("{}[{}]", self.path, values.len()),
                problem: &mut *self.problem,
            };
            match seq.next_element_seed(element)? {
                Some(value) => values.push(value),
                None => return Ok(Value::Array(values)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.contains_key(&key) {
                *self.problem = Some(twice(&self.path, &key));
                return Err(serde::de::Error::custom("stopped"));
            }
            let value = map.next_value_seed(Strict {
                path: child_path(&self.path, &key),
                problem: &mut *self.problem,
            })?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A BsnPopDO from its fields; a `GetBsnBySn` response wrapped with its
/// `sn` (`{"sn": …, "response": {…}}`, the response's fields at its top or
/// under `data`) takes its fields from the response. A problem is returned
/// as `field: what is wrong`, the caller adds the path.
fn json_record(
    path: &str,
    fields: &Map<String, Value>,
) -> std::result::Result<ProviderRecord, String> {
    let at = |name: &str| child_path(path, name);
    let (body, body_path) = match fields.get("response") {
        Some(Value::Object(response)) if !fields.contains_key("status") => {
            match response.get("data").or_else(|| response.get("Data")) {
                Some(Value::Object(data)) => (data, at("response.data")),
                _ => (response, at("response")),
            }
        }
        Some(_) if !fields.contains_key("status") => {
            return Err(format!("{}: expected an object", at("response")))
        }
        _ => (fields, path.to_string()),
    };
    let in_body = |name: &str| child_path(&body_path, name);
    let sn = match fields.get("sn") {
        None => return Err(format!("{}: missing", at("sn"))),
        Some(value) => json_text(value, || at("sn"))?,
    };
    let status = match body.get("status") {
        None => return Err(format!("{}: missing", in_body("status"))),
        Some(value) => json_status(value, || in_body("status"))?,
    };
    let beian_num = match body.get("beianNum") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.is_empty() => None,
        Some(value) => Some(json_text(value, || in_body("beianNum"))?),
    };
    let ali_uid = match body.get("aliUid") {
        None => return Err(format!("{}: missing", in_body("aliUid"))),
        Some(Value::Number(number)) if number.is_u64() => number.to_string(),
        Some(value) => json_text(value, || in_body("aliUid"))?,
    };
    let resource_type = match body.get("resourceType") {
        None => return Err(format!("{}: missing", in_body("resourceType"))),
        Some(value) => value.as_i64().ok_or_else(|| {
            format!(
                "{}: expected a whole number, got {}",
                in_body("resourceType"),
                kind_of(value)
            )
        })?,
    };
    let resource_id = match body.get("resourceId") {
        None => return Err(format!("{}: missing", in_body("resourceId"))),
        Some(value) => json_text(value, || in_body("resourceId"))?,
    };
    Ok(ProviderRecord {
        sn,
        status,
        beian_num,
        ali_uid,
        resource_type,
        resource_id,
    })
}

/// A string field; `path` names it in a message (built only for one).
fn json_text(value: &Value, path: impl Fn() -> String) -> std::result::Result<String, String> {
    match value {
        Value::String(text) if text.is_empty() => Err(format!("{}: empty", path())),
        // The message names the path, so it is built only for a refusal.
        Value::String(text) => match validate_text("", text, limits::TEXT_MAX) {
            Ok(()) => Ok(text.clone()),
            Err(_) => checked_text(&path(), text).map_err(|e| e.to_string()),
        },
        other => Err(format!(
            "{}: expected a string, got {}",
            path(),
            kind_of(other)
        )),
    }
}

fn json_status(value: &Value, path: impl Fn() -> String) -> std::result::Result<u8, String> {
    match value.as_i64() {
        Some(number @ 0..=4) => Ok(number as u8),
        Some(number) => status_code(&path(), number).map_err(|e| e.to_string()),
        None => Err(format!("{}: expected 0–4, got {}", path(), kind_of(value))),
    }
}

/// How a wrong value is named: its JSON type, or the number itself.
fn kind_of(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => format!("the string \"{}\"", shorten(text)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
