//! `region list` · `region set ID --mainland BOOL`: the region table
//! (docs/guide.md "Regions").

use super::Context;
use crate::cli::AsOf;
use crate::domain::decide::Command;
use crate::domain::regions::Region;
use crate::domain::types::shorten;
use crate::error::{Error, Result};
use crate::render::{Record, Row};
use clap::Subcommand;
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub(crate) enum RegionCommand {
    /// Every region of the table and whether it is in the mainland.
    #[command(after_help = crate::cli::examples!("snledger region list", "snledger region list --as-of 2026-06-01"))]
    List(ListArgs),
    /// Mark a region mainland or not, or add one (an edge node region).
    #[command(after_help = crate::cli::examples!("snledger region set cn-hangzhou-ens-1 --mainland true"))]
    Set(SetArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SetArgs {
    /// The region id (a-z 0-9 and '-'), such as cn-hangzhou.
    region: String,
    /// true for a region in the Chinese mainland, false otherwise.
    #[arg(long, value_name = "BOOL", value_parser = ["true", "false"])]
    mainland: String,
}

pub(crate) fn run(context: &Context, command: RegionCommand) -> Result<()> {
    match command {
        RegionCommand::List(args) => {
            let store = context.view(&args.as_of)?;
            let regions: Vec<RegionView> =
                store.regions()?.into_iter().map(RegionView::from).collect();
            context.emit(&regions)
        }
        RegionCommand::Set(args) => set(context, args),
    }
}

fn set(context: &Context, args: SetArgs) -> Result<()> {
    let command = Command::SetRegion {
        region: args.region.clone(),
        mainland: parse_bool(&args.mainland)?,
    };
    let region = context.set_and_read(&command, "region", |store| store.region(&args.region))?;
    context.emit(&Record(RegionView::from(region)))
}

/// One row of the region table.
#[derive(Serialize)]
struct RegionView {
    region: String,
    mainland: bool,
    updated_seq: i64,
}

impl From<Region> for RegionView {
    fn from(region: Region) -> RegionView {
        RegionView {
            region: region.region_id,
            mainland: region.mainland,
            updated_seq: region.updated_seq,
        }
    }
}

impl Row for RegionView {
    const HEADERS: &'static [&'static str] = &["region", "mainland", "updated_seq"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.region.clone(),
            self.mainland.to_string(),
            self.updated_seq.to_string(),
        ]
    }
}

fn parse_bool(text: &str) -> Result<bool> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::usage(format!(
            "mainland: '{}' is not true or false",
            shorten(text)
        ))),
    }
}
