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
        .map_err(|e| Error::storage(format!("cannot create {}: {e}", shown_path(path))))
}

/// A path as a message shows it: control characters escaped (`\u{1b}`),
/// so a crafted file name cannot drive the terminal; nothing shortened.
pub fn shown_path(path: &Path) -> String {
    path.to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
