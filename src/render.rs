//! All output: tables for people, JSON and CSV for programs (docs/reference.md "Commands",
//! docs/guide.md "CSV files"), and errors (docs/reference.md "Exit codes and errors").
//! A command builds one typed answer (`Answer`): its JSON is the answer's
//! serde form, its table and CSV are made from the same value; this module
//! decides how they look.

use crate::cli::Format;
use crate::csvio::neutralise;
use crate::domain::event::Event;
use crate::domain::names::display_name;
use crate::domain::types::*;
use crate::error::{Error, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Attribute, Cell, ContentArrangement};
use serde::Serialize;
use std::io::{IsTerminal, Write};

/// A command's answer, typed once: JSON is its serde form, and `table` (and
/// `csv`) read the same value, so the formats cannot drift apart.
pub(crate) trait Answer: Serialize {
    fn table(&self) -> Table;
    /// CSV's rows where they differ from the table's (default: the same).
    fn csv(&self) -> Table {
        self.table()
    }
}

/// One row of a list answer: a JSON object, and one table or CSV row.
pub(crate) trait Row: Serialize {
    const HEADERS: &'static [&'static str];
    /// Columns a narrow terminal may leave out, first to go first.
    const NARROW: &'static [&'static str] = &[];
    /// The cells, in the order of `HEADERS`.
    fn cells(&self) -> Vec<String>;
}

/// A list: a JSON array, one table or CSV row per item.
impl<T: Row> Answer for Vec<T> {
    fn table(&self) -> Table {
        let mut table = Table::new(T::HEADERS).droppable(T::NARROW);
        for item in self {
            table.row(item.cells());
        }
        table
    }
}

/// One row shown alone: a JSON object, a field/value record in a table.
#[derive(Serialize)]
#[serde(transparent)]
pub(crate) struct Record<T>(pub T);

impl<T: Row> Answer for Record<T> {
    fn table(&self) -> Table {
        Table::record(T::HEADERS.iter().copied().zip(self.0.cells()).collect())
    }
}

/// Rows for table and CSV output. `vertical` shows one record as
/// field/value pairs in table format.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub vertical: bool,
    /// Lines printed after a table (not in CSV).
    pub footer: Vec<String>,
    /// Columns a table too wide for the terminal leaves out, first to go
    /// first (docs/guide.md "At the terminal"); JSON and CSV keep every column.
    pub narrow: Vec<&'static str>,
}

impl Table {
    pub(crate) fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            ..Table::default()
        }
    }

    pub(crate) fn record(pairs: Vec<(&str, String)>) -> Table {
        let mut table = Table::new(&pairs.iter().map(|(k, _)| *k).collect::<Vec<_>>());
        table.rows.push(pairs.into_iter().map(|(_, v)| v).collect());
        table.vertical = true;
        table
    }

    /// Names the columns a narrow terminal may leave out, first to go first.
    pub(crate) fn droppable(mut self, columns: &[&'static str]) -> Table {
        debug_assert!(columns.iter().all(|c| self.headers.iter().any(|h| h == c)));
        self.narrow = columns.to_vec();
        self
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends output quietly.
pub(crate) fn write_stdout(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
    closed_pipe_is_done(written.map_err(Error::from))
}

/// The one place a closed pipe is recognised: the reader (`| head`) has
/// all it wanted, so the output ends there and the command succeeds.
pub(crate) fn closed_pipe_is_done(result: Result<()>) -> Result<()> {
    match result {
        Err(Error::Io(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// How tables look (docs/guide.md "At the terminal"); JSON and CSV ignore it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Style {
    /// Show times in this zone (`--tz`); `None` keeps the log's UTC text.
    pub zone: Option<chrono_tz::Tz>,
    /// Fit tables in this many columns (`$COLUMNS`).
    pub width: Option<u16>,
    /// Standard output is a terminal: fit tables to its width.
    pub terminal: bool,
    /// Bold headers (a terminal, unless `$NO_COLOR`; or `$CLICOLOR_FORCE`).
    pub colour: bool,
}

impl Style {
    pub(crate) fn from_environment(zone: Option<chrono_tz::Tz>) -> Style {
        let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let terminal = std::io::stdout().is_terminal();
        let width = set("COLUMNS")
            .and_then(|value| value.to_str()?.trim().parse::<u16>().ok())
            .filter(|width| *width > 0);
        let forced = set("CLICOLOR_FORCE").is_some_and(|value| value != "0");
        Style {
            zone,
            width,
            terminal,
            colour: set("NO_COLOR").is_none() && (terminal || forced),
        }
    }
}

pub(crate) fn emit_styled(format: Format, style: &Style, answer: &impl Answer) -> Result<()> {
    let text = match format {
        Format::Json => format!("{}\n", json_text(answer)?),
        Format::Csv => csv_text(&answer.csv())?,
        Format::Table => table_text(&answer.table(), style),
    };
    write_stdout(&text)
}

/// A value as one line of JSON.
pub(crate) fn json_text(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::storage(format!("cannot write JSON: {e}")))
}

/// Output that only the table format has (`history`, `diff`: JSON and CSV
/// are streamed).
pub(crate) fn emit_table(style: &Style, table: &Table) -> Result<()> {
    write_stdout(&table_text(table, style))
}

/// A column holding a time is named `at` or `…_at`; tables show it in the
/// operator's zone.
fn is_time_column(header: &str) -> bool {
    header == "at" || header.ends_with("_at")
}

fn shown_cell(header: &str, value: &str, style: &Style) -> String {
    match style.zone {
        Some(zone) if is_time_column(header) => display_time_in(value, zone),
        // One reason code a line: codes never break in the middle.
        _ if header == "reasons" => value.replace(' ', "\n"),
        _ => value.to_string(),
    }
}

fn header_cell(text: &str, style: &Style) -> Cell {
    let cell = Cell::new(text);
    if style.colour {
        cell.add_attribute(Attribute::Bold)
    } else {
        cell
    }
}

fn table_text(table: &Table, style: &Style) -> String {
    // Fit $COLUMNS or the terminal (comfy-table asks the terminal its size
    // before tty use is turned off); a pipe gets whole lines.
    let width = style.width.or_else(|| {
        style
            .terminal
            .then(|| comfy_table::Table::new().width())
            .flatten()
    });
    let shown = match width {
        Some(width) if !table.vertical => fitting_columns(table, style, width),
        _ => (0..table.headers.len()).collect(),
    };
    let mut out = comfy_table(table, style, &shown);
    match width {
        Some(width) => {
            out.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(width);
        }
        None => {
            out.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    let mut text = if table.rows.is_empty() && !table.vertical {
        "(none)\n".to_string()
    } else {
        format!("{out}\n")
    };
    let hidden: Vec<&str> = (0..table.headers.len())
        .filter(|index| !shown.contains(index))
        .map(|index| table.headers[index].as_str())
        .collect();
    if let (Some(width), false) = (width, hidden.is_empty() || table.rows.is_empty()) {
        let note = format!(
            "(hidden to fit {width} columns: {}; --format csv shows every column)",
            hidden.join(", ")
        );
        text.push_str(&wrapped(&note, usize::from(width)));
    }
    for line in &table.footer {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// `text` broken at spaces into lines of at most `width` characters (a
/// longer word stands alone on its line).
fn wrapped(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_length = 0;
    for word in text.split(' ') {
        let length = word.chars().count();
        if line_length > 0 && line_length + 1 + length > width {
            out.push('\n');
            line_length = 0;
        } else if line_length > 0 {
            out.push(' ');
            line_length += 1;
        }
        out.push_str(word);
        line_length += length;
    }
    out.push('\n');
    out
}

/// The columns shown in `width` terminal columns: all, less the droppable
/// ones (in their order) until the table's natural width fits.
fn fitting_columns(table: &Table, style: &Style, width: u16) -> Vec<usize> {
    let mut shown: Vec<usize> = (0..table.headers.len()).collect();
    if table.narrow.is_empty() {
        return shown;
    }
    let all = comfy_table(table, style, &shown);
    let content = all.column_max_content_widths();
    // Each column has a space either side and one border; one more closes.
    let natural = |shown: &[usize]| -> usize {
        1 + shown
            .iter()
            .map(|i| usize::from(content[*i]) + 3)
            .sum::<usize>()
    };
    for column in &table.narrow {
        if natural(&shown) <= usize::from(width) {
            break;
        }
        if let Some(index) = table.headers.iter().position(|h| h == column) {
            shown.retain(|shown_index| *shown_index != index);
        }
    }
    shown
}

/// The comfy-table of `table`'s columns `shown`, styled, unarranged.
fn comfy_table(table: &Table, style: &Style, shown: &[usize]) -> comfy_table::Table {
    let mut out = comfy_table::Table::new();
    out.load_preset(UTF8_FULL_CONDENSED);
    out.set_content_arrangement(ContentArrangement::Disabled);
    if style.colour {
        out.enforce_styling();
    } else {
        out.force_no_tty();
    }
    if table.vertical && table.rows.len() == 1 {
        for (header, value) in table.headers.iter().zip(&table.rows[0]) {
            out.add_row(vec![
                header_cell(header, style),
                Cell::new(shown_cell(header, value, style)),
            ]);
        }
        return out;
    }
    out.set_header(shown.iter().map(|i| header_cell(&table.headers[*i], style)));
    for row in &table.rows {
        out.add_row(
            shown
                .iter()
                .map(|i| shown_cell(&table.headers[*i], &row[*i], style)),
        );
    }
    out
}

/// A whole table as CSV text (the writer every CSV output goes through).
pub(crate) fn csv_text(table: &Table) -> Result<String> {
    let mut out = Vec::new();
    write_csv_row(&mut out, &table.headers)?;
    for row in &table.rows {
        write_csv_row(&mut out, row)?;
    }
    String::from_utf8(out).map_err(|e| Error::storage(format!("cannot write CSV: {e}")))
}

/// One CSV row with the formula guard, quoted only where needed.
pub(crate) fn write_csv_row(out: &mut impl Write, cells: &[String]) -> std::io::Result<()> {
    // A lone empty field is written as "" so the row is not a blank line.
    if let [only] = cells {
        if only.is_empty() {
            return out.write_all(b"\"\"\n");
        }
    }
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let cell = neutralise(cell);
        if cell.contains(['"', ',', '\n', '\r']) {
            out.write_all(b"\"")?;
            out.write_all(cell.replace('"', "\"\"").as_bytes())?;
            out.write_all(b"\"")?;
        } else {
            out.write_all(cell.as_bytes())?;
        }
    }
    out.write_all(b"\n")
}

/// Prints an error as `error[CODE]: message` (or the JSON object) on stderr.
pub(crate) fn print_error(format: Format, error: &Error) {
    let mut stderr = std::io::stderr().lock();
    let message = match error {
        Error::Import { failures, total } => {
            let mut lines = String::new();
            for failure in failures {
                lines.push_str(&format!(
                    "line {}: error[{}]: {}\n",
                    failure.line,
                    failure.error.code(),
                    failure.error
                ));
            }
            if *total > failures.len() as u64 {
                lines.push_str(&format!(
                    "… and {} more failing rows\n",
                    *total - failures.len() as u64
                ));
            }
            if format == Format::Json {
                let failures = failures
                    .iter()
                    .map(|f| FailureJson {
                        line: f.line,
                        code: f.error.code(),
                        message: f.error.to_string(),
                    })
                    .collect();
                let object = ErrorJson::of(error, error.to_string(), Some((failures, *total)));
                let _ = writeln!(stderr, "{}", json_text(&object).unwrap_or_default());
                return;
            }
            let _ = write!(stderr, "{lines}");
            error.to_string()
        }
        other => other.to_string(),
    };
    if format == Format::Json {
        let object = ErrorJson::of(error, message, None);
        let _ = writeln!(stderr, "{}", json_text(&object).unwrap_or_default());
    } else {
        let _ = writeln!(stderr, "error[{}]: {message}", error.code());
    }
}

/// An error as JSON on stderr (docs/reference.md "Exit codes and errors").
#[derive(Serialize)]
struct ErrorJson {
    error: ErrorBody,
}

#[derive(Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
    /// A failed import's rows (listed, and how many failed in all).
    #[serde(skip_serializing_if = "Option::is_none")]
    failures: Option<Vec<FailureJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed_rows: Option<u64>,
}

#[derive(Serialize)]
struct FailureJson {
    line: u64,
    code: &'static str,
    message: String,
}

impl ErrorJson {
    fn of(error: &Error, message: String, import: Option<(Vec<FailureJson>, u64)>) -> ErrorJson {
        let (failures, failed_rows) = import.unzip();
        ErrorJson {
            error: ErrorBody {
                code: error.code(),
                message,
                failures,
                failed_rows,
            },
        }
    }
}

mod diff;
mod summary;
mod views;
pub(crate) use diff::{diff_json, diff_lines, DIFF_HEADERS};
pub(crate) use summary::event_summary;
pub(crate) use views::*;
