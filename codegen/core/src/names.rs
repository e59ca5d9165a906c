//! Names of generated items.

use crate::ir::{BelongsTo, Has, HasKind, Index, IndexKind, Model};
use proc_macro2::{Ident, Span};
use syn::ext::IdentExt;

/// An identifier for generated code from a name kvgen made up: a raw
/// identifier when the name is a keyword (`r#in`), with `_` added for the
/// few that cannot be raw (`self_`). `None` when the name cannot be an
/// identifier at all (empty, `_`, starting with a digit, holding a space).
pub fn try_ident(name: &str, span: Span) -> Option<Ident> {
    let mut ident = match syn::parse_str::<Ident>(name) {
        Ok(i) => i,
        Err(_) => match name {
            "self" | "Self" | "super" | "crate" => Ident::new(&format!("{name}_"), span),
            // The lexer accepts `r#name` only when `name` is an identifier.
            _ => syn::parse_str::<Ident>(&format!("r#{name}")).ok()?,
        },
    };
    ident.set_span(span);
    Some(ident)
}

/// `{prefix}{stem}` as an identifier (`find_by_email`). Front ends check the
/// names they accept, so the fallback is never expected to be used; it keeps
/// a missed case a compile error in generated code rather than a panic.
pub fn joined(prefix: &str, stem: &str, span: Span) -> Ident {
    try_ident(&format!("{prefix}{stem}"), span).unwrap_or_else(|| Ident::new("__kvgen_invalid_name", span))
}

/// snake_case of `name` (`BlogPost` -> `blog_post`).
pub fn snake(name: &str) -> String {
    heck::AsSnakeCase(name).to_string()
}

/// A user's identifier as plain text, without `r#`.
pub fn text(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// A naive English plural for relation names: `post` -> `posts`,
/// `category` -> `categories`, `box` -> `boxes`. `name = ".."` overrides it.
pub fn plural(word: &str) -> String {
    let consonant_y = word.ends_with('y')
        && !word.ends_with("ay")
        && !word.ends_with("ey")
        && !word.ends_with("oy")
        && !word.ends_with("uy");
    if consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"].iter().any(|e| word.ends_with(e)) {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// The generated repository type's name: `{Model}Repo`.
pub fn repo_ident(model: &Model) -> Ident {
    joined(&text(&model.ident), "Repo", model.ident.span())
}

/// The generated metadata type's name: `{Model}Meta`.
pub fn meta_ident(model: &Model) -> Ident {
    joined(&text(&model.ident), "Meta", model.ident.span())
}

/// The stem of an index's finder: its name when named, else its fields
/// joined by `_and_` (`org_id_and_handle`).
pub fn index_stem(model: &Model, index: &Index) -> String {
    if index.named {
        index.name.value.clone()
    } else {
        index.fields.iter().map(|&f| text(&model.fields[f].ident)).collect::<Vec<_>>().join("_and_")
    }
}

/// The two methods an index gives the repository: `find_by_`/`upsert_by_`
/// for a unique index, `list_by_`/`list_by_.._meta` for a secondary one.
/// Validation and emission both name methods through these functions.
pub fn index_methods(model: &Model, index: &Index) -> [String; 2] {
    let stem = index_stem(model, index);
    match index.kind {
        IndexKind::Unique => [format!("find_by_{stem}"), format!("upsert_by_{stem}")],
        IndexKind::Secondary => [format!("list_by_{stem}"), format!("list_by_{stem}_meta")],
    }
}

/// The two loaders a `belongs_to` gives: `load_{name}` and `load_{names}`.
pub fn belongs_to_methods(rel: &BelongsTo) -> [String; 2] {
    let name = text(&rel.name);
    [format!("load_{name}"), format!("load_{}", plural(&name))]
}

/// The two methods a `has_many` (`list_{name}`, `load_{name}`) or a `has_one`
/// (`load_{name}`, `load_{names}`) gives.
pub fn has_methods(rel: &Has) -> [String; 2] {
    let name = text(&rel.name);
    match rel.kind {
        HasKind::Many => [format!("list_{name}"), format!("load_{name}")],
        HasKind::One => [format!("load_{name}"), format!("load_{}", plural(&name))],
    }
}

/// Every method the generated repository of `model` defines: the two each
/// index or relation gives, with the index's or relation's name span, in order.
pub fn repo_methods(model: &Model) -> Vec<([String; 2], proc_macro2::Span)> {
    let indexes = model.indexes.iter().map(|index| (index_methods(model, index), index.name.span));
    let belongs_to = model.belongs_to.iter().map(|rel| (belongs_to_methods(rel), rel.name.span()));
    let has = model.has.iter().map(|rel| (has_methods(rel), rel.name.span()));
    indexes.chain(belongs_to).chain(has).collect()
}

// ---- the binding struct (`KvEnv`) and its members

/// Fields the generated `Env` has besides its bindings'.
pub const RESERVED_FIELDS: &[&str] = &["scope"];

/// Methods the generated `Env` has besides its models' accessors.
pub const RESERVED_METHODS: &[&str] =
    &["new", "from_bindings", "with_scope", "stores", "verify_all", "repair_all", "from_worker"];

/// The snake_case a binding's field is named after (`APP` -> `app`).
pub fn binding_field_name(binding: &str) -> String {
    snake(binding)
}

/// The field name of a binding: its snake_case (`APP` -> `app`); `None`
/// when that is no identifier (`_1` gives `1`).
pub fn binding_field(binding: &str) -> Option<syn::Ident> {
    try_ident(&binding_field_name(binding), proc_macro2::Span::call_site())
}

/// The snake_case plural a model's accessor is named after (`User` -> `users`).
pub fn accessor_name(model: &syn::Ident) -> String {
    plural(&snake(&text(model)))
}

/// The accessor name of a model: its plural snake_case (`User` -> `users`).
pub fn accessor(model: &syn::Ident) -> Option<syn::Ident> {
    try_ident(&accessor_name(model), proc_macro2::Span::call_site())
}

/// The default name of the binding struct. Not `Env`: a crate's own `Env`
/// would shadow `worker::Env` under the usual `use worker::*;`.
pub const DEFAULT_NAME: &str = "KvEnv";

/// Why `name` cannot name the generated binding struct, or `None` when it can.
pub fn invalid_env_struct(name: &str) -> Option<String> {
    match syn::parse_str::<syn::Ident>(name) {
        Ok(i) if i == "Self" => Some(format!("`{name}` cannot name a struct")),
        Ok(_) => None,
        Err(_) => Some(format!("`{name}` is not a Rust identifier; name the struct like `KvEnv` or `Bindings`")),
    }
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn plurals() {
        assert_eq!(plural("post"), "posts");
        assert_eq!(plural("category"), "categories");
        assert_eq!(plural("day"), "days");
        assert_eq!(plural("box"), "boxes");
        assert_eq!(plural("match"), "matches");
    }
}
