//! Reading a crate's Rust sources: the `.rs` files under a source path, the
//! module path of each, and every `#[derive(KvModel)]` struct in them,
//! lowered by the derive's own code.
//!
//! Builds on [`super::found`]. Only [`super`] (loading a project) uses it.

use crate::attr;
use crate::diag::Diagnostic;
use crate::project::found::{Found, Origin};
use std::path::{Path, PathBuf};

/// Adds `path` (a file) or every `.rs` file under it (a folder), sorted.
pub(super) fn collect_rs(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "rs") {
                collect_rs(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// `crate::a::b` for `{crate_src}/a/b.rs` or `{crate_src}/a/b/mod.rs`;
/// `crate` for `lib.rs`, `main.rs` and files outside `crate_src`.
pub fn module_path(crate_src: &Path, file: &Path) -> syn::Path {
    let mut path: syn::Path = syn::parse_quote!(crate);
    let rel = match (std::path::absolute(file), std::path::absolute(crate_src)) {
        (Ok(f), Ok(c)) => f.strip_prefix(&c).map(Path::to_path_buf).ok(),
        _ => None,
    };
    let Some(rel) = rel else { return path };
    let parts: Vec<String> = rel.with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let n = parts.len();
    for (i, part) in parts.into_iter().enumerate() {
        let last = i + 1 == n;
        if last && (part == "mod" || (n == 1 && (part == "lib" || part == "main"))) {
            break;
        }
        if let Ok(ident) = syn::parse_str::<syn::Ident>(&part) {
            path.segments.push(ident.into());
        }
    }
    path
}

pub(super) fn scan_items(
    items: &[syn::Item],
    file: &Path,
    module: &syn::Path,
    models: &mut Vec<Found>,
    problems: &mut Vec<Diagnostic>,
    broken: &mut Vec<String>,
) {
    for item in items {
        match item {
            syn::Item::Struct(s) if crate::derives_kv_model(&s.attrs) => {
                let input: syn::DeriveInput = s.clone().into();
                match attr::lower(&input) {
                    Ok(model) => {
                        let start = s.ident.span().start();
                        let pos = (start.line, start.column + 1);
                        models.push(Found {
                            model,
                            origin: Origin::Rust { file: file.to_path_buf(), pos, module: module.clone() },
                        });
                    }
                    Err(e) => {
                        broken.push(s.ident.to_string());
                        problems.extend(e.into_iter().map(|e| Diagnostic::at_span(file, e.span(), e.to_string())))
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    let mut sub = module.clone();
                    sub.segments.push(m.ident.clone().into());
                    scan_items(inner, file, &sub, models, problems, broken);
                }
            }
            _ => {}
        }
    }
}
