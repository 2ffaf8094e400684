//! The command line (README "Command reference", "Global options"), declared
//! with clap's derive API. This file holds the global options and the list
//! of commands; each command declares its own arguments in `src/cmd/`.

use crate::cmd::digest;
use crate::cmd::{
    advise, allocate, approve, bind, check, completions, deregister, export, grant, history,
    import, init, instance, invalidate, number, policy, reconcile, region, reject, report, select,
    service, submit, verify,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "snledger",
    version,
    about = "A hash-chained ledger of ICP filing service identification numbers",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// The ledger file, created with its schema on first use by a write command (else $SNLEDGER_DB, else ./snledger.db).
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Who runs the command, recorded in every event (else $SNLEDGER_ACTOR, else $USER).
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The ledger's current time, RFC 3339 (else $SNLEDGER_NOW, else the system clock).
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Every command, in the order `--help` lists them. The one-line help of
/// each is here; its arguments are in `src/cmd/<command>.rs`.
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Create the ledger (idempotent).
    Init(init::Args),
    /// Register, renew, release and inspect instances.
    #[command(subcommand)]
    Instance(instance::InstanceCommand),
    /// Eligibility with every failing reason, and remaining quota.
    Check(check::Args),
    /// Allocate new service identification numbers on an instance.
    Allocate(allocate::Args),
    /// Use an instance directly in a filing (consumes one slot).
    Select(select::Args),
    /// Grant an unbound number to another account.
    Grant(grant::Args),
    /// Use a number for one Internet information service.
    Bind(bind::Args),
    /// Submit a bound number's filing for review.
    Submit(submit::Args),
    /// Record the approval of a filing and its MIIT filing number.
    Approve(approve::Args),
    /// Record the rejection of a filing (back to bound).
    Reject(reject::Args),
    /// The service's filing ended; the number stays consumed.
    Deregister(deregister::Args),
    /// Administrative invalidation of a number.
    Invalidate(invalidate::Args),
    /// Inspect numbers.
    #[command(subcommand)]
    Number(number::NumberCommand),
    /// Inspect and move services.
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// What a filing needs for the other services a site uses.
    Advise(advise::Args),
    /// The log, filtered.
    History(history::Args),
    /// Re-check the hash chain and rebuild-and-compare the derived tables.
    Verify(verify::Args),
    /// Summaries.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Bulk input from CSV files (all or nothing).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// CSV output.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// The quota policy.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Print shell completions.
    Completions(completions::Args),
    /// Print the head of the log (seq, time, hash), to keep outside the ledger.
    Digest(digest::Args),
    /// The region table: which regions are in the mainland.
    #[command(subcommand)]
    Region(region::RegionCommand),
    /// Compare the ledger with the provider's service-number records (exit 1 on differences).
    Reconcile(reconcile::Args),
}

// `--as-of`, shared by every read that can look into the past (no doc
// comment: clap would show it as the help of every command that takes it).
#[derive(Debug, Args, Clone, Default)]
pub struct AsOf {
    /// Answer as the ledger stood at this time, computed from the log.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
}
