//! Checks of one model, each at the token it is about: one small `check_*`
//! function per rule, composed by [`check_container`] and [`check_model`]
//! (`attr::lower` runs both). Checks made while attributes are read (unknown
//! keys, duplicates, conflicting keys on a field) stay in `attr`; checks
//! across models (relation targets, shared prefixes) are the CLI's, in
//! `kvgen-codegen`'s `project`.

use crate::ctxt::Ctxt;
use crate::ir::{HasKind, Model};
use crate::names;
use proc_macro2::Span;
use std::collections::HashMap;

/// The least ttl Workers KV accepts, in seconds.
pub const MIN_TTL: u64 = 60;

/// The greatest ttl kvgen accepts, in seconds: 2^31 - 1, the largest
/// `expirationTtl` Workers KV accepts (measured on local workerd). The
/// runtime crate keeps an equal copy in its limits (a test checks).
pub const MAX_TTL_SECS: u64 = 2_147_483_647;

/// The least `cacheTtl` Workers KV accepts, in seconds (30 since January
/// 2026; local workerd refuses less). The runtime crate keeps an equal copy
/// in its limits (`MIN_CACHE_TTL_SECS`).
pub const MIN_CACHE_TTL: u64 = 30;

/// Whether `s` is a valid key prefix: `[a-z0-9_-]+`.
pub fn valid_prefix(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Whether `s` is a valid index name: `[a-z0-9_]+`.
pub fn valid_index_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `s` is a valid binding name: a JavaScript identifier of ASCII letters, digits and `_`.
pub fn valid_binding(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Why a type cannot be an id, or `None` when it can (or may: user types are
/// checked by the compiler through `KeyPart`).
pub fn unsupported_id_type(ty: &syn::Type) -> Option<&'static str> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?.ident.to_string();
            match last.as_str() {
                "f32" | "f64" => Some("floating-point numbers have no exact, ordered key form"),
                "Option" => Some("an id cannot be optional"),
                "Vec" | "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" | "VecDeque" => {
                    Some("collections cannot be key components")
                }
                _ => None,
            }
        }
        syn::Type::Paren(p) => unsupported_id_type(&p.elem),
        syn::Type::Group(g) => unsupported_id_type(&g.elem),
        syn::Type::Reference(_) => Some("a model owns its id; use an owned type"),
        _ => Some("tuples, arrays, slices, pointers and function types cannot be key components"),
    }
}

/// Checks of the container attributes, which hold whatever else is wrong.
pub fn check_container(cx: &Ctxt, model: &Model) {
    check_prefix(cx, model);
    check_binding(cx, model);
    check_ttl(cx, model);
    check_cache_ttl(cx, model);
    check_model_name(cx, model);
}

/// Checks that need the whole model, run once it has an id.
pub fn check_model(cx: &Ctxt, model: &Model) {
    check_id_type(cx, model);
    // Method names are checked only when index names are distinct: a duplicate
    // index name would report every method of the index a second time.
    if check_index_names(cx, model) {
        check_method_names(cx, model);
    }
}

/// A prefix is `[a-z0-9_-]+`, so it can never contain the `:`, `.` or `/` separators.
pub fn check_prefix(cx: &Ctxt, model: &Model) {
    if !valid_prefix(&model.prefix.value) {
        cx.error(
            model.prefix.span,
            format!("invalid prefix `{}`: use lowercase letters, digits, `_` and `-`", model.prefix.value),
        );
    }
}

/// A binding is a JavaScript identifier: wrangler exposes it as `env.NAME`.
pub fn check_binding(cx: &Ctxt, model: &Model) {
    if !valid_binding(&model.binding.value) {
        cx.error(
            model.binding.span,
            format!(
                "invalid binding `{}`: use letters, digits and `_`, not starting with a digit",
                model.binding.value
            ),
        );
    }
}

/// KV refuses an expiration_ttl under 60 seconds; a huge one overflows expiration times.
pub fn check_ttl(cx: &Ctxt, model: &Model) {
    if let Some(ttl) = &model.ttl {
        if ttl.value < MIN_TTL {
            cx.error(
                ttl.span,
                format!("ttl must be at least {MIN_TTL} seconds (the Workers KV minimum), not {}", ttl.value),
            );
        } else if ttl.value > MAX_TTL_SECS {
            cx.error(ttl.span, format!("ttl must be at most {MAX_TTL_SECS} seconds, not {}", ttl.value));
        }
    }
}

/// KV refuses a read's cacheTtl under 30 seconds.
pub fn check_cache_ttl(cx: &Ctxt, model: &Model) {
    if let Some(ttl) = &model.cache_ttl {
        if ttl.value < MIN_CACHE_TTL {
            cx.error(
                ttl.span,
                format!(
                    "cache_ttl must be at least {MIN_CACHE_TTL} seconds (the Workers KV minimum), not {}",
                    ttl.value
                ),
            );
        }
    }
}

/// Loader parameters and the `Env` accessor are named after the model in snake_case.
pub fn check_model_name(cx: &Ctxt, model: &Model) {
    if crate::expand::repo::param_idents(model).is_none() {
        cx.error(
            model.ident.span(),
            format!(
                "kvgen names generated items after the model in snake_case, and `{}` gives `{}`, which is not a Rust identifier; rename the struct",
                model.ident,
                names::snake(&names::text(&model.ident))
            ),
        );
    }
}

/// An id is a key component: it needs an exact, injective encoding.
pub fn check_id_type(cx: &Ctxt, model: &Model) {
    let id = model.id_field();
    if let Some(why) = unsupported_id_type(&id.ty) {
        cx.error_spanned(
            &id.ty,
            format!(
                "unsupported id type `{}`: {why}; use a String, an integer, bool, a unit enum deriving KeyPart, or a type implementing kvgen::KeyPart",
                quote::ToTokens::to_token_stream(&id.ty).to_string().replace(' ', "")
            ),
        );
    }
}

/// Index names are `[a-z0-9_]+` and distinct: each is a key segment of its
/// own. `false` when two indexes share a name.
pub fn check_index_names(cx: &Ctxt, model: &Model) -> bool {
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let mut distinct = true;
    for index in &model.indexes {
        let name = index.name.value.as_str();
        if index.named && !valid_index_name(name) {
            cx.error(index.name.span, format!("invalid index name `{name}`: use lowercase letters, digits and `_`"));
        }
        if seen.insert(name, ()).is_some() {
            distinct = false;
            cx.error(index.name.span, format!("duplicate index name `{name}`: give one of them `name = \"...\"`"));
        }
    }
    distinct
}

/// Every generated method has a name of its own. One error per index or
/// relation, at the first of its methods taken already.
pub fn check_method_names(cx: &Ctxt, model: &Model) {
    let mut methods: HashMap<String, ()> = HashMap::new();
    for (names, span) in names::repo_methods(model) {
        let taken: Vec<_> = names.into_iter().filter(|name| methods.insert(name.clone(), ()).is_some()).collect();
        if let Some(name) = taken.first() {
            cx.error(
                span,
                format!("two indexes or relations would both generate `{name}`; rename one with `name = \"...\"`"),
            );
        }
    }
}

// ---- across models

/// A mistake across models, in `models[model]`: at `span` of its source (or
/// the model itself when `None`), which in kvgen.toml is the key `key` under
/// `[models.Name]`.
#[derive(Debug)]
pub struct CrossError {
    /// The model the mistake is in, by position.
    pub model: usize,
    /// The token it is about; `None`: the model as a whole.
    pub span: Option<Span>,
    /// The kvgen.toml key under the model's table (`["fields", "x", "belongs_to"]`).
    pub key: Vec<String>,
    /// What is wrong.
    pub message: String,
}

fn find(models: &[&Model], target: &syn::Path) -> (String, Option<usize>) {
    let name = target.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
    let at = models.iter().position(|m| m.ident == name);
    (name, at)
}

fn kind_key(kind: HasKind) -> &'static str {
    if kind == HasKind::Many {
        "has_many"
    } else {
        "has_one"
    }
}

/// Two models of one name would get one accessor on Env.
pub fn check_model_names(models: &[&Model], describe: &dyn Fn(usize) -> String) -> Vec<CrossError> {
    let mut out = Vec::new();
    for (i, m) in models.iter().enumerate() {
        if let Some(first) = models[..i].iter().position(|g| g.ident == m.ident) {
            out.push(CrossError {
                model: i,
                span: None,
                key: Vec::new(),
                message: format!("a second model named `{}` (the first: {})", m.ident, describe(first)),
            });
        }
    }
    out
}

/// Keys of two models in one binding must not share a prefix.
pub fn check_key_prefixes(models: &[&Model], describe: &dyn Fn(usize) -> String) -> Vec<CrossError> {
    let mut out = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let clash =
            models[..i].iter().position(|g| g.binding.value == m.binding.value && g.prefix.value == m.prefix.value);
        if let Some(first) = clash {
            out.push(CrossError {
                model: i,
                span: Some(m.prefix.span),
                key: vec!["prefix".into()],
                message: format!(
                    "model `{}` uses key prefix `{}` in binding `{}`, as does `{}` ({}); give one a different `prefix`",
                    m.ident,
                    m.prefix.value,
                    m.binding.value,
                    models[first].ident,
                    describe(first)
                ),
            });
        }
    }
    out
}

/// A relation names a known model; has_many / has_one need the child's index on `by`.
pub fn check_relation_targets(models: &[&Model], describe: &dyn Fn(usize) -> String) -> Vec<CrossError> {
    let mut out = Vec::new();
    for (i, m) in models.iter().enumerate() {
        for rel in &m.belongs_to {
            let (target, found) = find(models, &rel.target);
            if found.is_none() {
                // In kvgen.toml: the field's `belongs_to` key.
                let field = m.fields[rel.field].ident.to_string();
                out.push(CrossError {
                    model: i,
                    span: Some(rel.name.span()),
                    key: vec!["fields".into(), field, "belongs_to".into()],
                    message: format!("`belongs_to = {target}`: no model named `{target}`"),
                });
            }
        }
        for (n, rel) in m.has.iter().enumerate() {
            let kind = kind_key(rel.kind);
            // In kvgen.toml: this relation's table in the `has_many` or `has_one` list.
            let nth = m.has[..n].iter().filter(|r| r.kind == rel.kind).count().to_string();
            let (target, found) = find(models, &rel.target);
            let Some(c) = found else {
                out.push(CrossError {
                    model: i,
                    span: Some(syn::spanned::Spanned::span(&rel.target)),
                    key: vec![kind.into(), nth, "model".into()],
                    message: format!("`{kind}({target}, ..)`: no model named `{target}`"),
                });
                continue;
            };
            let child = models[c];
            // A desc-only index keys the field reversed: the loaders look it up ascending.
            let indexed = child
                .indexes
                .iter()
                .any(|ix| !ix.is_desc(0) && matches!(ix.fields[..], [only] if child.fields[only].ident == rel.by));
            if !indexed {
                out.push(CrossError {
                    model: i,
                    span: Some(rel.by.span()),
                    key: vec![kind.into(), nth, "by".into()],
                    message: format!(
                        "`{kind}({target}, by = {})`: `{target}` has no index on `{}`; add `#[kv(index)]` or `#[kv(belongs_to = {})]` to it ({})",
                        rel.by,
                        rel.by,
                        m.ident,
                        describe(c)
                    ),
                });
            }
        }
    }
    out
}

/// Related models live in one binding: loaders read the target from the caller's store.
pub fn check_relation_bindings(models: &[&Model]) -> Vec<CrossError> {
    let mut out = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let targets = m.belongs_to.iter().map(|r| (&r.target, r.name.span(), "belongs_to"));
        let targets = targets.chain(m.has.iter().map(|r| (&r.target, r.by.span(), kind_key(r.kind))));
        for (target, span, kind) in targets {
            let (name, found) = find(models, target);
            if let Some(t) = found.map(|t| models[t]) {
                if t.binding.value != m.binding.value {
                    out.push(CrossError {
                        model: i,
                        span: Some(span),
                        key: vec![kind.into()],
                        message: format!(
                            "`{}` ({}) and `{name}` ({}) are related but live in different bindings; relation loaders read one binding: put both in one",
                            m.ident, m.binding.value, t.binding.value
                        ),
                    });
                }
            }
        }
    }
    out
}
/// `desc` on a field or index position: it orders an index, and only an
/// integer's key has an exact reverse (its fixed-width complement).
pub fn check_desc(cx: &Ctxt, ty: &syn::Type, span: proc_macro2::Span, indexed: bool) {
    if !indexed {
        cx.error(span, "`desc` orders an index: `#[kv(index, desc)]` or `#[kv(unique, desc)]`");
    } else if !crate::ir::is_integer(ty) {
        let ty = quote::ToTokens::to_token_stream(ty).to_string().replace(' ', "");
        cx.error(
            span,
            format!(
                "`desc` takes an integer field (a timestamp, a sequence number); `{ty}` has no key form in reverse order \
                 (text keys sort by bytes and have no fixed width to complement)"
            ),
        );
    }
}
