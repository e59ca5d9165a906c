//! Every name position a user controls, given every odd identifier: no
//! panic, and either generated code that parses or an error naming a place.

use kvgen_codegen::config::ConfigFile;
use kvgen_codegen::diag::Error;
use kvgen_codegen::project::Project;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

const ODD: &[&str] = &[
    "_", "__", "_1", "__x", "r#x", "r#type", "r#self", "type", "in", "self", "Self", "crate", "super", "", " ", "1",
    "1x", "a b", "x-y", "x::y", "x<T>", "é", "Été", "日本", "ß", "\u{0}", "A", "APP", "App", "aPP", "scope", "stores",
    "Store", "Env", "S", "user", "User", "USER", "users", "x_id", "_id", "__id",
];

/// A `kvgen.toml` with two models in which `{name}` stands at one place.
fn config(position: &str, name: &str) -> String {
    let q = toml_edit::Value::from(name).to_string();
    let q = q.trim();
    let pick = |p: &str, default: &str| if p == position { q.to_string() } else { format!("\"{default}\"") };
    format!(
        "[output]\nrust = \"src/env.rs\"\nenv_struct = {env}\n\n\
         [models.{user}]\nbinding = {binding}\nprefix = {prefix}\nunique = [{{ fields = [\"email\"], name = {index} }}]\n\
         has_many = [{{ model = {child}, by = \"user_id\", name = {relation} }}]\n\n\
         [models.{user}.fields]\nid = {{ type = \"String\", id = true }}\nemail = \"String\"\n{field} = \"u32\"\n\n\
         [models.Post]\nbinding = {binding}\n\n\
         [models.Post.fields]\nid = {{ type = \"u64\", id = true }}\nuser_id = {{ type = \"String\", belongs_to = {user} }}\n",
        env = pick("env_struct", "Env"),
        user = pick("model", "User"),
        binding = pick("binding", "APP"),
        prefix = pick("prefix", "user"),
        index = pick("index", "by_email"),
        child = pick("relation_model", "Post"),
        relation = pick("relation", "posts"),
        field = pick("field", "age"),
    )
}

const POSITIONS: &[&str] =
    &["env_struct", "model", "binding", "prefix", "index", "relation_model", "relation", "field"];

#[test]
fn odd_names_in_kvgen_toml_never_panic() {
    for position in POSITIONS {
        for name in ODD {
            let text = config(position, name);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let config = ConfigFile::parse(Path::new("kvgen.toml"), text.clone())?;
                let project = Project::build(config, &[], &[])?;
                kvgen_codegen::output::rust(&project)?;
                kvgen_codegen::keys::markdown(&project);
                kvgen_codegen::keys::mermaid(&project);
                kvgen_codegen::ts::typescript(&project);
                Ok::<(), Error>(())
            }));
            match outcome {
                Err(_) => panic!("{position} = {name:?} panicked:\n{text}"),
                Ok(Err(Error::Invalid(problems))) => {
                    assert!(!problems.is_empty());
                    for p in problems {
                        assert_eq!(p.file, Path::new("kvgen.toml"), "{position} = {name:?}: {p}");
                    }
                }
                Ok(Err(e)) => panic!("{position} = {name:?}: {e}"),
                Ok(Ok(())) => {}
            }
        }
    }
}

/// A derive input with `{name}` at one place: identifiers as they are (cases
/// Rust itself refuses are skipped), strings as literals.
fn derive_source(position: &str, name: &str) -> String {
    let lit = format!("{name:?}");
    let pick = |p: &str, default: &str, as_ident: bool| {
        if p != position {
            default.to_string()
        } else if as_ident {
            name.to_string()
        } else {
            lit.clone()
        }
    };
    format!(
        "#[derive(KvModel)]\n#[kv(binding = {binding}, prefix = {prefix}, unique(email, name = {index}), has_many({child}, by = user_id, name = {relation}), has_one({child}, by = user_id))]\n\
         pub struct {user} {{\n  #[kv(id)]\n  pub id: String,\n  pub email: String,\n  #[kv(index)]\n  pub {field}: u32,\n  #[kv(belongs_to = {child})]\n  pub {field}_id: u32,\n}}\n",
        binding = pick("binding", "\"APP\"", false),
        prefix = pick("prefix", "\"user\"", false),
        index = pick("index", "\"by_email\"", false),
        child = pick("relation_model", "Post", true),
        relation = pick("relation", "\"posts\"", false),
        user = pick("model", "User", true),
        field = pick("field", "age", true),
    )
}

#[test]
fn odd_names_in_derive_attributes_never_panic() {
    for position in POSITIONS.iter().filter(|p| **p != "env_struct") {
        for name in ODD {
            let source = derive_source(position, name);
            let Ok(input) = syn::parse_str::<syn::DeriveInput>(&source) else { continue };
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                kvgen_codegen::derive_model(&input).map(|tokens| syn::parse2::<syn::File>(tokens).is_ok())
            }));
            match outcome {
                Err(_) => panic!("{position} = {name:?} panicked:\n{source}"),
                Ok(Ok(parses)) => assert!(parses, "{position} = {name:?}: generated code does not parse"),
                Ok(Err(_)) => {}
            }
        }
    }
}

#[test]
fn odd_env_struct_names_in_the_builder_never_panic() {
    let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
    let src = dir.path().join("models.rs");
    std::fs::write(&src, "#[derive(KvModel)]\npub struct User {\n  #[kv(id)]\n  pub id: String,\n}\n").unwrap();
    for name in ODD {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            kvgen_codegen::Builder::new()
                .source(&src)
                .env_struct(*name)
                .out_dir(dir.path())
                .emit_rerun_if_changed(false)
                .generate()
        }));
        assert!(outcome.is_ok(), "env_struct {name:?} panicked");
    }
}
