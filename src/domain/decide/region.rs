//! `region set`: mark a region mainland or not, or add one (docs/guide.md
//! "Regions").

use super::Lookup;
use crate::domain::event::{Body, RegionSet};
use crate::error::{Error, Result};

/// A new region, or a known one whose flag changes; setting the flag a
/// region already has changes nothing and is a usage error.
pub(super) fn set(lookup: &dyn Lookup, region: &str, mainland: bool) -> Result<Body> {
    if let Some(current) = lookup.region(region)? {
        if current.mainland == mainland {
            return Err(Error::usage(format!(
                "region set: {region} is already marked mainland {mainland}; nothing changes"
            )));
        }
    }
    Ok(Body::RegionSet(RegionSet {
        region: region.to_string(),
        mainland,
    }))
}
