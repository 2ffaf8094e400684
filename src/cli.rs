//! The command line (docs/reference.md "Commands", docs/guide.md "Global options"), declared
//! with clap's derive API. This file holds the global options and the list
//! of commands; each command declares its own arguments in `src/cmd/`.
//!
//! How help is written (docs/guide.md "At the terminal"), for every new command:
//! - the command's variant (here, or in its group's enum in `src/cmd/`) has
//!   a one-line doc comment and `#[command(after_help = examples!("snledger
//!   …", …))]` with at least one example;
//! - every argument has a doc comment saying what it takes; a value from a
//!   known list takes `value_parser = offered(LIST)` (listed in the help,
//!   offered by completions, still checked by the domain so that CSV input
//!   gets the same message and did-you-mean); a free-text value takes
//!   `allow_hyphen_values = true`; a time takes `help = time_help!("…")`
//!   and is read with `Context::time` (so `--tz` applies);
//! - `tests/integration/help.rs` walks every command's `--help` and fails
//!   on a command without a description or an example, or an option
//!   without a description.

use crate::cmd::{
    advise, allocate, approve, bind, check, completions, deregister, export, grant, history,
    import, init, instance, invalidate, man, number, policy, reconcile, region, reject, report,
    select, service, submit, verify,
};
use crate::cmd::{clock, diff, digest};
use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `Examples:` and one indented line per example, for `after_help`.
macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!("Examples:", $("\n  ", $line),+)
    };
}
pub(crate) use examples;

/// The help of a TIME option: what it is, then the forms it takes.
macro_rules! time_help {
    ($what:literal) => {
        concat!(
            $what,
            ": RFC 3339 (2027-06-01T00:00:00+08:00), or without an offset \
             (2027-06-01T08:00:00, 2027-06-01 08:00) or a bare date (2027-06-01, midnight), \
             read in --tz (default UTC)"
        )
    };
}
pub(crate) use time_help;

/// Provider region ids offered by completions (any other region id is
/// accepted too; docs/reference.md "Eligibility reason codes" says which count as
/// the mainland).
pub(crate) const REGIONS: &[&str] = &[
    "cn-hangzhou",
    "cn-shanghai",
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-wuhan-lr",
    "cn-hongkong",
];

/// A value parser that takes any text but names the values it expects, so
/// that help lists them and completions offer them; the domain checks the
/// value (and suggests the one meant), as it does for the same field in a
/// CSV file.
#[derive(Clone)]
pub(crate) struct Offered(&'static [&'static str]);

pub(crate) fn offered(values: &'static [&'static str]) -> Offered {
    Offered(values)
}

impl TypedValueParser for Offered {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(command, argument, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0.iter().map(|value| PossibleValue::new(*value)),
        ))
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "snledger",
    version,
    about = "A hash-chained ledger of ICP filing service identification numbers",
    propagate_version = true,
    after_help = examples!(
        "snledger init",
        "snledger instance add i-web1 --type ecs --account acme --region cn-hangzhou \\",
        "    --billing subscription --months 12 --expires 2027-06-01 --public-ip 47.96.10.21",
        "snledger allocate i-web1 --count 2 --request-id ticket-4711",
        "snledger --tz Asia/Shanghai history --instance i-web1",
        "snledger help allocate"
    )
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub(crate) struct Global {
    /// The ledger: a SQLite file, created with its schema on first use by a write command, or a postgres:// URL of a database `init` made (else $SNLEDGER_DB, else ./snledger.db).
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Who runs the command, recorded in every event (else $SNLEDGER_ACTOR, else $USER).
    #[arg(long, global = true, value_name = "NAME", allow_hyphen_values = true)]
    pub actor: Option<String>,
    /// Output format: table (the default) for people; json and csv (always UTC) for programs.
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    #[arg(
        long,
        global = true,
        value_name = "TIME",
        help = time_help!("The ledger's current time (else $SNLEDGER_NOW, else the system clock)")
    )]
    pub now: Option<String>,
    /// The operator's time zone, an IANA name such as Asia/Shanghai (else $SNLEDGER_TZ, else UTC): tables show times in it and times without an offset are read in it.
    #[arg(long, global = true, value_name = "ZONE")]
    pub tz: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
}

impl std::fmt::Display for Format {
    fn fmt(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
        out.write_str(match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
        })
    }
}

/// Every command, in the order `--help` lists them. The one-line help and
/// the examples of each are here; its arguments are in `src/cmd/<command>.rs`.
#[derive(Debug, Subcommand)]
pub(crate) enum Commands {
    /// Create the ledger (idempotent).
    #[command(after_help = examples!("snledger init", "snledger --db /srv/icp/ledger.db init"))]
    Init(init::Args),
    /// Register, renew, release and inspect instances.
    #[command(
        subcommand,
        after_help = examples!("snledger instance list --account acme", "snledger instance show i-web1")
    )]
    Instance(instance::InstanceCommand),
    /// Eligibility with every failing reason, and remaining quota.
    #[command(after_help = examples!("snledger check i-web1", "snledger check i-web1 --format json"))]
    Check(check::Args),
    /// Allocate new service identification numbers on an instance.
    #[command(after_help = examples!(
        "snledger allocate i-web1 --count 2 --request-id ticket-4711",
        "snledger allocate i-web1 --number 8f3c-0001 --number 8f3c-0002"
    ))]
    Allocate(allocate::Args),
    /// Use an instance directly in a filing (consumes one slot).
    #[command(after_help = examples!("snledger select i-web1 --service www.example.com"))]
    Select(select::Args),
    /// Grant an unbound number to another account.
    #[command(after_help = examples!(
        "snledger grant 781a5ee9-0c1d-4a6e-9a39-3f0e2b7c1d20 --to customer-7 --note 'ticket 4411'",
        "snledger grant \"$N\" --to customer-7 --note \"-1 for spreadsheets\""
    ))]
    Grant(grant::Args),
    /// Use a number for one Internet information service.
    #[command(after_help = examples!("snledger bind \"$N\" --service shop.example.cn --account customer-7"))]
    Bind(bind::Args),
    /// Submit a bound number's filing for review.
    #[command(after_help = examples!("snledger submit \"$N\""))]
    Submit(submit::Args),
    /// Record the approval of a filing and its MIIT filing number.
    #[command(after_help = examples!("snledger approve \"$N\" --icp-number '浙ICP备12345678号-1'"))]
    Approve(approve::Args),
    /// Record the rejection of a filing (back to bound).
    #[command(after_help = examples!(
        "snledger reject \"$N\" --reason 'photo unclear'",
        "snledger reject \"$N\" --reason \"-dup\""
    ))]
    Reject(reject::Args),
    /// The service's filing ended; the number stays consumed.
    #[command(after_help = examples!("snledger deregister \"$N\" --reason 'site closed'"))]
    Deregister(deregister::Args),
    /// Administrative invalidation of a number; it stays consumed.
    #[command(after_help = examples!("snledger invalidate \"$N\" --reason 'issued in error'"))]
    Invalidate(invalidate::Args),
    /// Inspect numbers.
    #[command(
        subcommand,
        after_help = examples!("snledger number list --status unbound", "snledger number show \"$N\"")
    )]
    Number(number::NumberCommand),
    /// Inspect and move services.
    #[command(
        subcommand,
        after_help = examples!("snledger service list", "snledger service move shop.example.cn --to i-web2")
    )]
    Service(service::ServiceCommand),
    /// What a filing needs for the other services a site uses (needs no ledger).
    #[command(after_help = examples!("snledger advise --uses oss,cdn"))]
    Advise(advise::Args),
    /// The log, filtered; the table shows one line per event, JSON and CSV every field.
    #[command(after_help = examples!(
        "snledger history --number \"$N\"",
        "snledger --tz Asia/Shanghai history --kind allocated --since 2027-06-01",
        "snledger history --account acme --format json"
    ))]
    History(history::Args),
    /// Re-check the hash chain and rebuild-and-compare the derived tables.
    #[command(after_help = examples!("snledger verify", "snledger verify --format json"))]
    Verify(verify::Args),
    /// Summaries: quota, expiring instances, IP updates due.
    #[command(
        subcommand,
        after_help = examples!("snledger report quota", "snledger report expiring --within 60")
    )]
    Report(report::ReportCommand),
    /// Bulk input from CSV files (all or nothing).
    #[command(
        subcommand,
        after_help = examples!("snledger import instances instances.csv --dry-run", "snledger import ops ops.csv")
    )]
    Import(import::ImportCommand),
    /// CSV output (standard output, or a file with -o).
    #[command(
        subcommand,
        after_help = examples!("snledger export history -o history.csv", "snledger export instances --as-of 2027-01-01")
    )]
    Export(export::ExportCommand),
    /// Show or change the quota policy.
    #[command(
        subcommand,
        after_help = examples!("snledger policy show", "snledger policy set iot_studio --max 2")
    )]
    Policy(policy::PolicyCommand),
    /// Print shell completions (statuses, kinds, types, formats, regions are offered).
    #[command(after_help = examples!(
        "snledger completions bash > /etc/bash_completion.d/snledger",
        "snledger completions zsh > \"${fpath[1]}/_snledger\""
    ))]
    Completions(completions::Args),
    /// Print a man page (roff), generated from this help: of snledger, or of one command.
    #[command(after_help = examples!(
        "snledger man | man -l -",
        "snledger man instance add > snledger-instance-add.1"
    ))]
    Man(man::Args),
    /// Print the head of the log (seq, time, hash), to keep outside the ledger.
    #[command(after_help = examples!("snledger digest", "snledger --format json digest > head.json"))]
    Digest(digest::Args),
    /// The region table: which regions are in the mainland.
    #[command(subcommand, after_help = examples!("snledger region list", "snledger region set cn-hangzhou-ens-1 --mainland true"))]
    Region(region::RegionCommand),
    /// Every instance, number and service whose state differs between two moments, before and after.
    #[command(after_help = examples!(
        "snledger diff --from 2027-01-01 --to 2027-02-01",
        "snledger --tz Asia/Shanghai diff --from 2027-01-01 --format csv > january.csv",
        "snledger diff --from 2027-01-01T00:00:00Z --format json"
    ))]
    Diff(diff::Args),
    /// Compare the ledger with the provider's service-number records (exit 1 on differences).
    #[command(after_help = examples!(
        "snledger reconcile samples/provider/in-sync.json",
        "snledger reconcile provider.json --emit-ops fix.csv",
        "snledger reconcile provider.json --record"
    ))]
    Reconcile(reconcile::Args),
    /// Unlock a ledger that a clock far ahead dated in the future.
    #[command(subcommand, after_help = examples!("snledger clock repair --reason \"build-7's clock was set to 2036\""))]
    Clock(clock::ClockCommand),
}

// `--as-of`, shared by every read that can look into the past (no doc
// comment: clap would show it as the help of every command that takes it).
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct AsOf {
    #[arg(
        long,
        value_name = "TIME",
        help = time_help!("Answer as the ledger stood at this time, computed from the log")
    )]
    pub as_of: Option<String>,
}
