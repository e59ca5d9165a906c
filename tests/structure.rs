//! The crates' module graphs have no cycles: no module of a crate names
//! another (`crate::other`) that names it back, directly or around a loop.
//! And the derive's dependency tree stays light.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module -> the sibling modules it names, from `crate::name` and `use
/// crate::{a, b}` outside comments and test modules.
fn graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    let modules: BTreeSet<String> =
        files.iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    let mut graph = BTreeMap::new();
    for path in &files {
        let me = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let mut named = BTreeSet::new();
        for line in code.lines().map(|l| l.split("//").next().unwrap_or("")) {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                    None => vec![rest],
                };
                for n in names {
                    let n: String = n.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if modules.contains(&n) && n != me {
                        named.insert(n);
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
