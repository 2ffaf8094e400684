//! The derived tables on SQLite: writes of a `Change`, lists, the rules'
//! look-ups, and the stored rows as `verify` reads them back.

use super::rows::*;
use super::Sqlite;
use crate::domain::decide::Lookup;
use crate::domain::evolve::Change;
use crate::domain::names::service_key;
use crate::domain::regions::Region;
use crate::domain::types::*;
use crate::error::Result;
use crate::store::queries::{sqlite_spelling, List};
use crate::store::tables::Value;
use crate::store::tables::{decode, per_table, prefixed, table as declared, Encoded, RowResult};
use crate::store::{DerivedRows, DerivedTable, StoredRow, SubjectVisit, UnreadableRow};
use rusqlite::{params, OptionalExtension, Row};

/// `INSERT` of a row of `table` when its key is new (a bulk import's every
/// row: one statement). A request is only ever added: its insert fails on
/// a repeated id.
fn insert_sql(table: DerivedTable) -> String {
    let into = declared(table).insert_target(|n| format!("?{n}"));
    match table {
        DerivedTable::Requests => format!("INSERT {into}"),
        _ => format!("INSERT {into} ON CONFLICT DO NOTHING"),
    }
}

/// The replacement of a row of `table` whose key exists.
fn replace_sql(table: DerivedTable) -> String {
    format!(
        "INSERT OR REPLACE {}",
        declared(table).insert_target(|n| format!("?{n}"))
    )
}

impl Sqlite {
    /// Writes the row a `Change` encodes: inserted when its key is new,
    /// else replaced, the row it replaces kept first as a past version
    /// (`past.rs`); a removal keeps the row it removes.
    pub(super) fn put(&self, encoded: &Encoded) -> Result<()> {
        let Some(values) = &encoded.values else {
            return self.forget_service(encoded.key, encoded.seq);
        };
        static INSERTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        static REPLACES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let inserted = self
            .conn
            .prepare_cached(per_table(&INSERTS, encoded.table, insert_sql))?
            .execute(rusqlite::params_from_iter(values))?;
        if inserted == 1 {
            return Ok(());
        }
        self.supersede(encoded.table, encoded.key, encoded.seq)?;
        self.conn
            .prepare_cached(per_table(&REPLACES, encoded.table, replace_sql))?
            .execute(rusqlite::params_from_iter(values))?;
        Ok(())
    }

    fn forget_service(&self, service: &str, seq: i64) -> Result<()> {
        self.supersede(DerivedTable::Services, service, seq)?;
        let mut statement = self
            .conn
            .prepare_cached("DELETE FROM services WHERE service = ?1")?;
        statement.execute(params![service])?;
        Ok(())
    }

    /// The first column of every row of `sql`.
    fn texts(&self, sql: &str) -> Result<Vec<String>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        collect(rows)
    }

    /// One row by its key, or none.
    fn one<T>(
        &self,
        sql: &str,
        key: &str,
        from_row: impl Fn(&Row) -> RowResult<T>,
    ) -> Result<Option<T>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        Ok(statement
            .query_row(params![key], reader(from_row))
            .optional()?)
    }

    /// Every row of `sql` (no parameters) through `from_row`, streamed.
    fn each<T>(
        &self,
        sql: &str,
        from_row: impl Fn(&Row) -> RowResult<T>,
        visit: &mut dyn FnMut(T) -> Result<()>,
    ) -> Result<()> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query([])?;
        let from_row = reader(from_row);
        while let Some(row) = rows.next()? {
            visit(from_row(row)?)?;
        }
        Ok(())
    }

    /// Every stored row of one table, read back as its `Change`.
    fn each_stored(&self, table: DerivedTable, visit: &mut dyn FnMut(StoredRow)) -> Result<()> {
        let columns = declared(table).columns;
        let read = |row: &Row| decode(table, row, 0);
        let mut statement = self
            .conn
            .prepare(&format!("SELECT {columns} FROM {}", table.name()))?;
        let seq_column = statement.column_count() - 1;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            visit(read(row).map_err(|error| {
                UnreadableRow {
                    key: row
                        .get(0)
                        .unwrap_or_else(|_| format!("{:?}", row.get_ref(0).ok())),
                    seq: row.get::<_, i64>(seq_column).unwrap_or(1).max(1),
                    error,
                }
            }));
        }
        Ok(())
    }
}

impl DerivedRows for Sqlite {
    fn list(&self, list: List, params: &[Value]) -> Result<Vec<Change>> {
        static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let mut statement = self
            .conn
            .prepare_cached(list.statement(&TEXTS, sqlite_spelling))?;
        let table = list.table();
        let rows = statement.query_map(
            rusqlite::params_from_iter(params),
            reader(|row| decode(table, row, 0)),
        )?;
        collect(rows)
    }

    fn each_instance(&self, visit: &mut dyn FnMut(Instance) -> Result<()>) -> Result<()> {
        let sql = format!("SELECT {INSTANCE_COLUMNS} FROM instances ORDER BY instance_id");
        self.each(&sql, |row| record_at::<Instance>(row, 0), visit)
    }

    fn each_number(&self, visit: &mut dyn FnMut(NumberRecord) -> Result<()>) -> Result<()> {
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers ORDER BY instance_id, issued_seq, number"
        );
        self.each(&sql, |row| record_at::<NumberRecord>(row, 0), visit)
    }

    fn each_number_folded(
        &self,
        visit: &mut dyn FnMut(NumberRecord, Option<Instance>) -> Result<()>,
    ) -> Result<()> {
        // The NOCASE index gives the folded order; the instance is found by
        // its primary key.
        let columns = prefixed("i", INSTANCE_COLUMNS);
        let numbers = prefixed("n", NUMBER_COLUMNS);
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {numbers}, {columns} FROM numbers n LEFT JOIN instances i ON i.instance_id = n.instance_id
             ORDER BY n.number COLLATE NOCASE"
        ))?;
        let base = declared(DerivedTable::Numbers).width();
        let mut rows = statement.query([])?;
        let (number_at, instance_at) = (
            reader(|row| record_at::<NumberRecord>(row, 0)),
            reader(|row| record_at::<Instance>(row, base)),
        );
        while let Some(row) = rows.next()? {
            let number = number_at(row)?;
            let instance = match row.get_ref(base)? {
                rusqlite::types::ValueRef::Null => None,
                _ => Some(instance_at(row)?),
            };
            visit(number, instance)?;
        }
        Ok(())
    }

    fn each_stored_row(&self, table: DerivedTable, visit: &mut dyn FnMut(StoredRow)) -> Result<()> {
        self.each_stored(table, visit)
    }

    fn each_past_row(
        &self,
        table: DerivedTable,
        visit: &mut dyn FnMut(Option<(Change, i64)>),
    ) -> Result<()> {
        self.each_past(table, visit)
    }

    fn each_subject_row(&self, visit: &mut SubjectVisit) -> Result<()> {
        let mut statement = self
            .conn
            .prepare("SELECT subject, seq FROM event_subjects")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let subject = row.get_ref(0)?.as_str().ok();
            let seq = row.get_ref(1)?.as_i64().ok();
            visit(subject.zip(seq));
        }
        Ok(())
    }
}

/// Instances and numbers whatever the ASCII case of the id (the `NOCASE`
/// indexes), a service by its key; the row spelled exactly as asked first
/// (only an older ledger can hold two spellings of one thing).
impl Lookup for Sqlite {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>> {
        let sql = format!(
            "SELECT {INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?1 COLLATE NOCASE
             ORDER BY instance_id = ?1 DESC LIMIT 1"
        );
        self.one(&sql, instance_id, |row| record_at::<Instance>(row, 0))
    }

    fn number(&self, number: &str) -> Result<Option<NumberRecord>> {
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE number = ?1 COLLATE NOCASE
             ORDER BY number = ?1 DESC LIMIT 1"
        );
        self.one(&sql, number, |row| record_at::<NumberRecord>(row, 0))
    }

    fn service(&self, service: &str) -> Result<Option<ServiceRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {SERVICE_COLUMNS} FROM services WHERE service_key = ?1
             ORDER BY service = ?2 DESC LIMIT 1"
        ))?;
        let key = service_key(service);
        Ok(statement
            .query_row(params![key, service], reader(|row| service_at(row, 0)))
            .optional()?)
    }

    fn live_number_with_icp(&self, icp_number: &str) -> Result<Option<NumberRecord>> {
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers
             WHERE icp_number = ?1 AND status IN ('bound', 'filing', 'filed') LIMIT 1"
        );
        self.one(&sql, icp_number, |row| record_at::<NumberRecord>(row, 0))
    }

    fn policy(&self, service_type: &str) -> Result<Option<Policy>> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM policy WHERE service_type = ?1");
        self.one(&sql, service_type, |row| record_at::<Policy>(row, 0))
    }

    fn request(&self, request_id: &str) -> Result<Option<RequestRecord>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE request_id = ?1");
        self.one(&sql, request_id, |row| record_at::<RequestRecord>(row, 0))
    }

    fn region(&self, region_id: &str) -> Result<Option<Region>> {
        let sql = format!("SELECT {REGION_COLUMNS} FROM regions WHERE region_id = ?1");
        self.one(&sql, region_id, |row| record_at::<Region>(row, 0))
    }

    fn region_ids(&self) -> Result<Vec<String>> {
        self.texts("SELECT region_id FROM regions ORDER BY region_id")
    }

    fn service_types(&self) -> Result<Vec<String>> {
        self.texts("SELECT service_type FROM policy ORDER BY service_type")
    }
}
