//! The documentation's links and the tests it names.
//!
//! Every relative link in README.md, RELIABILITY.md, BENCHMARKS.md and
//! docs/*.md must name a file or folder of the repository, and every
//! `#anchor` (in the same file, or `file.md#anchor`) a heading of the target,
//! by GitHub's rule. Every test RELIABILITY.md names as `path.rs::name` must
//! exist (the file holds `fn name`), and every `scripts/e2e::name` must be a
//! check of the workerd run.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository root").to_path_buf()
}

/// The documents whose links are checked, relative to the root.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs = vec![PathBuf::from("README.md"), PathBuf::from("RELIABILITY.md"), PathBuf::from("BENCHMARKS.md")];
    let mut chapters: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(root).expect("under the root").to_path_buf())
        .collect();
    chapters.sort();
    docs.extend(chapters);
    docs
}

/// The lines of `text` outside fenced code blocks, with inline code removed.
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(f) = &fence {
            if trimmed.starts_with(f.as_str()) {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(trimmed[..3].to_string());
            continue;
        }
        if line.starts_with("    ") && !line.trim().is_empty() && !trimmed.starts_with('-') && !trimmed.starts_with('|')
        {
            // An indented code block (a line of prose wrapped under a list item starts with text, not 4 spaces,
            // in these documents).
            continue;
        }
        let mut prose = String::new();
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                prose.push(c);
            }
        }
        out.push((i + 1, prose));
    }
    out
}

/// The targets of the inline links `[text](target)` on a line.
fn link_targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or("").to_string();
        out.push(target);
        rest = &after[end..];
    }
    out
}

/// GitHub's anchor of a heading: lowercase, punctuation but `-` and `_` dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    let mut out = String::new();
    for c in heading.trim().chars() {
        if c == ' ' {
            out.push('-');
        } else if c.is_alphanumeric() || c == '-' || c == '_' {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Every anchor of a Markdown file's headings (a repeated heading gets `-1`, `-2`, as on GitHub).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence || !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let heading: String = heading.chars().filter(|&c| c != '`').collect();
        let base = anchor(&heading);
        let mut name = base.clone();
        let mut n = 0;
        while seen.contains(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        seen.insert(name);
    }
    seen
}

/// Every broken link of the documents, as `file:line: target: why`.
fn broken_links(root: &Path) -> Vec<String> {
    let mut broken = Vec::new();
    for doc in documents(root) {
        let text = fs::read_to_string(root.join(&doc)).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
        let dir = doc.parent().unwrap_or(Path::new(""));
        for (line, prose) in prose_lines(&text) {
            for target in link_targets(&prose) {
                if target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:") {
                    continue;
                }
                let (path, fragment) = match target.split_once('#') {
                    Some((p, f)) => (p, Some(f)),
                    None => (target.as_str(), None),
                };
                let file = if path.is_empty() { doc.clone() } else { dir.join(path) };
                let at = format!("{}:{line}: {target}", doc.display());
                let full = root.join(&file);
                if !full.exists() {
                    broken.push(format!("{at}: no file {}", file.display()));
                    continue;
                }
                if let Some(fragment) = fragment {
                    let Ok(target_text) = fs::read_to_string(&full) else {
                        broken.push(format!("{at}: an anchor into {}, which is not a text file", file.display()));
                        continue;
                    };
                    if !anchors(&target_text).contains(fragment) {
                        broken.push(format!("{at}: no heading #{fragment} in {}", file.display()));
                    }
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let broken = broken_links(&root());
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_follow_githubs_rule() {
    assert_eq!(anchor("Install and adopt"), "install-and-adopt");
    assert_eq!(anchor("Strict uniqueness, locks and rate limits"), "strict-uniqueness-locks-and-rate-limits");
    assert_eq!(anchor("Expiry: what each write does"), "expiry-what-each-write-does");
    assert_eq!(anchor("`kvgen generate` at scale"), "kvgen-generate-at-scale");
    assert_eq!(anchor("kvgen_toml and has_many"), "kvgen_toml-and-has_many");
    let text = "# A\n## Set-up\n```\n# not a heading\n```\n## Set-up\n";
    let got: Vec<_> = anchors(text).into_iter().collect();
    assert_eq!(got, ["a", "set-up", "set-up-1"]);
    assert_eq!(link_targets("see [a](docs/a.md#b) and [c](#d)."), ["docs/a.md#b", "#d"]);
}
/// The tests RELIABILITY.md names: `tests/x.rs::name`, `cli/tests/x.rs::name`, `codegen/...::name`,
/// `scripts/e2e::name`.
fn named_tests(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '/' || c == '.' || c == '-';
    let mut from = 0;
    while let Some(i) = text[from..].find("::") {
        let at = from + i;
        let start = text[..at].rfind(|c: char| !word(c)).map_or(0, |j| j + 1);
        let path = &text[start..at];
        let rest = &text[at + 2..];
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let name = &rest[..end];
        let is_named = (path.ends_with(".rs")
            && ["tests/", "cli/", "codegen/", "macros/", "examples/"].iter().any(|p| path.starts_with(p)))
            || path == "scripts/e2e";
        if is_named && !name.is_empty() {
            out.push((path.to_string(), name.to_string()));
        }
        from = at + 2;
    }
    out
}

/// Whether the workerd run has a check called `name`: in scripts/e2e, the conformance runner, the
/// conformance scenarios, or the Worker example's sources.
fn e2e_check_exists(root: &Path, name: &str) -> bool {
    let mut files =
        vec![root.join("scripts/e2e"), root.join("tests/bin/conformance.rs"), root.join("tests/scenarios.rs")];
    let mut dirs = vec![root.join("examples/worker/src")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.push(p);
            }
        }
    }
    files.iter().any(|f| {
        fs::read_to_string(f).is_ok_and(|t| {
            t.match_indices(name).any(|(i, _)| {
                let before = t[..i].chars().next_back();
                let after = t[i + name.len()..].chars().next();
                let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                boundary(before) && boundary(after)
            })
        })
    })
}

/// Every test RELIABILITY.md names that does not exist, as `path::name: why`.
fn missing_tests(root: &Path, text: &str) -> Vec<String> {
    let mut missing = Vec::new();
    for (path, name) in named_tests(text) {
        if path == "scripts/e2e" {
            if !e2e_check_exists(root, &name) {
                missing.push(format!("{path}::{name}: no such check of the workerd run"));
            }
            continue;
        }
        let Ok(source) = fs::read_to_string(root.join(&path)) else {
            missing.push(format!("{path}::{name}: no file {path}"));
            continue;
        };
        let defined = source
            .match_indices(&format!("fn {name}"))
            .any(|(i, m)| source[i + m.len()..].chars().next().is_some_and(|c| c == '(' || c == '<'));
        if !defined {
            missing.push(format!("{path}::{name}: {path} has no `fn {name}`"));
        }
    }
    missing
}

#[test]
fn every_test_reliability_names_exists() {
    let root = root();
    let text = fs::read_to_string(root.join("RELIABILITY.md")).expect("RELIABILITY.md");
    let named = named_tests(&text);
    assert!(named.len() >= 40, "RELIABILITY.md names only {} tests as `path.rs::name`", named.len());
    let missing = missing_tests(&root, &text);
    assert!(missing.is_empty(), "RELIABILITY.md names tests that do not exist:\n{}", missing.join("\n"));
}

#[test]
fn named_tests_are_read_as_written() {
    let text = "(`tests/faults.rs::fault_matrix`, `cli/tests/cli.rs::a_b`), scripts/e2e::coordination.";
    let got = named_tests(text);
    assert_eq!(
        got,
        [
            ("tests/faults.rs".to_string(), "fault_matrix".to_string()),
            ("cli/tests/cli.rs".to_string(), "a_b".to_string()),
            ("scripts/e2e".to_string(), "coordination".to_string()),
        ]
    );
    let root = root();
    assert!(!missing_tests(&root, "`tests/faults.rs::no_such_test_here`").is_empty());
    assert!(!missing_tests(&root, "`scripts/e2e::no_such_check_here`").is_empty());
}
