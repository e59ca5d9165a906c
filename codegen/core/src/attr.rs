//! Lowering: `#[derive(KvModel)]` input and its `#[kv(...)]` attributes into the IR.
//!
//! The CLI and build.rs read models with this same code, so a model means the
//! same thing in every front end.

use crate::ctxt::Ctxt;
use crate::ir::{BelongsTo, Field, Has, HasKind, IdGen, Index, IndexKind, Model, Spanned};
use crate::names;
use crate::valid;
use proc_macro2::{Ident, Span};
use syn::spanned::Spanned as _;
use syn::{LitInt, LitStr};

/// The attribute's name: `#[kv(...)]`.
pub const KV: &str = "kv";

// Container keys.
const BINDING: &str = "binding";
const PREFIX: &str = "prefix";
const TTL: &str = "ttl";
const CACHE_TTL: &str = "cache_ttl";
const UNIQUE: &str = "unique";
const INDEX: &str = "index";
const HAS_MANY: &str = "has_many";
const HAS_ONE: &str = "has_one";
const NAME: &str = "name";
const BY: &str = "by";
const STRICT: &str = "strict";
const CONTAINER_KEYS: &str = "binding, prefix, ttl, cache_ttl, strict, unique, index, has_many, has_one";

// Field keys.
const ID: &str = "id";
const BELONGS_TO: &str = "belongs_to";
const META: &str = "meta";
const GENERATE: &str = "generate";
const DESC: &str = "desc";
const RAW: &str = "raw";
const FIELD_KEYS: &str = "id, generate, unique, strict, index, desc, belongs_to, meta, raw";

/// The binding a model lives in when it names none.
pub const DEFAULT_BINDING: &str = "KV";

struct RawIndex {
    kind: IndexKind,
    fields: Vec<Ident>,
    /// Per field: the span of its `desc` marker, if it has one.
    desc: Vec<Option<Span>>,
    name: Option<LitStr>,
    strict: Option<Span>,
    span: Span,
    /// An entry that was no field name was reported: an empty index is not reported again.
    malformed: bool,
}

struct RawHas {
    kind: HasKind,
    target: Option<syn::Path>,
    by: Option<Ident>,
    name: Option<LitStr>,
    span: Span,
}

#[derive(Default)]
struct RawField {
    id: Option<Span>,
    unique: Option<Span>,
    index: Option<Span>,
    strict: Option<Span>,
    belongs_to: Option<syn::Path>,
    meta: bool,
    /// An unknown key was reported (a typo of `unique`, say): what it may have meant is not reported again.
    unknown: bool,
    generate: Option<LitStr>,
    desc: Option<Span>,
    raw: Option<Span>,
}

/// A key seen once already is reported as a duplicate.
fn once<T>(cx: &Ctxt, slot: &mut Option<T>, value: T, key: &str, span: Span) {
    if slot.is_some() {
        cx.error(span, format!("duplicate kvgen attribute `{key}`"));
    } else {
        *slot = Some(value);
    }
}

/// `true` for `key()`, which syn's nested-meta parser would reject with a vaguer message.
fn empty_parens(meta: &syn::meta::ParseNestedMeta) -> bool {
    match meta.input.fork().parse::<proc_macro2::Group>() {
        Ok(g) => g.delimiter() == proc_macro2::Delimiter::Parenthesis && g.stream().is_empty(),
        Err(_) => false,
    }
}

fn key_name(path: &syn::Path) -> String {
    quote::ToTokens::to_token_stream(path).to_string().replace(' ', "")
}

/// The order written after a field of a compound index: `desc` (its span),
/// `asc` or nothing (`None`).
fn parse_order(cx: &Ctxt, inner: &syn::meta::ParseNestedMeta) -> syn::Result<Option<Span>> {
    if !inner.input.peek(syn::Ident) {
        return Ok(None);
    }
    let order: Ident = inner.input.parse()?;
    if order == DESC {
        Ok(Some(order.span()))
    } else {
        if order != "asc" {
            cx.error(
                order.span(),
                format!("unknown order `{order}` after `{}`; expected `desc` or `asc`", key_name(&inner.path)),
            );
        }
        Ok(None)
    }
}

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

    // Container attributes.
    let mut binding: Option<Spanned<String>> = None;
    let mut prefix: Option<Spanned<String>> = None;
    let mut ttl: Option<Spanned<u64>> = None;
    let mut cache_ttl: Option<Spanned<u64>> = None;
    let mut strict: Option<Span> = None;
    let mut compounds: Vec<RawIndex> = Vec::new();
    let mut has: Vec<RawHas> = Vec::new();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident(KV)) {
        let parsed = attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            if meta.path.is_ident(BINDING) {
                // #[kv(binding = "APP")]
                let lit: LitStr = meta.value()?.parse()?;
                once(cx, &mut binding, Spanned::new(lit.value(), lit.span()), BINDING, span);
            } else if meta.path.is_ident(PREFIX) {
                // #[kv(prefix = "user")]
                let lit: LitStr = meta.value()?.parse()?;
                once(cx, &mut prefix, Spanned::new(lit.value(), lit.span()), PREFIX, span);
            } else if meta.path.is_ident(TTL) {
                // #[kv(ttl = 3600)]
                let lit: LitInt = meta.value()?.parse()?;
                once(cx, &mut ttl, Spanned::new(lit.base10_parse()?, lit.span()), TTL, span);
            } else if meta.path.is_ident(CACHE_TTL) {
                // #[kv(cache_ttl = 300)]
                let lit: LitInt = meta.value()?.parse()?;
                once(cx, &mut cache_ttl, Spanned::new(lit.base10_parse()?, lit.span()), CACHE_TTL, span);
            } else if meta.path.is_ident(STRICT) {
                // #[kv(strict)]: every unique index of the model is strict.
                once(cx, &mut strict, span, STRICT, span);
            } else if meta.path.is_ident(UNIQUE) || meta.path.is_ident(INDEX) {
                // #[kv(unique(a, b, name = "x"))]   #[kv(index(a, b, name = "x"))]
                let kind = if meta.path.is_ident(UNIQUE) { IndexKind::Unique } else { IndexKind::Secondary };
                let mut raw = RawIndex {
                    kind,
                    fields: Vec::new(),
                    desc: Vec::new(),
                    name: None,
                    strict: None,
                    span,
                    malformed: false,
                };
                if empty_parens(&meta) {
                    cx.error(span, format!("an index needs at least one field: `{}(a, b)`", key_name(&meta.path)));
                    let _ = meta.input.parse::<proc_macro2::Group>();
                    return Ok(());
                }
                meta.parse_nested_meta(|inner| {
                    if inner.path.is_ident(NAME) {
                        let lit: LitStr = inner.value()?.parse()?;
                        once(cx, &mut raw.name, lit, NAME, inner.path.span());
                    } else if inner.path.is_ident(STRICT) {
                        // `unique(a, b, strict)`: a flag, not a field.
                        let span = inner.path.span();
                        if kind == IndexKind::Secondary {
                            cx.error(span, "only a unique index can be `strict`");
                        }
                        once(cx, &mut raw.strict, span, STRICT, span);
                    } else if let Some(ident) = inner.path.get_ident() {
                        raw.fields.push(ident.clone());
                        // `index(aggregate, at desc)`: an order after the field.
                        raw.desc.push(parse_order(cx, &inner)?);
                    } else {
                        cx.error_spanned(&inner.path, "expected a field name");
                        raw.malformed = true;
                    }
                    Ok(())
                })?;
                compounds.push(raw);
            } else if meta.path.is_ident(HAS_MANY) || meta.path.is_ident(HAS_ONE) {
                // #[kv(has_many(Post, by = author_id, name = "posts"))]   #[kv(has_one(Profile, by = user_id))]
                let kind = if meta.path.is_ident(HAS_MANY) { HasKind::Many } else { HasKind::One };
                let mut raw = RawHas { kind, target: None, by: None, name: None, span };
                if empty_parens(&meta) {
                    cx.error(
                        span,
                        format!(
                            "name the child model and its foreign key: `{}(Post, by = author_id)`",
                            key_name(&meta.path)
                        ),
                    );
                    let _ = meta.input.parse::<proc_macro2::Group>();
                    return Ok(());
                }
                meta.parse_nested_meta(|inner| {
                    if inner.path.is_ident(BY) {
                        let by: Ident = inner.value()?.parse()?;
                        once(cx, &mut raw.by, by, BY, inner.path.span());
                    } else if inner.path.is_ident(NAME) {
                        let lit: LitStr = inner.value()?.parse()?;
                        once(cx, &mut raw.name, lit, NAME, inner.path.span());
                    } else if inner.input.peek(syn::Token![=]) {
                        cx.error_spanned(
                            &inner.path,
                            format!("unknown kvgen relation key `{}`; expected `by` or `name`", key_name(&inner.path)),
                        );
                        let _: syn::Expr = inner.value()?.parse()?;
                    } else if raw.target.is_some() {
                        cx.error_spanned(&inner.path, "a relation names one model");
                    } else {
                        raw.target = Some(inner.path.clone());
                    }
                    Ok(())
                })?;
                has.push(raw);
            } else {
                cx.error(
                    span,
                    format!(
                        "unknown kvgen container attribute `{}`; expected one of: {CONTAINER_KEYS}",
                        key_name(&meta.path)
                    ),
                );
                // Skip the value so parsing goes on to the next key.
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let _ = meta.parse_nested_meta(|m| {
                        let _ = m.input.parse::<proc_macro2::TokenStream>();
                        Ok(())
                    });
                }
            }
            Ok(())
        });
        if let Err(e) = parsed {
            cx.push(e);
        }
    }

    // Field attributes.
    let mut ir_fields = Vec::new();
    let mut raws = Vec::new();
    for field in fields.into_iter().flatten() {
        let Some(ident) = field.ident.clone() else { continue };
        let mut raw = RawField::default();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident(KV)) {
            let parsed = attr.parse_nested_meta(|meta| {
                let span = meta.path.span();
                if meta.path.is_ident(ID) {
                    // #[kv(id)]
                    once(cx, &mut raw.id, span, ID, span);
                } else if meta.path.is_ident(UNIQUE) {
                    // #[kv(unique)]
                    once(cx, &mut raw.unique, span, UNIQUE, span);
                } else if meta.path.is_ident(INDEX) {
                    // #[kv(index)]
                    once(cx, &mut raw.index, span, INDEX, span);
                } else if meta.path.is_ident(STRICT) {
                    // #[kv(unique, strict)]
                    once(cx, &mut raw.strict, span, STRICT, span);
                } else if meta.path.is_ident(BELONGS_TO) {
                    // #[kv(belongs_to = User)]
                    let path: syn::Path = meta.value()?.parse()?;
                    once(cx, &mut raw.belongs_to, path, BELONGS_TO, span);
                } else if meta.path.is_ident(GENERATE) {
                    // #[kv(id, generate = "ulid")]
                    let lit: LitStr = meta.value()?.parse()?;
                    once(cx, &mut raw.generate, lit, GENERATE, span);
                } else if meta.path.is_ident(DESC) {
                    // #[kv(index, desc)]
                    once(cx, &mut raw.desc, span, DESC, span);
                } else if meta.path.is_ident(RAW) {
                    // #[kv(raw)]
                    once(cx, &mut raw.raw, span, RAW, span);
                } else if meta.path.is_ident(META) {
                    // #[kv(meta)]
                    if raw.meta {
                        cx.error(span, format!("duplicate kvgen attribute `{META}`"));
                    }
                    raw.meta = true;
                } else {
                    raw.unknown = true;
                    cx.error(
                        span,
                        format!(
                            "unknown kvgen field attribute `{}`; expected one of: {FIELD_KEYS}",
                            key_name(&meta.path)
                        ),
                    );
                    if meta.input.peek(syn::Token![=]) {
                        let _: syn::Expr = meta.value()?.parse()?;
                    }
                }
                Ok(())
            });
            if let Err(e) = parsed {
                cx.push(e);
            }
        }
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
