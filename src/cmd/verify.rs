//! `verify`: check the ledger (the work is in `crate::verify`) and render
//! the report.

use super::Context;
use crate::domain::types::shorten;
use crate::error::{Error, Result};
use crate::render::{Answer, Table};
use crate::verify::{check, Anchors};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A head kept outside the ledger (from `snledger digest`): the log must
    /// still pass through it, so a rewrite or a cut tail shows (repeatable).
    #[arg(long = "digest", value_name = "SEQ:HASH")]
    digests: Vec<String>,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let anchors = parse_anchors(&args.digests)?;
    let store = context.read_store()?;
    let report = match check(&store, &anchors, context.reference_clock(&store)?) {
        Err(Error::Integrity(message)) if message.starts_with(crate::error::CORRUPT) => {
            crate::verify::corrupt(&store, message)
        }
        other => other?,
    };
    let verdict = Verdict {
        ok: report.problems.is_empty(),
        events: report.events,
        first_bad_seq: report.first_bad_seq(),
        problems: report.problems.iter().map(|(_, p)| p.as_str()).collect(),
    };
    context.emit(&verdict)?;
    if verdict.ok {
        Ok(())
    } else {
        Err(Error::Integrity(format!(
            "the ledger fails verification: first bad event {}; {} problem(s)",
            verdict
                .first_bad_seq
                .map_or("unknown".to_string(), |s| s.to_string()),
            verdict.problems.len()
        )))
    }
}

/// What `verify` found.
#[derive(Serialize)]
struct Verdict<'a> {
    ok: bool,
    events: i64,
    first_bad_seq: Option<i64>,
    problems: Vec<&'a str>,
}

impl Answer for Verdict<'_> {
    /// One row per problem (or one row when all is well), so the CSV form
    /// carries the problems too.
    fn table(&self) -> Table {
        let mut table = Table::new(&["ok", "events", "first_bad_seq", "problem"]);
        let first = self
            .first_bad_seq
            .map(|s| s.to_string())
            .unwrap_or_default();
        for problem in self.problems.iter().copied().chain(self.ok.then_some("")) {
            table.row(vec![
                self.ok.to_string(),
                self.events.to_string(),
                first.clone(),
                problem.to_string(),
            ]);
        }
        table
    }
}

/// `SEQ:HASH` pairs: a seq of 0 or more and a lowercase hex SHA-256.
fn parse_anchors(digests: &[String]) -> Result<Anchors> {
    let mut anchors = Anchors::new();
    for digest in digests {
        let parsed = digest.split_once(':').and_then(|(seq, hash)| {
            let seq: i64 = seq.parse().ok().filter(|seq| *seq >= 0)?;
            let hex = hash.len() == 64
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            hex.then(|| (seq, hash.to_string()))
        });
        let Some((seq, hash)) = parsed else {
            return Err(Error::usage(format!(
                "--digest: '{}' is not SEQ:HASH (a seq and 64 lowercase hex digits, as `snledger digest` prints)",
                shorten(digest)
            )));
        };
        if anchors
            .insert(seq, hash.clone())
            .is_some_and(|other| other != hash)
        {
            return Err(Error::usage(format!(
                "--digest: two hashes given for seq {seq}"
            )));
        }
    }
    Ok(anchors)
}
