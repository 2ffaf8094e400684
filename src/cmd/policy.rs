//! `policy show` · `policy set TYPE [--max N] [--min-months M] [--min-order-amount CNY] [--requires-public-ip BOOL]`

use super::{parse_integer, Context};
use crate::cli::AsOf;
use crate::domain::decide::Command;
use crate::domain::types::{parse_amount_fen, shorten};
use crate::error::{Error, Result};
use crate::render::{PolicyView, Record};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// The policy in force: per service type, max numbers and requirements.
    #[command(after_help = crate::cli::examples!("snledger policy show", "snledger policy show --as-of 2027-01-01"))]
    Show(ShowArgs),
    /// Change a type's row, or add a type (then --max and --min-months are required).
    #[command(after_help = crate::cli::examples!(
        "snledger policy set iot_studio --max 2 --min-order-amount 90",
        "snledger policy set new_type --max 3 --min-months 6 --requires-public-ip false"
    ))]
    Set(SetArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SetArgs {
    /// The service type to change or add (a-z 0-9 _).
    #[arg(value_parser = crate::cli::offered(crate::domain::types::SERVICE_TYPES))]
    service_type: String,
    /// Numbers per instance (0 to 1000).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    max: Option<String>,
    /// Minimum cumulative subscription months (0 to 1200).
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    min_months: Option<String>,
    /// Minimum order amount in CNY (such as 90), or "none" to clear it.
    #[arg(long, value_name = "CNY")]
    min_order_amount: Option<String>,
    /// Whether an instance of the type needs a public IP.
    #[arg(long, value_name = "BOOL", value_parser = crate::cli::offered(&["true", "false"]))]
    requires_public_ip: Option<String>,
}

pub(crate) fn run(context: &Context, command: PolicyCommand) -> Result<()> {
    match command {
        PolicyCommand::Show(args) => {
            let store = context.view(&args.as_of)?;
            let policies: Vec<PolicyView> = store
                .policies()?
                .into_iter()
                .map(PolicyView::from)
                .collect();
            context.emit(&policies)
        }
        PolicyCommand::Set(args) => set(context, args),
    }
}

fn set(context: &Context, args: SetArgs) -> Result<()> {
    let command = Command::SetPolicy {
        service_type: args.service_type.clone(),
        max_numbers: args
            .max
            .as_deref()
            .map(|m| parse_integer("max", m))
            .transpose()?,
        min_subscription_months: args
            .min_months
            .as_deref()
            .map(|m| parse_integer("min months", m))
            .transpose()?,
        min_order_amount_fen: args
            .min_order_amount
            .as_deref()
            .map(|text| match text {
                "none" => Ok(None),
                amount => parse_amount_fen("min order amount", amount).map(Some),
            })
            .transpose()?,
        requires_public_ip: args
            .requires_public_ip
            .as_deref()
            .map(parse_bool)
            .transpose()?,
    };
    let policy =
        context.set_and_read(&command, "policy", |store| store.policy(&args.service_type))?;
    context.emit(&Record(PolicyView::from(policy)))
}

fn parse_bool(text: &str) -> Result<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(Error::usage(format!(
            "requires public ip: '{}' is not true or false",
            shorten(text)
        ))),
    }
}
