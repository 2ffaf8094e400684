//! The derived tables on PostgreSQL: writes of a `Change` (buffered in a
//! write transaction), lists, the rules' look-ups, and the stored rows as
//! `verify` reads them back. Long reads go page by page along the key, so
//! memory stays bounded and the visitor may use the store.

use super::overlay::key_hash;
use super::rows::*;
use super::Postgres;
use crate::domain::decide::Lookup;
use crate::domain::evolve::Change;
use crate::domain::names::service_key;
use crate::domain::regions::Region;
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::store::queries::{postgres_spelling, List};
use crate::store::tables::{decode, Value};
use crate::store::tables::{prefixed, RowResult};
use crate::store::{DerivedRows, DerivedTable, StoredRow, SubjectVisit, UnreadableRow};
use postgres::types::ToSql;
use postgres::Row;
use std::collections::HashSet;

/// A row that cannot be read: its key, the seq it names (at least 1), why.
type BadRow = (String, i64, String);

/// Rows read per page of a long read.
pub(super) const PAGE_ROWS: i64 = 5_000;

fn unreadable(table: &str, why: String) -> Error {
    Error::storage(format!("storage: a row of {table} cannot be read: {why}"))
}

/// Rows of one table through `from_row`, an unreadable one a storage error.
fn mapped<T>(table: &str, rows: Vec<Row>, from_row: fn(&Row) -> RowResult<T>) -> Result<Vec<T>> {
    rows.iter()
        .map(|row| from_row(row).map_err(|why| unreadable(table, why)))
        .collect()
}

impl Postgres {
    /// Writes one row now (outside the buffer): seeds and migrations.
    pub(super) fn write_direct(&self, change: &Change) -> Result<()> {
        let (table, exact, _, values) = change_values(change);
        match values {
            None => {
                let shape = shape(table);
                let sql = format!("DELETE FROM {} WHERE {} = $1", shape.name, shape.key);
                self.execute(&sql, &[&exact])?;
            }
            Some(values) => {
                let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(Value::as_sql).collect();
                self.execute(super::overlay::upsert_statement(table), &params)?;
            }
        }
        Ok(())
    }

    /// Every stored row of a look-up key (all spellings), as `Change`s.
    fn rows_of_key(&self, table: DerivedTable, folded: &str) -> Result<Vec<(String, Change)>> {
        let shape = shape(table);
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = $1",
            shape.columns, shape.name, shape.folded_key
        );
        let rows = self.query(&sql, &[&folded])?;
        rows.iter()
            .map(|row| {
                let exact: String = row.get(0);
                decode(table, row, 0)
                    .map(|change| (exact, change))
                    .map_err(|why| unreadable(shape.name, why))
            })
            .collect()
    }

    /// The hash of every look-up key of a table.
    fn key_set(&self, table: DerivedTable) -> Result<HashSet<u64>> {
        let shape = shape(table);
        let sql = format!("SELECT {} FROM {}", shape.folded_key, shape.name);
        let mut keys = HashSet::new();
        let mut client = self.client.borrow_mut();
        let mut rows = client.query_raw(&sql, std::iter::empty::<i64>())?;
        while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)? {
            keys.insert(key_hash(row.get::<_, &str>(0)));
        }
        Ok(keys)
    }

    /// A look-up: from the write transaction's buffer when it knows, else
    /// from the database (and remembered).
    pub(super) fn look_up(
        &self,
        table: DerivedTable,
        folded: &str,
        exact: &str,
    ) -> Result<Option<Change>> {
        if let Some(overlay) = self.overlay.borrow().as_ref() {
            if let Some(found) = overlay.cached(table, folded, exact) {
                return Ok(found);
            }
        }
        let rows = self.rows_of_key(table, folded)?;
        let in_write = self.overlay.borrow().is_some();
        if !in_write {
            let exact_row = rows.iter().find(|(key, _)| key == exact);
            let first = rows.iter().min_by(|a, b| a.0.cmp(&b.0));
            return Ok(exact_row.or(first).map(|(_, change)| change.clone()));
        }
        let wants_keys = {
            let mut guard = self.overlay.borrow_mut();
            // invariant: `in_write` above saw the overlay, and nothing
            // between takes it (one thread, no write commits in a look-up).
            let overlay = guard.as_mut().expect("in a write transaction");
            overlay.load(table, folded, rows);
            overlay.wants_keys(table)
        };
        if wants_keys {
            self.flush()?;
            let keys = self.key_set(table)?;
            if let Some(overlay) = self.overlay.borrow_mut().as_mut() {
                overlay.set_keys(table, keys);
            }
        }
        Ok(self
            .overlay
            .borrow()
            .as_ref()
            .and_then(|overlay| overlay.cached(table, folded, exact))
            .flatten())
    }

    /// A list: the buffer sent first, then one query.
    fn list<T>(
        &self,
        table: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        from_row: fn(&Row) -> RowResult<T>,
    ) -> Result<Vec<T>> {
        self.flush()?;
        mapped(table, self.query(sql, params)?, from_row)
    }

    /// Every row of `table` in key order, a page at a time; `next` gives the
    /// parameters that follow the last row of a page.
    pub(super) fn each_page(
        &self,
        sql: &str,
        first: Vec<Box<dyn ToSql + Sync>>,
        next: &dyn Fn(&Row) -> Vec<Box<dyn ToSql + Sync>>,
        visit: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.flush()?;
        let mut params = first;
        loop {
            let refs: Vec<&(dyn ToSql + Sync)> =
                params.iter().map(|param| param.as_ref()).collect();
            let rows = self.query(sql, &refs)?;
            for row in &rows {
                visit(row)?;
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == PAGE_ROWS => params = next(last),
                _ => return Ok(()),
            }
        }
    }

    /// Every row of `sql`, a page at a time along its first column (text)
    /// and the seq in `seq_column`: `sql` takes the last pair as $1, $2.
    fn each_by_text_and_seq(
        &self,
        sql: &str,
        seq_column: usize,
        visit: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.each_page(
            sql,
            vec![Box::new(String::new()), Box::new(i64::MIN)],
            &|row| {
                vec![
                    Box::new(row.get::<_, String>(0)),
                    Box::new(row.get::<_, i64>(seq_column)),
                ]
            },
            visit,
        )
    }

    /// Every row of a table along its key, through `from_row`.
    fn each_by_key<T>(
        &self,
        table: DerivedTable,
        from_row: &dyn Fn(&Row) -> RowResult<T>,
        visit: &mut dyn FnMut(std::result::Result<T, BadRow>) -> Result<()>,
    ) -> Result<()> {
        let shape = shape(table);
        let sql = format!(
            "SELECT {} FROM {} WHERE {} > $1 ORDER BY {} LIMIT {PAGE_ROWS}",
            shape.columns, shape.name, shape.key, shape.key
        );
        let seq_column = shape.width() - 1;
        self.each_page(
            &sql,
            vec![Box::new(String::new())],
            &|row| vec![Box::new(row.get::<_, String>(0))],
            &mut |row| {
                visit(from_row(row).map_err(|why| {
                    let seq = row.try_get::<_, i64>(seq_column).unwrap_or(1).max(1);
                    (row.get::<_, String>(0), seq, why)
                }))
            },
        )
    }
}

impl DerivedRows for Postgres {
    /// The buffer sent first, then one query.
    fn list(&self, list: List, params: &[Value]) -> Result<Vec<Change>> {
        static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let sql = list.statement(&TEXTS, postgres_spelling);
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(Value::as_sql).collect();
        self.flush()?;
        let table = list.table();
        self.query(sql, &params)?
            .iter()
            .map(|row| decode(table, row, 0).map_err(|why| unreadable(table.name(), why)))
            .collect()
    }

    fn each_instance(&self, visit: &mut dyn FnMut(Instance) -> Result<()>) -> Result<()> {
        self.each_by_key(
            DerivedTable::Instances,
            &|row: &Row| record_at::<Instance>(row, 0),
            &mut |row| match row {
                Ok(instance) => visit(instance),
                Err((key, _, why)) => Err(unreadable("instances", format!("{key}: {why}"))),
            },
        )
    }

    fn each_number(&self, visit: &mut dyn FnMut(NumberRecord) -> Result<()>) -> Result<()> {
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE (instance_id, issued_seq, number) > ($1, $2, $3)
             ORDER BY instance_id, issued_seq, number LIMIT {PAGE_ROWS}"
        );
        self.each_page(
            &sql,
            vec![
                Box::new(String::new()),
                Box::new(i64::MIN),
                Box::new(String::new()),
            ],
            &|row| {
                vec![
                    Box::new(row.get::<_, String>(1)),
                    Box::new(row.get::<_, i64>(8)),
                    Box::new(row.get::<_, String>(0)),
                ]
            },
            &mut |row| {
                visit(record_at::<NumberRecord>(row, 0).map_err(|why| unreadable("numbers", why))?)
            },
        )
    }

    fn each_number_folded(
        &self,
        visit: &mut dyn FnMut(NumberRecord, Option<Instance>) -> Result<()>,
    ) -> Result<()> {
        // lower() under "C" folds ASCII only and orders by bytes, as the
        // other side of reconcile does; the spelling breaks ties for the
        // pages.
        let (numbers, instances) = (
            prefixed("n", NUMBER_COLUMNS),
            prefixed("i", INSTANCE_COLUMNS),
        );
        let sql = format!(
            "SELECT {numbers}, {instances} FROM numbers n LEFT JOIN instances i ON i.instance_id = n.instance_id
             WHERE (lower(n.number) COLLATE \"C\", n.number) > ($1, $2)
             ORDER BY lower(n.number) COLLATE \"C\", n.number LIMIT {PAGE_ROWS}"
        );
        let base = shape(DerivedTable::Numbers).width();
        self.each_page(
            &sql,
            vec![Box::new(String::new()), Box::new(String::new())],
            &|row| {
                let number = row.get::<_, String>(0);
                vec![Box::new(fold(&number)), Box::new(number)]
            },
            &mut |row| {
                let number =
                    record_at::<NumberRecord>(row, 0).map_err(|why| unreadable("numbers", why))?;
                let instance = match row.try_get::<_, Option<String>>(base) {
                    Ok(Some(_)) => Some(
                        record_at::<Instance>(row, base)
                            .map_err(|why| unreadable("instances", why))?,
                    ),
                    _ => None,
                };
                visit(number, instance)
            },
        )
    }

    fn each_stored_row(&self, table: DerivedTable, visit: &mut dyn FnMut(StoredRow)) -> Result<()> {
        self.each_by_key(table, &|row| decode(table, row, 0), &mut |row| {
            visit(row.map_err(|(key, seq, error)| UnreadableRow { key, seq, error }));
            Ok(())
        })
    }

    /// Every past version of `table` along its key (`migrations/postgres/
    /// 0005_past.sql`), a page at a time.
    fn each_past_row(
        &self,
        table: DerivedTable,
        visit: &mut dyn FnMut(Option<(Change, i64)>),
    ) -> Result<()> {
        if !table.keeps_past() {
            return Ok(());
        }
        let shape = shape(table);
        let superseded_column = shape.width();
        let sql = format!(
            "SELECT {columns}, superseded_seq FROM {name}_past WHERE ({key}, superseded_seq) > ($1, $2) ORDER BY {key}, superseded_seq LIMIT {PAGE_ROWS}",
            columns = shape.columns,
            name = shape.name,
            key = shape.key,
        );
        self.each_by_text_and_seq(&sql, superseded_column, &mut |row| {
            let superseded = row.try_get::<_, i64>(superseded_column).ok();
            visit(decode(table, row, 0).ok().zip(superseded));
            Ok(())
        })
    }

    fn each_subject_row(&self, visit: &mut SubjectVisit) -> Result<()> {
        let sql = format!(
            "SELECT subject, seq FROM event_subjects WHERE (subject, seq) > ($1, $2) ORDER BY subject, seq LIMIT {PAGE_ROWS}"
        );
        self.each_by_text_and_seq(&sql, 1, &mut |row| {
            visit(Some((row.get::<_, &str>(0), row.get::<_, i64>(1))));
            Ok(())
        })
    }
}

/// The `Change` of a look-up, as the record it is.
macro_rules! as_record {
    ($found:expr, $variant:ident) => {
        Ok(match $found? {
            Some(Change::$variant(record)) => Some(record),
            _ => None,
        })
    };
}

/// Instances and numbers whatever the ASCII case of the id, a service by
/// its key; the row spelled exactly as asked first.
impl Lookup for Postgres {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>> {
        let found = self.look_up(DerivedTable::Instances, &fold(instance_id), instance_id);
        as_record!(found, Instance)
    }

    fn number(&self, number: &str) -> Result<Option<NumberRecord>> {
        let found = self.look_up(DerivedTable::Numbers, &fold(number), number);
        as_record!(found, Number)
    }

    fn service(&self, service: &str) -> Result<Option<ServiceRecord>> {
        let found = self.look_up(DerivedTable::Services, &service_key(service), service);
        as_record!(found, Service)
    }

    fn live_number_with_icp(&self, icp_number: &str) -> Result<Option<NumberRecord>> {
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers
             WHERE icp_number = $1 AND status IN ('bound', 'filing', 'filed') LIMIT 1"
        );
        Ok(self
            .list("numbers", &sql, &[&icp_number], |row| {
                record_at::<NumberRecord>(row, 0)
            })?
            .into_iter()
            .next())
    }

    fn policy(&self, service_type: &str) -> Result<Option<Policy>> {
        let found = self.look_up(DerivedTable::Policy, service_type, service_type);
        as_record!(found, Policy)
    }

    fn request(&self, request_id: &str) -> Result<Option<RequestRecord>> {
        let found = self.look_up(DerivedTable::Requests, request_id, request_id);
        as_record!(found, Request)
    }

    fn region(&self, region_id: &str) -> Result<Option<Region>> {
        let found = self.look_up(DerivedTable::Regions, region_id, region_id);
        as_record!(found, Region)
    }

    fn region_ids(&self) -> Result<Vec<String>> {
        self.flush()?;
        let rows = self.query("SELECT region_id FROM regions ORDER BY region_id", &[])?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn service_types(&self) -> Result<Vec<String>> {
        self.flush()?;
        let rows = self.query("SELECT service_type FROM policy ORDER BY service_type", &[])?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }
}
