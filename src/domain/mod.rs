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

pub mod addresses;
pub mod advise;
pub mod clock;
pub mod decide;
pub mod diff;
pub mod digest;
pub mod eligibility;
pub mod event;
pub mod evolve;
pub mod lookup;
pub mod machine;
pub mod memory;
pub mod names;
pub mod packed;
pub mod past;
pub mod reconcile;
pub mod regions;
pub mod replay;
pub mod suggest;
pub mod types;
pub mod validate;

#[cfg(test)]
mod tests;
