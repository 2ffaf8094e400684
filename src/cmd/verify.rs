//! `verify`: re-check the hash chain from seq 1 and rebuild every derived
//! table from the log alone, then compare with the stored tables.

use super::Context;
use crate::domain::event::{canonical_event_id, chain_hash, GENESIS_HASH};
use crate::domain::memory::MemoryState;
use crate::domain::types::{format_time, parse_time};
use crate::error::{Error, Result};
use crate::render::Table;
use crate::store::{EventFilter, EventRef, Store};
use serde_json::json;

/// Problems listed at most (the count of events checked is always exact).
const PROBLEMS_MAX: usize = 100;

#[derive(Debug, Default)]
pub struct Report {
    pub events: i64,
    pub problems: Vec<(Option<i64>, String)>,
}

impl Report {
    fn problem(&mut self, seq: Option<i64>, message: String) {
        if self.problems.len() < PROBLEMS_MAX {
            self.problems.push((seq, message));
        }
    }

    pub fn first_bad_seq(&self) -> Option<i64> {
        self.problems.iter().filter_map(|(seq, _)| *seq).min()
    }
}

/// Events handed to the replay thread at a time.
const BATCH: usize = 2048;

/// A batch of events for the replay thread: their kinds and payloads in one
/// buffer (one allocation per batch, not two per event).
#[derive(Default)]
struct Batch {
    text: String,
    /// seq, and the ends of kind and payload in `text`.
    events: Vec<(i64, usize, usize)>,
}

impl Batch {
    fn push(&mut self, seq: i64, kind: &str, payload: &str) {
        self.text.push_str(kind);
        let kind_end = self.text.len();
        self.text.push_str(payload);
        self.events.push((seq, kind_end, self.text.len()));
    }

    fn each(&self, mut visit: impl FnMut(i64, &str, &str)) {
        let mut start = 0;
        for (seq, kind_end, payload_end) in &self.events {
            visit(
                *seq,
                &self.text[start..*kind_end],
                &self.text[*kind_end..*payload_end],
            );
            start = *payload_end;
        }
    }
}

/// Checks the chain on this thread while a second thread replays the events
/// into memory (the two halves take similar time, and there are two cores).
pub fn check(store: &Store) -> Result<Report> {
    let mut report = Report::default();
    let _snapshot = store.begin_read()?;
    if !store.triggers_present()? {
        report.problem(
            None,
            "the append-only triggers on events are missing or altered".to_string(),
        );
    }
    let mut rebuilt = MemoryState::new();
    rebuilt.reserve(
        store.count_kind(&["instance_added"])?,
        store.count_kind(&["allocated", "selected"])?,
    );
    // Only what the replay needs crosses to the other thread.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(8);
    let replayer = std::thread::spawn(move || {
        let mut problems = Vec::new();
        for batch in receiver {
            batch.each(|seq, kind, payload| {
                if let Err(error) = rebuilt.replay(seq, kind, payload) {
                    let message = match error {
                        Error::Integrity(message) if message.starts_with("event ") => message,
                        other => format!("event {seq}: {other}"),
                    };
                    if problems.len() < PROBLEMS_MAX {
                        problems.push((Some(seq), message));
                    }
                }
            });
        }
        // The rebuilt tables' digests, while the main thread digests the stored ones.
        let digests = rebuilt.digests();
        (rebuilt, digests, problems)
    });
    let mut expected_seq = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut prev_at = String::new();
    // Event ids with their seqs, sorted at the end to find repeats (cheaper
    // than a hash set of millions).
    let mut event_ids: Vec<(u128, i64)> = Vec::with_capacity(
        store
            .head()?
            .map_or(0, |head| head.seq.clamp(0, 50_000_000)) as usize,
    );
    let mut batch = Batch::default();
    let read = store.each_event_ref(|event| {
        report.events += 1;
        check_link(
            &mut report,
            event,
            expected_seq,
            &prev_hash,
            &prev_at,
            &mut event_ids,
        );
        expected_seq = event.seq + 1;
        prev_hash.clear();
        prev_hash.push_str(event.hash);
        prev_at.clear();
        prev_at.push_str(event.at);
        batch.push(event.seq, event.kind, event.payload);
        if batch.events.len() == BATCH {
            // A closed channel means the replay thread died; join says why.
            let _ = sender.send(std::mem::take(&mut batch));
        }
        Ok(())
    });
    let _ = sender.send(batch);
    drop(sender);
    // While the replay thread finishes, digest the stored tables.
    let stored = store.digest_derived();
    let (mut rebuilt, rebuilt_digests, replay_problems) = replayer.join().map_err(|_| {
        Error::Integrity("verify: the replay of the log failed unexpectedly".to_string())
    })?;
    read?;
    let stored = stored?;
    event_ids.sort_unstable();
    for pair in event_ids.windows(2) {
        if pair[0].0 == pair[1].0 {
            let seq = pair[0].1.max(pair[1].1);
            report.problem(
                Some(seq),
                format!(
                    "event {seq}: its event_id also belongs to event {}",
                    pair[0].1.min(pair[1].1)
                ),
            );
        }
    }
    for (seq, message) in replay_problems {
        report.problem(seq, message);
    }
    let disagreements = store.compare_derived(&mut rebuilt, &rebuilt_digests, &stored)?;
    // Freeing millions of rebuilt rows one by one costs a tenth of a run,
    // and the process ends right after verify: let it go with the process.
    std::mem::forget(rebuilt);
    for disagreement in disagreements {
        // The history index is checked by digest; find the event it is off at.
        let seq = match disagreement.seq {
            Some(seq) => Some(seq),
            None => first_bad_subjects(store)?,
        };
        report.problem(seq, disagreement.problem);
    }
    Ok(report)
}

/// The checks of one event against the one before it: seq, link, hash,
/// time and id.
fn check_link(
    report: &mut Report,
    event: &EventRef,
    expected_seq: i64,
    prev_hash: &str,
    prev_at: &str,
    event_ids: &mut Vec<(u128, i64)>,
) {
    let seq = event.seq;
    if seq != expected_seq {
        report.problem(
            Some(expected_seq.min(seq)),
            format!(
                "seq {expected_seq} expected, found {seq} (an event is missing or out of place)"
            ),
        );
    }
    if event.prev_hash != prev_hash {
        report.problem(
            Some(seq),
            format!("event {seq}: prev_hash does not link to the previous event"),
        );
    }
    let computed = chain_hash(
        event.prev_hash,
        event.seq,
        event.event_id,
        event.at,
        event.actor,
        event.kind,
        event.payload,
    );
    if computed != event.hash {
        report.problem(
            Some(seq),
            format!("event {seq}: hash does not match its contents"),
        );
    }
    // A time equal to the previous event's was checked with it (a bulk
    // import gives millions of events one time).
    let canonical = (event.at == prev_at && !prev_at.is_empty())
        || parse_time("at", event.at).is_ok_and(|at| format_time(at) == event.at);
    if !canonical {
        report.problem(
            Some(seq),
            format!("event {seq}: 'at' is not a canonical UTC time"),
        );
    } else if event.at < prev_at {
        report.problem(
            Some(seq),
            format!(
                "event {seq}: time {} is earlier than the previous {prev_at}",
                event.at
            ),
        );
    }
    match canonical_event_id(event.event_id) {
        Some(id) => event_ids.push((id, seq)),
        None => report.problem(
            Some(seq),
            format!("event {seq}: event_id is not a UUID v4 in lowercase hyphenated form"),
        ),
    }
}

/// The first seq whose stored history index rows differ from what the
/// event names.
fn first_bad_subjects(store: &Store) -> Result<Option<i64>> {
    let mut stored = store.subjects_by_seq()?;
    let mut first = None;
    store.each_event(&EventFilter::all(), |event| {
        if first.is_none() {
            let mut named = event.body().map(|body| body.subjects()).unwrap_or_default();
            let mut found = stored.remove(&event.seq).unwrap_or_default();
            named.sort();
            found.sort();
            if named != found {
                first = Some(event.seq);
            }
        }
        Ok(())
    })?;
    Ok(first.or_else(|| stored.keys().next().copied()))
}

// verify takes no arguments of its own.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(context: &Context, _args: Args) -> Result<()> {
    let store = context.store()?;
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
