//! Model files. Layout (little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `FRMODEL\0` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 8 | payload length |
//! | 8 | FNV-1a 64 checksum of the payload |
//! | n | payload: the [`TrainedModel`] in bincode 2 (serde, standard config) |
//!
//! The bincode choice lives only here (it carries an "unmaintained" advisory; the header's
//! version lets us change encoders). Loading checks, in order: magic, version, length
//! (truncation), checksum (corruption), decoding (with a size limit), the feature schema
//! against this build, dimensions and finiteness of every parameter. Writes are atomic.
use super::trained::{DefectKind, TrainedModel};
use super::ModelError;
use crate::features::schema;
use crate::util::hash::fnv1a;
use std::path::Path;

/// Magic bytes at the start of every model file.
pub const MAGIC: [u8; 8] = *b"FRMODEL\0";
/// Model file format version this build writes and reads (2: MF factors, per-viewer
/// offsets and the ablated groups joined the payload; 3: the training world's user sketch,
/// [`super::compat::UserSketch`]). Older files are refused with a request to retrain.
pub const FORMAT_VERSION: u32 = 3;
const HEADER: usize = 8 + 4 + 8 + 8;
const LIMIT: usize = 1 << 30;

/// Encodes a model into file bytes.
///
/// # Errors
/// [`ModelError::NonFinite`]/[`ModelError::Corrupt`]/[`ModelError::SchemaMismatch`] when the
/// model fails its own checks (a bad model is never written).
pub fn encode(model: &TrainedModel) -> Result<Vec<u8>, ModelError> {
    check(model, Path::new("<in memory>"))?;
    encode_unchecked(model)
}

/// [`encode`] without the model checks: for tests that need files with bad contents.
#[doc(hidden)]
pub fn encode_unchecked(model: &TrainedModel) -> Result<Vec<u8>, ModelError> {
    let payload =
        bincode::serde::encode_to_vec(model, bincode::config::standard()).map_err(|e| {
            ModelError::Corrupt {
                path: "<in memory>".into(),
                message: format!("cannot encode: {e}"),
            }
        })?;
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Saves a model atomically.
///
/// # Errors
/// As [`encode`], and [`ModelError::Write`].
pub fn save(model: &TrainedModel, path: &Path) -> Result<(), ModelError> {
    let bytes = encode(model)?;
    crate::io::atomic::write_atomic(path, &bytes)?;
    Ok(())
}

/// Loads and checks a model file.
///
/// # Errors
/// [`ModelError::Read`], [`ModelError::NotAModel`], [`ModelError::FormatVersion`],
/// [`ModelError::Truncated`], [`ModelError::Corrupt`], [`ModelError::SchemaMismatch`],
/// [`ModelError::NonFinite`]. Never panics on any input.
pub fn load(path: &Path) -> Result<TrainedModel, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode(&bytes, path)
}

/// Decodes and checks file bytes; `path` names the source in errors.
///
/// # Errors
/// As [`load`].
pub fn decode(bytes: &[u8], path: &Path) -> Result<TrainedModel, ModelError> {
    let p = || path.to_path_buf();
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
            return Err(ModelError::Truncated {
                path: p(),
                expected: HEADER as u64,
                found: bytes.len() as u64,
            });
        }
        return Err(ModelError::NotAModel { path: p() });
    }
    if bytes.len() < HEADER {
        return Err(ModelError::Truncated {
            path: p(),
            expected: HEADER as u64,
            found: bytes.len() as u64,
        });
    }
    let u32_at = |i: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&bytes[i..i + 4]);
        u32::from_le_bytes(b)
    };
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(ModelError::FormatVersion {
            path: p(),
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    let len = u64_at(12);
    let sum = u64_at(20);
    let found = (bytes.len() - HEADER) as u64;
    if found < len {
        return Err(ModelError::Truncated {
            path: p(),
            expected: HEADER as u64 + len,
            found: bytes.len() as u64,
        });
    }
    if found > len {
        return Err(ModelError::TrailingBytes {
            path: p(),
            expected: HEADER as u64 + len,
            found: bytes.len() as u64,
        });
    }
    let payload = &bytes[HEADER..];
    let computed = fnv1a(payload);
    if computed != sum {
        return Err(ModelError::Checksum {
            path: p(),
            stored: sum,
            computed,
        });
    }
    let cfg = bincode::config::standard().with_limit::<LIMIT>();
    let (model, used): (TrainedModel, usize) = bincode::serde::decode_from_slice(payload, cfg)
        .map_err(|e| ModelError::Corrupt {
            path: p(),
            message: format!("cannot decode: {e}"),
        })?;
    if used != payload.len() {
        return Err(ModelError::UndecodedBytes {
            path: p(),
            bytes: payload.len() - used,
        });
    }
    check(&model, path)?;
    Ok(model)
}

fn check(model: &TrainedModel, path: &Path) -> Result<(), ModelError> {
    model.validate().map_err(|defect| {
        let path = path.to_path_buf();
        match defect.kind() {
            DefectKind::Schema => ModelError::SchemaMismatch {
                path,
                found_version: model.schema_version,
                expected_version: schema::SCHEMA_VERSION,
                defect,
            },
            DefectKind::NonFinite => ModelError::NonFinite { path, what: defect },
            DefectKind::Corrupt => ModelError::Inconsistent { path, defect },
        }
    })
}
