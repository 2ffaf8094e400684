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
use crate::domain::record::{Field, FieldRead, FieldResult, Record, Shape};
use crate::domain::regions::Region;
use crate::domain::types::*;
use std::borrow::Cow;

pub const INSTANCE_COLUMNS: &str = <Instance as Record>::NAME_LIST;
pub const NUMBER_COLUMNS: &str = <NumberRecord as Record>::NAME_LIST;
pub const POLICY_COLUMNS: &str = <Policy as Record>::NAME_LIST;
/// The service's fields with its look-up key before the seq (`service_key`,
/// computed from the service: `Table::computed_key`).
pub const SERVICE_COLUMNS: &str =
    "service, number, host, commercial, ip_update_required, service_key, updated_seq";
pub const REGION_COLUMNS: &str = <Region as Record>::NAME_LIST;
pub const REQUEST_COLUMNS: &str = <RequestRecord as Record>::NAME_LIST;

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
    /// The record's fields (`domain::record`), one column each.
    pub shapes: &'static [Shape],
    /// One more column, before the last: the look-up key computed from
    /// the first (a service's `service_key`).
    pub computed_key: bool,
}

impl Table {
    /// How many columns the table has.
    pub(crate) fn width(&self) -> usize {
        self.shapes.len() + usize::from(self.computed_key)
    }

    /// What each column holds, in order.
    pub(crate) fn kinds(&self) -> Vec<Kind> {
        let mut kinds: Vec<Kind> = self
            .shapes
            .iter()
            .map(|shape| {
                if shape.is_text() {
                    Kind::Text
                } else {
                    Kind::Integer
                }
            })
            .collect();
        if self.computed_key {
            kinds.insert(kinds.len() - 1, Kind::Text);
        }
        kinds
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

const TABLES: [Table; 6] = [
    Table {
        name: "policy",
        columns: POLICY_COLUMNS,
        key: "service_type",
        folded_key: "service_type",
        shapes: Policy::SHAPES,
        computed_key: false,
    },
    Table {
        name: "instances",
        columns: INSTANCE_COLUMNS,
        key: "instance_id",
        folded_key: "lower(instance_id)",
        shapes: Instance::SHAPES,
        computed_key: false,
    },
    Table {
        name: "numbers",
        columns: NUMBER_COLUMNS,
        key: "number",
        folded_key: "lower(number)",
        shapes: NumberRecord::SHAPES,
        computed_key: false,
    },
    Table {
        name: "services",
        columns: SERVICE_COLUMNS,
        key: "service",
        folded_key: "service_key",
        shapes: ServiceRecord::SHAPES,
        computed_key: true,
    },
    Table {
        name: "requests",
        columns: REQUEST_COLUMNS,
        key: "request_id",
        folded_key: "request_id",
        shapes: RequestRecord::SHAPES,
        computed_key: false,
    },
    Table {
        name: "regions",
        columns: REGION_COLUMNS,
        key: "region_id",
        folded_key: "region_id",
        shapes: Region::SHAPES,
        computed_key: false,
    },
];

// Each declaration names one column per field (and its computed key).
const _: () = {
    let mut index = 0;
    while index < TABLES.len() {
        let table = &TABLES[index];
        let columns = table.columns.as_bytes();
        let (mut commas, mut at) = (0, 0);
        while at < columns.len() {
            commas += (columns[at] == b',') as usize;
            at += 1;
        }
        assert!(commas + 1 == table.shapes.len() + table.computed_key as usize);
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

impl<'a> Value<'a> {
    /// A field as the column that holds it.
    fn of(field: Field<'a>) -> Value<'a> {
        match field {
            Field::Text(text) => Value::Text(Cow::Borrowed(text)),
            Field::Word(text) => Value::Text(Cow::Borrowed(text)),
            Field::OptionalText(text) => Value::OptionalText(text.map(Cow::Borrowed)),
            Field::Integer(number) => Value::Integer(number),
            Field::OptionalInteger(number) => Value::OptionalInteger(number),
            Field::Flag(flag) => Value::Integer(i64::from(flag)),
            Field::List(texts) => Value::Text(Cow::Owned(to_json_array(texts))),
        }
    }
}

/// A record's fields as the values of its row, in column order.
fn values_of<R: Record>(record: &R) -> Vec<Value<'_>> {
    let mut values = Vec::with_capacity(R::SHAPES.len() + 1);
    record.each_field(&mut |_, field| values.push(Value::of(field)));
    values
}

/// A list of names as stored in a text column (a JSON array).
pub(crate) fn to_json_array(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// The row a `Change` writes.
pub(crate) fn encode(change: &Change) -> Encoded<'_> {
    let (table, key, folded_key, seq, values) = match change {
        Change::Instance(r) => {
            let folded = fold(&r.instance_id);
            (
                DerivedTable::Instances,
                &r.instance_id,
                folded,
                r.updated_seq,
                values_of(r),
            )
        }
        Change::Number(r) => {
            let folded = fold(&r.number);
            (
                DerivedTable::Numbers,
                &r.number,
                folded,
                r.updated_seq,
                values_of(r),
            )
        }
        Change::Service(r) => {
            let mut values = values_of(r);
            let service_key = service_key(&r.service);
            values.insert(
                values.len() - 1,
                Value::Text(Cow::Owned(service_key.clone())),
            );
            (
                DerivedTable::Services,
                &r.service,
                service_key,
                r.updated_seq,
                values,
            )
        }
        Change::Policy(r) => {
            let folded = r.service_type.clone();
            (
                DerivedTable::Policy,
                &r.service_type,
                folded,
                r.updated_seq,
                values_of(r),
            )
        }
        Change::Request(r) => {
            let folded = r.request_id.clone();
            (
                DerivedTable::Requests,
                &r.request_id,
                folded,
                r.seq,
                values_of(r),
            )
        }
        Change::Region(r) => {
            let folded = r.region_id.clone();
            (
                DerivedTable::Regions,
                &r.region_id,
                folded,
                r.updated_seq,
                values_of(r),
            )
        }
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
        key: key.as_str(),
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

    fn json_array(&self, index: usize) -> RowResult<Vec<String>> {
        serde_json::from_str(&self.text(index)?).map_err(|error| format!("column {index}: {error}"))
    }
}

/// A row of `table` whose columns begin at `base`, read back as the
/// `Change` that writes it.
pub(crate) fn decode(table: DerivedTable, row: &impl RowRead, base: usize) -> RowResult<Change> {
    Ok(match table {
        DerivedTable::Policy => Change::Policy(record_at(row, base)?),
        DerivedTable::Instances => Change::Instance(record_at(row, base)?),
        DerivedTable::Numbers => Change::Number(record_at(row, base)?),
        DerivedTable::Services => Change::Service(service_at(row, base)?),
        DerivedTable::Requests => Change::Request(record_at(row, base)?),
        DerivedTable::Regions => Change::Region(record_at(row, base)?),
    })
}

/// A row's columns read as a record's fields, in order, from `at`,
/// passing over the column `skip`.
struct Columns<'r, R> {
    row: &'r R,
    at: usize,
    skip: Option<usize>,
}

impl<R: RowRead> Columns<'_, R> {
    fn next(&mut self) -> usize {
        if Some(self.at) == self.skip {
            self.at += 1;
        }
        self.at += 1;
        self.at - 1
    }
}

impl<R: RowRead> FieldRead for Columns<'_, R> {
    fn text(&mut self, _: &'static str) -> FieldResult<Cow<'_, str>> {
        let index = self.next();
        Ok(Cow::Owned(self.row.text(index)?))
    }
    fn optional_text(&mut self, _: &'static str) -> FieldResult<Option<Cow<'_, str>>> {
        let index = self.next();
        Ok(self.row.optional_text(index)?.map(Cow::Owned))
    }
    fn integer(&mut self, _: &'static str) -> FieldResult<i64> {
        let index = self.next();
        self.row.integer(index)
    }
    fn optional_integer(&mut self, _: &'static str) -> FieldResult<Option<i64>> {
        let index = self.next();
        self.row.optional_integer(index)
    }
    fn flag(&mut self, _: &'static str) -> FieldResult<bool> {
        let index = self.next();
        self.row.flag(index)
    }
    fn list(&mut self, _: &'static str) -> FieldResult<Vec<String>> {
        let index = self.next();
        self.row.json_array(index)
    }
}

/// The record whose columns begin at `base`.
pub(crate) fn record_at<T: Record>(row: &impl RowRead, base: usize) -> RowResult<T> {
    T::read(&mut Columns {
        row,
        at: base,
        skip: None,
    })
}

/// The stored key must be the service's (an edited key would hide the
/// service from its look-ups): a row whose key is not is corrupt.
pub(crate) fn service_at(row: &impl RowRead, base: usize) -> RowResult<ServiceRecord> {
    let key_column = base + ServiceRecord::SHAPES.len() - 1;
    let columns = &mut Columns {
        row,
        at: base,
        skip: Some(key_column),
    };
    let service = ServiceRecord::read(columns)?;
    let stored_key = row.text(key_column)?;
    if stored_key != service_key(&service.service) {
        return Err(format!(
            "service_key {stored_key:?} is not the key of the service"
        ));
    }
    Ok(service)
}

/// `columns` each prefixed with `alias.` (for a join).
pub(crate) fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|column| format!("{alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}
