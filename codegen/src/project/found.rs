//! One model as the project found it: the lowered [`Model`] and its
//! [`Origin`] (a Rust source, or a `[models]` table of kvgen.toml), with the
//! paths generated code names its type and repository by.
//!
//! Builds on the IR and [`crate::names`] alone. The other parts of
//! `project`, and the emitters, build on it, so it must not depend on them.

use crate::ir::Model;
use proc_macro2::TokenStream;
use quote::quote;
use std::path::PathBuf;

/// Where a model came from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A `#[derive(KvModel)]` struct in a Rust source file.
    Rust {
        /// The file.
        file: PathBuf,
        /// Line and column of the struct's name.
        pos: (usize, usize),
        /// The module path of the struct within its crate (`crate::models`).
        module: syn::Path,
    },
    /// A `[models.NAME]` table of `kvgen.toml`; kvgen generates the struct.
    Toml {
        /// The struct kvgen generates.
        item: Box<syn::ItemStruct>,
    },
}

/// One model and where it came from.
#[derive(Debug, Clone)]
pub struct Found {
    /// The model.
    pub model: Model,
    /// Its origin.
    pub origin: Origin,
}

impl Found {
    /// The path generated code uses to name the model's type.
    pub fn type_path(&self) -> TokenStream {
        let ident = &self.model.ident;
        match &self.origin {
            Origin::Rust { module, .. } => quote!(#module::#ident),
            Origin::Toml { .. } => quote!(#ident),
        }
    }

    /// The path of the model's generated repository type.
    pub fn repo_path(&self) -> TokenStream {
        let repo = crate::names::repo_ident(&self.model);
        match &self.origin {
            Origin::Rust { module, .. } => quote!(#module::#repo),
            Origin::Toml { .. } => quote!(#repo),
        }
    }
}
