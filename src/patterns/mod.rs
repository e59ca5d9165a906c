//! The everyday patterns, built on the repository's public API only: a
//! pattern is what a user could write by hand with [`Repo`](crate::Repo).
//!
//! - [`swr`]: stale-while-revalidate caching of a model's records;
//! - [`rollout`]: percentage rollouts of feature flags (stable buckets);
//! - `memo`: [`Memo`](crate::Memo), an in-isolate cache of one value.
//!
//! Sessions and the event log are shown on top of these in the `patterns`
//! example. Nothing in the crate may depend on this layer.

pub(crate) mod memo;
pub mod rollout;
pub mod swr;
