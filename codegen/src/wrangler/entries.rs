//! What kvgen writes into a wrangler config: one `kv_namespaces` entry per
//! binding, at the top level and in every environment that kvgen.toml gives
//! ids for (wrangler does not inherit bindings into `[env.NAME]`); the note
//! for what it keeps of a hand-written entry; and the error for an
//! environment of the wrangler config that kvgen.toml gives no ids for.
//!
//! Builds on kvgen.toml's [`Config`] alone. The fragments and both editors
//! build on it, so it must not depend on any of them.

use crate::config::Config;
use crate::diag::Diagnostic;
use crate::project::Project;
use std::path::Path;

/// One entry kvgen writes: `preview_id` and `remote` only when kvgen.toml sets them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry<'a> {
    pub(super) binding: &'a str,
    pub(super) id: &'a str,
    pub(super) preview_id: Option<&'a str>,
    pub(super) remote: Option<bool>,
}

impl Entry<'_> {
    /// Whether kvgen sets `key` on this entry.
    pub(super) fn owns(&self, key: &str) -> bool {
        match key {
            "binding" | "id" => true,
            "preview_id" => self.preview_id.is_some(),
            "remote" => self.remote.is_some(),
            _ => false,
        }
    }
}

/// The entries of the top level (`env == None`) or of one environment.
pub(super) fn entries<'a>(config: &'a Config, env: Option<&str>) -> Vec<Entry<'a>> {
    let mut out: Vec<Entry> = Vec::new();
    for (binding, ns) in &config.namespaces {
        match env {
            None => out.push(Entry { binding, id: &ns.id, preview_id: ns.preview_id.as_deref(), remote: ns.remote }),
            Some(e) => {
                if let Some(en) = ns.env.get(e) {
                    out.push(Entry { binding, id: &en.id, preview_id: en.preview_id.as_deref(), remote: en.remote });
                }
            }
        }
    }
    out
}

/// A wrangler config brought up to date, and what kvgen left of the user's entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    /// The config's new text.
    pub text: String,
    /// One line per field kept on an entry of a kvgen binding that kvgen.toml does not set
    /// (a hand-set `preview_id`, `remote`, or a key kvgen does not know).
    pub kept: Vec<String>,
}

/// The note for fields kvgen kept on `binding`'s entry `within` (`""` or `env.NAME.`).
pub(super) fn kept_note(binding: &str, within: &str, keys: &[String]) -> Option<String> {
    if keys.is_empty() {
        return None;
    }
    let them = if keys.len() == 1 { "it" } else { "them" };
    let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    Some(format!(
        "kept {} on the {binding} entry of `{within}kv_namespaces`: kvgen.toml does not set {them}",
        keys.join(", ")
    ))
}

/// The problem with environment `env` of the wrangler config at `path` (at
/// `pos`, where known) when kvgen.toml gives no ids in it for some binding;
/// `None` when it gives ids for every one.
pub(super) fn missing_env(
    project: &Project,
    path: &Path,
    env: &str,
    pos: Option<(usize, usize)>,
) -> Option<Diagnostic> {
    let bindings: Vec<&str> = project
        .config
        .config
        .namespaces
        .iter()
        .filter(|(_, ns)| !ns.env.contains_key(env))
        .map(|(b, _)| b.as_str())
        .collect();
    if bindings.is_empty() {
        return None;
    }
    let msg = format!(
        "environment `{env}` has no KV namespace ids for {} in {}: add `[namespaces.{}.env.{env}]` (wrangler does not inherit bindings)",
        bindings.join(", "),
        project.config.path.display(),
        bindings.first().copied().unwrap_or("BINDING")
    );
    Some(match pos {
        Some(p) => Diagnostic::at(path, p, msg),
        None => Diagnostic::file(path, msg),
    })
}
