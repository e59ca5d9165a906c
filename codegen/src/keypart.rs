//! `#[derive(KeyPart)]` for unit enums: the component is the variant's serde name.

use proc_macro2::TokenStream;
use quote::quote;

/// The generated `KeyPart` impl, or an error at the first variant that is not a unit.
pub fn derive(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let syn::Data::Enum(e) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "KeyPart can be derived for unit enums only; implement kvgen::KeyPart by hand for other types",
        ));
    };
    let cx = crate::ctxt::Ctxt::new();
    for v in &e.variants {
        if !matches!(v.fields, syn::Fields::Unit) {
            cx.error_spanned(
                v,
                format!("variant `{}` has fields; KeyPart can be derived for unit enums only", v.ident),
            );
        }
    }
    if !input.generics.params.is_empty() {
        cx.error_spanned(&input.generics, "KeyPart cannot be derived for generic enums");
    }
    cx.check()?;
    let ident = &input.ident;
    Ok(quote! {
        #[automatically_derived]
        impl ::kvgen::KeyPart for #ident {
            fn write_key(&self, out: &mut ::std::string::String) {
                ::kvgen::__private::write_serde_unit(self, out)
            }
            fn read_key(part: &str) -> ::core::option::Option<Self> {
                ::kvgen::__private::read_serde_unit(part)
            }
        }
    })
}
