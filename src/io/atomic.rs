//! Atomic file writes: write to a temporary file beside the target, then rename, so that a
//! crash or an error never leaves a half-written output and never destroys the previous one.
//!
//! The temporary file is `.<name>.tmp.<pid>.<seq>` in the target's directory. It is removed on
//! every error path and when an [`AtomicFile`] is dropped without [`AtomicFile::commit`]; a
//! process killed outright (SIGKILL) cannot clean up, so [`AtomicFile::create`] first sweeps
//! the temporaries of the same target left by processes that no longer exist. Only regular
//! files are replaced: a target that is a directory, a symlink or a device is an error before
//! anything is written.
use super::IoError;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A buffered writer to `.<target>.tmp.<pid>.<seq>` that becomes `target` on [`AtomicFile::commit`].
/// Dropping it without committing removes the temporary file.
pub struct AtomicFile {
    target: PathBuf,
    tmp: PathBuf,
    writer: Option<BufWriter<File>>,
    /// Set once the rename succeeded; until then `Drop` removes the temporary file.
    committed: bool,
}

/// The error for a target that exists and is not a regular file.
fn not_regular(target: &Path, kind: &str) -> IoError {
    IoError::Write {
        path: target.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "it is {kind}, not a regular file; only regular files are replaced \
                 (name a file path, or `-` for standard output where a command offers it)"
            ),
        ),
    }
}

/// Fails when `target` exists and is not a regular file (symlinks are not followed).
fn check_target(target: &Path) -> Result<(), IoError> {
    match std::fs::symlink_metadata(target) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) => {
            let ft = m.file_type();
            let kind = if ft.is_dir() {
                "a directory"
            } else if ft.is_symlink() {
                "a symbolic link"
            } else {
                "a device, socket or pipe"
            };
            Err(not_regular(target, kind))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(IoError::Write {
            path: target.to_path_buf(),
            source,
        }),
    }
}

/// The prefix of every temporary file name for the target file name `name`.
fn tmp_prefix(name: &str) -> String {
    format!(".{name}.tmp.")
}

/// The PID in a temporary file name `<prefix><pid>.<seq>` (both decimal), or `None` when the
/// name is not one of ours.
fn tmp_pid(file_name: &str, prefix: &str) -> Option<u32> {
    let rest = file_name.strip_prefix(prefix)?;
    let (pid, seq) = rest.split_once('.')?;
    let decimal = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !decimal(pid) || !decimal(seq) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the temporaries of the target `name` in `dir` whose process no longer exists
/// (`/proc/<pid>` is gone). Does nothing where `/proc` is not mounted. Best effort: a file
/// that cannot be removed is left alone.
fn sweep_stale(dir: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = tmp_prefix(name);
    let me = std::process::id();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|n| tmp_pid(n, &prefix)) else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if pid != me && is_file && !Path::new(&format!("/proc/{pid}")).exists() {
            let path = entry.path();
            match std::fs::remove_file(&path) {
                Ok(()) => tracing::info!("removed stale temporary file {}", path.display()),
                Err(e) => tracing::warn!("cannot remove stale {}: {e}", path.display()),
            }
        }
    }
}

impl AtomicFile {
    /// Checks the target, creates the parent directory if needed, removes stale temporaries of
    /// this target (left by killed processes) and creates the temporary file, so that an
    /// unwritable directory fails here, before any work.
    ///
    /// # Errors
    /// [`IoError::Write`] when the target exists and is not a regular file (a directory, a
    /// symlink, a device), or when the directory or temporary file cannot be created.
    pub fn create(target: impl AsRef<Path>) -> Result<Self, IoError> {
        let target = target.as_ref().to_path_buf();
        check_target(&target)?;
        let dir = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => {
                std::fs::create_dir_all(parent).map_err(|source| IoError::Write {
                    path: parent.to_path_buf(),
                    source,
                })?;
                parent.to_path_buf()
            }
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".to_string());
        sweep_stale(&dir, &name);
        // Unique per process and per call, so two writers of one target (threads of one
        // process included) never share a temporary file; the last rename wins.
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!("{}{}.{seq}", tmp_prefix(&name), std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|source| IoError::Write {
                path: tmp.clone(),
                source,
            })?;
        Ok(Self {
            target,
            tmp,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
            committed: false,
        })
    }

    /// The buffered writer. Map its `std::io::Error`s with [`AtomicFile::err`].
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer
            .as_mut()
            .expect("invariant: writer is present until commit")
    }

    /// Wraps an I/O error with the target path.
    pub fn err(&self, source: std::io::Error) -> IoError {
        IoError::Write {
            path: self.target.clone(),
            source,
        }
    }

    /// Flushes, syncs and renames the temporary file onto the target (checked again to be a
    /// regular file or absent). On failure the temporary file is removed.
    ///
    /// # Errors
    /// [`IoError::Write`] on any flush, sync or rename failure (the target is untouched).
    pub fn commit(mut self) -> Result<(), IoError> {
        let writer = self
            .writer
            .take()
            .expect("invariant: writer is present until commit");
        let file = writer.into_inner().map_err(|e| IoError::Write {
            path: self.tmp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(|source| IoError::Write {
            path: self.tmp.clone(),
            source,
        })?;
        drop(file);
        check_target(&self.target)?;
        std::fs::rename(&self.tmp, &self.target).map_err(|source| IoError::Write {
            path: self.target.clone(),
            source,
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    /// Removes the temporary file unless the commit succeeded (errors in `commit` included).
    fn drop(&mut self) {
        if !self.committed {
            self.writer = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `target` atomically.
///
/// # Errors
/// [`IoError::Write`] on failure; the previous file at `target`, if any, is kept.
pub fn write_atomic(target: impl AsRef<Path>, bytes: &[u8]) -> Result<(), IoError> {
    let mut f = AtomicFile::create(target)?;
    let r = f.writer().write_all(bytes);
    r.map_err(|e| f.err(e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The temporary files in `dir` (names starting with a dot).
    fn temporaries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_and_replaces_a_regular_file() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("out.txt");
        write_atomic(&t, b"one").unwrap();
        write_atomic(&t, b"two").unwrap();
        assert_eq!(std::fs::read(&t).unwrap(), b"two");
        assert!(temporaries(d.path()).is_empty());
    }

    #[test]
    fn a_directory_target_fails_before_writing_and_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("feeds.jsonl");
        std::fs::create_dir(&t).unwrap();
        let e = write_atomic(&t, &vec![b'x'; 1 << 20]).unwrap_err();
        let msg = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(msg.contains("is a directory, not a regular file"), "{msg}");
        assert!(
            temporaries(d.path()).is_empty(),
            "{:?}",
            temporaries(d.path())
        );
        assert!(t.is_dir(), "the directory is kept");
    }

    #[test]
    fn a_symlink_target_is_never_replaced() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.txt");
        std::fs::write(&real, b"keep").unwrap();
        let link = d.path().join("link.txt");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = write_atomic(&link, b"new").unwrap_err();
        let msg = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(msg.contains("symbolic link"), "{msg}");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"keep");
        assert!(temporaries(d.path()).is_empty());
    }

    #[test]
    fn a_device_target_is_refused() {
        let e = AtomicFile::create("/dev/null").err().expect("refused");
        let msg = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(msg.contains("not a regular file"), "{msg}");
    }

    #[test]
    fn a_failed_commit_removes_the_temporary() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("out.txt");
        let mut f = AtomicFile::create(&t).unwrap();
        f.writer().write_all(&[b'x'; 4096]).unwrap();
        // The target becomes a non-empty directory while the file is being written.
        std::fs::create_dir(&t).unwrap();
        std::fs::write(t.join("inside"), b"").unwrap();
        assert!(f.commit().is_err());
        assert!(
            temporaries(d.path()).is_empty(),
            "{:?}",
            temporaries(d.path())
        );
    }

    #[test]
    fn drop_without_commit_removes_the_temporary() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("out.txt");
        let mut f = AtomicFile::create(&t).unwrap();
        f.writer().write_all(b"partial").unwrap();
        assert_eq!(temporaries(d.path()).len(), 1);
        drop(f);
        assert!(temporaries(d.path()).is_empty());
        assert!(!t.exists());
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_swept() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("feeds.jsonl");
        // A PID above the kernel's maximum (4194304) never exists.
        let dead = d.path().join(".feeds.jsonl.tmp.999999999.0");
        let alive = d
            .path()
            .join(format!(".feeds.jsonl.tmp.{}.77", std::process::id()));
        let other_target = d.path().join(".other.jsonl.tmp.999999999.0");
        let not_ours = d.path().join(".feeds.jsonl.tmp.999999999.x");
        for p in [&dead, &alive, &other_target, &not_ours] {
            std::fs::write(p, b"old").unwrap();
        }
        write_atomic(&t, b"new").unwrap();
        assert!(!dead.exists(), "a dead process's temporary is removed");
        assert!(alive.exists(), "a live process's temporary is kept");
        assert!(other_target.exists(), "another target's temporary is kept");
        assert!(not_ours.exists(), "a name not of our pattern is kept");
    }

    #[test]
    fn temp_names_are_parsed_exactly() {
        let p = tmp_prefix("a.tsv");
        assert_eq!(tmp_pid(".a.tsv.tmp.12.3", &p), Some(12));
        assert_eq!(tmp_pid(".a.tsv.tmp.12.", &p), None);
        assert_eq!(tmp_pid(".a.tsv.tmp.12", &p), None);
        assert_eq!(tmp_pid(".a.tsv.tmp.12.3.4", &p), None);
        assert_eq!(tmp_pid(".a.tsv.tmp.-1.3", &p), None);
        assert_eq!(tmp_pid(".b.tsv.tmp.12.3", &p), None);
    }

    #[test]
    fn an_unwritable_directory_fails_at_create() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let ro = d.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        // root ignores directory permissions, so the check cannot be seen when run as root
        if std::fs::write(ro.join("probe"), b"").is_ok() {
            eprintln!("skipped: running as root, which ignores directory permissions");
            return;
        }
        let e = AtomicFile::create(ro.join("out.txt"))
            .err()
            .expect("fails at once");
        assert!(matches!(e, IoError::Write { .. }), "{e}");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
