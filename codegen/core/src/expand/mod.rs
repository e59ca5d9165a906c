//! Emits the model-specific glue for one model: the `Model` impl, the
//! metadata struct, and the typed repository. Everything generic lives in the
//! `kvgen` runtime; each generated method is one call into it.
//!
//! Its parts: this file holds the `Model` impl, the metadata struct, the
//! raw model's value, the index constants and the compile-time checks of
//! relations; `repo` the repository's methods, and must not depend on
//! this file. The derive ([`crate::derive_model`]) and its fallback
//! ([`crate::fallback`]) build on it; it builds on the IR and
//! [`crate::names`] only, so neither lowering nor validation may depend on it
//! ([`crate::valid`] uses `repo::param_idents` alone).

pub(crate) mod repo;

pub use repo::param_idents;

use crate::expand::repo::repo_methods;
use crate::ir::{IndexKind, Model};
use crate::names;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// The generated code of `model`.
pub fn model(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let vis = &model.vis;
    let repo = names::repo_ident(model);
    let id = &model.id_field().ident;
    let id_ty = &model.id_field().ty;
    let prefix = &model.prefix.value;
    let binding = &model.binding.value;
    let ttl = match &model.ttl {
        Some(t) => {
            let v = t.value;
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };

    // Emitted only when set: the trait's default is `None`.
    let cache_ttl = model.cache_ttl.as_ref().map(|t| {
        let v = t.value;
        quote!(const CACHE_TTL: ::core::option::Option<u64> = ::core::option::Option::Some(#v);)
    });

    let index_defs = model.indexes.iter().map(|index| {
        let name = &index.name.value;
        let kind = match index.kind {
            IndexKind::Unique => quote!(::kvgen::IndexKind::Unique),
            IndexKind::Secondary => quote!(::kvgen::IndexKind::Secondary),
        };
        let fields = index.fields.iter().map(|&f| names::text(&model.fields[f].ident));
        let strict = index.strict;
        quote!(::kvgen::IndexDef { name: #name, kind: #kind, fields: &[#(#fields),*], strict: #strict })
    });
    let index_arms = model.indexes.iter().enumerate().map(|(i, index)| {
        let parts = index.fields.iter().enumerate().map(|(p, &f)| {
            let field = &model.fields[f];
            let fi = &field.ident;
            if index.is_desc(p) {
                quote_spanned!(field.ty.span()=> key.part(&::kvgen::key::Desc(&self.#fi));)
            } else {
                quote_spanned!(field.ty.span()=> key.part(&self.#fi);)
            }
        });
        quote!(#i => { #(#parts)* })
    });

    let (meta_ty, meta_item, meta_fn) = meta(model);
    let raw_items = raw(model);

    let index_consts = index_consts(model);
    let methods = repo_methods(model);
    let checks = relation_checks(model);
    let repo_type = repo_type(vis, &repo, ident);
    let doc_repo = format!("The typed KV repository of [`{ident}`]; dereferences to [`kvgen::Repo`] for get, create, put, update, delete, list and count.");

    quote! {
        #meta_item

        #[automatically_derived]
        impl ::kvgen::Model for #ident {
            type Id = #id_ty;
            type Meta = #meta_ty;
            const MODEL: &'static str = #prefix;
            const BINDING: &'static str = #binding;
            const DEFAULT_TTL: ::core::option::Option<u64> = #ttl;
            #cache_ttl
            const INDEXES: &'static [::kvgen::IndexDef] = &[#(#index_defs),*];
            fn id(&self) -> &#id_ty {
                &self.#id
            }
            fn set_id(&mut self, id: #id_ty) {
                self.#id = id;
            }
            #[allow(unused_variables, clippy::single_match)]
            fn index_parts(&self, index: usize, key: &mut ::kvgen::__private::KeyWriter) {
                match index {
                    #(#index_arms)*
                    _ => {}
                }
            }
            #meta_fn
            #raw_items
        }

        #[doc = #doc_repo]
        #repo_type

        impl<'a, S: ::kvgen::KvStore> #repo<'a, S> {
            #(#methods)*
        }

        impl #ident {
            /// The typed repository of this model in `store`.
            #vis fn repo<S: ::kvgen::KvStore>(store: &S) -> #repo<'_, S> {
                #repo(::kvgen::Repo::new(store))
            }
            /// The typed repository of this model in `store`, every key under `{scope}/` (`{scope}` when it ends in `:`).
            #vis fn repo_scoped<'a, S: ::kvgen::KvStore>(store: &'a S, scope: &'a str) -> ::kvgen::Result<#repo<'a, S>> {
                ::kvgen::Repo::scoped(store, scope).map(#repo)
            }
        }

        #(#index_consts)*

        #checks
    }
}

/// The `Model` items of a model with a `#[kv(raw)]` field (none for others):
/// the raw field's bytes are the value; every other field but the id goes
/// to metadata, by its name, as its own `Serialize` writes it.
fn raw(model: &Model) -> TokenStream {
    let Some(raw) = model.raw else { return TokenStream::new() };
    let id = &model.id_field().ident;
    let id_ty = &model.id_field().ty;
    let value = &model.fields[raw.field].ident;
    let json = quote!(::kvgen::__private::serde_json);
    let rest: Vec<_> =
        model.fields.iter().enumerate().filter(|(i, _)| *i != raw.field && *i != model.id).map(|(_, f)| f).collect();
    let names: Vec<String> = rest.iter().map(|f| names::text(&f.ident)).collect();
    let idents: Vec<_> = rest.iter().map(|f| &f.ident).collect();
    let (kind, bytes, from) = match raw.kind {
        crate::ir::RawKind::Text => (
            quote!(::kvgen::RawKind::Text),
            quote!(self.#value.as_bytes()),
            quote!(::std::string::String::from_utf8(value).map_err(|e| ::std::format!("the value is not UTF-8: {e}"))?),
        ),
        crate::ir::RawKind::Bytes => (quote!(::kvgen::RawKind::Bytes), quote!(&self.#value), quote!(value)),
    };
    quote! {
        const RAW: ::core::option::Option<::kvgen::RawKind> = ::core::option::Option::Some(#kind);
        fn raw_value(&self) -> &[u8] {
            #bytes
        }
        fn raw_fields(&self) -> ::core::result::Result<#json::Map<::std::string::String, #json::Value>, #json::Error> {
            let mut fields = #json::Map::new();
            #( fields.insert(::std::string::String::from(#names), #json::to_value(&self.#idents)?); )*
            ::core::result::Result::Ok(fields)
        }
        #[allow(unused_mut)]
        fn from_raw(
            id: #id_ty,
            value: ::std::vec::Vec<u8>,
            mut fields: #json::Map<::std::string::String, #json::Value>,
        ) -> ::core::result::Result<Self, ::std::string::String> {
            ::core::result::Result::Ok(Self {
                #id: id,
                #value: #from,
                #( #idents: #json::from_value(fields.remove(#names).unwrap_or(#json::Value::Null))
                    .map_err(|e| ::std::format!("metadata field `{}`: {e}", #names))?, )*
            })
        }
    }
}

/// `(Meta type, the struct item if any, fn meta)`.
fn meta(model: &Model) -> (TokenStream, TokenStream, TokenStream) {
    let metas: Vec<_> = model.fields.iter().filter(|f| f.meta).collect();
    if metas.is_empty() {
        return (
            quote!(()),
            TokenStream::new(),
            quote! {
                fn meta(&self) -> ::core::option::Option<()> {
                    ::core::option::Option::None
                }
            },
        );
    }
    let vis = &model.vis;
    let name = names::meta_ident(model);
    let doc = format!(
        "The metadata of a [`{}`]: its `#[kv(meta)]` fields, carried by listings without reading records.",
        model.ident
    );
    let decls = metas.iter().map(|f| {
        let (fi, ty) = (&f.ident, &f.ty);
        let doc = format!("Copy of [`{}::{fi}`].", model.ident);
        quote!(#[doc = #doc] pub #fi: #ty,)
    });
    let inits = metas.iter().map(|f| {
        let fi = &f.ident;
        quote_spanned!(f.ty.span()=> #fi: ::core::clone::Clone::clone(&self.#fi),)
    });
    (
        quote!(#name),
        quote! {
            #[doc = #doc]
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::kvgen::__private::serde::Serialize, ::kvgen::__private::serde::Deserialize)]
            #[serde(crate = "::kvgen::__private::serde")]
            #vis struct #name {
                #(#decls)*
            }
        },
        quote! {
            fn meta(&self) -> ::core::option::Option<#name> {
                ::core::option::Option::Some(#name { #(#inits)* })
            }
        },
    )
}

/// `IndexedBy<field id>` impls naming the position of each single-field
/// index, which `has_many` / `has_one` on other models refer to by field name.
fn index_consts(model: &Model) -> Vec<TokenStream> {
    let ident = &model.ident;
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (i, index) in model.indexes.iter().enumerate() {
        // A `desc` index keys the field in reverse: relations look children up by the ascending form.
        if let ([f], false) = (&index.fields[..], index.is_desc(0)) {
            let field = model.fields[*f].ident.to_string();
            if seen.contains(&field) {
                continue;
            }
            let id = crate::ir::field_id(&field);
            out.push(quote! {
                #[automatically_derived]
                #[doc(hidden)]
                impl ::kvgen::__private::IndexedBy<#id> for #ident {
                    const INDEX: usize = #i;
                }
            });
            seen.push(field);
        }
    }
    out
}

/// Compile-time checks that a foreign key's type matches its parent's id,
/// reported at the field's type.
fn relation_checks(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let same_binding = |target: &syn::Path| {
        // Loaders read the related model from the same store: it must live in the same binding.
        let msg = format!(
            "`{}` and `{}` are related but live in different KV bindings; relation loaders read one binding",
            ident,
            quote::ToTokens::to_token_stream(target).to_string().replace(' ', "")
        );
        quote_spanned! {target.span()=>
            ::core::assert!(
                ::kvgen::__private::same_binding(<#ident as ::kvgen::Model>::BINDING, <#target as ::kvgen::Model>::BINDING),
                #msg
            );
        }
    };
    let checks = model
        .belongs_to
        .iter()
        .map(|rel| {
            let field = &model.fields[rel.field];
            let (ty, target) = (&field.ty, &rel.target);
            let binding = same_binding(target);
            quote_spanned! {ty.span()=>
                ::kvgen::__private::assert_foreign_key::<#ty, <#target as ::kvgen::Model>::Id>();
                #binding
            }
        })
        .chain(model.has.iter().map(|rel| same_binding(&rel.target)))
        .collect::<Vec<_>>();
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        const _: () = {
            #(#checks)*
        };
    }
}

/// The repository type of a model (`{Model}Repo`, a `Repo` it dereferences
/// to), as the derive emits it and as its fallback stands it in.
pub(crate) fn repo_type(vis: &syn::Visibility, repo: &syn::Ident, ident: &syn::Ident) -> TokenStream {
    quote! {
        #vis struct #repo<'a, S>(pub ::kvgen::Repo<'a, #ident, S>);

        #[automatically_derived]
        impl<'a, S> ::core::ops::Deref for #repo<'a, S> {
            type Target = ::kvgen::Repo<'a, #ident, S>;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl<'a, S: ::kvgen::KvStore> #repo<'a, S> {
            /// This repository with its stale-accepting reads (get, finders, listings, loaders) cached up to `secs` seconds: see [`kvgen::Repo::cached`].
            #vis fn cached(&self, secs: u64) -> Self {
                #repo(self.0.cached(secs))
            }
            /// This repository with every read uncached: see [`kvgen::Repo::uncached`].
            #vis fn uncached(&self) -> Self {
                #repo(self.0.uncached())
            }
        }
    }
}
