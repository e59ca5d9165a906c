//! The TypeScript types of the records: a Rust type as serde_json writes it,
//! the unit enums as unions, and each model's record and metadata interfaces
//! with their doc comments.
//!
//! Builds on [`super::sources`] and [`super::spelling`]. The key builders
//! use its type helpers ([`last_segment`], [`option_inner`]); it must not
//! depend on them or on the read helpers.

use crate::ir::{Field, Model, RawKind};
use crate::project::Project;
use crate::ts::sources::{JsonFields, Sources};
use crate::ts::spelling::{doc_block, plain, prop, ModelNames};
use std::fmt::Write;

pub(super) fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        syn::Type::Group(g) => last_segment(&g.elem),
        syn::Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

pub(super) fn generic_args(seg: &syn::PathSegment) -> Vec<&syn::Type> {
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `Option<T>` -> `Some(T)`.
pub(super) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let seg = last_segment(ty)?;
    if seg.ident != "Option" {
        return None;
    }
    generic_args(seg).into_iter().next()
}

/// The TypeScript type of a Rust type as serde_json writes it.
pub(super) fn ts_type(ty: &syn::Type, sources: &Sources) -> String {
    match ty {
        syn::Type::Reference(r) => return ts_type(&r.elem, sources),
        syn::Type::Tuple(t) if t.elems.is_empty() => return "null".into(),
        syn::Type::Tuple(t) => {
            return format!("[{}]", t.elems.iter().map(|e| ts_type(e, sources)).collect::<Vec<_>>().join(", "))
        }
        syn::Type::Array(a) => return format!("Array<{}>", ts_type(&a.elem, sources)),
        syn::Type::Slice(a) => return format!("Array<{}>", ts_type(&a.elem, sources)),
        _ => {}
    }
    let Some(seg) = last_segment(ty) else { return "unknown".into() };
    let args = generic_args(seg);
    let arg = |i: usize| args.get(i).map_or("unknown".to_string(), |t| ts_type(t, sources));
    let name = seg.ident.to_string();
    match name.as_str() {
        "String" | "str" | "char" => "string".into(),
        "bool" => "boolean".into(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "f32"
        | "f64" => "number".into(),
        "Option" => format!("{} | null", arg(0)),
        "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "IndexSet" => format!("Array<{}>", arg(0)),
        "HashMap" | "BTreeMap" | "IndexMap" => format!("Record<string, {}>", arg(1)),
        "Box" | "Rc" | "Arc" | "Cow" => arg(args.len().saturating_sub(1)),
        _ if sources.enums.contains_key(&name) => name,
        // kvgen's own flag type (a unit enum of that name in the sources wins, above).
        "Rollout" => "KvRollout".into(),
        _ => "unknown".into(),
    }
}

pub(super) fn wide_int(ty: &syn::Type) -> bool {
    let ty = option_inner(ty).unwrap_or(ty);
    last_segment(ty)
        .is_some_and(|s| matches!(s.ident.to_string().as_str(), "u64" | "i64" | "u128" | "i128" | "usize" | "isize"))
}

pub(super) fn docs(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => {
                    Some(s.value().trim().replace("*/", "*\\/"))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

pub(super) fn field_docs(model: &Model, f: &Field, sources: &Sources) -> Vec<String> {
    let st = sources.structs.get(&model.ident.to_string());
    let mut d = st
        .and_then(|s| s.fields.iter().find(|sf| sf.ident.as_ref() == Some(&f.ident)))
        .map(|sf| docs(&sf.attrs))
        .unwrap_or_default();
    if wide_int(&f.ty) {
        let ty = quote::ToTokens::to_token_stream(&f.ty).to_string().replace(' ', "");
        d.push(format!(
            "`{ty}` in Rust: a JSON number, exact in JavaScript only up to 2^53 - 1 (`Number.MAX_SAFE_INTEGER`)."
        ));
    }
    d
}

pub(super) fn collect_enum_names(ty: &syn::Type, sources: &Sources, out: &mut Vec<String>) {
    if let syn::Type::Reference(r) = ty {
        return collect_enum_names(&r.elem, sources, out);
    }
    if let Some(seg) = last_segment(ty) {
        let name = seg.ident.to_string();
        if sources.enums.contains_key(&name) {
            out.push(name);
        }
        for a in generic_args(seg) {
            collect_enum_names(a, sources, out);
        }
    }
}

/// The unit enums the models use, in the order first met, as unions of their serde names.
pub(super) fn enums(s: &mut String, project: &Project, sources: &Sources) {
    let mut enums: Vec<String> = Vec::new();
    for f in &project.models {
        for field in &f.model.fields {
            let mut names = Vec::new();
            collect_enum_names(&field.ty, sources, &mut names);
            for n in names {
                if !enums.contains(&n) {
                    enums.push(n);
                }
            }
        }
    }
    for name in &enums {
        let variants = &sources.enums[name];
        let union = if variants.is_empty() {
            "never".to_string()
        } else {
            variants
                .iter()
                .map(|v| serde_json::to_string(v).expect("a string serializes"))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let _ =
            writeln!(s, "\n/** The unit enum `{name}`, as serde names its variants. */\nexport type {name} = {union};");
    }
}

/// A model's record interface: its fields as the JSON has them (from
/// [`crate::ts::sources::json_fields`]), with their docs.
pub(super) fn record(s: &mut String, m: &Model, sources: &Sources, n: &ModelNames, (fields, flattened): &JsonFields) {
    let (name, prefix) = (&n.name, &m.prefix.value);
    let st = sources.structs.get(name);
    let mut d = st.map(|st| docs(&st.attrs)).unwrap_or_default();
    let raw = m.raw.map(|r| (plain(&m.fields[r.field].ident), r.kind == RawKind::Text));
    d.push(match &raw {
        None => format!(
            "Binding `{}`, key `{prefix}:{{{}}}`; the value is this record as JSON.",
            m.binding.value,
            plain(&m.id_field().ident)
        ),
        Some((field, text)) => format!(
            "Binding `{}`, key `{prefix}:{{{}}}`; the value is `{field}` itself ({}), the other fields but the id are its metadata.",
            m.binding.value,
            plain(&m.id_field().ident),
            if *text { "text" } else { "bytes" }
        ),
    });
    if !flattened.is_empty() {
        d.push(format!("Flattened fields, not typed here: {}.", flattened.join(", ")));
    }
    let _ = writeln!(s);
    doc_block(s, "", &d);
    let _ = writeln!(s, "export interface {name} {{");
    for (i, json, optional) in fields {
        let f = &m.fields[*i];
        doc_block(s, "  ", &field_docs(m, f, sources));
        let q = if *optional { "?" } else { "" };
        let ty = match m.raw {
            Some(r) if r.field == *i && r.kind == RawKind::Bytes => "ArrayBuffer".to_string(),
            _ => ts_type(&f.ty, sources),
        };
        let _ = writeln!(s, "  {}{q}: {ty};", prop(json));
    }
    if !flattened.is_empty() {
        s.push_str("  [flattened: string]: unknown;\n");
    }
    s.push_str("}\n");
}

/// A model's metadata interfaces: a record's (`{name}RecordMeta`), and its `#[kv(meta)]` projection's (`{name}Meta`).
pub(super) fn metadata(s: &mut String, m: &Model, sources: &Sources, n: &ModelNames) {
    let (name, record_meta) = (&n.name, &n.record_meta);
    let meta_fields: Vec<&Field> = m.fields.iter().filter(|f| f.meta).collect();
    if let Some(r) = m.raw {
        // A raw record's metadata: every field but the id and the value, by its Rust name.
        let _ = writeln!(
            s,
            "\n/** The metadata of a `{name}` record: its fields but the id and the value, and its expiration. */"
        );
        let _ = writeln!(s, "export interface {record_meta} extends KvExpiry {{");
        for (_, f) in m.fields.iter().enumerate().filter(|(i, _)| *i != r.field && *i != m.id) {
            doc_block(s, "  ", &field_docs(m, f, sources));
            let _ = writeln!(s, "  {}: {};", prop(&plain(&f.ident)), ts_type(&f.ty, sources));
        }
        s.push_str("}\n");
        if !meta_fields.is_empty() {
            let _ = writeln!(s, "\n/** The `#[kv(meta)]` projection of a `{name}`. */");
            let _ = writeln!(
                s,
                "export type {name}Meta = Pick<{record_meta}, {}>;",
                meta_fields.iter().map(|f| format!("{:?}", plain(&f.ident))).collect::<Vec<_>>().join(" | ")
            );
        }
    } else if meta_fields.is_empty() {
        let _ = writeln!(s, "\n/** The metadata of a `{name}` record: its expiration. */");
        let _ = writeln!(s, "export interface {record_meta} extends KvExpiry {{}}");
    } else {
        let meta = format!("{name}Meta");
        let _ = writeln!(
            s,
            "\n/** The `#[kv(meta)]` projection of a `{name}`: the metadata of its secondary index entries. */"
        );
        let _ = writeln!(s, "export interface {meta} {{");
        for f in &meta_fields {
            doc_block(s, "  ", &field_docs(m, f, sources));
            let _ = writeln!(s, "  {}: {};", prop(&plain(&f.ident)), ts_type(&f.ty, sources));
        }
        s.push_str("}\n");
        let _ = writeln!(s, "\n/** The metadata of a `{name}` record: its projection and its expiration. */");
        let _ = writeln!(s, "export interface {record_meta} extends {meta}, KvExpiry {{}}");
    }
}
