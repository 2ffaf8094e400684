//! `init`: create the ledger (idempotent).

use super::Context;
use crate::error::Result;
use crate::render::{Record, Row};
use crate::store::SCHEMA_VERSION;
use serde::Serialize;

// init takes no arguments of its own.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(context: &Context, _args: Args) -> Result<()> {
    let store = context.init_store()?;
    let events = store.event_count()?;
    let db = crate::store::Store::shown(&context.db()?);
    context.emit(&Record(Initialised {
        db,
        schema_version: SCHEMA_VERSION,
        events,
    }))
}

/// The ledger `init` made or found.
#[derive(Serialize)]
struct Initialised {
    db: String,
    schema_version: i64,
    events: i64,
}

impl Row for Initialised {
    const HEADERS: &'static [&'static str] = &["db", "schema_version", "events"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.db.clone(),
            self.schema_version.to_string(),
            self.events.to_string(),
        ]
    }
}
