//! The everyday KV workloads, each a model and the few lines of code around
//! it, on kvgen's helpers: [`Repo::modify`](kvgen::Repo::modify) and
//! [`touch`](kvgen::Repo::touch), [`kvgen::swr`], [`kvgen::rollout`],
//! [`kvgen::Memo`] and [`get_many_or_fetch`](kvgen::Repo::get_many_or_fetch).
//!
//! Every function here is generic over the store, so the same code runs on
//! `MemoryStore` (`cargo run -p patterns`, and kvgen's tests) and on Workers
//! KV (the Worker example's routes and conformance scenarios). The README's
//! "Patterns" section walks through each with its cost.
//!
//! Rate limits and locks are not here: counting on KV loses counts under
//! concurrency (no compare-and-set, eventual consistency). They live on the
//! coordinator Durable Object: `kvgen::RateLimiter` and `kvgen::Lock`.

pub mod config;
pub mod events;
pub mod flags;
pub mod sessions;
pub mod swr_cache;
pub mod warming;
