//! File helpers shared by the store (a new ledger) and exports.

use crate::error::{Error, Result};
use std::path::Path;

/// Creates a new file readable and writable by its owner only, whatever
/// the umask; never truncates an existing one.
pub fn create_private_file(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| Error::storage(format!("cannot create {}: {e}", path.display())))
}
