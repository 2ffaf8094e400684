//! What changed between two moments (`diff`, docs/reference.md "What changed between
//! two moments"): while the events after the first moment are replayed, the
//! first time one of them writes a row, the row as it stood before is kept;
//! at the second moment each kept row is compared with the row as it then
//! stands, field by field. A row the window never touched cannot differ, so
//! only touched rows are held.

use super::evolve::Change;
use super::memory::MemoryState;
use super::record::{field_text, is_seq, shown_name, Record};
use super::types::*;
use std::collections::BTreeMap;

/// The kinds of row `diff` compares, in the order it lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RowKind {
    Instance,
    Number,
    Service,
}

impl RowKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            RowKind::Instance => "instance",
            RowKind::Number => "number",
            RowKind::Service => "service",
        }
    }
}

/// One row of an instance, a number or a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Row {
    Instance(Instance),
    Number(NumberRecord),
    Service(ServiceRecord),
}

impl Row {
    /// The fields an auditor compares, as text (`None` when empty): all
    /// but the key and the seqs, which say when a row changed, not what.
    pub(crate) fn fields(&self) -> Vec<(&'static str, Option<String>)> {
        match self {
            Row::Instance(i) => shown_fields(i),
            Row::Number(n) => shown_fields(n),
            Row::Service(s) => shown_fields(s),
        }
    }
}

/// `record`'s fields but its key and seqs, amounts in CNY.
fn shown_fields(record: &impl Record) -> Vec<(&'static str, Option<String>)> {
    let mut fields = Vec::new();
    let mut is_key = true;
    record.each_field(&mut |name, field| {
        // The key names the row; it is not one of its fields.
        if std::mem::take(&mut is_key) || is_seq(name) {
            return;
        }
        let (name, is_fen) = shown_name(name);
        fields.push((name, field_text(field, is_fen)));
    });
    fields
}

/// A row that differs between the two moments: `None` on the side where
/// it did not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowDiff {
    pub kind: RowKind,
    pub key: String,
    pub before: Option<Row>,
    pub after: Option<Row>,
}

impl RowDiff {
    /// `created`, `removed` (a service renamed away) or `changed`.
    pub(crate) fn change(&self) -> &'static str {
        match (&self.before, &self.after) {
            (None, _) => "created",
            (_, None) => "removed",
            _ => "changed",
        }
    }

    /// Each field whose value differs: (field, before, after). A created
    /// or removed row lists every field it has.
    pub(crate) fn changed_fields(&self) -> Vec<(&'static str, Option<String>, Option<String>)> {
        let before = self.before.as_ref().map(Row::fields).unwrap_or_default();
        let after = self.after.as_ref().map(Row::fields).unwrap_or_default();
        let names: Vec<&'static str> = if after.is_empty() {
            before.iter().map(|(name, _)| *name).collect()
        } else {
            after.iter().map(|(name, _)| *name).collect()
        };
        let value = |fields: &[(&'static str, Option<String>)], name: &str| {
            fields
                .iter()
                .find(|(field, _)| *field == name)
                .and_then(|(_, value)| value.clone())
        };
        names
            .into_iter()
            .map(|name| (name, value(&before, name), value(&after, name)))
            .filter(|(_, before, after)| before != after)
            .collect()
    }
}

/// The rows written after the first moment, as they stood before.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    before: BTreeMap<(RowKind, String), Option<Row>>,
}

impl Tracker {
    /// Keeps the row `change` is about to write, as `state` has it now,
    /// unless an earlier change of the window already kept it. Call before
    /// applying the change.
    pub(crate) fn note(&mut self, state: &MemoryState, change: &Change) {
        let Some((kind, key)) = row_key(change) else {
            return;
        };
        if self.before.contains_key(&(kind, key.to_string())) {
            return;
        }
        let row = current(state, kind, key);
        self.before.insert((kind, key.to_string()), row);
    }

    /// Every kept row that differs from the row as `state` now has it, by
    /// kind, then key.
    pub(crate) fn finish(self, state: &MemoryState) -> Vec<RowDiff> {
        self.before
            .into_iter()
            .filter_map(|((kind, key), before)| {
                let after = current(state, kind, &key);
                let diff = RowDiff {
                    kind,
                    key,
                    before,
                    after,
                };
                (!diff.changed_fields().is_empty()).then_some(diff)
            })
            .collect()
    }
}

/// Which instance, number or service row a change writes (policies,
/// regions and request ids are not compared).
fn row_key(change: &Change) -> Option<(RowKind, &str)> {
    match change {
        Change::Instance(r) => Some((RowKind::Instance, &r.instance_id)),
        Change::Number(r) => Some((RowKind::Number, &r.number)),
        Change::Service(r) => Some((RowKind::Service, &r.service)),
        Change::ForgetService { service, .. } => Some((RowKind::Service, service)),
        Change::Policy(_) | Change::Request(_) | Change::Region(_) => None,
    }
}

/// The row under its exact key (changes carry the ledger's spelling).
fn current(state: &MemoryState, kind: RowKind, key: &str) -> Option<Row> {
    match kind {
        RowKind::Instance => state.instances.get(key).map(Row::Instance),
        RowKind::Number => state.numbers.get(key).cloned().map(Row::Number),
        RowKind::Service => state.services.get(key).cloned().map(Row::Service),
    }
}

#[cfg(test)]
mod tests;
