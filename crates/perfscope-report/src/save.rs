//! [`save`]: write a report, a page or a bench file whole or not at all.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Replaces the file at `path` with `bytes`, all or nothing, so a full disk or a crash midway
/// leaves an earlier file as it was and never a partial one: the bytes go to a temporary file
/// beside it (`tempfile`), synced, then renamed over it, keeping the old file's permissions;
/// a symbolic link is followed, so the link stays a link. A path that exists and is not a
/// regular file (`/dev/stdout`, a pipe, a device) has nothing to replace: it is written to.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("report.json");
/// let report = perfscope_report::Report::default();
/// perfscope_report::save(&path, report.to_json().as_bytes()).unwrap();
/// assert!(perfscope_report::Report::from_json(&std::fs::read_to_string(&path).unwrap()).is_ok());
/// ```
pub fn save(path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
    let path = path.as_ref();
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let existing = fs::metadata(&target).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        return fs::write(&target, bytes);
    }
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // Removed on drop if anything below fails.
    let mut temp =
        tempfile::Builder::new().prefix(".perfscope-").suffix(".tmp").tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    if let Some(old) = &existing {
        fs::set_permissions(temp.path(), old.permissions())?;
    }
    temp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}
