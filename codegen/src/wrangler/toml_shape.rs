//! The shape check of a wrangler.toml before kvgen edits it: every problem
//! that would make kvgen drop something of the user's, each at its line and
//! column, so that an edit either keeps everything or does not happen.
//!
//! Builds on [`super::entries`] (the environments' ids). Only the TOML
//! editor ([`super::toml`]) uses it; it must not depend on the editor.

use crate::diag::{line_col, Diagnostic, Error, Result};
use crate::project::Project;
use crate::wrangler::entries::missing_env;
use std::path::Path;

/// A 1-based line and column.
type LineCol = (usize, usize);

/// Where the key `name` of `table` is, else where its value is, else where
/// `fallback` (the table's own position) is.
fn toml_pos(text: &str, table: &dyn toml_edit::TableLike, name: &str, fallback: Option<LineCol>) -> Option<LineCol> {
    let (key, item) = table.get_key_value(name)?;
    key.span().or_else(|| item.span()).map(|s| line_col(text, s.start)).or(fallback)
}

/// Refuses a wrangler.toml whose KV entries kvgen could only update by
/// dropping something, each problem at its line: an `env` or an environment
/// that is not a table, a `kv_namespaces` that is neither `[[kv_namespaces]]`
/// tables nor an inline array of inline tables, a binding of kvgen's given
/// twice in one list, and environments missing ids.
pub(super) fn check_toml_shape(
    project: &Project,
    path: &Path,
    text: &str,
    doc: &toml_edit::Document<String>,
) -> Result<()> {
    use toml_edit::{Item, TableLike, Value};
    let namespaces = &project.config.config.namespaces;
    let at = |pos: Option<LineCol>, message: String| match pos {
        Some(p) => Diagnostic::at(path, p, message),
        None => Diagnostic::file(path, message),
    };
    let span_pos = |span: Option<std::ops::Range<usize>>| span.map(|s| line_col(text, s.start));
    let mut problems = Vec::new();
    let kv_shape = |table: &dyn TableLike, within: &str, fallback, problems: &mut Vec<Diagnostic>| {
        let Some(item) = table.get("kv_namespaces") else { return };
        let pos = toml_pos(text, table, "kv_namespaces", fallback);
        // The `binding` of each entry, with where it is.
        let mut bindings: Vec<(Option<String>, Option<LineCol>)> = Vec::new();
        match item {
            Item::ArrayOfTables(tables) => {
                for t in tables.iter() {
                    let b = t.get("binding");
                    bindings.push((
                        b.and_then(|b| b.as_str()).map(String::from),
                        span_pos(b.and_then(|b| b.span()).or_else(|| t.span())),
                    ));
                }
            }
            Item::Value(Value::Array(array)) => {
                for v in array.iter() {
                    match v.as_inline_table() {
                        Some(t) => {
                            let b = t.get("binding");
                            bindings.push((
                                b.and_then(|b| b.as_str()).map(String::from),
                                span_pos(b.and_then(|b| b.span()).or_else(|| v.span())),
                            ));
                        }
                        None => problems.push(at(
                            span_pos(v.span()).or(pos),
                            format!("`{within}kv_namespaces` holds something other than a {{ binding = .., id = .. }} table"),
                        )),
                    }
                }
            }
            _ => {
                problems.push(at(
                    pos,
                    format!("`{within}kv_namespaces` is neither [[{within}kv_namespaces]] tables nor an array of {{ binding = .., id = .. }} tables"),
                ));
                return;
            }
        }
        for (i, (b, p)) in bindings.iter().enumerate() {
            let Some(b) = b else { continue };
            if namespaces.contains_key(b) && bindings[..i].iter().any(|(o, _)| o.as_ref() == Some(b)) {
                problems.push(at(
                    p.or(pos),
                    format!("binding `{b}` is given twice in `{within}kv_namespaces`: keep one entry, kvgen keeps it current"),
                ));
            }
        }
    };
    let root = doc.as_table();
    // What kvgen edits for the coordinator: `durable_objects` a table, its `bindings` and
    // `migrations` lists of tables (else kvgen would have to drop them to add its own).
    let coordinator = project.needs_coordinator();
    let coordinator_shape = |table: &dyn TableLike, within: &str, fallback, problems: &mut Vec<Diagnostic>| {
        if !coordinator {
            return;
        }
        let list = |table: &dyn TableLike, within: &str, key: &str, what: &str, problems: &mut Vec<Diagnostic>| {
            let Some(item) = table.get(key) else { return };
            let tables = match item {
                Item::ArrayOfTables(_) => true,
                Item::Value(Value::Array(a)) => a.iter().all(|v| v.is_inline_table()),
                _ => false,
            };
            if !tables {
                problems.push(at(
                    toml_pos(text, table, key, fallback),
                    format!("`{within}{key}` is not a list of {{ {what} }} tables: kvgen adds the coordinator's there"),
                ));
            }
        };
        if let Some(item) = table.get("durable_objects") {
            match item.as_table_like() {
                Some(d) => list(d, &format!("{within}durable_objects."), "bindings", "name = .., class_name = ..", problems),
                None => problems.push(at(
                    toml_pos(text, table, "durable_objects", fallback),
                    format!("`{within}durable_objects` is not a table: kvgen adds the coordinator's binding to its `bindings`"),
                )),
            }
        }
        list(table, within, "migrations", "tag = .., new_sqlite_classes = [..]", problems);
    };
    kv_shape(root, "", None, &mut problems);
    coordinator_shape(root, "", None, &mut problems);
    if let Some(envs) = root.get("env") {
        let env_pos = toml_pos(text, root, "env", None);
        match envs.as_table_like() {
            None => problems.push(at(env_pos, "`env` is not a table of environments ([env.NAME])".into())),
            Some(envs) => {
                for (name, item) in envs.iter() {
                    let pos = toml_pos(text, envs, name, env_pos);
                    match item.as_table_like() {
                        None => problems.push(at(pos, format!("`env.{name}` is not a table"))),
                        Some(t) => {
                            kv_shape(t, &format!("env.{name}."), pos, &mut problems);
                            coordinator_shape(t, &format!("env.{name}."), pos, &mut problems);
                        }
                    }
                    // Every environment of the wrangler config must have ids for every binding.
                    problems.extend(missing_env(project, path, name, pos));
                }
            }
        }
    }
    Error::if_any(problems)
}
