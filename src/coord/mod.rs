//! The coordinator: one strongly consistent cell per name, for what KV cannot
//! do alone (strict unique values, locks, rate limits).
//!
//! - this file: the [`Coordinate`] contract a store's coordinator
//!   implements, the leases and limits every coordinator shares
//!   ([`LEASE_MS`], [`SETTLE_MS`], ...), and the re-exports below;
//! - `cell`: what a cell answers and holds: [`Request`], [`Response`], [`Cell`];
//! - `machine`: the state machine, [`apply`], that every coordinator runs;
//! - `lock`: [`Lock`] and [`Locked`];
//! - `rate`: [`RateLimiter`] and [`RateDecision`];
//! - `durable`: the Durable Object class (feature `durable`) that runs
//!   [`apply`] on Workers.
//!
//! Inside, `cell` is at the bottom, `machine` builds on it, and `lock` and
//! `rate` on the [`Coordinate`] contract; none of them depends on `lock`
//! or `rate`. The folder uses only the crate's errors: the stores carry a
//! coordinator, the index protocol claims strict values through it, and
//! nothing here may depend on either.
//!
//! Coordination: what KV cannot do alone.
//!
//! KV has no compare-and-set, so a unique index on KV guards against every
//! writer that finished before a write began, never against one racing it.
//! A coordinator is one strongly consistent, single-threaded cell per name
//! (a Durable Object on Workers, [`MemoryCoordinator`](crate::MemoryCoordinator) in tests): strict
//! unique values are claimed there, and the same cells serve [`Lock`] and
//! [`RateLimiter`].
//!
//! Every backend runs one function, [`apply`], on one [`Cell`] per name, so
//! the in-process coordinator and the Durable Object cannot disagree.
//!
//! # Strict unique values
//!
//! A write that gives a record a strict value claims it first: the claim is
//! *pending* for a lease ([`LEASE_MS`]) while the write runs, then
//! *committed* once the record is written. A record that no longer carries a
//! value releases it. A claim held by another record is a conflict, except
//! when it has settled (the last lease of any writer of its holder ended
//! more than [`SETTLE_MS`] ago, KV's propagation bound): the writer then
//! reads the holder's record
//! on KV and takes the claim over if that record does not carry the value
//! (it was deleted, expired, moved to another value, or its writer died
//! before writing it). Each change of a cell bumps its generation, so a
//! take-over only succeeds on the claim that was verified.

pub(crate) mod cell;
#[cfg(feature = "durable")]
pub(crate) mod durable;
pub(crate) mod lock;
pub(crate) mod machine;
pub(crate) mod rate;

use std::future::Future;
use std::pin::Pin;

use crate::error::{Error, Result};

pub use cell::{Cell, Request, Response};
pub use lock::{Lock, Locked};
pub use machine::apply;
pub use rate::{RateDecision, RateLimiter};

/// The Durable Object binding a Worker's stores take their coordinator
/// from (`kvgen wrangler` writes it when a model is strict).
pub const COORDINATOR_BINDING: &str = "KVGEN_COORDINATOR";

/// The Durable Object class that answers coordinator requests (exported
/// by kvgen with the `durable` feature).
pub const COORDINATOR_CLASS: &str = "KvgenCoordinator";

/// How long a pending claim, or a [`Lock`] taken without a lease, lasts:
/// 30 s. A write must write its record within it.
pub const LEASE_MS: u64 = 30_000;

/// How old a claim must be before a writer may check it against KV: 60 s,
/// the time KV takes to propagate a write everywhere. A writer that dies
/// holding a claim blocks its value for at most [`LEASE_MS`] + `SETTLE_MS`.
pub const SETTLE_MS: u64 = 60_000;

/// A writer stops before its next KV write when its lease has less than
/// this left: 5 s, for the clock difference between a Worker and a
/// coordinator and for the write itself.
pub const MARGIN_MS: u64 = 5_000;

/// The most hits a sliding-window limiter admits per window: it keeps one
/// timestamp per admitted hit.
pub const MAX_SLIDING_LIMIT: u32 = 10_000;

/// A boxed future, for the object-safe [`Coordinate`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A coordinator: one strongly consistent cell per name.
///
/// Object-safe (stores return it as `&dyn Coordinate`); futures are not
/// `Send`, as on Workers.
///
/// ```
/// use kvgen::coord::{Request, Response};
/// use kvgen::{Coordinate, KvStore, ManualClock, MemoryStore};
///
/// # pollster::block_on(async {
/// let store = MemoryStore::with_clock(ManualClock::new(1_000));
/// let coord: &dyn Coordinate = store.coordinator().expect("a MemoryStore carries one");
/// let request = Request::Hit { limit: 1, window_ms: 1_000, sliding: false, cost: 1 };
/// assert!(matches!(coord.call("rate:demo", &request).await?, Response::Rate { allowed: true, .. }));
/// assert!(matches!(coord.call("rate:demo", &request).await?, Response::Rate { allowed: false, .. }));
/// assert_eq!(coord.now_ms(), 1_000_000, "the store's clock, in ms");
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
pub trait Coordinate {
    /// Sends `request` to the cell `name` and returns its answer.
    fn call<'a>(&'a self, name: &'a str, request: &'a Request) -> BoxFuture<'a, Result<Response>>;
    /// The caller's clock, ms since the epoch: what leases are checked against.
    fn now_ms(&self) -> u64;
}

/// What a coordinator answers when the answer does not fit the request.
pub(crate) fn unexpected(name: &str, answer: &Response) -> Error {
    Error::Store {
        op: "coordinate",
        key: name.to_string(),
        message: format!("unexpected answer {answer:?}"),
        source: None,
    }
}
