//! Stubs emitted beside the errors when a model's derive fails, so that one
//! mistake gives one error: the model still implements `kvgen::Model` (every
//! method `unimplemented!`) and still has its repository type, so models
//! related to it, and code calling its repository, compile as far as they can
//! without it. The program never runs: the errors stop the build.

use crate::attr::keys::KV;
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

/// The stubs for `input`, or nothing when it is not a plain struct with named
/// fields (the error about that is the only one there is to give).
pub fn stubs(input: &syn::DeriveInput) -> TokenStream {
    let syn::Data::Struct(syn::DataStruct { fields: syn::Fields::Named(fields), .. }) = &input.data else {
        return TokenStream::new();
    };
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let (ident, vis) = (&input.ident, &input.vis);
    let repo = names::joined(&names::text(ident), "Repo", ident.span());
    let model = names::text(ident);
    // The id's type as best it can be told, so a `belongs_to` naming this model type-checks.
    let id_ty = fields
        .named
        .iter()
        .find(|f| f.attrs.iter().any(marks_id))
        .or_else(|| fields.named.iter().find(|f| f.ident.as_ref().is_some_and(|i| i == "id")))
        // A float id is the mistake reported (no key form); naming it here would report it twice.
        .filter(|f| !matches!(&f.ty, syn::Type::Path(p) if p.path.is_ident("f32") || p.path.is_ident("f64")))
        .map(|f| {
            let ty = &f.ty;
            quote!(#ty)
        })
        .unwrap_or_else(|| quote!(::std::string::String));
    let repo_type = crate::expand::repo_type(vis, &repo, ident);
    quote! {
        #[automatically_derived]
        #[allow(unused_variables, unreachable_code)]
        impl ::kvgen::Model for #ident {
            type Id = #id_ty;
            type Meta = ();
            const MODEL: &'static str = #model;
            const BINDING: &'static str = ::kvgen::__private::FALLBACK_BINDING;
            const DEFAULT_TTL: ::core::option::Option<u64> = ::core::option::Option::None;
            const INDEXES: &'static [::kvgen::IndexDef] = &[];
            fn id(&self) -> &Self::Id {
                ::core::unimplemented!()
            }
            fn set_id(&mut self, id: Self::Id) {
                ::core::unimplemented!()
            }
            fn index_parts(&self, index: usize, key: &mut ::kvgen::__private::KeyWriter) {
                ::core::unimplemented!()
            }
            fn meta(&self) -> ::core::option::Option<()> {
                ::core::unimplemented!()
            }
        }

        // Whatever field a `has_many` / `has_one` on another model names.
        #[automatically_derived]
        impl<const FIELD: u64> ::kvgen::__private::IndexedBy<FIELD> for #ident {
            const INDEX: usize = 0;
        }

        #repo_type

        #[automatically_derived]
        #[allow(unused_variables, unreachable_code)]
        impl #ident {
            #vis fn repo<S: ::kvgen::KvStore>(store: &S) -> #repo<'_, S> {
                ::core::unimplemented!()
            }
            #vis fn repo_scoped<'a, S: ::kvgen::KvStore>(store: &'a S, scope: &'a str) -> ::kvgen::Result<#repo<'a, S>> {
                ::core::unimplemented!()
            }
        }
    }
}

/// `#[kv(.., id, ..)]`, read leniently: the attribute may hold the mistake.
fn marks_id(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident(KV) {
        return false;
    }
    let Ok(list) = attr.meta.require_list() else { return false };
    list.tokens.clone().into_iter().any(|t| matches!(&t, proc_macro2::TokenTree::Ident(i) if i == "id"))
}
