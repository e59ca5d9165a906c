//! [`RateLimiter`]: an exact rate limit counted in a coordinator's cell,
//! and its [`RateDecision`].
//!
//! Builds on the [`Coordinate`] contract and the cell's [`Request::Hit`].
//! Nothing in the crate builds on it: it is for users, re-exported at the
//! crate root.

use crate::coord::cell::{Request, Response};
use crate::coord::{unexpected, Coordinate};
use crate::error::{Error, Result};

/// A rate limit's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the hit was admitted.
    pub allowed: bool,
    /// Hits still admitted in the current window.
    pub remaining: u32,
    /// When a hit is admitted again, ms since the epoch.
    pub reset_at: u64,
}

/// An exact rate limit on a coordinator: at most `limit` hits per window,
/// per key, counted in one cell per key, so concurrent requests never both
/// take the last slot.
///
/// Costs one coordinator request per call; no KV operation.
///
/// ```
/// use kvgen::{ManualClock, MemoryStore, RateLimiter};
///
/// # pollster::block_on(async {
/// let clock = ManualClock::new(1_000);
/// let store = MemoryStore::with_clock(clock.clone());
/// // At most 2 logins per IP per minute (windows aligned to the minute).
/// let logins = RateLimiter::fixed(store.coordination(), "login", 2, 60_000);
/// assert!(logins.hit("10.0.0.1").await?.allowed);
/// assert!(logins.hit("10.0.0.1").await?.allowed);
/// let third = logins.hit("10.0.0.1").await?;
/// assert!(!third.allowed);
/// assert_eq!((third.remaining, third.reset_at), (0, 1_020_000), "the next minute, in ms");
/// assert!(logins.hit("10.0.0.2").await?.allowed, "each key has its own count");
/// clock.advance(20);
/// assert_eq!(logins.remaining("10.0.0.1").await?.remaining, 2);
///
/// // A sliding window counts the last `window_ms` exactly; `hit_n` takes all or nothing.
/// let uploads = RateLimiter::sliding(store.coordination(), "upload", 10, 3_600_000);
/// assert!(uploads.hit_n("u1", 8).await?.allowed);
/// assert!(!uploads.hit_n("u1", 3).await?.allowed);
/// assert_eq!(uploads.remaining("u1").await?.remaining, 2);
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
pub struct RateLimiter<'a> {
    coord: &'a dyn Coordinate,
    name: String,
    limit: u32,
    window_ms: u64,
    sliding: bool,
}

impl<'a> RateLimiter<'a> {
    /// Fixed windows: at most `limit` hits in each window of `window_ms`
    /// aligned to multiples of it.
    pub fn fixed(coord: &'a dyn Coordinate, name: &str, limit: u32, window_ms: u64) -> Self {
        RateLimiter { coord, name: name.to_string(), limit, window_ms, sliding: false }
    }

    /// A sliding window: at most `limit` (up to [`MAX_SLIDING_LIMIT`](crate::coord::MAX_SLIDING_LIMIT)) hits
    /// in any `window_ms`.
    pub fn sliding(coord: &'a dyn Coordinate, name: &str, limit: u32, window_ms: u64) -> Self {
        RateLimiter { coord, name: name.to_string(), limit, window_ms, sliding: true }
    }

    async fn call(&self, key: &str, cost: u32) -> Result<RateDecision> {
        // The name's length first, so no name and key join like another pair.
        let name = format!("rate:{}:{}:{key}", self.name.len(), self.name);
        let request = Request::Hit { limit: self.limit, window_ms: self.window_ms, sliding: self.sliding, cost };
        match self.coord.call(&name, &request).await? {
            Response::Rate { allowed, remaining, reset_at } => Ok(RateDecision { allowed, remaining, reset_at }),
            Response::Refused { message } => Err(Error::Store { op: "coordinate", key: name, message, source: None }),
            other => Err(unexpected(&name, &other)),
        }
    }

    /// Counts one hit for `key` (a user id, an IP): admitted or not.
    pub async fn hit(&self, key: &str) -> Result<RateDecision> {
        self.call(key, 1).await
    }

    /// Counts `cost` hits for `key` at once: all admitted or none.
    pub async fn hit_n(&self, key: &str, cost: u32) -> Result<RateDecision> {
        self.call(key, cost).await
    }

    /// The state for `key` without counting a hit (`allowed` says whether
    /// one would be admitted).
    pub async fn remaining(&self, key: &str) -> Result<RateDecision> {
        let mut d = self.call(key, 0).await?;
        d.allowed = d.remaining > 0;
        Ok(d)
    }
}
