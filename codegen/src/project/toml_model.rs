//! The models kvgen.toml declares (`[models.NAME]`): each table turned into
//! the struct it stands for, with the `#[kv(..)]` attributes its keys mean,
//! and lowered as the derive lowers a Rust struct; problems are reported at
//! the kvgen.toml key.
//!
//! Builds on [`crate::config`] and [`super::found`]. Only [`super`]
//! (loading a project) uses it.

use crate::attr;
use crate::config::{ConfigFile, IndexSpec, ModelSpec};
use crate::diag::Diagnostic;
use crate::project::found::{Found, Origin};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Whether a kvgen.toml field type is an integer (or `Option` of one), as `desc` needs.
fn toml_integer(ty: &str) -> bool {
    syn::parse_str::<syn::Type>(ty).is_ok_and(|t| crate::ir::is_integer(&t))
}

fn desc_not_integer(field: &str, ty: &str) -> String {
    format!("`desc` takes an integer field (a timestamp, a sequence number); `{field}` is `{ty}`, whose key has no form in reverse order")
}

/// The struct a `[models.NAME]` table stands for, lowered like a derive input.
pub(super) fn toml_model(
    config: &ConfigFile,
    name: &str,
    spec: &ModelSpec,
) -> std::result::Result<Found, Vec<Diagnostic>> {
    let here = |path: &[&str], msg: String| {
        let mut p = vec!["models", name];
        p.extend_from_slice(path);
        config.diag(&p, msg)
    };
    let ident: syn::Ident =
        syn::parse_str(name).map_err(|_| vec![here(&[], format!("`{name}` is not a Rust type name"))])?;
    let mut problems = Vec::new();
    let mut container: Vec<TokenStream> = Vec::new();
    if let Some(b) = &spec.binding {
        container.push(quote!(binding = #b));
    }
    if let Some(p) = &spec.prefix {
        container.push(quote!(prefix = #p));
    }
    if let Some(t) = spec.ttl {
        container.push(quote!(ttl = #t));
    }
    if spec.strict {
        container.push(quote!(strict));
    }
    let field_ident = |f: &str, at: &[&str], problems: &mut Vec<Diagnostic>| match syn::parse_str::<syn::Ident>(f) {
        Ok(i) => Some(i),
        Err(_) => {
            problems.push(here(at, format!("`{f}` is not a field name")));
            None
        }
    };
    for (key, list) in [("unique", &spec.unique), ("index", &spec.index)] {
        let kw = format_ident!("{key}");
        for (n, ix) in list.iter().enumerate() {
            let (fields, ixname, strict) = ix.parts();
            let n = n.to_string();
            let fields: Vec<_> = fields
                .iter()
                .enumerate()
                .filter_map(|(p, f)| {
                    // `"at desc"`: the field, then its order.
                    let mut words = f.split_whitespace();
                    let (name, order) = (words.next().unwrap_or_default(), words.next());
                    let i = field_ident(name, &[key], &mut problems)?;
                    let p = p.to_string();
                    let at: &[&str] = match ix {
                        IndexSpec::Fields(_) => &[key, &n, &p],
                        IndexSpec::Named(_) => &[key, &n, "fields", &p],
                    };
                    match (order, words.next()) {
                        (None, _) => Some(quote!(#i)),
                        (Some("asc"), None) => Some(quote!(#i)),
                        (Some("desc"), None) => {
                            let ty = spec.fields.get(name).map(|f| f.options().ty);
                            if let Some(ty) = ty.filter(|t| !toml_integer(t)) {
                                problems.push(here(at, desc_not_integer(name, &ty)));
                            }
                            Some(quote!(#i desc))
                        }
                        _ => {
                            problems.push(here(at, format!("`{f}`: a field name, then `desc` or `asc` (\"at desc\")")));
                            None
                        }
                    }
                })
                .collect();
            let named = ixname.map(|n| quote!(, name = #n));
            let strict = strict.then(|| quote!(, strict));
            container.push(quote!(#kw(#(#fields),* #named #strict)));
        }
    }
    for (key, list) in [("has_many", &spec.has_many), ("has_one", &spec.has_one)] {
        let kw = format_ident!("{key}");
        for rel in list {
            let target = field_ident(&rel.model, &[key], &mut problems);
            let by = field_ident(&rel.by, &[key], &mut problems);
            let named = rel.name.as_ref().map(|n| quote!(, name = #n));
            if let (Some(t), Some(b)) = (target, by) {
                container.push(quote!(#kw(#t, by = #b #named)));
            }
        }
    }
    let mut fields = Vec::new();
    for (fname, fspec) in &spec.fields {
        let o = fspec.options();
        let Some(fi) = field_ident(fname, &["fields", fname], &mut problems) else { continue };
        let ty: syn::Type = match syn::parse_str(&o.ty) {
            Ok(t) => t,
            Err(_) => {
                problems.push(here(&["fields", fname], format!("`{}` is not a Rust type", o.ty)));
                continue;
            }
        };
        let mut kv: Vec<TokenStream> = Vec::new();
        if o.id {
            kv.push(quote!(id));
        }
        if let Some(generator) = &o.generate {
            kv.push(quote!(generate = #generator));
        }
        if o.unique {
            kv.push(quote!(unique));
        }
        if o.strict {
            kv.push(quote!(strict));
        }
        if o.index {
            kv.push(quote!(index));
        }
        if o.desc {
            if !o.index && !o.unique {
                problems.push(here(
                    &["fields", fname, "desc"],
                    "`desc` orders an index: add `index = true` or `unique = true`".into(),
                ));
            } else if !toml_integer(&o.ty) {
                problems.push(here(&["fields", fname, "desc"], desc_not_integer(fname, &o.ty)));
            }
            kv.push(quote!(desc));
        }
        if let Some(parent) = &o.belongs_to {
            match syn::parse_str::<syn::Path>(parent) {
                Ok(p) => kv.push(quote!(belongs_to = #p)),
                Err(_) => problems.push(here(&["fields", fname], format!("`{parent}` is not a model name"))),
            }
        }
        if o.meta {
            kv.push(quote!(meta));
        }
        if o.raw {
            // Its type is checked here, to point at the field; the rest of `raw`'s rules by the derive's.
            if crate::attr::raw_kind(&o.ty.replace(' ', "")).is_none() {
                let msg = format!("a `raw` field is a `String` or a `Vec<u8>`; this one is `{}`", o.ty);
                problems.push(here(&["fields", fname], msg));
            }
            kv.push(quote!(raw));
        }
        let kv = (!kv.is_empty()).then(|| quote!(#[kv(#(#kv),*)]));
        let doc = o.doc.as_ref().map(|d| quote!(#[doc = #d]));
        fields.push(quote!(#doc #kv pub #fi: #ty));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let doc = spec.doc.as_ref().map(|d| quote!(#[doc = #d]));
    let kv = (!container.is_empty()).then(|| quote!(#[kv(#(#container),*)]));
    let item: syn::ItemStruct = syn::parse_quote! {
        #doc
        #[derive(::kvgen::KvModel, ::kvgen::__private::serde::Serialize, ::kvgen::__private::serde::Deserialize, ::core::clone::Clone, ::core::fmt::Debug, ::core::cmp::PartialEq)]
        #[serde(crate = "::kvgen::__private::serde")]
        #kv
        pub struct #ident {
            #(#fields),*
        }
    };
    let input: syn::DeriveInput = item.clone().into();
    match attr::lower(&input) {
        Ok(model) => Ok(Found { model, origin: Origin::Toml { item: Box::new(item) } }),
        Err(e) => Err(e
            .into_iter()
            .map(|e| here(&[], format!("model `{name}`: {}", in_toml_words(&e.to_string()))))
            .collect()),
    }
}

/// The derive's spellings of what a `[models.NAME]` table says with keys, and how kvgen.toml says it.
const TOML_WORDS: [(&str, &str); 5] = [
    ("`#[kv(id)]`", "`id = true`"),
    ("`#[kv(raw)]`", "`raw = true`"),
    ("`#[kv(unique, strict)]`", "`unique = true, strict = true`"),
    ("`unique(a, b)`", "`unique = [[\"a\", \"b\"]]`"),
    ("`index(a, b)`", "`index = [[\"a\", \"b\"]]`"),
];

/// A lowering error about a kvgen.toml model, in the words of kvgen.toml: the
/// derive's messages name its attributes (`#[kv(id)]`), which the table does not have.
fn in_toml_words(message: &str) -> String {
    TOML_WORDS.iter().fold(message.to_string(), |m, (attr, key)| m.replace(attr, key))
}

#[cfg(test)]
mod tests {
    use super::in_toml_words;

    #[test]
    fn lowering_errors_name_the_kvgen_toml_keys() {
        assert_eq!(
            in_toml_words("`generate` fills the id: put it on the `#[kv(id)]` field"),
            "`generate` fills the id: put it on the `id = true` field"
        );
        assert_eq!(
            in_toml_words("`strict` applies to a unique field: `#[kv(unique, strict)]`"),
            "`strict` applies to a unique field: `unique = true, strict = true`"
        );
        assert_eq!(
            in_toml_words("an index needs at least one field: `index(a, b)`"),
            "an index needs at least one field: `index = [[\"a\", \"b\"]]`"
        );
    }
}
