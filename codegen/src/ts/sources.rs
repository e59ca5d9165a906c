//! What the Rust sources say of the JSON serde writes: the models' structs
//! (with their serde attributes), the unit enums with their variants' serde
//! names, and a model's fields as the JSON names them.
//!
//! Builds on [`super::spelling`] alone within `ts` (and on the crate's Rust
//! parsing, [`crate::parse_file`]). The types, key builders and read
//! helpers build on it, so it must not depend on them.

use crate::ir::Model;
use crate::project::found::Origin;
use crate::project::Project;
use crate::ts::spelling::{pascal, plain, uncapitalize};
use std::collections::HashMap;

/// What the sources say of serde: the models' structs and the unit enums.
#[derive(Default)]
pub(super) struct Sources {
    pub(super) structs: HashMap<String, syn::ItemStruct>,
    /// Unit enums by name: their variants' serde names.
    pub(super) enums: HashMap<String, Vec<String>>,
}

pub(super) fn gather(project: &Project) -> Sources {
    let mut s = Sources::default();
    for file in project.files_read.iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        let Ok(parsed) = crate::parse_file(&text) else { continue };
        walk(&parsed.items, &mut s);
    }
    for f in &project.models {
        if let Origin::Toml { item } = &f.origin {
            s.structs.insert(item.ident.to_string(), (**item).clone());
        }
    }
    s
}

fn walk(items: &[syn::Item], s: &mut Sources) {
    for item in items {
        match item {
            syn::Item::Struct(st) if crate::derives_kv_model(&st.attrs) => {
                s.structs.insert(st.ident.to_string(), st.clone());
            }
            syn::Item::Enum(e) if e.variants.iter().all(|v| matches!(v.fields, syn::Fields::Unit)) => {
                let rule = serde_attrs(&e.attrs).rename_all;
                let names = e
                    .variants
                    .iter()
                    .filter(|v| !serde_attrs(&v.attrs).skip)
                    .map(|v| {
                        serde_attrs(&v.attrs)
                            .rename
                            .unwrap_or_else(|| rename_variant(&v.ident.to_string(), rule.as_deref()))
                    })
                    .collect();
                s.enums.insert(e.ident.to_string(), names);
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    walk(inner, s);
                }
            }
            _ => {}
        }
    }
}

/// The serde attributes that change the JSON's shape.
#[derive(Default)]
pub(super) struct Serde {
    pub(super) rename: Option<String>,
    pub(super) rename_all: Option<String>,
    pub(super) skip: bool,
    pub(super) optional: bool,
    pub(super) flatten: bool,
}

pub(super) fn serde_attrs(attrs: &[syn::Attribute]) -> Serde {
    let mut s = Serde::default();
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|m| {
            let key = m.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            let lit = |m: &syn::meta::ParseNestedMeta| -> syn::Result<Option<String>> {
                if m.input.peek(syn::Token![=]) {
                    let v: syn::Expr = m.value()?.parse()?;
                    if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = v {
                        return Ok(Some(s.value()));
                    }
                    return Ok(None);
                }
                if m.input.peek(syn::token::Paren) {
                    // `rename(serialize = "..", deserialize = "..")`: the JSON written is the serialize name.
                    let mut found = None;
                    m.parse_nested_meta(|inner| {
                        let v: syn::Expr = inner.value()?.parse()?;
                        if inner.path.is_ident("serialize") {
                            if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = v {
                                found = Some(s.value());
                            }
                        }
                        Ok(())
                    })?;
                    return Ok(found);
                }
                Ok(None)
            };
            match key.as_str() {
                "rename" => s.rename = lit(&m)?,
                "rename_all" => s.rename_all = lit(&m)?,
                "skip" | "skip_serializing" => {
                    s.skip = true;
                    lit(&m)?;
                }
                "skip_serializing_if" => {
                    s.optional = true;
                    lit(&m)?;
                }
                "flatten" => s.flatten = true,
                _ => {
                    lit(&m)?;
                }
            }
            Ok(())
        });
    }
    s
}

pub(super) fn rename_field(name: &str, rule: Option<&str>) -> String {
    let pascal = || pascal(name);
    match rule {
        Some("UPPERCASE" | "SCREAMING_SNAKE_CASE") => name.to_ascii_uppercase(),
        Some("PascalCase") => pascal(),
        Some("camelCase") => uncapitalize(&pascal()),
        Some("kebab-case") => name.replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => name.to_ascii_uppercase().replace('_', "-"),
        _ => name.to_string(),
    }
}

pub(super) fn rename_variant(name: &str, rule: Option<&str>) -> String {
    let snake = || {
        let mut out = String::new();
        for (i, c) in name.char_indices() {
            if c.is_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    };
    match rule {
        Some("lowercase") => name.to_ascii_lowercase(),
        Some("UPPERCASE") => name.to_ascii_uppercase(),
        Some("camelCase") => uncapitalize(name),
        Some("snake_case") => snake(),
        Some("SCREAMING_SNAKE_CASE") => snake().to_ascii_uppercase(),
        Some("kebab-case") => snake().replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => snake().to_ascii_uppercase().replace('_', "-"),
        _ => name.to_string(),
    }
}

/// A model's fields as the JSON has them, (field position, JSON name, optional), and the names of its flattened fields.
pub(super) type JsonFields = (Vec<(usize, String, bool)>, Vec<String>);

/// A model's [`JsonFields`].
pub(super) fn json_fields(model: &Model, sources: &Sources) -> JsonFields {
    let st = sources.structs.get(&model.ident.to_string());
    let rule = st.and_then(|s| serde_attrs(&s.attrs).rename_all);
    let mut out = Vec::new();
    let mut flattened = Vec::new();
    for (i, f) in model.fields.iter().enumerate() {
        let attrs = st.and_then(|s| s.fields.iter().find(|sf| sf.ident.as_ref() == Some(&f.ident))).map(|sf| &sf.attrs);
        let serde = attrs.map(|a| serde_attrs(a)).unwrap_or_default();
        if serde.skip {
            continue;
        }
        if serde.flatten {
            flattened.push(plain(&f.ident));
            continue;
        }
        let name = serde.rename.unwrap_or_else(|| rename_field(&plain(&f.ident), rule.as_deref()));
        out.push((i, name, serde.optional));
    }
    (out, flattened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::spelling::{access, param_name, prop};

    #[test]
    fn rename_rules_are_serdes() {
        assert_eq!(rename_field("org_id", Some("camelCase")), "orgId");
        assert_eq!(rename_field("org_id", Some("PascalCase")), "OrgId");
        assert_eq!(rename_field("org_id", Some("kebab-case")), "org-id");
        assert_eq!(rename_field("org_id", Some("SCREAMING-KEBAB-CASE")), "ORG-ID");
        assert_eq!(rename_field("org_id", None), "org_id");
        assert_eq!(rename_variant("LightGrey", Some("snake_case")), "light_grey");
        assert_eq!(rename_variant("LightGrey", Some("kebab-case")), "light-grey");
        assert_eq!(rename_variant("LightGrey", Some("SCREAMING_SNAKE_CASE")), "LIGHT_GREY");
        assert_eq!(rename_variant("LightGrey", Some("camelCase")), "lightGrey");
        assert_eq!(rename_variant("LightGrey", Some("lowercase")), "lightgrey");
    }

    #[test]
    fn serde_attributes_shape_the_json() {
        let st: syn::ItemStruct = syn::parse_quote! {
            #[serde(rename_all = "camelCase")]
            struct S {
                #[serde(rename(serialize = "x-out", deserialize = "x_in"))] a: u8,
                #[serde(skip_serializing_if = "Option::is_none", default)] b_c: Option<String>,
                #[serde(skip)] d: u8,
                #[serde(flatten)] e: Other,
            }
        };
        let f = |i: usize| serde_attrs(&st.fields.iter().nth(i).unwrap().attrs);
        assert_eq!(serde_attrs(&st.attrs).rename_all.as_deref(), Some("camelCase"));
        assert_eq!(f(0).rename.as_deref(), Some("x-out"));
        assert!(f(1).optional && !f(1).skip);
        assert!(f(2).skip);
        assert!(f(3).flatten);
        assert_eq!(prop("x-out"), "\"x-out\"");
        assert_eq!(access("rec", "x-out"), "rec[\"x-out\"]");
        assert_eq!(param_name("default"), "default_");
        assert_eq!(param_name("scope"), "scope_");
    }
}
