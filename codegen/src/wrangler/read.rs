//! Reading a wrangler config: its [`Format`] by its file's extension, and
//! the ids it already gives a binding ([`existing`]), which `kvgen init`
//! keeps rather than writing placeholders over them.
//!
//! Builds on no other part of `wrangler`. The dispatch in [`super`] and
//! the crate's output use [`Format`], so this module must not depend on
//! them or on the editors.

use crate::diag::{Diagnostic, Result};
use std::path::Path;

/// The wrangler config formats kvgen edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `wrangler.toml`
    Toml,
    /// `wrangler.json` / `wrangler.jsonc`
    Jsonc,
}

impl Format {
    /// The format of a wrangler config path, by its extension.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "toml" => Some(Format::Toml),
            "json" | "jsonc" => Some(Format::Jsonc),
            _ => None,
        }
    }
}

/// An entry's `id` and `preview_id`.
pub type Ids = (String, Option<String>);

/// The ids a wrangler config gives one KV binding already.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Existing {
    /// The binding's top-level entry: its `id` and `preview_id`.
    pub top: Option<Ids>,
    /// Every environment of the config, with the binding's entry in it if it has one.
    pub envs: Vec<(String, Option<Ids>)>,
}

/// Reads what the wrangler config `text` (at `path`) already says about `binding`,
/// so that `kvgen init` keeps it rather than writing placeholder ids over it.
pub fn existing(path: &Path, text: &str, binding: &str) -> Result<Existing> {
    let value: serde_json::Value = match Format::of(path) {
        Some(Format::Toml) => {
            let t: toml::Table = toml::from_str(text).map_err(|e| match e.span() {
                Some(s) => Diagnostic::at_offset(path, text, s.start, e.message().trim().to_string()),
                None => Diagnostic::file(path, e.message().trim().to_string()),
            })?;
            serde_json::to_value(t).unwrap_or_default()
        }
        _ => jsonc_parser::parse_to_serde_value(text, &jsonc_parser::ParseOptions::default())
            .map_err(|e| Diagnostic::at_offset(path, text, e.range().start, e.kind().to_string()))?,
    };
    let entry = |table: &serde_json::Value| {
        let list = table.get("kv_namespaces")?.as_array()?;
        let e = list.iter().find(|e| e.get("binding").and_then(|b| b.as_str()) == Some(binding))?;
        let id = e.get("id")?.as_str()?.to_string();
        Some((id, e.get("preview_id").and_then(|p| p.as_str()).map(String::from)))
    };
    let envs = match value.get("env").and_then(|e| e.as_object()) {
        Some(envs) => envs.iter().map(|(name, t)| (name.clone(), entry(t))).collect(),
        None => Vec::new(),
    };
    Ok(Existing { top: entry(&value), envs })
}
