//! The store: the only module that speaks SQL. It opens (or creates) the
//! ledger file, appends events with their derived rows, answers `Lookup`
//! for the rules, and reads rows back for the commands. Every statement is
//! prepared (and cached) with bound parameters; nothing from input is ever
//! formatted into SQL text.

use crate::domain::decide::Lookup;
use crate::domain::digest::{Digest, TableDigests};
use crate::domain::event::Event;
use crate::domain::evolve::Change;
use crate::domain::memory::MemoryState;
use crate::domain::types::*;
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use std::path::Path;

pub const SCHEMA: &str = include_str!("../schema.sql");
pub const SCHEMA_VERSION: i64 = 1;
/// `PRAGMA application_id` of a ledger ("SNLG"): tells a ledger from any
/// other SQLite file.
const APPLICATION_ID: i64 = 0x534E_4C47;
/// How long a writer waits for another one before giving up (exit 6).
pub const BUSY_TIMEOUT_MS: u64 = 10_000;

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Storage(format!(
                "the ledger is locked by another process (waited up to {} s): {error}",
                BUSY_TIMEOUT_MS / 1000
            )),
            Some(ErrorCode::NotADatabase) => Error::Storage(format!("not a ledger: {error}")),
            _ => Error::Storage(format!("storage: {error}")),
        }
    }
}

/// The head of the chain: what the next event links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    pub at: String,
}

pub struct Store {
    pub(crate) conn: Connection,
}

/// Rolls back an open transaction unless it was committed, so an early
/// return (`?`) never leaves half a command behind.
pub struct Transaction<'a> {
    store: &'a Store,
    done: bool,
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.store.conn.execute_batch("COMMIT")?;
        Ok(())
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.store.conn.execute_batch("ROLLBACK");
        }
    }
}

impl Store {
    /// Opens the ledger at `path`, creating it (mode 0600, schema, default
    /// policy) if the file does not exist or is an empty database.
    pub fn open(path: &Path) -> Result<Store> {
        if path.is_dir() {
            return Err(Error::storage(format!(
                "{} is a directory, not a ledger",
                path.display()
            )));
        }
        if !path.exists() {
            // Another process may create it at the same moment: fine.
            if let Err(error) = create_private_file(path) {
                if !path.exists() {
                    return Err(error);
                }
            }
        }
        // The path is a file name, never a URI: the bundled SQLite reads a
        // name starting with `file:` as one whatever the flags, so such a
        // relative name is opened as `./file:…`.
        let local;
        let path = if path.is_relative() && path.to_string_lossy().starts_with("file:") {
            local = Path::new(".").join(path);
            local.as_path()
        } else {
            path
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| Error::storage(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
        // Room for every statement the program prepares, so none is evicted
        // and re-prepared in a bulk loop.
        conn.set_prepared_statement_cache_capacity(64);
        let store = Store { conn };
        store.check_or_create(path)?;
        // synchronous=NORMAL in WAL mode: a commit survives any process
        // crash; only a power loss can drop the last commits, never corrupt.
        // cache_size: 32 MiB of pages (allocated only as used) keeps a bulk
        // import from spilling mid-transaction, within its 64 MiB budget.
        store
            .conn
            .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;")?;
        Ok(store)
    }

    /// A private in-memory ledger for rebuilding state from a log (`verify`,
    /// `--as-of`).
    pub fn scratch() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        conn.set_prepared_statement_cache_capacity(64);
        let store = Store { conn };
        store.conn.execute_batch(SCHEMA)?;
        store.seed_policy()?;
        Ok(store)
    }

    /// Creates the schema in a new, empty database. Several processes may
    /// create the same new file at once, and one may have died half way: the
    /// schema is written in one exclusive transaction that re-checks it.
    fn create(&self) -> Result<()> {
        // 16 KiB pages (the log's rows are large; bulk imports write fewer,
        // fuller pages) take effect only before the first write.
        // Switching to WAL needs the database to itself, and SQLite does not
        // wait for that: retry while another process creates the same file.
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_millis(BUSY_TIMEOUT_MS);
        loop {
            let mode: String = self
                .conn
                .query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
            if mode.eq_ignore_ascii_case("wal") {
                break;
            }
            let switched = self
                .conn
                .execute_batch("PRAGMA page_size = 16384;")
                .and_then(|()| {
                    self.conn.query_row("PRAGMA journal_mode = WAL", [], |row| {
                        row.get::<_, String>(0)
                    })
                });
            match switched {
                Err(error) if std::time::Instant::now() >= deadline => return Err(error.into()),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                // SQLite declined without an error (an in-memory database).
                Ok(mode) if !mode.eq_ignore_ascii_case("wal") => {
                    return Err(Error::storage(format!(
                        "the ledger cannot use WAL journaling (journal mode {mode})"
                    )))
                }
                Ok(_) => {}
            }
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version == 0 {
            self.conn.execute_batch(SCHEMA)?;
            self.seed_policy()?;
            self.conn.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
            ))?;
        }
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    fn seed_policy(&self) -> Result<()> {
        for policy in default_policies() {
            self.write(&Change::Policy(policy))?;
        }
        Ok(())
    }

    /// One read of three values, no schema re-application on every start:
    /// a ledger is checked; an empty database (new, or left half-created by
    /// a process that died) gets the schema; anything else is refused.
    fn check_or_create(&self, path: &Path) -> Result<()> {
        let not_ledger = |why: String| {
            Error::storage(format!(
                "{} is not a snledger ledger: {why}",
                path.display()
            ))
        };
        let (application_id, version, objects): (i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version),
                        (SELECT count(*) FROM sqlite_master)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(|e| not_ledger(e.to_string()))?;
        if application_id == 0 && version == 0 && objects == 0 {
            return self.create();
        }
        if application_id != APPLICATION_ID {
            return Err(not_ledger(format!("application id {application_id:#x}")));
        }
        if version > SCHEMA_VERSION {
            return Err(Error::storage(format!(
                "{} has schema version {version}, newer than this program's {SCHEMA_VERSION}: upgrade snledger",
                path.display()
            )));
        }
        if version < 1 {
            return Err(not_ledger(format!("schema version {version}")));
        }
        Ok(())
    }

    /// `BEGIN IMMEDIATE`: takes the write lock now (waiting up to the busy
    /// timeout), so the state read by the rules cannot change before commit.
    pub fn begin(&self) -> Result<Transaction<'_>> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Transaction {
            store: self,
            done: false,
        })
    }

    /// A read transaction: a consistent snapshot for multi-query reads.
    pub fn begin_read(&self) -> Result<Transaction<'_>> {
        self.conn.execute_batch("BEGIN")?;
        Ok(Transaction {
            store: self,
            done: false,
        })
    }

    pub fn head(&self) -> Result<Option<Head>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1")?;
        Ok(statement
            .query_row([], |row| {
                Ok(Head {
                    seq: row.get(0)?,
                    hash: row.get(1)?,
                    at: row.get(2)?,
                })
            })
            .optional()?)
    }

    /// How many events are of these kinds (from the kind index).
    pub fn count_kind(&self, kinds: &[&str]) -> Result<u64> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT count(*) FROM events WHERE kind = ?1")?;
        let mut total = 0_u64;
        for kind in kinds {
            total += statement
                .query_row(params![kind], |row| row.get::<_, i64>(0))?
                .max(0) as u64;
        }
        Ok(total)
    }

    /// An event id used by two events, if any: (id, first seq, second seq).
    pub fn repeated_event_id(&self) -> Result<Option<(String, i64, i64)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT event_id, min(seq), max(seq) FROM events GROUP BY event_id HAVING count(*) > 1 ORDER BY 3 LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?)
    }

    pub fn event_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM events", [], |row| row.get(0))?)
    }

    /// Appends one event and the subjects it names (within the caller's
    /// transaction).
    pub fn append(&self, event: &Event, subjects: &[String]) -> Result<()> {
        let mut statement = self.conn.prepare_cached(
            "INSERT INTO events (seq, event_id, at, actor, kind, payload, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        statement.execute(params![
            event.seq,
            event.event_id,
            event.at,
            event.actor,
            event.kind,
            event.payload,
            event.prev_hash,
            event.hash
        ])?;
        self.add_subjects(event.seq, subjects)
    }

    pub fn add_subjects(&self, seq: i64, subjects: &[String]) -> Result<()> {
        let mut statement = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO event_subjects (subject, seq) VALUES (?1, ?2)",
        )?;
        for subject in subjects {
            statement.execute(params![subject, seq])?;
        }
        Ok(())
    }

    /// Writes one derived row (insert or replace).
    pub fn write(&self, change: &Change) -> Result<()> {
        match change {
            Change::Instance(r) => {
                let mut statement = self.conn.prepare_cached(
                    "INSERT OR REPLACE INTO instances (instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?;
                statement.execute(params![
                    r.instance_id,
                    r.service_type,
                    r.account,
                    r.region,
                    r.billing.as_str(),
                    r.subscription_months,
                    r.expires_at,
                    r.public_ip,
                    r.order_amount_fen,
                    r.state.as_str(),
                    r.consumed,
                    r.updated_seq
                ])?;
            }
            Change::Number(r) => {
                let mut statement = self.conn.prepare_cached(
                    "INSERT OR REPLACE INTO numbers (number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?;
                statement.execute(params![
                    r.number,
                    r.instance_id,
                    r.owner,
                    r.holder,
                    r.status.as_str(),
                    r.service,
                    r.icp_number,
                    r.origin.as_str(),
                    r.issued_seq,
                    r.updated_seq
                ])?;
            }
            Change::Service(r) => {
                let mut statement = self.conn.prepare_cached(
                    "INSERT OR REPLACE INTO services (service, number, host, commercial, ip_update_required, updated_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                statement.execute(params![
                    r.service,
                    r.number,
                    r.host,
                    r.commercial,
                    r.ip_update_required,
                    r.updated_seq
                ])?;
            }
            Change::Policy(r) => {
                let mut statement = self.conn.prepare_cached(
                    "INSERT OR REPLACE INTO policy (service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                statement.execute(params![
                    r.service_type,
                    r.max_numbers,
                    r.min_subscription_months,
                    r.min_order_amount_fen,
                    r.requires_public_ip,
                    r.updated_seq
                ])?;
            }
            Change::Request(r) => {
                let mut statement = self.conn.prepare_cached(
                    "INSERT INTO requests (request_id, instance_id, account, count, asked, numbers, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                statement.execute(params![
                    r.request_id,
                    r.instance_id,
                    r.account,
                    r.count,
                    to_json_array(&r.asked),
                    to_json_array(&r.numbers),
                    r.seq
                ])?;
            }
        }
        Ok(())
    }

    // ---- reading rows back ----

    pub fn instances(
        &self,
        account: Option<&str>,
        service_type: Option<&str>,
    ) -> Result<Vec<Instance>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {INSTANCE_COLUMNS} FROM instances WHERE (?1 IS NULL OR account = ?1) AND (?2 IS NULL OR service_type = ?2) ORDER BY instance_id"
        ))?;
        let rows = statement.query_map(params![account, service_type], instance_from_row)?;
        collect(rows)
    }

    /// Calls `visit` for every instance in id order without holding them all.
    pub fn each_instance(&self, mut visit: impl FnMut(Instance) -> Result<()>) -> Result<()> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {INSTANCE_COLUMNS} FROM instances ORDER BY instance_id"
        ))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            visit(instance_from_row(row)?)?;
        }
        Ok(())
    }

    /// Calls `visit` for every number in instance order without holding them all.
    pub fn each_number(&self, mut visit: impl FnMut(NumberRecord) -> Result<()>) -> Result<()> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers ORDER BY instance_id, issued_seq, number"
        ))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            visit(number_from_row(row)?)?;
        }
        Ok(())
    }

    pub fn numbers_of(&self, instance_id: &str) -> Result<Vec<NumberRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE instance_id = ?1 ORDER BY issued_seq, number"
        ))?;
        let rows = statement.query_map(params![instance_id], number_from_row)?;
        collect(rows)
    }

    pub fn numbers(
        &self,
        instance_id: Option<&str>,
        account: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<NumberRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers
             WHERE (?1 IS NULL OR instance_id = ?1) AND (?2 IS NULL OR holder = ?2 OR owner = ?2) AND (?3 IS NULL OR status = ?3)
             ORDER BY instance_id, issued_seq, number"
        ))?;
        let rows = statement.query_map(params![instance_id, account, status], number_from_row)?;
        collect(rows)
    }

    /// Services hosted on, or with numbers from, `instance_id` (all when None).
    pub fn services(&self, instance_id: Option<&str>) -> Result<Vec<ServiceRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT s.service, s.number, s.host, s.commercial, s.ip_update_required, s.updated_seq
             FROM services s JOIN numbers n ON n.number = s.number
             WHERE ?1 IS NULL OR s.host = ?1 OR n.instance_id = ?1 ORDER BY s.service",
        )?;
        let rows = statement.query_map(params![instance_id], service_from_row)?;
        collect(rows)
    }

    pub fn policies(&self) -> Result<Vec<Policy>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {POLICY_COLUMNS} FROM policy ORDER BY service_type"
        ))?;
        let rows = statement.query_map([], policy_from_row)?;
        collect(rows)
    }

    /// Events in `seq` order from `from_seq` on, optionally only those naming
    /// `subject` or of `kind`, with seq up to `to_seq`.
    pub fn each_event(
        &self,
        filter: &EventFilter,
        mut visit: impl FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let sql = match (&filter.subject, &filter.kind) {
            (Some(_), _) => format!(
                "SELECT {EVENT_COLUMNS} FROM event_subjects s JOIN events e ON e.seq = s.seq
                 WHERE s.subject = ?1 AND s.seq BETWEEN ?3 AND ?4 AND (?2 IS NULL OR e.kind = ?2) ORDER BY s.seq"
            ),
            (None, Some(_)) => format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE ?1 IS NULL AND e.kind = ?2 AND e.seq BETWEEN ?3 AND ?4 ORDER BY e.seq"
            ),
            (None, None) => format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE ?1 IS NULL AND ?2 IS NULL AND e.seq BETWEEN ?3 AND ?4 ORDER BY e.seq"
            ),
        };
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params![
            filter.subject,
            filter.kind,
            filter.from_seq,
            filter.to_seq
        ])?;
        while let Some(row) = rows.next()? {
            visit(event_from_row(row)?)?;
        }
        Ok(())
    }

    /// The first seq whose `at` is at or after `time`. Events are in time
    /// order, so this is a binary search over seq, no index needed.
    pub fn first_seq_at_or_after(&self, time: &str) -> Result<i64> {
        self.first_seq_where_at(|at| at >= time)
    }

    /// The last seq whose `at` is at or before `time` (0 when none).
    pub fn last_seq_at_or_before(&self, time: &str) -> Result<i64> {
        Ok(self.first_seq_where_at(|at| at > time)? - 1)
    }

    /// The first seq from 1 whose time satisfies `past` (a predicate that,
    /// along the log, turns true once and stays true); head + 1 if none.
    fn first_seq_where_at(&self, past: impl Fn(&str) -> bool) -> Result<i64> {
        let last = self.head()?.map_or(0, |head| head.seq);
        let mut statement = self
            .conn
            .prepare_cached("SELECT at FROM events WHERE seq = ?1")?;
        let (mut low, mut high) = (1_i64, last + 1);
        while low < high {
            let middle = low + (high - low) / 2;
            let at: Option<String> = statement
                .query_row(params![middle], |row| row.get(0))
                .optional()?;
            match at {
                Some(at) if !past(&at) => low = middle + 1,
                _ => high = middle,
            }
        }
        Ok(low)
    }

    /// Does the database still refuse edits of the log?
    /// Both append-only triggers are there, exactly as `schema.sql` makes
    /// them (a trigger of the same name that does nothing does not count).
    pub fn triggers_present(&self) -> Result<bool> {
        let mut statement = self
            .conn
            .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1")?;
        for name in ["events_no_update", "events_no_delete"] {
            let stored: Option<String> = statement
                .query_row(params![name], |row| row.get(0))
                .optional()?;
            let expected = expected_trigger(name);
            if stored.map(|sql| squeeze(&sql)) != expected {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// A trigger's SQL as SQLite stores it from `schema.sql` (it drops
/// `IF NOT EXISTS` and the final `;`), white space squeezed.
fn expected_trigger(name: &str) -> Option<String> {
    let start = SCHEMA.find(&format!("CREATE TRIGGER IF NOT EXISTS {name} "))?;
    let end = start + SCHEMA[start..].find("END;")? + "END".len();
    Some(squeeze(&SCHEMA[start..end].replacen(
        "IF NOT EXISTS ",
        "",
        1,
    )))
}

fn squeeze(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One row of the log borrowed from SQLite's buffers (no copies), for the
/// chain check of `verify`. A value that is not text reads as "", which then
/// fails its hash.
pub struct EventRef<'a> {
    pub seq: i64,
    pub event_id: &'a str,
    pub at: &'a str,
    pub actor: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

impl Store {
    /// Every row of the log in seq order, whatever its seq.
    pub fn each_event_ref(&self, mut visit: impl FnMut(&EventRef) -> Result<()>) -> Result<()> {
        let mut statement = self
            .conn
            .prepare("SELECT seq, event_id, at, actor, kind, payload, prev_hash, hash FROM events ORDER BY seq")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let text = |index: usize| {
                row.get_ref(index)
                    .ok()
                    .and_then(|value| value.as_str().ok())
                    .unwrap_or("")
            };
            let seq = row.get_ref(0)?.as_i64().map_err(|_| {
                Error::Integrity("the log has a seq that is not an integer".to_string())
            })?;
            visit(&EventRef {
                seq,
                event_id: text(1),
                at: text(2),
                actor: text(3),
                kind: text(4),
                payload: text(5),
                prev_hash: text(6),
                hash: text(7),
            })?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub subject: Option<String>,
    pub kind: Option<String>,
    pub from_seq: i64,
    pub to_seq: i64,
}

impl EventFilter {
    pub fn all() -> EventFilter {
        EventFilter {
            subject: None,
            kind: None,
            from_seq: i64::MIN,
            to_seq: i64::MAX,
        }
    }
}

/// Creates a new file readable and writable by its owner only, whatever
/// the umask; never truncates an existing one.
pub fn create_private_file(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| Error::storage(format!("cannot create {}: {e}", path.display())))
}

fn to_json_array(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

fn from_json_array(text: &str) -> rusqlite::Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn collect<T>(rows: impl Iterator<Item = rusqlite::Result<T>>) -> Result<Vec<T>> {
    Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
}

/// A stored flag must be exactly 0 or 1 (SQLite would read 7 as true, and
/// hide an edit from `verify`).
fn strict_bool(row: &Row, index: usize) -> rusqlite::Result<bool> {
    match row.get::<_, i64>(index)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(rusqlite::Error::IntegralValueOutOfRange(index, other)),
    }
}

/// A stored enum text that does not parse is a corrupt row.
fn parse_enum<T>(
    row: &Row,
    index: usize,
    parse: fn(&str, &str) -> Result<T>,
) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    parse("stored value", &text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            Box::new(std::io::Error::other(e.to_string())),
        )
    })
}

const INSTANCE_COLUMNS: &str = "instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq";
const NUMBER_COLUMNS: &str = "number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq";
const POLICY_COLUMNS: &str = "service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq";
const SERVICE_COLUMNS: &str = "service, number, host, commercial, ip_update_required, updated_seq";
const REQUEST_COLUMNS: &str = "request_id, instance_id, account, count, asked, numbers, seq";
const EVENT_COLUMNS: &str =
    "e.seq, e.event_id, e.at, e.actor, e.kind, e.payload, e.prev_hash, e.hash";

fn instance_from_row(row: &Row) -> rusqlite::Result<Instance> {
    Ok(Instance {
        instance_id: row.get(0)?,
        service_type: row.get(1)?,
        account: row.get(2)?,
        region: row.get(3)?,
        billing: parse_enum(row, 4, Billing::parse)?,
        subscription_months: row.get(5)?,
        expires_at: row.get(6)?,
        public_ip: row.get(7)?,
        order_amount_fen: row.get(8)?,
        state: parse_enum(row, 9, InstanceState::parse)?,
        consumed: row.get(10)?,
        updated_seq: row.get(11)?,
    })
}

fn number_from_row(row: &Row) -> rusqlite::Result<NumberRecord> {
    Ok(NumberRecord {
        number: row.get(0)?,
        instance_id: row.get(1)?,
        owner: row.get(2)?,
        holder: row.get(3)?,
        status: parse_enum(row, 4, Status::parse)?,
        service: row.get(5)?,
        icp_number: row.get(6)?,
        origin: parse_enum(row, 7, Origin::parse)?,
        issued_seq: row.get(8)?,
        updated_seq: row.get(9)?,
    })
}

fn service_from_row(row: &Row) -> rusqlite::Result<ServiceRecord> {
    Ok(ServiceRecord {
        service: row.get(0)?,
        number: row.get(1)?,
        host: row.get(2)?,
        commercial: strict_bool(row, 3)?,
        ip_update_required: strict_bool(row, 4)?,
        updated_seq: row.get(5)?,
    })
}

fn request_from_row(row: &Row) -> rusqlite::Result<RequestRecord> {
    Ok(RequestRecord {
        request_id: row.get(0)?,
        instance_id: row.get(1)?,
        account: row.get(2)?,
        count: row.get(3)?,
        asked: from_json_array(&row.get::<_, String>(4)?)?,
        numbers: from_json_array(&row.get::<_, String>(5)?)?,
        seq: row.get(6)?,
    })
}

fn policy_from_row(row: &Row) -> rusqlite::Result<Policy> {
    Ok(Policy {
        service_type: row.get(0)?,
        max_numbers: row.get(1)?,
        min_subscription_months: row.get(2)?,
        min_order_amount_fen: row.get(3)?,
        requires_public_ip: strict_bool(row, 4)?,
        updated_seq: row.get(5)?,
    })
}

pub fn event_from_row(row: &Row) -> rusqlite::Result<Event> {
    Ok(Event {
        seq: row.get(0)?,
        event_id: row.get(1)?,
        at: row.get(2)?,
        actor: row.get(3)?,
        kind: row.get(4)?,
        payload: row.get(5)?,
        prev_hash: row.get(6)?,
        hash: row.get(7)?,
    })
}

impl Lookup for Store {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?1"
        ))?;
        Ok(statement
            .query_row(params![instance_id], instance_from_row)
            .optional()?)
    }

    fn number(&self, number: &str) -> Result<Option<NumberRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE number = ?1"
        ))?;
        Ok(statement
            .query_row(params![number], number_from_row)
            .optional()?)
    }

    fn service(&self, service: &str) -> Result<Option<ServiceRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {SERVICE_COLUMNS} FROM services WHERE service = ?1"
        ))?;
        Ok(statement
            .query_row(params![service], service_from_row)
            .optional()?)
    }

    fn policy(&self, service_type: &str) -> Result<Option<Policy>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {POLICY_COLUMNS} FROM policy WHERE service_type = ?1"
        ))?;
        Ok(statement
            .query_row(params![service_type], policy_from_row)
            .optional()?)
    }

    fn request(&self, request_id: &str) -> Result<Option<RequestRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE request_id = ?1"
        ))?;
        Ok(statement
            .query_row(params![request_id], request_from_row)
            .optional()?)
    }
}

/// A derived row that differs between the stored tables and a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub seq: Option<i64>,
    pub problem: String,
}

/// Disagreements kept at most: enough to name the first bad event.
const DISAGREEMENTS_MAX: usize = 1000;

/// Compares one stored row with the rebuilt one of the same key.
/// The fields in which two rows (as `Debug` text, `Name { a: 1, b: 2 }`)
/// differ: `b stored 3, the log gives 2`. The whole rows when the texts
/// cannot be split alike.
fn differences(stored: &str, rebuilt: &str) -> String {
    let fields = |text: &str| -> Vec<String> {
        let inner = text
            .split_once("{ ")
            .map_or(text, |(_, rest)| rest.trim_end_matches(" }"));
        inner.split(", ").map(str::to_string).collect()
    };
    let (left, right) = (fields(stored), fields(rebuilt));
    if left.len() != right.len() {
        return format!("stored {stored}, the log gives {rebuilt}");
    }
    let changed: Vec<String> = left
        .iter()
        .zip(&right)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| {
            let (name, stored_value) = a.split_once(": ").unwrap_or(("", a));
            let logged = b.split_once(": ").map_or(b.as_str(), |(_, value)| value);
            format!("{name} stored {stored_value}, the log gives {logged}")
        })
        .collect();
    changed.join("; ")
}

fn compare_row<T: PartialEq + std::fmt::Debug>(
    found: &mut Vec<Disagreement>,
    table: &str,
    key: &str,
    stored: T,
    rebuilt: Option<T>,
    seq_of: fn(&T) -> i64,
) {
    if found.len() >= DISAGREEMENTS_MAX {
        return;
    }
    match rebuilt {
        Some(rebuilt) if rebuilt == stored => {}
        Some(rebuilt) => found.push(Disagreement {
            seq: Some(seq_of(&stored).max(seq_of(&rebuilt)).max(1)),
            problem: format!(
                "{table} row {key}: {}",
                differences(&format!("{stored:?}"), &format!("{rebuilt:?}"))
            ),
        }),
        None => found.push(Disagreement {
            seq: Some(seq_of(&stored).max(1)),
            problem: format!("{table} row {key} is stored ({stored:?}) but no event made it"),
        }),
    }
}

impl Store {
    fn each_row<T>(
        &self,
        sql: &str,
        map: fn(&Row) -> rusqlite::Result<T>,
        mut visit: impl FnMut(T),
    ) -> Result<()> {
        let mut statement = self.conn.prepare(sql)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            visit(map(row)?);
        }
        Ok(())
    }

    /// Every history index row grouped by seq (only used to locate a
    /// disagreement that the digest found).
    pub fn subjects_by_seq(&self) -> Result<std::collections::BTreeMap<i64, Vec<String>>> {
        let mut by_seq: std::collections::BTreeMap<i64, Vec<String>> =
            std::collections::BTreeMap::new();
        self.each_row(
            "SELECT subject, seq FROM event_subjects",
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
            |(subject, seq)| by_seq.entry(seq).or_default().push(subject),
        )?;
        Ok(by_seq)
    }

    /// The digest of every stored derived table (read in the caller's
    /// snapshot; `verify` does this while the log is being replayed).
    pub fn digest_derived(&self) -> Result<TableDigests> {
        let mut d = TableDigests::default();
        let sql = |columns: &str, table: &str| format!("SELECT {columns} FROM {table}");
        self.digest_rows(
            &sql(POLICY_COLUMNS, "policy"),
            policy_from_row,
            &mut d.policy,
            Digest::policy,
        )?;
        self.digest_rows(
            &sql(INSTANCE_COLUMNS, "instances"),
            instance_from_row,
            &mut d.instances,
            Digest::instance,
        )?;
        self.digest_rows(
            &sql(NUMBER_COLUMNS, "numbers"),
            number_from_row,
            &mut d.numbers,
            Digest::number,
        )?;
        self.digest_rows(
            &sql(SERVICE_COLUMNS, "services"),
            service_from_row,
            &mut d.services,
            Digest::service,
        )?;
        self.digest_rows(
            &sql(REQUEST_COLUMNS, "requests"),
            request_from_row,
            &mut d.requests,
            Digest::request,
        )?;
        self.digest_rows(
            "SELECT subject, seq FROM event_subjects",
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
            &mut d.subjects,
            |digest, (subject, seq)| digest.subject(&[subject], *seq),
        )?;
        Ok(d)
    }

    /// Adds every row of a query to `digest`. A row that does not even
    /// parse (edited by hand) spoils the digest, so the table is then
    /// compared row by row and the row named.
    fn digest_rows<T>(
        &self,
        sql: &str,
        from_row: fn(&Row) -> rusqlite::Result<T>,
        digest: &mut Digest,
        add: fn(&mut Digest, &T),
    ) -> Result<()> {
        let mut statement = self.conn.prepare(sql)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            match from_row(row) {
                Ok(value) => add(digest, &value),
                Err(_) => digest.spoil(),
            }
        }
        Ok(())
    }

    /// Compares the stored derived tables (`stored`: their digests) with the
    /// state rebuilt from the log. A table whose digests differ is then
    /// compared row by row, to name the rows and the events.
    pub fn compare_derived(
        &self,
        rebuilt: &mut MemoryState,
        fresh: &TableDigests,
        stored: &TableDigests,
    ) -> Result<Vec<Disagreement>> {
        let mut found = Vec::new();
        if fresh.policy != stored.policy {
            let sql = format!("SELECT {POLICY_COLUMNS} FROM policy");
            self.compare_table(
                &mut found,
                "policy",
                &sql,
                policy_from_row,
                &mut rebuilt.policies,
                |r| r.updated_seq,
            )?;
        }
        if fresh.instances != stored.instances {
            let sql = format!("SELECT {INSTANCE_COLUMNS} FROM instances");
            self.compare_table(
                &mut found,
                "instances",
                &sql,
                instance_from_row,
                &mut rebuilt.instances,
                |r| r.updated_seq,
            )?;
        }
        if fresh.numbers != stored.numbers {
            let sql = format!("SELECT {NUMBER_COLUMNS} FROM numbers");
            self.compare_table(
                &mut found,
                "numbers",
                &sql,
                number_from_row,
                &mut rebuilt.numbers,
                |r| r.updated_seq,
            )?;
        }
        if fresh.services != stored.services {
            let sql = format!("SELECT {SERVICE_COLUMNS} FROM services");
            self.compare_table(
                &mut found,
                "services",
                &sql,
                service_from_row,
                &mut rebuilt.services,
                |r| r.updated_seq,
            )?;
        }
        if fresh.requests != stored.requests {
            let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests");
            self.compare_table(
                &mut found,
                "requests",
                &sql,
                request_from_row,
                &mut rebuilt.requests,
                |r| r.seq,
            )?;
        }
        if fresh.subjects != stored.subjects {
            found.push(Disagreement {
                seq: None,
                problem: format!(
                    "event_subjects (the history index) disagrees with the log: {} rows stored, the log gives {}",
                    stored.subjects.count, fresh.subjects.count
                ),
            });
        }
        found.sort_by_key(|d| d.seq.unwrap_or(i64::MAX));
        Ok(found)
    }

    /// Row by row: each stored row against the rebuilt one of its key (taken
    /// out of `rebuilt`); what is left in `rebuilt` is missing here.
    fn compare_table<T: PartialEq + std::fmt::Debug>(
        &self,
        found: &mut Vec<Disagreement>,
        table: &str,
        sql: &str,
        from_row: fn(&Row) -> rusqlite::Result<T>,
        rebuilt: &mut std::collections::HashMap<String, T>,
        seq_of: fn(&T) -> i64,
    ) -> Result<()> {
        let mut statement = self.conn.prepare(sql)?;
        let seq_column = statement.column_count() - 1;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let key: String = row
                .get(0)
                .unwrap_or_else(|_| format!("{:?}", row.get_ref(0).ok()));
            match from_row(row) {
                Ok(stored) => compare_row(found, table, &key, stored, rebuilt.remove(&key), seq_of),
                Err(error) => {
                    let seq = row.get::<_, i64>(seq_column).unwrap_or(1).max(1);
                    let rebuilt_row = rebuilt.remove(&key);
                    found.push(Disagreement {
                        seq: Some(rebuilt_row.as_ref().map_or(seq, seq_of).max(seq)),
                        problem: format!("{table} row {key} does not parse ({error}); the log gives {rebuilt_row:?}"),
                    });
                }
            }
        }
        for (key, row) in rebuilt.iter().take(DISAGREEMENTS_MAX) {
            found.push(Disagreement {
                seq: Some(seq_of(row).max(1)),
                problem: format!("{table} row {key} is missing; the log makes it"),
            });
        }
        Ok(())
    }
}
