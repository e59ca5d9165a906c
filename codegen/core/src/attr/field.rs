//! The attributes of one field of a model, `#[kv(id, generate = .., unique,
//! strict, index, desc, belongs_to = .., meta, raw)]`, read as written:
//! every mistake reported, the rules between fields checked later.
//!
//! Builds on [`super::keys`]. Only [`super`] (lowering) uses it.

use crate::attr::keys::{
    key_name, once, BELONGS_TO, DESC, FIELD_KEYS, GENERATE, ID, INDEX, KV, META, RAW, STRICT, UNIQUE,
};
use crate::ctxt::Ctxt;
use proc_macro2::Span;
use syn::spanned::Spanned as _;
use syn::LitStr;

#[derive(Default)]
pub(super) struct RawField {
    pub(super) id: Option<Span>,
    pub(super) unique: Option<Span>,
    pub(super) index: Option<Span>,
    pub(super) strict: Option<Span>,
    pub(super) belongs_to: Option<syn::Path>,
    pub(super) meta: bool,
    /// An unknown key was reported (a typo of `unique`, say): what it may have meant is not reported again.
    pub(super) unknown: bool,
    pub(super) generate: Option<LitStr>,
    pub(super) desc: Option<Span>,
    pub(super) raw: Option<Span>,
}

/// Reads the `#[kv(..)]` attributes of `field`, reporting every mistake on `cx`.
pub(super) fn parse(cx: &Ctxt, field: &syn::Field) -> RawField {
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
                    format!("unknown kvgen field attribute `{}`; expected one of: {FIELD_KEYS}", key_name(&meta.path)),
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
    raw
}
