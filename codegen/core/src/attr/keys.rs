//! The keys of `#[kv(..)]` (one name per key, used in parsing and in every
//! message about it), and the small parsing helpers both kinds of
//! attribute use: a key given twice, `key()`, a key's name, an order.
//!
//! Builds on [`crate::ctxt`] alone; [`super::container`], [`super::field`]
//! and [`super`] build on it.

use crate::ctxt::Ctxt;
use proc_macro2::{Ident, Span};
use syn::spanned::Spanned as _;

/// The attribute's name: `#[kv(...)]`.
pub const KV: &str = "kv";

// Container keys.
pub(super) const BINDING: &str = "binding";
pub(super) const PREFIX: &str = "prefix";
pub(super) const TTL: &str = "ttl";
pub(super) const CACHE_TTL: &str = "cache_ttl";
pub(super) const UNIQUE: &str = "unique";
pub(super) const INDEX: &str = "index";
pub(super) const HAS_MANY: &str = "has_many";
pub(super) const HAS_ONE: &str = "has_one";
pub(super) const NAME: &str = "name";
pub(super) const BY: &str = "by";
pub(super) const STRICT: &str = "strict";
pub(super) const CONTAINER_KEYS: &str = "binding, prefix, ttl, cache_ttl, strict, unique, index, has_many, has_one";

// Field keys.
pub(super) const ID: &str = "id";
pub(super) const BELONGS_TO: &str = "belongs_to";
pub(super) const META: &str = "meta";
pub(super) const GENERATE: &str = "generate";
pub(super) const DESC: &str = "desc";
pub(super) const RAW: &str = "raw";
pub(super) const FIELD_KEYS: &str = "id, generate, unique, strict, index, desc, belongs_to, meta, raw";

/// A key seen once already is reported as a duplicate.
pub(super) fn once<T>(cx: &Ctxt, slot: &mut Option<T>, value: T, key: &str, span: Span) {
    if slot.is_some() {
        cx.error(span, format!("duplicate kvgen attribute `{key}`"));
    } else {
        *slot = Some(value);
    }
}

/// `true` for `key()`, which syn's nested-meta parser would reject with a
/// vaguer message: `example` (how to write `key(..)`) is reported at the
/// key instead, and the empty parentheses are skipped.
pub(super) fn refuse_empty_parens(cx: &Ctxt, meta: &syn::meta::ParseNestedMeta, example: &str) -> bool {
    let empty = match meta.input.fork().parse::<proc_macro2::Group>() {
        Ok(g) => g.delimiter() == proc_macro2::Delimiter::Parenthesis && g.stream().is_empty(),
        Err(_) => false,
    };
    if empty {
        cx.error(meta.path.span(), example.replace("{key}", &key_name(&meta.path)));
        let _ = meta.input.parse::<proc_macro2::Group>();
    }
    empty
}

pub(super) fn key_name(path: &syn::Path) -> String {
    quote::ToTokens::to_token_stream(path).to_string().replace(' ', "")
}

/// The order written after a field of a compound index: `desc` (its span),
/// `asc` or nothing (`None`).
pub(super) fn parse_order(cx: &Ctxt, inner: &syn::meta::ParseNestedMeta) -> syn::Result<Option<Span>> {
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
