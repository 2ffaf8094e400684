//! Each derived table declared once: its columns (both schemas keep them in
//! this order, key first, seq last), its key and look-up key, the values a
//! `Change` writes, and the record a stored row reads back as. Both
//! backends, their past versions (`*_past`: the same columns and
//! `superseded_seq`), verify's read-back and the tests use this; no other
//! store file names a table's columns. A backend reads rows through
//! `RowRead`, implemented for its driver's row.

use super::DerivedTable;
use crate::domain::evolve::Change;
use crate::domain::names::service_key;
use crate::domain::regions::Region;
use crate::domain::types::*;
use std::borrow::Cow;

pub const INSTANCE_COLUMNS: &str = "instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq";
pub const NUMBER_COLUMNS: &str = "number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq";
pub const POLICY_COLUMNS: &str = "service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq";
pub const SERVICE_COLUMNS: &str =
    "service, number, host, commercial, ip_update_required, service_key, updated_seq";
pub const REGION_COLUMNS: &str = "region_id, mainland, updated_seq";
pub const REQUEST_COLUMNS: &str = "request_id, instance_id, account, count, asked, numbers, seq";

/// What a column holds, as the drivers bind it (flags are integers 0/1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Integer,
}

/// One derived table.
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static str,
    pub key: &'static str,
    /// The look-up key of a row, as SQL (instances and numbers ignore
    /// ASCII case; a service is found by its key).
    pub folded_key: &'static str,
    pub kinds: &'static [Kind],
}

impl Table {
    /// How many columns the table has.
    pub(crate) fn width(&self) -> usize {
        self.kinds.len()
    }

    /// `INTO name (columns) VALUES (…)`, the target of an insert, the n-th value written by
    /// `placeholder(n)` (from 1): `?1` on SQLite, `$1` on PostgreSQL.
    pub(crate) fn insert_target(&self, placeholder: fn(usize) -> String) -> String {
        let marks: Vec<String> = (1..=self.width()).map(placeholder).collect();
        format!(
            "INTO {} ({}) VALUES ({})",
            self.name,
            self.columns,
            marks.join(", ")
        )
    }
}

use Kind::{Integer as I, Text as T};

const TABLES: [Table; 6] = [
    Table {
        name: "policy",
        columns: POLICY_COLUMNS,
        key: "service_type",
        folded_key: "service_type",
        kinds: &[T, I, I, I, I, I],
    },
    Table {
        name: "instances",
        columns: INSTANCE_COLUMNS,
        key: "instance_id",
        folded_key: "lower(instance_id)",
        kinds: &[T, T, T, T, T, I, T, T, I, T, I, I],
    },
    Table {
        name: "numbers",
        columns: NUMBER_COLUMNS,
        key: "number",
        folded_key: "lower(number)",
        kinds: &[T, T, T, T, T, T, T, T, I, I],
    },
    Table {
        name: "services",
        columns: SERVICE_COLUMNS,
        key: "service",
        folded_key: "service_key",
        kinds: &[T, T, T, I, I, T, I],
    },
    Table {
        name: "requests",
        columns: REQUEST_COLUMNS,
        key: "request_id",
        folded_key: "request_id",
        kinds: &[T, T, T, I, T, T, I],
    },
    Table {
        name: "regions",
        columns: REGION_COLUMNS,
        key: "region_id",
        folded_key: "region_id",
        kinds: &[T, I, I],
    },
];

// Each declaration has one kind per column.
const _: () = {
    let mut index = 0;
    while index < TABLES.len() {
        let (columns, kinds) = (TABLES[index].columns.as_bytes(), TABLES[index].kinds.len());
        let (mut commas, mut at) = (0, 0);
        while at < columns.len() {
            commas += (columns[at] == b',') as usize;
            at += 1;
        }
        assert!(commas + 1 == kinds);
        index += 1;
    }
};

/// The declaration of `table`.
pub(crate) fn table(table: DerivedTable) -> &'static Table {
    let found = &TABLES[table.index()];
    debug_assert_eq!(found.name, table.name());
    found
}

/// A statement of each table, made by `make` once per run: `texts` is the
/// caller's cache of them.
pub(crate) fn per_table(
    texts: &'static std::sync::OnceLock<Vec<String>>,
    table: DerivedTable,
    make: fn(DerivedTable) -> String,
) -> &'static str {
    &texts.get_or_init(|| DerivedTable::ALL.into_iter().map(make).collect())[table.index()]
}

/// The ASCII-folded key instances and numbers are looked up by.
pub(crate) fn fold(key: &str) -> String {
    key.to_ascii_lowercase()
}

/// One value of a row to write, borrowed from the `Change` where it can be.
#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    Text(Cow<'a, str>),
    OptionalText(Option<Cow<'a, str>>),
    Integer(i64),
    OptionalInteger(Option<i64>),
}

impl Value<'_> {
    /// The value with nothing borrowed (a buffered row outlives its change).
    pub(crate) fn into_owned(self) -> Value<'static> {
        match self {
            Value::Text(text) => Value::Text(Cow::Owned(text.into_owned())),
            Value::OptionalText(text) => {
                Value::OptionalText(text.map(|text| Cow::Owned(text.into_owned())))
            }
            Value::Integer(number) => Value::Integer(number),
            Value::OptionalInteger(number) => Value::OptionalInteger(number),
        }
    }
}

/// What a `Change` writes: its table, its exact key, its look-up key, the
/// seq it is written for, and its values in column order (`None` for a row
/// to delete).
pub(crate) struct Encoded<'a> {
    pub table: DerivedTable,
    pub key: &'a str,
    pub folded_key: String,
    pub seq: i64,
    pub values: Option<Vec<Value<'a>>>,
}

fn text(value: &str) -> Value<'_> {
    Value::Text(Cow::Borrowed(value))
}

fn optional_text(value: &Option<String>) -> Value<'_> {
    Value::OptionalText(value.as_deref().map(Cow::Borrowed))
}

fn flag(value: bool) -> Value<'static> {
    Value::Integer(i64::from(value))
}

/// A list of names as stored in a text column (a JSON array).
pub(crate) fn to_json_array(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// The row a `Change` writes.
pub(crate) fn encode(change: &Change) -> Encoded<'_> {
    use Value::{Integer, OptionalInteger};
    let (table, key, folded_key, seq, values) = match change {
        Change::Instance(r) => (
            DerivedTable::Instances,
            r.instance_id.as_str(),
            fold(&r.instance_id),
            r.updated_seq,
            vec![
                text(&r.instance_id),
                text(&r.service_type),
                text(&r.account),
                text(&r.region),
                text(r.billing.as_str()),
                Integer(r.subscription_months),
                text(&r.expires_at),
                optional_text(&r.public_ip),
                OptionalInteger(r.order_amount_fen),
                text(r.state.as_str()),
                Integer(r.consumed),
                Integer(r.updated_seq),
            ],
        ),
        Change::Number(r) => (
            DerivedTable::Numbers,
            r.number.as_str(),
            fold(&r.number),
            r.updated_seq,
            vec![
                text(&r.number),
                text(&r.instance_id),
                text(&r.owner),
                text(&r.holder),
                text(r.status.as_str()),
                optional_text(&r.service),
                optional_text(&r.icp_number),
                text(r.origin.as_str()),
                Integer(r.issued_seq),
                Integer(r.updated_seq),
            ],
        ),
        Change::Service(r) => {
            let service_key = service_key(&r.service);
            let values = vec![
                text(&r.service),
                text(&r.number),
                text(&r.host),
                flag(r.commercial),
                flag(r.ip_update_required),
                Value::Text(Cow::Owned(service_key.clone())),
                Integer(r.updated_seq),
            ];
            let key = r.service.as_str();
            (
                DerivedTable::Services,
                key,
                service_key,
                r.updated_seq,
                values,
            )
        }
        Change::Policy(r) => (
            DerivedTable::Policy,
            r.service_type.as_str(),
            r.service_type.clone(),
            r.updated_seq,
            vec![
                text(&r.service_type),
                Integer(r.max_numbers),
                Integer(r.min_subscription_months),
                OptionalInteger(r.min_order_amount_fen),
                flag(r.requires_public_ip),
                Integer(r.updated_seq),
            ],
        ),
        Change::Request(r) => (
            DerivedTable::Requests,
            r.request_id.as_str(),
            r.request_id.clone(),
            r.seq,
            vec![
                text(&r.request_id),
                text(&r.instance_id),
                text(&r.account),
                Integer(r.count),
                Value::Text(Cow::Owned(to_json_array(&r.asked))),
                Value::Text(Cow::Owned(to_json_array(&r.numbers))),
                Integer(r.seq),
            ],
        ),
        Change::Region(r) => (
            DerivedTable::Regions,
            r.region_id.as_str(),
            r.region_id.clone(),
            r.updated_seq,
            vec![text(&r.region_id), flag(r.mainland), Integer(r.updated_seq)],
        ),
        Change::ForgetService { service, seq } => {
            let encoded = Encoded {
                table: DerivedTable::Services,
                key: service.as_str(),
                folded_key: service_key(service),
                seq: *seq,
                values: None,
            };
            return encoded;
        }
    };
    debug_assert_eq!(values.len(), self::table(table).width());
    Encoded {
        table,
        key,
        folded_key,
        seq,
        values: Some(values),
    }
}

/// Why a stored row does not read back.
pub(crate) type RowResult<T> = std::result::Result<T, String>;

/// A driver's row, read column by column (from 0). A value that is not of
/// the column's type is an error, never a conversion.
pub(crate) trait RowRead {
    fn text(&self, index: usize) -> RowResult<String>;
    fn optional_text(&self, index: usize) -> RowResult<Option<String>>;
    fn integer(&self, index: usize) -> RowResult<i64>;
    fn optional_integer(&self, index: usize) -> RowResult<Option<i64>>;

    /// A stored flag must be exactly 0 or 1 (SQLite would read 7 as true,
    /// and hide an edit from `verify`).
    fn flag(&self, index: usize) -> RowResult<bool> {
        match self.integer(index)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(format!("column {index}: {other} is not 0 or 1")),
        }
    }

    /// A stored enum text that does not parse is a corrupt row.
    fn parsed<T>(
        &self,
        index: usize,
        parse: fn(&str, &str) -> crate::error::Result<T>,
    ) -> RowResult<T>
    where
        Self: Sized,
    {
        parse("stored value", &self.text(index)?)
            .map_err(|error| format!("column {index}: {error}"))
    }

    fn json_array(&self, index: usize) -> RowResult<Vec<String>> {
        serde_json::from_str(&self.text(index)?).map_err(|error| format!("column {index}: {error}"))
    }
}

/// A row of `table` whose columns begin at `base`, read back as the
/// `Change` that writes it.
pub(crate) fn decode(table: DerivedTable, row: &impl RowRead, base: usize) -> RowResult<Change> {
    Ok(match table {
        DerivedTable::Policy => Change::Policy(policy_at(row, base)?),
        DerivedTable::Instances => Change::Instance(instance_at(row, base)?),
        DerivedTable::Numbers => Change::Number(number_at(row, base)?),
        DerivedTable::Services => Change::Service(service_at(row, base)?),
        DerivedTable::Requests => Change::Request(request_at(row, base)?),
        DerivedTable::Regions => Change::Region(region_at(row, base)?),
    })
}

pub(crate) fn instance_at(row: &impl RowRead, base: usize) -> RowResult<Instance> {
    Ok(Instance {
        instance_id: row.text(base)?,
        service_type: row.text(base + 1)?,
        account: row.text(base + 2)?,
        region: row.text(base + 3)?,
        billing: row.parsed(base + 4, Billing::parse)?,
        subscription_months: row.integer(base + 5)?,
        expires_at: row.text(base + 6)?,
        public_ip: row.optional_text(base + 7)?,
        order_amount_fen: row.optional_integer(base + 8)?,
        state: row.parsed(base + 9, InstanceState::parse)?,
        consumed: row.integer(base + 10)?,
        updated_seq: row.integer(base + 11)?,
    })
}

pub(crate) fn number_at(row: &impl RowRead, base: usize) -> RowResult<NumberRecord> {
    Ok(NumberRecord {
        number: row.text(base)?,
        instance_id: row.text(base + 1)?,
        owner: row.text(base + 2)?,
        holder: row.text(base + 3)?,
        status: row.parsed(base + 4, Status::parse)?,
        service: row.optional_text(base + 5)?,
        icp_number: row.optional_text(base + 6)?,
        origin: row.parsed(base + 7, Origin::parse)?,
        issued_seq: row.integer(base + 8)?,
        updated_seq: row.integer(base + 9)?,
    })
}

/// The stored key must be the service's (an edited key would hide the
/// service from its look-ups): a row whose key is not is corrupt.
pub(crate) fn service_at(row: &impl RowRead, base: usize) -> RowResult<ServiceRecord> {
    let service = row.text(base)?;
    let stored_key = row.text(base + 5)?;
    if stored_key != service_key(&service) {
        return Err(format!(
            "service_key {stored_key:?} is not the key of the service"
        ));
    }
    Ok(ServiceRecord {
        service,
        number: row.text(base + 1)?,
        host: row.text(base + 2)?,
        commercial: row.flag(base + 3)?,
        ip_update_required: row.flag(base + 4)?,
        updated_seq: row.integer(base + 6)?,
    })
}

pub(crate) fn request_at(row: &impl RowRead, base: usize) -> RowResult<RequestRecord> {
    Ok(RequestRecord {
        request_id: row.text(base)?,
        instance_id: row.text(base + 1)?,
        account: row.text(base + 2)?,
        count: row.integer(base + 3)?,
        asked: row.json_array(base + 4)?,
        numbers: row.json_array(base + 5)?,
        seq: row.integer(base + 6)?,
    })
}

pub(crate) fn policy_at(row: &impl RowRead, base: usize) -> RowResult<Policy> {
    Ok(Policy {
        service_type: row.text(base)?,
        max_numbers: row.integer(base + 1)?,
        min_subscription_months: row.integer(base + 2)?,
        min_order_amount_fen: row.optional_integer(base + 3)?,
        requires_public_ip: row.flag(base + 4)?,
        updated_seq: row.integer(base + 5)?,
    })
}

pub(crate) fn region_at(row: &impl RowRead, base: usize) -> RowResult<Region> {
    Ok(Region {
        region_id: row.text(base)?,
        mainland: row.flag(base + 1)?,
        updated_seq: row.integer(base + 2)?,
    })
}

/// `columns` each prefixed with `alias.` (for a join).
pub(crate) fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|column| format!("{alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}
