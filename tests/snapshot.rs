//! Snapshot of the code generated for the blog models. The snapshot is
//! compiled by this crate's library under `#![deny(warnings)]`; this test
//! fails when the generator's output drifts from it (run with
//! `EXPECTORATE=overwrite` to accept a change, then review the diff).

#[test]
fn blog_models_expand_to_the_snapshot() {
    let source = include_str!("../examples/blog/src/lib.rs");
    let expanded = kvgen_codegen::expand_file(source).expect("the blog models are valid");
    expectorate::assert_contents("snapshots/blog.expanded.rs", &expanded);
}

/// The project of an example: its kvgen.toml, or (for the build.rs example)
/// the sources its build script names.
fn example(name: &str) -> kvgen_codegen::project::Project {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name);
    let config = dir.join("kvgen.toml");
    if config.exists() {
        kvgen_codegen::project::Project::load(&config).expect("the example is valid")
    } else {
        let empty = kvgen_codegen::config::ConfigFile::empty(&config);
        kvgen_codegen::project::Project::build(empty, &[dir.join("src/models.rs")], &[]).expect("the example is valid")
    }
}

#[test]
fn env_structs_and_key_docs_of_the_examples() {
    // Examples with checked-in outputs are their own snapshots; the build.rs
    // example's output lives in OUT_DIR, so it has one here.
    let rust_out = [
        ("blog", "../examples/blog/src/env.rs"),
        ("notes", "snapshots/notes.generated.rs"),
        ("inventory", "../examples/inventory/src/generated.rs"),
    ];
    let keys_out = [
        ("blog", "../examples/blog/KEYS.md"),
        ("notes", "snapshots/notes.keys.md"),
        ("inventory", "../examples/inventory/KEYS.md"),
    ];
    for ((name, rust_path), (_, keys_path)) in rust_out.into_iter().zip(keys_out) {
        let project = example(name);
        let rust = kvgen_codegen::output::rust(&project).expect("the example generates");
        if rust_path.starts_with("../examples") {
            // Checked in and formatted by `cargo fmt`: the same tokens are current (as `kvgen check` has it).
            let on_disk = std::fs::read_to_string(rust_path).unwrap();
            assert!(kvgen_codegen::same::same_tokens(&on_disk, &rust), "{rust_path} is stale: run kvgen generate");
        } else {
            expectorate::assert_contents(rust_path, &rust);
        }
        expectorate::assert_contents(keys_path, &kvgen_codegen::keys::markdown(&project));
        expectorate::assert_contents(format!("snapshots/{name}.keys.mmd"), &kvgen_codegen::keys::mermaid(&project));
    }
}

#[test]
fn wrangler_fragments_of_the_blog() {
    let project = example("blog");
    expectorate::assert_contents("snapshots/blog.wrangler.toml", &kvgen_codegen::wrangler::toml_fragment(&project));
    expectorate::assert_contents("snapshots/blog.wrangler.jsonc", &kvgen_codegen::wrangler::jsonc_fragment(&project));
}

#[test]
fn typescript_of_the_examples() {
    // The Worker example's is checked in (tests/ts-reader imports it); the schema-first one has a snapshot.
    let worker = kvgen_codegen::ts::typescript(&example("worker"));
    expectorate::assert_contents("../examples/worker/ts/kv.ts", &worker);
    expectorate::assert_contents("snapshots/inventory.kv.ts", &kvgen_codegen::ts::typescript(&example("inventory")));
}
