//! Row mapping on SQLite: how a rusqlite row is read column by column
//! (`RowRead`; the tables' declarations are in `store/tables.rs`), and the
//! log's columns. A stored value that is not of its column's type is a
//! corrupt row (an edit made outside the program).

use crate::domain::event::Event;
use crate::error::Result;
use crate::store::tables::{RowRead, RowResult};
use rusqlite::Row;

pub(super) use crate::store::tables::*;

impl RowRead for Row<'_> {
    fn text(&self, index: usize) -> RowResult<String> {
        self.get(index)
            .map_err(|error| format!("column {index}: {error}"))
    }
    fn optional_text(&self, index: usize) -> RowResult<Option<String>> {
        self.get(index)
            .map_err(|error| format!("column {index}: {error}"))
    }
    fn integer(&self, index: usize) -> RowResult<i64> {
        self.get(index)
            .map_err(|error| format!("column {index}: {error}"))
    }
    fn optional_integer(&self, index: usize) -> RowResult<Option<i64>> {
        self.get(index)
            .map_err(|error| format!("column {index}: {error}"))
    }
}

/// A value as rusqlite binds it.
impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Value::Text(text) => text.as_ref().to_sql(),
            Value::OptionalText(Some(text)) => text.as_ref().to_sql(),
            Value::OptionalText(None) => Ok(rusqlite::types::ToSqlOutput::Owned(
                rusqlite::types::Value::Null,
            )),
            Value::Integer(number) => number.to_sql(),
            Value::OptionalInteger(number) => number.to_sql(),
        }
    }
}

/// A row reader as rusqlite's `query_map` and `query_row` take it: a row
/// that does not read back is a conversion failure (a storage error).
pub(super) fn reader<T>(
    read: impl Fn(&Row) -> RowResult<T>,
) -> impl Fn(&Row) -> rusqlite::Result<T> {
    move |row| {
        read(row).map_err(|why| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                Box::new(std::io::Error::other(why)),
            )
        })
    }
}

pub(super) const EVENT_COLUMNS: &str =
    "e.seq, e.event_id, e.at, e.actor, e.kind, e.payload, e.prev_hash, e.hash";

pub(super) fn collect<T>(rows: impl Iterator<Item = rusqlite::Result<T>>) -> Result<Vec<T>> {
    Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
}

pub(super) fn event_from_row(row: &Row) -> rusqlite::Result<Event> {
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
