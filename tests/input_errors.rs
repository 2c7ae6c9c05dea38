//! Bad input is a clear error, never a panic or a plausible-looking result: a truncated
//! `.gz` table is reported at the line where decoding broke, errors quote at most
//! [`feedrank::io::QUOTE_MAX`] characters of a huge field, a negative story time is rejected,
//! and the CLI refuses (or warns about) times outside the world.
use feedrank::io::world_tsv::{read_world, ReadOptions};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const STRICT: ReadOptions = ReadOptions {
    lenient: false,
    skip_truth: false,
};

fn feedrank(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedrank"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A small simulated world written with `--gzip` (made once, shared by the tests).
fn gz_world() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep().join("world");
        let out = feedrank(&[
            "simulate".as_ref(),
            "--users".as_ref(),
            "300".as_ref(),
            "--days".as_ref(),
            "3".as_ref(),
            "--seed".as_ref(),
            "1".as_ref(),
            "--gzip".as_ref(),
            "--out".as_ref(),
            dir.as_os_str(),
        ]);
        assert!(out.status.success(), "simulate: {}", text(&out.stderr));
        dir
    })
}

/// A copy of the simulated world.
fn copy_world() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(gz_world()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.path().join(e.file_name())).unwrap();
    }
    d
}

/// Truncates `path` to half its size and returns the line (1-based) where decoding it breaks:
/// one past the complete lines that still decode.
fn truncate_gz(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
    let mut dec = flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap());
    let mut buf = vec![0u8; 1 << 16];
    let mut newlines = 0;
    loop {
        match dec.read(&mut buf) {
            Ok(0) => panic!("{}: still decodes after truncation", path.display()),
            Ok(n) => newlines += buf[..n].iter().filter(|&&b| b == b'\n').count(),
            Err(_) => return newlines + 1,
        }
    }
}

#[test]
fn truncated_gz_tables_name_the_file_and_the_line_where_decoding_broke() {
    for file in ["events.tsv.gz", "interactions.tsv.gz"] {
        let d = copy_world();
        let line = truncate_gz(&d.path().join(file));
        if file == "events.tsv.gz" {
            assert!(
                line > 1_000,
                "only {line} lines before the break: world too small"
            );
        }
        let e = read_world(d.path(), &STRICT)
            .err()
            .unwrap_or_else(|| panic!("{file}: a truncated table loads"))
            .to_string();
        assert!(e.contains(&format!("{file}:{line}: ")), "{file}: {e}");

        // The binaries say the same (and do not panic).
        let out = feedrank(&[
            "train".as_ref(),
            "--world".as_ref(),
            d.path().as_os_str(),
            "--model".as_ref(),
            d.path().join("m.bin").as_os_str(),
        ]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains(&format!("{file}:{line}: ")), "{stderr}");
    }
}

/// A small valid world (as text files) to break one field of.
fn base() -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    m.insert("world.toml", "name = \"t\"\n".to_string());
    m.insert("users.tsv", "user_id\na\nb\nc\n".to_string());
    m.insert(
        "friendships.tsv",
        "user_a\tuser_b\na\tb\nb\tc\n".to_string(),
    );
    m.insert(
        "stories.tsv",
        "story_id\tauthor_id\tcreated_at\tkind\ttopic\ns1\ta\t100\tstatus\tnews\n".to_string(),
    );
    m.insert(
        "events.tsv",
        "user_id\tstory_id\taction\tts\nb\ts1\timpression\t150\n".to_string(),
    );
    m
}

fn load(files: &BTreeMap<&'static str, String>, opts: &ReadOptions) -> Result<(), String> {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(d.path().join(name), text).unwrap();
    }
    read_world(d.path(), opts)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn a_10_mb_field_is_quoted_in_80_characters() {
    const N: usize = 10 << 20;
    let huge = "x".repeat(N);
    let with = |name: &'static str, from: &str, to: &str| {
        let mut m = base();
        let t = m[name].replacen(from, to, 1);
        m.insert(name, t);
        m
    };
    let cases = [
        // A non-integer time.
        with("stories.tsv", "\t100\t", &format!("\t{huge}\t")),
        // An unknown user id, story id and action.
        with("events.tsv", "b\ts1", &format!("{huge}\ts1")),
        with("events.tsv", "\ts1\t", &format!("\t{huge}\t")),
        with("events.tsv", "impression", &huge),
        // A duplicate id.
        with("users.tsv", "c\n", &format!("{huge}\n{huge}\n")),
        // A header without a required column.
        with("events.tsv", "action", &huge),
        // A friendship row with a bad id, a bad friendship header.
        with("friendships.tsv", "b\tc", &format!("b\t{huge} x")),
        with("friendships.tsv", "user_a", &huge),
        // A bad world.toml.
        with("world.toml", "\"t\"", &huge),
    ];
    for (i, files) in cases.iter().enumerate() {
        let e = load(files, &STRICT).expect_err("a bad field is an error");
        assert!(e.len() < 600, "case {i}: {} bytes: {}…", e.len(), &e[..300]);
        let longest = e.split(|c| c != 'x').map(str::len).max().unwrap_or(0);
        assert!(longest <= 80, "case {i}: {e}");
        if i != 7 {
            // (The friendship header is cut when read, before the message is made.)
            assert!(e.contains('…'), "case {i}: {e}");
            assert!(e.contains("bytes)"), "case {i}: {e}");
        }
    }
    // The length is the field's.
    let e = load(&cases[0], &STRICT).unwrap_err();
    assert!(
        e.contains(&format!("\"{}\"… (10,485,760 bytes)", "x".repeat(80))),
        "{e}"
    );
}

#[test]
fn short_fields_are_quoted_whole() {
    let mut m = base();
    m.insert(
        "events.tsv",
        "user_id\tstory_id\taction\tts\nb\ts1\tclik\t150\n".to_string(),
    );
    let e = load(&m, &STRICT).unwrap_err();
    assert!(
        e.contains("events.tsv:2: unknown action \"clik\" (expected"),
        "{e}"
    );
}

#[test]
fn a_negative_created_at_is_an_error_naming_the_file_and_line() {
    let mut m = base();
    m.insert(
        "stories.tsv",
        "story_id\tauthor_id\tcreated_at\tkind\ttopic\ns1\ta\t100\tstatus\tnews\ns2\tb\t-5\tphoto\t\n"
            .to_string(),
    );
    let e = load(&m, &STRICT).unwrap_err();
    assert!(
        e.contains("stories.tsv:3: column created_at: expected a time at or after 1970-01-01"),
        "{e}"
    );
    assert!(e.contains("found -5"), "{e}");
    // Lenient: skipped and counted.
    let d = tempfile::tempdir().unwrap();
    for (name, text) in &m {
        std::fs::write(d.path().join(name), text).unwrap();
    }
    let lenient = ReadOptions {
        lenient: true,
        skip_truth: false,
    };
    let (w, report) = read_world(d.path(), &lenient).unwrap();
    assert_eq!(w.stories.len(), 1);
    assert_eq!(
        report
            .skipped
            .get(&("stories.tsv".to_string(), "negative timestamp")),
        Some(&1)
    );
}

#[test]
fn eval_with_a_split_after_the_last_event_is_an_error_naming_both_times() {
    let out = feedrank(&[
        "eval".as_ref(),
        "--world".as_ref(),
        gz_world().as_os_str(),
        "--split-at".as_ref(),
        "2030-01-01".as_ref(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stderr}\n{}",
        text(&out.stdout)
    );
    assert!(
        !text(&out.stdout).contains("lists"),
        "{}",
        text(&out.stdout)
    );
    assert!(stderr.contains("--split-at"), "{stderr}");
    assert!(stderr.contains("2030-01-01 00:00:00 UTC"), "{stderr}");
    assert!(
        stderr.contains("after the world's last event ("),
        "{stderr}"
    );
    assert!(stderr.contains("the default split"), "{stderr}");
    // Before the first event: nothing to train on.
    let out = feedrank(&[
        "eval".as_ref(),
        "--world".as_ref(),
        gz_world().as_os_str(),
        "--split-at".as_ref(),
        "1990-01-01".as_ref(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("before the world's first event ("),
        "{stderr}"
    );
}

#[test]
fn generate_far_past_the_last_event_warns() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("m.bin");
    let out = feedrank(&[
        "train".as_ref(),
        "--world".as_ref(),
        gz_world().as_os_str(),
        "--model".as_ref(),
        model.as_os_str(),
    ]);
    assert!(out.status.success(), "train: {}", text(&out.stderr));
    let run = |as_of: Option<&str>| {
        let feeds = d.path().join("feeds.jsonl");
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "generate".as_ref(),
            "--world".as_ref(),
            gz_world().as_os_str(),
            "--model".as_ref(),
            model.as_os_str(),
            "--out".as_ref(),
            feeds.as_os_str(),
        ];
        if let Some(t) = as_of {
            args.push("--as-of".as_ref());
            args.push(t.as_ref());
        }
        let out = feedrank(&args);
        assert!(out.status.success(), "generate: {}", text(&out.stderr));
        text(&out.stderr)
    };
    let stderr = run(Some("9999999999"));
    assert!(
        stderr.contains("warning: --as-of 9999999999 (2286-11-20 17:46:39 UTC) is"),
        "{stderr}"
    );
    assert!(
        stderr.contains("days after the world's last event ("),
        "{stderr}"
    );
    assert!(!run(None).contains("warning"));
}
