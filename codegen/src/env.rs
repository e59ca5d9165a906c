//! The binding struct (`KvEnv` unless `output.env_struct` names it): one
//! typed field per KV binding, a repository accessor per model.

use crate::project::Project;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

// The names of the binding struct and its members, decided in `names` (the
// project's checks use them too).
pub use crate::names::{
    accessor, accessor_name, binding_field, binding_field_name, invalid_env_struct, DEFAULT_NAME, RESERVED_FIELDS,
    RESERVED_METHODS,
};

/// The generated binding struct named `name`, or why it cannot be generated
/// (the project checks report these with their places first).
pub fn tokens(project: &Project, name: &str) -> Result<TokenStream, String> {
    if let Some(why) = invalid_env_struct(name) {
        return Err(format!("env_struct {why}"));
    }
    let env = format_ident!("{name}");
    let bindings = project.bindings();
    let field_of = |binding: &str| {
        binding_field(binding)
            .ok_or_else(|| format!("binding `{binding}` gives no Rust identifier for its field in `{name}`"))
    };
    let accessor_of = |model: &syn::Ident| {
        accessor(model).ok_or_else(|| format!("model `{model}` gives no Rust identifier for its accessor"))
    };
    // Fail before building anything: the closures below then cannot.
    for b in bindings.keys() {
        field_of(b)?;
    }
    for f in &project.models {
        accessor_of(&f.model.ident)?;
    }
    let field = |b: &str| field_of(b).unwrap_or_else(|_| format_ident!("__kvgen_invalid_name"));
    let acc = |m: &syn::Ident| accessor_of(m).unwrap_or_else(|_| format_ident!("__kvgen_invalid_name"));
    let fields = bindings.iter().map(|(binding, models)| {
        let field = field(binding);
        let list = models.iter().map(|m| format!("`{}`", m.model.ident)).collect::<Vec<_>>().join(", ");
        let doc = format!("KV binding `{binding}`: {list}.");
        quote!(#[doc = #doc] pub #field: S,)
    });
    let names: Vec<&String> = bindings.keys().collect();
    let params = bindings.keys().map(|b| {
        let f = field(b);
        quote!(#f: S)
    });
    let inits: Vec<_> = bindings.keys().map(|b| field(b)).collect();
    let opens = bindings.keys().map(|b| {
        let f = field(b);
        quote!(#f: open(#b)?,)
    });
    let accessors = project.models.iter().map(|found| {
        let m = &found.model;
        let acc = acc(&m.ident);
        let field = field(&m.binding.value);
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
        let f = field(b);
        quote!((#b, &self.#f))
    });
    let audits: Vec<_> = project.models.iter().map(|f| acc(&f.model.ident)).collect();
    let prefixes = project.models.iter().map(|f| {
        let ty = f.type_path();
        quote!(<#ty as ::kvgen::Model>::MODEL)
    });
    let n = bindings.len();
    let struct_doc = format!(
        "The KV bindings of this Worker ({}), with a typed repository per model.",
        names.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
    );
    let key_check = key_space_check(project, name);
    Ok(quote! {
        #key_check

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

            /// Every model's key prefix.
            pub const MODEL_PREFIXES: &'static [&'static str] = &[#(#prefixes),*];

            /// The same bindings with every key under `{scope}/` (a stage or
            /// tenant), or `{scope}` for a scope ending in `:` (`prod:`), which
            /// may not be one of the models' prefixes.
            pub fn with_scope(mut self, scope: impl ::core::convert::Into<::std::string::String>) -> ::kvgen::Result<Self> {
                let scope = scope.into();
                ::kvgen::__private::check_env_scope(&scope, Self::MODEL_PREFIXES)?;
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
    })
}

/// A compile-time check that no two models of the `Env` share a binding and
/// a key prefix, whatever their sources say when the `Env` is compiled
/// (kvgen refuses such models when it generates; a model edited since
/// would otherwise share keys silently).
fn key_space_check(project: &Project, env: &str) -> TokenStream {
    if project.models.len() < 2 {
        return TokenStream::new();
    }
    let pairs = project.models.iter().map(|f| {
        let ty = f.type_path();
        quote!((<#ty as ::kvgen::Model>::BINDING, <#ty as ::kvgen::Model>::MODEL))
    });
    let asserts = project.models.iter().enumerate().skip(1).map(|(i, f)| {
        let path = f.type_path().to_string().replace(' ', "");
        let msg = format!(
            "`{path}` has the binding and key prefix of another model of `{env}`: their keys would collide; give one a different `prefix`"
        );
        let i = proc_macro2::Literal::usize_unsuffixed(i);
        quote!(::core::assert!(::kvgen::__private::key_space_unique(MODELS, #i), #msg);)
    });
    quote! {
        // No two models share keys: each (binding, key prefix) is one model's.
        const _: () = {
            const MODELS: &[(&str, &str)] = &[#(#pairs),*];
            #(#asserts)*
        };
    }
}
