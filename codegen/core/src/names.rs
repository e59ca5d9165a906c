//! Names of generated items.

use crate::ir::{BelongsTo, Has, HasKind, Index, IndexKind, Model};
use proc_macro2::{Ident, Span};
use syn::ext::IdentExt;

/// An identifier for generated code from a name kvgen made up: a raw
/// identifier when the name is a keyword (`r#in`), with `_` added for the
/// few that cannot be raw (`self_`). `None` when the name cannot be an
/// identifier at all (empty, `_`, starting with a digit, holding a space).
pub fn try_ident(name: &str, span: Span) -> Option<Ident> {
    let mut ident = match syn::parse_str::<Ident>(name) {
        Ok(i) => i,
        Err(_) => match name {
            "self" | "Self" | "super" | "crate" => Ident::new(&format!("{name}_"), span),
            // The lexer accepts `r#name` only when `name` is an identifier.
            _ => syn::parse_str::<Ident>(&format!("r#{name}")).ok()?,
        },
    };
    ident.set_span(span);
    Some(ident)
}

/// `{prefix}{stem}` as an identifier (`find_by_email`). Front ends check the
/// names they accept, so the fallback is never expected to be used; it keeps
/// a missed case a compile error in generated code rather than a panic.
pub fn joined(prefix: &str, stem: &str, span: Span) -> Ident {
    try_ident(&format!("{prefix}{stem}"), span).unwrap_or_else(|| Ident::new("__kvgen_invalid_name", span))
}

/// snake_case of `name` (`BlogPost` -> `blog_post`).
pub fn snake(name: &str) -> String {
    heck::AsSnakeCase(name).to_string()
}

/// A user's identifier as plain text, without `r#`.
pub fn text(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// A naive English plural for relation names: `post` -> `posts`,
/// `category` -> `categories`, `box` -> `boxes`. `name = ".."` overrides it.
pub fn plural(word: &str) -> String {
    let consonant_y = word.ends_with('y')
        && !word.ends_with("ay")
        && !word.ends_with("ey")
        && !word.ends_with("oy")
        && !word.ends_with("uy");
    if consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"].iter().any(|e| word.ends_with(e)) {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// The generated repository type's name: `{Model}Repo`.
pub fn repo_ident(model: &Model) -> Ident {
    joined(&text(&model.ident), "Repo", model.ident.span())
}

/// The generated metadata type's name: `{Model}Meta`.
pub fn meta_ident(model: &Model) -> Ident {
    joined(&text(&model.ident), "Meta", model.ident.span())
}

/// The stem of an index's finder: its name when named, else its fields
/// joined by `_and_` (`org_id_and_handle`).
pub fn index_stem(model: &Model, index: &Index) -> String {
    if index.named {
        index.name.value.clone()
    } else {
        index.fields.iter().map(|&f| text(&model.fields[f].ident)).collect::<Vec<_>>().join("_and_")
    }
}

/// The two methods an index gives the repository: `find_by_`/`upsert_by_`
/// for a unique index, `list_by_`/`list_by_.._meta` for a secondary one.
/// Validation and emission both name methods through these functions.
pub fn index_methods(model: &Model, index: &Index) -> [String; 2] {
    let stem = index_stem(model, index);
    match index.kind {
        IndexKind::Unique => [format!("find_by_{stem}"), format!("upsert_by_{stem}")],
        IndexKind::Secondary => [format!("list_by_{stem}"), format!("list_by_{stem}_meta")],
    }
}

/// The two loaders a `belongs_to` gives: `load_{name}` and `load_{names}`.
pub fn belongs_to_methods(rel: &BelongsTo) -> [String; 2] {
    let name = text(&rel.name);
    [format!("load_{name}"), format!("load_{}", plural(&name))]
}

/// The two methods a `has_many` (`list_{name}`, `load_{name}`) or a `has_one`
/// (`load_{name}`, `load_{names}`) gives.
pub fn has_methods(rel: &Has) -> [String; 2] {
    let name = text(&rel.name);
    match rel.kind {
        HasKind::Many => [format!("list_{name}"), format!("load_{name}")],
        HasKind::One => [format!("load_{name}"), format!("load_{}", plural(&name))],
    }
}

/// Every method the generated repository of `model` defines: the two each
/// index or relation gives, with the index's or relation's name span, in order.
pub fn repo_methods(model: &Model) -> Vec<([String; 2], proc_macro2::Span)> {
    let indexes = model.indexes.iter().map(|index| (index_methods(model, index), index.name.span));
    let belongs_to = model.belongs_to.iter().map(|rel| (belongs_to_methods(rel), rel.name.span()));
    let has = model.has.iter().map(|rel| (has_methods(rel), rel.name.span()));
    indexes.chain(belongs_to).chain(has).collect()
}

/// A listing of one group of an index by its leading fields, generated as
/// `list_by_{a}` (`list_by_{a}_and_{b}`), and from or after a value of the
/// next field as `list_by_{a}_from_{b}` / `list_by_{a}_after_{b}`
/// (`list_by_{b}_from` when there is no leading field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    /// The method's name.
    pub name: String,
    /// The position of the index in [`Model::indexes`].
    pub index: usize,
    /// How many leading fields of the index the method takes.
    pub fields: usize,
    /// `Some(after)` when the method takes a start value of the next field
    /// (`after`: exclusive).
    pub start: Option<bool>,
    /// Ids and metadata only (`list_by_{a}_meta`, secondary indexes): no record is read.
    pub meta: bool,
}

/// Every group listing of `model`, in index order. The listings of the
/// indexes' own values (`list_by_{stem}`) are not repeated. A name another
/// index's or relation's own method has, or an earlier index's listing, is
/// given instead with the index's stem after the group: `list_by_{a}_in_{stem}`
/// (`.._in_{stem}_meta`, `.._in_{stem}_from_{b}`, `list_by_{b}_from_in_{stem}`),
/// so that no index loses a listing; one whose qualified name is taken too is
/// not generated.
pub fn group_listings(model: &Model) -> Vec<GroupListing> {
    // Every index's and relation's own methods come first.
    let mut taken: Vec<String> = repo_methods(model).into_iter().flat_map(|(names, _)| names).collect();
    let mut out = Vec::new();
    for (i, index) in model.indexes.iter().enumerate() {
        let field = |p: usize| text(&model.fields[index.fields[p]].ident);
        let stem = index_stem(model, index);
        let n = index.fields.len();
        let mut push = |plain: String, qualified: String, g: GroupListing| {
            for name in [plain, qualified] {
                if !taken.contains(&name) {
                    taken.push(name.clone());
                    out.push(GroupListing { name, ..g });
                    return;
                }
            }
        };
        for k in 0..=n {
            let group = (0..k).map(field).collect::<Vec<_>>().join("_and_");
            let g = GroupListing { name: String::new(), index: i, fields: k, start: None, meta: false };
            // The group of the leading k fields (all of them: the index's own `list_by_*`).
            if k > 0 && k < n {
                push(format!("list_by_{group}"), format!("list_by_{group}_in_{stem}"), g.clone());
                if index.kind == IndexKind::Secondary {
                    let meta = GroupListing { meta: true, ..g.clone() };
                    push(format!("list_by_{group}_meta"), format!("list_by_{group}_in_{stem}_meta"), meta);
                }
            }
            // From or after a value of the next field: integers only, whose keys have a fixed width.
            if k < n && crate::ir::is_integer(&model.fields[index.fields[k]].ty) {
                for (word, after) in [("from", false), ("after", true)] {
                    let (plain, qualified) = if k == 0 {
                        (format!("list_by_{}_{word}", field(k)), format!("list_by_{}_{word}_in_{stem}", field(k)))
                    } else {
                        (
                            format!("list_by_{group}_{word}_{}", field(k)),
                            format!("list_by_{group}_in_{stem}_{word}_{}", field(k)),
                        )
                    };
                    push(plain, qualified, GroupListing { start: Some(after), ..g.clone() });
                }
            }
        }
    }
    out
}

/// `count_by_{stem}` of each secondary index and `count_by_{a}` of each group
/// of leading fields: `(name, index position, how many leading fields)`.
/// A name already taken (by another method, or an earlier index's count)
/// is given with the index's stem after the group, `count_by_{a}_in_{stem}`,
/// as [`group_listings`] names its listings; not at all when that is taken too.
pub fn group_counts(model: &Model) -> Vec<(String, usize, usize)> {
    let mut taken: Vec<String> = repo_methods(model).into_iter().flat_map(|(names, _)| names).collect();
    taken.extend(group_listings(model).into_iter().map(|g| g.name));
    let mut out = Vec::new();
    for (i, index) in model.indexes.iter().enumerate() {
        let n = index.fields.len();
        for k in 1..=n {
            let name = if k == n {
                if index.kind == IndexKind::Unique {
                    continue;
                }
                format!("count_by_{}", index_stem(model, index))
            } else {
                let group =
                    index.fields[..k].iter().map(|&f| text(&model.fields[f].ident)).collect::<Vec<_>>().join("_and_");
                format!("count_by_{group}")
            };
            let qualified = if k == n { None } else { Some(format!("{name}_in_{}", index_stem(model, index))) };
            if let Some(name) = std::iter::once(name).chain(qualified).find(|name| !taken.contains(name)) {
                taken.push(name.clone());
                out.push((name, i, k));
            }
        }
    }
    out
}

// ---- the binding struct (`KvEnv`) and its members

/// Fields the generated `Env` has besides its bindings'.
pub const RESERVED_FIELDS: &[&str] = &["scope"];

/// Methods the generated `Env` has besides its models' accessors.
pub const RESERVED_METHODS: &[&str] =
    &["new", "from_bindings", "with_scope", "stores", "verify_all", "repair_all", "from_worker"];

/// The snake_case a binding's field is named after (`APP` -> `app`).
pub fn binding_field_name(binding: &str) -> String {
    snake(binding)
}

/// The field name of a binding: its snake_case (`APP` -> `app`); `None`
/// when that is no identifier (`_1` gives `1`).
pub fn binding_field(binding: &str) -> Option<syn::Ident> {
    try_ident(&binding_field_name(binding), proc_macro2::Span::call_site())
}

/// The snake_case plural a model's accessor is named after (`User` -> `users`).
pub fn accessor_name(model: &syn::Ident) -> String {
    plural(&snake(&text(model)))
}

/// The accessor name of a model: its plural snake_case (`User` -> `users`).
pub fn accessor(model: &syn::Ident) -> Option<syn::Ident> {
    try_ident(&accessor_name(model), proc_macro2::Span::call_site())
}

/// The default name of the binding struct. Not `Env`: a crate's own `Env`
/// would shadow `worker::Env` under the usual `use worker::*;`.
pub const DEFAULT_NAME: &str = "KvEnv";

/// Why `name` cannot name the generated binding struct, or `None` when it can.
pub fn invalid_env_struct(name: &str) -> Option<String> {
    match syn::parse_str::<syn::Ident>(name) {
        Ok(i) if i == "Self" => Some(format!("`{name}` cannot name a struct")),
        Ok(_) => None,
        Err(_) => Some(format!("`{name}` is not a Rust identifier; name the struct like `KvEnv` or `Bindings`")),
    }
}

#[cfg(test)]
mod tests {
    use super::{group_counts, group_listings, plural};

    /// A group listing as `(name, index, leading fields, start)`.
    type Listing = (String, usize, usize, Option<bool>);

    fn names(model: syn::DeriveInput) -> (Vec<Listing>, Vec<(String, usize, usize)>) {
        let model = crate::attr::lower(&model).expect("a valid model");
        let listings = group_listings(&model).into_iter().map(|g| (g.name, g.index, g.fields, g.start)).collect();
        (listings, group_counts(&model))
    }

    #[test]
    fn group_listings_are_named_once_first_index_first() {
        let (listings, counts) = names(syn::parse_quote! {
            #[kv(index(a, b), unique(a, c, n), index(t, name = "when"))]
            struct M {
                #[kv(id)] id: String,
                #[kv(index)] s: String,
                a: String,
                b: u64,
                c: i32,
                n: u8,
                t: u64,
            }
        });
        let l = |n: &str, i, k, start| (n.to_string(), i, k, start);
        assert_eq!(
            listings,
            [
                // Index 1 is (a, b): `list_by_a` and b from/after.
                l("list_by_a", 1, 1, None),
                l("list_by_a_meta", 1, 1, None),
                l("list_by_a_from_b", 1, 1, Some(false)),
                l("list_by_a_after_b", 1, 1, Some(true)),
                // Index 2 is unique (a, c, n): `list_by_a` is taken by index 1, so it is qualified.
                l("list_by_a_in_a_and_c_and_n", 2, 1, None),
                l("list_by_a_from_c", 2, 1, Some(false)),
                l("list_by_a_after_c", 2, 1, Some(true)),
                l("list_by_a_and_c", 2, 2, None),
                l("list_by_a_and_c_from_n", 2, 2, Some(false)),
                l("list_by_a_and_c_after_n", 2, 2, Some(true)),
                // Index 3, named `when`, over the integer t: from/after its first field.
                l("list_by_t_from", 3, 0, Some(false)),
                l("list_by_t_after", 3, 0, Some(true)),
            ]
        );
        let c = |n: &str, i, k| (n.to_string(), i, k);
        assert_eq!(
            counts,
            [
                c("count_by_s", 0, 1),
                c("count_by_a", 1, 1),
                c("count_by_a_and_b", 1, 2),
                c("count_by_a_in_a_and_c_and_n", 2, 1),
                c("count_by_a_and_c", 2, 2),
                c("count_by_when", 3, 1)
            ]
        );
    }

    /// A `belongs_to` takes `list_by_owner_id`: the compound index `recent`
    /// over the same leading field still lists its group, newest first, under its own name.
    #[test]
    fn a_group_listing_a_relation_took_is_named_after_its_index() {
        let (listings, counts) = names(syn::parse_quote! {
            #[kv(index(owner_id, created_at desc, name = "recent"))]
            struct M {
                #[kv(id)] id: String,
                #[kv(belongs_to = Owner)] owner_id: String,
                created_at: u64,
            }
        });
        let names: Vec<&str> = listings.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "list_by_owner_id_in_recent",
                "list_by_owner_id_in_recent_meta",
                "list_by_owner_id_from_created_at",
                "list_by_owner_id_after_created_at"
            ]
        );
        let counts: Vec<&str> = counts.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(counts, ["count_by_owner_id", "count_by_owner_id_in_recent", "count_by_recent"]);
    }

    #[test]
    fn plurals() {
        assert_eq!(plural("post"), "posts");
        assert_eq!(plural("category"), "categories");
        assert_eq!(plural("day"), "days");
        assert_eq!(plural("box"), "boxes");
        assert_eq!(plural("match"), "matches");
    }
}
