//! `digest`: the head of the log — seq, time and hash — for an operator to
//! keep outside the ledger; `verify --digest SEQ:HASH` later proves that the
//! log still passes through it (docs/reference.md "Anchors outside the file").

use super::Context;
use crate::domain::event::GENESIS_HASH;
use crate::error::Result;
use crate::render::{Answer, Table};
use serde::Serialize;

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
    context.emit(&Digest { seq, at, hash })
}

/// The head of the log (seq 0 and the genesis hash for an empty log).
#[derive(Serialize)]
struct Digest<'a> {
    seq: i64,
    at: Option<&'a str>,
    hash: &'a str,
}

impl Answer for Digest<'_> {
    fn table(&self) -> Table {
        let mut table = Table::new(&["seq", "at", "hash"]);
        table.row(vec![
            self.seq.to_string(),
            self.at.unwrap_or("").to_string(),
            self.hash.to_string(),
        ]);
        table.footer.push(format!(
            "keep it outside the ledger; later: snledger verify --digest {}:{}",
            self.seq, self.hash
        ));
        table
    }
}
