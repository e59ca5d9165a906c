//! The container attributes of a model, `#[kv(binding = .., prefix = ..,
//! ttl = .., strict, unique(..), index(..), has_many(..), has_one(..))]`,
//! read as written: every mistake reported, nothing checked against the
//! fields yet.
//!
//! Builds on [`super::keys`]. Only [`super`] (lowering) uses it.

use crate::attr::keys::{
    key_name, once, parse_order, refuse_empty_parens, BINDING, BY, CACHE_TTL, CONTAINER_KEYS, HAS_MANY, HAS_ONE, INDEX,
    KV, NAME, PREFIX, STRICT, TTL, UNIQUE,
};
use crate::ctxt::Ctxt;
use crate::ir::{HasKind, IndexKind, Spanned};
use proc_macro2::{Ident, Span};
use syn::spanned::Spanned as _;
use syn::{LitInt, LitStr};

pub(super) struct RawIndex {
    pub(super) kind: IndexKind,
    pub(super) fields: Vec<Ident>,
    /// Per field: the span of its `desc` marker, if it has one.
    pub(super) desc: Vec<Option<Span>>,
    pub(super) name: Option<LitStr>,
    pub(super) strict: Option<Span>,
    pub(super) span: Span,
    /// An entry that was no field name was reported: an empty index is not reported again.
    pub(super) malformed: bool,
}

pub(super) struct RawHas {
    pub(super) kind: HasKind,
    pub(super) target: Option<syn::Path>,
    pub(super) by: Option<Ident>,
    pub(super) name: Option<LitStr>,
    pub(super) span: Span,
}

/// A model's container attributes, as written.
#[derive(Default)]
pub(super) struct Container {
    pub(super) binding: Option<Spanned<String>>,
    pub(super) prefix: Option<Spanned<String>>,
    pub(super) ttl: Option<Spanned<u64>>,
    /// `#[kv(cache_ttl = 300)]`: the cache ttl of the model's stale-accepting reads.
    pub(super) cache_ttl: Option<Spanned<u64>>,
    /// `#[kv(strict)]`: every unique index of the model is strict.
    pub(super) strict: Option<Span>,
    /// `unique(..)` and `index(..)`.
    pub(super) compounds: Vec<RawIndex>,
    /// `has_many(..)` and `has_one(..)`.
    pub(super) has: Vec<RawHas>,
}

/// Reads the container attributes of `input`, reporting every mistake on `cx`.
pub(super) fn parse(cx: &Ctxt, input: &syn::DeriveInput) -> Container {
    let Container { mut binding, mut prefix, mut ttl, mut cache_ttl, mut strict, mut compounds, mut has } =
        Container::default();
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
                if refuse_empty_parens(cx, &meta, "an index needs at least one field: `{key}(a, b)`") {
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
                if refuse_empty_parens(
                    cx,
                    &meta,
                    "name the child model and its foreign key: `{key}(Post, by = author_id)`",
                ) {
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
    Container { binding, prefix, ttl, cache_ttl, strict, compounds, has }
}
