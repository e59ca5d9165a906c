//! What the write protocol and the strict claims share: index entries, the
//! model-specific steps on stored JSON, and the unique-violation error.

use crate::error::Error;
use crate::model::IndexDef;

/// An index entry a record needs: which index, and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub index: usize,
    pub key: String,
}

/// The model-specific steps of the protocol, on stored JSON (implemented by
/// [`Repo`](crate::Repo), object-safe so the protocol is instantiated once
/// per store type).
pub(crate) trait Stored {
    /// The index entries of the stored record `json` at `key`; `None` when it
    /// is unreadable (does not parse as the model, or its id is not its key's).
    fn entries_of(&self, key: &str, json: &str) -> Option<Vec<IndexEntry>>;
    /// Whether the stored record `json` at `key` carries the entry `entry` of
    /// index `index`; `None` when the record is unreadable.
    fn carries_entry(&self, key: &str, json: &str, index: usize, entry: &str) -> Option<bool>;
    /// The record key a unique entry's value names, or `None` when the value
    /// is not an id of the model (a garbage entry, ignored as stale).
    fn holder_key(&self, encoded_id: &str) -> Option<String>;
    /// An encoded id as the user wrote the id (for error fields).
    fn display_id(&self, encoded_id: &str) -> String;
}

/// The error for a unique value held by record `holder` (its id as written).
pub(crate) fn violation(
    model: &'static str,
    indexes: &'static [IndexDef],
    rec_key: &str,
    id: &str,
    entry: &IndexEntry,
    holder: &str,
) -> Error {
    let def = &indexes[entry.index];
    let head = &rec_key[..rec_key.len() - id.len() - 1];
    let prefix = head.len() + 1 + def.name.len() + 1;
    Error::UniqueViolation {
        model,
        index: def.name,
        value: entry.key.get(prefix..).unwrap_or_default().to_string(),
        holder: holder.to_string(),
        retry_after: None,
    }
}
