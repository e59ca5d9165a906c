//! `kvgen init`: scaffolds a Worker crate, keeps existing files unless
//! `--force`, changes nothing on a second run, and reports bad input as one
//! line `file: problem` with exit code 2.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn kvgen(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("kvgen").unwrap();
    c.current_dir(dir);
    c
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

/// A crate in the layout of the workers-rs hello-world template.
fn hello_world() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\nworker = \"0.8.7\"\n",
    )
    .unwrap();
    fs::create_dir(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("src/lib.rs"), "use worker::*;\n").unwrap();
    dir
}

fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for rel in [
        "Cargo.toml",
        "kvgen.toml",
        "wrangler.jsonc",
        "wrangler.toml",
        "src/lib.rs",
        "src/models.rs",
        "src/kv.rs",
        "build.rs",
    ] {
        if let Ok(text) = fs::read_to_string(dir.join(rel)) {
            v.push((rel.to_string(), text));
        }
    }
    v
}

#[test]
fn scaffolds_a_hello_world_crate_and_a_second_run_changes_nothing() {
    let dir = hello_world();
    let out = stdout(kvgen(dir.path()).args(["init", "--path", "/src/kvgen"]));
    for f in ["kvgen.toml", "src/models.rs", "wrangler.jsonc"] {
        assert!(out.contains(&format!("wrote     {f}")), "{out}");
    }
    assert!(out.contains("updated   src/kv.rs"), "{out}");
    assert!(out.contains("kvgen = { path = \"/src/kvgen\", features = [\"worker\"] }"), "{out}");
    assert!(out.contains("pub mod kv;"), "{out}");
    let wrangler = fs::read_to_string(dir.path().join("wrangler.jsonc")).unwrap();
    assert!(wrangler.contains("\"$schema\""), "{wrangler}");
    assert!(wrangler.contains("\"name\": \"hello\""), "{wrangler}");
    assert!(wrangler.contains("\"binding\": \"KV\""), "{wrangler}");
    let kv = fs::read_to_string(dir.path().join("src/kv.rs")).unwrap();
    assert!(kv.contains("pub struct KvEnv<S>") && kv.contains("pub fn items(&self)"), "{kv}");
    // The user's files are not touched.
    assert_eq!(fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(), "use worker::*;\n");

    let before = snapshot(dir.path());
    let again = stdout(kvgen(dir.path()).arg("init"));
    assert!(!again.contains("wrote") && !again.contains("updated"), "{again}");
    assert!(again.contains("kvgen = { git = \"<kvgen-git-url>\", features = [\"worker\"] }"), "{again}");
    assert_eq!(snapshot(dir.path()), before);
    kvgen(dir.path()).arg("check").assert().code(0);
}

#[test]
fn keeps_existing_files_unless_forced() {
    let dir = hello_world();
    let mine = "// my models\nuse kvgen::KvModel;\nuse serde::{Deserialize, Serialize};\n\n#[derive(KvModel, Serialize, Deserialize)]\n#[kv(binding = \"KV\")]\npub struct Note {\n    #[kv(id)]\n    pub id: u64,\n}\n";
    fs::write(dir.path().join("src/models.rs"), mine).unwrap();
    fs::write(
        dir.path().join("wrangler.toml"),
        "name = \"hello\"\nmain = \"build/index.js\"\ncompatibility_date = \"2025-09-01\"\n",
    )
    .unwrap();
    let out = stdout(kvgen(dir.path()).arg("init"));
    assert!(out.contains("kept      src/models.rs (exists; --force overwrites it)"), "{out}");
    assert_eq!(fs::read_to_string(dir.path().join("src/models.rs")).unwrap(), mine);
    // An existing wrangler config is the one kvgen keeps; none is added.
    assert!(!dir.path().join("wrangler.jsonc").exists());
    assert!(fs::read_to_string(dir.path().join("kvgen.toml")).unwrap().contains("wrangler = \"wrangler.toml\""));
    assert!(fs::read_to_string(dir.path().join("wrangler.toml")).unwrap().contains("binding = \"KV\""));
    assert!(fs::read_to_string(dir.path().join("src/kv.rs")).unwrap().contains("pub fn notes(&self)"));

    let out = stdout(kvgen(dir.path()).args(["init", "--force"]));
    assert!(out.contains("wrote     src/models.rs"), "{out}");
    assert!(fs::read_to_string(dir.path().join("src/models.rs")).unwrap().contains("pub struct Item"));
}

#[test]
fn build_rs_mode_writes_build_rs_and_no_checked_in_rust() {
    let dir = hello_world();
    let out = stdout(kvgen(dir.path()).args(["init", "--build-rs"]));
    assert!(out.contains("wrote     build.rs"), "{out}");
    assert!(out.contains("[build-dependencies]"), "{out}");
    assert!(out.contains("include!(concat!(env!(\"OUT_DIR\"), \"/kvgen.rs\"));"), "{out}");
    assert!(!dir.path().join("src/kv.rs").exists());
    assert!(!fs::read_to_string(dir.path().join("kvgen.toml")).unwrap().contains("rust ="));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let assert = kvgen(dir.path()).arg("init").assert().code(2);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ./Cargo.toml: no such file"), "{err}");
    assert!(fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing written");

    fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    let assert = kvgen(dir.path()).arg("init").assert().code(2);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(err.trim(), "error: ./Cargo.toml: no [package] name: run kvgen init in a crate, not a workspace root");

    let dir = hello_world();
    fs::write(dir.path().join("src/kv.rs"), "// mine\n").unwrap();
    let assert = kvgen(dir.path()).arg("init").assert().code(2);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(
        err.trim(),
        "error: ./src/kv.rs: exists and is not kvgen's: pass another --output, or --force to replace it"
    );
    assert!(!dir.path().join("kvgen.toml").exists());
    assert_eq!(fs::read_to_string(dir.path().join("src/kv.rs")).unwrap(), "// mine\n");

    let dir = hello_world();
    let assert = kvgen(dir.path()).args(["init", "--binding", "app"]).assert().code(2);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!dir.path().join("kvgen.toml").exists());
}

fn init_fails(dir: &Path, args: &[&str]) -> String {
    let out = kvgen(dir).arg("init").args(args).assert().code(2).get_output().clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn an_existing_bindings_ids_are_kept_in_wrangler_toml_and_jsonc() {
    let dir = hello_world();
    let toml = "name = \"hello\"\n\n[[kv_namespaces]]\nbinding = \"KV\"\nid = \"0f2ac74b498b48028cb68387c421e279\"\n";
    fs::write(dir.path().join("wrangler.toml"), toml).unwrap();
    stdout(kvgen(dir.path()).arg("init"));
    assert_eq!(fs::read_to_string(dir.path().join("wrangler.toml")).unwrap(), toml);
    let config = fs::read_to_string(dir.path().join("kvgen.toml")).unwrap();
    assert!(config.contains("id = \"0f2ac74b498b48028cb68387c421e279\""), "{config}");
    kvgen(dir.path()).arg("check").assert().success();

    let dir = hello_world();
    let jsonc = "{\n  \"name\": \"hello\",\n  // ids\n  \"kv_namespaces\": [\n    { \"binding\": \"KV\", \"id\": \"abc123\", \"preview_id\": \"def456\" }\n  ]\n}\n";
    fs::write(dir.path().join("wrangler.jsonc"), jsonc).unwrap();
    stdout(kvgen(dir.path()).arg("init"));
    assert_eq!(fs::read_to_string(dir.path().join("wrangler.jsonc")).unwrap(), jsonc);
    kvgen(dir.path()).arg("check").assert().success();
}

#[test]
fn wrangler_environments_are_carried_and_nothing_is_written_before_every_check() {
    let dir = hello_world();
    let toml = "name = \"hello\"\n\n[[kv_namespaces]]\nbinding = \"KV\"\nid = \"prod\"\n\n[env.staging]\n\n[[env.staging.kv_namespaces]]\nbinding = \"KV\"\nid = \"stage\"\n";
    fs::write(dir.path().join("wrangler.toml"), toml).unwrap();
    stdout(kvgen(dir.path()).arg("init"));
    assert_eq!(fs::read_to_string(dir.path().join("wrangler.toml")).unwrap(), toml);
    kvgen(dir.path()).arg("check").assert().success();

    // The models file at the generated file's path: refused, and no file written.
    let dir = hello_world();
    let before = snapshot(dir.path());
    let err = init_fails(dir.path(), &["--models", "src/kv.rs"]);
    assert!(err.contains("kvgen.toml"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_models_path_pub_mod_cannot_name_is_refused() {
    for models in ["src/my-models.rs", "lib/models.rs", "src/a/b.rs"] {
        let dir = hello_world();
        let before = snapshot(dir.path());
        let err = init_fails(dir.path(), &["--models", models]);
        assert!(err.contains(models) && err.contains("--models"), "{err}");
        assert_eq!(snapshot(dir.path()), before);
    }
}

#[test]
fn init_names_the_durable_feature_strict_indexes_need() {
    let dir = hello_world();
    let out = stdout(kvgen(dir.path()).arg("init"));
    assert!(out.contains("needs kvgen's `durable` feature too: features = [\"worker\", \"durable\"]"), "{out}");
}
