//! File helpers shared by the store (a new ledger) and exports.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Creates a new file readable and writable by its owner only, whatever
/// the umask; never truncates an existing one.
pub(crate) fn create_private_file(path: &Path) -> Result<std::fs::File> {
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
pub(crate) fn shown_path(path: &Path) -> String {
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

/// A file written beside its target and renamed over it only once complete
/// (docs/reference.md "Guarantees": output targets), so a failed write never leaves a half-written
/// or emptied file. The temporary file gets a fresh random name
/// (`.NAME.XXXXXX.partial`, created exclusively, mode 0600), so a stale one
/// left by a killed process never blocks the next; it is removed on every
/// error (when dropped). An existing target keeps the mode its owner gave
/// it. Only a new path or a regular file is a target: a rename would
/// replace a symbolic link, a device, a FIFO or a socket with a plain file.
pub(crate) struct AtomicOutput {
    temporary: tempfile::NamedTempFile,
    target: PathBuf,
    option: &'static str,
}

impl AtomicOutput {
    /// `option` names the flag in messages (`-o`, `--emit-ops`); `ledger`
    /// is the ledger's own path, which is never a target.
    pub(crate) fn create(
        target: &Path,
        option: &'static str,
        ledger: &Path,
    ) -> Result<AtomicOutput> {
        check_target(target, option)?;
        if is_ledger_file(target, ledger) {
            return Err(Error::usage(format!(
                "{option} {}: that is the ledger itself",
                shown_path(target)
            )));
        }
        let name = target
            .file_name()
            .map_or("output".into(), |n| n.to_string_lossy().into_owned());
        let directory = directory_of(target);
        let temporary = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .rand_bytes(8)
            .tempfile_in(directory)
            .map_err(|e| cannot_write(target, &without_path(&e)))?;
        if let Ok(metadata) = std::fs::metadata(target) {
            let _ = temporary.as_file().set_permissions(metadata.permissions());
        }
        Ok(AtomicOutput {
            temporary,
            target: target.to_path_buf(),
            option,
        })
    }

    /// A handle on the temporary file; errors name the target, since the
    /// temporary file is ours, not the user's.
    pub(crate) fn file(&self) -> Result<std::fs::File> {
        self.temporary
            .as_file()
            .try_clone()
            .map_err(|e| cannot_write(&self.target, &e))
    }

    /// Renames the finished file over the target, checked again just
    /// before (it may have been replaced meanwhile). On failure dropping
    /// the temporary file removes it.
    pub(crate) fn finish(self) -> Result<()> {
        check_target(&self.target, self.option)?;
        let target = self.target;
        self.temporary
            .persist(&target)
            .map_err(|e| cannot_write(&target, &e.error))?;
        Ok(())
    }
}

/// The directory a file name lives in (`.` for a bare name).
fn directory_of(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A target must be absent or a regular file; anything else is named.
fn check_target(target: &Path, option: &str) -> Result<()> {
    // "dir/" names a directory whether or not it exists yet; "-" would be a
    // file of that name, which is never what was meant (standard output
    // carries the command's report).
    let text = target.as_os_str().as_encoded_bytes();
    if text.ends_with(b"/") || text == b"-" {
        return Err(Error::usage(format!(
            "{option} {}: is not a file path; give one such as ./fix.csv (standard output carries the report)",
            shown_path(target)
        )));
    }
    let metadata = match std::fs::symlink_metadata(target) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(cannot_write(target, &e)),
    };
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return Ok(());
    }
    Err(Error::usage(format!(
        "{option} {}: is {}; snledger writes only a new file or a regular one",
        shown_path(target),
        kind_of(&file_type)
    )))
}

/// What a non-regular directory entry is, in words.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

fn cannot_write(target: &Path, error: &dyn std::fmt::Display) -> Error {
    Error::storage(format!("cannot write {}: {error}", shown_path(target)))
}

/// An I/O error's own text, without the path tempfile adds to it: the
/// temporary file's name means nothing to the user.
fn without_path(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.split_once(" at path ") {
        Some((own, _)) => own.to_string(),
        None => text,
    }
}

/// Whether `target` is the ledger or one of the files SQLite keeps beside
/// it (-wal, -shm, and -journal, which SQLite would take for a hot journal
/// and delete), whether or not that file exists yet.
fn is_ledger_file(target: &Path, ledger: &Path) -> bool {
    let Ok(ledger_path) = ledger.canonicalize() else {
        return false;
    };
    let target_path = match (target.canonicalize(), target.file_name()) {
        (Ok(path), _) => path,
        (Err(_), Some(name)) => match directory_of(target).canonicalize() {
            Ok(directory) => directory.join(name),
            Err(_) => return false,
        },
        (Err(_), None) => return false,
    };
    ["", "-wal", "-shm", "-journal"]
        .map(|suffix| format!("{}{suffix}", ledger_path.display()))
        .iter()
        .any(|file| Path::new(file) == target_path)
}
