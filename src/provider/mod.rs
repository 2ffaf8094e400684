//! The provider's service-number records as files (docs/reconcile.md "Reconciling with
//! the provider"): the form is detected from the content (JSON of its API,
//! JSON Lines, or CSV), and the file is read once, streamed, one record at a
//! time: nothing but the record being parsed is held, and one record may
//! take at most `RECORD_MAX_BYTES`. The file's SHA-256 and size are taken
//! on the way.

mod json;

use crate::csvio::{provider_csv, CsvInput};
use crate::domain::reconcile::ProviderRecord;
use crate::domain::types::{limits, shorten, validate_text};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

/// The most bytes one record may take (with whatever separates it from the
/// record before): a runaway string or line is refused here, so memory
/// stays bounded whatever the file holds.
pub(crate) const RECORD_MAX_BYTES: u64 = 1024 * 1024;

/// What was read: the file's SHA-256 (lowercase hex) and size in bytes.
pub(crate) struct FileSummary {
    pub sha256: String,
    pub size_bytes: u64,
}

/// Reads every record of `source` (named `path` in messages), calling
/// `visit` on each in file order. A malformed file is a usage error naming
/// the line or JSON path.
pub(crate) fn read_records(
    source: Box<dyn Read>,
    path: &Path,
    visit: &mut dyn FnMut(ProviderRecord) -> Result<()>,
) -> Result<FileSummary> {
    let hashed = Rc::new(Hashed::default());
    let reader = HashingReader {
        inner: source,
        hashed: hashed.clone(),
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, reader);
    match detect(&mut buffered)? {
        Form::Empty => return Err(Error::usage("the file is empty: no records")),
        Form::Json(skipped) => json::read_json(&mut buffered, skipped, visit)?,
        Form::Csv => read_csv(Box::new(buffered), path, visit)?,
    }
    Ok(hashed.summary())
}

#[derive(Default)]
struct Hashed {
    hasher: std::cell::RefCell<Sha256>,
    size: Cell<u64>,
}

impl Hashed {
    fn summary(&self) -> FileSummary {
        let digest = self.hasher.borrow().clone().finalize();
        FileSummary {
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            size_bytes: self.size.get(),
        }
    }
}

/// Feeds every byte read to the hash.
struct HashingReader {
    inner: Box<dyn Read>,
    hashed: Rc<Hashed>,
}

impl Read for HashingReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.hashed.hasher.borrow_mut().update(&buffer[..count]);
        self.hashed.size.set(self.hashed.size.get() + count as u64);
        Ok(count)
    }
}

enum Form {
    Empty,
    /// JSON, after the white space it starts with (and a BOM).
    Json(Skipped),
    Csv,
}

/// The white space before the JSON: its newlines, and the bytes after the
/// last one, so that positions count from the file's first line.
#[derive(Default)]
struct Skipped {
    newlines: u64,
    line_bytes: u64,
}

impl Skipped {
    fn add(&mut self, white: &[u8]) {
        match white.iter().rposition(|b| *b == b'\n') {
            Some(last) => {
                self.newlines += white.iter().filter(|b| **b == b'\n').count() as u64;
                self.line_bytes = (white.len() - last - 1) as u64;
            }
            None => self.line_bytes += white.len() as u64,
        }
    }
}

/// JSON when the first character (after a BOM and white space) opens an
/// object or an array, else CSV. Only JSON's BOM and white space are
/// consumed; CSV is left whole for its own reader.
fn detect(buffered: &mut BufReader<HashingReader>) -> Result<Form> {
    let mut skipped = Skipped::default();
    let mut first = true;
    loop {
        let buffer = buffered.fill_buf()?;
        if buffer.is_empty() {
            return Ok(Form::Empty);
        }
        let start = if first && buffer.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        first = false;
        let significant = buffer[start..]
            .iter()
            .position(|b| !b.is_ascii_whitespace());
        match significant.map(|at| buffer[start + at]) {
            Some(b'{' | b'[') => {
                let skip = start + significant.unwrap_or(0);
                skipped.add(&buffer[start..skip]);
                buffered.consume(skip);
                return Ok(Form::Json(skipped));
            }
            Some(_) => return Ok(Form::Csv),
            None => {
                // All white space so far: it is not a CSV header either.
                skipped.add(&buffer[start..]);
                let length = buffer.len();
                buffered.consume(length);
            }
        }
    }
}

// ---- CSV ----

fn read_csv(
    source: Box<dyn Read>,
    path: &Path,
    visit: &mut dyn FnMut(ProviderRecord) -> Result<()>,
) -> Result<()> {
    let mut input =
        CsvInput::from_reader(source, 0, path, provider_csv::HEADER, provider_csv::HEADER)?;
    loop {
        let more = input
            .next_row()
            .map_err(|e| Error::usage(format!("line {}: {e}", input.line)))?;
        if !more {
            return Ok(());
        }
        let record =
            csv_record(&input).map_err(|e| Error::usage(format!("line {}: {e}", input.line)))?;
        visit(record)?;
    }
}

fn csv_record(row: &CsvInput) -> Result<ProviderRecord> {
    let text = |index: usize, name: &str| -> Result<String> {
        let value = row.get(index)?;
        if value.is_empty() {
            return Err(Error::usage(format!("{name}: missing")));
        }
        checked_text(name, value)
    };
    let integer = |index: usize, name: &str| -> Result<i64> {
        let value = row.get(index)?;
        value.trim().parse::<i64>().map_err(|_| {
            Error::usage(format!(
                "{name}: expected a whole number, got '{}'",
                shorten(value)
            ))
        })
    };
    let beian = row.get(provider_csv::BEIAN_NUM)?;
    Ok(ProviderRecord {
        sn: text(provider_csv::SN, "sn")?,
        status: status_code("status", integer(provider_csv::STATUS, "status")?)?,
        beian_num: optional_beian(beian)?,
        ali_uid: text(provider_csv::ALI_UID, "ali_uid")?,
        resource_type: integer(provider_csv::RESOURCE_TYPE, "resource_type")?,
        resource_id: text(provider_csv::RESOURCE_ID, "resource_id")?,
    })
}

// ---- shared field checks ----

/// Free text from the file: no control characters, bounded length.
fn checked_text(field: &str, value: &str) -> Result<String> {
    validate_text(field, value, limits::TEXT_MAX)?;
    Ok(value.to_string())
}

fn status_code(field: &str, value: i64) -> Result<u8> {
    match u8::try_from(value) {
        Ok(code @ 0..=4) => Ok(code),
        _ => Err(Error::usage(format!("{field}: expected 0–4, got {value}"))),
    }
}

fn optional_beian(value: &str) -> Result<Option<String>> {
    if value.is_empty() {
        return Ok(None);
    }
    Ok(Some(checked_text("beianNum", value)?))
}
