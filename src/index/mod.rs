//! The index protocol: how a write keeps a model's records and its index
//! entries consistent on an eventually consistent store, and how strict
//! unique values are claimed on the coordinator.
//!
//! - `entry`: what the protocol and the strict claims share: index entries,
//!   the model-specific steps on stored JSON ([`Stored`](entry::Stored)), and
//!   the unique-violation error;
//! - `plan`: the protocol's decisions, pure: what a write is, the checks
//!   before its first KV operation, and every put it makes, in order, given
//!   what its first read found;
//! - `exec`: the executor: makes the reads, applies the steps in the
//!   protocol's order (entries the record needs, the record, then the rest),
//!   and deletes;
//! - `listing`: paged and range listings with cursors bound to their
//!   listing, counts, unique-entry lookups;
//! - `strict`: claims of strict unique values on the coordinator.
//!
//! Builds on the model layer, the stores and the coordinator. The repository
//! drives it; nothing here may depend on the repository or the patterns.

pub(crate) mod entry;
pub(crate) mod exec;
pub(crate) mod listing;
pub(crate) mod plan;
pub(crate) mod strict;
