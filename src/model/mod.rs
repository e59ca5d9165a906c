//! What a model is and how its keys are spelled: the layer everything else
//! builds on, with no I/O and no knowledge of any store.
//!
//! - this file: the [`Model`] trait that `#[derive(KvModel)]` implements, and
//!   the static description of a model's indexes ([`IndexDef`]) and raw values;
//! - [`key`]: the key codec (a component per id or index field, escaping,
//!   the key space of a model under a scope);
//! - [`id`]: generated ids (ULID, UUID v7 and v4);
//! - `finite`: the check that a value holds no NaN or infinite float before it is written.
//!
//! Uses only [`error`](crate::Error). Nothing here may depend on the stores,
//! the index protocol or the repository.
//!
//! The `Model` trait: what `#[derive(KvModel)]` implements for a struct.

pub(crate) mod finite;
pub mod id;
pub mod key;

use crate::model::key::{KeyPart, KeyWriter};
use serde::{de::DeserializeOwned, Serialize};

/// Whether an index admits one record per value or many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// One record per value; the entry's value is the record id.
    Unique,
    /// Many records per value; the id is the last key component.
    Secondary,
}

/// An index of a model, as the derive declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDef {
    /// The index name in keys: `{model}.{name}:...`.
    pub name: &'static str,
    /// Unique or secondary.
    pub kind: IndexKind,
    /// The fields whose values make the key, in order.
    pub fields: &'static [&'static str],
    /// A strict unique index: its values are claimed on the store's
    /// coordinator, so two racing writers never both get one.
    pub strict: bool,
}

/// What a raw model's value field holds: `#[kv(raw)]` on a `String` or a `Vec<u8>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    /// A `String`, stored as its UTF-8 bytes (TypeScript reads it with `get(key)`).
    Text,
    /// A `Vec<u8>`, stored as these bytes (TypeScript reads it with `get(key, "arrayBuffer")`).
    Bytes,
}

/// A struct stored in KV. Implemented by `#[derive(KvModel)]`; the runtime
/// ([`Repo`](crate::Repo)) does everything else generically over it.
///
/// ```
/// use kvgen::{IndexKind, KvModel, Model};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[kv(binding = "APP", ttl = 3600)]
/// pub struct Member {
///     #[kv(id)]
///     pub id: String,
///     #[kv(unique)]
///     pub email: String,
///     #[kv(index)]
///     pub team: String,
/// }
///
/// assert_eq!((Member::MODEL, Member::BINDING, Member::DEFAULT_TTL), ("member", "APP", Some(3600)));
/// let kinds: Vec<_> = Member::INDEXES.iter().map(|i| (i.name, i.kind)).collect();
/// assert_eq!(kinds, [("email", IndexKind::Unique), ("team", IndexKind::Secondary)]);
/// let ada = Member { id: "m1".into(), email: "ada@example.com".into(), team: "core".into() };
/// assert_eq!(ada.id(), "m1");
/// ```
pub trait Model: Serialize + DeserializeOwned {
    /// The id's type.
    type Id: KeyPart;
    /// The typed metadata written with records and secondary index entries:
    /// the `#[kv(meta)]` fields, or `()` when there are none.
    type Meta: Serialize + DeserializeOwned;

    /// The key prefix, `{model}` in the key layout.
    const MODEL: &'static str;
    /// The KV binding (wrangler `binding`) the model lives in.
    const BINDING: &'static str;
    /// The default time to live of every write, in seconds.
    const DEFAULT_TTL: Option<u64>;
    /// The cache ttl of the model's stale-accepting reads, in seconds
    /// (`#[kv(cache_ttl = 300)]`, at least 30): get, get_many, exists,
    /// finders, listings and relation loaders may then be answered from
    /// KV's edge cache up to this old. `None` (the default) reads uncached.
    /// Writes, their reads and `verify`/`repair` never read cached.
    const CACHE_TTL: Option<u64> = None;
    /// The indexes, unique and secondary.
    const INDEXES: &'static [IndexDef];

    /// The record's id.
    fn id(&self) -> &Self::Id;
    /// Replaces the record's id (used by upserts through a unique index).
    fn set_id(&mut self, id: Self::Id);
    /// Writes the components of index `index` (a position in [`INDEXES`](Model::INDEXES)).
    fn index_parts(&self, index: usize, key: &mut KeyWriter);
    /// The metadata projection, or `None` when the model declares no `meta` fields.
    fn meta(&self) -> Option<Self::Meta>;

    /// How the record's value is stored: `None` (every model without a
    /// `#[kv(raw)]` field) as the record's JSON; `Some` as the raw field's
    /// bytes, with the fields other than the id and the raw one in the
    /// record's metadata.
    const RAW: Option<RawKind> = None;

    /// A raw model's value: its `#[kv(raw)]` field's bytes.
    #[doc(hidden)]
    fn raw_value(&self) -> &[u8] {
        &[]
    }

    /// A raw model's fields other than the id and the raw one, by name, as JSON.
    #[doc(hidden)]
    fn raw_fields(&self) -> Result<serde_json::Map<String, serde_json::Value>, serde_json::Error> {
        Ok(serde_json::Map::new())
    }

    /// A raw model's record from its id, value and the fields
    /// [`raw_fields`](Model::raw_fields) gave (as stored); the error says why
    /// it cannot be read.
    #[doc(hidden)]
    fn from_raw(
        id: Self::Id,
        value: Vec<u8>,
        fields: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, String>
    where
        Self: Sized,
    {
        let _ = (id, value, fields);
        Err("not a raw model".into())
    }
}
