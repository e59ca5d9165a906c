//! [`Lock`]: a lock on a coordinator's cell, held by one token at a time,
//! and [`Locked`], what running a body under it did.
//!
//! Builds on the [`Coordinate`] contract and the cell's requests
//! ([`Request::Acquire`], [`Request::Unlock`]). Nothing in the crate builds
//! on it: it is for users, re-exported at the crate root.

use std::future::Future;

use crate::coord::cell::{Request, Response};
use crate::coord::{unexpected, Coordinate};
use crate::error::{Error, Result};

/// A lock on a coordinator: held by one token at a time, until released
/// or until its lease lapses.
///
/// Costs one coordinator request per [`acquire`](Lock::acquire) attempt and
/// one per [`release`](Lock::release); no KV operation.
///
/// On a [`MemoryStore`](crate::MemoryStore), its in-process coordinator
/// ([`MemoryStore::coordination`](crate::MemoryStore::coordination)); on
/// Workers, a store's [`coordinator`](crate::KvStore::coordinator):
///
/// ```
/// use kvgen::{Lock, Locked, MemoryStore};
///
/// # pollster::block_on(async {
/// let store = MemoryStore::new();
/// let a = Lock::new(store.coordination(), "nightly-report", "worker-a", 10_000);
/// let b = Lock::new(store.coordination(), "nightly-report", "worker-b", 10_000);
/// assert!(a.try_acquire().await?.is_some());
/// assert_eq!(b.try_acquire().await?, None, "held by worker-a");
/// assert!(!b.release().await?, "only the holder releases");
/// assert!(a.release().await?);
///
/// // The body runs holding the lock; `wait` sleeps between attempts.
/// let ran = b.with_lock(3, |_attempt| async {}, async { "report sent" }).await?;
/// assert!(matches!(ran, Locked::Ran("report sent")));
/// assert!(a.try_acquire().await?.is_some(), "released after the body");
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
pub struct Lock<'a> {
    coord: &'a dyn Coordinate,
    name: String,
    token: String,
    lease_ms: u64,
}

impl<'a> Lock<'a> {
    /// The lock `name` on `coord`, for the holder `token` (unique per taker:
    /// a request id, a random string), with leases of `lease_ms`.
    pub fn new(coord: &'a dyn Coordinate, name: &str, token: impl Into<String>, lease_ms: u64) -> Self {
        Lock { coord, name: format!("lock:{name}"), token: token.into(), lease_ms }
    }

    /// Tries once: `Ok(Some(until))` when the lock is now this token's
    /// (until `until`, ms), `Ok(None)` when another token holds it.
    pub async fn try_acquire(&self) -> Result<Option<u64>> {
        let request = Request::Acquire { token: self.token.clone(), lease_ms: self.lease_ms };
        match self.coord.call(&self.name, &request).await? {
            Response::Acquired { until } => Ok(Some(until)),
            Response::Busy { .. } => Ok(None),
            other => Err(unexpected(&self.name, &other)),
        }
    }

    /// Tries up to `attempts` times, waiting with `wait` between attempts
    /// (the caller's sleep: `worker::Delay` on Workers). `Ok(Some(until))`
    /// when acquired.
    pub async fn acquire<W, F>(&self, attempts: u32, mut wait: W) -> Result<Option<u64>>
    where
        W: FnMut(u32) -> F,
        F: Future<Output = ()>,
    {
        for attempt in 0..attempts {
            if let Some(until) = self.try_acquire().await? {
                return Ok(Some(until));
            }
            if attempt + 1 < attempts {
                wait(attempt).await;
            }
        }
        Ok(None)
    }

    /// Releases the lock if this token holds it; `true` when it did.
    pub async fn release(&self) -> Result<bool> {
        match self.coord.call(&self.name, &Request::Unlock { token: self.token.clone() }).await? {
            Response::Done => Ok(true),
            Response::NotHolder => Ok(false),
            other => Err(unexpected(&self.name, &other)),
        }
    }

    /// Runs `body` holding the lock (acquired as [`acquire`](Lock::acquire)
    /// does), then releases it. `Err` only when acquiring failed: `body` did
    /// not run. Once `body` ran, its value comes back whatever the release
    /// does: [`Locked::Ran`], or [`Locked::ReleaseFailed`] with the value
    /// and the release's error (the lock then lapses at its lease end), so
    /// a caller never mistakes a failed release for a lock never taken and
    /// runs `body` again. A `body` that outlives the lease may overlap with
    /// the next holder: keep it shorter than the lease.
    pub async fn with_lock<W, F, B, T>(&self, attempts: u32, wait: W, body: B) -> Result<Locked<T>>
    where
        W: FnMut(u32) -> F,
        F: Future<Output = ()>,
        B: Future<Output = T>,
    {
        if self.acquire(attempts, wait).await?.is_none() {
            return Ok(Locked::Busy);
        }
        let value = body.await;
        Ok(match self.release().await {
            Ok(_) => Locked::Ran(value),
            Err(error) => Locked::ReleaseFailed { value, error },
        })
    }
}

/// What [`Lock::with_lock`] did.
///
/// ```
/// use kvgen::{Lock, Locked, MemoryStore};
///
/// # pollster::block_on(async {
/// let store = MemoryStore::new();
/// let holder = Lock::new(store.coordination(), "import", "a", 10_000);
/// holder.try_acquire().await?;
/// let other = Lock::new(store.coordination(), "import", "b", 10_000);
/// let outcome: Locked<u32> = other.with_lock(2, |_| async {}, async { 1 }).await?;
/// assert!(matches!(outcome, Locked::Busy));
/// assert!(!outcome.ran());
/// assert_eq!(outcome.value(), None);
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub enum Locked<T> {
    /// Another token held the lock through every attempt: the body did not run.
    Busy,
    /// The body ran holding the lock, which was then released.
    Ran(T),
    /// The body ran holding the lock, but the release failed: the lock
    /// stays taken until its lease ends. The body must not be run again.
    ReleaseFailed {
        /// The body's value.
        value: T,
        /// Why the release failed.
        error: Error,
    },
}

impl<T> Locked<T> {
    /// The body's value, when it ran (released or not).
    pub fn value(self) -> Option<T> {
        match self {
            Locked::Busy => None,
            Locked::Ran(value) | Locked::ReleaseFailed { value, .. } => Some(value),
        }
    }

    /// Whether the body ran.
    pub fn ran(&self) -> bool {
        !matches!(self, Locked::Busy)
    }
}
