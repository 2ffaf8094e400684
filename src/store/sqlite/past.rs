//! Past versions on SQLite (migration 4, ARCHITECTURE.md "--as-of: how a past state
//! is answered"): every write that replaces or removes a derived row moves
//! the row as it stood to `<table>_past` with the seq that superseded it
//! (`supersede`, which the writes in `derived.rs` run when a row's key
//! already exists, and a removal always). A read `--as-of` seq S sees,
//! through temporary views that take the live tables' names, the live rows
//! written at or before S and the past rows current at S; every query of the
//! store then answers for S unchanged, by the same indexes.

use super::rows::*;
use super::Sqlite;
use crate::domain::evolve::Change;
use crate::error::Result;
use crate::store::shared::past_versions_up_to;
use crate::store::tables::{decode, encode, per_table, table as declared, Table, Value};
use crate::store::DerivedTable;
use rusqlite::{params, params_from_iter};

/// The tables with past versions: every derived table but requests, which
/// are only ever added (their view is cut at S by their seq).
fn past_tables() -> impl Iterator<Item = &'static Table> {
    DerivedTable::ALL
        .into_iter()
        .filter(|table| table.keeps_past())
        .map(declared)
}

/// The statement that keeps a row of `table` as a past version.
fn supersede_sql(table: DerivedTable) -> String {
    let Table {
        name, columns, key, ..
    } = declared(table);
    format!(
        "INSERT INTO {name}_past ({columns}, superseded_seq) SELECT {columns}, ?2 FROM main.{name} WHERE {key} = ?1 AND updated_seq < ?2"
    )
}

/// The statement that adds a past version of `table` from its values.
fn add_past_sql(table: DerivedTable) -> String {
    let Table { name, columns, .. } = declared(table);
    let marks: Vec<String> = (1..=declared(table).width() + 1)
        .map(|n| format!("?{n}"))
        .collect();
    format!(
        "INSERT INTO {name}_past ({columns}, superseded_seq) VALUES ({})",
        marks.join(", ")
    )
}

impl Sqlite {
    /// Keeps the row `key` of `table`, about to be replaced or removed by
    /// the event `seq`, as a past version if an earlier event wrote it
    /// (`evolve::is_superseded`, here as `updated_seq < ?2`).
    pub(super) fn supersede(&self, table: DerivedTable, key: &str, seq: i64) -> Result<()> {
        // invariant: only the writes of the tables with past versions keep
        // one (requests are only ever added).
        assert!(table.keeps_past(), "a table with past versions");
        static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let mut statement = self
            .conn
            .prepare_cached(per_table(&TEXTS, table, supersede_sql))?;
        statement.execute(params![key, seq])?;
        Ok(())
    }

    /// Turns this connection into a view of the state after event `seq`.
    pub(super) fn show_past(&self, seq: i64) -> Result<()> {
        assert!(self.past_seq.get().is_none(), "a store shows one moment");
        let mut views = String::new();
        for Table { name, columns, .. } in past_tables() {
            // `seq` is a number the program computed, not input text.
            views.push_str(&format!(
                "CREATE TEMP VIEW {name} AS
                   SELECT {columns} FROM main.{name} WHERE updated_seq <= {seq}
                   UNION ALL
                   SELECT {columns} FROM main.{name}_past WHERE updated_seq <= {seq} AND superseded_seq > {seq};\n"
            ));
        }
        views.push_str(&format!(
            "CREATE TEMP VIEW requests AS SELECT {REQUEST_COLUMNS} FROM main.requests WHERE seq <= {seq};
             CREATE TEMP VIEW event_subjects AS SELECT subject, seq FROM main.event_subjects WHERE seq <= {seq};"
        ));
        self.conn.execute_batch(&views)?;
        self.past_seq.set(Some(seq));
        Ok(())
    }

    /// Before migration 10: the past versions of the events before the
    /// seq a ledger kept them from (`shared::past_versions_up_to`).
    pub(super) fn missing_past(&self) -> Result<Vec<(Change, i64)>> {
        let kept_since: i64 =
            self.conn
                .query_row("SELECT seq FROM past_kept_since", [], |row| row.get(0))?;
        past_versions_up_to(self, kept_since)
    }

    /// Writes past versions (once the schema is the program's: they have
    /// the columns of its records).
    pub(super) fn add_past(&self, versions: Vec<(Change, i64)>) -> Result<()> {
        static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        for (change, superseded_seq) in versions {
            let encoded = encode(&change);
            // invariant: a past version is a row (a removal replaces none).
            let mut values = encoded.values.expect("a past version is a row");
            values.push(Value::Integer(superseded_seq));
            self.conn
                .prepare_cached(per_table(&TEXTS, encoded.table, add_past_sql))?
                .execute(params_from_iter(values))?;
        }
        Ok(())
    }

    /// Every stored past version of `table`, read back as the `Change`
    /// that wrote it and the seq that superseded it; `None` for a row that
    /// does not read back (edited outside the program).
    pub(super) fn each_past(
        &self,
        table: DerivedTable,
        visit: &mut dyn FnMut(Option<(Change, i64)>),
    ) -> Result<()> {
        if !table.keeps_past() {
            return Ok(());
        }
        let Table { name, columns, .. } = declared(table);
        let mut statement = self.conn.prepare(&format!(
            "SELECT {columns}, superseded_seq FROM main.{name}_past"
        ))?;
        let superseded_column = statement.column_count() - 1;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let superseded = row.get::<_, i64>(superseded_column).ok();
            visit(decode(table, row, 0).ok().zip(superseded));
        }
        Ok(())
    }
}
