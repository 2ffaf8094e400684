//! What a writer does when it loses a serialization race (only PostgreSQL
//! reports one: SQLSTATE 40001, 40P01): the whole attempt runs again, a
//! bounded number of times with a jittered pause, then it is a storage
//! error (exit 6). One limit and one pause for every writer, never nested.

use crate::error::{Error, Result};

/// How many times an attempt that lost a serialization race runs again.
pub(crate) const CONFLICT_RETRIES_MAX: u32 = 12;

/// Runs `attempt` until it does not end in `Error::Conflict`, at most
/// `CONFLICT_RETRIES_MAX` times more. `attempt` must leave nothing behind
/// when it fails (its transaction rolled back).
pub(crate) fn on_conflict<T>(mut attempt: impl FnMut() -> Result<T>) -> Result<T> {
    let mut retries = 0;
    loop {
        match attempt() {
            Err(Error::Conflict(_)) if retries < CONFLICT_RETRIES_MAX => {
                retries += 1;
                backoff(retries);
            }
            other => return other,
        }
    }
}

/// A jittered pause before try `attempt` (1, 2, ...): exponential from 5 ms,
/// at most 0.4 s, scattered by the clock and the process id (no random
/// number crate) so that racing writers do not retry in step.
pub(crate) fn backoff(attempt: u32) {
    let base_ms = (5_u64 << attempt.min(6)).min(400);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos() as u64);
    let seed = nanos ^ (u64::from(std::process::id()) << 17) ^ u64::from(attempt);
    let jitter_ms = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) % base_ms.max(1);
    std::thread::sleep(std::time::Duration::from_millis(base_ms / 2 + jitter_ms));
}
