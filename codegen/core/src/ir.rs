//! The IR: one model as the generator sees it, whichever front end produced it.
//!
//! Nodes keep the identifiers and spans of their source, so that validation
//! and generated code can point at the token a user wrote.

use proc_macro2::{Ident, Span};

/// A string written by the user, with where it was written.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// A value with its span.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// One model: a struct stored in KV.
#[derive(Debug, Clone)]
pub struct Model {
    /// The struct's name.
    pub ident: Ident,
    /// The struct's visibility; generated items share it.
    pub vis: syn::Visibility,
    /// `{model}` in keys.
    pub prefix: Spanned<String>,
    /// The KV binding name.
    pub binding: Spanned<String>,
    /// Default ttl of every write, seconds.
    pub ttl: Option<Spanned<u64>>,
    /// Cache ttl of the model's stale-accepting reads, seconds (`cache_ttl = ..`).
    pub cache_ttl: Option<Spanned<u64>>,
    /// Every named field, in order.
    pub fields: Vec<Field>,
    /// Position of the id field in `fields`.
    pub id: usize,
    /// Unique and secondary indexes, in key-definition order.
    pub indexes: Vec<Index>,
    /// Child-side relations.
    pub belongs_to: Vec<BelongsTo>,
    /// Parent-side relations.
    pub has: Vec<Has>,
    /// How `create_new` fills the id (`#[kv(id, generate = "..")]`), if it does.
    pub generate: Option<IdGen>,
    /// The `#[kv(raw)]` field whose bytes are the stored value, if the model has one.
    pub raw: Option<Raw>,
}

/// `#[kv(raw)]`: the field stored as the KV value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw {
    /// Position of the field in [`Model::fields`].
    pub field: usize,
    /// Text (`String`) or bytes (`Vec<u8>`).
    pub kind: RawKind,
}

/// What a raw field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    /// A `String`.
    Text,
    /// A `Vec<u8>`.
    Bytes,
}

/// An id generator: `#[kv(id, generate = "ulid")]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdGen {
    /// `"ulid"`.
    Ulid,
    /// `"uuid_v7"`.
    UuidV7,
    /// `"uuid_v4"`.
    UuidV4,
}

impl IdGen {
    /// Every generator, by the name `generate = ".."` takes.
    pub const ALL: [(&'static str, IdGen); 3] =
        [("ulid", IdGen::Ulid), ("uuid_v7", IdGen::UuidV7), ("uuid_v4", IdGen::UuidV4)];
}

/// A field of a model.
#[derive(Debug, Clone)]
pub struct Field {
    /// The field name.
    pub ident: Ident,
    /// Its type.
    pub ty: syn::Type,
    /// Copied into KV metadata.
    pub meta: bool,
}

/// Unique or secondary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// One record per value.
    Unique,
    /// Many records per value.
    Secondary,
}

/// An index over one or more fields.
#[derive(Debug, Clone)]
pub struct Index {
    /// `{index}` in keys.
    pub name: Spanned<String>,
    /// Whether a name was given (`name = ".."`) rather than derived from the fields.
    pub named: bool,
    /// Unique or secondary.
    pub kind: IndexKind,
    /// Positions in [`Model::fields`], in key order.
    pub fields: Vec<usize>,
    /// Strict (unique only): values claimed on a coordinator.
    pub strict: bool,
    /// Per position of `fields`: keyed in descending order (`desc`).
    pub desc: Vec<bool>,
}

impl Index {
    /// Whether the field at `position` of the index is keyed in descending order.
    pub fn is_desc(&self, position: usize) -> bool {
        self.desc.get(position).copied().unwrap_or(false)
    }
}

/// Integer types, whose key components have a fixed width: the types a
/// `desc` index position and a listing from a value take.
pub const INTEGERS: &[&str] = &["u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize"];

/// Whether `ty` is an integer type, or `Option` of one.
pub fn is_integer(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    if p.qself.is_some() {
        return false;
    }
    let Some(seg) = p.path.segments.last() else { return false };
    if p.path.segments.len() == 1 && INTEGERS.contains(&seg.ident.to_string().as_str()) {
        return seg.arguments.is_none();
    }
    if seg.ident == "Option" {
        if let syn::PathArguments::AngleBracketed(args) = &seg.arguments {
            if let [syn::GenericArgument::Type(inner)] = args.args.iter().collect::<Vec<_>>()[..] {
                return is_integer(inner);
            }
        }
    }
    false
}

/// `#[kv(belongs_to = Parent)]` on a foreign-key field.
#[derive(Debug, Clone)]
pub struct BelongsTo {
    /// Position of the foreign-key field.
    pub field: usize,
    /// The parent model's type.
    pub target: syn::Path,
    /// The relation's name: the field name without `_id`.
    pub name: Ident,
}

/// Has-many or has-one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasKind {
    /// Any number of children.
    Many,
    /// At most one child.
    One,
}

/// `has_many(Child, by = field)` or `has_one(Child, by = field)` on a parent.
#[derive(Debug, Clone)]
pub struct Has {
    /// Many or one.
    pub kind: HasKind,
    /// The child model's type.
    pub target: syn::Path,
    /// The child's foreign-key field, which the child must index.
    pub by: Ident,
    /// The relation's name (`posts`, `profile`).
    pub name: Ident,
}

impl Model {
    /// The id field.
    pub fn id_field(&self) -> &Field {
        &self.fields[self.id]
    }

    /// Whether any field is copied into metadata.
    pub fn has_meta(&self) -> bool {
        self.fields.iter().any(|f| f.meta)
    }
}

/// A number standing for a field name in `IndexedBy<N>`, which lets
/// `has_many(Child, by = field)` find the child's index over `field` at
/// compile time (FNV-1a of the name).
pub fn field_id(field: &str) -> u64 {
    field.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}
