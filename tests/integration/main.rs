//! The integration tests: every test drives the `snledger` binary. They live
//! in one test binary, one module per feature, so a change links one
//! executable instead of one per file (CONTRIBUTING.md "Tests").

mod common;
#[macro_use]
mod pg;

mod audit;
mod clock;
mod contract;
mod corrections;
mod diff;
mod digest;
mod forgery;
mod help;
mod hygiene;
mod import_export;
mod ledger;
mod lifecycle;
mod model;
mod names;
mod past;
mod past_versions;
mod postgres;
mod reconcile;
mod regions;
mod reliability;
mod services;
mod storage;
mod views;
