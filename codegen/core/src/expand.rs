//! Emits the model-specific glue for one model: the `Model` impl, the
//! metadata struct, and the typed repository. Everything generic lives in the
//! `kvgen` runtime; each generated method is one call into it.

use crate::ir::{HasKind, IndexKind, Model};
use crate::names;
use proc_macro2::Span;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
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

/// The type a finder takes for a field of type `ty`: `&str` for strings,
/// primitives by value, anything else by reference; `Option<T>` as `T`.
fn param_type(ty: &syn::Type) -> TokenStream {
    let inner = option_inner(ty).unwrap_or(ty);
    if let syn::Type::Path(p) = inner {
        if let Some(seg) = p.path.segments.last() {
            let name = seg.ident.to_string();
            if name == "String" && p.qself.is_none() {
                return quote!(&str);
            }
            const BY_VALUE: &[&str] = &[
                "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "bool", "char",
            ];
            if BY_VALUE.contains(&name.as_str()) && p.path.segments.len() == 1 {
                return quote!(#inner);
            }
        }
    }
    quote!(&#inner)
}

fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else { return None };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

fn repo_methods(model: &Model) -> Vec<TokenStream> {
    let ident = &model.ident;
    let mut out = Vec::new();
    if let Some(generate) = model.generate {
        let (kind, what) = match generate {
            crate::ir::IdGen::Ulid => (quote!(Ulid), "a new ULID"),
            crate::ir::IdGen::UuidV7 => (quote!(UuidV7), "a new UUID v7"),
            crate::ir::IdGen::UuidV4 => (quote!(UuidV4), "a new UUID v4"),
        };
        let idf = &model.id_field().ident;
        let doc = format!(
            "Creates `draft` under {what}, which it fills into `draft.{idf}` and returns. Costs what `create` costs."
        );
        let doc_with =
            "[`create_new`](Self::create_new) with a ttl, an expiration or no expiry (`opts`). Costs what `create_with` costs.";
        out.push(quote! {
            #[doc = #doc]
            pub async fn create_new(&self, draft: &mut #ident) -> ::kvgen::Result<::std::string::String> {
                draft.#idf = ::kvgen::id::new(::kvgen::id::IdKind::#kind)?;
                self.0.create(draft).await?;
                ::core::result::Result::Ok(::core::clone::Clone::clone(&draft.#idf))
            }
            #[doc = #doc_with]
            pub async fn create_new_with(&self, draft: &mut #ident, opts: ::kvgen::WriteOptions) -> ::kvgen::Result<::std::string::String> {
                draft.#idf = ::kvgen::id::new(::kvgen::id::IdKind::#kind)?;
                self.0.create_with(draft, opts).await?;
                ::core::result::Result::Ok(::core::clone::Clone::clone(&draft.#idf))
            }
        });
    }
    for (i, index) in model.indexes.iter().enumerate() {
        let params: Vec<_> = index
            .fields
            .iter()
            .map(|&f| {
                let field = &model.fields[f];
                let (fi, ty) = (&field.ident, param_type(&field.ty));
                quote!(#fi: #ty)
            })
            .collect();
        let args: Vec<_> = (0..index.fields.len()).map(|p| key_arg(model, index, p)).collect();
        let what =
            index.fields.iter().map(|&f| format!("`{}`", model.fields[f].ident)).collect::<Vec<_>>().join(" and ");
        match index.kind {
            IndexKind::Unique => {
                let [find, upsert] = names::index_methods(model, index).map(|n| names::joined("", &n, index.name.span));
                let doc_find = format!("The [`{ident}`] with this {what}, verified against the record. Costs 2 reads.");
                let doc_upsert = format!("Creates `record`, or replaces the [`{ident}`] that has its {what}, keeping that record's id. Returns what was stored.");
                out.push(quote! {
                    #[doc = #doc_find]
                    pub async fn #find(&self, #(#params),*) -> ::kvgen::Result<::core::option::Option<#ident>> {
                        self.0.find_unique(#i, &[#(#args),*]).await
                    }
                    #[doc = #doc_upsert]
                    pub async fn #upsert(&self, record: #ident) -> ::kvgen::Result<#ident> {
                        self.0.upsert_unique(#i, record).await
                    }
                });
            }
            IndexKind::Secondary => {
                let [list, list_meta] =
                    names::index_methods(model, index).map(|n| names::joined("", &n, index.name.span));
                let doc_list = format!(
                    "One page of the [`{ident}`] records with this {what}. Costs 1 list + 1 bulk read per 100 records."
                );
                let doc_meta = format!("One page of the ids and metadata of [`{ident}`] records with this {what}, without reading them. Costs 1 list.");
                out.push(quote! {
                    #[doc = #doc_list]
                    pub async fn #list(&self, #(#params,)* page: ::kvgen::Page) -> ::kvgen::Result<::kvgen::ListPage<#ident>> {
                        self.0.list_index(#i, &[#(#args),*], page).await
                    }
                    #[doc = #doc_meta]
                    pub async fn #list_meta(&self, #(#params,)* page: ::kvgen::Page) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<#ident>>> {
                        self.0.list_index_meta(#i, &[#(#args),*], page).await
                    }
                });
            }
        }
    }
    out.extend(names::group_listings(model).iter().map(|g| group_listing(model, g)));
    for (name, i, k) in names::group_counts(model) {
        let index = &model.indexes[i];
        let method = names::joined("", &name, index.name.span);
        let params = index.fields[..k].iter().map(|&f| {
            let field = &model.fields[f];
            let (fi, ty) = (&field.ident, param_type(&field.ty));
            quote!(#fi: #ty)
        });
        let args = (0..k).map(|p| key_arg(model, index, p));
        let what =
            index.fields[..k].iter().map(|&f| format!("`{}`", model.fields[f].ident)).collect::<Vec<_>>().join(" and ");
        let doc = format!(
            "How many entries index `{}` holds for this {what}, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.",
            index.name.value
        );
        out.push(quote! {
            #[doc = #doc]
            pub async fn #method(&self, #(#params),*) -> ::kvgen::Result<u64> {
                self.0.count_group(#i, &[#(#args),*]).await
            }
        });
    }
    // `check_container` refuses a model whose snake_case name is no identifier; the fallbacks never panic.
    let (param, params) = param_names(model);
    for rel in &model.belongs_to {
        let target = &rel.target;
        let fk = &model.fields[rel.field].ident;
        let [one, many] = names::belongs_to_methods(rel).map(|n| names::joined("", &n, Span::call_site()));
        let doc_one = format!("The `{}` this [`{ident}`] belongs to (through `{fk}`). Costs 1 read.", rel.name);
        let doc_many = format!("For each [`{ident}`], the `{}` it belongs to, in the same order. Costs 1 bulk read per 100 distinct parents.", rel.name);
        out.push(quote_spanned! {target.span()=>
            #[doc = #doc_one]
            pub async fn #one(&self, #param: &#ident) -> ::kvgen::Result<::core::option::Option<#target>> {
                self.0.related::<#target>().load_by_id(&#param.#fk).await
            }
            #[doc = #doc_many]
            pub async fn #many(&self, #params: &[#ident]) -> ::kvgen::Result<::std::vec::Vec<::core::option::Option<#target>>> {
                self.0.related::<#target>().load_by_ids(#params.iter().map(|r| &r.#fk)).await
            }
        });
    }
    for rel in &model.has {
        let target = &rel.target;
        let field_id = crate::ir::field_id(&rel.by.to_string());
        // Spanned at `by = field`, so a missing index is reported at the field's name.
        let at_by = respan(quote!(#target), rel.by.span());
        let index = quote_spanned!(rel.by.span()=> <#at_by as ::kvgen::__private::IndexedBy<#field_id>>::INDEX);
        let name = &rel.name;
        match rel.kind {
            HasKind::Many => {
                let [list, load] = names::has_methods(rel).map(|n| names::joined("", &n, Span::call_site()));
                let doc_list = format!(
                    "One page of the `{name}` of this [`{ident}`]. Costs 1 list + 1 bulk read per 100 children."
                );
                let doc_load = format!("Every one of the `{name}` of each [`{ident}`], in the same order. Costs 1 list per parent and 1 bulk read per 100 children in all.");
                let idf = &model.id_field().ident;
                out.push(quote! {
                    #[doc = #doc_list]
                    pub async fn #list(&self, #param: &#ident, page: ::kvgen::Page) -> ::kvgen::Result<::kvgen::ListPage<#target>> {
                        self.0.related::<#target>().list_index(#index, &[&#param.#idf], page).await
                    }
                    #[doc = #doc_load]
                    pub async fn #load(&self, #params: &[#ident]) -> ::kvgen::Result<::std::vec::Vec<::std::vec::Vec<#target>>> {
                        self.0.related::<#target>().load_groups(#index, #params.iter().map(|r| &r.#idf)).await
                    }
                });
            }
            HasKind::One => {
                let [one, many] = names::has_methods(rel).map(|n| names::joined("", &n, Span::call_site()));
                let doc_one = format!("The `{name}` of this [`{ident}`], if any.");
                let doc_many = format!("For each [`{ident}`], its `{name}`, in the same order.");
                let idf = &model.id_field().ident;
                out.push(quote! {
                    #[doc = #doc_one]
                    pub async fn #one(&self, #param: &#ident) -> ::kvgen::Result<::core::option::Option<#target>> {
                        self.0.related::<#target>().load_one(#index, &#param.#idf).await
                    }
                    #[doc = #doc_many]
                    pub async fn #many(&self, #params: &[#ident]) -> ::kvgen::Result<::std::vec::Vec<::core::option::Option<#target>>> {
                        self.0.related::<#target>().load_ones(#index, #params.iter().map(|r| &r.#idf)).await
                    }
                });
            }
        }
    }
    out
}

/// The argument a finder passes for position `p` of `index`: a reference to
/// the parameter, wrapped in `Desc` at a descending position.
fn key_arg(model: &Model, index: &crate::ir::Index, p: usize) -> TokenStream {
    let field = &model.fields[index.fields[p]];
    let fi = &field.ident;
    if index.is_desc(p) {
        quote_spanned!(field.ty.span()=> &::kvgen::key::Desc(&#fi))
    } else {
        quote_spanned!(field.ty.span()=> &#fi)
    }
}

/// A listing of one group of an index: `list_by_a`, `list_by_a_from_b`.
fn group_listing(model: &Model, g: &names::GroupListing) -> TokenStream {
    let ident = &model.ident;
    let index = &model.indexes[g.index];
    let i = g.index;
    let name = names::joined("", &g.name, index.name.span);
    let param = |p: usize| {
        let field = &model.fields[index.fields[p]];
        let (fi, ty) = (&field.ident, param_type(&field.ty));
        quote!(#fi: #ty)
    };
    let params: Vec<_> = (0..g.fields).map(param).collect();
    let args: Vec<_> = (0..g.fields).map(|p| key_arg(model, index, p)).collect();
    let what =
        (0..g.fields).map(|p| format!("`{}`", model.fields[index.fields[p]].ident)).collect::<Vec<_>>().join(" and ");
    let group =
        if what.is_empty() { format!("[`{ident}`] records") } else { format!("[`{ident}`] records with this {what}") };
    let extra = if index.kind == IndexKind::Unique { " + 1 bulk read per 100 entries" } else { "" };
    match g.start {
        None if g.meta => {
            let doc = format!("One page of the ids and metadata of the {group}, in the order of the index `{}`, without reading the records. Costs 1 list.", index.name.value);
            quote! {
                #[doc = #doc]
                pub async fn #name(&self, #(#params,)* page: ::kvgen::Page) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<#ident>>> {
                    self.0.list_group_meta(#i, &[#(#args),*], page).await
                }
            }
        }
        None => {
            let doc = format!("One page of the {group}, in the order of the index `{}`. Costs 1 list + 1 bulk read per 100 records{extra}.", index.name.value);
            quote! {
                #[doc = #doc]
                pub async fn #name(&self, #(#params,)* page: ::kvgen::Page) -> ::kvgen::Result<::kvgen::ListPage<#ident>> {
                    self.0.list_group(#i, &[#(#args),*], ::core::option::Option::None, page).await
                }
            }
        }
        Some(after) => {
            let next = param(g.fields);
            let start = key_arg(model, index, g.fields);
            let field = &model.fields[index.fields[g.fields]].ident;
            let cmp = match (after, index.is_desc(g.fields)) {
                (false, false) => "`>=`",
                (true, false) => "`>`",
                (false, true) => "`<=`",
                (true, true) => "`<`",
            };
            let order =
                if index.is_desc(g.fields) { "highest first: the index keys it descending" } else { "lowest first" };
            let doc = format!(
                "One page of the {group} whose `{field}` is {cmp} the one given, {order}. \
                 Costs 1 list of up to 1,000 keys + 1 bulk read per 100 records{extra}; the keys before the start are passed over \
                 1,000 a call (pages before the start come back empty, with a cursor)."
            );
            quote! {
                #[doc = #doc]
                pub async fn #name(&self, #(#params,)* #next, page: ::kvgen::Page) -> ::kvgen::Result<::kvgen::ListPage<#ident>> {
                    self.0.list_group(#i, &[#(#args),*], ::core::option::Option::Some((#start, #after)), page).await
                }
            }
        }
    }
}

/// The parameter names of relation loaders: the model's name in snake_case,
/// singular and plural (`user`, `users`), or `None` when either is no
/// identifier (a model named `_1`).
pub fn param_idents(model: &Model) -> Option<(syn::Ident, syn::Ident)> {
    let snake = names::snake(&names::text(&model.ident));
    Some((names::try_ident(&snake, Span::call_site())?, names::try_ident(&names::plural(&snake), Span::call_site())?))
}

fn param_names(model: &Model) -> (syn::Ident, syn::Ident) {
    param_idents(model).unwrap_or_else(|| (format_ident!("record"), format_ident!("records")))
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

/// `tokens` with every span replaced by `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                t = proc_macro2::TokenTree::Group(group);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
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
