//! Models with every kind of key component kvgen encodes, for the TypeScript
//! output's snapshot and the property test that its key builders agree with
//! the Rust codec (`tests/ts_keys.rs`).

use kvgen::{KeyPart, KvModel};
use serde::{Deserialize, Serialize};

/// A unit enum whose serde names are renamed, one of them holding separators.
#[derive(KeyPart, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Shade {
    /// `light-grey`.
    LightGrey,
    /// `dark`.
    Dark,
    /// Percent-encoded in keys.
    #[serde(rename = "a:b%c")]
    Odd,
}

/// Every integer width, strings, `bool`, `char`, an enum and an optional
/// field in its indexes; camelCase JSON with a renamed and a skippable field.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(
    binding = "TRICKY",
    prefix = "tricky",
    unique(flag, letter, shade, name = "trait"),
    index(small, tiny, wide),
    index(mid, umid, short, byte)
)]
#[serde(rename_all = "camelCase")]
pub struct Tricky {
    /// The id: any string.
    #[kv(id)]
    pub id: String,
    /// A unique u64.
    #[kv(unique)]
    pub big_count: u64,
    /// A secondary index over an i64.
    #[kv(index)]
    pub signed_count: i64,
    /// In the compound unique index `trait`.
    pub flag: bool,
    /// In the compound unique index `trait`.
    pub letter: char,
    /// In the compound unique index `trait`.
    pub shade: Shade,
    /// i8.
    pub small: i8,
    /// u16.
    pub tiny: u16,
    /// i128 (serde_json writes it when it fits 64 bits).
    pub wide: i128,
    /// i32.
    pub mid: i32,
    /// u32.
    pub umid: u32,
    /// i16.
    pub short: i16,
    /// u8.
    pub byte: u8,
    /// A unique index over an optional field: no entry when `null`; `alias` in JSON.
    #[kv(unique)]
    #[serde(rename = "alias")]
    pub nickname: Option<String>,
    /// u128 (serde_json writes it when it fits 64 bits).
    #[kv(index)]
    pub huge: u128,
    /// Copied into metadata.
    #[kv(meta)]
    pub label: String,
    /// Left out of the JSON when `None`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

/// An i64 id.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "TRICKY")]
pub struct Signed {
    /// The id.
    #[kv(id)]
    pub id: i64,
    /// A secondary index: the id is its entries' last component.
    #[kv(index)]
    pub owner: String,
}

/// A char id.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "TRICKY")]
pub struct Lettered {
    /// The id.
    #[kv(id)]
    pub id: char,
    /// A secondary index over a bool.
    #[kv(index)]
    pub on: bool,
}

/// An enum id.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "TRICKY")]
pub struct Shaded {
    /// The id.
    #[kv(id)]
    pub id: Shade,
    /// A u128 index.
    #[kv(index)]
    pub count: u128,
}

/// Descending index positions: a log listed newest first per owner, and a
/// unique rank, highest first.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "TRICKY", index(owner, at desc, tick desc))]
pub struct Logged {
    /// The id.
    #[kv(id)]
    pub id: u64,
    /// The group.
    pub owner: String,
    /// Descending in the compound index.
    pub at: i64,
    /// Descending too, after `at`.
    pub tick: u8,
    /// A unique descending rank.
    #[kv(unique, desc)]
    pub rank: u64,
}

/// A raw text value: the body is the value, the other fields its metadata.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "TRICKY", prefix = "raw_note")]
pub struct RawNote {
    /// The id.
    #[kv(id)]
    pub slug: String,
    /// The value, as text.
    #[kv(raw)]
    pub body: String,
    /// In metadata and in the projection.
    #[kv(meta)]
    pub title: String,
    /// In metadata.
    pub draft: bool,
}

/// A raw bytes value.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "TRICKY", prefix = "raw_blob")]
pub struct RawBlob {
    /// The id.
    #[kv(id)]
    pub id: u32,
    /// The value, as bytes.
    #[kv(raw)]
    pub data: Vec<u8>,
    /// In metadata.
    pub content_type: Option<String>,
}
