//! Row mapping on PostgreSQL: each derived table's columns, the values a
//! `Change` writes (the same list serves `COPY` and single-row upserts),
//! and the functions that read a row back. A stored value that does not
//! parse as its type is a corrupt row (an edit made outside the program).

use crate::domain::event::Event;
use crate::domain::evolve::Change;
use crate::domain::names::service_key;
use crate::domain::regions::Region;
use crate::domain::types::*;
use crate::store::DerivedTable;
use postgres::types::{ToSql, Type};
use postgres::Row;

pub(super) use crate::store::shared::{
    to_json_array, INSTANCE_COLUMNS, NUMBER_COLUMNS, POLICY_COLUMNS, REGION_COLUMNS,
    REQUEST_COLUMNS, SERVICE_COLUMNS,
};
pub(super) const EVENT_COLUMNS: &str = "seq, event_id, at, actor, kind, payload, prev_hash, hash";

/// The columns a table is written and read with, its key column, and the
/// expression its look-ups fold the key with.
pub(super) struct TableShape {
    pub name: &'static str,
    pub columns: &'static str,
    pub key: &'static str,
    /// The look-up key of a row, as SQL (instances and numbers ignore
    /// ASCII case; a service is found by its key).
    pub folded_key: &'static str,
    pub types: &'static [Type],
}

pub(super) fn shape(table: DerivedTable) -> TableShape {
    use DerivedTable::*;
    let (columns, key, folded_key, types): (_, _, _, &'static [Type]) = match table {
        Policy => (
            POLICY_COLUMNS,
            "service_type",
            "service_type",
            &[
                Type::TEXT,
                Type::INT8,
                Type::INT8,
                Type::INT8,
                Type::INT8,
                Type::INT8,
            ],
        ),
        Instances => (
            INSTANCE_COLUMNS,
            "instance_id",
            "lower(instance_id)",
            &[
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::TEXT,
                Type::INT8,
                Type::INT8,
            ],
        ),
        Numbers => (
            NUMBER_COLUMNS,
            "number",
            "lower(number)",
            &[
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::INT8,
            ],
        ),
        Services => (
            SERVICE_COLUMNS,
            "service",
            "service_key",
            &[
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::INT8,
                Type::TEXT,
                Type::INT8,
            ],
        ),
        Requests => (
            REQUEST_COLUMNS,
            "request_id",
            "request_id",
            &[
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
            ],
        ),
        Regions => (
            REGION_COLUMNS,
            "region_id",
            "region_id",
            &[Type::TEXT, Type::INT8, Type::INT8],
        ),
    };
    TableShape {
        name: table.name(),
        columns,
        key,
        folded_key,
        types,
    }
}

/// One value of a row to write.
#[derive(Debug, Clone)]
pub(super) enum Value {
    Text(String),
    OptionalText(Option<String>),
    Integer(i64),
    OptionalInteger(Option<i64>),
}

impl Value {
    /// The value as the driver binds it.
    pub(super) fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Value::Text(text) => text,
            Value::OptionalText(text) => text,
            Value::Integer(number) => number,
            Value::OptionalInteger(number) => number,
        }
    }
}

/// The ASCII-folded key instances and numbers are looked up by.
pub(super) fn fold(key: &str) -> String {
    key.to_ascii_lowercase()
}

/// What a `Change` writes: its table, its exact key, its look-up key, and
/// its values in the table's column order (`None` for a row to delete).
pub(super) fn change_values(change: &Change) -> (DerivedTable, String, String, Option<Vec<Value>>) {
    use Value::*;
    match change {
        Change::Instance(r) => (
            DerivedTable::Instances,
            r.instance_id.clone(),
            fold(&r.instance_id),
            Some(vec![
                Text(r.instance_id.clone()),
                Text(r.service_type.clone()),
                Text(r.account.clone()),
                Text(r.region.clone()),
                Text(r.billing.as_str().to_string()),
                Integer(r.subscription_months),
                Text(r.expires_at.clone()),
                OptionalText(r.public_ip.clone()),
                OptionalInteger(r.order_amount_fen),
                Text(r.state.as_str().to_string()),
                Integer(r.consumed),
                Integer(r.updated_seq),
            ]),
        ),
        Change::Number(r) => (
            DerivedTable::Numbers,
            r.number.clone(),
            fold(&r.number),
            Some(vec![
                Text(r.number.clone()),
                Text(r.instance_id.clone()),
                Text(r.owner.clone()),
                Text(r.holder.clone()),
                Text(r.status.as_str().to_string()),
                OptionalText(r.service.clone()),
                OptionalText(r.icp_number.clone()),
                Text(r.origin.as_str().to_string()),
                Integer(r.issued_seq),
                Integer(r.updated_seq),
            ]),
        ),
        Change::Service(r) => (
            DerivedTable::Services,
            r.service.clone(),
            service_key(&r.service),
            Some(vec![
                Text(r.service.clone()),
                Text(r.number.clone()),
                Text(r.host.clone()),
                Integer(i64::from(r.commercial)),
                Integer(i64::from(r.ip_update_required)),
                Text(service_key(&r.service)),
                Integer(r.updated_seq),
            ]),
        ),
        Change::Policy(r) => (
            DerivedTable::Policy,
            r.service_type.clone(),
            r.service_type.clone(),
            Some(vec![
                Text(r.service_type.clone()),
                Integer(r.max_numbers),
                Integer(r.min_subscription_months),
                OptionalInteger(r.min_order_amount_fen),
                Integer(i64::from(r.requires_public_ip)),
                Integer(r.updated_seq),
            ]),
        ),
        Change::Request(r) => (
            DerivedTable::Requests,
            r.request_id.clone(),
            r.request_id.clone(),
            Some(vec![
                Text(r.request_id.clone()),
                Text(r.instance_id.clone()),
                Text(r.account.clone()),
                Integer(r.count),
                Text(to_json_array(&r.asked)),
                Text(to_json_array(&r.numbers)),
                Integer(r.seq),
            ]),
        ),
        Change::Region(r) => (
            DerivedTable::Regions,
            r.region_id.clone(),
            r.region_id.clone(),
            Some(vec![
                Text(r.region_id.clone()),
                Integer(i64::from(r.mainland)),
                Integer(r.updated_seq),
            ]),
        ),
        Change::ForgetService { service, .. } => (
            DerivedTable::Services,
            service.clone(),
            service_key(service),
            None,
        ),
    }
}

/// Why a stored row does not read back.
pub(super) type RowResult<T> = std::result::Result<T, String>;

fn get<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> RowResult<T> {
    row.try_get(index)
        .map_err(|error| format!("column {index}: {error}"))
}

/// A stored flag must be exactly 0 or 1.
fn flag(row: &Row, index: usize) -> RowResult<bool> {
    match get::<i64>(row, index)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(format!("column {index}: {other} is not 0 or 1")),
    }
}

fn parse_enum<T>(
    row: &Row,
    index: usize,
    parse: fn(&str, &str) -> crate::error::Result<T>,
) -> RowResult<T> {
    let text: String = get(row, index)?;
    parse("stored value", &text).map_err(|error| error.to_string())
}

fn from_json_array(text: &str) -> RowResult<Vec<String>> {
    serde_json::from_str(text).map_err(|error| error.to_string())
}

pub(super) fn instance_from_row(row: &Row) -> RowResult<Instance> {
    instance_at(row, 0)
}

/// An instance whose columns start at column `base` of a joined row.
pub(super) fn instance_at(row: &Row, base: usize) -> RowResult<Instance> {
    Ok(Instance {
        instance_id: get(row, base)?,
        service_type: get(row, base + 1)?,
        account: get(row, base + 2)?,
        region: get(row, base + 3)?,
        billing: parse_enum(row, base + 4, Billing::parse)?,
        subscription_months: get(row, base + 5)?,
        expires_at: get(row, base + 6)?,
        public_ip: get(row, base + 7)?,
        order_amount_fen: get(row, base + 8)?,
        state: parse_enum(row, base + 9, InstanceState::parse)?,
        consumed: get(row, base + 10)?,
        updated_seq: get(row, base + 11)?,
    })
}

pub(super) fn number_from_row(row: &Row) -> RowResult<NumberRecord> {
    Ok(NumberRecord {
        number: get(row, 0)?,
        instance_id: get(row, 1)?,
        owner: get(row, 2)?,
        holder: get(row, 3)?,
        status: parse_enum(row, 4, Status::parse)?,
        service: get(row, 5)?,
        icp_number: get(row, 6)?,
        origin: parse_enum(row, 7, Origin::parse)?,
        issued_seq: get(row, 8)?,
        updated_seq: get(row, 9)?,
    })
}

/// The stored key must be the service's (an edited key would hide the
/// service from its look-ups).
pub(super) fn service_from_row(row: &Row) -> RowResult<ServiceRecord> {
    let service: String = get(row, 0)?;
    let stored_key: String = get(row, 5)?;
    if stored_key != service_key(&service) {
        return Err(format!(
            "service_key {stored_key:?} is not the key of the service"
        ));
    }
    Ok(ServiceRecord {
        service,
        number: get(row, 1)?,
        host: get(row, 2)?,
        commercial: flag(row, 3)?,
        ip_update_required: flag(row, 4)?,
        updated_seq: get(row, 6)?,
    })
}

pub(super) fn request_from_row(row: &Row) -> RowResult<RequestRecord> {
    Ok(RequestRecord {
        request_id: get(row, 0)?,
        instance_id: get(row, 1)?,
        account: get(row, 2)?,
        count: get(row, 3)?,
        asked: from_json_array(&get::<String>(row, 4)?)?,
        numbers: from_json_array(&get::<String>(row, 5)?)?,
        seq: get(row, 6)?,
    })
}

pub(super) fn policy_from_row(row: &Row) -> RowResult<Policy> {
    Ok(Policy {
        service_type: get(row, 0)?,
        max_numbers: get(row, 1)?,
        min_subscription_months: get(row, 2)?,
        min_order_amount_fen: get(row, 3)?,
        requires_public_ip: flag(row, 4)?,
        updated_seq: get(row, 5)?,
    })
}

pub(super) fn region_from_row(row: &Row) -> RowResult<Region> {
    Ok(Region {
        region_id: get(row, 0)?,
        mainland: flag(row, 1)?,
        updated_seq: get(row, 2)?,
    })
}

/// A row of any derived table read back as the `Change` that writes it.
pub(super) fn change_from_row(table: DerivedTable, row: &Row) -> RowResult<Change> {
    Ok(match table {
        DerivedTable::Policy => Change::Policy(policy_from_row(row)?),
        DerivedTable::Instances => Change::Instance(instance_from_row(row)?),
        DerivedTable::Numbers => Change::Number(number_from_row(row)?),
        DerivedTable::Services => Change::Service(service_from_row(row)?),
        DerivedTable::Requests => Change::Request(request_from_row(row)?),
        DerivedTable::Regions => Change::Region(region_from_row(row)?),
    })
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
