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
    // Two variants keyed alike would share index keys: refuse the second.
    let container = SerdeNames::of(&input.attrs);
    let mut seen: Vec<(&syn::Ident, Vec<String>)> = Vec::new();
    for v in &e.variants {
        let names = key_forms(&container, v);
        if let Some((other, shared)) =
            seen.iter().find_map(|(o, n)| n.iter().find(|x| names.contains(x)).map(|x| (o, x)))
        {
            let hint = if shared == "null" && names == ["null"] {
                "key variants by name: drop `#[serde(untagged)]`"
            } else {
                "give one another `#[serde(rename = \"...\")]`"
            };
            cx.error(
                v.ident.span(),
                format!(
                    "variant `{}` keys as `{shared}`, as does `{other}`: their records would share index keys; {hint}",
                    v.ident
                ),
            );
        }
        seen.push((&v.ident, names));
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

/// What `#[serde(..)]` attributes say about names, as far as kvgen can tell.
#[derive(Default)]
struct SerdeNames {
    untagged: bool,
    rename_ser: Option<String>,
    rename_de: Option<String>,
    rename_all_ser: Option<String>,
    rename_all_de: Option<String>,
    aliases: Vec<String>,
}

impl SerdeNames {
    fn of(attrs: &[syn::Attribute]) -> Self {
        let mut out = SerdeNames::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
            // Whatever serde itself refuses is serde's error to report.
            let _ = attr.parse_nested_meta(|m| {
                if m.path.is_ident("untagged") {
                    out.untagged = true;
                } else if m.path.is_ident("rename") || m.path.is_ident("rename_all") {
                    let (ser, de) = both(&m)?;
                    if m.path.is_ident("rename") {
                        out.rename_ser = ser.or(out.rename_ser.take());
                        out.rename_de = de.or(out.rename_de.take());
                    } else {
                        out.rename_all_ser = ser.or(out.rename_all_ser.take());
                        out.rename_all_de = de.or(out.rename_all_de.take());
                    }
                } else if m.path.is_ident("alias") {
                    out.aliases.push(m.value()?.parse::<syn::LitStr>()?.value());
                } else {
                    skip(&m)?;
                }
                Ok(())
            });
        }
        out
    }
}

/// `key = "x"` (both ways) or `key(serialize = "x", deserialize = "y")`.
fn both(m: &syn::meta::ParseNestedMeta) -> syn::Result<(Option<String>, Option<String>)> {
    if m.input.peek(syn::Token![=]) {
        let v = m.value()?.parse::<syn::LitStr>()?.value();
        return Ok((Some(v.clone()), Some(v)));
    }
    let (mut ser, mut de) = (None, None);
    m.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            ser = Some(inner.value()?.parse::<syn::LitStr>()?.value());
        } else if inner.path.is_ident("deserialize") {
            de = Some(inner.value()?.parse::<syn::LitStr>()?.value());
        } else {
            skip(&inner)?;
        }
        Ok(())
    })?;
    Ok((ser, de))
}

fn skip(m: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if m.input.peek(syn::Token![=]) {
        let _: syn::Expr = m.value()?.parse()?;
    } else if m.input.peek(syn::token::Paren) {
        let _: proc_macro2::Group = m.input.parse()?;
    }
    Ok(())
}

/// Every form a unit variant's key takes or is read from: the name it is
/// written as (`null` when untagged: the key is the JSON text), the name it
/// is read as, and its aliases.
fn key_forms(container: &SerdeNames, v: &syn::Variant) -> Vec<String> {
    let own = SerdeNames::of(&v.attrs);
    let ident = crate::names::text(&v.ident);
    if container.untagged || own.untagged {
        return vec!["null".to_string()];
    }
    let ser = own.rename_ser.clone().unwrap_or_else(|| rename_variant(&ident, container.rename_all_ser.as_deref()));
    let de = own.rename_de.clone().unwrap_or_else(|| rename_variant(&ident, container.rename_all_de.as_deref()));
    let mut out = vec![ser, de];
    out.extend(own.aliases);
    out.dedup();
    out
}

/// serde's `rename_all` rule applied to a variant name; an unknown rule leaves it as it is.
fn rename_variant(variant: &str, rule: Option<&str>) -> String {
    let snake = || {
        let mut s = String::new();
        for (i, ch) in variant.char_indices() {
            if i > 0 && ch.is_uppercase() {
                s.push('_');
            }
            s.push(ch.to_ascii_lowercase());
        }
        s
    };
    match rule {
        Some("lowercase") => variant.to_ascii_lowercase(),
        Some("UPPERCASE") => variant.to_ascii_uppercase(),
        Some("camelCase") => {
            let mut chars = variant.chars();
            chars.next().map_or(String::new(), |c| c.to_ascii_lowercase().to_string() + chars.as_str())
        }
        Some("snake_case") => snake(),
        Some("SCREAMING_SNAKE_CASE") => snake().to_ascii_uppercase(),
        Some("kebab-case") => snake().replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => snake().to_ascii_uppercase().replace('_', "-"),
        _ => variant.to_string(),
    }
}

#[cfg(test)]
mod tests {
    fn derive(src: &str) -> Result<(), String> {
        let input: syn::DeriveInput = syn::parse_str(src).unwrap();
        super::derive(&input).map(|_| ()).map_err(|e| e.to_string())
    }

    #[test]
    fn distinct_key_forms_derive() {
        derive("#[serde(rename_all = \"kebab-case\")] enum R { EuWest, UsEast }").unwrap();
        derive("enum P { #[serde(rename = \"pro\")] Pro, Free, #[serde(alias = \"gratis\")] Gratis2 }").unwrap();
        derive("enum O { A, #[serde(untagged)] Nothing }").unwrap();
        derive("#[serde(rename_all(serialize = \"lowercase\"))] enum C { A, B }").unwrap();
    }

    #[test]
    fn variants_keyed_alike_are_refused() {
        for src in [
            "enum P { #[serde(rename = \"x\")] A, #[serde(rename = \"x\")] B }",
            "enum P { A, #[serde(alias = \"A\")] B }",
            "enum P { #[serde(rename(serialize = \"B\"))] A, B }",
            "#[serde(rename_all = \"lowercase\")] enum P { Ab, AB }",
            "#[serde(rename_all = \"SCREAMING-KEBAB-CASE\")] enum P { AB, A_b }",
            "#[serde(untagged)] enum P { A, B }",
            "enum P { #[serde(untagged)] A, #[serde(untagged)] B }",
            "enum P { #[serde(rename = \"null\")] A, #[serde(untagged)] B }",
        ] {
            let err = derive(src).expect_err(src);
            assert!(
                err.contains("variant `B`") || err.contains("variant `AB`") || err.contains("variant `A_b`"),
                "{src}: {err}"
            );
        }
    }
}
