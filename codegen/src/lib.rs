//! The one kvgen generator.
//!
//! Front ends (the `#[derive(KvModel)]` macro, the build.rs builder and the
//! `kvgen` CLI) lower their input into the [`ir`] with [`attr::lower`], and
//! emit through [`expand`]. Errors carry the span of the token they are about.
//!
//! The IR, lowering, validation and expansion live in `kvgen-codegen-core`
//! (the derive depends on that crate alone, so crates using it do not compile
//! TOML, JSONC, schema or diffing libraries); they are re-exported here under
//! the same paths. This crate adds project loading, kvgen.toml, wrangler
//! editing, the TypeScript and key-doc emitters and file output.
#![deny(missing_docs)]

mod builder;
pub mod config;
pub mod diag;
pub mod env;
pub mod keys;
pub mod output;
pub mod project;
pub mod same;
pub mod ts;
pub mod wrangler;

pub use builder::Builder;
pub use kvgen_codegen_core::{
    attr, ctxt, derive_model, derive_model_or_stubs, derives_kv_model, expand, fallback, ir, keypart, names, valid,
};
use proc_macro2::TokenStream;

/// Expands every `#[derive(KvModel)]` struct of a Rust source file the way
/// the derive would, and formats the result: the file's items as they are,
/// each model struct (without its `kv` attributes and the `KvModel` derive)
/// followed by its generated code, and `KvModel` dropped from imports. File
/// attributes and out-of-line modules (`mod x;`) are left out, so the result
/// can be `include!`d. Used for
/// snapshots of generated code.
pub fn expand_file(source: &str) -> syn::Result<String> {
    let file = parse_file(source)?;
    // Out-of-line modules name other files: they, and re-exports through them, are left out.
    let external: Vec<syn::Ident> = file
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Mod(m) if m.content.is_none() => Some(m.ident.clone()),
            _ => None,
        })
        .collect();
    let mut items: Vec<syn::Item> = Vec::new();
    for item in file.items {
        match item {
            syn::Item::Mod(m) if m.content.is_none() => {}
            syn::Item::Use(u) if matches!(&u.tree, syn::UseTree::Path(p) if external.contains(&p.ident)) => {}
            syn::Item::Struct(s) if derives_kv_model(&s.attrs) => {
                let input: syn::DeriveInput = s.clone().into();
                let generated: syn::File = syn::parse2(derive_model(&input)?)?;
                let mut plain = s;
                strip_kv(&mut plain);
                items.push(syn::Item::Struct(plain));
                items.extend(generated.items);
            }
            syn::Item::Use(mut u) => {
                if strip_use(&mut u.tree) {
                    items.push(syn::Item::Use(u));
                }
            }
            other => items.push(other),
        }
    }
    let out = syn::File { shebang: None, attrs: Vec::new(), items };
    Ok(prettyplease::unparse(&out))
}

/// The deepest nesting of brackets kvgen reads in a Rust source.
pub const MAX_NESTING: usize = 256;

/// The most tokens kvgen reads in a row at one bracket level with no `,`,
/// `;` or `{..}` between them. The parser recurses without brackets too
/// (`!!!!x`, `|x| |x| ..`, `x = x = ..`, `A<B<C<..>>>`), at most once per token.
pub const MAX_RUN: usize = 16384;

/// The stack the front ends give parsing and generation: with
/// [`MAX_NESTING`] and [`MAX_RUN`], enough for any source kvgen accepts.
pub const STACK_SIZE: usize = 256 << 20;

/// A Rust source file parsed, or an error: a syntax error, or nesting beyond
/// [`MAX_NESTING`] or [`MAX_RUN`] at the token that goes too far. Lexing
/// and this check use no recursion, so no input overflows the stack here.
pub fn parse_file(source: &str) -> syn::Result<syn::File> {
    // Text that does not lex is left to syn, which reports where.
    if let Ok(tokens) = source.parse::<TokenStream>() {
        check_nesting(tokens)?;
    }
    syn::parse_file(source)
}

fn check_nesting(tokens: TokenStream) -> syn::Result<()> {
    use proc_macro2::{Delimiter, TokenTree};
    // Each level: its tokens, and how many came since the last `,`, `;` or `{..}`.
    let mut stack = vec![(tokens.into_iter(), 0usize)];
    while let Some((top, run)) = stack.last_mut() {
        let Some(tree) = top.next() else {
            stack.pop();
            continue;
        };
        *run += 1;
        let span = tree.span();
        match &tree {
            TokenTree::Punct(p) if matches!(p.as_char(), ',' | ';') => *run = 0,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => *run = 0,
            _ => {}
        }
        if *run > MAX_RUN {
            return Err(syn::Error::new(
                span,
                format!("more than {MAX_RUN} tokens in a row without `,`, `;` or a block here; kvgen does not read such a file"),
            ));
        }
        if let TokenTree::Group(g) = tree {
            if stack.len() > MAX_NESTING {
                return Err(syn::Error::new(
                    g.span_open(),
                    format!("brackets nest more than {MAX_NESTING} deep here; kvgen does not read such a file"),
                ));
            }
            stack.push((g.stream().into_iter(), 0));
        }
    }
    Ok(())
}

/// Runs `f` on a thread with a stack of [`STACK_SIZE`], so that parsing and
/// generation of deeply nested input fail with an error, never by
/// overflowing the stack. `None` when no such thread could be started or `f` panicked.
pub fn with_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new().stack_size(STACK_SIZE).spawn_scoped(scope, f).ok()?.join().ok()
    })
}

/// Removes `KvModel` from a use tree; `false` when nothing is left.
fn strip_use(tree: &mut syn::UseTree) -> bool {
    match tree {
        syn::UseTree::Path(p) => strip_use(&mut p.tree),
        syn::UseTree::Name(n) => n.ident != "KvModel",
        syn::UseTree::Rename(r) => r.ident != "KvModel",
        syn::UseTree::Glob(_) => true,
        syn::UseTree::Group(g) => {
            let kept: syn::punctuated::Punctuated<syn::UseTree, syn::Token![,]> =
                std::mem::take(&mut g.items).into_iter().filter_map(|mut t| strip_use(&mut t).then_some(t)).collect();
            g.items = kept;
            !g.items.is_empty()
        }
    }
}

fn strip_kv(s: &mut syn::ItemStruct) {
    s.attrs.retain(|a| !a.path().is_ident(attr::KV));
    for a in &mut s.attrs {
        if !a.path().is_ident("derive") {
            continue;
        }
        if let Ok(list) = a.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        {
            let kept: Vec<_> =
                list.into_iter().filter(|p| p.segments.last().is_none_or(|s| s.ident != "KvModel")).collect();
            *a = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
    s.attrs.retain(|a| !(a.path().is_ident("derive") && a.meta.require_list().is_ok_and(|l| l.tokens.is_empty())));
    for f in &mut s.fields {
        f.attrs.retain(|a| !a.path().is_ident(attr::KV));
    }
}
