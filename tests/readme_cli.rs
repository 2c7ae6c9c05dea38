//! The README and the command line agree: every flag in the README's command table is in the
//! `--help` of the command on that row, and every flag the README names in running text
//! (a code span starting with `--`) is accepted by some command of the table.
use std::collections::BTreeSet;
use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The cells of a Markdown table row (`\|` inside a cell is a literal `|`).
fn cells(row: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = row.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The command lines of the `| command | what it does |` table (first cells, without the
/// backticks).
fn table_commands(text: &str) -> Vec<String> {
    let mut lines = text.lines().skip_while(|l| {
        let c = cells(l);
        !(c.len() == 2 && c[0] == "command" && c[1] == "what it does")
    });
    assert!(
        lines.next().is_some(),
        "README.md has no `| command | what it does |` table"
    );
    let rows: Vec<String> = lines
        .skip(1) // the |---|---| line
        .take_while(|l| l.trim_start().starts_with('|'))
        .map(|l| cells(l)[0].trim_matches('`').to_string())
        .collect();
    assert!(
        rows.len() >= 5,
        "too few rows in the command table: {rows:?}"
    );
    rows
}

/// `--flag` names in `s`.
fn flags(s: &str) -> BTreeSet<String> {
    let b = s.as_bytes();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i + 2 < b.len() {
        let starts = b[i] == b'-'
            && b[i + 1] == b'-'
            && b[i + 2].is_ascii_lowercase()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-'));
        if starts {
            let mut j = i + 2;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
                j += 1;
            }
            out.insert(s[i..j].to_string());
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The binary and the subcommand words of a table command line (the words before the first
/// flag or placeholder); `a|b` alternatives give one path each.
fn command_paths(line: &str) -> Vec<Vec<String>> {
    let mut words = line.split_whitespace();
    let bin = words.next().unwrap().to_string();
    let mut paths = vec![vec![bin]];
    for w in words {
        if w.starts_with('-') || w.starts_with('[') || w == "..." {
            break;
        }
        if w.chars().any(|c| c.is_ascii_uppercase()) {
            break;
        }
        let alts: Vec<&str> = w.split('|').collect();
        paths = paths
            .into_iter()
            .flat_map(|p| {
                alts.iter().map(move |a| {
                    let mut p = p.clone();
                    p.push(a.to_string());
                    p
                })
            })
            .collect();
    }
    paths
}

fn help(path: &[String]) -> String {
    let exe = match path[0].as_str() {
        "feedrank" => env!("CARGO_BIN_EXE_feedrank"),
        "feedrank-debug" => env!("CARGO_BIN_EXE_feedrank-debug"),
        other => panic!("the command table names an unknown binary {other:?}"),
    };
    let out = Command::new(exe)
        .args(&path[1..])
        .arg("--help")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`{} --help` failed: {}",
        path.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn every_flag_in_the_command_table_is_in_that_commands_help() {
    let text = readme();
    let mut missing = Vec::new();
    for line in table_commands(&text) {
        let wanted = flags(&line);
        for path in command_paths(&line) {
            let have = flags(&help(&path));
            for f in wanted.difference(&have) {
                missing.push(format!("`{}`: {f}", path.join(" ")));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "README command table flags that --help does not list:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_flag_named_in_the_readme_text_is_accepted_by_some_command() {
    let text = readme();
    let mut all = BTreeSet::new();
    for line in table_commands(&text) {
        for path in command_paths(&line) {
            all.extend(flags(&help(&path)));
        }
    }
    // Code spans that are a flag (with or without a value): `--flag` or `--flag VALUE`.
    let mut missing = BTreeSet::new();
    for (i, span) in text.split('`').enumerate() {
        if i % 2 == 1 && span.starts_with("--") {
            for f in flags(span.split_whitespace().next().unwrap_or("")) {
                if !all.contains(&f) {
                    missing.insert(f);
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "README.md names flags that no command of its table accepts: {missing:?}"
    );
}

#[test]
fn the_table_parser_reads_escaped_pipes_and_alternatives() {
    let c = cells("| `feedrank import ciao\\|lastfm --input PATH` | real data |");
    assert_eq!(
        c,
        ["`feedrank import ciao|lastfm --input PATH`", "real data"]
    );
    let paths = command_paths("feedrank import ciao|lastfm --input PATH");
    assert_eq!(paths.len(), 2);
    assert_eq!(paths[1], ["feedrank", "import", "lastfm"]);
    assert_eq!(
        flags("x [--as-of T] --k=3 a--b"),
        ["--as-of", "--k"].map(String::from).into()
    );
}
