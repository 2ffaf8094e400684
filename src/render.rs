//! All output: tables for people, JSON and CSV for programs (README "Command
//! reference", "CSV files"), and errors (README "Exit codes and errors").
//! Commands build a JSON value and a `Table`; this module decides how they
//! look.

use crate::cli::Format;
use crate::csvio::neutralise;
use crate::domain::event::Event;
use crate::domain::names::display_name;
use crate::domain::types::*;
use crate::error::{Error, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Attribute, Cell, ContentArrangement};
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};

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
    /// first (README "At the terminal"); JSON and CSV keep every column.
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

/// How tables look (README "At the terminal"); JSON and CSV ignore it.
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

pub(crate) fn emit_styled(format: Format, style: &Style, json: &Value, table: Table) -> Result<()> {
    let text = match format {
        Format::Json => format!("{json}\n"),
        Format::Csv => csv_text(&table)?,
        Format::Table => table_text(&table, style),
    };
    write_stdout(&text)
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
                let rows: Vec<Value> = failures
                    .iter()
                    .map(|f| json!({"line": f.line, "code": f.error.code(), "message": f.error.to_string()}))
                    .collect();
                let object = json!({"error": {"code": error.code(), "message": error.to_string(), "failures": rows, "failed_rows": total}});
                let _ = writeln!(stderr, "{object}");
                return;
            }
            let _ = write!(stderr, "{lines}");
            error.to_string()
        }
        other => other.to_string(),
    };
    if format == Format::Json {
        let _ = writeln!(
            stderr,
            "{}",
            json!({"error": {"code": error.code(), "message": message}})
        );
    } else {
        let _ = writeln!(stderr, "error[{}]: {message}", error.code());
    }
}

// ---- views of the domain objects (README "Command reference") ----

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

pub(crate) fn amount_json(fen: Option<i64>) -> Value {
    fen.map_or(Value::Null, fen_to_json)
}

pub(crate) fn number_brief_json(number: &NumberRecord) -> Value {
    json!({
        "number": number.number, "status": number.status, "holder": number.holder,
        "service": number.service, "icp_number": number.icp_number, "origin": number.origin,
    })
}

pub(crate) struct InstanceView<'a> {
    pub instance: &'a Instance,
    pub max_numbers: i64,
    pub numbers: &'a [NumberRecord],
    pub eligibility: &'a crate::domain::eligibility::Eligibility,
}

impl InstanceView<'_> {
    pub(crate) fn json(&self) -> Value {
        let i = self.instance;
        json!({
            "instance_id": i.instance_id, "service_type": i.service_type, "account": i.account,
            "region": i.region, "billing": i.billing, "subscription_months": i.subscription_months,
            "expires_at": i.expires_at, "public_ip": i.public_ip, "order_amount": amount_json(i.order_amount_fen),
            "state": i.state,
            "eligible": self.eligibility.eligible(), "reasons": self.eligibility.reasons,
            // Also at the top level, where `check` has it (README "Views: eligibility, quota that can be used, reports").
            "remaining": self.eligibility.remaining,
            "quota": {"max": self.max_numbers, "consumed": i.consumed, "remaining": remaining(self.max_numbers, i.consumed)},
            "numbers": self.numbers.iter().map(number_brief_json).collect::<Vec<_>>(),
        })
    }

    pub(crate) const LIST_HEADERS: [&'static str; 14] = [
        "instance_id",
        "service_type",
        "account",
        "region",
        "billing",
        "subscription_months",
        "expires_at",
        "public_ip",
        "state",
        "eligible",
        "reasons",
        "max",
        "consumed",
        "remaining",
    ];

    /// What `instance list` leaves out on a narrow terminal, first to go
    /// first: what `eligible` and `reasons` already say (a released or
    /// expired instance has them as reasons) or what an operator looks up
    /// with `instance show`.
    pub(crate) const NARROW_DROPS: [&'static str; 9] = [
        "subscription_months",
        "billing",
        "max",
        "public_ip",
        "region",
        "service_type",
        "state",
        "expires_at",
        "consumed",
    ];

    pub(crate) fn list_row(&self) -> Vec<String> {
        let i = self.instance;
        vec![
            i.instance_id.clone(),
            i.service_type.clone(),
            i.account.clone(),
            i.region.clone(),
            i.billing.to_string(),
            i.subscription_months.to_string(),
            i.expires_at.clone(),
            opt(&i.public_ip),
            i.state.to_string(),
            self.eligibility.eligible().to_string(),
            self.eligibility.reasons_cell(),
            self.max_numbers.to_string(),
            i.consumed.to_string(),
            remaining(self.max_numbers, i.consumed).to_string(),
        ]
    }

    pub(crate) fn table(&self) -> Table {
        let i = self.instance;
        let mut table = Table::record(vec![
            ("instance_id", i.instance_id.clone()),
            ("service_type", i.service_type.clone()),
            ("account", i.account.clone()),
            ("region", i.region.clone()),
            ("billing", i.billing.to_string()),
            ("subscription_months", i.subscription_months.to_string()),
            ("expires_at", i.expires_at.clone()),
            ("public_ip", opt(&i.public_ip)),
            (
                "order_amount",
                i.order_amount_fen.map(format_fen).unwrap_or_default(),
            ),
            ("state", i.state.to_string()),
            ("eligible", self.eligibility.eligible().to_string()),
            ("reasons", self.eligibility.reasons_cell()),
            ("max", self.max_numbers.to_string()),
            ("consumed", i.consumed.to_string()),
            (
                "remaining",
                remaining(self.max_numbers, i.consumed).to_string(),
            ),
        ]);
        for number in self.numbers {
            table.footer.push(format!(
                "  {} {} holder={} service={} icp={} origin={}",
                number.number,
                number.status,
                number.holder,
                opt(&number.service),
                opt(&number.icp_number),
                number.origin
            ));
        }
        if !self.numbers.is_empty() {
            table
                .footer
                .insert(0, format!("numbers ({}):", self.numbers.len()));
        }
        table
    }
}

pub(crate) fn number_json(number: &NumberRecord) -> Value {
    json!({
        "number": number.number, "instance_id": number.instance_id, "owner": number.owner, "holder": number.holder,
        "status": number.status, "service": number.service, "icp_number": number.icp_number, "origin": number.origin,
    })
}

pub(crate) const NUMBER_HEADERS: [&str; 8] = [
    "number",
    "instance_id",
    "owner",
    "holder",
    "status",
    "service",
    "icp_number",
    "origin",
];

pub(crate) fn number_row(number: &NumberRecord) -> Vec<String> {
    vec![
        number.number.clone(),
        number.instance_id.clone(),
        number.owner.clone(),
        number.holder.clone(),
        number.status.to_string(),
        opt(&number.service),
        opt(&number.icp_number),
        number.origin.to_string(),
    ]
}

pub(crate) fn number_table(number: &NumberRecord) -> Table {
    Table::record(
        NUMBER_HEADERS
            .iter()
            .copied()
            .zip(number_row(number))
            .collect(),
    )
}

pub(crate) fn numbers_table(numbers: &[NumberRecord]) -> Table {
    let mut table = Table::new(&NUMBER_HEADERS);
    for number in numbers {
        table.row(number_row(number));
    }
    table
}

/// A service joined with its number; `display_name` is the Unicode form a
/// person reads (README "Names: one thing, one spelling").
pub(crate) fn service_json(service: &ServiceRecord, number: &NumberRecord) -> Value {
    json!({
        "service": service.service, "display_name": display_name(&service.service), "number": service.number, "instance_id": number.instance_id, "host": service.host,
        "status": number.status, "icp_number": number.icp_number, "commercial": service.commercial,
        "ip_update_required": service.ip_update_required,
    })
}

pub(crate) const SERVICE_HEADERS: [&str; 9] = [
    "service",
    "display_name",
    "number",
    "instance_id",
    "host",
    "status",
    "icp_number",
    "commercial",
    "ip_update_required",
];

pub(crate) fn service_row(service: &ServiceRecord, number: &NumberRecord) -> Vec<String> {
    vec![
        service.service.clone(),
        display_name(&service.service),
        service.number.clone(),
        number.instance_id.clone(),
        service.host.clone(),
        number.status.to_string(),
        opt(&number.icp_number),
        service.commercial.to_string(),
        service.ip_update_required.to_string(),
    ]
}

pub(crate) fn event_json(event: &Event) -> Value {
    let payload: Value = serde_json::from_str(&event.payload)
        .unwrap_or_else(|_| Value::String(event.payload.clone()));
    json!({
        "seq": event.seq, "event_id": event.event_id, "at": event.at, "actor": event.actor, "kind": event.kind,
        "payload": payload, "prev_hash": event.prev_hash, "hash": event.hash,
    })
}

/// The log's columns, as `history` and `export history` print them.
pub(crate) use crate::domain::event::EVENT_COLUMNS as EVENT_HEADERS;

pub(crate) fn event_row(event: &Event) -> Vec<String> {
    vec![
        event.seq.to_string(),
        event.event_id.clone(),
        event.at.clone(),
        event.actor.clone(),
        event.kind.clone(),
        event.payload.clone(),
        event.prev_hash.clone(),
        event.hash.clone(),
    ]
}

pub(crate) fn policy_json(policy: &Policy) -> Value {
    json!({
        "service_type": policy.service_type, "max_numbers": policy.max_numbers,
        "min_subscription_months": policy.min_subscription_months,
        "min_order_amount": amount_json(policy.min_order_amount_fen), "requires_public_ip": policy.requires_public_ip,
    })
}

pub(crate) const POLICY_HEADERS: [&str; 5] = [
    "service_type",
    "max_numbers",
    "min_subscription_months",
    "min_order_amount",
    "requires_public_ip",
];

pub(crate) fn policy_row(policy: &Policy) -> Vec<String> {
    vec![
        policy.service_type.clone(),
        policy.max_numbers.to_string(),
        policy.min_subscription_months.to_string(),
        policy
            .min_order_amount_fen
            .map(format_fen)
            .unwrap_or_default(),
        policy.requires_public_ip.to_string(),
    ]
}

mod diff;
mod summary;
pub(crate) use diff::{diff_json, diff_lines, DIFF_HEADERS};
pub(crate) use summary::event_summary;
