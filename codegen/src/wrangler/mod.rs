//! Wrangler config: the `[[kv_namespaces]]` entries of every binding, at the
//! top level and in every `[env.NAME]` (wrangler does not inherit bindings
//! into environments), as fragments or updated in place; and, when a strict
//! unique index needs it, the coordinator Durable Object's binding and migration.
//!
//! The parts, each building only on those listed before it:
//!
//! - `read`: a config's [`Format`], and the ids it gives a binding already ([`existing`]).
//! - `coordinator`: the coordinator's binding, class and migration.
//! - `entries`: the entries kvgen writes per environment, and what it says of them.
//! - `fragment`: the fragments `kvgen wrangler` prints.
//! - `toml_shape`, then `toml`: the check and the in-place edit of a wrangler.toml.
//! - `jsonc_shape`, then `jsonc`: the same for a wrangler.json or wrangler.jsonc.
//!
//! This file holds the public surface: [`update`] and [`update_noting`]
//! choose the editor by the file's format. Nothing in the parts depends on
//! it. The rest of the crate builds on `wrangler`; it builds on
//! [`crate::config`], [`crate::diag`] and [`crate::project`] only.

pub(crate) mod coordinator;
pub(crate) mod entries;
pub(crate) mod fragment;
mod jsonc;
mod jsonc_shape;
pub(crate) mod read;
mod toml;
mod toml_shape;

pub use crate::project::COORDINATOR_BINDING;
pub use coordinator::{COORDINATOR_CLASS, COORDINATOR_MIGRATION};
pub use entries::Updated;
pub use fragment::{jsonc_fragment, toml_fragment};
pub use read::{existing, Existing, Format, Ids};

use crate::diag::{Diagnostic, Result};
use crate::project::Project;
use std::path::Path;

/// `text` (the wrangler config at `path`) with its KV entries brought up to
/// date: entries of kvgen's bindings updated or added, at the top level and in
/// every environment; everything else, comments included, left as it was.
pub fn update(project: &Project, path: &Path, text: &str) -> Result<String> {
    update_noting(project, path, text).map(|u| u.text)
}

/// [`update`], with a note of every field kvgen kept on an entry of its bindings.
pub fn update_noting(project: &Project, path: &Path, text: &str) -> Result<Updated> {
    match Format::of(path) {
        Some(Format::Toml) => toml::update_toml(project, path, text),
        Some(Format::Jsonc) => jsonc::update_jsonc(project, path, text),
        None => Err(Diagnostic::file(path, "a wrangler config ends in .toml, .json or .jsonc").into()),
    }
}

/// What a wrangler config kvgen creates starts as: for JSONC, wrangler's
/// `$schema` and nothing else; for TOML, nothing. [`update`] adds the entries.
pub fn starter(path: &Path) -> &'static str {
    match Format::of(path) {
        Some(Format::Jsonc) => "{\n  \"$schema\": \"node_modules/wrangler/config-schema.json\"\n}\n",
        _ => "",
    }
}
