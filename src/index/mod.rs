//! The index protocol: how a write keeps a model's records and its index
//! entries consistent on an eventually consistent store, and how strict
//! unique values are claimed on the coordinator.
//!
//! - `entry`: what the protocol and the strict claims share: index entries,
//!   the model-specific steps on stored JSON ([`Stored`](entry::Stored)), and
//!   the unique-violation error;
//! - `protocol`: the write protocol (pre-read, entries before the record,
//!   stale entries after it, compensation on failure) and index listings;
//! - `strict`: claims of strict unique values on the coordinator.
//!
//! Builds on the model layer, the stores and the coordinator. The repository
//! drives it; nothing here may depend on the repository or the patterns.

pub(crate) mod entry;
pub(crate) mod protocol;
pub(crate) mod strict;
