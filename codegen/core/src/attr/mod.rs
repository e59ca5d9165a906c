//! Lowering: `#[derive(KvModel)]` input and its `#[kv(...)]` attributes into the IR.
//!
//! The CLI and build.rs read models with this same code, so a model means the
//! same thing in every front end.
//!
//! Its parts, each building only on those listed before it: `keys` (the
//! attribute's keys and parsing helpers), `container` and `field` (the
//! two kinds of attribute, read as written). This file checks what they read
//! against each other and builds the [`Model`]; [`crate::valid`] holds the
//! checks that need the whole model. The derive, the CLI and build.rs call
//! [`lower`]; nothing in `attr` depends on this file.

mod container;
mod field;
pub(crate) mod keys;

pub use keys::KV;

use crate::attr::container::Container;
use crate::attr::field::RawField;
use crate::attr::keys::{INDEX, META, UNIQUE};
use crate::ctxt::Ctxt;
use crate::ir::{BelongsTo, Field, Has, HasKind, IdGen, Index, IndexKind, Model, Spanned};
use crate::names;
use crate::valid;
use proc_macro2::{Ident, Span};
use syn::spanned::Spanned as _;

/// The binding a model lives in when it names none.
pub const DEFAULT_BINDING: &str = "KV";

/// Lowers a derive input into a model, reporting every mistake at once.
pub fn lower(input: &syn::DeriveInput) -> syn::Result<Model> {
    let cx = Ctxt::new();
    let model = lower_with(&cx, input);
    cx.check()?;
    Ok(model.expect("a model is built whenever no error was recorded"))
}

fn lower_with(cx: &Ctxt, input: &syn::DeriveInput) -> Option<Model> {
    let fields = match &input.data {
        syn::Data::Struct(s) => match &s.fields {
            syn::Fields::Named(named) => Some(&named.named),
            other => {
                cx.error_spanned(other, "KvModel needs a struct with named fields");
                None
            }
        },
        syn::Data::Enum(e) => {
            cx.error(
                e.enum_token.span,
                "KvModel can only be derived for a struct; derive KeyPart for enums used in keys",
            );
            None
        }
        syn::Data::Union(u) => {
            cx.error(u.union_token.span, "KvModel can only be derived for a struct");
            None
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned(&input.generics, "KvModel does not support generic structs");
    }

    let Container { binding, prefix, ttl, cache_ttl, strict, compounds, has } = container::parse(cx, input);

    // Field attributes.
    let mut ir_fields = Vec::new();
    let mut raws = Vec::new();
    for field in fields.into_iter().flatten() {
        let Some(ident) = field.ident.clone() else { continue };
        let raw = field::parse(cx, field);
        ir_fields.push(Field { ident, ty: field.ty.clone(), meta: raw.meta });
        raws.push(raw);
    }

    // Exactly one id field.
    let ids: Vec<(usize, Span)> = raws.iter().enumerate().filter_map(|(i, r)| r.id.map(|s| (i, s))).collect();
    if fields.is_some() && ids.is_empty() {
        cx.error(
            input.ident.span(),
            format!("`{}` has no id: mark the field that identifies a record with `#[kv(id)]`", input.ident),
        );
    }
    for (_, span) in ids.iter().skip(1) {
        cx.error(*span, "a model has exactly one `#[kv(id)]` field; this is the second");
    }

    // A generated id: on the id field, a String, a known generator.
    let mut generate = None;
    for (raw, field) in raws.iter().zip(&ir_fields) {
        let Some(lit) = &raw.generate else { continue };
        if raw.id.is_none() {
            cx.error(lit.span(), "`generate` fills the id: put it on the `#[kv(id)]` field");
            continue;
        }
        match IdGen::ALL.iter().find(|(name, _)| *name == lit.value()) {
            Some((_, g)) => generate = Some(*g),
            None => cx.error(
                lit.span(),
                format!("unknown id generator `{}`; expected one of: ulid, uuid_v7, uuid_v4", lit.value()),
            ),
        }
        let is_string = matches!(&field.ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("String"));
        if !is_string {
            cx.error_spanned(
                &field.ty,
                format!(
                    "a generated id is a `String`; this id is `{}`",
                    quote::ToTokens::to_token_stream(&field.ty).to_string().replace(' ', "")
                ),
            );
        }
    }

    // Field-level indexes: `unique`, `index`, and the index `belongs_to` implies.
    let mut indexes = Vec::new();
    let mut belongs_to = Vec::new();
    for (i, (raw, field)) in raws.iter().zip(&ir_fields).enumerate() {
        let name = Spanned::new(names::text(&field.ident), field.ident.span());
        if raw.id.is_some() {
            // The id is unique already: an index over it would only cost writes.
            for (key, span) in [(UNIQUE, raw.unique), (INDEX, raw.index)] {
                if let Some(span) = span {
                    cx.error(span, format!("the id is unique already; remove `{key}`"));
                }
            }
            if let Some(target) = &raw.belongs_to {
                cx.error_spanned(target, "the id cannot be a foreign key; add a separate field with `belongs_to`");
            }
        }
        if let (Some(_), Some(span)) = (raw.unique, raw.index) {
            // A field is either unique or indexed: a unique index answers both kinds of lookup.
            cx.error(span, "a field is either `unique` or `index`, not both");
        }
        if let (Some(span), None, false) = (raw.strict, raw.unique, raw.unknown) {
            cx.error(span, "`strict` applies to a unique field: `#[kv(unique, strict)]`");
        }
        if let Some(span) = raw.desc {
            if raw.belongs_to.is_some() {
                // A foreign key is indexed, and that index is the parent's loaders': one error says so.
                cx.error(span, "a foreign key's index is read by its parent's loaders: it cannot be `desc`");
            } else {
                valid::check_desc(cx, &field.ty, span, raw.unique.is_some() || raw.index.is_some());
            }
        }
        let desc = vec![raw.desc.is_some()];
        if raw.unique.is_some() {
            let strict = raw.strict.is_some() || strict.is_some();
            indexes.push(Index { name, named: false, kind: IndexKind::Unique, fields: vec![i], strict, desc });
        } else if raw.index.is_some() || (raw.belongs_to.is_some() && raw.id.is_none()) {
            let kind = IndexKind::Secondary;
            indexes.push(Index { name, named: false, kind, fields: vec![i], strict: false, desc });
        }
        if let (Some(target), None) = (&raw.belongs_to, raw.id) {
            let fname = names::text(&field.ident);
            let rel = fname.strip_suffix("_id").filter(|s| !s.is_empty()).unwrap_or(&fname);
            // `__id` leaves `_`, which names nothing: the relation keeps the field's name.
            let name = names::try_ident(rel, field.ident.span()).unwrap_or_else(|| field.ident.clone());
            belongs_to.push(BelongsTo { field: i, target: target.clone(), name });
        }
    }

    // Container-level compound indexes.
    for raw in compounds {
        let mut positions = Vec::new();
        for f in &raw.fields {
            match ir_fields.iter().position(|x| x.ident == *f) {
                // Every field of an index must exist, once.
                Some(p) if positions.contains(&p) => {
                    cx.error(f.span(), format!("field `{f}` is listed twice in this index"))
                }
                Some(p) => positions.push(p),
                None => cx.error(f.span(), format!("no field `{f}` in `{}`", input.ident)),
            }
        }
        for (f, span) in raw.fields.iter().zip(&raw.desc) {
            if let (Some(span), Some(field)) = (span, ir_fields.iter().find(|x| x.ident == *f)) {
                valid::check_desc(cx, &field.ty, *span, true);
            }
        }
        if raw.fields.is_empty() {
            if !raw.malformed {
                cx.error(raw.span, "an index needs at least one field: `unique(a, b)`");
            }
            continue;
        }
        let (name, named) = match &raw.name {
            Some(lit) => (Spanned::new(lit.value(), lit.span()), true),
            None => {
                let joined = raw.fields.iter().map(names::text).collect::<Vec<_>>().join("_");
                (Spanned::new(joined, raw.span), false)
            }
        };
        if positions.len() == raw.fields.len() {
            let strict = raw.kind == IndexKind::Unique && (raw.strict.is_some() || strict.is_some());
            let desc = raw.desc.iter().map(Option::is_some).collect();
            indexes.push(Index { name, named, kind: raw.kind, fields: positions, strict, desc });
        }
    }

    let raw_field = raw_value(cx, &raws, &ir_fields, &indexes);

    if let Some(span) = strict {
        if fields.is_some() && !indexes.iter().any(|i| i.kind == IndexKind::Unique) {
            cx.error(span, "`strict` makes the model's unique indexes strict, and it has none");
        }
    }

    // Parent-side relations.
    let mut has_ir = Vec::new();
    for raw in has {
        let Some(target) = raw.target else {
            cx.error(raw.span, "name the child model: `has_many(Post, by = author_id)`");
            continue;
        };
        let Some(by) = raw.by else {
            cx.error_spanned(&target, "name the child's foreign-key field: `by = field`");
            continue;
        };
        let name = match &raw.name {
            Some(lit) => match syn::parse_str::<Ident>(&lit.value()) {
                Ok(mut i) => {
                    i.set_span(lit.span());
                    Some(i)
                }
                Err(_) => {
                    cx.error(lit.span(), "a relation name must be a Rust identifier");
                    None
                }
            },
            None => {
                let child = target.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                let snake = names::snake(&child);
                let name = if raw.kind == HasKind::Many { names::plural(&snake) } else { snake };
                let ident = names::try_ident(&name, target.span());
                if ident.is_none() {
                    cx.error_spanned(
                        &target,
                        format!("`{name}`, the default name of this relation, is not a Rust identifier; give one with `name = \"...\"`"),
                    );
                }
                ident
            }
        };
        if let Some(name) = name {
            has_ir.push(Has { kind: raw.kind, target, by, name });
        }
    }

    let ident = input.ident.clone();
    let prefix = prefix.unwrap_or_else(|| Spanned::new(names::snake(&ident.to_string()), ident.span()));
    let binding = binding.unwrap_or_else(|| Spanned::new(DEFAULT_BINDING.to_string(), ident.span()));
    let model = Model {
        ident,
        vis: input.vis.clone(),
        prefix,
        binding,
        ttl,
        cache_ttl,
        fields: ir_fields,
        id: ids.first().map_or(0, |(i, _)| *i),
        indexes,
        belongs_to,
        has: has_ir,
        generate,
        raw: raw_field,
    };
    valid::check_container(cx, &model);
    if fields.is_some() && !ids.is_empty() {
        valid::check_model(cx, &model);
    }
    (!cx.has_errors()).then_some(model)
}

/// The `#[kv(raw)]` field: at most one, not the id, a `String` or a
/// `Vec<u8>`, on a model without indexes (a raw value is read one key at a
/// time; index upkeep reads records in bulk, which KV does as text only).
fn raw_value(cx: &Ctxt, raws: &[RawField], fields: &[Field], indexes: &[Index]) -> Option<crate::ir::Raw> {
    use crate::ir::Raw;
    let mut found: Option<Raw> = None;
    for (i, (raw, field)) in raws.iter().zip(fields).enumerate() {
        let Some(span) = raw.raw else { continue };
        if found.is_some() {
            cx.error(span, "a model has at most one `#[kv(raw)]` field; this is the second");
            continue;
        }
        if raw.id.is_some() {
            cx.error(span, "the id is the key; `raw` marks another field, whose bytes are the value");
            continue;
        }
        let others = [(UNIQUE, raw.unique), (INDEX, raw.index), (META, raw.meta.then_some(span))];
        if let Some((key, _)) = others.iter().find(|(_, s)| s.is_some()) {
            cx.error(span, format!("a `raw` field is the value itself; it cannot also be `{key}`"));
            continue;
        }
        let ty = quote::ToTokens::to_token_stream(&field.ty).to_string().replace(' ', "");
        let Some(kind) = raw_kind(&ty) else {
            cx.error_spanned(&field.ty, format!("a `raw` field is a `String` or a `Vec<u8>`; this one is `{ty}`"));
            continue;
        };
        if let Some(index) = indexes.first() {
            cx.error(
                span,
                format!(
                    "a model with a `raw` value has no indexes (this one has `{}`): its records are read one key at a \
                     time, and index upkeep reads them in bulk, which Workers KV does as text only",
                    index.name.value
                ),
            );
            continue;
        }
        found = Some(Raw { field: i, kind });
    }
    found
}

/// What a `raw` field of type `ty` (written without spaces) holds, or `None`
/// when it cannot be one.
pub fn raw_kind(ty: &str) -> Option<crate::ir::RawKind> {
    match ty {
        "String" | "std::string::String" | "::std::string::String" => Some(crate::ir::RawKind::Text),
        "Vec<u8>" | "std::vec::Vec<u8>" | "::std::vec::Vec<u8>" => Some(crate::ir::RawKind::Bytes),
        _ => None,
    }
}
