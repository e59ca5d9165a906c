//! The part of the kvgen generator that `#[derive(KvModel)]` needs: the
//! [`ir`], lowering of `#[kv(..)]` attributes into it ([`attr`]), validation
//! ([`valid`]) and the Rust expansion ([`expand`]). It depends on syn, quote,
//! proc-macro2 and heck only; project loading, kvgen.toml, wrangler editing,
//! the schema and file output live in `kvgen-codegen`, which re-exports every
//! module here under the same path.
#![deny(missing_docs)]

pub mod attr;
pub mod ctxt;
pub mod expand;
pub mod fallback;
pub mod ir;
pub mod keypart;
pub mod names;
pub mod valid;

use proc_macro2::TokenStream;

/// `#[derive(KvModel)]`: the generated code, or every error found.
pub fn derive_model(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let model = attr::lower(input)?;
    Ok(expand::model(&model))
}

/// `#[derive(KvModel)]` as the macro emits it: the generated code, or every
/// error found followed by the model's [`fallback`] stubs, so that the
/// mistakes are the only errors the compiler reports.
pub fn derive_model_or_stubs(input: &syn::DeriveInput) -> TokenStream {
    match derive_model(input) {
        Ok(tokens) => tokens,
        Err(err) => {
            let mut tokens = err.into_compile_error();
            tokens.extend(fallback::stubs(input));
            tokens
        }
    }
}

/// Whether `attrs` hold a `#[derive(..)]` naming `KvModel` (as `KvModel` or a path ending in it).
pub fn derives_kv_model(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().filter(|a| a.path().is_ident("derive")).any(|a| {
        let mut found = false;
        let _ = a.parse_nested_meta(|m| {
            if m.path.segments.last().is_some_and(|s| s.ident == "KvModel") {
                found = true;
            }
            Ok(())
        });
        found
    })
}
