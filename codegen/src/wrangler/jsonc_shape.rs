//! The shape check of a wrangler.jsonc before kvgen edits it: every problem
//! that would make kvgen drop something of the user's (or write where a
//! last-wins reader would not look), each at its line and column.
//!
//! Builds on [`super::entries`] (the environments' ids). Only the JSONC
//! editor ([`super::jsonc`]) uses it; it must not depend on the editor.

use crate::diag::{line_col, Diagnostic, Error, Result};
use crate::project::Project;
use crate::wrangler::entries::missing_env;
use std::path::Path;

/// Refuses a wrangler.jsonc whose KV entries kvgen could only update by
/// dropping something: a root that is not an object, `kv_namespaces` that
/// is not an array or is given twice in one object (a last-wins reader
/// would see the second), an `env` that is not an object, an environment
/// that is not an object or is given twice, and environments missing ids.
pub(super) fn check_jsonc_shape(project: &Project, path: &Path, text: &str) -> Result<()> {
    use jsonc_parser::ast::{Object, ObjectProp, Value};
    use jsonc_parser::common::Ranged;
    let at = |offset: usize, message: String| Diagnostic::at_offset(path, text, offset, message);
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &jsonc_parser::ParseOptions::default())
        .map_err(|e| at(e.range().start, e.kind().to_string()))?;
    let Some(root) = parsed.value else { return Ok(()) };
    let Value::Object(root) = root else {
        return Err(at(root.range().start, "the root of a wrangler config must be an object".into()).into());
    };
    let mut problems = Vec::new();
    // A second `what` at `offset`: a last-wins reader would not see what kvgen writes into the first.
    let twice = |offset: Option<usize>, what: &str, problems: &mut Vec<Diagnostic>| {
        if let Some(offset) = offset {
            problems
                .push(at(offset, format!("`{what}` is given twice; a reader keeps the last one: merge them into one")));
        }
    };
    // The first property `name` of `obj`, and where a second one is.
    fn first_of<'o, 'a>(obj: &'o Object<'a>, name: &str) -> (Option<&'o ObjectProp<'a>>, Option<usize>) {
        let mut found = obj.properties.iter().filter(|p| p.name.as_str() == name);
        (found.next(), found.next().map(|p| p.range.start))
    }
    let single = |obj: &Object<'_>, name: &str, within: &str, problems: &mut Vec<Diagnostic>| {
        let (first, second) = first_of(obj, name);
        twice(second, &format!("{within}{name}"), problems);
        first.map(|p| (p.value.range().start, matches!(p.value, Value::Array(_))))
    };
    let kv_array = |obj: &Object, within: &str, problems: &mut Vec<Diagnostic>| {
        if let Some((start, is_array)) = single(obj, "kv_namespaces", within, problems) {
            if !is_array {
                problems.push(at(
                    start,
                    format!("`{within}kv_namespaces` is not an array of {{ \"binding\": .., \"id\": .. }} objects"),
                ));
            }
        }
        // Each entry an object, and no binding of kvgen's twice (kvgen would update only the first).
        let (Some(prop), _) = first_of(obj, "kv_namespaces") else { return };
        let Value::Array(array) = &prop.value else { return };
        let mut seen: Vec<String> = Vec::new();
        for element in &array.elements {
            let Value::Object(entry) = element else {
                problems.push(at(
                    element.range().start,
                    format!(
                        "`{within}kv_namespaces` holds something other than a {{ \"binding\": .., \"id\": .. }} object"
                    ),
                ));
                continue;
            };
            let Some(binding) = entry.properties.iter().find(|p| p.name.as_str() == "binding") else { continue };
            let Value::StringLit(name) = &binding.value else { continue };
            let name = name.value.to_string();
            if project.config.config.namespaces.contains_key(&name) && seen.contains(&name) {
                problems.push(at(
                    binding.value.range().start,
                    format!("binding `{name}` is given twice in `{within}kv_namespaces`: keep one entry, kvgen keeps it current"),
                ));
            }
            seen.push(name);
        }
    };
    // What kvgen edits for the coordinator (see `check_toml_shape`).
    let coordinator = project.needs_coordinator();
    let coordinator_shape = |obj: &Object, within: &str, problems: &mut Vec<Diagnostic>| {
        if !coordinator {
            return;
        }
        let list = |obj: &Object, key: &str, within: &str, problems: &mut Vec<Diagnostic>| {
            let (first, second) = first_of(obj, key);
            twice(second, &format!("{within}{key}"), problems);
            let Some(prop) = first else { return };
            let objects = match &prop.value {
                Value::Array(a) => a.elements.iter().all(|e| matches!(e, Value::Object(_))),
                _ => false,
            };
            if !objects {
                problems.push(at(
                    prop.value.range().start,
                    format!("`{within}{key}` is not an array of objects: kvgen adds the coordinator's there"),
                ));
            }
        };
        let (durable, second) = first_of(obj, "durable_objects");
        twice(second, &format!("{within}durable_objects"), problems);
        if let Some(durable) = durable {
            match &durable.value {
                Value::Object(d) => list(d, "bindings", &format!("{within}durable_objects."), problems),
                other => problems.push(at(
                    other.range().start,
                    format!("`{within}durable_objects` is not an object: kvgen adds the coordinator's binding to its `bindings`"),
                )),
            }
        }
        list(obj, "migrations", within, problems);
    };
    kv_array(&root, "", &mut problems);
    coordinator_shape(&root, "", &mut problems);
    let (env, second_env) = first_of(&root, "env");
    twice(second_env, "env", &mut problems);
    if let Some(env) = env {
        match &env.value {
            Value::Object(envs) => {
                let mut seen: Vec<&str> = Vec::new();
                for prop in &envs.properties {
                    let name = prop.name.as_str();
                    if seen.contains(&name) {
                        twice(Some(prop.range.start), &format!("env.{name}"), &mut problems);
                        continue;
                    }
                    seen.push(name);
                    match &prop.value {
                        Value::Object(inner) => {
                            kv_array(inner, &format!("env.{name}."), &mut problems);
                            coordinator_shape(inner, &format!("env.{name}."), &mut problems);
                        }
                        other => problems.push(at(other.range().start, format!("`env.{name}` is not an object"))),
                    }
                    // Every environment of the wrangler config must have ids for every binding.
                    problems.extend(missing_env(project, path, name, Some(line_col(text, prop.range.start))));
                }
            }
            other => problems.push(at(other.range().start, "`env` is not an object".into())),
        }
    }
    Error::if_any(problems)
}
