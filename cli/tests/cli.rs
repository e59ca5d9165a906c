//! The `kvgen` binary, run as a process: every subcommand, `--help`, the
//! drift check, in-place wrangler updates, and bad input (exit 2, one line
//! per problem naming file:line:col, nothing written).

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};
use support::{copy_dir, repo};

mod support;

fn kvgen() -> Command {
    Command::cargo_bin("kvgen").expect("the kvgen binary is built")
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

/// A temp copy of an example's kvgen inputs and outputs.
fn copy_example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("examples").join(name), dir.path());
    dir
}

/// Every file under `dir` with its contents, to show nothing was written.
fn snapshot_dir(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn help_lists_every_subcommand() {
    let help = stdout(kvgen().arg("--help"));
    expectorate::assert_contents("tests/snapshots/help.txt", &help);
    let help = stdout(kvgen().args(["wrangler", "--help"]));
    expectorate::assert_contents("tests/snapshots/help-wrangler.txt", &help);
}

#[test]
fn check_passes_on_the_examples_as_checked_in() {
    for example in ["blog", "inventory"] {
        let config = repo().join("examples").join(example).join("kvgen.toml");
        let out = stdout(kvgen().arg("--config").arg(&config).arg("check"));
        assert!(out.contains("generated files are current"), "{example}: {out}");
    }
}

#[test]
fn generate_writes_missing_outputs_then_leaves_them_alone() {
    let dir = copy_example("blog");
    let env_rs = dir.path().join("src/env.rs");
    let keys = dir.path().join("KEYS.md");
    let want_env = fs::read_to_string(&env_rs).unwrap();
    fs::remove_file(&env_rs).unwrap();
    fs::write(&keys, "stale").unwrap();
    let out = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert!(out.contains("wrote     src/env.rs"), "{out}");
    assert!(out.contains("wrote     KEYS.md"), "{out}");
    assert!(out.contains("unchanged wrangler.toml"), "{out}");
    // The checked-in file is rustfmt's layout of the same tokens.
    assert!(kvgen_codegen::same::same_tokens(&fs::read_to_string(&env_rs).unwrap(), &want_env));
    let again = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert_eq!(again.matches("unchanged").count(), 3, "{again}");
    // No temp files left behind.
    assert!(fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".kvgen-")));
}

#[test]
fn check_detects_drift_after_a_model_change() {
    let dir = copy_example("blog");
    let lib = dir.path().join("src/lib.rs");
    let mut source = fs::read_to_string(&lib).unwrap();
    source.push_str(
        "\n/// A tag.\n#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]\n#[kv(binding = \"APP\")]\npub struct Tag {\n    /// The tag.\n    #[kv(id)]\n    pub name: String,\n}\n",
    );
    fs::write(&lib, source).unwrap();
    let before = snapshot_dir(dir.path());
    let out = kvgen().current_dir(dir.path()).arg("check").assert().code(1).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("kvgen: stale: src/env.rs"), "{out}");
    assert!(out.contains("kvgen: stale: KEYS.md"), "{out}");
    assert!(!out.contains("stale: wrangler.toml"), "{out}");
    assert!(out.contains("--- src/env.rs (on disk)") && out.contains("+++ src/env.rs (generated)"), "{out}");
    assert!(out.contains("+    pub fn tags(&self) -> crate::TagRepo<'_, S> {"), "{out}");
    assert!(out.contains("+| `Tag` | `APP` | record | `tag:{name}`"), "{out}");
    assert!(out.contains("kvgen: 2 of 3 files are stale"), "{out}");
    assert_eq!(snapshot_dir(dir.path()), before, "check writes nothing");
    // generate fixes it.
    kvgen().current_dir(dir.path()).arg("generate").assert().success();
    kvgen().current_dir(dir.path()).arg("check").assert().success();
}

#[test]
fn check_detects_a_stale_wrangler_config() {
    let dir = copy_example("blog");
    let wrangler = dir.path().join("wrangler.toml");
    let text = fs::read_to_string(&wrangler).unwrap().replace("face0ff0face0ff0face0ff0face0ff0", "0ld");
    fs::write(&wrangler, text).unwrap();
    let out = kvgen().current_dir(dir.path()).arg("check").assert().code(1).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("kvgen: stale: wrangler.toml"), "{out}");
    assert!(out.contains("-id = \"0ld\"\n+id = \"face0ff0face0ff0face0ff0face0ff0\""), "{out}");
}

#[test]
fn wrangler_prints_toml_and_jsonc_fragments() {
    let config = repo().join("examples/blog/kvgen.toml");
    let toml = stdout(kvgen().arg("--config").arg(&config).arg("wrangler"));
    expectorate::assert_contents("../tests/snapshots/blog.wrangler.toml", &toml);
    let jsonc = stdout(kvgen().arg("--config").arg(&config).args(["wrangler", "--format", "jsonc"]));
    expectorate::assert_contents("../tests/snapshots/blog.wrangler.jsonc", &jsonc);
    // The fragments parse.
    let doc: toml::Table = toml::from_str(&toml).unwrap();
    assert_eq!(doc["kv_namespaces"].as_array().unwrap().len(), 2);
    assert_eq!(doc["env"]["staging"]["kv_namespaces"].as_array().unwrap().len(), 2);
}

/// A temp folder holding the wrangler fixture's kvgen.toml (its sources read
/// from the blog example where it is): `--write` writes only inside it.
fn wrangler_fixture_dir() -> tempfile::TempDir {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler");
    let dir = tempfile::tempdir().unwrap();
    let blog = repo().join("examples/blog").canonicalize().unwrap();
    let config = fs::read_to_string(fixtures.join("kvgen.toml"))
        .unwrap()
        .replace("../../../../examples/blog", &blog.display().to_string());
    fs::write(dir.path().join("kvgen.toml"), config).unwrap();
    dir
}

fn wrangler_write(ext: &str) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler");
    let dir = wrangler_fixture_dir();
    let fixtures_config = dir.path().join("kvgen.toml");
    let target = dir.path().join(format!("wrangler.{ext}"));
    fs::copy(fixtures.join(format!("before.{ext}")), &target).unwrap();
    let out = stdout(kvgen().arg("--config").arg(&fixtures_config).arg("wrangler").arg("--write").arg(&target));
    assert!(out.starts_with("kvgen: updated"), "{out}");
    let after = fs::read_to_string(&target).unwrap();
    expectorate::assert_contents(format!("tests/fixtures/wrangler/after.{ext}"), &after);
    // Writing again changes nothing.
    let out = stdout(kvgen().arg("--config").arg(&fixtures_config).arg("wrangler").arg("--write").arg(&target));
    assert!(out.starts_with("kvgen: unchanged"), "{out}");
}

#[test]
fn wrangler_write_changes_only_kv_entries_in_toml() {
    wrangler_write("toml");
    // Everything but the KV entries is as it was: same comments, vars, environments.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler");
    let strip = |t: &str| -> toml::Table {
        let mut doc: toml::Table = toml::from_str(t).unwrap();
        doc.remove("kv_namespaces");
        for (_, env) in doc.get_mut("env").and_then(|e| e.as_table_mut()).unwrap().iter_mut() {
            env.as_table_mut().unwrap().remove("kv_namespaces");
        }
        doc
    };
    let before = fs::read_to_string(fixtures.join("before.toml")).unwrap();
    let after = fs::read_to_string(fixtures.join("after.toml")).unwrap();
    assert_eq!(strip(&before), strip(&after));
    for comment in before.lines().filter(|l| l.contains('#')) {
        assert!(after.contains(comment.split('#').nth(1).unwrap()), "comment lost: {comment}");
    }
}

#[test]
fn wrangler_write_changes_only_kv_entries_in_jsonc() {
    wrangler_write("jsonc");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler");
    let before = fs::read_to_string(fixtures.join("before.jsonc")).unwrap();
    let after = fs::read_to_string(fixtures.join("after.jsonc")).unwrap();
    for comment in before.lines().filter_map(|l| l.split("//").nth(1)) {
        assert!(after.contains(comment), "comment lost: {comment}");
    }
    assert!(after.contains(r#""vars": { "GREETING": "hi, staging" }"#));
    assert!(after.contains(r#"{ "binding": "CACHE", "id": "cache-id" }"#));
}

#[test]
fn keys_prints_markdown_and_mermaid() {
    let config = repo().join("examples/blog/kvgen.toml");
    let md = stdout(kvgen().arg("--config").arg(&config).arg("keys"));
    assert_eq!(md, fs::read_to_string(repo().join("examples/blog/KEYS.md")).unwrap());
    let mermaid = stdout(kvgen().arg("--config").arg(&config).args(["keys", "--format", "mermaid"]));
    expectorate::assert_contents("../tests/snapshots/blog.keys.mmd", &mermaid);
}

#[test]
fn schema_is_json_schema_of_the_config() {
    let out = stdout(kvgen().arg("schema"));
    let schema: serde_json::Value = serde_json::from_str(&out).unwrap();
    let props = &schema["properties"];
    for key in ["sources", "output", "namespaces", "models", "crate_src"] {
        assert!(props.get(key).is_some(), "schema lacks {key}");
    }
    expectorate::assert_contents("tests/snapshots/kvgen.schema.json", &out);
}

#[test]
fn expand_prints_the_derive_output() {
    let out = stdout(kvgen().arg("expand").arg(repo().join("examples/blog/src/lib.rs")));
    assert!(out.contains("impl ::kvgen::Model for User {"));
    assert!(out.contains("pub async fn find_by_org_id_and_handle("));
}

const MODEL: &str = "use kvgen::KvModel;\n#[derive(KvModel)]\n#[kv(binding = \"APP\")]\npub struct User {\n    #[kv(id)]\n    pub id: String,\n}\n";

/// Runs `kvgen generate` in a folder holding `files`: exit 2, exactly
/// `stderr`, and no file written or changed.
fn bad_input(files: &[(&str, &str)], stderr: &str) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    let before = snapshot_dir(dir.path());
    let out = kvgen().current_dir(dir.path()).arg("generate").assert().code(2).get_output().clone();
    assert_eq!(String::from_utf8(out.stderr).unwrap(), stderr);
    assert_eq!(snapshot_dir(dir.path()), before, "bad input wrote something");
}

const WITH_OUTPUTS: &str = "sources = [\"src/lib.rs\"]\n[output]\nrust = \"src/env.rs\"\nkeys = \"KEYS.md\"\n";

#[test]
fn bad_input_missing_config() {
    bad_input(&[], "error: kvgen.toml: no such file: run kvgen where kvgen.toml is, or pass --config\n");
}

#[test]
fn bad_input_toml_syntax() {
    bad_input(&[("kvgen.toml", "sources = [\n")], "error: kvgen.toml:1:12: unclosed array, expected `]`\n");
}

#[test]
fn bad_input_unknown_config_key() {
    bad_input(
        &[("kvgen.toml", "sourcez = [\"src/lib.rs\"]\n")],
        "error: kvgen.toml:1:1: unknown field `sourcez`, expected one of `sources`, `crate_src`, `output`, `namespaces`, `models`, `coordinator`\n",
    );
}

#[test]
fn bad_input_missing_source() {
    bad_input(
        &[("kvgen.toml", "sources = [\"src/lib.rs\", \"src/nope.rs\"]\n"), ("src/lib.rs", MODEL)],
        "error: kvgen.toml:1:26: source `src/nope.rs` does not exist\n",
    );
}

#[test]
fn bad_input_rust_syntax() {
    bad_input(
        &[("kvgen.toml", WITH_OUTPUTS), ("src/lib.rs", "pub struct X {\n  a: u32,,\n}\n")],
        "error: src/lib.rs:2:10: expected identifier\n",
    );
}

#[test]
fn bad_input_derive_mistake() {
    let model = MODEL.replace("binding = \"APP\"", "binding = \"APP\", ttl = 59");
    bad_input(
        &[("kvgen.toml", WITH_OUTPUTS), ("src/lib.rs", &model)],
        "error: src/lib.rs:3:29: ttl must be at least 60 seconds (the Workers KV minimum), not 59\n",
    );
}

#[test]
fn bad_input_two_models_one_prefix() {
    let member = MODEL
        .replace("struct User", "struct Member")
        .replace("binding = \"APP\"", "binding = \"APP\", prefix = \"user\"");
    bad_input(
        &[("kvgen.toml", "sources = [\"src\"]\n"), ("src/a.rs", MODEL), ("src/b.rs", &member)],
        "error: src/b.rs:3:32: model `Member` uses key prefix `user` in binding `APP`, as does `User` (src/a.rs:4:12); give one a different `prefix`\n",
    );
}

#[test]
fn bad_input_has_many_without_child_index() {
    let src = "use kvgen::KvModel;\n#[derive(KvModel)]\n#[kv(has_many(Post, by = author_id))]\npub struct User {\n    #[kv(id)]\n    pub id: String,\n}\n#[derive(KvModel)]\npub struct Post {\n    #[kv(id)]\n    pub id: u64,\n    pub author_id: String,\n}\n";
    bad_input(
        &[("kvgen.toml", WITH_OUTPUTS), ("src/lib.rs", src)],
        "error: src/lib.rs:3:26: `has_many(Post, by = author_id)`: `Post` has no index on `author_id`; add `#[kv(index)]` or `#[kv(belongs_to = User)]` to it (src/lib.rs:9:12)\n",
    );
}

#[test]
fn bad_input_relations_in_kvgen_toml_point_at_their_keys() {
    // An unknown belongs_to target at the field's `belongs_to` key, an unknown
    // has_many child at its `model` key, a child without the index at `by`.
    let config = "[models.Post]\nbinding = \"APP\"\nhas_many = [{ model = \"Comment\", by = \"post_id\" }, { model = \"Tag\", by = \"post_id\" }]\n\n[models.Post.fields]\nid = { type = \"String\", id = true }\nauthor_id = { type = \"String\", belongs_to = \"Usr\" }\n\n[models.Comment]\nbinding = \"APP\"\n\n[models.Comment.fields]\nid = { type = \"String\", id = true }\npost_id = \"String\"\n\n[namespaces.APP]\nid = \"x\"\n";
    bad_input(
        &[("kvgen.toml", config)],
        "error: kvgen.toml:3:34: `has_many(Comment, by = post_id)`: `Comment` has no index on `post_id`; add `#[kv(index)]` or `#[kv(belongs_to = Post)]` to it (kvgen.toml:9:9)\n\
         error: kvgen.toml:3:54: `has_many(Tag, ..)`: no model named `Tag`\n\
         error: kvgen.toml:7:32: `belongs_to = Usr`: no model named `Usr`\n",
    );
}

#[test]
fn bad_input_in_kvgen_toml_models_names_its_keys_not_the_derives_attributes() {
    // The derive's rules, in the words of kvgen.toml: `id = true`, not `#[kv(id)]`.
    let config = "[models.User]\nbinding = \"APP\"\n\n[models.User.fields]\nid = { type = \"String\", id = true }\nother = { type = \"String\", id = true }\nemail = { type = \"String\", generate = \"ulid\", strict = true }\nblob = { type = \"String\", raw = true }\nblob2 = { type = \"String\", raw = true }\n\n[namespaces.APP]\nid = \"x\"\n";
    bad_input(
        &[("kvgen.toml", config)],
        "error: kvgen.toml:1:9: model `User`: a model has exactly one `id = true` field; this is the second\n\
         error: kvgen.toml:1:9: model `User`: `generate` fills the id: put it on the `id = true` field\n\
         error: kvgen.toml:1:9: model `User`: `strict` applies to a unique field: `unique = true, strict = true`\n\
         error: kvgen.toml:1:9: model `User`: a model has at most one `raw = true` field; this is the second\n",
    );
    bad_input(
        &[("kvgen.toml", "[models.User]\nbinding = \"APP\"\n\n[models.User.fields]\nname = \"String\"\n\n[namespaces.APP]\nid = \"x\"\n")],
        "error: kvgen.toml:1:9: model `User`: `User` has no id: mark the field that identifies a record with `id = true`\n",
    );
}

#[test]
fn bad_input_desc_in_kvgen_toml_points_at_its_key() {
    // `desc` on a text field, `desc` without an index, and a text field marked `desc` in a compound index.
    let config = "[models.Event]\nbinding = \"APP\"\nindex = [[\"aggregate\", \"at desc\"], { fields = [\"aggregate desc\"] }]\n\n[models.Event.fields]\nid = { type = \"String\", id = true }\naggregate = { type = \"String\", index = true, desc = true }\nat = { type = \"u64\", desc = true }\n\n[namespaces.APP]\nid = \"x\"\n";
    bad_input(
        &[("kvgen.toml", config)],
        "error: kvgen.toml:3:48: `desc` takes an integer field (a timestamp, a sequence number); `aggregate` is `String`, whose key has no form in reverse order\n\
         error: kvgen.toml:7:46: `desc` takes an integer field (a timestamp, a sequence number); `aggregate` is `String`, whose key has no form in reverse order\n\
         error: kvgen.toml:8:22: `desc` orders an index: add `index = true` or `unique = true`\n",
    );
}

#[test]
fn kvgen_toml_desc_index_generates_newest_first_listings() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[output]\nrust = \"src/kv.rs\"\nkeys = \"KEYS.md\"\n\n[models.Event]\nbinding = \"APP\"\nindex = [[\"aggregate\", \"at desc\"]]\n\n[models.Event.fields]\nid = { type = \"String\", id = true }\naggregate = \"String\"\nat = \"i64\"\nseq = { type = \"u32\", index = true, desc = true }\n\n[namespaces.APP]\nid = \"x\"\n";
    fs::write(dir.path().join("kvgen.toml"), config).unwrap();
    kvgen().current_dir(dir.path()).arg("generate").assert().success();
    let rust = fs::read_to_string(dir.path().join("src/kv.rs")).unwrap();
    assert!(rust.contains("#[kv(binding = \"APP\", index(aggregate, at desc))]"), "{rust}");
    assert!(rust.contains("#[kv(index, desc)]"), "{rust}");
    let keys = fs::read_to_string(dir.path().join("KEYS.md")).unwrap();
    assert!(keys.contains("`event.aggregate_at:{aggregate}:{at desc}:{id}`"), "{keys}");
    assert!(keys.contains("`event.seq:{seq desc}:{id}`"), "{keys}");
}

#[test]
fn bad_input_relation_across_bindings() {
    let src = "use kvgen::KvModel;\n#[derive(KvModel)]\n#[kv(binding = \"USERS\")]\npub struct User {\n    #[kv(id)]\n    pub id: String,\n}\n#[derive(KvModel)]\n#[kv(binding = \"POSTS\")]\npub struct Post {\n    #[kv(id)]\n    pub id: u64,\n    #[kv(belongs_to = User)]\n    pub author_id: String,\n}\n";
    bad_input(
        &[("kvgen.toml", WITH_OUTPUTS), ("src/lib.rs", src)],
        "error: src/lib.rs:14:9: `Post` (POSTS) and `User` (USERS) are related but live in different bindings; relation loaders read one binding: put both in one\n",
    );
}

#[test]
fn bad_input_invalid_binding_name() {
    bad_input(
        &[("kvgen.toml", "sources = [\"src/lib.rs\"]\n\n[namespaces.APP]\nid = \"a\"\n\n[namespaces.my-app]\nid = \"x\"\n"), ("src/lib.rs", MODEL)],
        "error: kvgen.toml:6:13: invalid binding name `my-app`: use letters, digits and `_`, not starting with a digit\n",
    );
}

#[test]
fn bad_input_binding_without_namespace() {
    bad_input(
        &[("kvgen.toml", "sources = [\"src/lib.rs\"]\n\n[namespaces.OTHER]\nid = \"x\"\n"), ("src/lib.rs", MODEL)],
        "error: src/lib.rs:4:12: binding `APP` of model `User` has no `[namespaces.APP]` in kvgen.toml\n",
    );
}

#[test]
fn bad_input_binding_missing_from_an_environment() {
    let config = "sources = [\"src\"]\n\n[namespaces.APP]\nid = \"a\"\n\n[namespaces.APP.env.staging]\nid = \"b\"\n\n[namespaces.SESSIONS]\nid = \"c\"\n";
    let sessions = MODEL.replace("\"APP\"", "\"SESSIONS\"").replace("User", "Session");
    bad_input(
        &[("kvgen.toml", config), ("src/a.rs", MODEL), ("src/b.rs", &sessions)],
        "error: kvgen.toml:9:13: binding `SESSIONS` is missing from environment `staging`: add `[namespaces.SESSIONS.env.staging]` with its id (wrangler does not inherit bindings into environments)\n",
    );
}

#[test]
fn bad_input_wrangler_environment_without_ids() {
    let config = "sources = [\"src/lib.rs\"]\n[output]\nwrangler = \"wrangler.toml\"\n\n[namespaces.APP]\nid = \"a\"\n";
    bad_input(
        &[("kvgen.toml", config), ("src/lib.rs", MODEL), ("wrangler.toml", "name = \"w\"\n\n[env.dev]\nname = \"w-dev\"\n")],
        "error: wrangler.toml:3:6: environment `dev` has no KV namespace ids for APP in kvgen.toml: add `[namespaces.APP.env.dev]` (wrangler does not inherit bindings)\n",
    );
}

#[test]
fn bad_input_wrangler_syntax() {
    let config = "sources = [\"src/lib.rs\"]\n[output]\nwrangler = \"wrangler.toml\"\n\n[namespaces.APP]\nid = \"a\"\n";
    bad_input(
        &[("kvgen.toml", config), ("src/lib.rs", MODEL), ("wrangler.toml", "name = \"w\"\n[[kv_namespaces]\n")],
        "error: wrangler.toml:2:17: unclosed array table, expected `]`\n",
    );
}

#[test]
fn bad_input_schema_model_type() {
    bad_input(
        &[(
            "kvgen.toml",
            "[output]\nrust = \"src/generated.rs\"\n[models.User.fields]\nid = { type = \"Strin g\", id = true }\n",
        )],
        "error: kvgen.toml:4:1: `Strin g` is not a Rust type\n",
    );
}

#[test]
fn schema_raw_field_generates_a_raw_model() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[output]\nrust = \"src/generated.rs\"\n[models.Blob.fields]\nid = { type = \"String\", id = true }\ndata = { type = \"Vec<u8>\", raw = true }\nkind = \"String\"\n";
    fs::write(dir.path().join("kvgen.toml"), config).unwrap();
    stdout(kvgen().current_dir(dir.path()).arg("generate"));
    let generated = fs::read_to_string(dir.path().join("src/generated.rs")).unwrap();
    assert!(generated.contains("#[kv(raw)]\n    pub data: Vec<u8>"), "{generated}");
}

#[test]
fn bad_input_schema_raw_field() {
    // A raw value of another type: at the field.
    bad_input(
        &[(
            "kvgen.toml",
            "[output]\nrust = \"src/generated.rs\"\n[models.Blob.fields]\nid = { type = \"String\", id = true }\nsize = { type = \"u64\", raw = true }\n",
        )],
        "error: kvgen.toml:5:1: a `raw` field is a `String` or a `Vec<u8>`; this one is `u64`\n",
    );
    // A raw model with an index: at the model, as the derive words it.
    bad_input(
        &[(
            "kvgen.toml",
            "[output]\nrust = \"src/generated.rs\"\n[models.Photo.fields]\nid = { type = \"String\", id = true }\nbytes = { type = \"Vec<u8>\", raw = true }\nalbum = { type = \"String\", index = true }\n",
        )],
        "error: kvgen.toml:3:9: model `Photo`: a model with a `raw` value has no indexes (this one has `album`): its records are read one key at a time, and index upkeep reads them in bulk, which Workers KV does as text only\n",
    );
}

#[test]
fn bad_input_schema_model_rule() {
    bad_input(
        &[("kvgen.toml", "[models.User]\nttl = 30\n[models.User.fields]\nid = { type = \"String\", id = true }\n")],
        "error: kvgen.toml:1:9: model `User`: ttl must be at least 60 seconds (the Workers KV minimum), not 30\n",
    );
}

#[test]
fn bad_input_several_problems_each_on_a_line() {
    let model = MODEL.replace("binding = \"APP\"", "binding = \"my app\", prefix = \"Users\"");
    bad_input(
        &[("kvgen.toml", WITH_OUTPUTS), ("src/lib.rs", &model)],
        "error: src/lib.rs:3:16: invalid binding `my app`: use letters, digits and `_`, not starting with a digit\nerror: src/lib.rs:3:35: invalid prefix `Users`: use lowercase letters, digits, `_` and `-`\n",
    );
}

#[test]
fn bad_input_model_name_without_snake_case_identifier() {
    let model =
        MODEL.replace("struct User", "struct _1").replace("binding = \"APP\"", "binding = \"APP\", prefix = \"one\"");
    bad_input(
        &[("kvgen.toml", WITH_OUTPUTS), ("src/lib.rs", &model)],
        "error: src/lib.rs:4:12: kvgen names generated items after the model in snake_case, and `_1` gives `1`, which is not a Rust identifier; rename the struct\n",
    );
}

#[test]
fn bad_input_binding_without_field_identifier() {
    for binding in ["_", "__", "_1"] {
        let model = MODEL.replace("\"APP\"", &format!("\"{binding}\""));
        let field = binding.trim_start_matches('_');
        bad_input(
            &[("kvgen.toml", WITH_OUTPUTS), ("src/lib.rs", &model)],
            &format!("error: src/lib.rs:3:16: binding `{binding}` gives the `KvEnv` field `{field}`, which is not a Rust identifier; rename the binding\n"),
        );
    }
}

#[test]
fn bad_input_two_bindings_one_env_field() {
    let post = MODEL.replace("struct User", "struct Post").replace("\"APP\"", "\"App\"");
    bad_input(
        &[
            ("kvgen.toml", "sources = [\"src\"]\n[output]\nrust = \"src/env.rs\"\n"),
            ("src/a.rs", MODEL),
            ("src/b.rs", &post),
        ],
        "error: src/b.rs:3:16: bindings `APP` and `App` both give the `KvEnv` field `app`; rename one\n",
    );
}

#[test]
fn bad_input_env_struct_not_an_identifier() {
    for name in ["my env", "", "1Env", "Env<T>"] {
        bad_input(
            &[("kvgen.toml", &format!("sources = [\"src/lib.rs\"]\n[output]\nrust = \"src/env.rs\"\nenv_struct = \"{name}\"\n")), ("src/lib.rs", MODEL)],
            &format!("error: kvgen.toml:4:1: env_struct `{name}` is not a Rust identifier; name the struct like `KvEnv` or `Bindings`\n"),
        );
    }
}

#[test]
fn bad_input_accessor_taken_by_env() {
    let model = MODEL.replace("struct User", "struct Store");
    bad_input(
        &[("kvgen.toml", WITH_OUTPUTS), ("src/lib.rs", &model)],
        "error: src/lib.rs:4:12: model `Store` gives the `KvEnv` accessor `stores`, a method `KvEnv` has already; rename the model\n",
    );
}

#[test]
fn bad_input_output_outside_the_project() {
    for (value, pos) in [("../escaped/env.rs", "3:1"), ("/tmp/kvgen-escaped/env.rs", "3:1")] {
        let config = format!("sources = [\"src/lib.rs\"]\n[output]\nrust = \"{value}\"\n");
        bad_input(
            &[("kvgen.toml", &config), ("src/lib.rs", MODEL)],
            &format!("error: kvgen.toml:{pos}: `output.rust` = \"{value}\" is outside the folder of kvgen.toml; outputs must stay inside it\n"),
        );
        assert!(!Path::new("/tmp/kvgen-escaped").exists());
    }
    let config =
        "sources = [\"src/lib.rs\"]\n[output]\nwrangler = \"/etc/hosts.toml\"\n\n[namespaces.APP]\nid = \"a\"\n";
    bad_input(
        &[("kvgen.toml", config), ("src/lib.rs", MODEL)],
        "error: kvgen.toml:3:1: `output.wrangler` = \"/etc/hosts.toml\" is outside the folder of kvgen.toml; outputs must stay inside it\n",
    );
}

#[cfg(unix)]
#[test]
fn bad_input_output_through_a_symlinked_folder() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("src/lib.rs"), MODEL).unwrap();
    fs::write(dir.path().join("kvgen.toml"), "sources = [\"src/lib.rs\"]\n[output]\nrust = \"out/env.rs\"\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    let out = kvgen().current_dir(dir.path()).arg("generate").assert().code(2).get_output().clone();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: kvgen.toml:3:1: `output.rust` = \"out/env.rs\" is outside the folder of kvgen.toml; outputs must stay inside it\n"
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0, "wrote through the symlink");
}

#[test]
fn bad_input_output_is_a_source_or_kvgen_toml() {
    bad_input(
        &[("kvgen.toml", "sources = [\"src/lib.rs\"]\n[output]\nrust = \"src/env.rs\"\nkeys = \"src/lib.rs\"\n"), ("src/lib.rs", MODEL)],
        "error: kvgen.toml:4:1: `output.keys` = \"src/lib.rs\" is a source kvgen reads models from; name another file\n",
    );
    bad_input(
        &[("kvgen.toml", "sources = [\"src\"]\n[output]\nrust = \"src/env.rs\"\n"), ("src/lib.rs", MODEL)],
        "error: kvgen.toml:3:1: `output.rust` = \"src/env.rs\" is inside the source folder `src`, whose .rs files kvgen reads models from; name another file\n",
    );
    bad_input(
        &[("kvgen.toml", "sources = [\"src/lib.rs\"]\n[output]\nkeys = \"./kvgen.toml\"\n"), ("src/lib.rs", MODEL)],
        "error: kvgen.toml:3:1: `output.keys` = \"./kvgen.toml\" is kvgen.toml itself\n",
    );
    bad_input(
        &[
            (
                "kvgen.toml",
                "sources = [\"src/lib.rs\"]\n[output]\nrust = \"src/env.rs\"\nkeys = \"src/../src/env.rs\"\n",
            ),
            ("src/lib.rs", MODEL),
        ],
        "error: kvgen.toml:4:1: `output.keys` = \"src/../src/env.rs\" is the same file as `output.rust`\n",
    );
}

#[test]
fn bad_input_output_is_a_folder_writes_nothing() {
    // rust comes first and is valid: it must not be written either.
    bad_input(
        &[
            ("kvgen.toml", "sources = [\"src/lib.rs\"]\n[output]\nrust = \"src/env.rs\"\nkeys = \"docs\"\n"),
            ("src/lib.rs", MODEL),
            ("docs/README.md", "docs\n"),
        ],
        "error: kvgen.toml:4:1: `output.keys` = \"docs\" is a folder; name a file\n",
    );
    bad_input(
        &[("kvgen.toml", "sources = [\"src/lib.rs\"]\n[output]\nkeys = \".\"\n"), ("src/lib.rs", MODEL)],
        "error: kvgen.toml:3:1: `output.keys` = \".\" is a folder; name a file\n",
    );
}

#[cfg(unix)]
#[test]
fn generate_keeps_a_files_mode_and_creates_files_with_the_umask_default() {
    use std::os::unix::fs::PermissionsExt;
    let dir = copy_example("blog");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // What this process's umask gives a new file.
    let probe = dir.path().join("probe");
    fs::File::create(&probe).unwrap();
    let default = mode(&probe);
    fs::remove_file(&probe).unwrap();
    let wrangler = dir.path().join("wrangler.toml");
    let text = fs::read_to_string(&wrangler).unwrap().replace("face0ff0face0ff0face0ff0face0ff0", "0ld");
    fs::write(&wrangler, text).unwrap();
    fs::set_permissions(&wrangler, fs::Permissions::from_mode(0o640)).unwrap();
    let keys = dir.path().join("KEYS.md");
    fs::write(&keys, "stale").unwrap();
    fs::set_permissions(&keys, fs::Permissions::from_mode(0o664)).unwrap();
    let env_rs = dir.path().join("src/env.rs");
    fs::remove_file(&env_rs).unwrap();
    let out = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert!(out.contains("wrote     wrangler.toml") && out.contains("wrote     KEYS.md"), "{out}");
    assert_eq!(mode(&wrangler), 0o640);
    assert_eq!(mode(&keys), 0o664);
    assert_eq!(mode(&env_rs), default);
}

#[cfg(unix)]
#[test]
fn wrangler_write_keeps_the_files_mode() {
    use std::os::unix::fs::PermissionsExt;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler");
    let dir = wrangler_fixture_dir();
    let target = dir.path().join("wrangler.jsonc");
    fs::copy(fixtures.join("before.jsonc"), &target).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
    let out =
        stdout(kvgen().arg("--config").arg(dir.path().join("kvgen.toml")).arg("wrangler").arg("--write").arg(&target));
    assert!(out.starts_with("kvgen: updated"), "{out}");
    assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o644);
}

const JSONC_CONFIG: &str =
    "sources = [\"src/lib.rs\"]\n[output]\nwrangler = \"wrangler.jsonc\"\n\n[namespaces.APP]\nid = \"new\"\n";

#[test]
fn bad_input_jsonc_shapes_kvgen_would_overwrite() {
    for (jsonc, stderr) in [
        ("[1, 2]\n", "error: wrangler.jsonc:1:1: the root of a wrangler config must be an object\n"),
        (
            "{\n  \"kv_namespaces\": { \"binding\": \"APP\", \"id\": \"old\" }\n}\n",
            "error: wrangler.jsonc:2:20: `kv_namespaces` is not an array of { \"binding\": .., \"id\": .. } objects\n",
        ),
        ("{\n  \"env\": \"oops\"\n}\n", "error: wrangler.jsonc:2:10: `env` is not an object\n"),
        (
            "{\n  \"kv_namespaces\": [],\n  \"kv_namespaces\": [{ \"binding\": \"APP\", \"id\": \"old\" }]\n}\n",
            "error: wrangler.jsonc:3:3: `kv_namespaces` is given twice; a reader keeps the last one: merge them into one\n",
        ),
        (
            "{\n  \"env\": { \"dev\": {}, \"dev\": {} }\n}\n",
            "error: wrangler.jsonc:2:12: environment `dev` has no KV namespace ids for APP in kvgen.toml: add `[namespaces.APP.env.dev]` (wrangler does not inherit bindings)\nerror: wrangler.jsonc:2:23: `env.dev` is given twice; a reader keeps the last one: merge them into one\n",
        ),
    ] {
        bad_input(&[("kvgen.toml", JSONC_CONFIG), ("src/lib.rs", MODEL), ("wrangler.jsonc", jsonc)], stderr);
    }
    // `check` refuses them too, rather than passing on a stale second entry.
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("src/lib.rs"), MODEL).unwrap();
    fs::write(dir.path().join("kvgen.toml"), JSONC_CONFIG).unwrap();
    fs::write(
        dir.path().join("wrangler.jsonc"),
        "{\n  \"kv_namespaces\": [{ \"binding\": \"APP\", \"id\": \"new\" }],\n  \"kv_namespaces\": [{ \"binding\": \"APP\", \"id\": \"old\" }]\n}\n",
    )
    .unwrap();
    kvgen().current_dir(dir.path()).arg("check").assert().code(2);
}

#[test]
fn bad_input_duplicate_environment_in_jsonc() {
    let config = format!("{JSONC_CONFIG}\n[namespaces.APP.env.dev]\nid = \"dev\"\n");
    bad_input(
        &[
            ("kvgen.toml", &config),
            ("src/lib.rs", MODEL),
            ("wrangler.jsonc", "{\n  \"env\": {\n    \"dev\": { \"kv_namespaces\": [] },\n    \"dev\": 1\n  }\n}\n"),
        ],
        "error: wrangler.jsonc:4:5: `env.dev` is given twice; a reader keeps the last one: merge them into one\n",
    );
}

#[test]
fn schema_first_fields_keep_the_order_of_kvgen_toml() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("kvgen.toml"),
        "[output]\nrust = \"generated.rs\"\n\n[models.User.fields]\nid = { type = \"String\", id = true }\norg_id = \"String\"\nemail = \"String\"\n\n[models.Account.fields]\nid = { type = \"u64\", id = true }\n",
    )
    .unwrap();
    stdout(kvgen().current_dir(dir.path()).arg("generate"));
    let rust = fs::read_to_string(dir.path().join("generated.rs")).unwrap();
    let at = |s: &str| rust.find(s).unwrap_or_else(|| panic!("{s} missing:\n{rust}"));
    assert!(at("pub id: String") < at("pub org_id: String") && at("pub org_id: String") < at("pub email: String"));
    assert!(at("pub struct User") < at("pub struct Account"), "models keep their order too");
}

#[test]
fn bad_input_schema_model_ttl_too_large() {
    bad_input(
        &[(
            "kvgen.toml",
            "[models.User]\nttl = 2147483648\n[models.User.fields]\nid = { type = \"String\", id = true }\n",
        )],
        "error: kvgen.toml:1:9: model `User`: ttl must be at most 2147483647 seconds, not 2147483648\n",
    );
}

/// Rust nested `depth` deep in one of several ways.
fn deep_sources(depth: usize) -> Vec<(String, String)> {
    let parens = format!("const X: u8 = {}5{};\n", "(".repeat(depth), ")".repeat(depth));
    let nots = format!("const X: bool = {}true;\n", "!".repeat(depth));
    let closures = format!("fn f() {{ let _ = {}1; }}\n", "|x| ".repeat(depth));
    let parens_at = format!(
        "error: src/lib.rs:1:{}: brackets nest more than 256 deep here; kvgen does not read such a file\n",
        15 + 256
    );
    let run = |col: usize| {
        format!("error: src/lib.rs:1:{col}: more than 16384 tokens in a row without `,`, `;` or a block here; kvgen does not read such a file\n")
    };
    let mut out = vec![(parens, parens_at)];
    if depth > 16384 {
        // The 16,385th token in a row: `const X : bool =` and then the 16,380th `!`.
        out.push((nots, run(16 + 16380)));
        // After `let _ =`, `|x| ` is three tokens in four bytes: the `x` of the 5,461st closure.
        out.push((closures, run(17 + 5460 * 4 + 2)));
    }
    out
}

#[test]
fn bad_input_deeply_nested_rust_is_refused_not_a_crash() {
    for depth in [5_000, 100_000] {
        for (source, stderr) in deep_sources(depth) {
            bad_input(&[("kvgen.toml", WITH_OUTPUTS), ("src/lib.rs", &source)], &stderr);
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir_all(dir.path().join("src")).unwrap();
            fs::write(dir.path().join("src/lib.rs"), &source).unwrap();
            let out =
                kvgen().current_dir(dir.path()).args(["expand", "src/lib.rs"]).assert().code(2).get_output().clone();
            assert_eq!(String::from_utf8(out.stderr).unwrap(), stderr);
        }
    }
}

#[test]
fn nesting_under_the_limits_is_read() {
    let source = format!(
        "{MODEL}const X: u8 = {}5{};\nconst Y: bool = {}true;\nfn f() {{ let _ = {}1; }}\n",
        "(".repeat(200),
        ")".repeat(200),
        "!".repeat(10_000),
        "|x| ".repeat(4_000)
    );
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("src/lib.rs"), &source).unwrap();
    fs::write(dir.path().join("kvgen.toml"), WITH_OUTPUTS).unwrap();
    stdout(kvgen().current_dir(dir.path()).arg("generate"));
    stdout(kvgen().current_dir(dir.path()).args(["expand", "src/lib.rs"]));
}

/// A folder holding the real-world fixture's kvgen.toml, writing the wrangler config `wrangler.{ext}`.
fn real_world_dir(ext: &str) -> tempfile::TempDir {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler-real");
    let dir = tempfile::tempdir().unwrap();
    let config = fs::read_to_string(fixtures.join("kvgen.toml")).unwrap();
    fs::write(dir.path().join("kvgen.toml"), config.replace("\"wrangler.toml\"", &format!("\"wrangler.{ext}\"")))
        .unwrap();
    dir
}

/// `kvgen generate` on the real-world `before.{ext}`: the result is `after.{ext}`, `kvgen check` then passes,
/// and generating again changes nothing. Returns what generate printed and the new text.
fn real_world(ext: &str) -> (String, String) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler-real");
    let dir = real_world_dir(ext);
    let target = dir.path().join(format!("wrangler.{ext}"));
    fs::copy(fixtures.join(format!("before.{ext}")), &target).unwrap();
    // `check` shows the diff, and what it leaves as it is.
    let stale = kvgen().current_dir(dir.path()).arg("check").assert().code(1).get_output().stdout.clone();
    let stale = String::from_utf8(stale).unwrap();
    assert!(stale.contains(&format!("kvgen: stale: wrangler.{ext}")), "{stale}");
    assert!(stale.contains(&format!("kvgen: note: wrangler.{ext}: kept `preview_id` on the APP entry")), "{stale}");
    let out = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert!(out.contains(&format!("wrote     wrangler.{ext}")), "{out}");
    let after = fs::read_to_string(&target).unwrap();
    expectorate::assert_contents(format!("tests/fixtures/wrangler-real/after.{ext}"), &after);
    let check = stdout(kvgen().current_dir(dir.path()).arg("check"));
    assert!(check.contains("1 generated file is current"), "{check}");
    let again = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert!(again.contains(&format!("unchanged wrangler.{ext}")), "{again}");
    (out, after)
}

#[test]
fn wrangler_keeps_a_hand_set_preview_id_kvgen_toml_does_not_set() {
    for ext in ["toml", "jsonc"] {
        let (out, after) = real_world(ext);
        assert!(after.contains("preview_id") && after.contains("hand-set-preview"), "{after}");
        assert!(
            out.contains(&format!("note      wrangler.{ext}: kept `preview_id` on the APP entry of `kv_namespaces`: kvgen.toml does not set it")),
            "{out}"
        );
    }
}

#[test]
fn wrangler_keeps_unknown_fields_and_a_hand_set_remote() {
    let (out, after) = real_world("toml");
    let doc: toml::Table = toml::from_str(&after).unwrap();
    let sessions = &doc["env"]["production"]["kv_namespaces"][0];
    assert_eq!(sessions["id"].as_str(), Some("7d8e9f0a1b2c43d4e5f6a7b8c9d0e1f2"));
    assert_eq!(sessions["owner"].as_str(), Some("auth-team"));
    assert_eq!(sessions["remote"].as_bool(), Some(true));
    assert!(after.contains("owner = \"auth-team\" # not a wrangler key; kvgen leaves it"), "{after}");
    assert!(out.contains("kept `remote`, `owner` on the SESSIONS entry of `env.production.kv_namespaces`"), "{out}");
    let (out, after) = real_world("jsonc");
    assert!(after.contains("\"owner\": \"auth-team\" // not a wrangler key; kvgen leaves it"), "{after}");
    assert!(out.contains("kept `remote`, `owner` on the SESSIONS entry of `env.production.kv_namespaces`"), "{out}");
    // Everything but the KV entries is as it was: other bindings, vars, routes, build.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler-real");
    let strip = |t: &str| -> toml::Table {
        let mut doc: toml::Table = toml::from_str(t).unwrap();
        doc.remove("kv_namespaces");
        for (_, env) in doc.get_mut("env").and_then(|e| e.as_table_mut()).unwrap().iter_mut() {
            env.as_table_mut().unwrap().remove("kv_namespaces");
        }
        doc
    };
    let before = fs::read_to_string(fixtures.join("before.toml")).unwrap();
    let after = fs::read_to_string(fixtures.join("after.toml")).unwrap();
    assert_eq!(strip(&before), strip(&after));
    for comment in before.lines().filter_map(|l| l.split('#').nth(1)) {
        assert!(after.contains(comment), "comment lost: {comment}");
    }
}

#[test]
fn wrangler_toml_inline_arrays_stay_inline_at_top_level_and_in_environments() {
    let (_, after) = real_world("toml");
    assert!(after.contains(
        "kv_namespaces = [\n  { binding = \"APP\", id = \"0f2ac74b498b48028cb68387c421e279\", preview_id = \"hand-set-preview\", remote = true }, # the app's records\n  { binding = \"SESSIONS\", id = \"5b6c7d8e9f0a41b2c3d4e5f6a7b8c9d0\" },\n]\n"
    ), "{after}");
    assert!(after.contains(
        "kv_namespaces = [{ binding = \"APP\", id = \"1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6\" }, { binding = \"SESSIONS\", id = \"6c7d8e9f0a1b42c3d4e5f6a7b8c9d0e1\" }]\n"
    ), "{after}");
    let doc: toml::Table = toml::from_str(&after).unwrap();
    assert_eq!(doc["kv_namespaces"].as_array().unwrap().len(), 2);
    assert_eq!(doc["env"]["staging"]["kv_namespaces"].as_array().unwrap().len(), 2);
}

#[test]
fn wrangler_remote_is_written_in_toml_and_jsonc() {
    let (_, after) = real_world("toml");
    let doc: toml::Table = toml::from_str(&after).unwrap();
    assert_eq!(doc["kv_namespaces"][0]["remote"].as_bool(), Some(true));
    // Not set for staging in kvgen.toml: nothing written.
    assert!(doc["env"]["staging"]["kv_namespaces"][0].get("remote").is_none());
    assert_eq!(doc["env"]["production"]["kv_namespaces"][1]["binding"].as_str(), Some("APP"));
    assert_eq!(doc["env"]["production"]["kv_namespaces"][1]["remote"].as_bool(), Some(false));
    let (_, after) = real_world("jsonc");
    assert!(after.contains("\"preview_id\": \"hand-set-preview\",\n      \"remote\": true\n"), "{after}");
    assert!(after.contains("\"id\": \"9e8d7c6b5a4f43e2d1c0b9a8f7e6d5c4\",\n          \"remote\": false\n"), "{after}");
    // The fragments carry it too.
    let dir = real_world_dir("toml");
    let toml = stdout(kvgen().current_dir(dir.path()).arg("wrangler"));
    assert!(toml.contains("binding = \"APP\"\nid = \"0f2ac74b498b48028cb68387c421e279\"\nremote = true\n"), "{toml}");
    let jsonc = stdout(kvgen().current_dir(dir.path()).args(["wrangler", "--format", "jsonc"]));
    assert!(jsonc.contains("\"remote\": true"), "{jsonc}");
}

#[test]
fn a_missing_wrangler_config_is_drift_then_created() {
    for ext in ["jsonc", "toml"] {
        let dir = real_world_dir(ext);
        let target = dir.path().join(format!("wrangler.{ext}"));
        let out = kvgen().current_dir(dir.path()).arg("check").assert().code(1).get_output().stdout.clone();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(&format!("kvgen: stale: wrangler.{ext}")), "{out}");
        assert!(!target.exists(), "check wrote the file");
        let out = stdout(kvgen().current_dir(dir.path()).arg("generate"));
        assert!(out.contains(&format!("wrote     wrangler.{ext}")), "{out}");
        let created = fs::read_to_string(&target).unwrap();
        expectorate::assert_contents(format!("tests/fixtures/wrangler-real/created.{ext}"), &created);
        stdout(kvgen().current_dir(dir.path()).arg("check"));
    }
    // `kvgen wrangler --write` creates one too.
    let dir = real_world_dir("jsonc");
    let out = stdout(kvgen().current_dir(dir.path()).args(["wrangler", "--write", "wrangler.jsonc"]));
    assert_eq!(out, "kvgen: created wrangler.jsonc\n");
    let created = fs::read_to_string(dir.path().join("wrangler.jsonc")).unwrap();
    assert!(created.starts_with("{\n  \"$schema\": \"node_modules/wrangler/config-schema.json\",\n"), "{created}");
}

const TOML_CONFIG: &str =
    "sources = [\"src/lib.rs\"]\n[output]\nwrangler = \"wrangler.toml\"\n\n[namespaces.APP]\nid = \"a\"\n\n[namespaces.APP.env.staging]\nid = \"s\"\n";

#[test]
fn bad_input_wrangler_environment_kvgen_toml_does_not_know_at_its_line() {
    let toml = "#:schema node_modules/wrangler/config-schema.json\nname = \"my-worker\"\nmain = \"build/worker/shim.mjs\"\ncompatibility_date = \"2026-11-01\"\n\n[vars]\nENVIRONMENT = \"development\"\n\n[[kv_namespaces]]\nbinding = \"APP\"\nid = \"a\"\n\n[env.staging]\nname = \"my-worker-staging\"\n\n# Production, not yet in kvgen.toml.\n[env.production]\nname = \"my-worker-production\"\n\n[[env.production.d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"my-database\"\ndatabase_id = \"c020574a-5623-407b-be0c-cd192bab9545\"\n";
    bad_input(
        &[("kvgen.toml", TOML_CONFIG), ("src/lib.rs", MODEL), ("wrangler.toml", toml)],
        "error: wrangler.toml:17:6: environment `production` has no KV namespace ids for APP in kvgen.toml: add `[namespaces.APP.env.production]` (wrangler does not inherit bindings)\n",
    );
    // Declared only by a table below it, or inline: still at its line.
    for (toml, pos) in [
        ("name = \"w\"\n\n[env.production.vars]\nX = \"1\"\n", "3:6"),
        ("name = \"w\"\nenv = { staging = {}, production = { name = \"w-prod\" } }\n", "2:23"),
    ] {
        bad_input(
            &[("kvgen.toml", TOML_CONFIG), ("src/lib.rs", MODEL), ("wrangler.toml", toml)],
            &format!("error: wrangler.toml:{pos}: environment `production` has no KV namespace ids for APP in kvgen.toml: add `[namespaces.APP.env.production]` (wrangler does not inherit bindings)\n"),
        );
    }
    let config = JSONC_CONFIG.replace("id = \"new\"\n", "id = \"new\"\n\n[namespaces.APP.env.staging]\nid = \"s\"\n");
    let jsonc = "{\n  \"name\": \"my-worker\",\n  \"env\": {\n    \"staging\": { \"name\": \"my-worker-staging\" },\n    \"production\": { \"name\": \"my-worker-production\" }\n  }\n}\n";
    bad_input(
        &[("kvgen.toml", &config), ("src/lib.rs", MODEL), ("wrangler.jsonc", jsonc)],
        "error: wrangler.jsonc:5:5: environment `production` has no KV namespace ids for APP in kvgen.toml: add `[namespaces.APP.env.production]` (wrangler does not inherit bindings)\n",
    );
}

#[test]
fn bad_input_wrangler_toml_shapes_kvgen_would_overwrite_at_their_lines() {
    for (toml, stderr) in [
        ("name = \"w\"\nenv = \"oops\"\n", "error: wrangler.toml:2:1: `env` is not a table of environments ([env.NAME])\n"),
        ("[env]\nstaging = 1\n", "error: wrangler.toml:2:1: `env.staging` is not a table\n"),
        (
            "name = \"w\"\nkv_namespaces = \"APP\"\n",
            "error: wrangler.toml:2:1: `kv_namespaces` is neither [[kv_namespaces]] tables nor an array of { binding = .., id = .. } tables\n",
        ),
        (
            "name = \"w\"\n\n[kv_namespaces]\nbinding = \"APP\"\n",
            "error: wrangler.toml:3:2: `kv_namespaces` is neither [[kv_namespaces]] tables nor an array of { binding = .., id = .. } tables\n",
        ),
        (
            "kv_namespaces = [\n  \"APP\",\n]\n",
            "error: wrangler.toml:2:3: `kv_namespaces` holds something other than a { binding = .., id = .. } table\n",
        ),
        (
            "[env.staging]\nkv_namespaces = { binding = \"APP\", id = \"s\" }\n",
            "error: wrangler.toml:2:1: `env.staging.kv_namespaces` is neither [[env.staging.kv_namespaces]] tables nor an array of { binding = .., id = .. } tables\n",
        ),
        (
            "[[kv_namespaces]]\nbinding = \"APP\"\nid = \"a\"\n\n[[kv_namespaces]]\nbinding = \"APP\"\nid = \"old\"\n",
            "error: wrangler.toml:6:11: binding `APP` is given twice in `kv_namespaces`: keep one entry, kvgen keeps it current\n",
        ),
    ] {
        bad_input(&[("kvgen.toml", TOML_CONFIG), ("src/lib.rs", MODEL), ("wrangler.toml", toml)], stderr);
    }
    bad_input(
        &[
            ("kvgen.toml", JSONC_CONFIG),
            ("src/lib.rs", MODEL),
            (
                "wrangler.jsonc",
                "{\n  \"kv_namespaces\": [\n    \"APP\",\n    { \"binding\": \"APP\", \"id\": \"a\" },\n    { \"binding\": \"APP\", \"id\": \"old\" }\n  ]\n}\n",
            ),
        ],
        "error: wrangler.jsonc:3:5: `kv_namespaces` holds something other than a { \"binding\": .., \"id\": .. } object\nerror: wrangler.jsonc:5:18: binding `APP` is given twice in `kv_namespaces`: keep one entry, kvgen keeps it current\n",
    );
    // A wrangler output kvgen cannot edit, at its line in kvgen.toml.
    bad_input(
        &[("kvgen.toml", &TOML_CONFIG.replace("wrangler.toml", "wrangler.yaml")), ("src/lib.rs", MODEL)],
        "error: kvgen.toml:3:1: `output.wrangler` = \"wrangler.yaml\" is not a wrangler config: name a .toml, .json or .jsonc file\n",
    );
}

#[test]
fn check_passes_on_the_worker_examples_typescript() {
    let config = repo().join("examples/worker/kvgen.toml");
    let out = stdout(kvgen().arg("--config").arg(&config).arg("check"));
    assert!(out.contains("kvgen: 2 generated files are current"), "{out}");
}

#[test]
fn typescript_prints_the_typescript_output() {
    let config = repo().join("examples/worker/kvgen.toml");
    let out = stdout(kvgen().arg("--config").arg(&config).arg("typescript"));
    assert_eq!(out, fs::read_to_string(repo().join("examples/worker/ts/kv.ts")).unwrap());
    assert!(out.starts_with("// This file is @generated by kvgen."), "{out}");
    // `ts`, its older name, still works.
    assert_eq!(stdout(kvgen().arg("--config").arg(&config).arg("ts")), out);
}

#[test]
fn check_detects_stale_typescript_and_generate_fixes_it() {
    // The Worker example's kvgen files only (its build folders can be large).
    let dir = tempfile::tempdir().unwrap();
    for file in ["kvgen.toml", "wrangler.toml", "ts/kv.ts"] {
        fs::create_dir_all(dir.path().join(file).parent().unwrap()).unwrap();
        fs::copy(repo().join("examples/worker").join(file), dir.path().join(file)).unwrap();
    }
    let ts = dir.path().join("ts/kv.ts");
    // A model change: a new field, and an edit by hand.
    let blog = copy_example("blog");
    let lib = blog.path().join("src/lib.rs");
    let source = fs::read_to_string(&lib).unwrap().replace(
        "    /// Free text.\n    pub bio: String,",
        "    /// Free text.\n    pub bio: String,\n    /// Where.\n    #[serde(rename = \"homeTown\")]\n    pub home_town: Option<String>,",
    );
    fs::write(&lib, source).unwrap();
    let config = fs::read_to_string(dir.path().join("kvgen.toml"))
        .unwrap()
        .replace("../blog/src", &blog.path().join("src").display().to_string());
    fs::write(dir.path().join("kvgen.toml"), config).unwrap();
    let before = snapshot_dir(dir.path());
    let out = kvgen().current_dir(dir.path()).arg("check").assert().code(1).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("kvgen: stale: ts/kv.ts"), "{out}");
    assert!(out.contains("+  homeTown: string | null;"), "{out}");
    assert!(out.contains("kvgen: 1 of 2 files are stale"), "{out}");
    assert_eq!(snapshot_dir(dir.path()), before, "check writes nothing");
    let out = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert!(out.contains("wrote     ts/kv.ts"), "{out}");
    kvgen().current_dir(dir.path()).arg("check").assert().success();
    // A hand edit is drift too.
    let edited = fs::read_to_string(&ts).unwrap().replace("kvEncodeStr(id)", "id");
    fs::write(&ts, edited).unwrap();
    let out = kvgen().current_dir(dir.path()).arg("check").assert().code(1).get_output().stdout.clone();
    assert!(String::from_utf8(out).unwrap().contains("kvgen: stale: ts/kv.ts"));
}

#[test]
fn bad_input_typescript_output_not_a_ts_file() {
    for (value, problem) in [
        ("kv.js", "is not a TypeScript file: name a .ts file (it holds functions, so not a .d.ts)"),
        ("kv.d.ts", "is a declaration file: name a .ts file (it holds functions)"),
    ] {
        let config = format!("sources = [\"src/lib.rs\"]\n[output]\ntypescript = \"{value}\"\n");
        bad_input(
            &[("kvgen.toml", &config), ("src/lib.rs", MODEL)],
            &format!("error: kvgen.toml:3:1: `output.typescript` = \"{value}\" {problem}\n"),
        );
    }
}

/// A folder holding the coordinator fixture's kvgen.toml (a strict model), writing `wrangler.{ext}`.
fn coordinator_dir(ext: &str) -> tempfile::TempDir {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler-coordinator");
    let dir = tempfile::tempdir().unwrap();
    let config = fs::read_to_string(fixtures.join("kvgen.toml")).unwrap();
    fs::write(dir.path().join("kvgen.toml"), config.replace("\"wrangler.toml\"", &format!("\"wrangler.{ext}\"")))
        .unwrap();
    dir
}

/// `kvgen generate` on the coordinator fixture's `before.{ext}`: stale first, then `after.{ext}`,
/// current, and unchanged by a second run. Returns the new text.
fn coordinator_fixture(ext: &str) -> String {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler-coordinator");
    let dir = coordinator_dir(ext);
    let target = dir.path().join(format!("wrangler.{ext}"));
    fs::copy(fixtures.join(format!("before.{ext}")), &target).unwrap();
    let stale = kvgen().current_dir(dir.path()).arg("check").assert().code(1).get_output().stdout.clone();
    let stale = String::from_utf8(stale).unwrap();
    assert!(stale.contains(&format!("kvgen: stale: wrangler.{ext}")), "{stale}");
    assert!(stale.contains("KVGEN_COORDINATOR"), "{stale}");
    let out = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert!(out.contains(&format!("wrote     wrangler.{ext}")), "{out}");
    let after = fs::read_to_string(&target).unwrap();
    expectorate::assert_contents(format!("tests/fixtures/wrangler-coordinator/after.{ext}"), &after);
    let check = stdout(kvgen().current_dir(dir.path()).arg("check"));
    assert!(check.contains("1 generated file is current"), "{check}");
    let again = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert!(again.contains(&format!("unchanged wrangler.{ext}")), "{again}");
    // `kvgen wrangler --write` agrees with generate.
    let out = stdout(kvgen().current_dir(dir.path()).args(["wrangler", "--write", &format!("wrangler.{ext}")]));
    assert_eq!(out, format!("kvgen: unchanged wrangler.{ext}\n"));
    after
}

fn names(list: &toml::Value, key: &str) -> Vec<String> {
    list.as_array().unwrap().iter().map(|t| t[key].as_str().unwrap().to_string()).collect()
}

#[test]
fn wrangler_toml_gets_the_coordinator_in_every_environment_keeping_other_durable_objects() {
    let after = coordinator_fixture("toml");
    let doc: toml::Table = toml::from_str(&after).unwrap();
    assert_eq!(names(&doc["durable_objects"]["bindings"], "name"), ["ROOMS", "KVGEN_COORDINATOR"]);
    assert_eq!(doc["durable_objects"]["bindings"][1]["class_name"].as_str(), Some("KvgenCoordinator"));
    assert_eq!(names(&doc["migrations"], "tag"), ["v1", "kvgen-coordinator-v1"]);
    assert_eq!(doc["migrations"][1]["new_sqlite_classes"].as_array().unwrap()[0].as_str(), Some("KvgenCoordinator"));
    let staging = &doc["env"]["staging"];
    assert_eq!(names(&staging["durable_objects"]["bindings"], "name"), ["ROOMS", "KVGEN_COORDINATOR"]);
    // The hand-written binding in production, with its script_name, is the one there is.
    let production = &doc["env"]["production"]["durable_objects"]["bindings"];
    assert_eq!(names(production, "name"), ["KVGEN_COORDINATOR"]);
    assert_eq!(production[0]["script_name"].as_str(), Some("my-worker"));
    // Environments inherit the top-level migrations: none written into them.
    assert!(staging.get("migrations").is_none() && doc["env"]["production"].get("migrations").is_none());
    // Comments and everything else are as they were.
    let before = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler-coordinator/before.toml"),
    )
    .unwrap();
    for comment in before.lines().filter_map(|l| l.split('#').nth(1)) {
        assert!(after.contains(comment), "comment lost: {comment}");
    }
}

#[test]
fn wrangler_jsonc_gets_the_coordinator_in_every_environment_and_its_own_migrations() {
    let after = coordinator_fixture("jsonc");
    assert_eq!(after.matches("\"name\": \"KVGEN_COORDINATOR\"").count(), 3, "{after}");
    assert_eq!(after.matches("\"script_name\": \"my-worker\"").count(), 1, "{after}");
    // At the top level, and in production, which lists migrations of its own.
    assert_eq!(after.matches("\"tag\": \"kvgen-coordinator-v1\"").count(), 2, "{after}");
    assert_eq!(after.matches("\"tag\": \"v1\"").count(), 2, "{after}");
    assert!(after.contains("// the rooms' storage"), "{after}");
}

#[test]
fn check_reports_an_altered_or_missing_coordinator_as_drift() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrangler-coordinator");
    let after = fs::read_to_string(fixtures.join("after.toml")).unwrap();
    let migration = "\n[[migrations]]\ntag = \"kvgen-coordinator-v1\"\nnew_sqlite_classes = [\"KvgenCoordinator\"]\n";
    assert!(after.contains(migration), "{after}");
    for (altered, removed, added) in [
        // Another class behind the binding.
        (
            after.replacen("class_name = \"KvgenCoordinator\"", "class_name = \"Other\"", 1),
            "-class_name = \"Other\"",
            "+class_name = \"KvgenCoordinator\"",
        ),
        // kvgen's migration no longer creating the class.
        (
            after.replace("new_sqlite_classes = [\"KvgenCoordinator\"]", "new_sqlite_classes = []"),
            "-new_sqlite_classes = []",
            "+new_sqlite_classes = [\"KvgenCoordinator\"]",
        ),
        // The migration gone.
        (after.replace(migration, ""), "", "+tag = \"kvgen-coordinator-v1\""),
    ] {
        assert_ne!(altered, after);
        let dir = coordinator_dir("toml");
        fs::write(dir.path().join("wrangler.toml"), &altered).unwrap();
        let out = kvgen().current_dir(dir.path()).arg("check").assert().code(1).get_output().stdout.clone();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("kvgen: stale: wrangler.toml"), "{out}");
        assert!(out.contains(removed) && out.contains(added), "{out}");
        stdout(kvgen().current_dir(dir.path()).arg("generate"));
        assert_eq!(fs::read_to_string(dir.path().join("wrangler.toml")).unwrap(), after);
    }
    // Kvgen's migration creating other classes only: it gets the class, the others kept.
    let dir = coordinator_dir("toml");
    let others = after.replace("new_sqlite_classes = [\"KvgenCoordinator\"]", "new_sqlite_classes = [\"Other\"]");
    fs::write(dir.path().join("wrangler.toml"), &others).unwrap();
    kvgen().current_dir(dir.path()).arg("check").assert().code(1);
    stdout(kvgen().current_dir(dir.path()).arg("generate"));
    let fixed = fs::read_to_string(dir.path().join("wrangler.toml")).unwrap();
    assert!(fixed.contains("new_sqlite_classes = [\"Other\", \"KvgenCoordinator\"]"), "{fixed}");
    // In JSONC too: another class behind the binding, and kvgen's migration creating nothing.
    let after_jsonc = fs::read_to_string(fixtures.join("after.jsonc")).unwrap();
    let altered = after_jsonc
        .replacen("\"class_name\": \"KvgenCoordinator\"", "\"class_name\": \"Other\"", 1)
        .replacen("\"new_sqlite_classes\": [\"KvgenCoordinator\"]", "\"new_sqlite_classes\": []", 1);
    assert_ne!(altered, after_jsonc);
    let dir = coordinator_dir("jsonc");
    fs::write(dir.path().join("wrangler.jsonc"), &altered).unwrap();
    let out = kvgen().current_dir(dir.path()).arg("check").assert().code(1).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("kvgen: stale: wrangler.jsonc") && out.contains("\"class_name\": \"Other\""), "{out}");
    stdout(kvgen().current_dir(dir.path()).arg("generate"));
    let fixed = fs::read_to_string(dir.path().join("wrangler.jsonc")).unwrap();
    assert_eq!(fixed.matches("\"class_name\": \"KvgenCoordinator\"").count(), 3, "{fixed}");
    assert_eq!(fixed.matches("\"tag\": \"kvgen-coordinator-v1\"").count(), 2, "{fixed}");
    assert_eq!(fixed.matches("[\"KvgenCoordinator\"]").count(), 2, "{fixed}");
    stdout(kvgen().current_dir(dir.path()).arg("check"));
    // A migration of the user's that creates the class (in `new_classes`) is enough.
    let theirs = after
        .replace(migration, "")
        .replace("new_sqlite_classes = [\"ChatRoom\"]", "new_classes = [\"ChatRoom\", \"KvgenCoordinator\"]");
    let dir = coordinator_dir("toml");
    fs::write(dir.path().join("wrangler.toml"), &theirs).unwrap();
    stdout(kvgen().current_dir(dir.path()).arg("check"));
}

const COORDINATOR_ONLY: &str = "[output]\nwrangler = \"wrangler.toml\"\n\n[namespaces.APP]\nid = \"a\"\n\n[namespaces.APP.env.staging]\nid = \"s\"\n\n[namespaces.APP.env.production]\nid = \"p\"\n";

#[test]
fn coordinator_true_without_a_strict_model_writes_it_and_without_either_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("kvgen.toml"), COORDINATOR_ONLY).unwrap();
    let plain = stdout(kvgen().current_dir(dir.path()).arg("wrangler"));
    assert!(!plain.contains("durable_objects") && !plain.contains("migrations"), "{plain}");
    let plain = stdout(kvgen().current_dir(dir.path()).args(["wrangler", "--format", "jsonc"]));
    assert!(!plain.contains("durable_objects") && !plain.contains("migrations"), "{plain}");
    fs::write(dir.path().join("kvgen.toml"), format!("coordinator = true\n{COORDINATOR_ONLY}")).unwrap();
    let toml = stdout(kvgen().current_dir(dir.path()).arg("wrangler"));
    let doc: toml::Table = toml::from_str(&toml).unwrap();
    assert_eq!(names(&doc["durable_objects"]["bindings"], "class_name"), ["KvgenCoordinator"]);
    assert_eq!(names(&doc["migrations"], "tag"), ["kvgen-coordinator-v1"]);
    for env in ["staging", "production"] {
        assert_eq!(names(&doc["env"][env]["durable_objects"]["bindings"], "name"), ["KVGEN_COORDINATOR"]);
        assert!(doc["env"][env].get("migrations").is_none(), "{toml}");
    }
    let jsonc = stdout(kvgen().current_dir(dir.path()).args(["wrangler", "--format", "jsonc"]));
    let body: serde_json::Value = serde_json::from_str(jsonc.split_once('\n').unwrap().1).unwrap();
    assert_eq!(body["durable_objects"]["bindings"][0]["name"], "KVGEN_COORDINATOR");
    assert_eq!(body["migrations"][0]["new_sqlite_classes"][0], "KvgenCoordinator");
    assert_eq!(body["env"]["production"]["durable_objects"]["bindings"][0]["class_name"], "KvgenCoordinator");
    // generate creates a wrangler config holding it, and check then passes.
    stdout(kvgen().current_dir(dir.path()).arg("generate"));
    let created = fs::read_to_string(dir.path().join("wrangler.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&created).unwrap();
    assert_eq!(names(&doc["env"]["staging"]["durable_objects"]["bindings"], "name"), ["KVGEN_COORDINATOR"]);
    stdout(kvgen().current_dir(dir.path()).arg("check"));
}

#[test]
fn bad_input_coordinator_false_with_a_strict_model() {
    let config = format!(
        "coordinator = false\n{COORDINATOR_ONLY}\n[models.Account]\nbinding = \"APP\"\n\n[models.Account.fields]\nid = {{ type = \"String\", id = true }}\nemail = {{ type = \"String\", unique = true, strict = true }}\n"
    );
    bad_input(
        &[("kvgen.toml", &config)],
        "error: kvgen.toml:1:1: `coordinator = false`, but model `Account` (kvgen.toml:14:9) has a strict unique index, claimed on the coordinator Durable Object: remove `coordinator = false` or the `strict`\n",
    );
    // Rust models too.
    let model = MODEL
        .replace("    pub id: String,\n", "    pub id: String,\n    #[kv(unique, strict)]\n    pub email: String,\n");
    bad_input(
        &[("kvgen.toml", &format!("coordinator = false\nsources = [\"src/lib.rs\"]\n{COORDINATOR_ONLY}")), ("src/lib.rs", &model)],
        "error: kvgen.toml:1:1: `coordinator = false`, but model `User` (src/lib.rs:4:12) has a strict unique index, claimed on the coordinator Durable Object: remove `coordinator = false` or the `strict`\n",
    );
}

#[test]
fn bad_input_durable_objects_or_migrations_kvgen_would_overwrite() {
    let config = format!("coordinator = true\n{COORDINATOR_ONLY}");
    let ids = "[[kv_namespaces]]\nbinding = \"APP\"\nid = \"a\"\n";
    for (toml, stderr) in [
        (
            format!("durable_objects = \"rooms\"\n{ids}"),
            "error: wrangler.toml:1:1: `durable_objects` is not a table: kvgen adds the coordinator's binding to its `bindings`\n",
        ),
        (
            format!("migrations = \"v1\"\n{ids}\n[env.staging]\ndurable_objects.bindings = 1\n"),
            "error: wrangler.toml:1:1: `migrations` is not a list of { tag = .., new_sqlite_classes = [..] } tables: kvgen adds the coordinator's there\nerror: wrangler.toml:7:17: `env.staging.durable_objects.bindings` is not a list of { name = .., class_name = .. } tables: kvgen adds the coordinator's there\n",
        ),
    ] {
        bad_input(&[("kvgen.toml", &config), ("wrangler.toml", &toml)], stderr);
    }
    let config = config.replace("wrangler.toml", "wrangler.jsonc");
    bad_input(
        &[
            ("kvgen.toml", &config),
            (
                "wrangler.jsonc",
                "{\n  \"durable_objects\": [],\n  \"env\": {\n    \"staging\": { \"migrations\": {} },\n    \"production\": { \"durable_objects\": { \"bindings\": [\"ROOMS\"] } }\n  }\n}\n",
            ),
        ],
        "error: wrangler.jsonc:2:22: `durable_objects` is not an object: kvgen adds the coordinator's binding to its `bindings`\nerror: wrangler.jsonc:4:32: `env.staging.migrations` is not an array of objects: kvgen adds the coordinator's there\nerror: wrangler.jsonc:5:54: `env.production.durable_objects.bindings` is not an array of objects: kvgen adds the coordinator's there\n",
    );
    // Without the coordinator, kvgen leaves these alone.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("kvgen.toml"), COORDINATOR_ONLY).unwrap();
    let toml = format!("durable_objects = \"rooms\"\n{ids}\n[env.staging]\n\n[env.production]\n");
    fs::write(dir.path().join("wrangler.toml"), &toml).unwrap();
    stdout(kvgen().current_dir(dir.path()).arg("generate"));
}

#[test]
fn the_coordinator_names_are_those_of_the_runtime() {
    let coord = fs::read_to_string(repo().join("src/coord/mod.rs")).unwrap();
    for (name, value) in [
        ("COORDINATOR_BINDING", kvgen_codegen::wrangler::COORDINATOR_BINDING),
        ("COORDINATOR_CLASS", kvgen_codegen::wrangler::COORDINATOR_CLASS),
    ] {
        assert!(
            coord.contains(&format!("pub const {name}: &str = {value:?};")),
            "{name} is not {value:?} in src/coord/mod.rs"
        );
    }
}

#[test]
fn wrangler_toml_inline_lists_and_environments_get_the_coordinator_inline() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("kvgen.toml"), format!("coordinator = true\n{COORDINATOR_ONLY}")).unwrap();
    let toml = "name = \"w\"\nmigrations = [{ tag = \"v1\", new_classes = [\"Rooms\"] }]\nkv_namespaces = [{ binding = \"APP\", id = \"a\" }]\n\n[durable_objects]\nbindings = [{ name = \"ROOMS\", class_name = \"Rooms\" }]\n\n[env]\nstaging = { name = \"w-staging\" }\nproduction = { name = \"w-production\", migrations = [] }\n";
    fs::write(dir.path().join("wrangler.toml"), toml).unwrap();
    stdout(kvgen().current_dir(dir.path()).arg("generate"));
    let after = fs::read_to_string(dir.path().join("wrangler.toml")).unwrap();
    assert!(
        after.contains("migrations = [{ tag = \"v1\", new_classes = [\"Rooms\"] }, { tag = \"kvgen-coordinator-v1\", new_sqlite_classes = [\"KvgenCoordinator\"] }]\n"),
        "{after}"
    );
    assert!(
        after.contains("bindings = [{ name = \"ROOMS\", class_name = \"Rooms\" }, { name = \"KVGEN_COORDINATOR\", class_name = \"KvgenCoordinator\" }]\n"),
        "{after}"
    );
    let doc: toml::Table = toml::from_str(&after).unwrap();
    for env in ["staging", "production"] {
        assert_eq!(names(&doc["env"][env]["durable_objects"]["bindings"], "name"), ["KVGEN_COORDINATOR"], "{after}");
    }
    // Production lists migrations of its own, which wrangler reads instead of the top-level ones.
    assert!(doc["env"]["staging"].get("migrations").is_none(), "{after}");
    assert_eq!(names(&doc["env"]["production"]["migrations"], "tag"), ["kvgen-coordinator-v1"]);
    stdout(kvgen().current_dir(dir.path()).arg("check"));
}

/// `kvgen wrangler --write PATH`: refused (exit 2, one line naming PATH, nothing
/// written) unless PATH is a wrangler config inside the folder of kvgen.toml,
/// not kvgen.toml, a source or another output, and exists or has a wrangler name.
#[test]
fn wrangler_write_refuses_paths_generate_would_refuse() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("app");
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(dir.join("src/lib.rs"), "").unwrap();
    fs::write(
        dir.join("kvgen.toml"),
        "sources = [\"src/lib.rs\"]\n[output]\nkeys = \"KEYS.md\"\n\n[namespaces.APP]\nid = \"x\"\n",
    )
    .unwrap();
    fs::create_dir_all(root.path().join("elsewhere")).unwrap();
    fs::write(root.path().join("elsewhere/wrangler.toml"), "name = \"other\"\n").unwrap();
    let before = |d: &Path| {
        let mut v: Vec<(PathBuf, String)> = Vec::new();
        for rel in ["kvgen.toml", "src/lib.rs", "KEYS.md", "wrangler.tmol", "../elsewhere/wrangler.toml"] {
            v.push((rel.into(), fs::read_to_string(d.join(rel)).unwrap_or_default()));
        }
        v
    };
    let snapshot = before(&dir);
    for (path, says) in [
        ("kvgen.toml", "kvgen.toml itself"),
        ("../elsewhere/wrangler.toml", "outside"),
        ("wrangler.tmol", "not a wrangler config"),
        ("wrangler-prod.toml", "does not exist"),
        ("src", "not a wrangler config"),
        ("KEYS.md", "not a wrangler config"),
    ] {
        let out = kvgen().current_dir(&dir).args(["wrangler", "--write", path]).assert().code(2).get_output().clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{path}: {err}");
        assert!(err.starts_with(&format!("error: {path}: --write: ")) && err.contains(says), "{path}: {err}");
        assert_eq!(before(&dir), snapshot, "{path}");
        assert!(!dir.join("wrangler-prod.toml").exists());
    }
    // Every later command still works.
    kvgen().current_dir(&dir).arg("check").assert().code(1);
    // A new file with a wrangler name is created.
    let out = stdout(kvgen().current_dir(&dir).args(["wrangler", "--write", "wrangler.toml"]));
    assert!(out.starts_with("kvgen: created wrangler.toml"), "{out}");
}

/// A KV binding named like the coordinator's Durable Object binding, next to a
/// strict model: refused at the binding's line, by generate and check alike.
#[test]
fn bad_input_a_kv_binding_named_kvgen_coordinator_next_to_a_strict_model() {
    let strict = MODEL
        .replace("    pub id: String,\n", "    pub id: String,\n    #[kv(unique, strict)]\n    pub email: String,\n");
    let model = format!(
        "{strict}\n#[derive(KvModel)]\n#[kv(binding = \"KVGEN_COORDINATOR\")]\npub struct Cache {{\n    #[kv(id)]\n    pub id: String,\n}}\n"
    );
    let config =
        "sources = [\"src/lib.rs\"]\n\n[namespaces.APP]\nid = \"a\"\n\n[namespaces.KVGEN_COORDINATOR]\nid = \"c\"\n";
    let expected = "error: src/lib.rs:12:16: binding `KVGEN_COORDINATOR` is the name of kvgen's coordinator Durable Object binding, which this Worker needs (a strict unique index or `coordinator = true`); wrangler refuses two bindings of one name: rename the KV binding\n";
    bad_input(&[("kvgen.toml", config), ("src/lib.rs", &model)], expected);
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("kvgen.toml"), config).unwrap();
    fs::write(dir.path().join("src/lib.rs"), &model).unwrap();
    let out = kvgen().current_dir(dir.path()).arg("check").assert().code(2).get_output().clone();
    assert_eq!(String::from_utf8(out.stderr).unwrap(), expected);
    // A namespace of that name in kvgen.toml alone (no model in it): at its table.
    bad_input(
        &[("kvgen.toml", config), ("src/lib.rs", &strict)],
        "error: kvgen.toml:6:13: binding `KVGEN_COORDINATOR` is the name of kvgen's coordinator Durable Object binding, which this Worker needs (a strict unique index or `coordinator = true`); wrangler refuses two bindings of one name: rename the KV binding\n",
    );
}

/// One typo in a model is one error: not also a second one about the attribute
/// it meant, nor one per relation to the model.
#[test]
fn bad_input_one_typo_is_one_error_without_cascades_to_relations() {
    let model = "use kvgen::KvModel;\n#[derive(KvModel)]\n#[kv(binding = \"APP\")]\npub struct User {\n    #[kv(id)]\n    pub id: String,\n    #[kv(uniqe, strict)]\n    pub email: String,\n}\n#[derive(KvModel)]\n#[kv(binding = \"APP\")]\npub struct Post {\n    #[kv(id)]\n    pub id: String,\n    #[kv(belongs_to = User)]\n    pub author: String,\n}\n";
    let config = "sources = [\"src/lib.rs\"]\n\n[namespaces.APP]\nid = \"a\"\n";
    let expected = "error: src/lib.rs:7:10: unknown kvgen field attribute `uniqe`; expected one of: id, generate, unique, strict, index, desc, belongs_to, meta, raw\n";
    bad_input(&[("kvgen.toml", config), ("src/lib.rs", model)], expected);
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("kvgen.toml"), config).unwrap();
    fs::write(dir.path().join("src/lib.rs"), model).unwrap();
    let out = kvgen().current_dir(dir.path()).arg("check").assert().code(2).get_output().clone();
    assert_eq!(String::from_utf8(out.stderr).unwrap(), expected);
}

/// A strict model whose crate depends on kvgen without `durable`: check fails
/// (exit 2, one line at the dependency in Cargo.toml), generate warns.
#[test]
fn a_strict_model_needs_the_durable_feature_in_cargo_toml() {
    let model = MODEL
        .replace("    pub id: String,\n", "    pub id: String,\n    #[kv(unique, strict)]\n    pub email: String,\n");
    let config = "sources = [\"src/lib.rs\"]\n\n[namespaces.APP]\nid = \"a\"\n";
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("kvgen.toml"), config).unwrap();
    fs::write(dir.path().join("src/lib.rs"), &model).unwrap();
    let manifest = "[package]\nname = \"w\"\nversion = \"0.1.0\"\n\n[dependencies]\nkvgen = { git = \"x\", features = [\"worker\"] }\n";
    fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    let expected = "error: Cargo.toml:6:1: dependency `kvgen` lacks the `durable` feature, which exports the coordinator Durable Object: model `User` has a strict unique index; use features = [\"worker\", \"durable\"]\n";
    let out = kvgen().current_dir(dir.path()).arg("check").assert().code(2).get_output().clone();
    assert_eq!(String::from_utf8(out.stderr).unwrap(), expected);
    let out = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert!(out.contains("  warning   Cargo.toml:6:1: dependency `kvgen` lacks the `durable` feature"), "{out}");
    // With the feature, check passes.
    fs::write(dir.path().join("Cargo.toml"), manifest.replace("[\"worker\"]", "[\"worker\", \"durable\"]")).unwrap();
    stdout(kvgen().current_dir(dir.path()).arg("check"));
    let out = stdout(kvgen().current_dir(dir.path()).arg("generate"));
    assert!(!out.contains("warning"), "{out}");
    // So does a crate feature that turns it on.
    fs::write(dir.path().join("Cargo.toml"), format!("{manifest}\n[features]\ncoord = [\"kvgen/durable\"]\n")).unwrap();
    stdout(kvgen().current_dir(dir.path()).arg("check"));
}
