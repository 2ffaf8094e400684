//! The pure domain core: types and validation, eligibility, the number state
//! machine, events and their hash, and the rules that turn a command into an
//! event (`decide`) and an event into derived rows (`evolve`). Nothing here
//! knows of SQLite, clap or CSV.
//!
//! A newcomer's path: `types.rs` (values and field syntax), `event.rs` (the
//! kinds and payloads), `decide/` (one function per command, by subject),
//! `evolve.rs` (one function per event kind). `validate.rs` holds the field
//! checks of commands and of payloads read back, side by side; `lookup.rs`
//! the read access both rules use.

pub(crate) mod addresses;
pub(crate) mod advise;
pub(crate) mod clock;
pub(crate) mod decide;
pub(crate) mod diff;
pub(crate) mod digest;
pub(crate) mod eligibility;
pub(crate) mod event;
pub(crate) mod evolve;
pub(crate) mod lookup;
pub(crate) mod machine;
pub(crate) mod memory;
pub(crate) mod names;
pub(crate) mod packed;
pub(crate) mod reconcile;
pub(crate) mod record;
pub(crate) mod refresh;
pub(crate) mod regions;
pub(crate) mod replay;
pub(crate) mod suggest;
pub(crate) mod types;
pub(crate) mod validate;

#[cfg(test)]
mod tests;
