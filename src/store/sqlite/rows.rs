//! Row mapping: the column lists the queries select and the functions that
//! turn a row into a domain record. A stored value that does not parse as
//! its type is a corrupt row (an edit made outside the program).

use crate::domain::event::Event;
use crate::domain::evolve::Change;
use crate::domain::names::service_key;
use crate::domain::types::*;
use crate::error::Result;
use crate::store::DerivedTable;
use rusqlite::Row;

pub(super) use crate::store::shared::{
    to_json_array, INSTANCE_COLUMNS, NUMBER_COLUMNS, POLICY_COLUMNS, REGION_COLUMNS,
    REQUEST_COLUMNS, SERVICE_COLUMNS,
};
/// How a row of `table` reads back: the columns to select (its key first,
/// its seq last) and the mapping to the `Change` that writes it. The same
/// for the live table and its past versions (`*_past` has the same columns).
pub(super) fn change_reader(
    table: DerivedTable,
) -> (&'static str, fn(&Row) -> rusqlite::Result<Change>) {
    match table {
        DerivedTable::Policy => (POLICY_COLUMNS, |row| {
            policy_from_row(row).map(Change::Policy)
        }),
        DerivedTable::Instances => (INSTANCE_COLUMNS, |row| {
            instance_from_row(row).map(Change::Instance)
        }),
        DerivedTable::Numbers => (NUMBER_COLUMNS, |row| {
            number_from_row(row).map(Change::Number)
        }),
        DerivedTable::Services => (SERVICE_COLUMNS, |row| {
            service_from_row(row).map(Change::Service)
        }),
        DerivedTable::Requests => (REQUEST_COLUMNS, |row| {
            request_from_row(row).map(Change::Request)
        }),
        DerivedTable::Regions => (REGION_COLUMNS, |row| {
            region_from_row(row).map(Change::Region)
        }),
    }
}

pub(super) const EVENT_COLUMNS: &str =
    "e.seq, e.event_id, e.at, e.actor, e.kind, e.payload, e.prev_hash, e.hash";

fn from_json_array(text: &str) -> rusqlite::Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub(super) fn collect<T>(rows: impl Iterator<Item = rusqlite::Result<T>>) -> Result<Vec<T>> {
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

pub(super) fn instance_from_row(row: &Row) -> rusqlite::Result<Instance> {
    instance_at(row, 0)
}

/// The instance whose columns begin at `base` (after another table's).
pub(super) fn instance_at(row: &Row, base: usize) -> rusqlite::Result<Instance> {
    Ok(Instance {
        instance_id: row.get(base)?,
        service_type: row.get(base + 1)?,
        account: row.get(base + 2)?,
        region: row.get(base + 3)?,
        billing: parse_enum(row, base + 4, Billing::parse)?,
        subscription_months: row.get(base + 5)?,
        expires_at: row.get(base + 6)?,
        public_ip: row.get(base + 7)?,
        order_amount_fen: row.get(base + 8)?,
        state: parse_enum(row, base + 9, InstanceState::parse)?,
        consumed: row.get(base + 10)?,
        updated_seq: row.get(base + 11)?,
    })
}

pub(super) fn number_from_row(row: &Row) -> rusqlite::Result<NumberRecord> {
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

/// The stored key must be the service's (an edited key would hide the
/// service from its look-ups): a row whose key is not is corrupt.
pub(super) fn service_from_row(row: &Row) -> rusqlite::Result<ServiceRecord> {
    let service: String = row.get(0)?;
    let stored_key: String = row.get(5)?;
    if stored_key != service_key(&service) {
        return Err(rusqlite::Error::FromSqlConversionFailure(
            5,
            rusqlite::types::Type::Text,
            Box::new(std::io::Error::other(format!(
                "service_key {stored_key:?} is not the key of the service"
            ))),
        ));
    }
    Ok(ServiceRecord {
        service,
        number: row.get(1)?,
        host: row.get(2)?,
        commercial: strict_bool(row, 3)?,
        ip_update_required: strict_bool(row, 4)?,
        updated_seq: row.get(6)?,
    })
}

pub(super) fn request_from_row(row: &Row) -> rusqlite::Result<RequestRecord> {
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

pub(super) fn policy_from_row(row: &Row) -> rusqlite::Result<Policy> {
    Ok(Policy {
        service_type: row.get(0)?,
        max_numbers: row.get(1)?,
        min_subscription_months: row.get(2)?,
        min_order_amount_fen: row.get(3)?,
        requires_public_ip: strict_bool(row, 4)?,
        updated_seq: row.get(5)?,
    })
}

pub(super) fn region_from_row(row: &Row) -> rusqlite::Result<crate::domain::regions::Region> {
    Ok(crate::domain::regions::Region {
        region_id: row.get(0)?,
        mainland: strict_bool(row, 1)?,
        updated_seq: row.get(2)?,
    })
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
