//! `reconcile --record`: one `reconciled` event saying which provider file
//! the book was compared with and what differed (docs/reconcile.md "Reconciling with
//! the provider"). It reads no state: the comparison itself is a read
//! (`domain/reconcile.rs`), and the event only records its outcome, so that
//! the audit trail shows when the book was last checked and against what.

use crate::domain::event::{Body, Reconciled};

pub(super) fn record(reconciled: &Reconciled) -> Body {
    Body::Reconciled(reconciled.clone())
}
