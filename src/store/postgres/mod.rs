//! The PostgreSQL backend (SPEC §4): connecting (`connect.rs`), the schema
//! and its migrations, `init` with the writer and reader roles, and
//! transactions. A write transaction locks the one-row chain head before
//! the rules read anything, and buffers what it writes (`overlay.rs`) so
//! that bulk imports reach the server as `COPY`; the log is in `log.rs`,
//! the derived tables in `derived.rs`, row mapping in `rows.rs`.

mod catalog;
mod connect;
mod derived;
mod log;
mod overlay;
mod rows;

use super::{ConsistencyJob, Database, Head};
use crate::domain::evolve::Change;
use crate::domain::names::service_key;
use crate::error::{Error, Result};
use overlay::Overlay;
use postgres::types::ToSql;
use postgres::{Client, Row, Statement};
use std::cell::RefCell;
use std::collections::HashMap;

pub(super) use connect::{is_url, redact};

use super::migrations::POSTGRES as MIGRATIONS;
const GRANTS: &str = include_str!("../../../migrations/postgres/grants.sql");

impl From<postgres::Error> for Error {
    fn from(error: postgres::Error) -> Error {
        let code = error.code().map(|code| code.code().to_string());
        match code.as_deref() {
            Some("40001" | "40P01") => Error::Conflict(format!(
                "PostgreSQL: another writer conflicted: {}",
                describe(&error)
            )),
            // The chain triggers of migrations 7 and 8 refused an event
            // (SPEC §4): the event is the defect, not the storage. They
            // raise 23000, or 42501 for an actor other than the session's;
            // their messages start "snledger: " (a plain permission denial
            // stays a storage error).
            Some("23000" | "42501")
                if error
                    .as_db_error()
                    .is_some_and(|db| db.message().starts_with("snledger: ")) =>
            {
                Error::Integrity(format!("PostgreSQL: {}", describe(&error)))
            }
            _ => Error::Storage(format!("PostgreSQL: {}", describe(&error))),
        }
    }
}

/// The server's message (and detail) rather than the driver's "db error".
pub(super) fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            text
        }
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                let more = cause.to_string();
                if !text.contains(&more) {
                    text.push_str(&format!(": {more}"));
                }
                source = cause.source();
            }
            text
        }
    }
}

pub(super) struct Postgres {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    /// What a write transaction has written and not yet sent; `None`
    /// outside one.
    overlay: RefCell<Option<Overlay>>,
    session_user: String,
}

impl Postgres {
    /// Opens the ledger at `url`: `None` when the database has no schema.
    pub(super) fn open_existing(url: &str) -> Result<Option<Postgres>> {
        let store = Postgres::connect(url)?;
        let version = store.schema_version()?;
        let Some(version) = version else {
            return Ok(None);
        };
        store.check_version(version)?;
        Ok(Some(store))
    }

    /// Opens the ledger for a write: a database without the schema is not
    /// found (exit 3): only `init` creates it.
    pub(super) fn open(url: &str) -> Result<Postgres> {
        Postgres::open_existing(url)?.ok_or_else(|| not_initialised(url))
    }

    /// `init`: the roles, the schema and its migrations, the grants.
    /// Another `init` may run at the same moment: a lost race to create the
    /// schema is tried once more.
    pub(super) fn init(url: &str) -> Result<Postgres> {
        let store = Postgres::connect(url)?;
        // A database at this program's version needs nothing (and a writer,
        // who may not change the schema, may run `init` on it).
        if store.schema_version()? == Some(super::SCHEMA_VERSION) {
            return Ok(store);
        }
        match store.create_or_upgrade() {
            Err(Error::Storage(_) | Error::Conflict(_)) => {
                crate::store::retry::backoff(1);
                store.create_or_upgrade()?;
            }
            other => other?,
        }
        Ok(store)
    }

    fn connect(url: &str) -> Result<Postgres> {
        let target = connect::parse(url)?;
        let mut client = target.connect()?;
        let session_user: String = client
            .query_one("SELECT session_user::text", &[])
            .map_err(|error| {
                Error::storage(format!(
                    "PostgreSQL at {}: {}",
                    target.shown,
                    describe(&error)
                ))
            })?
            .get(0);
        Ok(Postgres {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            overlay: RefCell::new(None),
            session_user,
        })
    }

    fn schema_version(&self) -> Result<Option<i64>> {
        let exists: bool = self
            .query_one("SELECT to_regclass('snledger_schema') IS NOT NULL", &[])?
            .get(0);
        if !exists {
            return Ok(None);
        }
        let row = self.query_opt("SELECT max(version)::bigint FROM snledger_schema", &[])?;
        Ok(row.and_then(|row| row.get::<_, Option<i64>>(0)))
    }

    fn check_version(&self, version: i64) -> Result<()> {
        let program = super::SCHEMA_VERSION;
        if version > program {
            return Err(Error::storage(format!(
                "the database has schema version {version}, newer than this program's {program}: upgrade snledger"
            )));
        }
        if version < program {
            return Err(Error::storage(format!(
                "the database has schema version {version}, older than this program's {program}: run `snledger init` as its owner to upgrade it"
            )));
        }
        Ok(())
    }

    /// One transaction: the group roles when absent, every migration the
    /// database lacks (the first one is the schema), the seed rows, the
    /// grants.
    fn create_or_upgrade(&self) -> Result<()> {
        self.batch("BEGIN")?;
        let done = self.create_roles().and_then(|()| self.migrate());
        match done {
            Ok(()) => self.batch("COMMIT"),
            Err(error) => {
                let _ = self.batch("ROLLBACK");
                Err(error)
            }
        }
    }

    fn create_roles(&self) -> Result<()> {
        for role in ["snledger_writer", "snledger_reader"] {
            let exists: bool = self
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)",
                    &[&role],
                )?
                .get(0);
            if !exists {
                // A role name is an identifier, not a parameter; these two
                // are constants.
                self.batch(&format!("CREATE ROLE {role} NOLOGIN"))?;
            }
        }
        Ok(())
    }

    fn migrate(&self) -> Result<()> {
        let version = match self.schema_version()? {
            Some(version) => {
                self.batch("LOCK TABLE snledger_schema IN ACCESS EXCLUSIVE MODE")?;
                self.schema_version()?.unwrap_or(version)
            }
            None => 0,
        };
        self.check_newer(version)?;
        let mut missing_past = Vec::new();
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            let target = index as i64 + 1;
            if target <= version {
                continue;
            }
            if target == crate::store::shared::PAST_FROM_THE_START {
                missing_past = self.missing_past()?;
            }
            self.batch(migration)?;
        }
        // Rows the program writes go in once every migration has run: they
        // have the columns of its records, which a later migration may add.
        self.add_past(&missing_past)?;
        for seed in crate::store::shared::seeds(version) {
            self.write_direct(&seed)?;
        }
        if version >= 1 {
            self.fill_service_keys()?;
        }
        self.execute(
            "UPDATE snledger_schema SET version = $1",
            &[&super::SCHEMA_VERSION],
        )?;
        self.batch(GRANTS)
    }

    fn check_newer(&self, version: i64) -> Result<()> {
        if version > super::SCHEMA_VERSION {
            return self.check_version(version);
        }
        Ok(())
    }

    /// The key of every service that has none yet (a database upgraded
    /// from version 2): NFKC case folding is not SQL.
    fn fill_service_keys(&self) -> Result<()> {
        let rows = self.query("SELECT service FROM services WHERE service_key = ''", &[])?;
        for row in rows {
            let service: String = row.get(0);
            self.execute(
                "UPDATE services SET service_key = $1 WHERE service = $2",
                &[&service_key(&service), &service],
            )?;
        }
        Ok(())
    }

    /// Before migration 10: the past versions of the events before the seq
    /// a ledger kept them from (`shared::past_versions_up_to`).
    fn missing_past(&self) -> Result<Vec<(Change, i64)>> {
        let kept_since: i64 = self
            .query_one("SELECT seq FROM past_kept_since", &[])?
            .get(0);
        crate::store::shared::past_versions_up_to(self, kept_since)
    }

    /// The server's clock, to the second, as the log spells times.
    pub(super) fn server_time(&self) -> Result<String> {
        Ok(self
            .query_one(
                "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                &[],
            )?
            .get(0))
    }

    // ---- statements: prepared once per connection, parameters bound ----

    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.borrow_mut().prepare(sql)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.borrow_mut().query(&statement, params)?)
    }

    fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        let statement = self.statement(sql)?;
        Ok(self.client.borrow_mut().query_one(&statement, params)?)
    }

    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.borrow_mut().query_opt(&statement, params)?)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let statement = self.statement(sql)?;
        Ok(self.client.borrow_mut().execute(&statement, params)?)
    }

    fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    /// Sends what the open write transaction has buffered (before any read
    /// that is not one of the rules' look-ups, and at commit).
    fn flush(&self) -> Result<()> {
        let mut overlay = self.overlay.borrow_mut();
        match overlay.as_mut() {
            Some(overlay) if overlay.is_dirty() => self.send(overlay),
            _ => Ok(()),
        }
    }

    /// Takes the chain head's lock, then reads the head from the log.
    fn lock_head(&self) -> Result<Option<Head>> {
        self.query_one("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE", &[])?;
        self.last_event_head()
    }

    /// The head as the log itself says: its last event.
    fn last_event_head(&self) -> Result<Option<Head>> {
        // The chain head says how far the log goes: a session that sees
        // less (a row-level security policy hiding events, SPEC v3 §4 "The
        // catalog check is complete") must not pass an old head off as the
        // whole log.
        let row = self.query_opt(
            "SELECT e.seq, e.hash, e.at, h.seq FROM chain_head h
             LEFT JOIN LATERAL (SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1) e ON true
             WHERE h.id = 1",
            &[],
        )?;
        let Some(row) = row else {
            return Err(Error::Integrity(
                "PostgreSQL: the chain head row is missing".to_string(),
            ));
        };
        let seen: Option<i64> = row.get(0);
        let said: i64 = row.get(3);
        if seen.unwrap_or(0) != said {
            return Err(Error::Integrity(format!(
                "PostgreSQL: this session sees the log up to seq {} but the chain head says seq {said} \
                 (a row-level security policy or a missing event hides part of the log)",
                seen.unwrap_or(0)
            )));
        }
        Ok(seen.map(|seq| Head {
            seq,
            hash: row.get(1),
            at: row.get(2),
        }))
    }
}

fn not_initialised(url: &str) -> Error {
    let target = connect::parse(url).map(|target| target.shown);
    Error::not_found(format!(
        "no ledger in the PostgreSQL database at {}: create one with `snledger init`",
        target.unwrap_or_else(|_| redact(url))
    ))
}

pub(super) fn missing_ledger(url: &str) -> Error {
    not_initialised(url)
}

impl Database for Postgres {
    /// The views of `migrations/postgres/0005_past.sql` (reshaped in 0006) first in this
    /// session's search path, and the seq they cut at: every query after
    /// answers for the state after `seq` (ARCHITECTURE.md "--as-of: how a past state
    /// is answered").
    fn show_past(&self, seq: i64) -> Result<()> {
        self.query(
            "SELECT set_config('snledger.as_of_seq', $1, false),
                    set_config('search_path', 'snledger_past, ' || quote_ident(n.nspname), false)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.oid = to_regclass('events')",
            &[&seq.to_string()],
        )?;
        Ok(())
    }

    /// One snapshot for every query of the read.
    fn begin_read(&self) -> Result<()> {
        self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }

    fn commit(&self) -> Result<()> {
        self.flush()?;
        *self.overlay.borrow_mut() = None;
        self.batch("COMMIT")
    }

    fn rollback(&self) {
        *self.overlay.borrow_mut() = None;
        let _ = self.batch("ROLLBACK");
    }

    fn storage_problems(&self) -> Result<Vec<String>> {
        self.flush()?;
        self.catalog_problems()
    }

    /// PostgreSQL keeps its own pages consistent; what the job checks is
    /// that every index of the schema is valid and ready (a failed
    /// `CREATE INDEX CONCURRENTLY` leaves one that is not) and that the
    /// chain head row is there.
    fn consistency_job(&self) -> ConsistencyJob {
        let problems = self.flush().and_then(|()| self.index_problems());
        Box::new(move || problems)
    }

    fn session_user(&self) -> Option<String> {
        Some(self.session_user.clone())
    }

    fn server_time(&self) -> Result<Option<String>> {
        Ok(Some(Postgres::server_time(self)?))
    }
}
