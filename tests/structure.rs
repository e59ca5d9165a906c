//! The crates' module graphs have no cycles: no module of a crate names
//! another (`crate::other`) that names it back, directly or around a loop.
//! And the derive's dependency tree stays light.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The `.rs` files below `dir`, at any depth.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The module path of a file of a crate whose root folder is `dir`:
/// `model/key.rs` is `model::key`, `model/mod.rs` is `model`, the crate root
/// (`lib.rs`, `main.rs`) is empty.
fn module_of(dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(dir).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts.join("::")
}

/// The paths a line names through `crate::`, groups expanded:
/// `use crate::store::{limits, Entry};` names `store::limits` and `store::Entry`.
fn crate_paths(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let head: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
        let after = &rest[head.len()..];
        match after.strip_prefix('{') {
            Some(group) => {
                for item in group.split('}').next().unwrap_or("").split(',') {
                    let item: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    out.push(format!("{head}{item}"));
                }
            }
            None => out.push(head.trim_end_matches(':').to_string()),
        }
    }
    out
}

/// Module -> the modules it names (`crate::a::b` names the longest module
/// path it starts with), from code outside comments and test modules. A
/// module naming its own ancestor or descendant is not an edge (a folder's
/// `mod.rs` and its files are one unit).
fn graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(dir);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(dir, f)).filter(|m| !m.is_empty()).collect();
    let related = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"));
    let mut graph = BTreeMap::new();
    for path in &files {
        let me = module_of(dir, path);
        if me.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let mut named = BTreeSet::new();
        for line in code.lines().map(|l| l.split("//").next().unwrap_or("")) {
            for p in crate_paths(line) {
                let segments: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
                let target = (1..=segments.len()).rev().map(|n| segments[..n].join("::")).find(|m| modules.contains(m));
                if let Some(target) = target {
                    if !related(&me, &target) {
                        named.insert(target);
                    }
                }
            }
        }
        graph.insert(me, named);
    }
    graph
}

fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for next in &graph[m] {
            match state.get(next) {
                Some(1) => {
                    let from = path.iter().position(|p| p == next).unwrap();
                    let mut found = path[from..].to_vec();
                    found.push(next.clone());
                    return Some(found);
                }
                Some(_) => {}
                None => {
                    if let Some(found) = visit(next, graph, state, path) {
                        return Some(found);
                    }
                }
            }
        }
        path.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if !state.contains_key(m) {
            if let Some(found) = visit(m, graph, &mut state, &mut Vec::new()) {
                return Some(found);
            }
        }
    }
    None
}

#[test]
fn no_crate_has_an_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for dir in ["src", "codegen/core/src", "codegen/src", "cli/src", "macros/src"] {
        let g = graph(&root.join(dir));
        assert!(g.len() > 1 || dir != "src", "{dir}: no modules found");
        assert_eq!(cycle(&g), None, "{dir}: an import cycle");
    }
}

/// The runtime's folders, lowest first: each may use only those before it
/// (the crate root, which re-exports for users, is not one of them).
const LAYERS: [&str; 8] = ["error", "model", "coord", "store", "index", "repo", "patterns", "http"];

#[test]
fn the_runtime_uses_only_the_layers_below_each_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let g = graph(&root.join("src"));
    let layer = |m: &str| {
        let top = m.split("::").next().unwrap();
        LAYERS.iter().position(|l| *l == top).unwrap_or_else(|| panic!("src: module `{m}` is in no layer of LAYERS"))
    };
    let mut upward = Vec::new();
    for (m, named) in &g {
        for n in named {
            if layer(n) > layer(m) {
                upward.push(format!("{m} -> {n}"));
            }
        }
    }
    assert!(upward.is_empty(), "src: imports that run up the layers: {upward:?}");
    // The reading sees the layers' real imports, so it cannot pass by reading nothing.
    assert!(g["index::exec"].contains("store"), "{:?}", g["index::exec"]);
}

#[test]
fn every_folder_of_the_runtime_and_the_generator_opens_with_a_module_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for dir in ["src", "codegen/core/src", "codegen/src", "cli/src", "macros/src"] {
        for file in rust_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(text.starts_with("//!"), "{}: no module doc (`//!`) at its top", file.display());
        }
    }
}

/// Longest a file of the runtime or the generator may be, in lines.
const MAX_LINES: usize = 700;

#[test]
fn no_file_of_the_runtime_or_the_generator_is_over_700_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut long = Vec::new();
    for dir in ["src", "codegen/core/src", "codegen/src"] {
        for file in rust_files(&root.join(dir)) {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", file.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into_iter()
    .collect();
    assert_eq!(cycle(&g), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
}

/// The crates of `package`'s normal (non-dev, non-build) dependency tree, by name.
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "--offline", "-p", package, "-e", "normal", "--prefix", "none"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

/// Crates the generator's project side needs (kvgen.toml, wrangler files,
/// the schema, diffs, file output) and the derive does not.
const GENERATOR_ONLY: [&str; 7] = ["toml", "toml_edit", "jsonc-parser", "schemars", "similar", "tempfile", "indexmap"];

#[test]
fn the_derive_compiles_none_of_the_generators_heavy_dependencies() {
    let derive = normal_dependencies("kvgen-macros");
    assert!(derive.contains("syn") && derive.contains("kvgen-codegen-core"), "{derive:?}");
    let heavy: Vec<_> = GENERATOR_ONLY.iter().filter(|c| derive.contains(**c)).collect();
    assert!(heavy.is_empty(), "kvgen-macros depends on {heavy:?}");
    // The same reading finds them where they are used, so it cannot pass by reading nothing.
    let generator = normal_dependencies("kvgen-codegen");
    let missing: Vec<_> = GENERATOR_ONLY.iter().filter(|c| !generator.contains(**c)).collect();
    assert!(missing.is_empty(), "kvgen-codegen no longer depends on {missing:?}");
}
