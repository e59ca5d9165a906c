//! Editing a wrangler.toml in place, through `toml_edit` so that comments,
//! order and layout stay as they were: kvgen's `kv_namespaces` entries
//! (`[[..]]` tables or inline arrays, kept as they are) at the top level and
//! in every environment, and the coordinator's Durable Object binding and
//! migration when a strict index needs them; new tables go where a person
//! would put them.
//!
//! Builds on [`super::toml_shape`] (checked first, so an edit never drops
//! anything), [`super::entries`] and [`super::coordinator`]. Only the
//! dispatch in [`super`] calls it.

use crate::diag::{Diagnostic, Result};
use crate::project::{Project, COORDINATOR_BINDING};
use crate::wrangler::coordinator::{COORDINATOR_CLASS, COORDINATOR_MIGRATION, CREATES};
use crate::wrangler::entries::{entries, kept_note, Entry, Updated};
use crate::wrangler::toml_shape::check_toml_shape;
use std::path::Path;

pub(super) fn update_toml(project: &Project, path: &Path, text: &str) -> Result<Updated> {
    let config = &project.config.config;
    // Parse once with spans for error positions, once for editing.
    let spanned = toml_edit::Document::parse(text.to_string()).map_err(|e| match e.span() {
        Some(span) => Diagnostic::at_offset(path, text, span.start, e.message().trim()),
        None => Diagnostic::file(path, e.message().trim()),
    })?;
    check_toml_shape(project, path, text, &spanned)?;
    let mut doc = spanned.into_mut();
    let mut kept = Vec::new();
    // New top-level entries go before the first environment's tables, where a person would put them.
    let first_env = doc
        .get("env")
        .and_then(|e| e.as_table())
        .and_then(|envs| envs.iter().filter_map(|(_, t)| t.as_table().and_then(|t| t.position())).min());
    let coordinator = project.needs_coordinator();
    let root = doc.as_table_mut();
    set_toml_entries(root, false, &entries(config, None), "", first_env.map(|p| p - 1), &mut kept);
    if coordinator {
        set_toml_coordinator(root, false, first_env.map(|p| p - 1), true);
    }
    for env in project.environments() {
        let envs = doc.entry("env").or_insert_with(|| implicit_table().into());
        // The shape check refused an `env` or environment that is not a table.
        let Some(envs) = envs.as_table_like_mut() else { continue };
        let table = envs.entry(&env).or_insert_with(|| implicit_table().into());
        let (table, inline, anchor, last): (&mut dyn toml_edit::TableLike, bool, Option<isize>, Option<isize>) =
            match table {
                toml_edit::Item::Table(t) => {
                    let (anchor, last) = (t.position(), last_position(t));
                    (t, false, anchor, last)
                }
                toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => {
                    if !entries(config, Some(&env)).is_empty() && !t.contains_key("kv_namespaces") {
                        inline_insert(t, "kv_namespaces", toml_edit::Array::new().into());
                    }
                    if coordinator && !t.contains_key("durable_objects") {
                        inline_insert(t, "durable_objects", toml_edit::InlineTable::new().into());
                    }
                    (t, true, None, None)
                }
                _ => continue,
            };
        set_toml_entries(table, inline, &entries(config, Some(&env)), &format!("env.{env}."), anchor, &mut kept);
        if coordinator {
            // After the environment's last table, where a person would add one.
            set_toml_coordinator(table, inline, last, false);
        }
    }
    Ok(Updated { text: doc.to_string(), kept })
}

fn implicit_table() -> toml_edit::Table {
    let mut t = toml_edit::Table::new();
    t.set_implicit(true);
    t
}

/// Updates or adds `want` in `table`'s `kv_namespaces`: `[[kv_namespaces]]`
/// tables, or an inline array (kept inline), made inline when `inline` and
/// there is none. New tables follow the last existing one, or take position
/// `anchor` when there is none.
fn set_toml_entries(
    table: &mut dyn toml_edit::TableLike,
    inline: bool,
    want: &[Entry],
    within: &str,
    anchor: Option<isize>,
    kept: &mut Vec<String>,
) {
    use toml_edit::{Item, Value};
    if want.is_empty() {
        return;
    }
    let item = table.entry("kv_namespaces").or_insert_with(|| {
        if inline {
            Item::Value(Value::Array(toml_edit::Array::new()))
        } else {
            toml_edit::ArrayOfTables::new().into()
        }
    });
    let binding_is = |t: &dyn toml_edit::TableLike, b: &str| t.get("binding").and_then(|v| v.as_str()) == Some(b);
    match item {
        Item::ArrayOfTables(array) => {
            let anchor = array.iter().filter_map(|t| t.position()).max().or(anchor);
            for e in want {
                let found = array.iter().position(|t| binding_is(t, e.binding));
                match found.and_then(|i| array.get_mut(i)) {
                    Some(t) => {
                        set_toml_fields(t, e);
                        kept.extend(kept_note(e.binding, within, &unowned(t, e)));
                    }
                    None => {
                        let mut t = toml_edit::Table::new();
                        t["binding"] = toml_edit::value(e.binding);
                        t.set_position(anchor);
                        set_toml_fields(&mut t, e);
                        array.push(t);
                    }
                }
            }
        }
        Item::Value(Value::Array(array)) => {
            for e in want {
                let found = array.iter().position(|v| v.as_inline_table().is_some_and(|t| binding_is(t, e.binding)));
                match found.and_then(|i| array.get_mut(i)).and_then(|v| v.as_inline_table_mut()) {
                    Some(t) => {
                        set_inline_fields(t, e);
                        kept.extend(kept_note(e.binding, within, &unowned(t, e)));
                    }
                    None => {
                        let mut t = toml_edit::InlineTable::new();
                        t.insert("binding", e.binding.into());
                        set_toml_fields(&mut t, e);
                        t.fmt();
                        push_like_the_rest(array, Value::InlineTable(t));
                    }
                }
            }
        }
        // The shape check refused anything else.
        _ => {}
    }
}

/// The largest position of `t` and the tables within it.
fn last_position(t: &toml_edit::Table) -> Option<isize> {
    let mut last = t.position();
    for (_, item) in t.iter() {
        match item {
            toml_edit::Item::Table(sub) => last = last.max(last_position(sub)),
            toml_edit::Item::ArrayOfTables(array) => {
                for sub in array.iter() {
                    last = last.max(last_position(sub));
                }
            }
            _ => {}
        }
    }
    last
}

/// The string elements of `t[key]`, an array.
fn toml_strings<'t>(t: &'t dyn toml_edit::TableLike, key: &str) -> Vec<&'t str> {
    t.get(key).and_then(|i| i.as_array()).map(|a| a.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default()
}

/// Whether a migration creates the coordinator's class.
fn toml_creates_coordinator(t: &dyn toml_edit::TableLike) -> bool {
    CREATES.iter().any(|k| toml_strings(t, k).contains(&COORDINATOR_CLASS))
}

/// The coordinator in `table` (the top level, `top`, or an environment): its
/// binding in `durable_objects.bindings` added, or its `class_name` corrected
/// (other keys of a hand-written one kept); its migration added to `migrations`
/// (at the top level, or in an environment that has a list of its own) unless
/// one creates the class, or corrected when kvgen's tag no longer creates it.
/// New `[[..]]` tables take position `anchor`.
fn set_toml_coordinator(table: &mut dyn toml_edit::TableLike, inline: bool, anchor: Option<isize>, top: bool) {
    use toml_edit::{Item, Value};
    let list = |inline: bool| {
        if inline {
            Item::Value(Value::Array(toml_edit::Array::new()))
        } else {
            toml_edit::ArrayOfTables::new().into()
        }
    };
    let durable = table.entry("durable_objects").or_insert_with(|| {
        if inline {
            Item::Value(Value::InlineTable(toml_edit::InlineTable::new()))
        } else {
            implicit_table().into()
        }
    });
    let durable_inline = durable.is_inline_table();
    // The shape check refused a `durable_objects` that is not a table.
    if let Some(durable) = durable.as_table_like_mut() {
        let bindings = durable.entry("bindings").or_insert_with(|| list(durable_inline));
        update_toml_list(
            bindings,
            anchor,
            |_| false,
            |t| t.get("name").and_then(|v| v.as_str()) == Some(COORDINATOR_BINDING),
            |t| set_toml_value(t, "class_name", COORDINATOR_CLASS.into()),
            vec![("name", COORDINATOR_BINDING.into()), ("class_name", COORDINATOR_CLASS.into())],
        );
    }
    if !top && !table.contains_key("migrations") {
        return;
    }
    let classes = || Value::Array(toml_edit::Array::from_iter([COORDINATOR_CLASS]));
    let migrations = table.entry("migrations").or_insert_with(|| list(inline));
    update_toml_list(
        migrations,
        anchor,
        toml_creates_coordinator,
        |t| t.get("tag").and_then(|v| v.as_str()) == Some(COORDINATOR_MIGRATION),
        // Kvgen's migration no longer creating the class: it gets the class again, other classes kept.
        |t| match t.get_mut("new_sqlite_classes").and_then(|i| i.as_array_mut()) {
            Some(list) => list.push(COORDINATOR_CLASS),
            None => set_toml_value(t, "new_sqlite_classes", classes()),
        },
        vec![("tag", COORDINATOR_MIGRATION.into()), ("new_sqlite_classes", classes())],
    );
}

/// In a list of tables (`[[..]]` or an inline array, kept as it is): nothing
/// when an element is `done`, else `fix` on the element that is `found`, else
/// a new element of `fields` at the end.
fn update_toml_list(
    item: &mut toml_edit::Item,
    anchor: Option<isize>,
    done: impl Fn(&dyn toml_edit::TableLike) -> bool,
    found: impl Fn(&dyn toml_edit::TableLike) -> bool,
    fix: impl Fn(&mut dyn toml_edit::TableLike),
    fields: Vec<(&str, toml_edit::Value)>,
) {
    use toml_edit::{Item, Value};
    match item {
        Item::ArrayOfTables(array) => {
            if array.iter().any(|t| done(t)) {
                return;
            }
            if let Some(t) = array.iter_mut().find(|t| found(&**t)) {
                return fix(t);
            }
            let anchor = array.iter().filter_map(|t| t.position()).max().or(anchor);
            let mut t = toml_edit::Table::new();
            for (k, v) in fields {
                t.insert(k, Item::Value(v));
            }
            t.set_position(anchor);
            array.push(t);
        }
        Item::Value(Value::Array(array)) => {
            let tables = || array.iter().filter_map(|v| v.as_inline_table());
            if tables().any(|t| done(t)) {
                return;
            }
            if let Some(t) = array.iter_mut().filter_map(|v| v.as_inline_table_mut()).find(|t| found(&**t)) {
                return fix(t);
            }
            let mut t = toml_edit::InlineTable::new();
            for (k, v) in fields {
                t.insert(k, v);
            }
            t.fmt();
            push_like_the_rest(array, Value::InlineTable(t));
        }
        // The shape check refused anything else.
        _ => {}
    }
}

/// Sets the fields of an inline entry, keys added as [`inline_insert`] adds them.
fn set_inline_fields(t: &mut toml_edit::InlineTable, e: &Entry) {
    let mut fresh = toml_edit::InlineTable::new();
    for (key, value) in [
        ("id", Some(toml_edit::Value::from(e.id))),
        ("preview_id", e.preview_id.map(toml_edit::Value::from)),
        ("remote", e.remote.map(toml_edit::Value::from)),
    ] {
        let Some(value) = value else { continue };
        if t.contains_key(key) {
            set_toml_value(t, key, value);
        } else {
            fresh.insert(key, value);
        }
    }
    for (key, value) in fresh {
        inline_insert(t, &key, value);
    }
}

/// Adds `key` to an inline table before the space before its `}`.
fn inline_insert(t: &mut toml_edit::InlineTable, key: &str, mut value: toml_edit::Value) {
    let last_suffix = t.iter().last().and_then(|(_, v)| v.decor().suffix()).and_then(|s| s.as_str()).map(String::from);
    if let Some(suffix) = last_suffix {
        if let Some((_, last)) = t.iter_mut().last() {
            last.decor_mut().set_suffix("");
        }
        value.decor_mut().set_suffix(suffix);
    }
    t.insert(key, value);
}

/// Appends `v` to an inline array laid out as it is: on a line of its own with
/// the indentation of the element before it (a comment after the last comma
/// staying on its line), or after a space on one line.
fn push_like_the_rest(array: &mut toml_edit::Array, mut v: toml_edit::Value) {
    let trailing = array.trailing().as_str().unwrap_or("").to_string();
    let last_prefix = array.iter().last().and_then(|l| l.decor().prefix()).and_then(|p| p.as_str()).map(String::from);
    let indent = || {
        last_prefix
            .as_deref()
            .and_then(|p| p.rfind('\n').map(|i| p[i + 1..].to_string()))
            .unwrap_or_else(|| "  ".to_string())
    };
    // Without a trailing comma, what comes before `]` is the last element's suffix: it moves to the new one.
    if !array.trailing_comma() {
        let len = array.len();
        if let Some(last) = array.get_mut(len.wrapping_sub(1)) {
            let suffix = last.decor().suffix().and_then(|s| s.as_str()).unwrap_or("").to_string();
            last.decor_mut().set_suffix("");
            let prefix = if suffix.contains('\n') || trailing.contains('\n') {
                format!("\n{}", indent())
            } else {
                " ".to_string()
            };
            v.decor_mut().set_prefix(prefix);
            v.decor_mut().set_suffix(suffix);
            array.push_formatted(v);
            return;
        }
    }
    let prefix = match trailing.rfind('\n') {
        Some(nl) => {
            array.set_trailing(format!("\n{}", &trailing[nl + 1..]));
            format!("{}\n{}", &trailing[..nl], indent())
        }
        None if array.is_empty() => String::new(),
        None => " ".to_string(),
    };
    v.decor_mut().set_prefix(prefix);
    v.decor_mut().set_suffix("");
    array.push_formatted(v);
}

/// The keys of an existing entry kvgen does not set.
fn unowned(t: &dyn toml_edit::TableLike, e: &Entry) -> Vec<String> {
    t.iter().map(|(k, _)| k).filter(|k| !e.owns(k)).map(String::from).collect()
}

fn set_toml_fields(t: &mut dyn toml_edit::TableLike, e: &Entry) {
    set_toml_value(t, "id", e.id.into());
    if let Some(p) = e.preview_id {
        set_toml_value(t, "preview_id", p.into());
    }
    if let Some(r) = e.remote {
        set_toml_value(t, "remote", r.into());
    }
}

/// Sets `key`, keeping the old value's surrounding comments.
fn set_toml_value(t: &mut dyn toml_edit::TableLike, key: &str, value: toml_edit::Value) {
    use toml_edit::Value;
    match t.get_mut(key).and_then(|i| i.as_value_mut()) {
        Some(old) => {
            let same = match (&*old, &value) {
                (Value::String(a), Value::String(b)) => a.value() == b.value(),
                (Value::Boolean(a), Value::Boolean(b)) => a.value() == b.value(),
                _ => false,
            };
            if !same {
                let decor = old.decor().clone();
                *old = value;
                *old.decor_mut() = decor;
            }
        }
        None => {
            t.insert(key, toml_edit::Item::Value(value));
        }
    }
}
