//! Notebooks and their notes.

use kvgen::KvModel;
use serde::{Deserialize, Serialize};

/// A notebook, found by its unique slug.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "NOTES", has_many(Note, by = notebook_id))]
pub struct Notebook {
    /// The notebook id.
    #[kv(id)]
    pub id: String,
    /// Unique, URL-safe name.
    #[kv(unique)]
    pub slug: String,
    /// Shown in listings.
    #[kv(meta)]
    pub title: String,
}

/// A note in a notebook, optionally tagged.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "NOTES")]
pub struct Note {
    /// The note id.
    #[kv(id)]
    pub id: u32,
    /// The notebook it is in.
    #[kv(belongs_to = Notebook)]
    pub notebook_id: String,
    /// An optional tag: untagged notes get no entry in the tag index.
    #[kv(index)]
    pub tag: Option<String>,
    /// The text.
    pub body: String,
}

/// A note's rendered preview, cached for ten minutes. It has no index, so a
/// put (its expiry decided by the model's ttl) is 1 KV write and no read.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "NOTES", ttl = 600)]
pub struct Preview {
    /// The note it renders.
    #[kv(id)]
    pub note_id: u32,
    /// The rendered text.
    pub html: String,
}
