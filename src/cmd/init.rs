//! `init`: create the ledger (idempotent).

use super::Context;
use crate::error::Result;
use crate::render::Table;
use crate::store::SCHEMA_VERSION;
use serde_json::json;

// init takes no arguments of its own.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(context: &Context, _args: Args) -> Result<()> {
    let store = context.init_store()?;
    let events = store.event_count()?;
    let db = crate::store::Store::shown(&context.db()?);
    let json = json!({"db": db, "schema_version": SCHEMA_VERSION, "events": events});
    let table = Table::record(vec![
        ("db", db.clone()),
        ("schema_version", SCHEMA_VERSION.to_string()),
        ("events", events.to_string()),
    ]);
    context.emit(&json, table)
}
