//! Verifying a ledger: the chain from seq 1 (`chain`), a replay of the log
//! into memory, and the derived tables against that replay (`tables`).
//! `verify` runs all of it; `import history` runs the same chain check on
//! each row it reads.

pub(crate) mod chain;
pub(crate) mod clock;
mod tables;

use crate::domain::event::Body;
use crate::domain::event::{broken, GENESIS_HASH};
use crate::domain::memory::{digest_subjects, MemoryState, PastKept};
use crate::domain::replay::Recorded;
use crate::domain::types::{parse_time, Time};
use crate::error::{Error, Result};
use crate::store::{EventRef, Store};
use chain::{Chain, LinkProblem};

/// Heads kept outside the ledger: the hash the log must have at each seq.
pub(crate) type Anchors = std::collections::BTreeMap<i64, String>;

/// Problems listed at most (the count of events checked is always exact).
const PROBLEMS_MAX: usize = 100;

#[derive(Debug, Default)]
pub(crate) struct Report {
    pub events: i64,
    pub problems: Vec<(Option<i64>, String)>,
}

impl Report {
    fn problem(&mut self, seq: Option<i64>, message: String) {
        if self.problems.len() < PROBLEMS_MAX {
            self.problems.push((seq, message));
        }
    }

    pub(crate) fn first_bad_seq(&self) -> Option<i64> {
        self.problems.iter().filter_map(|(seq, _)| *seq).min()
    }
}

/// Events handed to the replay thread at a time.
const BATCH: usize = 2048;

/// A batch of events for the replay thread: the fields re-deciding needs,
/// in one buffer (one allocation per batch, not several per event).
#[derive(Default)]
struct Batch {
    text: String,
    /// seq, and the ends of at, actor, kind and payload in `text`.
    events: Vec<(i64, [usize; 4])>,
}

impl Batch {
    fn push(&mut self, event: &EventRef) {
        let mut ends = [0; 4];
        for (end, field) in ends
            .iter_mut()
            .zip([event.at, event.actor, event.kind, event.payload])
        {
            self.text.push_str(field);
            *end = self.text.len();
        }
        self.events.push((event.seq, ends));
    }

    /// Each event's seq and its at, actor, kind and payload.
    fn each(&self, mut visit: impl FnMut(i64, [&str; 4])) {
        let mut start = 0;
        for (seq, ends) in &self.events {
            let mut fields = [""; 4];
            for (field, end) in fields.iter_mut().zip(ends) {
                *field = &self.text[start..*end];
                start = *end;
            }
            visit(*seq, fields);
        }
    }
}

/// Parses event times, remembering the last one (a bulk import gives
/// millions of events one time).
#[derive(Default)]
struct Times {
    text: String,
    time: Option<Time>,
}

impl Times {
    fn parse(&mut self, seq: i64, text: &str) -> Result<Time> {
        if let Some(time) = self.time.filter(|_| self.text == text) {
            return Ok(time);
        }
        let time = parse_time("at", text).map_err(|e| broken(seq, e.to_string()))?;
        self.text.clear();
        self.text.push_str(text);
        self.time = Some(time);
        Ok(time)
    }
}

/// Replays one event of a batch into the rebuilt state: its time and body,
/// its history index rows, then the event re-decided. (The reading thread
/// has the digest of the stored tables to do after the log: the parsing is
/// here, so the two threads take similar time.)
fn replay_one(
    rebuilt: &mut MemoryState,
    times: &mut Times,
    seq: i64,
    fields: [&str; 4],
) -> Result<()> {
    let [at, actor, kind, payload] = fields;
    let at = times.parse(seq, at)?;
    let body = Body::parse(kind, payload).map_err(|e| broken(seq, e.to_string()))?;
    digest_subjects(&mut rebuilt.subjects, seq, &body);
    rebuilt.replay(Recorded {
        seq,
        at,
        actor,
        body,
        payload,
    })
}

/// What the replay thread gives back: the rebuilt state, its digests, and
/// the events it could not replay.
type Replayed = (
    MemoryState,
    crate::domain::digest::TableDigests,
    Vec<(Option<i64>, String)>,
);

/// Replays batches of events into memory on a second thread.
fn spawn_replay(
    mut rebuilt: MemoryState,
) -> (
    std::sync::mpsc::SyncSender<Batch>,
    std::thread::JoinHandle<Replayed>,
) {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(8);
    let replayer = std::thread::spawn(move || {
        let mut problems = Vec::new();
        let mut times = Times::default();
        for batch in receiver {
            batch.each(|seq, fields| {
                if let Err(error) = replay_one(&mut rebuilt, &mut times, seq, fields) {
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
    (sender, replayer)
}

/// Checks the chain on this thread while a second thread replays the events
/// into memory (the two halves take similar time, and there are two cores).
pub(crate) fn check(store: &Store, anchors: &Anchors, reference: Time) -> Result<Report> {
    let mut report = Report::default();
    let _snapshot = store.begin_read()?;
    // SQLite's consistency check reads the whole file: beside the replay.
    let consistency = std::thread::spawn(store.consistency_job());
    for problem in store.storage_problems()? {
        report.problem(None, problem);
    }
    let mut rebuilt = MemoryState::new();
    rebuilt.past_kept = PastKept::Digests;
    rebuilt.reserve(
        store.count_kinds(&["instance_added"])?,
        store.count_kinds(&["allocated", "selected"])?,
    );
    let (sender, replayer) = spawn_replay(rebuilt);
    // Sized by the rows the log holds, never by a number stored in it.
    let scan = LogScan::new(reference, store.event_count()?.max(0) as usize);
    let (scan, read) = scan_log(store, anchors, scan, &mut report, sender);
    // While the replay thread finishes, digest the stored tables.
    let stored = tables::digest_stored(store);
    let (mut rebuilt, rebuilt_digests, replay_problems) = replayer.join().map_err(|_| {
        Error::Integrity("verify: the replay of the log failed unexpectedly".to_string())
    })?;
    read?;
    let stored = stored?;
    repeated_event_ids(&mut report, scan.event_ids);
    for (seq, message) in scan.clock.finish(store)? {
        report.problem(Some(seq), message);
    }
    if scan.anchors_seen < anchors.len() {
        cut_tail(&mut report, anchors, scan.chain.expected_seq - 1);
    }
    for (seq, message) in replay_problems {
        report.problem(seq, message);
    }
    let consistency = consistency.join().map_err(|_| {
        Error::Integrity("verify: the consistency check failed unexpectedly".to_string())
    })?;
    for problem in consistency? {
        report.problem(None, problem);
    }
    let disagreements = tables::compare(store, &mut rebuilt, &rebuilt_digests, &stored)?;
    // Freeing millions of rebuilt rows one by one costs a tenth of a run,
    // and the process ends right after verify: let it go with the process.
    std::mem::forget(rebuilt);
    for disagreement in disagreements {
        report.problem(disagreement.seq, disagreement.problem);
    }
    Ok(report)
}

/// What the pass over the log leaves for the end of `check`.
struct LogScan {
    chain: Chain,
    clock: clock::ClockScan,
    /// Event ids with their seqs, sorted at the end to find repeats
    /// (cheaper than a hash set of millions).
    event_ids: Vec<(u128, i64)>,
    anchors_seen: usize,
}

impl LogScan {
    /// Before the first event: `capacity` is how many events the log holds.
    fn new(reference: Time, capacity: usize) -> LogScan {
        LogScan {
            chain: Chain::default(),
            clock: clock::ClockScan::new(reference),
            event_ids: Vec::with_capacity(capacity),
            anchors_seen: 0,
        }
    }
}

/// Reads the log once: each event against the chain, the anchors and the
/// clock, and on to the replay thread in batches. The read's own error is
/// returned apart, so that the replay is joined (and says why) first.
fn scan_log(
    store: &Store,
    anchors: &Anchors,
    mut scan: LogScan,
    report: &mut Report,
    sender: std::sync::mpsc::SyncSender<Batch>,
) -> (LogScan, Result<()>) {
    let mut batch = Batch::default();
    let mut problems = Vec::new();
    let read = store.each_event_ref(&mut |event| {
        report.events += 1;
        if let Some(expected) = anchors.get(&event.seq) {
            scan.anchors_seen += 1;
            if event.hash != expected {
                report.problem(Some(event.seq), rewritten(event, expected));
            }
        }
        if let Some(id) = scan.chain.check(event, &mut problems) {
            scan.event_ids.push((id, event.seq));
        }
        for problem in problems.drain(..) {
            let (seq, message) = describe(&problem, event);
            report.problem(Some(seq), message);
        }
        scan.clock
            .push(event.seq, event.kind, event.at, event.payload);
        batch.push(event);
        if batch.events.len() == BATCH {
            // A closed channel means the replay thread died; join says why.
            let _ = sender.send(std::mem::take(&mut batch));
        }
        Ok(())
    });
    let _ = sender.send(batch);
    (scan, read)
}

/// The report on a ledger whose storage the database finds corrupt: the
/// error it gave, and what its own consistency check finds.
pub(crate) fn corrupt(store: &Store, message: String) -> Report {
    let mut report = Report {
        events: store.event_count().unwrap_or(0),
        ..Report::default()
    };
    report.problem(None, message);
    match store.consistency_job()() {
        Ok(problems) => problems.into_iter().for_each(|p| report.problem(None, p)),
        Err(error) => report.problem(None, format!("the database's consistency check: {error}")),
    }
    report
}

/// Two events with one id: named at the later one.
fn repeated_event_ids(report: &mut Report, mut event_ids: Vec<(u128, i64)>) {
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
}

/// A chain problem as `verify` reports it: the seq it is at, and why.
pub(crate) fn describe(problem: &LinkProblem, event: &EventRef) -> (i64, String) {
    let seq = event.seq;
    match problem {
        LinkProblem::WrongType { column } => (
            seq,
            format!("event {seq}: {column} is stored as a value that is not text"),
        ),
        LinkProblem::SeqOutOfPlace { expected } => (
            (*expected).min(seq),
            format!("seq {expected} expected, found {seq} (an event is missing or out of place)"),
        ),
        LinkProblem::BrokenLink => (
            seq,
            format!("event {seq}: prev_hash does not link to the previous event"),
        ),
        LinkProblem::HashMismatch => (
            seq,
            format!("event {seq}: hash does not match its contents"),
        ),
        LinkProblem::TimeNotCanonical => (
            seq,
            format!("event {seq}: 'at' is not a canonical UTC time"),
        ),
        LinkProblem::TimeBackwards { previous } => (
            seq,
            format!(
                "event {seq}: time {} is earlier than the previous {previous}",
                event.at
            ),
        ),
        LinkProblem::EventIdNotCanonical => (
            seq,
            format!("event {seq}: event_id is not a UUID v4 in lowercase hyphenated form"),
        ),
    }
}

/// The log has another hash at a seq whose hash was kept outside.
fn rewritten(event: &EventRef, expected: &str) -> String {
    format!(
        "event {}: hash {} is not the digest's {expected}: the log was rewritten",
        event.seq, event.hash
    )
}

/// Digests beyond the last event: the log lost its tail. (A digest of seq 0
/// is the empty log's, which every log passes through.)
fn cut_tail(report: &mut Report, anchors: &Anchors, last_seq: i64) {
    for (seq, hash) in anchors.range(last_seq + 1..) {
        report.problem(
            Some(*seq),
            format!("the log ends at seq {last_seq}, before the digest's seq {seq} ({hash}): events were cut from its end"),
        );
    }
    if let Some(hash) = anchors.get(&0).filter(|hash| hash.as_str() != GENESIS_HASH) {
        report.problem(
            Some(0),
            format!("the digest of seq 0 must be the empty log's hash, not {hash}"),
        );
    }
}
