//! The store: the one interface between the program and a database. The
//! rules, the commands and verify see only `Store`; each backend (SQLite in
//! `sqlite/`, PostgreSQL in `postgres/`) implements `Backend` and alone
//! speaks SQL. Every
//! statement is prepared with bound parameters; nothing from input is ever
//! formatted into SQL text.

mod migrations;
mod postgres;
pub(crate) mod queries;
pub(crate) mod shared;
mod sqlite;
pub(crate) mod tables;

use crate::domain::decide::Lookup;
use crate::domain::event::Event;
use crate::domain::evolve::Change;
use crate::domain::regions::Region;
use crate::domain::types::*;
use crate::error::Result;
use queries::{prefix_params, records, text, List};
use std::path::Path;
use tables::Value;

pub(crate) mod retry;
mod search;

pub use migrations::SCHEMA_VERSION;
/// The pragmas set on every SQLite connection (`sqlite::Sqlite::tune`).
pub use sqlite::CONNECTION_PRAGMAS;

/// The head of the chain: what the next event links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub seq: i64,
    pub hash: String,
    pub at: String,
}

/// One row of the log borrowed from the database's buffers (no copies),
/// for the chain check of `verify`. A value that is not text reads as ""
/// and is named in `wrong_type`.
pub(crate) struct EventRef<'a> {
    /// The first column whose stored value is not of its type, if any.
    pub wrong_type: Option<&'static str>,
    pub seq: i64,
    pub event_id: &'a str,
    pub at: &'a str,
    pub actor: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

/// Which events `each_event` visits: those naming `subject` and/or of
/// `kind`, with seq in `from_seq..=to_seq`.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventFilter {
    pub subject: Option<String>,
    pub kind: Option<String>,
    pub from_seq: i64,
    pub to_seq: i64,
    /// Only events this actor wrote (`history --by`).
    pub actor: Option<String>,
}

impl EventFilter {
    pub(crate) fn all() -> EventFilter {
        EventFilter {
            subject: None,
            kind: None,
            from_seq: i64::MIN,
            to_seq: i64::MAX,
            actor: None,
        }
    }
}

/// The derived tables, as `verify` reads them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DerivedTable {
    Policy,
    Instances,
    Numbers,
    Services,
    Requests,
    Regions,
}

// `ALL` lists the tables in their declaration order, so `index` is a place in it.
const _: () = {
    let mut place = 0;
    while place < DerivedTable::ALL.len() {
        assert!(DerivedTable::ALL[place] as usize == place);
        place += 1;
    }
};

impl DerivedTable {
    pub(crate) const ALL: [DerivedTable; 6] = [
        DerivedTable::Policy,
        DerivedTable::Instances,
        DerivedTable::Numbers,
        DerivedTable::Services,
        DerivedTable::Requests,
        DerivedTable::Regions,
    ];

    /// The table's place in `ALL` (and in `tables::TABLES`).
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Does the table keep past versions? Every one but requests, which
    /// are only ever added (`evolve::is_superseded`).
    pub(crate) fn keeps_past(self) -> bool {
        self != DerivedTable::Requests
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            DerivedTable::Policy => "policy",
            DerivedTable::Instances => "instances",
            DerivedTable::Numbers => "numbers",
            DerivedTable::Services => "services",
            DerivedTable::Requests => "requests",
            DerivedTable::Regions => "regions",
        }
    }
}

/// A stored derived row that does not read back as its record (edited
/// outside the program): its key, its stated seq, and why.
#[derive(Debug, Clone)]
pub(crate) struct UnreadableRow {
    pub key: String,
    pub seq: i64,
    pub error: String,
}

/// A check that runs on a connection of its own: the problems it found.
pub(crate) type ConsistencyJob = Box<dyn FnOnce() -> Result<Vec<String>> + Send>;

/// Visits one history index row: (subject, seq), `None` where unreadable.
pub(crate) type SubjectVisit<'a> = dyn FnMut(Option<(&str, i64)>) + 'a;

/// A stored derived row: the record (as the `Change` that would write it),
/// or why it cannot be read.
pub(crate) type StoredRow = std::result::Result<Change, UnreadableRow>;

/// What a database must do for the ledger, in four parts: the database
/// itself (transactions, its schema), the log, and the derived tables,
/// which a read needs (`Reader`), and the writes (`Writes`), which only a
/// `Store` offers.
pub(crate) trait Database {
    fn begin_read(&self) -> Result<()>;
    fn commit(&self) -> Result<()>;
    fn rollback(&self);
    /// What is wrong with the schema: every table, index and trigger that
    /// is missing, altered or extra against the schema the program creates.
    fn storage_problems(&self) -> Result<Vec<String>>;
    /// The database's own consistency check, as a job for another thread
    /// (it reads the whole file; verify runs it beside the replay).
    fn consistency_job(&self) -> ConsistencyJob;
    /// The authenticated database role, where the database has one
    /// (PostgreSQL's `session_user`): then it is the actor of every event.
    fn session_user(&self) -> Option<String> {
        None
    }
    /// The database server's clock (RFC 3339, seconds), where it has one.
    fn server_time(&self) -> Result<Option<String>> {
        Ok(None)
    }
    /// Makes this store a read-only view of the state after event `seq`,
    /// answered from the past versions it keeps (ARCHITECTURE.md "--as-of: how a
    /// past state is answered").
    fn show_past(&self, seq: i64) -> Result<()>;
}

/// The log: appends, the head, iteration and filters.
pub(crate) trait Log {
    fn head(&self) -> Result<Option<Head>>;
    fn event_count(&self) -> Result<i64>;
    fn event_at(&self, seq: i64) -> Result<Option<String>>;
    fn count_kind(&self, kind: &str) -> Result<u64>;
    fn repeated_event_id(&self) -> Result<Option<(String, i64, i64)>>;
    fn each_event(
        &self,
        filter: &EventFilter,
        visit: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()>;
    fn each_event_ref(&self, visit: &mut dyn FnMut(&EventRef) -> Result<()>) -> Result<()>;
}

/// The derived tables: lists, and (for verify) every stored row as it
/// reads back.
pub(crate) trait DerivedRows {
    /// The rows of `list` with `params`, in the list's order, read back as
    /// `Change`s of its table (`queries.rs`, one statement for both backends).
    fn list(&self, list: List, params: &[Value]) -> Result<Vec<Change>>;
    fn each_instance(&self, visit: &mut dyn FnMut(Instance) -> Result<()>) -> Result<()>;
    fn each_number(&self, visit: &mut dyn FnMut(NumberRecord) -> Result<()>) -> Result<()>;
    /// Every number in the order of its ASCII-lowercased spelling (ties in
    /// any order), each with its instance (`None` if the instance is not
    /// in the ledger), without holding them all (`reconcile`).
    fn each_number_folded(
        &self,
        visit: &mut dyn FnMut(NumberRecord, Option<Instance>) -> Result<()>,
    ) -> Result<()>;
    fn instances(
        &self,
        account: Option<&str>,
        service_type: Option<&str>,
    ) -> Result<Vec<Instance>> {
        let params = [text(account), text(service_type)];
        Ok(records(self.list(List::Instances, &params)?))
    }
    fn numbers_of(&self, instance_id: &str) -> Result<Vec<NumberRecord>> {
        Ok(records(
            self.list(List::NumbersOf, &[text(Some(instance_id))])?,
        ))
    }
    fn numbers(
        &self,
        instance_id: Option<&str>,
        account: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<NumberRecord>> {
        let params = [text(instance_id), text(account), text(status)];
        Ok(records(self.list(List::Numbers, &params)?))
    }
    fn services(&self, instance_id: Option<&str>) -> Result<Vec<ServiceRecord>> {
        Ok(records(self.list(List::Services, &[text(instance_id)])?))
    }
    fn policies(&self) -> Result<Vec<Policy>> {
        Ok(records(self.list(List::Policies, &[])?))
    }
    fn regions(&self) -> Result<Vec<Region>> {
        Ok(records(self.list(List::Regions, &[])?))
    }
    /// At most `limit` numbers that begin with `prefix`, in number order
    /// (a range of the primary key).
    fn numbers_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<NumberRecord>> {
        match prefix_params(prefix, limit) {
            Some(params) => Ok(records(self.list(List::NumbersWithPrefix, &params)?)),
            None => Ok(Vec::new()),
        }
    }
    /// The numbers that carry this ICP number.
    fn numbers_with_icp_number(&self, icp_number: &str) -> Result<Vec<NumberRecord>> {
        let params = [text(Some(icp_number))];
        Ok(records(self.list(List::NumbersWithIcpNumber, &params)?))
    }
    fn each_stored_row(&self, table: DerivedTable, visit: &mut dyn FnMut(StoredRow)) -> Result<()>;
    /// Every history index row, `None` for one that does not read as text
    /// and a seq.
    fn each_subject_row(&self, visit: &mut SubjectVisit) -> Result<()>;
    /// Every stored past version of `table` with the seq that superseded
    /// it, `None` for one that does not read back.
    fn each_past_row(
        &self,
        _table: DerivedTable,
        _visit: &mut dyn FnMut(Option<(Change, i64)>),
    ) -> Result<()> {
        Ok(())
    }
}

/// The writes: an event onto the log with its history index rows, and the
/// derived rows of a `Change`. Transactions are explicit: `begin_write`
/// takes the write lock before the rules read anything.
pub(crate) trait Writes {
    fn begin_write(&self) -> Result<()>;
    fn append(&self, event: &Event, subjects: &[String]) -> Result<()>;
    fn add_subjects(&self, seq: i64, subjects: &[String]) -> Result<()>;
    fn write(&self, change: &Change) -> Result<()>;
}

/// What a read needs: everything but the writes, and the rules' look-ups.
pub(crate) trait Reader: Database + Log + DerivedRows + Lookup {}
impl<T: Database + Log + DerivedRows + Lookup + ?Sized> Reader for T {}

/// A backend is a reader that writes.
pub(crate) trait Backend: Reader + Writes {}
impl<T: Reader + Writes> Backend for T {}

/// `--db` naming a PostgreSQL database (`postgres://…`, `postgresql://…`).
fn postgres_url(path: &Path) -> Option<&str> {
    path.to_str().filter(|text| postgres::is_url(text))
}

/// An open ledger on some backend. It derefs to the backend, so the
/// interface is the traits above (no forwarding layer); what it adds is
/// opening by `--db`, transactions as guards, and searches of the log by
/// time built on the traits.
pub(crate) struct Store {
    backend: Box<dyn Backend>,
}

impl std::ops::Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &(dyn Backend + 'static) {
        &*self.backend
    }
}

/// Rolls back an open transaction unless it was committed, so an early
/// return (`?`) never leaves half a command behind.
pub(crate) struct Transaction<'a> {
    store: &'a Store,
    done: bool,
}

/// A ledger opened to be read: the live state, or (`View::past`) the state
/// after one event. It derefs to `Reader` alone, so nothing writes through
/// it (a past view answers one moment, and the live tables are not it).
pub(crate) struct View {
    store: Store,
}

impl std::ops::Deref for View {
    type Target = dyn Reader;

    fn deref(&self) -> &(dyn Reader + 'static) {
        &*self.store.backend
    }
}

impl View {
    pub(crate) fn live(store: Store) -> View {
        View { store }
    }

    /// The state after event `seq`, from the past versions the store keeps
    /// (ARCHITECTURE.md "--as-of: how a past state is answered").
    pub(crate) fn past(store: Store, seq: i64) -> Result<View> {
        store.show_past(seq)?;
        Ok(View { store })
    }

    /// The view as the rules read it.
    pub(crate) fn lookup(&self) -> &dyn Lookup {
        self.store.lookup()
    }

    /// A read transaction: a consistent snapshot for multi-query reads.
    pub(crate) fn begin_read(&self) -> Result<Transaction<'_>> {
        self.store.begin_read()
    }
}

impl Transaction<'_> {
    pub(crate) fn commit(mut self) -> Result<()> {
        self.done = true;
        self.store.backend.commit()
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.store.backend.rollback();
        }
    }
}

impl Store {
    /// The store as the rules read it.
    pub(crate) fn lookup(&self) -> &dyn Lookup {
        &*self.backend
    }

    /// Opens the ledger at `path` for a write: a SQLite file is created
    /// (mode 0600, schema, default policy) if it does not exist or is an
    /// empty database; a PostgreSQL database (`postgres://…`) must have
    /// been made by `init` (else not found, exit 3).
    pub(crate) fn open(path: &Path) -> Result<Store> {
        let backend: Box<dyn Backend> = match postgres_url(path) {
            Some(url) => Box::new(postgres::Postgres::open(url)?),
            None => Box::new(sqlite::Sqlite::open(path)?),
        };
        Ok(Store { backend })
    }

    /// As `open`, and whether this process created the ledger's file (a
    /// new SQLite file, removed again if the command fails: `discard_new`).
    pub(crate) fn open_creating(path: &Path) -> Result<(Store, bool)> {
        if postgres_url(path).is_some() {
            return Ok((Store::open(path)?, false));
        }
        let backend = sqlite::Sqlite::open(path)?;
        let created = backend.created();
        Ok((
            Store {
                backend: Box::new(backend),
            },
            created,
        ))
    }

    /// Removes a new SQLite ledger that holds no event (a failed command or
    /// a dry run created it).
    pub(crate) fn discard_new(path: &Path) -> Result<()> {
        sqlite::discard_if_empty(path)
    }

    /// `init`: as `open`, and on PostgreSQL creates (or upgrades) the
    /// schema and the writer and reader roles.
    pub(crate) fn init(path: &Path) -> Result<Store> {
        match postgres_url(path) {
            Some(url) => Ok(Store {
                backend: Box::new(postgres::Postgres::init(url)?),
            }),
            None => Store::open(path),
        }
    }

    /// Opens the ledger at `path` for a read, creating nothing: `None` when
    /// there is no ledger there yet (no file, an empty database that no
    /// write has filled, a PostgreSQL database without the schema).
    pub(crate) fn open_existing(path: &Path) -> Result<Option<Store>> {
        if let Some(url) = postgres_url(path) {
            return Ok(
                postgres::Postgres::open_existing(url)?.map(|backend| Store {
                    backend: Box::new(backend),
                }),
            );
        }
        Ok(sqlite::Sqlite::open_existing(path)?.map(|backend| Store {
            backend: Box::new(backend),
        }))
    }

    /// How `--db` is shown: a PostgreSQL URL without its password.
    pub(crate) fn shown(path: &Path) -> String {
        match postgres_url(path) {
            Some(url) => postgres::redact(url),
            None => crate::files::shown_path(path).to_string(),
        }
    }

    /// What to say when there is no ledger at `path` (exit 3).
    pub(crate) fn missing(path: &Path) -> crate::error::Error {
        match postgres_url(path) {
            Some(url) => postgres::missing_ledger(url),
            None => crate::error::Error::not_found(format!(
                "no ledger at {}: create one with `snledger init`",
                crate::files::shown_path(path)
            )),
        }
    }

    /// A write transaction: takes the write lock now (waiting up to the
    /// busy timeout), so the state read by the rules cannot change before
    /// commit.
    pub(crate) fn begin(&self) -> Result<Transaction<'_>> {
        self.backend.begin_write()?;
        Ok(Transaction {
            store: self,
            done: false,
        })
    }

    /// A read transaction: a consistent snapshot for multi-query reads.
    pub(crate) fn begin_read(&self) -> Result<Transaction<'_>> {
        self.backend.begin_read()?;
        Ok(Transaction {
            store: self,
            done: false,
        })
    }
}
