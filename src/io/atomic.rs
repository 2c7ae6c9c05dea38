//! Atomic file writes: write to a temporary file beside the target, then rename, so that a
//! crash or an error never leaves a half-written output and never destroys the previous one.
use super::IoError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A buffered writer to `.<target>.tmp.<pid>.<seq>` that becomes `target` on [`AtomicFile::commit`].
/// Dropping it without committing removes the temporary file.
pub struct AtomicFile {
    target: PathBuf,
    tmp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file (and the parent directory if needed).
    ///
    /// # Errors
    /// [`IoError::Write`] when the directory or file cannot be created.
    pub fn create(target: impl AsRef<Path>) -> Result<Self, IoError> {
        let target = target.as_ref().to_path_buf();
        if let Some(parent) = target.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| IoError::Write {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".to_string());
        // Unique per process and per call, so two writers of one target (threads of one
        // process included) never share a temporary file; the last rename wins.
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = target.with_file_name(format!(".{name}.tmp.{}.{seq}", std::process::id()));
        let file = File::create(&tmp).map_err(|source| IoError::Write {
            path: tmp.clone(),
            source,
        })?;
        Ok(Self {
            target,
            tmp,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
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

    /// Flushes, syncs and renames the temporary file onto the target.
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
        std::fs::rename(&self.tmp, &self.target).map_err(|source| IoError::Write {
            path: self.target.clone(),
            source,
        })?;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
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
