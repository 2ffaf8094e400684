//! The lists both backends answer, each written once in SQLite's spelling
//! (`?N`); PostgreSQL's is made from it (`postgres_spelling`). A backend
//! runs a list and reads its rows back as `Change`s of the list's table
//! (`DerivedRows::list`); the typed lists of `DerivedRows` are built on
//! that (`store/mod.rs`).

use crate::domain::evolve::{Change, Keyed};
use crate::store::tables::{prefixed, Value};
use crate::store::DerivedTable;
use std::borrow::Cow;

use super::tables::{
    INSTANCE_COLUMNS, NUMBER_COLUMNS, POLICY_COLUMNS, REGION_COLUMNS, SERVICE_COLUMNS,
};

/// One list of derived rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum List {
    Instances,
    NumbersOf,
    Numbers,
    Services,
    NumbersWithPrefix,
    NumbersWithIcpNumber,
    Policies,
    Regions,
}

// `ALL` lists every list in declaration order, so `self as usize` is its place.
const _: () = {
    let mut place = 0;
    while place < List::ALL.len() {
        assert!(List::ALL[place] as usize == place);
        place += 1;
    }
    assert!(List::Regions as usize + 1 == List::ALL.len());
};

impl List {
    const ALL: [List; 8] = [
        List::Instances,
        List::NumbersOf,
        List::Numbers,
        List::Services,
        List::NumbersWithPrefix,
        List::NumbersWithIcpNumber,
        List::Policies,
        List::Regions,
    ];

    /// The table whose rows the list reads.
    pub(crate) fn table(self) -> DerivedTable {
        match self {
            List::Instances => DerivedTable::Instances,
            List::NumbersOf
            | List::Numbers
            | List::NumbersWithPrefix
            | List::NumbersWithIcpNumber => DerivedTable::Numbers,
            List::Services => DerivedTable::Services,
            List::Policies => DerivedTable::Policy,
            List::Regions => DerivedTable::Regions,
        }
    }

    /// The statement, in SQLite's spelling: a nullable filter is
    /// `(?N IS NULL OR …)`.
    fn sql(self) -> String {
        const NUMBER_ORDER: &str = "ORDER BY instance_id, issued_seq, number";
        match self {
            List::Instances => format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE (?1 IS NULL OR account = ?1) AND (?2 IS NULL OR service_type = ?2) ORDER BY instance_id"
            ),
            List::NumbersOf => format!(
                "SELECT {NUMBER_COLUMNS} FROM numbers WHERE instance_id = ?1 ORDER BY issued_seq, number"
            ),
            List::Numbers => format!(
                "SELECT {NUMBER_COLUMNS} FROM numbers
                 WHERE (?1 IS NULL OR instance_id = ?1) AND (?2 IS NULL OR holder = ?2 OR owner = ?2) AND (?3 IS NULL OR status = ?3)
                 {NUMBER_ORDER}"
            ),
            List::Services => format!(
                "SELECT {} FROM services s JOIN numbers n ON n.number = s.number
                 WHERE ?1 IS NULL OR s.host = ?1 OR n.instance_id = ?1 ORDER BY s.service",
                prefixed("s", SERVICE_COLUMNS)
            ),
            List::NumbersWithPrefix => format!(
                "SELECT {NUMBER_COLUMNS} FROM numbers WHERE number >= ?1 AND number < ?2 ORDER BY number LIMIT ?3"
            ),
            List::NumbersWithIcpNumber => {
                format!("SELECT {NUMBER_COLUMNS} FROM numbers WHERE icp_number = ?1 {NUMBER_ORDER}")
            }
            List::Policies => format!("SELECT {POLICY_COLUMNS} FROM policy ORDER BY service_type"),
            List::Regions => format!("SELECT {REGION_COLUMNS} FROM regions ORDER BY region_id"),
        }
    }

    /// The statement in a backend's spelling (`spelled`), made once per run:
    /// `texts` is the backend's cache of them.
    pub(crate) fn statement(
        self,
        texts: &'static std::sync::OnceLock<Vec<String>>,
        spelled: fn(&str) -> String,
    ) -> &'static str {
        let made =
            texts.get_or_init(|| List::ALL.iter().map(|list| spelled(&list.sql())).collect());
        &made[self as usize]
    }
}

/// SQLite's spelling, as written.
pub(crate) fn sqlite_spelling(sql: &str) -> String {
    sql.to_string()
}

/// PostgreSQL's spelling of a statement written for SQLite: `$N` for `?N`,
/// and `$N::text` where it is tested for NULL (PostgreSQL must be told the
/// type of a parameter it sees only there).
pub(crate) fn postgres_spelling(sql: &str) -> String {
    let mut spelled = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('?') {
        spelled.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let after = &rest[at + 1 + digits..];
        spelled.push('$');
        spelled.push_str(&rest[at + 1..at + 1 + digits]);
        if after.starts_with(" IS NULL") {
            spelled.push_str("::text");
        }
        rest = after;
    }
    spelled.push_str(rest);
    spelled
}

/// A nullable text parameter.
pub(crate) fn text(value: Option<&str>) -> Value<'_> {
    Value::OptionalText(value.map(Cow::Borrowed))
}

/// The records of a list's rows.
pub(crate) fn records<T: Keyed>(rows: Vec<Change>) -> Vec<T> {
    rows.into_iter()
        .map(|change| {
            // invariant: a list reads the rows of its own table (`List::table`).
            T::from_change(change).expect("a list reads its table's records")
        })
        .collect()
}

/// The numbers that begin with `prefix` run from it up to the first text
/// past every continuation of it; `None` where there is none to read.
pub(crate) fn prefix_params(prefix: &str, limit: usize) -> Option<[Value<'_>; 3]> {
    let end = super::shared::prefix_range_end(prefix)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    Some([
        text(Some(prefix)),
        Value::OptionalText(Some(Cow::Owned(end))),
        Value::Integer(limit),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_spelling_numbers_parameters_and_types_the_nullable_ones() {
        assert_eq!(
            postgres_spelling("WHERE (?1 IS NULL OR a = ?1) AND b = ?12 LIMIT ?3"),
            "WHERE ($1::text IS NULL OR a = $1) AND b = $12 LIMIT $3"
        );
        assert_eq!(postgres_spelling("no parameters"), "no parameters");
    }

    #[test]
    fn every_list_reads_its_table_columns_first() {
        for list in List::ALL {
            let columns = crate::store::tables::table(list.table()).columns;
            let sql = list.sql();
            let selected = sql.trim_start_matches("SELECT ").replace("s.", "");
            assert!(selected.starts_with(columns), "{list:?}: {sql}");
        }
    }
}
