//! The binding struct (`KvEnv` unless `output.env_struct` names it): one
//! typed field per KV binding, a repository accessor per model.

use crate::names;
use crate::project::Project;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The field name of a binding: its snake_case (`APP` -> `app`).
pub fn binding_field(binding: &str) -> syn::Ident {
    names::ident(&heck::AsSnakeCase(binding).to_string(), proc_macro2::Span::call_site())
}

/// The accessor name of a model: its plural snake_case (`User` -> `users`).
pub fn accessor(model: &syn::Ident) -> syn::Ident {
    names::ident(&names::plural(&heck::AsSnakeCase(names::text(model)).to_string()), proc_macro2::Span::call_site())
}

/// The default name of the binding struct. Not `Env`: a crate's own `Env`
/// would shadow `worker::Env` under the usual `use worker::*;`.
pub const DEFAULT_NAME: &str = "KvEnv";

/// The generated binding struct named `name`.
pub fn tokens(project: &Project, name: &str) -> TokenStream {
    let env = format_ident!("{name}");
    let bindings = project.bindings();
    let fields = bindings.iter().map(|(binding, models)| {
        let field = binding_field(binding);
        let list = models.iter().map(|m| format!("`{}`", m.model.ident)).collect::<Vec<_>>().join(", ");
        let doc = format!("KV binding `{binding}`: {list}.");
        quote!(#[doc = #doc] pub #field: S,)
    });
    let names: Vec<&String> = bindings.keys().collect();
    let params = bindings.keys().map(|b| {
        let f = binding_field(b);
        quote!(#f: S)
    });
    let inits: Vec<_> = bindings.keys().map(|b| binding_field(b)).collect();
    let opens = bindings.keys().map(|b| {
        let f = binding_field(b);
        quote!(#f: open(#b)?,)
    });
    let accessors = project.models.iter().map(|found| {
        let m = &found.model;
        let acc = accessor(&m.ident);
        let field = binding_field(&m.binding.value);
        let repo = found.repo_path();
        let doc = format!("The repository of [`{}`] in binding `{}`.", m.ident, m.binding.value);
        quote! {
            #[doc = #doc]
            pub fn #acc(&self) -> #repo<'_, S> {
                #repo(::kvgen::Repo::with_checked_scope(&self.#field, &self.scope))
            }
        }
    });
    let stores = bindings.keys().map(|b| {
        let f = binding_field(b);
        quote!((#b, &self.#f))
    });
    let audits: Vec<_> = project.models.iter().map(|f| accessor(&f.model.ident)).collect();
    let n = bindings.len();
    let struct_doc = format!(
        "The KV bindings of this Worker ({}), with a typed repository per model.",
        names.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
    );
    quote! {
        #[doc = #struct_doc]
        #[derive(Clone)]
        pub struct #env<S> {
            #(#fields)*
            scope: ::std::string::String,
        }

        // A crate need not use every accessor: none of them may warn.
        #[allow(dead_code)]
        impl<S: ::kvgen::KvStore> #env<S> {
            /// Every binding name, in field order.
            pub const BINDINGS: &'static [&'static str] = &[#(#names),*];

            /// The bindings over the given stores, one per binding.
            #[allow(clippy::too_many_arguments)]
            pub fn new(#(#params),*) -> Self {
                #env { #(#inits,)* scope: ::std::string::String::new() }
            }

            /// The bindings whose stores `open` returns for each binding name.
            pub fn from_bindings(mut open: impl FnMut(&'static str) -> ::kvgen::Result<S>) -> ::kvgen::Result<Self> {
                ::kvgen::Result::Ok(#env { #(#opens)* scope: ::std::string::String::new() })
            }

            /// The same bindings with every key under `{scope}/` (a stage or tenant).
            pub fn with_scope(mut self, scope: impl ::core::convert::Into<::std::string::String>) -> ::kvgen::Result<Self> {
                let scope = scope.into();
                ::kvgen::check_scope(&scope)?;
                self.scope = scope;
                ::kvgen::Result::Ok(self)
            }

            /// Each binding's name and store.
            pub fn stores(&self) -> [(&'static str, &S); #n] {
                [#(#stores),*]
            }

            /// [`verify`](::kvgen::Repo::verify) of every model: how each one's indexes disagree with its records.
            pub async fn verify_all(&self) -> ::kvgen::Result<::std::vec::Vec<::kvgen::IndexReport>> {
                ::kvgen::Result::Ok(::std::vec![#(self.#audits().verify().await?),*])
            }

            /// [`repair`](::kvgen::Repo::repair) of every model: fixes missing, dangling and mismatched entries.
            pub async fn repair_all(&self) -> ::kvgen::Result<::std::vec::Vec<::kvgen::IndexReport>> {
                ::kvgen::Result::Ok(::std::vec![#(self.#audits().repair().await?),*])
            }

            #(#accessors)*
        }

        ::kvgen::__env_from_worker!(#env);
    }
}
