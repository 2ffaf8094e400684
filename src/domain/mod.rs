//! The pure domain core: types and validation, eligibility, the number state
//! machine, events and their hash, and the rules that turn a command into an
//! event (`decide`) and an event into derived rows (`evolve`). Nothing here
//! knows of SQLite, clap or CSV.

pub mod advise;
pub mod decide;
pub mod digest;
pub mod eligibility;
pub mod event;
pub mod evolve;
pub mod machine;
pub mod memory;
pub mod types;

#[cfg(test)]
mod tests;
