//! The key builders of the TypeScript: how each key component is encoded
//! ([`KeyKind`], the same bytes as the Rust codec), and per model the record
//! key and prefix, and each index's entry key, prefix, and the `..Of`
//! functions that work them out from a record.
//!
//! Builds on [`super::types`], [`super::sources`] and [`super::spelling`];
//! the codec functions it calls by name are in [`super::runtime`]. The read
//! helpers build on it, so it must not depend on them.

use crate::ir::{Field, IndexKind, Model};
use crate::ts::sources::Sources;
use crate::ts::spelling::{access, param_name, pascal, plain, ModelNames};
use crate::ts::types::{last_segment, option_inner};
use std::fmt::Write;

/// What one key component is, and how the TypeScript encodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KeyKind {
    Str,
    Uint {
        bits: u32,
        width: u32,
    },
    Int {
        bits: u32,
        width: u32,
    },
    /// At a `desc` index position: `MAX - v`, same width.
    UintDesc {
        bits: u32,
        width: u32,
    },
    /// At a `desc` index position: `MAX` minus the ascending form, same width.
    IntDesc {
        bits: u32,
        width: u32,
    },
    Bool,
    Char,
    Enum(String),
    Encoded,
}

impl KeyKind {
    pub(super) fn param_type(&self) -> String {
        match self {
            KeyKind::Str | KeyKind::Char | KeyKind::Encoded => "string".into(),
            KeyKind::Uint { .. } | KeyKind::Int { .. } | KeyKind::UintDesc { .. } | KeyKind::IntDesc { .. } => {
                "KvInt".into()
            }
            KeyKind::Bool => "boolean".into(),
            KeyKind::Enum(name) => name.clone(),
        }
    }

    pub(super) fn encode(&self, arg: &str) -> String {
        match self {
            KeyKind::Str | KeyKind::Enum(_) => format!("kvEncodeStr({arg})"),
            KeyKind::Uint { bits, width } => format!("kvEncodeUint({arg}, {bits}, {width})"),
            KeyKind::Int { bits, width } => format!("kvEncodeInt({arg}, {bits}, {width})"),
            KeyKind::UintDesc { bits, width } => format!("kvEncodeUintDesc({arg}, {bits}, {width})"),
            KeyKind::IntDesc { bits, width } => format!("kvEncodeIntDesc({arg}, {bits}, {width})"),
            KeyKind::Bool => format!("kvEncodeBool({arg})"),
            KeyKind::Char => format!("kvEncodeChar({arg})"),
            KeyKind::Encoded => format!("kvEncoded({arg})"),
        }
    }
}

pub(super) fn key_kind(ty: &syn::Type, sources: &Sources) -> KeyKind {
    let ty = match ty {
        syn::Type::Reference(r) => &*r.elem,
        other => other,
    };
    let ty = option_inner(ty).unwrap_or(ty);
    let Some(seg) = last_segment(ty) else { return KeyKind::Encoded };
    let name = seg.ident.to_string();
    let int = |bits: u32, width: u32, signed: bool| {
        if signed {
            KeyKind::Int { bits, width }
        } else {
            KeyKind::Uint { bits, width }
        }
    };
    match name.as_str() {
        "String" | "str" => KeyKind::Str,
        "bool" => KeyKind::Bool,
        "char" => KeyKind::Char,
        "u8" => int(8, 3, false),
        "u16" => int(16, 5, false),
        "u32" => int(32, 10, false),
        "u64" | "usize" => int(64, 20, false),
        "u128" => int(128, 39, false),
        "i8" => int(8, 3, true),
        "i16" => int(16, 5, true),
        "i32" => int(32, 10, true),
        "i64" | "isize" => int(64, 20, true),
        "i128" => int(128, 39, true),
        _ if sources.enums.contains_key(&name) => KeyKind::Enum(name),
        _ => KeyKind::Encoded,
    }
}

/// A model's id as a key component: how it is encoded, and the parameter that takes it.
pub(super) struct IdKey {
    pub(super) kind: KeyKind,
    /// `id`, `orgId`: the parameter's name.
    pub(super) param: String,
    /// The parameter's TypeScript type.
    pub(super) ty: String,
    /// The id field's Rust name.
    pub(super) field: String,
}

impl IdKey {
    pub(super) fn of(m: &Model, sources: &Sources) -> IdKey {
        let id = m.id_field();
        let kind = key_kind(&id.ty, sources);
        let field = plain(&id.ident);
        IdKey { param: param_name(&field), ty: kind.param_type(), kind, field }
    }
}

/// One index of a model, ready to print.
pub(super) struct Ix<'a> {
    pub(super) kind: IndexKind,
    pub(super) name: &'a str,
    /// `ByEmail`, `ByOrgIdAndHandle`.
    pub(super) stem: String,
    /// (param name, field, key kind, JSON name or None when serde leaves the field out)
    pub(super) parts: Vec<(String, &'a Field, KeyKind, Option<String>)>,
}

impl Ix<'_> {
    /// `kvHead("post", scope) + ".by_owner:"`: what every entry of the index starts with.
    pub(super) fn head(&self, n: &ModelNames) -> String {
        let at = serde_json::to_string(&format!(".{}:", self.name)).expect("a string serializes");
        format!("kvHead({}, scope) + {at}", n.prefix_lit)
    }

    /// The parameters of the first `fields` components (`ownerId: KvInt`).
    pub(super) fn params(&self, fields: usize) -> Vec<String> {
        self.parts[..fields].iter().map(|(p, _, k, _)| format!("{p}: {}", k.param_type())).collect()
    }

    /// The first `fields` components encoded, joined by `:`.
    pub(super) fn encoded(&self, fields: usize) -> String {
        self.parts[..fields].iter().map(|(p, _, k, _)| k.encode(p)).collect::<Vec<_>>().join(" + \":\" + ")
    }

    /// The parameters' names, as arguments.
    pub(super) fn args(&self) -> Vec<&str> {
        self.parts.iter().map(|(p, ..)| p.as_str()).collect()
    }

    /// Whether the entry can be worked out from a record. A component of a type kvgen cannot
    /// encode here (its own `KeyPart`), or one serde leaves out of the JSON, cannot: no `..Of`
    /// function and no read helper then.
    pub(super) fn computable(&self) -> bool {
        self.parts.iter().all(|(_, _, k, json)| *k != KeyKind::Encoded && json.is_some())
    }
}

/// A model's indexes, ready to print; `json_name` gives a field's JSON name (`None` when serde leaves it out).
pub(super) fn indexes<'m>(m: &'m Model, sources: &Sources, json_name: impl Fn(usize) -> Option<String>) -> Vec<Ix<'m>> {
    m.indexes
        .iter()
        .map(|ix| {
            let parts: Vec<_> = ix
                .fields
                .iter()
                .enumerate()
                .map(|(pos, &fi)| {
                    let f = &m.fields[fi];
                    let kind = match key_kind(&f.ty, sources) {
                        KeyKind::Uint { bits, width } if ix.is_desc(pos) => KeyKind::UintDesc { bits, width },
                        KeyKind::Int { bits, width } if ix.is_desc(pos) => KeyKind::IntDesc { bits, width },
                        kind => kind,
                    };
                    (param_name(&plain(&f.ident)), f, kind, json_name(fi))
                })
                .collect();
            let stem = if ix.named {
                format!("By{}", pascal(&ix.name.value))
            } else {
                let fields: Vec<String> = ix.fields.iter().map(|&fi| pascal(&plain(&m.fields[fi].ident))).collect();
                format!("By{}", fields.join("And"))
            };
            Ix { kind: ix.kind, name: &ix.name.value, stem, parts }
        })
        .collect()
}

/// A record's key prefix and key: `postPrefix(scope)`, `postKey(id, scope)`.
pub(super) fn record_keys(s: &mut String, m: &Model, n: &ModelNames, id: &IdKey) {
    let (name, lower, prefix_lit, prefix) = (&n.name, &n.lower, &n.prefix_lit, &m.prefix.value);
    let (id_param, id_ty) = (&id.param, &id.ty);
    let _ = writeln!(s, "\n/** `{{scope/}}{prefix}:` — every `{name}` record key starts with it. */");
    let _ = writeln!(
        s,
        "export function {lower}Prefix(scope?: string): string {{\n  return kvHead({prefix_lit}, scope) + \":\";\n}}"
    );
    let _ = writeln!(s, "\n/** `{{scope/}}{prefix}:{{{}}}` — the key of a `{name}` record. */", id.field);
    let _ = writeln!(
        s,
        "export function {lower}Key({id_param}: {id_ty}, scope?: string): string {{\n  return {lower}Prefix(scope) + {};\n}}",
        id.kind.encode(id_param)
    );
}

/// The key builders of one index: a unique index's entry key, a secondary
/// index's entry prefix and key, and when [`Ix::computable`] their `..Of`
/// functions from a record.
pub(super) fn index_keys(s: &mut String, m: &Model, n: &ModelNames, id: &IdKey, ix: &Ix) {
    let (name, lower, prefix) = (&n.name, &n.lower, &m.prefix.value);
    let (id_kind, id_param, id_ty) = (&id.kind, &id.param, &id.ty);
    let head = ix.head(n);
    let params = ix.params(ix.parts.len());
    let args = ix.args();
    let joined = ix.encoded(ix.parts.len());
    let shape = ix
        .parts
        .iter()
        .map(|(_, f, k, _)| {
            let desc = matches!(k, KeyKind::UintDesc { .. } | KeyKind::IntDesc { .. });
            format!("{{{}{}}}", plain(&f.ident), if desc { " desc" } else { "" })
        })
        .collect::<Vec<_>>()
        .join(":");
    let stem = &ix.stem;
    // From a record: `null` when a component is absent (an `Option` that is `null`: no entry).
    let rec_values: Vec<String> = ix
        .parts
        .iter()
        .map(|(_, _, _, json)| json.as_deref().map_or("undefined".to_string(), |j| access("rec", j)))
        .collect();
    let absent = rec_values.iter().map(|v| format!("{v} == null")).collect::<Vec<_>>().join(" || ");
    match ix.kind {
        IndexKind::Unique => {
            let _ = writeln!(
                s,
                "\n/** `{{scope/}}{prefix}.{}:{shape}` — the unique entry of `{name}` by `{}`; its value is the record's encoded id. */",
                ix.name, ix.name
            );
            let _ = writeln!(
                s,
                "export function {lower}{stem}Key({}, scope?: string): string {{\n  return {head} + {joined};\n}}",
                params.join(", ")
            );
            if !ix.computable() {
                return;
            }
            let _ = writeln!(
                s,
                "\n/** The unique entry of `{name}` by `{}` that `rec` needs; `null` when it needs none. */",
                ix.name
            );
            let _ = writeln!(
                s,
                "export function {lower}{stem}KeyOf(rec: {name}, scope?: string): string | null {{\n  return {absent} ? null : {lower}{stem}Key({}, scope);\n}}",
                rec_values.join(", ")
            );
        }
        IndexKind::Secondary => {
            let _ = writeln!(
                s,
                "\n/** `{{scope/}}{prefix}.{}:{shape}:` — every entry of `{name}` index `{}` with these values starts with it. */",
                ix.name, ix.name
            );
            let _ = writeln!(
                s,
                "export function {lower}{stem}Prefix({}, scope?: string): string {{\n  return {head} + {joined} + \":\";\n}}",
                params.join(", ")
            );
            let _ = writeln!(
                s,
                "\n/** `{{scope/}}{prefix}.{}:{shape}:{{{}}}` — the entry of one `{name}` in index `{}`. */",
                ix.name, id.field, ix.name
            );
            let _ = writeln!(
                s,
                "export function {lower}{stem}Key({}, {id_param}: {id_ty}, scope?: string): string {{\n  return {lower}{stem}Prefix({}, scope) + {};\n}}",
                params.join(", "),
                args.join(", "),
                id_kind.encode(id_param)
            );
            if !ix.computable() {
                return;
            }
            let _ = writeln!(s, "\n/** The prefix of the entries of index `{}` that `rec` is listed under; `null` when it is in none. */", ix.name);
            let _ = writeln!(
                s,
                "export function {lower}{stem}PrefixOf(rec: {name}, scope?: string): string | null {{\n  return {absent} ? null : {lower}{stem}Prefix({}, scope);\n}}",
                rec_values.join(", ")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::types::ts_type;

    #[test]
    fn key_kinds_follow_the_codec() {
        let s = Sources::default();
        let k = |t: syn::Type| key_kind(&t, &s);
        assert_eq!(k(syn::parse_quote!(u64)), KeyKind::Uint { bits: 64, width: 20 });
        assert_eq!(k(syn::parse_quote!(Option<i16>)), KeyKind::Int { bits: 16, width: 5 });
        assert_eq!(k(syn::parse_quote!(isize)), KeyKind::Int { bits: 64, width: 20 });
        assert_eq!(k(syn::parse_quote!(u128)), KeyKind::Uint { bits: 128, width: 39 });
        assert_eq!(k(syn::parse_quote!(std::string::String)), KeyKind::Str);
        assert_eq!(k(syn::parse_quote!(MyId)), KeyKind::Encoded);
        let t = |t: syn::Type| ts_type(&t, &s);
        assert_eq!(t(syn::parse_quote!(Option<Vec<u8>>)), "Array<number> | null");
        assert_eq!(t(syn::parse_quote!(BTreeMap<String, bool>)), "Record<string, boolean>");
        assert_eq!(t(syn::parse_quote!((u8, String))), "[number, string]");
        assert_eq!(t(syn::parse_quote!(kvgen::Rollout)), "KvRollout");
        assert_eq!(t(syn::parse_quote!(Option<Rollout>)), "KvRollout | null");
    }
}
