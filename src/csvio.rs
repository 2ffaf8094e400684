//! CSV files (docs/guide.md "CSV files"): the column layouts of the files snledger
//! reads and writes; reading with header checks, BOM, line numbers and
//! limits; and the spreadsheet-formula guard shared by every export and
//! import.

use crate::domain::types::{format_fen, shorten, Instance};
use crate::error::{Error, Result};
use crate::files::shown_path;
use std::io::Read;
use std::path::Path;

/// Declares a CSV layout from one list: a module with the index of each
/// column (for `CsvInput::get`) and `HEADER`, the names in file order.
macro_rules! csv_layout {
    ($(#[$meta:meta])* $layout:ident { $($column:ident = $name:literal,)* }) => {
        $(#[$meta])*
        pub(crate) mod $layout {
            pub(crate) const HEADER: &[&str] = &[$($name,)*];
            csv_layout!(@index 0; $($column)*);
        }
    };
    (@index $index:expr; $column:ident $($rest:ident)*) => {
        pub(crate) const $column: usize = $index;
        csv_layout!(@index $column + 1; $($rest)*);
    };
    (@index $index:expr;) => {};
}

csv_layout! {
    /// The columns of an instances file (`import instances`, `export
    /// instances`); all but the last two are required.
    instance_csv {
        INSTANCE_ID = "instance_id",
        SERVICE_TYPE = "service_type",
        ACCOUNT = "account",
        REGION = "region",
        BILLING = "billing",
        SUBSCRIPTION_MONTHS = "subscription_months",
        EXPIRES_AT = "expires_at",
        PUBLIC_IP = "public_ip",
        ORDER_AMOUNT = "order_amount",
    }
}

csv_layout! {
    /// The columns of an ops file (`import ops`); only `op` is required,
    /// each op takes the ones `cmd::import` lists for it.
    ops_csv {
        OP = "op",
        INSTANCE_ID = "instance_id",
        NUMBER = "number",
        ACCOUNT = "account",
        COUNT = "count",
        SERVICE = "service",
        TO_ACCOUNT = "to_account",
        ICP_NUMBER = "icp_number",
        REASON = "reason",
        REQUEST_ID = "request_id",
        MONTHS = "months",
        EXPIRES_AT = "expires_at",
    }
}

csv_layout! {
    /// The columns of the provider's service-number records in CSV
    /// (`reconcile`, docs/reconcile.md "Reconciling with the provider"); all required.
    provider_csv {
        SN = "sn",
        STATUS = "status",
        BEIAN_NUM = "beian_num",
        ALI_UID = "ali_uid",
        RESOURCE_ID = "resource_id",
        RESOURCE_TYPE = "resource_type",
    }
}

/// Help text naming a file's columns in order (`import … --help`, `export …
/// --help`), taken from the layouts themselves so that it cannot drift.
pub(crate) fn columns_help(what: &str, columns: &[&str], examples: &str) -> String {
    format!("Columns ({what}):\n  {}\n\n{examples}", columns.join(","))
}

/// One instance as a row of an instances file.
pub(crate) fn instance_csv_row(instance: Instance) -> Vec<String> {
    vec![
        instance.instance_id,
        instance.service_type,
        instance.account,
        instance.region,
        instance.billing.to_string(),
        instance.subscription_months.to_string(),
        instance.expires_at,
        instance.public_ip.unwrap_or_default(),
        instance
            .order_amount_fen
            .map(format_fen)
            .unwrap_or_default(),
    ]
}

/// Limits on an input file.
pub(crate) const FIELD_MAX_BYTES: usize = 64 * 1024;
pub(crate) const ROWS_MAX: u64 = 100_000_000;

/// A cell a spreadsheet would run as a formula gets a leading `'`; so does a
/// cell that already starts with `'`, so that import can always remove
/// exactly one and the round trip stays lossless.
pub(crate) fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Undoes `neutralise`: removes one leading `'`.
pub(crate) fn restore(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// A CSV file being read row by row, with its columns located by name.
pub(crate) struct CsvInput {
    reader: csv::Reader<CountingReader<Box<dyn Read>>>,
    newlines: std::rc::Rc<std::cell::RefCell<Newlines>>,
    /// For each expected column, its position in the file (if present).
    positions: Vec<Option<usize>>,
    record: csv::ByteRecord,
    pub line: u64,
    rows: u64,
    /// A read error ended the file.
    broken: bool,
    /// Bytes of the file, for progress.
    pub size: u64,
}

/// Where the newlines of the file are, for exact line numbers: the csv
/// crate numbers a record that follows blank lines by the first blank line.
/// Only the newlines read ahead of the parser are kept, so this stays small.
#[derive(Default)]
struct Newlines {
    /// Byte offsets of `\n` not yet passed by the parser, each with whether
    /// a `\r` came right before it.
    ahead: std::collections::VecDeque<(u64, bool)>,
    /// Newlines already passed.
    passed: u64,
    /// Bytes read so far.
    read: u64,
    /// Where the record being parsed began: the csv crate holds a whole
    /// record in memory, so reading far past this is refused.
    record_start: u64,
    /// Whether the last byte read was `\r`.
    last_was_cr: bool,
}

/// The most bytes one record may take: every field at its limit, and more.
pub(crate) const RECORD_MAX_BYTES: u64 = 16 * FIELD_MAX_BYTES as u64;

/// A reader that notes where each newline is.
struct CountingReader<R> {
    inner: R,
    newlines: std::rc::Rc<std::cell::RefCell<Newlines>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let mut newlines = self.newlines.borrow_mut();
        if newlines.read.saturating_sub(newlines.record_start) > RECORD_MAX_BYTES {
            return Err(std::io::Error::other(format!(
                "a record is longer than {RECORD_MAX_BYTES} bytes"
            )));
        }
        let count = self.inner.read(buffer)?;
        let start = newlines.read;
        for (i, byte) in buffer[..count].iter().enumerate() {
            if *byte == b'\n' {
                let after_cr = newlines.last_was_cr;
                newlines.ahead.push_back((start + i as u64, after_cr));
            }
            newlines.last_was_cr = *byte == b'\r';
        }
        newlines.read += count as u64;
        Ok(count)
    }
}

impl Newlines {
    /// The 1-based line of a record that the parser says starts at `byte`:
    /// the newlines before it, plus the blank lines it begins with.
    fn line_of(&mut self, byte: u64) -> u64 {
        self.record_start = byte;
        while self.ahead.front().is_some_and(|(offset, _)| *offset < byte) {
            self.ahead.pop_front();
            self.passed += 1;
        }
        let mut line = self.passed + 1;
        let mut start = byte;
        for (offset, after_cr) in self.ahead.iter() {
            // A blank line: its newline right at the start (LF), or right
            // after a CR at the start (CRLF).
            if *offset == start || (*offset == start + 1 && *after_cr) {
                line += 1;
                start = offset + 1;
            } else {
                break;
            }
        }
        line
    }
}

/// The file to read, or standard input for `-` (its size then unknown: 0).
pub(crate) fn open_file(path: &Path) -> Result<(Box<dyn Read>, u64)> {
    if path == Path::new("-") {
        return Ok((
            Box::new(std::io::BufReader::with_capacity(
                256 * 1024,
                std::io::stdin().lock(),
            )),
            0,
        ));
    }
    let metadata = std::fs::metadata(path)
        .map_err(|e| Error::not_found(format!("cannot read {}: {e}", shown_path(path))))?;
    if metadata.is_dir() {
        return Err(Error::usage(format!(
            "{} is a directory, not a CSV file",
            shown_path(path)
        )));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Error::not_found(format!("cannot read {}: {e}", shown_path(path))))?;
    Ok((
        Box::new(std::io::BufReader::with_capacity(256 * 1024, file)),
        metadata.len(),
    ))
}

impl CsvInput {
    /// Reads the header and checks it against `columns` (all known names)
    /// of which `required` must be present.
    pub(crate) fn open(path: &Path, columns: &[&str], required: &[&str]) -> Result<CsvInput> {
        let (source, size) = open_file(path)?;
        CsvInput::from_reader(source, size, path, columns, required)
    }

    /// As `open`, from a file already open (`path` names it in messages).
    pub(crate) fn from_reader(
        source: Box<dyn Read>,
        size: u64,
        path: &Path,
        columns: &[&str],
        required: &[&str],
    ) -> Result<CsvInput> {
        let newlines = std::rc::Rc::new(std::cell::RefCell::new(Newlines::default()));
        let source = CountingReader {
            inner: source,
            newlines: newlines.clone(),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(source);
        let mut header = csv::ByteRecord::new();
        let got_header = reader
            .read_byte_record(&mut header)
            .map_err(|e| Error::usage(format!("line 1: not a CSV header: {e}")))?;
        if !got_header {
            return Err(Error::usage(format!(
                "{}: empty file; a header row is required",
                shown_path(path)
            )));
        }
        let names = header_names(&header)?;
        check_header(&names, columns, required)?;
        let positions = columns
            .iter()
            .map(|c| names.iter().position(|n| n == c))
            .collect();
        Ok(CsvInput {
            reader,
            positions,
            record: csv::ByteRecord::new(),
            newlines,
            line: 1,
            rows: 0,
            broken: false,
            size,
        })
    }

    /// Advances to the next data row; false at the end of the file.
    pub(crate) fn next_row(&mut self) -> Result<bool> {
        let width = self.positions.iter().flatten().count();
        if self.broken {
            return Ok(false);
        }
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| {
                    // The reader cannot go on after this: the file ends here.
                    self.broken = true;
                    let line = e.position().map_or(self.line + 1, |p| {
                        self.newlines.borrow_mut().line_of(p.byte())
                    });
                    self.line = line;
                    Error::usage(format!("malformed CSV: {e}"))
                })?;
            if !more {
                return Ok(false);
            }
            self.line = match self.record.position() {
                Some(position) => self.newlines.borrow_mut().line_of(position.byte()),
                None => self.line + 1,
            };
            // A blank line (one empty field) is skipped.
            if self.record.len() == 1 && self.record[0].is_empty() && width != 1 {
                continue;
            }
            self.rows += 1;
            if self.rows > ROWS_MAX {
                return Err(Error::usage(format!(
                    "line {}: more than {ROWS_MAX} rows",
                    self.line
                )));
            }
            if self.record.len() != width {
                return Err(Error::usage(format!(
                    "has {} fields, the header has {width}",
                    self.record.len()
                )));
            }
            return Ok(true);
        }
    }

    /// The current row's value of expected column `index` (empty when the
    /// file lacks the column), with the formula guard removed.
    pub(crate) fn get(&self, index: usize) -> Result<&str> {
        let Some(position) = self.positions[index] else {
            return Ok("");
        };
        let bytes = &self.record[position];
        if bytes.len() > FIELD_MAX_BYTES {
            return Err(Error::usage(format!(
                "a field has {} bytes; at most {FIELD_MAX_BYTES}",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| Error::usage(NOT_UTF8))?;
        Ok(restore(text))
    }

    /// The value, or None when empty.
    pub(crate) fn optional(&self, index: usize) -> Result<Option<&str>> {
        let text = self.get(index)?;
        Ok(if text.is_empty() { None } else { Some(text) })
    }

    pub(crate) fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// What a file in another encoding (GBK, say, as Excel saves Chinese text
/// by default) is told, with how to fix it.
const NOT_UTF8: &str = "the file is not UTF-8 (perhaps GBK): save it as UTF-8 (\"CSV UTF-8\" in Excel) and import it again";

/// The column names of a header row: trimmed, without a BOM.
fn header_names(header: &csv::ByteRecord) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(header.len());
    for (i, field) in header.iter().enumerate() {
        let mut name =
            std::str::from_utf8(field).map_err(|_| Error::usage(format!("line 1: {NOT_UTF8}")))?;
        if i == 0 {
            name = name.strip_prefix('\u{feff}').unwrap_or(name);
        }
        names.push(name.trim().to_string());
    }
    Ok(names)
}

/// Every name known, every required column present, none twice.
fn check_header(names: &[String], columns: &[&str], required: &[&str]) -> Result<()> {
    let unknown: Vec<&str> = names
        .iter()
        .map(|n| n.as_str())
        .filter(|n| !columns.contains(n))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::usage(format!(
            "line 1: unknown column(s) {}; expected {}{}",
            name_list(&unknown),
            columns.join(","),
            separator_hint(&unknown, columns)
        )));
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !names.iter().any(|n| n == c))
        .collect();
    if !missing.is_empty() {
        return Err(Error::usage(format!(
            "line 1: missing column(s) {}",
            name_list(&missing)
        )));
    }
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(Error::usage(format!(
                "line 1: column {} appears twice",
                shorten(name)
            )));
        }
    }
    Ok(())
}

/// A hint when the header looks split by `;` or a tab (as spreadsheets
/// save CSV in some locales): an unknown name that holds known columns.
fn separator_hint(unknown: &[&str], columns: &[&str]) -> &'static str {
    for (separator, hint) in [
        (';', "; the header looks ;-separated: snledger reads ,-separated CSV (save it as \"CSV UTF-8 (comma delimited)\", or replace the ; with ,)"),
        ('\t', "; the header looks tab-separated: snledger reads ,-separated CSV (save it as \"CSV UTF-8 (comma delimited)\", or replace the tabs with ,)"),
    ] {
        let looks_split = unknown.iter().any(|name| {
            name.contains(separator)
                && name
                    .split(separator)
                    .any(|part| columns.contains(&part.trim()))
        });
        if looks_split {
            return hint;
        }
    }
    ""
}

/// Column names a message lists at most: a header of a million commas must
/// not print megabytes.
const NAMES_SHOWN_MAX: usize = 10;

/// The first names, each shortened with its control characters escaped
/// (header text is the user's), then how many more there are.
fn name_list(names: &[&str]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(NAMES_SHOWN_MAX)
        .map(|name| {
            if name.is_empty() {
                "(empty)".to_string()
            } else {
                shorten(name)
            }
        })
        .collect();
    let mut list = shown.join(", ");
    if names.len() > NAMES_SHOWN_MAX {
        list.push_str(&format!(" and {} more", names.len() - NAMES_SHOWN_MAX));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_guard_round_trips() {
        for cell in [
            "=HYPERLINK(\"x\")",
            "+1",
            "-1+1",
            "@sum",
            "\tx",
            "\rx",
            "'quoted",
            "''",
            "plain",
            "",
        ] {
            let written = neutralise(cell);
            assert!(!matches!(
                written.as_bytes().first(),
                Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
            ));
            assert_eq!(restore(&written), cell);
        }
        assert_eq!(neutralise("plain"), "plain");
    }
}
