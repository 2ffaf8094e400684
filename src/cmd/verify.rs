//! `verify`: check the ledger (the work is in `crate::verify`) and render
//! the report.

use super::Context;
use crate::error::{Error, Result};
use crate::render::Table;
use crate::verify::check;
use serde_json::json;

// `verify` takes no options of its own (the global ones apply).
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(context: &Context, _args: Args) -> Result<()> {
    let store = context.read_store()?;
    let report = check(&store)?;
    let ok = report.problems.is_empty();
    let first_bad_seq = report.first_bad_seq();
    let problems: Vec<&str> = report.problems.iter().map(|(_, p)| p.as_str()).collect();
    let json = json!({"ok": ok, "events": report.events, "first_bad_seq": first_bad_seq, "problems": problems});
    // One row per problem (or one row when all is well), so the CSV form
    // carries the problems too.
    let mut table = Table::new(&["ok", "events", "first_bad_seq", "problem"]);
    let first = first_bad_seq.map(|s| s.to_string()).unwrap_or_default();
    for problem in problems
        .iter()
        .map(|p| p.to_string())
        .chain(ok.then(String::new))
    {
        table.row(vec![
            ok.to_string(),
            report.events.to_string(),
            first.clone(),
            problem,
        ]);
    }
    context.emit(&json, table)?;
    if ok {
        Ok(())
    } else {
        Err(Error::Integrity(format!(
            "the ledger fails verification: first bad event {}; {} problem(s)",
            first_bad_seq.map_or("unknown".to_string(), |s| s.to_string()),
            problems.len()
        )))
    }
}
