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
use crate::store::{DerivedRows, DerivedTable, StoredRow, SubjectVisit, UnreadableRow};
use rusqlite::{params, OptionalExtension, Row};

/// The two statements that write one derived row: its insert when the key
/// is new (a bulk import's every row: one statement), and its replacement.
macro_rules! row_sql {
    ($into:literal) => {
        RowSql {
            insert: concat!("INSERT ", $into, " ON CONFLICT DO NOTHING"),
            replace: concat!("INSERT OR REPLACE ", $into),
        }
    };
}

struct RowSql {
    insert: &'static str,
    replace: &'static str,
}

impl Sqlite {
    /// Writes a row of `table` for the event `seq`: inserted when `key` is
    /// new, else replaced, the row it replaces kept first as a past version
    /// (`past.rs`).
    fn put(
        &self,
        table: DerivedTable,
        sql: RowSql,
        key: &str,
        seq: i64,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<()> {
        if self.conn.prepare_cached(sql.insert)?.execute(values)? == 1 {
            return Ok(());
        }
        if self.keeps_past {
            self.supersede(table, key, seq)?;
        }
        self.conn.prepare_cached(sql.replace)?.execute(values)?;
        Ok(())
    }

    fn write_instance(&self, r: &Instance) -> Result<()> {
        let sql = row_sql!("INTO instances (instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        self.put(
            DerivedTable::Instances,
            sql,
            &r.instance_id,
            r.updated_seq,
            params![
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
            ],
        )
    }

    fn write_number(&self, r: &NumberRecord) -> Result<()> {
        let sql = row_sql!("INTO numbers (number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
        self.put(
            DerivedTable::Numbers,
            sql,
            &r.number,
            r.updated_seq,
            params![
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
            ],
        )
    }

    fn write_service(&self, r: &ServiceRecord) -> Result<()> {
        let sql = row_sql!("INTO services (service, number, host, commercial, ip_update_required, service_key, updated_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        self.put(
            DerivedTable::Services,
            sql,
            &r.service,
            r.updated_seq,
            params![
                r.service,
                r.number,
                r.host,
                r.commercial,
                r.ip_update_required,
                service_key(&r.service),
                r.updated_seq
            ],
        )
    }

    fn write_policy(&self, r: &Policy) -> Result<()> {
        let sql = row_sql!("INTO policy (service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        self.put(
            DerivedTable::Policy,
            sql,
            &r.service_type,
            r.updated_seq,
            params![
                r.service_type,
                r.max_numbers,
                r.min_subscription_months,
                r.min_order_amount_fen,
                r.requires_public_ip,
                r.updated_seq
            ],
        )
    }

    fn write_request(&self, r: &RequestRecord) -> Result<()> {
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
        Ok(())
    }

    fn write_region(&self, r: &Region) -> Result<()> {
        let sql = row_sql!("INTO regions (region_id, mainland, updated_seq) VALUES (?1, ?2, ?3)");
        self.put(
            DerivedTable::Regions,
            sql,
            &r.region_id,
            r.updated_seq,
            params![r.region_id, r.mainland, r.updated_seq],
        )
    }

    fn forget_service(&self, service: &str, seq: i64) -> Result<()> {
        if self.keeps_past {
            self.supersede(DerivedTable::Services, service, seq)?;
        }
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
        from_row: fn(&Row) -> rusqlite::Result<T>,
    ) -> Result<Option<T>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        Ok(statement.query_row(params![key], from_row).optional()?)
    }

    /// Every row of `sql` (no parameters) through `from_row`, streamed.
    fn each<T>(
        &self,
        sql: &str,
        from_row: fn(&Row) -> rusqlite::Result<T>,
        visit: &mut dyn FnMut(T) -> Result<()>,
    ) -> Result<()> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            visit(from_row(row)?)?;
        }
        Ok(())
    }

    /// Every stored row of one table, read back as its `Change`.
    fn each_stored(&self, table: DerivedTable, visit: &mut dyn FnMut(StoredRow)) -> Result<()> {
        let (columns, read) = change_reader(table);
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
                    error: error.to_string(),
                }
            }));
        }
        Ok(())
    }
}

impl DerivedRows for Sqlite {
    fn write(&self, change: &Change) -> Result<()> {
        match change {
            Change::Instance(r) => self.write_instance(r),
            Change::Number(r) => self.write_number(r),
            Change::Service(r) => self.write_service(r),
            Change::Policy(r) => self.write_policy(r),
            Change::Request(r) => self.write_request(r),
            Change::Region(r) => self.write_region(r),
            Change::ForgetService { service, seq } => self.forget_service(service, *seq),
        }
    }

    fn instances(
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

    fn each_instance(&self, visit: &mut dyn FnMut(Instance) -> Result<()>) -> Result<()> {
        let sql = format!("SELECT {INSTANCE_COLUMNS} FROM instances ORDER BY instance_id");
        self.each(&sql, instance_from_row, visit)
    }

    fn each_number(&self, visit: &mut dyn FnMut(NumberRecord) -> Result<()>) -> Result<()> {
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers ORDER BY instance_id, issued_seq, number"
        );
        self.each(&sql, number_from_row, visit)
    }

    fn each_number_folded(
        &self,
        visit: &mut dyn FnMut(NumberRecord, Option<Instance>) -> Result<()>,
    ) -> Result<()> {
        // The NOCASE index gives the folded order; the instance is found by
        // its primary key.
        let columns = INSTANCE_COLUMNS
            .split(", ")
            .map(|column| format!("i.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let numbers = NUMBER_COLUMNS
            .split(", ")
            .map(|column| format!("n.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {numbers}, {columns} FROM numbers n LEFT JOIN instances i ON i.instance_id = n.instance_id
             ORDER BY n.number COLLATE NOCASE"
        ))?;
        let base = NUMBER_COLUMNS.split(", ").count();
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let number = number_from_row(row)?;
            let instance = match row.get_ref(base)? {
                rusqlite::types::ValueRef::Null => None,
                _ => Some(instance_at(row, base)?),
            };
            visit(number, instance)?;
        }
        Ok(())
    }

    fn numbers_of(&self, instance_id: &str) -> Result<Vec<NumberRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE instance_id = ?1 ORDER BY issued_seq, number"
        ))?;
        let rows = statement.query_map(params![instance_id], number_from_row)?;
        collect(rows)
    }

    fn numbers(
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

    fn services(&self, instance_id: Option<&str>) -> Result<Vec<ServiceRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT s.service, s.number, s.host, s.commercial, s.ip_update_required, s.service_key, s.updated_seq
             FROM services s JOIN numbers n ON n.number = s.number
             WHERE ?1 IS NULL OR s.host = ?1 OR n.instance_id = ?1 ORDER BY s.service",
        )?;
        let rows = statement.query_map(params![instance_id], service_from_row)?;
        collect(rows)
    }

    fn numbers_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<NumberRecord>> {
        let Some(end) = crate::store::shared::prefix_range_end(prefix) else {
            return Ok(Vec::new());
        };
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE number >= ?1 AND number < ?2 ORDER BY number LIMIT ?3"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![prefix, end, limit], number_from_row)?;
        collect(rows)
    }

    fn numbers_with_icp_number(&self, icp_number: &str) -> Result<Vec<NumberRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE icp_number = ?1 ORDER BY instance_id, issued_seq, number"
        ))?;
        let rows = statement.query_map(params![icp_number], number_from_row)?;
        collect(rows)
    }

    fn policies(&self) -> Result<Vec<Policy>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {POLICY_COLUMNS} FROM policy ORDER BY service_type"
        ))?;
        let rows = statement.query_map([], policy_from_row)?;
        collect(rows)
    }

    fn regions(&self) -> Result<Vec<Region>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {REGION_COLUMNS} FROM regions ORDER BY region_id"
        ))?;
        let rows = statement.query_map([], region_from_row)?;
        collect(rows)
    }

    fn each_stored_row(&self, table: DerivedTable, visit: &mut dyn FnMut(StoredRow)) -> Result<()> {
        self.each_stored(table, visit)
    }

    fn past_kept_since(&self) -> Result<Option<i64>> {
        Ok(Some(Sqlite::past_kept_since(self)?))
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
        self.one(&sql, instance_id, instance_from_row)
    }

    fn number(&self, number: &str) -> Result<Option<NumberRecord>> {
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE number = ?1 COLLATE NOCASE
             ORDER BY number = ?1 DESC LIMIT 1"
        );
        self.one(&sql, number, number_from_row)
    }

    fn service(&self, service: &str) -> Result<Option<ServiceRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {SERVICE_COLUMNS} FROM services WHERE service_key = ?1
             ORDER BY service = ?2 DESC LIMIT 1"
        ))?;
        let key = service_key(service);
        Ok(statement
            .query_row(params![key, service], service_from_row)
            .optional()?)
    }

    fn live_number_with_icp(&self, icp_number: &str) -> Result<Option<NumberRecord>> {
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers
             WHERE icp_number = ?1 AND status IN ('bound', 'filing', 'filed') LIMIT 1"
        );
        self.one(&sql, icp_number, number_from_row)
    }

    fn policy(&self, service_type: &str) -> Result<Option<Policy>> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM policy WHERE service_type = ?1");
        self.one(&sql, service_type, policy_from_row)
    }

    fn request(&self, request_id: &str) -> Result<Option<RequestRecord>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE request_id = ?1");
        self.one(&sql, request_id, request_from_row)
    }

    fn region(&self, region_id: &str) -> Result<Option<Region>> {
        let sql = format!("SELECT {REGION_COLUMNS} FROM regions WHERE region_id = ?1");
        self.one(&sql, region_id, region_from_row)
    }

    fn region_ids(&self) -> Result<Vec<String>> {
        self.texts("SELECT region_id FROM regions ORDER BY region_id")
    }

    fn service_types(&self) -> Result<Vec<String>> {
        self.texts("SELECT service_type FROM policy ORDER BY service_type")
    }
}
