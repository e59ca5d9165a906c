//! Editing a wrangler.jsonc in place, through a concrete syntax tree so that
//! comments, order and layout stay as they were: kvgen's `kv_namespaces`
//! entries at the top level and in every environment, and the coordinator's
//! Durable Object binding and migration when a strict index needs them.
//!
//! Builds on [`super::jsonc_shape`] (checked first, so an edit never drops
//! anything), [`super::entries`] and [`super::coordinator`]. Only the
//! dispatch in [`super`] calls it.

use crate::diag::{Diagnostic, Result};
use crate::project::{Project, COORDINATOR_BINDING};
use crate::wrangler::coordinator::{COORDINATOR_CLASS, COORDINATOR_MIGRATION, CREATES};
use crate::wrangler::entries::{entries, kept_note, Entry, Updated};
use crate::wrangler::jsonc_shape::check_jsonc_shape;
use std::path::Path;

pub(super) fn update_jsonc(project: &Project, path: &Path, text: &str) -> Result<Updated> {
    use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
    let config = &project.config.config;
    let root = CstRootNode::parse(text, &jsonc_parser::ParseOptions::default()).map_err(|e| {
        let range = e.range();
        Diagnostic::at_offset(path, text, range.start, e.kind().to_string())
    })?;
    check_jsonc_shape(project, path, text)?;
    let obj = root.object_value_or_set();
    let mut kept = Vec::new();
    fn set_entries(obj: &CstObject, want: &[Entry], within: &str, kept: &mut Vec<String>) {
        if want.is_empty() {
            return;
        }
        let array = obj.array_value_or_set("kv_namespaces");
        for e in want {
            let existing = array.elements().into_iter().filter_map(|e| e.as_object()).find(|o| {
                o.get("binding")
                    .and_then(|p| p.value())
                    .and_then(|v| v.as_string_lit())
                    .and_then(|s| s.decoded_value().ok())
                    .as_deref()
                    == Some(e.binding)
            });
            match existing {
                Some(o) => {
                    set_prop(&o, "id", Some(CstInputValue::from(e.id)));
                    set_prop(&o, "preview_id", e.preview_id.map(CstInputValue::from));
                    set_prop(&o, "remote", e.remote.map(CstInputValue::Bool));
                    let unowned: Vec<String> =
                        o.properties().iter().filter_map(|p| p.decoded_name()).filter(|k| !e.owns(k)).collect();
                    kept.extend(kept_note(e.binding, within, &unowned));
                }
                None => {
                    let mut fields = vec![
                        ("binding".to_string(), CstInputValue::from(e.binding)),
                        ("id".to_string(), CstInputValue::from(e.id)),
                    ];
                    if let Some(p) = e.preview_id {
                        fields.push(("preview_id".to_string(), CstInputValue::from(p)));
                    }
                    if let Some(r) = e.remote {
                        fields.push(("remote".to_string(), CstInputValue::Bool(r)));
                    }
                    array.append(CstInputValue::Object(fields));
                }
            }
        }
    }
    /// Sets `key` to `value`; with no value, leaves what is there (a field kvgen.toml does not set).
    fn set_prop(o: &CstObject, key: &str, value: Option<CstInputValue>) {
        let Some(value) = value else { return };
        match o.get(key) {
            Some(p) => {
                let current = p.value();
                let same = match &value {
                    CstInputValue::String(v) => {
                        current.and_then(|c| c.as_string_lit()).and_then(|s| s.decoded_value().ok()).as_ref() == Some(v)
                    }
                    CstInputValue::Bool(v) => current.and_then(|c| c.as_boolean_lit()).map(|b| b.value()) == Some(*v),
                    _ => false,
                };
                if !same {
                    p.set_value(value);
                }
            }
            None => {
                o.append(key, value);
            }
        }
    }
    /// The coordinator's binding and migration in `obj` (see [`set_toml_coordinator`]).
    fn set_coordinator(obj: &CstObject, top: bool) {
        let string = |o: &CstObject, key: &str| {
            o.get(key).and_then(|p| p.value()).and_then(|v| v.as_string_lit()).and_then(|s| s.decoded_value().ok())
        };
        let bindings = obj.object_value_or_set("durable_objects").array_value_or_set("bindings");
        let objects = |a: &jsonc_parser::cst::CstArray| -> Vec<CstObject> {
            a.elements().into_iter().filter_map(|e| e.as_object()).collect()
        };
        match objects(&bindings).into_iter().find(|o| string(o, "name").as_deref() == Some(COORDINATOR_BINDING)) {
            Some(o) => set_prop(&o, "class_name", Some(CstInputValue::from(COORDINATOR_CLASS))),
            None => {
                bindings.append(CstInputValue::Object(vec![
                    ("name".to_string(), COORDINATOR_BINDING.into()),
                    ("class_name".to_string(), COORDINATOR_CLASS.into()),
                ]));
            }
        }
        if !top && obj.get("migrations").is_none() {
            return;
        }
        let migrations = obj.array_value_or_set("migrations");
        let creates = |o: &CstObject| {
            CREATES.iter().any(|k| {
                o.array_value(k).is_some_and(|a| {
                    a.elements().into_iter().any(|e| {
                        e.as_string_lit().and_then(|s| s.decoded_value().ok()).as_deref() == Some(COORDINATOR_CLASS)
                    })
                })
            })
        };
        let list = objects(&migrations);
        if list.iter().any(creates) {
            return;
        }
        let classes = || CstInputValue::Array(vec![COORDINATOR_CLASS.into()]);
        match list.into_iter().find(|o| string(o, "tag").as_deref() == Some(COORDINATOR_MIGRATION)) {
            // Kvgen's migration no longer creating the class: it gets the class again, other classes kept.
            Some(o) => match (o.array_value("new_sqlite_classes"), o.get("new_sqlite_classes")) {
                (Some(list), _) => {
                    list.append(COORDINATOR_CLASS.into());
                }
                (None, Some(p)) => p.set_value(classes()),
                (None, None) => {
                    o.append("new_sqlite_classes", classes());
                }
            },
            None => {
                migrations.append(CstInputValue::Object(vec![
                    ("tag".to_string(), COORDINATOR_MIGRATION.into()),
                    ("new_sqlite_classes".to_string(), classes()),
                ]));
            }
        }
    }
    let coordinator = project.needs_coordinator();
    set_entries(&obj, &entries(config, None), "", &mut kept);
    if coordinator {
        set_coordinator(&obj, true);
    }
    let envs = project.environments();
    if !envs.is_empty() {
        let env_obj = obj.object_value_or_set("env");
        for env in &envs {
            let env_obj = env_obj.object_value_or_set(env);
            set_entries(&env_obj, &entries(config, Some(env)), &format!("env.{env}."), &mut kept);
            if coordinator {
                set_coordinator(&env_obj, false);
            }
        }
    }
    Ok(Updated { text: root.to_string(), kept })
}
