//! The command line (SPEC §3), declared with clap's derive API.

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
    /// The ledger file, created with its schema on first use (else $SNLEDGER_DB, else ./snledger.db).
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

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Create the ledger (idempotent).
    Init,
    /// Register, renew, release and inspect instances.
    #[command(subcommand)]
    Instance(InstanceCommand),
    /// Eligibility with every failing reason, and remaining quota.
    Check { instance_id: String },
    /// Allocate new service identification numbers on an instance.
    Allocate {
        instance_id: String,
        /// How many numbers (1 to 20; default 1, or the count of --number).
        #[arg(long, allow_negative_numbers = true)]
        count: Option<String>,
        /// The acting account (default: the owner).
        #[arg(long)]
        account: Option<String>,
        /// Makes the call idempotent: the same key and parameters return the first answer.
        #[arg(long)]
        request_id: Option<String>,
        /// Record a number the provider already issued (repeatable).
        #[arg(long = "number", value_name = "X")]
        numbers: Vec<String>,
    },
    /// Use an instance directly in a filing (consumes one slot).
    Select {
        instance_id: String,
        #[arg(long)]
        service: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Grant an unbound number to another account.
    Grant {
        number: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Use a number for one Internet information service.
    Bind {
        number: String,
        #[arg(long)]
        service: String,
        #[arg(long)]
        account: String,
    },
    /// Submit a bound number's filing for review.
    Submit { number: String },
    /// Record the approval of a filing and its MIIT filing number.
    Approve {
        number: String,
        #[arg(long)]
        icp_number: String,
    },
    /// Record the rejection of a filing (back to bound).
    Reject {
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// The service's filing ended; the number stays consumed.
    Deregister {
        number: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Administrative invalidation of a number.
    Invalidate {
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// Inspect numbers.
    #[command(subcommand)]
    Number(NumberCommand),
    /// Inspect and move services.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// What a filing needs for the other services a site uses.
    Advise {
        /// Comma-separated: oss, cdn, waf, anti-ddos.
        #[arg(long, value_delimiter = ',', required = true)]
        uses: Vec<String>,
    },
    /// The log, filtered.
    History(HistoryArgs),
    /// Re-check the hash chain and rebuild-and-compare the derived tables.
    Verify,
    /// Summaries.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Bulk input from CSV files (all or nothing).
    #[command(subcommand)]
    Import(ImportCommand),
    /// CSV output.
    #[command(subcommand)]
    Export(ExportCommand),
    /// The quota policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Args, Clone, Default)]
pub struct AsOf {
    /// Answer as the ledger stood at this time, computed from the log.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Register an instance.
    Add {
        instance_id: String,
        #[arg(long = "type", value_name = "TYPE")]
        service_type: String,
        #[arg(long)]
        account: String,
        #[arg(long)]
        region: String,
        /// subscription, pay-as-you-go or trial.
        #[arg(long)]
        billing: String,
        /// Cumulative subscription months.
        #[arg(long, allow_negative_numbers = true)]
        months: String,
        #[arg(long, value_name = "TIME")]
        expires: String,
        #[arg(long)]
        public_ip: Option<String>,
        /// Order amount in CNY.
        #[arg(long, value_name = "CNY")]
        order_amount: Option<String>,
    },
    /// Add subscription months and move the expiry later.
    Renew {
        instance_id: String,
        #[arg(long, allow_negative_numbers = true)]
        months: String,
        #[arg(long, value_name = "TIME")]
        expires: String,
    },
    /// Release an instance.
    Release { instance_id: String },
    /// An instance's state, quota and numbers.
    Show {
        instance_id: String,
        #[command(flatten)]
        as_of: AsOf,
    },
    /// Instances, optionally of one account or type.
    List {
        #[arg(long)]
        account: Option<String>,
        #[arg(long = "type", value_name = "TYPE")]
        service_type: Option<String>,
        #[command(flatten)]
        as_of: AsOf,
    },
}

#[derive(Debug, Subcommand)]
pub enum NumberCommand {
    Show {
        number: String,
        #[command(flatten)]
        as_of: AsOf,
    },
    List {
        #[arg(long)]
        instance: Option<String>,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        as_of: AsOf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    Show {
        service: String,
        #[command(flatten)]
        as_of: AsOf,
    },
    List {
        #[arg(long)]
        instance: Option<String>,
        #[command(flatten)]
        as_of: AsOf,
    },
    /// The service now runs on another instance (a DNS change only).
    Move {
        service: String,
        #[arg(long)]
        to: String,
        /// The service holds a commercial ICP licence in a province that
        /// requires the submitted IP to be updated.
        #[arg(long)]
        commercial: bool,
    },
    /// Record that the submitted IP of a moved commercial service was updated.
    IpUpdated { service: String },
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[arg(long)]
    pub instance: Option<String>,
    #[arg(long)]
    pub number: Option<String>,
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Per account and per service type: instances, max, consumed, remaining.
    Quota {
        #[arg(long)]
        account: Option<String>,
        #[command(flatten)]
        as_of: AsOf,
    },
    /// Instances expiring within DAYS (or expired, or released) that still host services.
    Expiring {
        #[arg(long, default_value = "30", allow_negative_numbers = true)]
        within: String,
        #[command(flatten)]
        as_of: AsOf,
    },
    /// Moved commercial services whose submitted IP still needs updating.
    IpUpdates {
        #[command(flatten)]
        as_of: AsOf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    Instances {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
    Ops {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
    History {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    Instances {
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        as_of: AsOf,
    },
    Numbers {
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        as_of: AsOf,
    },
    History {
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        as_of: AsOf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    Show {
        #[command(flatten)]
        as_of: AsOf,
    },
    Set {
        service_type: String,
        #[arg(long, allow_negative_numbers = true)]
        max: Option<String>,
        #[arg(long, allow_negative_numbers = true)]
        min_months: Option<String>,
        /// CNY, or "none" to clear the minimum.
        #[arg(long, value_name = "CNY")]
        min_order_amount: Option<String>,
        #[arg(long, value_name = "BOOL")]
        requires_public_ip: Option<String>,
    },
}
