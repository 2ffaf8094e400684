//! The SQLite backend: opening and creating a ledger file, its pragmas,
//! transactions and schema migrations. The log is in `log.rs`, the derived
//! tables in `derived.rs`, row mapping in `rows.rs`.

mod derived;
mod log;
mod past;
mod rows;

use super::shared::PAST_FROM_THE_START;
use super::{ConsistencyJob, Database, Writes, SCHEMA_VERSION};
use crate::domain::names::service_key;
use crate::error::{Error, Result};
use crate::files::create_private_file;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

use super::migrations::SQLITE as MIGRATIONS;
/// The pragmas set on every connection (`Sqlite::tune`).
pub const CONNECTION_PRAGMAS: &str = "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;";
/// `PRAGMA application_id` of a ledger ("SNLG"): tells a ledger from any
/// other SQLite file.
const APPLICATION_ID: i64 = 0x534E_4C47;
/// How long a writer waits for another one before giving up (exit 6).
pub(super) const BUSY_TIMEOUT_MS: u64 = 10_000;

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Storage(format!(
                "the ledger is locked by another process (waited up to {} s): {error}",
                BUSY_TIMEOUT_MS / 1000
            )),
            Some(ErrorCode::NotADatabase) => Error::Storage(format!("not a ledger: {error}")),
            // The file's pages do not hold what SQLite wrote (SPEC §3.1):
            // an integrity failure, whatever the command.
            Some(ErrorCode::DatabaseCorrupt) => Error::Integrity(format!(
                "{} ({error}): run `snledger verify` for the database's own findings, and restore from a copy",
                crate::error::CORRUPT
            )),
            _ => Error::Storage(format!("storage: {error}")),
        }
    }
}

pub(super) struct Sqlite {
    conn: Connection,
    /// The moment this connection shows, once `show_past` made it a view
    /// of the past (then it is never written).
    past_seq: std::cell::Cell<Option<i64>>,
    /// The file and its inode when opened: a write commits only while the
    /// path still names that file (a new ledger a failed command created
    /// may be removed meanwhile, `discard_if_empty`).
    file: Option<(std::path::PathBuf, u64)>,
    /// Did this process create the file?
    created: bool,
}

/// A ledger is a regular file (or a link to one). SQLite would treat
/// /dev/null, a FIFO or a device as an empty database and write a journal
/// beside it (or block on a FIFO), so anything else is refused first.
fn refuse_special_file(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => Err(Error::storage(format!(
            "not a ledger: {} is not a regular file",
            crate::files::shown_path(path)
        ))),
        _ => Ok(()),
    }
}

/// "Not a database" from a file whose header says it is a snledger
/// ledger (SQLite's magic, our application id) is a damaged ledger: exit 5, not
/// the storage error of a file that never was one.
fn corrupt_if_sqlite_file(path: &Path, error: Error) -> Error {
    let Error::Storage(message) = &error else {
        return error;
    };
    // The SQLite magic, and snledger's application id at offset 68.
    let mut header = [0_u8; 72];
    let was_a_ledger = std::fs::File::open(path)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut header))
        .is_ok_and(|()| {
            &header[..16] == b"SQLite format 3\0"
                && header[68..72] == (APPLICATION_ID as u32).to_be_bytes()
        });
    // A ledger cut short reads as "malformed" when its schema page is gone.
    let unreadable = ["file is not a database", "database disk image is malformed"];
    if was_a_ledger && unreadable.iter().any(|why| message.contains(why)) {
        return Error::Integrity(format!(
            "{} ({message}): restore it from a copy",
            crate::error::CORRUPT
        ));
    }
    error
}

fn inode(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|metadata| metadata.ino())
}

/// Removes the ledger at `path` (and its -wal, -shm and -journal) that a
/// command which then failed, or a dry run, created: only when it holds
/// no event, checked under an exclusive lock (docs/reference.md "Guarantees": a
/// refused command creates nothing). A writer of another process that
/// opened it meanwhile finds at its commit that the file is gone.
pub(super) fn discard_if_empty(path: &Path) -> Result<()> {
    let Ok(store) = Sqlite::connect(path) else {
        return Ok(()); // already gone
    };
    store.conn.execute_batch("BEGIN EXCLUSIVE")?;
    let events: i64 = store
        .conn
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .unwrap_or(0);
    if events == 0 {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(&name);
        }
    }
    let _ = store.conn.execute_batch("ROLLBACK");
    Ok(())
}

fn is_missing(path: &Path) -> bool {
    matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

impl Sqlite {
    fn on(conn: Connection) -> Sqlite {
        Sqlite {
            conn,
            past_seq: std::cell::Cell::new(None),
            file: None,
            created: false,
        }
    }

    /// Opens the ledger at `path`, creating the file (mode 0600) and its
    /// schema when there is none yet.
    pub(super) fn open(path: &Path) -> Result<Sqlite> {
        refuse_special_file(path)?;
        Sqlite::open_creating(path).map_err(|error| corrupt_if_sqlite_file(path, error))
    }

    fn open_creating(path: &Path) -> Result<Sqlite> {
        let mut created = false;
        if !path.exists() {
            // Another process may create it at the same moment: fine.
            match create_private_file(path) {
                Ok(_) => created = true,
                Err(error) if !path.exists() => return Err(error),
                Err(_) => {}
            }
        }
        let mut store = Sqlite::connect(path)?;
        store.created = created;
        store.check_or_create(path, true)?;
        store.tune()?;
        Ok(store)
    }

    /// Opens the ledger at `path` without creating anything: `None` when no
    /// file is there or it is an empty database. SQLite is asked to open
    /// the file without its create flag, so a file removed in between is
    /// never made again.
    pub(super) fn open_existing(path: &Path) -> Result<Option<Sqlite>> {
        refuse_special_file(path)?;
        Sqlite::open_existing_file(path).map_err(|error| corrupt_if_sqlite_file(path, error))
    }

    fn open_existing_file(path: &Path) -> Result<Option<Sqlite>> {
        let store = match Sqlite::connect(path) {
            Ok(store) => store,
            // No file (or a dangling link): no ledger. Any other failure
            // (permissions, say) is a storage error.
            Err(_) if is_missing(path) => return Ok(None),
            Err(error) => return Err(error),
        };
        if !store.check_or_create(path, false)? {
            return Ok(None);
        }
        store.tune()?;
        Ok(Some(store))
    }

    /// A connection to the existing file at `path` (never creating it).
    fn connect(path: &Path) -> Result<Sqlite> {
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
        let conn = Connection::open_with_flags(path, flags).map_err(|e| {
            Error::storage(format!(
                "cannot open {}: {e}",
                crate::files::shown_path(path)
            ))
        })?;
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
        // Room for every statement the program prepares, so none is evicted
        // and re-prepared in a bulk loop.
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = Sqlite::on(conn);
        store.file = inode(path).map(|inode| (path.to_path_buf(), inode));
        Ok(store)
    }

    /// Was the file created by this process (`Store::open`)?
    pub(super) fn created(&self) -> bool {
        self.created
    }

    /// Sets `CONNECTION_PRAGMAS`.
    /// synchronous=NORMAL in WAL mode: a commit survives any process crash;
    /// only a power loss can drop the last commits, never corrupt.
    /// cache_size: 32 MiB of pages (allocated only as used) keeps a bulk
    /// import from spilling mid-transaction, within its 64 MiB budget.
    fn tune(&self) -> Result<()> {
        Ok(self.conn.execute_batch(CONNECTION_PRAGMAS)?)
    }

    /// A new ledger in memory: the schema `verify` compares a ledger's with.
    pub(super) fn scratch() -> Result<Sqlite> {
        let store = Sqlite::on(Connection::open_in_memory()?);
        store.migrate_from(0)?;
        Ok(store)
    }

    /// Switches a new file to WAL with 16 KiB pages (the log's rows are
    /// large; bulk imports write fewer, fuller pages), which takes effect
    /// only before the first write. Switching needs the database to itself,
    /// and SQLite does not wait for that: retry while another process
    /// creates the same file.
    fn switch_to_wal(&self) -> Result<()> {
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_millis(BUSY_TIMEOUT_MS);
        loop {
            let mode: String = self
                .conn
                .query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
            if mode.eq_ignore_ascii_case("wal") {
                return Ok(());
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
    }

    /// Creates the schema in a new, empty database. Several processes may
    /// create the same new file at once, and one may have died half way: the
    /// schema is written in one exclusive transaction that re-checks it.
    fn create(&self) -> Result<()> {
        self.switch_to_wal()?;
        self.upgrade()
    }

    /// Applies the migrations a ledger lacks, in one exclusive transaction
    /// that reads the version inside it (another process may be doing the
    /// same).
    fn upgrade(&self) -> Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let applied = self.migrate_from(version).and_then(|()| {
            Ok(self.conn.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
            ))?)
        });
        match applied {
            Ok(()) => Ok(self.conn.execute_batch("COMMIT")?),
            Err(error) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }

    /// Runs every migration after `version` (0: a new database, which also
    /// gets the default policy); migration 2 seeds the region table. Rows
    /// the program writes (seeds, migration 10's past versions) are written
    /// once every migration has run: they have the columns of the
    /// program's records, which a later migration may have added.
    fn migrate_from(&self, version: i64) -> Result<()> {
        let mut missing_past = Vec::new();
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            let target = index as i64 + 1;
            if target > version {
                if target == PAST_FROM_THE_START {
                    missing_past = self.missing_past()?;
                }
                self.conn.execute_batch(migration)?;
            }
        }
        self.add_past(missing_past)?;
        for seed in crate::store::shared::seeds(version) {
            self.write(&seed)?;
        }
        if version >= 1 {
            self.fill_service_keys()?;
        }
        Ok(())
    }

    /// The names migration adds `services.service_key` empty: the key is
    /// computed here (NFKC case folding is not SQL) for every row that has
    /// none yet, so an existing ledger upgrades in place.
    fn fill_service_keys(&self) -> Result<()> {
        let services: Vec<String> = {
            let mut statement = self
                .conn
                .prepare("SELECT service FROM services WHERE service_key = ''")?;
            let rows = statement.query_map([], |row| row.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut update = self
            .conn
            .prepare("UPDATE services SET service_key = ?1 WHERE service = ?2")?;
        for service in services {
            update.execute(rusqlite::params![service_key(&service), service])?;
        }
        Ok(())
    }

    /// One read of three values, no schema re-application on every start:
    /// a ledger is checked (and upgraded when older); an empty database
    /// (new, or left half-created by a process that died) gets the schema
    /// when `create` is set, else is reported as no ledger (false);
    /// anything else is refused.
    fn check_or_create(&self, path: &Path, create: bool) -> Result<bool> {
        let not_ledger = |why: String| {
            Error::storage(format!(
                "{} is not a snledger ledger: {why}",
                crate::files::shown_path(path)
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
            if !create {
                return Ok(false);
            }
            self.create()?;
            return Ok(true);
        }
        if application_id != APPLICATION_ID {
            return Err(not_ledger(format!("application id {application_id:#x}")));
        }
        if version > SCHEMA_VERSION {
            return Err(Error::storage(format!(
                "{} has schema version {version}, newer than this program's {SCHEMA_VERSION}: upgrade snledger",
                crate::files::shown_path(path)
            )));
        }
        if version < 1 {
            return Err(not_ledger(format!("schema version {version}")));
        }
        if version < SCHEMA_VERSION {
            self.upgrade()?;
        }
        Ok(true)
    }
}

impl Database for Sqlite {
    fn begin_read(&self) -> Result<()> {
        Ok(self.conn.execute_batch("BEGIN")?)
    }

    fn commit(&self) -> Result<()> {
        if let Some((path, opened)) = &self.file {
            if inode(path) != Some(*opened) {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(Error::storage(format!(
                    "the ledger {} was removed while this write waited: nothing was written; run it again",
                    crate::files::shown_path(path)
                )));
            }
        }
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn rollback(&self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    fn show_past(&self, seq: i64) -> Result<()> {
        Sqlite::show_past(self, seq)
    }

    /// The schema object by object against a fresh database made by the
    /// same migrations.
    fn storage_problems(&self) -> Result<Vec<String>> {
        let stored = schema_objects(&self.conn)?;
        let expected = schema_objects(&Sqlite::scratch()?.conn)?;
        Ok(crate::store::shared::schema_problems(&stored, &expected))
    }

    /// SQLite's own consistency check on a connection of its own, so that
    /// `verify` can run it beside the replay (it reads the whole file).
    fn consistency_job(&self) -> ConsistencyJob {
        let path = self.conn.path().unwrap_or("").to_string();
        Box::new(move || {
            if path.is_empty() {
                return Ok(Vec::new()); // an in-memory scratch ledger
            }
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = Connection::open_with_flags(&path, flags)?;
            conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
            quick_check(&conn)
        })
    }
}

/// Problems kept at most from SQLite's consistency check.
const QUICK_CHECK_MAX: usize = 20;

fn quick_check(conn: &Connection) -> Result<Vec<String>> {
    let mut statement = conn.prepare(&format!("PRAGMA quick_check({QUICK_CHECK_MAX})"))?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    let mut problems = Vec::new();
    for row in rows {
        let row = row?;
        if row != "ok" {
            problems.push(format!("the database's consistency check: {row}"));
        }
    }
    Ok(problems)
}

/// Every table, index, trigger and view by (type, name), with its SQL
/// (white space squeezed). SQLite's statistics tables are left out: an
/// operator's `ANALYZE` makes them.
fn schema_objects(conn: &Connection) -> Result<crate::store::shared::SchemaObjects> {
    let mut statement = conn.prepare(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            (row.get::<_, String>(0)?, row.get::<_, String>(1)?),
            squeeze(&row.get::<_, String>(2)?),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn squeeze(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}
