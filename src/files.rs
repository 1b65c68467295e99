//! Files greenchip writes that hold its secrets (the SQLite database, which holds the
//! certificate signing key unless `signing_key_file` is set, its journal files, backups):
//! created readable by their owner only, whatever the umask, and a warning when one is found
//! wider.

use std::io;
use std::path::{Path, PathBuf};

/// Creates `path` empty with mode 0600 (owner read and write). Refuses an existing file
/// (`AlreadyExists`): nothing is ever overwritten.
pub fn create_private(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// A SQLite database and the journal files beside it. SQLite creates its `-wal` and `-shm`
/// files with the database's own mode, so a private database keeps them private.
pub fn sqlite_files(database: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [database.to_path_buf(), with("-wal"), with("-shm")]
}

/// The files among `paths` that other local users may read or write (any group or other
/// permission bit), with their mode.
pub fn shared(paths: &[PathBuf]) -> Vec<(PathBuf, u32)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        paths
            .iter()
            .filter_map(|path| {
                let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
                (mode & 0o077 != 0).then(|| (path.clone(), mode))
            })
            .collect()
    }
    #[cfg(not(unix))]
    {
        let _ = paths;
        Vec::new()
    }
}

/// Makes a missing SQLite database private before SQLite creates it, and warns once about
/// any of its files that other local users can read.
pub fn guard_sqlite_database(database: &Path) {
    match create_private(database) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        // SQLite reports what is wrong with the path more precisely; let it.
        Err(_) => return,
    }
    for (path, mode) in shared(&sqlite_files(database)) {
        tracing::warn!(
            file = %path.display(),
            mode = %format!("{mode:o}"),
            "other local users can read this file, which holds the certificate signing key: \
             chmod 600 it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_file_is_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("greenchip.db");
        create_private(&path).unwrap();
        assert!(shared(std::slice::from_ref(&path)).is_empty());
        std::fs::write(&path, b"kept").unwrap();
        let again = create_private(&path).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"kept");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_found_with_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let [db, wal, shm] = sqlite_files(&dir.path().join("g.db"));
        assert!(wal.to_str().unwrap().ends_with("g.db-wal"));
        assert!(shm.to_str().unwrap().ends_with("g.db-shm"));
        for path in [&db, &wal] {
            std::fs::write(path, b"").unwrap();
        }
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(shared(&[db, wal.clone(), shm]), vec![(wal, 0o644)]);
    }
}
