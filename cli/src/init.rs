//! `kvgen init`: scaffolds kvgen into a Worker crate (new or existing).
//!
//! Writes what is missing — `kvgen.toml`, a models file with one starter
//! model, `wrangler.jsonc` (when the crate has no wrangler config) and, with
//! `--build-rs`, `build.rs` — then generates the outputs, and prints the
//! lines to add to `Cargo.toml` and `src/lib.rs`. A file that exists is kept
//! unless `--force`; a second run changes nothing.

use clap::Args;
use kvgen_codegen::diag::{Diagnostic, Error, Result};
use kvgen_codegen::output;
use kvgen_codegen::project::Project;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `kvgen init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The crate folder (the one holding Cargo.toml).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// The Rust file of the models, relative to the crate.
    #[arg(long, default_value = "src/models.rs", value_name = "FILE")]
    pub models: String,
    /// The checked-in generated Rust file, relative to the crate (not with --build-rs).
    #[arg(long, default_value = "src/kv.rs", value_name = "FILE")]
    pub output: String,
    /// Generate the Rust at build time (a build.rs, into OUT_DIR) instead of a checked-in file.
    #[arg(long)]
    pub build_rs: bool,
    /// The KV binding of the starter model and of kvgen.toml's namespace.
    #[arg(long, default_value = "KV", value_name = "NAME")]
    pub binding: String,
    /// Print path dependencies on this kvgen checkout instead of git ones.
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// The git URL of kvgen for the dependency lines printed.
    #[arg(long, default_value = "<kvgen-git-url>", value_name = "URL")]
    pub git: String,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
}

/// Runs `kvgen init`.
pub fn run(args: &InitArgs, out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::Io { path: "<stdout>".into(), source: e };
    let dir = &args.dir;
    let manifest = dir.join("Cargo.toml");
    let text = kvgen_codegen::diag::read(&manifest).map_err(|e| match e {
        Error::Invalid(_) => Error::one(Diagnostic::file(
            &manifest,
            "no such file: run kvgen init in a crate (or pass --dir), e.g. after `cargo new --lib`",
        )),
        other => other,
    })?;
    let name = package_name(&manifest, &text)?;
    for (flag, value) in [("--models", &args.models), ("--output", &args.output)] {
        if !value.ends_with(".rs") || Path::new(value).is_absolute() || value.split('/').any(|c| c == "..") {
            return Err(Error::one(Diagnostic::file(
                dir.join(value),
                format!("{flag}: use a .rs path inside the crate"),
            )));
        }
    }
    if !is_binding(&args.binding) {
        return Err(Error::one(Diagnostic::file(
            &manifest,
            format!("--binding `{}`: use an uppercase name of [A-Z0-9_] starting with a letter", args.binding),
        )));
    }

    let wrangler = ["wrangler.toml", "wrangler.jsonc", "wrangler.json"].into_iter().find(|w| dir.join(w).is_file());
    let wrangler_file = wrangler.unwrap_or("wrangler.jsonc");
    let mut files: Vec<(String, String)> =
        vec![("kvgen.toml".into(), kvgen_toml(args, wrangler_file)), (args.models.clone(), models_rs(&args.binding))];
    if wrangler.is_none() {
        files.push(("wrangler.jsonc".into(), wrangler_jsonc(&name)));
    }
    if args.build_rs {
        files.push(("build.rs".into(), BUILD_RS.into()));
    }

    // Every problem is found before the first write.
    for (rel, _) in &files {
        let path = dir.join(rel);
        if path.is_dir() {
            return Err(Error::one(Diagnostic::file(&path, "is a folder: kvgen init writes a file here")));
        }
    }
    writeln!(out, "kvgen init: {}", dir.display()).map_err(io)?;
    for (rel, contents) in &files {
        let path = dir.join(rel);
        let state = match std::fs::read_to_string(&path) {
            Ok(old) if old == *contents => "unchanged",
            Ok(_) if !args.force => "kept",
            Err(_) if path.exists() && !args.force => "kept",
            _ => {
                output::write_if_changed(&path, contents)?;
                "wrote"
            }
        };
        let note = if state == "kept" { " (exists; --force overwrites it)" } else { "" };
        writeln!(out, "  {state:<9} {rel}{note}").map_err(io)?;
    }

    let project = Project::load(&dir.join("kvgen.toml"))?;
    for o in output::outputs(&project)? {
        let changed = output::write_if_changed(&o.path, &o.contents)?;
        let rel = o.path.strip_prefix(dir).unwrap_or(&o.path).display().to_string();
        writeln!(out, "  {:<9} {rel}", if changed { "updated" } else { "unchanged" }).map_err(io)?;
    }

    writeln!(out, "\n{}", next_steps(args)).map_err(io)?;
    Ok(())
}

fn package_name(manifest: &Path, text: &str) -> Result<String> {
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let msg = e.message().to_string();
        match e.span() {
            Some(span) => Error::one(Diagnostic::at_offset(manifest, text, span.start, msg)),
            None => Error::one(Diagnostic::file(manifest, msg)),
        }
    })?;
    doc.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()).map(str::to_string).ok_or_else(|| {
        Error::one(Diagnostic::file(manifest, "no [package] name: run kvgen init in a crate, not a workspace root"))
    })
}

fn is_binding(b: &str) -> bool {
    b.starts_with(|c: char| c.is_ascii_uppercase())
        && b.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The module path of a `.rs` file under `src/` (`src/kv.rs` -> `kv`).
fn module(rel: &str) -> String {
    let rel = rel.strip_prefix("src/").unwrap_or(rel).trim_end_matches(".rs");
    rel.trim_end_matches("/mod").replace('/', "::")
}

fn kvgen_toml(args: &InitArgs, wrangler: &str) -> String {
    let rust = if args.build_rs {
        "# Rust: generated by build.rs into OUT_DIR.\n".to_string()
    } else {
        format!("rust = \"{}\"\n", args.output)
    };
    let b = &args.binding;
    let lower = b.to_ascii_lowercase().replace('_', "-");
    format!(
        "# kvgen: the models of this Worker and the files kept from them.\n\
         # `kvgen generate` writes the outputs, `kvgen check` (CI) fails when one is stale.\n\
         sources = [\"{models}\"]\n\
         \n\
         [output]\n\
         {rust}\
         wrangler = \"{wrangler}\"\n\
         \n\
         # One namespace per binding: `wrangler kv namespace create {b}` prints the ids.\n\
         # `wrangler dev --local` accepts any id.\n\
         [namespaces.{b}]\n\
         id = \"local-{lower}\"\n\
         preview_id = \"local-{lower}-preview\"\n",
        models = args.models,
    )
}

fn models_rs(binding: &str) -> String {
    format!(
        "//! The KV models of this Worker: `kvgen generate` reads them.\n\
         \n\
         use kvgen::KvModel;\n\
         use serde::{{Deserialize, Serialize}};\n\
         \n\
         /// A starter model: rename it, add fields, indexes and relations (see kvgen's README).\n\
         #[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]\n\
         #[kv(binding = \"{binding}\")]\n\
         pub struct Item {{\n\
         \x20   /// The record id.\n\
         \x20   #[kv(id)]\n\
         \x20   pub id: String,\n\
         \x20   /// What the item is called.\n\
         \x20   pub name: String,\n\
         }}\n"
    )
}

fn wrangler_jsonc(name: &str) -> String {
    format!(
        "{{\n\
         \x20 \"$schema\": \"node_modules/wrangler/config-schema.json\",\n\
         \x20 \"name\": \"{name}\",\n\
         \x20 \"main\": \"build/index.js\",\n\
         \x20 \"compatibility_date\": \"2025-09-01\",\n\
         \x20 \"build\": {{ \"command\": \"cargo install -q worker-build && worker-build --release\" }},\n\
         \x20 // kvgen keeps these entries current from kvgen.toml.\n\
         \x20 \"kv_namespaces\": []\n\
         }}\n"
    )
}

const BUILD_RS: &str = "// Generates the KvEnv binding struct of kvgen.toml's models into OUT_DIR;\n\
// src/lib.rs includes it. Cargo reruns this when a model changes.\n\
fn main() {\n\
\x20   if let Err(e) = kvgen_codegen::Builder::new().config(\"kvgen.toml\").generate() {\n\
\x20       for line in e.to_string().lines() {\n\
\x20           println!(\"cargo::error={line}\");\n\
\x20       }\n\
\x20       std::process::exit(1);\n\
\x20   }\n\
}\n";

fn next_steps(args: &InitArgs) -> String {
    let dep = |krate: &str, sub: &str, features: &str| match &args.path {
        Some(p) => {
            let p = p.join(sub);
            format!("{krate} = {{ path = \"{}\"{features} }}", p.display().to_string().trim_end_matches('/'))
        }
        None => format!("{krate} = {{ git = \"{}\"{features} }}", args.git),
    };
    let mut s = String::from("Add to Cargo.toml:\n\n[dependencies]\n");
    s += &dep("kvgen", "", ", features = [\"worker\"]");
    s += "\nserde = { version = \"1\", features = [\"derive\"] }\n";
    if args.build_rs {
        s += "\n[build-dependencies]\n";
        s += &dep("kvgen-codegen", "codegen", "");
        s += "\n";
    }
    let models = module(&args.models);
    s += "\nAdd to src/lib.rs, at the crate root:\n\n";
    s += &format!("pub mod {models};\n");
    if args.build_rs {
        s += "include!(concat!(env!(\"OUT_DIR\"), \"/kvgen.rs\"));\n";
    } else {
        s += &format!("pub mod {};\nuse {}::KvEnv;\n", module(&args.output), module(&args.output));
    }
    s += "\nThen, in a handler returning worker::Result:\n\n\
          let kv = KvEnv::from_worker(&env)?;\n\
          let item = kv.items().get(&id).await?;\n";
    if !args.build_rs {
        s += "\nAfter changing a model: kvgen generate (kvgen check in CI).\n";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules() {
        assert_eq!(module("src/models.rs"), "models");
        assert_eq!(module("src/kv/mod.rs"), "kv");
        assert_eq!(module("src/a/b.rs"), "a::b");
    }
}
