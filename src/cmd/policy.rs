//! `policy show` · `policy set TYPE [--max N] [--min-months M] [--min-order-amount CNY] [--requires-public-ip BOOL]`

use super::{parse_integer, Context};
use crate::cli::AsOf;
use crate::domain::decide::{Command, Lookup};
use crate::domain::types::{parse_amount_fen, shorten};
use crate::error::{Error, Result};
use crate::render::{self, Table};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    Show(ShowArgs),
    Set(SetArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
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
}

pub fn run(context: &Context, command: PolicyCommand) -> Result<()> {
    match command {
        PolicyCommand::Show(args) => {
            let store = context.view(&args.as_of)?;
            let policies = store.policies()?;
            let mut table = Table::new(&render::POLICY_HEADERS);
            for policy in &policies {
                table.row(render::policy_row(policy));
            }
            let json: Vec<_> = policies.iter().map(render::policy_json).collect();
            context.emit(&serde_json::Value::Array(json), table)
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
    let ledger = context.ledger()?;
    let policy = ledger.execute(&command, |store, _| {
        store
            .policy(&args.service_type)?
            .ok_or_else(|| Error::storage("invariant broken: a policy just set is not stored"))
    })?;
    let table = Table::record(
        render::POLICY_HEADERS
            .iter()
            .copied()
            .zip(render::policy_row(&policy))
            .collect(),
    );
    context.emit(&render::policy_json(&policy), table)
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
