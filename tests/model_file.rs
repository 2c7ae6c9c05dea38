//! Model files: round trip, and a clear error (never a panic) for every kind of bad file.
mod model_world;
use feedrank::config::Config;
use feedrank::features::AblationGroup;
use feedrank::model::file::{decode, encode, encode_unchecked, FORMAT_VERSION};
use feedrank::model::{default_as_of, load, save, train, ModelDefect, ModelError, TrainedModel};
use model_world::toy_world;
use std::path::Path;

fn model() -> TrainedModel {
    let w = toy_world(30, 5, 9);
    train(&w, default_as_of(&w).unwrap(), &Config::default()).unwrap()
}

#[test]
fn round_trip_and_atomic_overwrite() {
    let m = model();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sub/m.frm");
    save(&m, &p).unwrap();
    assert_eq!(load(&p).unwrap(), m);
    save(&m, &p).unwrap();
    assert_eq!(load(&p).unwrap(), m);
    let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary files left behind");
    let e = load(&dir.path().join("missing.frm")).unwrap_err();
    assert!(matches!(e, ModelError::Read { .. }), "{e}");
}

#[test]
fn the_committed_model_and_an_ablated_one_reencode_to_the_same_bytes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(root.join("models/sample.frm")).unwrap();
    let m = decode(&bytes, Path::new("models/sample.frm")).unwrap();
    assert_eq!(encode(&m).unwrap(), bytes);
    // ablation groups are stored as their names
    let mut cfg = Config::default();
    cfg.model.ablate = vec![AblationGroup::TieStrength, AblationGroup::Personalisation];
    let w = toy_world(30, 5, 9);
    let m = train(&w, default_as_of(&w).unwrap(), &cfg).unwrap();
    let bytes = encode(&m).unwrap();
    let needle = b"\x0ctie_strength\x0fpersonalisation";
    assert!(bytes.windows(needle.len()).any(|w| w == needle));
    assert_eq!(
        decode(&bytes, Path::new("m.frm")).unwrap().ablate,
        cfg.model.ablate
    );
}

#[test]
fn every_truncation_and_every_byte_flip_is_an_error() {
    let bytes = encode(&model()).unwrap();
    let p = Path::new("m.frm");
    for len in 0..bytes.len() {
        let e = decode(&bytes[..len], p).unwrap_err();
        assert!(
            matches!(
                e,
                ModelError::Truncated { .. } | ModelError::NotAModel { .. }
            ),
            "length {len}: {e}"
        );
    }
    let step = (bytes.len() / 300).max(1);
    for i in (0..bytes.len()).step_by(step) {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        assert!(decode(&b, p).is_err(), "flip at {i} went unnoticed");
    }
    let mut extra = bytes.clone();
    extra.push(0);
    let e = decode(&extra, p).unwrap_err();
    assert!(
        matches!(e, ModelError::TrailingBytes { expected, found, .. } if found == expected + 1),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with("1 bytes after the declared payload"),
        "{e}"
    );
    // a flipped payload byte fails the checksum, which names both sums
    let mut b = bytes.clone();
    let last = b.len() - 1;
    b[last] ^= 1;
    let e = decode(&b, p).unwrap_err();
    assert!(
        matches!(e, ModelError::Checksum { stored, computed, .. } if stored != computed),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with("corrupt model file: checksum mismatch"),
        "{e}"
    );
}

#[test]
fn bad_magic_and_other_version() {
    let bytes = encode(&model()).unwrap();
    let p = Path::new("m.frm");
    let mut b = bytes.clone();
    b[0] = b'X';
    assert!(matches!(decode(&b, p), Err(ModelError::NotAModel { .. })));
    let mut b = bytes.clone();
    b[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let e = decode(&b, p).unwrap_err();
    assert!(matches!(e, ModelError::FormatVersion { found, .. } if found == FORMAT_VERSION + 1));
    assert!(e.to_string().contains("version"));
    // a file from before the training world's user sketch (format 2) asks for a retrain
    let mut b = bytes.clone();
    b[8..12].copy_from_slice(&2u32.to_le_bytes());
    let e = decode(&b, p).unwrap_err().to_string();
    assert!(
        e.contains("format version 2") && e.contains("retrain the model"),
        "{e}"
    );
    assert!(matches!(
        decode(b"not a model at all, just text", p),
        Err(ModelError::NotAModel { .. })
    ));
}

#[test]
fn schema_mismatch_is_named() {
    let mut m = model();
    m.feature_names[3] = "renamed".into();
    let e = decode(&encode_unchecked(&m).unwrap(), Path::new("m.frm")).unwrap_err();
    assert!(
        matches!(
            &e,
            ModelError::SchemaMismatch {
                defect: ModelDefect::FeatureName { index: 3, found, .. },
                ..
            } if found == "renamed"
        ),
        "{e}"
    );
    assert!(e.to_string().contains("renamed"), "{e}");
    let mut m = model();
    m.schema_version += 1;
    let e = decode(&encode_unchecked(&m).unwrap(), Path::new("m.frm")).unwrap_err();
    assert!(matches!(e, ModelError::SchemaMismatch { .. }), "{e}");
    let mut m = model();
    m.feature_names.pop();
    assert!(encode(&m).is_err(), "a bad model is never written");
}

#[test]
fn non_finite_parameters_are_rejected() {
    let mut m = model();
    m.heads[0].coef[2] = f64::NAN;
    let action = m.heads[0].action;
    let e = decode(&encode_unchecked(&m).unwrap(), Path::new("m.frm")).unwrap_err();
    assert!(
        matches!(e, ModelError::NonFinite { what: ModelDefect::HeadParameters { action: a }, .. } if a == action),
        "{e}"
    );
    assert!(save(&m, &tempfile::tempdir().unwrap().path().join("x")).is_err());
    let mut m = model();
    m.scaler.scale[0] = 0.0;
    let e = decode(&encode_unchecked(&m).unwrap(), Path::new("m.frm")).unwrap_err();
    assert!(matches!(e, ModelError::NonFinite { .. }), "{e}");
    let mut m = model();
    m.heads[0].coef.pop();
    let e = decode(&encode_unchecked(&m).unwrap(), Path::new("m.frm")).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::Inconsistent {
                defect: ModelDefect::HeadWidth { found, expected, .. },
                ..
            } if found + 1 == expected
        ),
        "{e}"
    );
    assert!(e.to_string().contains("corrupt model file"), "{e}");
}
