//! `#[derive(KvModel)]` and `#[derive(KeyPart)]` for kvgen. Thin: parse, lower
//! through `kvgen-codegen-core`, and turn errors into `compile_error!`.

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `kvgen::Model` and a typed repository. See the kvgen README.
#[proc_macro_derive(KvModel, attributes(kv))]
pub fn derive_kv_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    kvgen_codegen_core::derive_model_or_stubs(&input).into()
}

/// Derives `kvgen::KeyPart` for a unit enum, keyed by serde variant names.
#[proc_macro_derive(KeyPart)]
pub fn derive_key_part(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    kvgen_codegen_core::keypart::derive(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}
