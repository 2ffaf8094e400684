//! `digest`: the head of the log — seq, time and hash — for an operator to
//! keep outside the ledger; `verify --digest SEQ:HASH` later proves that the
//! log still passes through it (docs/reference.md "Anchors outside the file").

use super::Context;
use crate::domain::event::GENESIS_HASH;
use crate::error::Result;
use crate::render::Table;
use serde_json::json;

// `digest` takes no options of its own (the global ones apply).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(context: &Context, _args: Args) -> Result<()> {
    let store = context.read_store()?;
    let head = store.head()?;
    let (seq, at, hash) = match &head {
        Some(head) => (head.seq, Some(head.at.as_str()), head.hash.as_str()),
        None => (0, None, GENESIS_HASH),
    };
    let json = json!({"seq": seq, "at": at, "hash": hash});
    let mut table = Table::new(&["seq", "at", "hash"]);
    table.row(vec![
        seq.to_string(),
        at.unwrap_or("").to_string(),
        hash.to_string(),
    ]);
    table.footer.push(format!(
        "keep it outside the ledger; later: snledger verify --digest {seq}:{hash}"
    ));
    context.emit(&json, table)
}
