//! Row mapping on PostgreSQL: how a driver row is read column by column
//! (`RowRead`), the values a `Change` writes as the driver binds them (the
//! same list serves `COPY` and single-row upserts), and the log's columns.
//! The tables themselves are declared in `store/tables.rs`.

use crate::domain::event::Event;
use crate::domain::evolve::Change;
use crate::store::tables::{encode, Kind, RowRead, RowResult};
use crate::store::DerivedTable;
use postgres::types::{FromSql, ToSql, Type};
use postgres::Row;

pub(super) use crate::store::tables::{
    fold, record_at, table as shape, INSTANCE_COLUMNS, NUMBER_COLUMNS,
};
pub(super) const EVENT_COLUMNS: &str = "seq, event_id, at, actor, kind, payload, prev_hash, hash";

/// A value to write, owned: the buffer keeps rows past their change.
pub(super) type Value = crate::store::tables::Value<'static>;

impl crate::store::tables::Value<'_> {
    /// The value as the driver binds it.
    pub(super) fn as_sql(&self) -> &(dyn ToSql + Sync) {
        use crate::store::tables::Value::*;
        match self {
            Text(text) => text,
            OptionalText(text) => text,
            Integer(number) => number,
            OptionalInteger(number) => number,
        }
    }
}

/// The driver's types of a table's columns (`COPY` needs them).
pub(super) fn types(table: DerivedTable) -> Vec<Type> {
    shape(table)
        .kinds()
        .into_iter()
        .map(|kind| match kind {
            Kind::Text => Type::TEXT,
            Kind::Integer => Type::INT8,
        })
        .collect()
}

/// What a `Change` writes: its table, its exact key, its look-up key, and
/// its values in the table's column order (`None` for a row to delete).
pub(super) fn change_values(change: &Change) -> (DerivedTable, String, String, Option<Vec<Value>>) {
    let encoded = encode(change);
    let values = encoded
        .values
        .map(|values| values.into_iter().map(|value| value.into_owned()).collect());
    (
        encoded.table,
        encoded.key.to_string(),
        encoded.folded_key,
        values,
    )
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> RowResult<T> {
    row.try_get(index)
        .map_err(|error| format!("column {index}: {error}"))
}

impl RowRead for Row {
    fn text(&self, index: usize) -> RowResult<String> {
        get(self, index)
    }
    fn optional_text(&self, index: usize) -> RowResult<Option<String>> {
        get(self, index)
    }
    fn integer(&self, index: usize) -> RowResult<i64> {
        get(self, index)
    }
    fn optional_integer(&self, index: usize) -> RowResult<Option<i64>> {
        get(self, index)
    }
}

pub(super) fn event_from_row(row: &Row) -> crate::error::Result<Event> {
    let text = |index: usize| -> crate::error::Result<String> {
        row.try_get(index)
            .map_err(|error| crate::error::Error::storage(format!("the log: {error}")))
    };
    Ok(Event {
        seq: row
            .try_get(0)
            .map_err(|error| crate::error::Error::storage(format!("the log: {error}")))?,
        event_id: text(1)?,
        at: text(2)?,
        actor: text(3)?,
        kind: text(4)?,
        payload: text(5)?,
        prev_hash: text(6)?,
        hash: text(7)?,
    })
}
