//! The coordinator: one strongly consistent cell per name, for what KV cannot
//! do alone (strict unique values, locks, rate limits).
//!
//! - this file: the cell's requests and state machine ([`apply`]), the
//!   [`Coordinate`] contract a store's coordinator implements, and the public
//!   [`Lock`] and [`RateLimiter`];
//! - `durable`: the Durable Object class (feature `durable`) that runs
//!   [`apply`] on Workers.
//!
//! Uses only the crate's errors: the stores carry a coordinator, the index
//! protocol claims strict values through it, and nothing here may depend on
//! either.
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

#[cfg(feature = "durable")]
pub(crate) mod durable;

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

use crate::error::{Error, Result};

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

/// A request to one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Claims a strict value for `holder` (an encoded record id), pending
    /// for `lease_ms`.
    Claim {
        /// The claiming record's encoded id.
        holder: String,
        /// How long the pending claim lasts.
        lease_ms: u64,
    },
    /// Marks `holder`'s claim committed: its record is written.
    Commit {
        /// The holder.
        holder: String,
    },
    /// Gives up `holder`'s claim: its record no longer carries the value.
    /// The value is not freed by this alone (another writer of the same
    /// record may have written it back, which only KV shows): the claim
    /// becomes uncommitted, and the next claimant takes it over once it has
    /// settled and KV shows the record without the value.
    ///
    /// With `since`, the time (the caller's clock, ms) the write or delete
    /// that dropped the value began: when that is at least [`MARGIN_MS`]
    /// after the latest lease of any writer of the holder ended, every
    /// write that carried the value landed before it, so nothing can write
    /// the value back and the value is freed at once (the cell is deleted).
    Release {
        /// The holder.
        holder: String,
        /// When the write or delete dropping the value began (caller's clock, ms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// Frees a claim the caller was granted fresh at generation `gen` and
    /// wrote nothing with; a no-op if anything happened to it since.
    Abandon {
        /// The holder.
        holder: String,
        /// The generation of the fresh grant.
        gen: u64,
    },
    /// Claims for `holder` a value that record `from` held at generation
    /// `gen`, after checking on KV that `from` does not carry it.
    TakeOver {
        /// The new holder.
        holder: String,
        /// The holder that was checked.
        from: String,
        /// The generation of the claim that was checked.
        gen: u64,
        /// How long the new pending claim lasts.
        lease_ms: u64,
    },
    /// Commits `from`'s pending claim at generation `gen` on its behalf,
    /// after checking on KV that its record carries the value.
    Confirm {
        /// The holder whose record was found.
        from: String,
        /// The generation of the claim that was checked.
        gen: u64,
    },
    /// Takes a lock for `token` until `lease_ms` from now.
    Acquire {
        /// The taker's token.
        token: String,
        /// How long the lock lasts unless released.
        lease_ms: u64,
    },
    /// Releases the lock, if `token` holds it.
    Unlock {
        /// The holder's token.
        token: String,
    },
    /// Counts `cost` hits against a limit of `limit` per `window_ms`.
    Hit {
        /// Hits admitted per window.
        limit: u32,
        /// The window's length.
        window_ms: u64,
        /// A sliding window (the last `window_ms`), or fixed windows aligned
        /// to multiples of `window_ms`.
        sliding: bool,
        /// How many hits this request counts (0 only reads the state).
        cost: u32,
    },
}

/// A cell's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Response {
    /// The claim is the caller's, pending until `until` (ms).
    Granted {
        /// The claim's generation.
        gen: u64,
        /// When the pending claim lapses, ms since the epoch.
        until: u64,
        /// Whether the value was free (not a claim the same record held).
        fresh: bool,
    },
    /// The caller's record holds the value already, committed; the caller
    /// writes within `until` (ms).
    Held {
        /// Until when the reaffirmed claim covers the caller's write.
        until: u64,
    },
    /// Another record holds the value.
    Denied {
        /// Its encoded id.
        holder: String,
        /// The claim's generation, for [`Request::TakeOver`] and [`Request::Confirm`].
        gen: u64,
        /// Whether the claim has settled: the caller may check the holder's
        /// record on KV and take over or confirm.
        verify: bool,
        /// When the claim settles, ms (`None` once it has): from then the
        /// next claimant checks the holder's record on KV and takes the
        /// value over if the record no longer carries it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settles: Option<u64>,
    },
    /// The change was made.
    Done,
    /// The caller does not hold what it tried to change (nothing changed).
    NotHolder,
    /// The lock is the caller's until `until` (ms).
    Acquired {
        /// When the lock lapses unless released, ms since the epoch.
        until: u64,
    },
    /// Another token holds the lock until `until` (ms).
    Busy {
        /// When the lock lapses unless released, ms since the epoch.
        until: u64,
    },
    /// A rate limit's answer.
    Rate {
        /// Whether the hits were admitted.
        allowed: bool,
        /// Hits still admitted in the current window.
        remaining: u32,
        /// When the next hit is admitted again (fixed: the window's end;
        /// sliding: when the oldest counted hit leaves the window), ms.
        reset_at: u64,
    },
    /// The request does not fit the cell (a claim sent to a lock's name, a
    /// zero window): nothing changed.
    Refused {
        /// Why.
        message: String,
    },
}

/// The state of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cell", rename_all = "snake_case")]
pub enum Cell {
    /// A strict value nobody holds; the generation survives release, so a
    /// take-over checked against an older claim cannot succeed.
    Free {
        /// The generation.
        gen: u64,
    },
    /// A strict value held by a record.
    Claim {
        /// The record's encoded id.
        holder: String,
        /// Bumped by every change.
        gen: u64,
        /// Whether a writer committed it (its record was written) and no
        /// release came since; an uncommitted claim is pending or releasing.
        committed: bool,
        /// The latest lease end granted to any writer of the holder, ms:
        /// every KV write carrying the value by the holder's writers lands
        /// before it. A commit does not shorten it.
        until: u64,
    },
    /// A lock.
    Lock {
        /// The holder's token.
        token: String,
        /// When it lapses, ms.
        until: u64,
    },
    /// A fixed-window rate limit.
    Window {
        /// The current window's start, ms.
        start: u64,
        /// Hits admitted in it.
        count: u32,
    },
    /// A sliding-window rate limit: when each admitted hit was made, oldest first.
    Sliding {
        /// Timestamps, ms.
        hits: Vec<u64>,
    },
}

fn refused(cell: Option<Cell>, message: &str) -> (Option<Cell>, Response) {
    (cell, Response::Refused { message: message.to_string() })
}

/// Whether a claim may be checked against KV at `now`: KV's propagation
/// time after the last lease of any of the holder's writers ended.
fn settled(until: u64, now: u64) -> bool {
    now >= until.saturating_add(SETTLE_MS)
}

/// Applies `request` to the cell of one name at time `now` (ms): the new
/// state (`None` to delete it) and the answer. Deterministic and total.
pub fn apply(cell: Option<Cell>, request: &Request, now: u64) -> (Option<Cell>, Response) {
    use Request as R;
    match request {
        R::Claim { holder, lease_ms } => claim(cell, holder, *lease_ms, now),
        R::Commit { holder } => match cell {
            Some(Cell::Claim { holder: h, gen, until, .. }) if h == *holder => {
                (Some(Cell::Claim { holder: h, gen: gen + 1, committed: true, until }), Response::Done)
            }
            Some(Cell::Lock { .. } | Cell::Window { .. } | Cell::Sliding { .. }) => refused(cell, "not a claim"),
            other => (other, Response::NotHolder),
        },
        // A release never frees the value by itself: another writer of the
        // same record may have written it back, which only KV can tell. The
        // claim becomes uncommitted, and the next claimant checks KV once it
        // has settled (at once when the holder's last lease is long over).
        R::Release { holder, since } => match cell {
            // The drop began after every writer of the holder stopped
            // writing (their leases ended, with the clock margin): the KV
            // write or delete that dropped the value is later than every
            // write that carried it, so the value is free. The cell is
            // deleted (see `fresh_gen` for why its generation need not stay).
            Some(Cell::Claim { holder: h, until, .. })
                if h == *holder && since.is_some_and(|s| s.saturating_sub(MARGIN_MS) >= until) =>
            {
                (None, Response::Done)
            }
            Some(Cell::Claim { holder: h, gen, until, .. }) if h == *holder => {
                (Some(Cell::Claim { holder: h, gen: gen + 1, committed: false, until }), Response::Done)
            }
            Some(Cell::Lock { .. } | Cell::Window { .. } | Cell::Sliding { .. }) => refused(cell, "not a claim"),
            other => (other, Response::NotHolder),
        },
        R::Abandon { holder, gen } => match cell {
            Some(Cell::Claim { holder: h, gen: g, committed: false, .. }) if h == *holder && g == *gen => {
                (None, Response::Done)
            }
            Some(Cell::Lock { .. } | Cell::Window { .. } | Cell::Sliding { .. }) => refused(cell, "not a claim"),
            other => (other, Response::NotHolder),
        },
        R::TakeOver { holder, from, gen, lease_ms } => match cell {
            Some(Cell::Claim { holder: h, gen: g, until, .. }) if h == *from && g == *gen && settled(until, now) => {
                let until = now.saturating_add(*lease_ms);
                let cell = Cell::Claim { holder: holder.clone(), gen: g + 1, committed: false, until };
                (Some(cell), Response::Granted { gen: g + 1, until, fresh: true })
            }
            // Anything else: the claim changed since it was checked; a new
            // claim decides.
            other => claim(other, holder, *lease_ms, now),
        },
        R::Confirm { from, gen } => match cell {
            Some(Cell::Claim { holder: h, gen: g, committed: false, until }) if h == *from && g == *gen => {
                (Some(Cell::Claim { holder: h, gen: g + 1, committed: true, until }), Response::Done)
            }
            other => (other, Response::NotHolder),
        },
        R::Acquire { lease_ms: 0, .. } => refused(cell, "a lock's lease must be at least 1 ms"),
        R::Acquire { token, lease_ms } => match cell {
            None | Some(Cell::Free { .. }) => lock(token, *lease_ms, now),
            Some(Cell::Lock { token: t, until }) if t == *token || until <= now => lock(token, *lease_ms, now),
            Some(Cell::Lock { until, token }) => (Some(Cell::Lock { token, until }), Response::Busy { until }),
            other => refused(other, "not a lock"),
        },
        R::Unlock { token } => match cell {
            Some(Cell::Lock { token: t, until }) if t == *token && until > now => (None, Response::Done),
            Some(Cell::Lock { until, .. }) if until <= now => (None, Response::NotHolder),
            c @ (None | Some(Cell::Lock { .. })) => (c, Response::NotHolder),
            other => refused(other, "not a lock"),
        },
        R::Hit { limit, window_ms, sliding, cost } => {
            if *window_ms == 0 {
                return refused(cell, "the window must be at least 1 ms");
            }
            if *sliding {
                if *limit > MAX_SLIDING_LIMIT {
                    return refused(cell, "a sliding window admits at most 10000 hits");
                }
                match cell {
                    None | Some(Cell::Free { .. }) => sliding_hit(Vec::new(), *limit, *window_ms, *cost, now),
                    Some(Cell::Sliding { hits }) => sliding_hit(hits, *limit, *window_ms, *cost, now),
                    other => refused(other, "not a sliding rate limit"),
                }
            } else {
                match cell {
                    None | Some(Cell::Free { .. }) => fixed_hit(None, *limit, *window_ms, *cost, now),
                    Some(Cell::Window { start, count }) => {
                        fixed_hit(Some((start, count)), *limit, *window_ms, *cost, now)
                    }
                    other => refused(other, "not a fixed-window rate limit"),
                }
            }
        }
    }
}

fn claim(cell: Option<Cell>, holder: &str, lease_ms: u64, now: u64) -> (Option<Cell>, Response) {
    let lease = now.saturating_add(lease_ms);
    match cell {
        None | Some(Cell::Free { .. }) => {
            let gen = fresh_gen(cell.as_ref(), now);
            let cell = Cell::Claim { holder: holder.to_string(), gen, committed: false, until: lease };
            (Some(cell), Response::Granted { gen, until: lease, fresh: true })
        }
        Some(Cell::Claim { holder: h, gen, committed, until }) => {
            if h == holder {
                // The same record's writer (a retry, or two writes of one
                // record): the claim is reaffirmed with a new generation, so
                // a take-over checked before it fails, and its lease end
                // covers this writer too.
                let cell = Cell::Claim { holder: h, gen: gen + 1, committed, until: until.max(lease) };
                let answer = if committed {
                    Response::Held { until: lease }
                } else {
                    Response::Granted { gen: gen + 1, until: lease, fresh: false }
                };
                (Some(cell), answer)
            } else {
                let settles = until.saturating_add(SETTLE_MS);
                let settles = (now < settles).then_some(settles);
                let answer = Response::Denied { holder: h.clone(), gen, verify: settled(until, now), settles };
                (Some(Cell::Claim { holder: h, gen, committed, until }), answer)
            }
        }
        other => refused(other, "not a claim"),
    }
}

/// The generation of a claim made on a free cell. A freed cell is deleted,
/// so its generations are not kept: a new cell's start from the clock
/// (1,000 per ms), above every generation an earlier cell of the name
/// reached unless that cell changed more than 1,000 times per ms of its
/// life. A generation only ever names a claim to the requests that change
/// it (take-over, confirm, abandon), and those check the holder too.
/// A `Free` cell (stored by earlier versions) continues its own count.
fn fresh_gen(cell: Option<&Cell>, now: u64) -> u64 {
    let clock = now.saturating_mul(1000).max(1);
    match cell {
        Some(Cell::Free { gen }) => clock.max(gen + 1),
        _ => clock,
    }
}

fn lock(token: &str, lease_ms: u64, now: u64) -> (Option<Cell>, Response) {
    let until = now.saturating_add(lease_ms);
    (Some(Cell::Lock { token: token.to_string(), until }), Response::Acquired { until })
}

fn fixed_hit(state: Option<(u64, u32)>, limit: u32, window: u64, cost: u32, now: u64) -> (Option<Cell>, Response) {
    let current = now - now % window;
    let count = match state {
        Some((start, count)) if start == current => count,
        _ => 0,
    };
    let allowed = count.checked_add(cost).is_some_and(|n| n <= limit);
    let count = if allowed { count + cost } else { count };
    let reset_at = current.saturating_add(window);
    let answer = Response::Rate { allowed, remaining: limit.saturating_sub(count), reset_at };
    (Some(Cell::Window { start: current, count }), answer)
}

fn sliding_hit(mut hits: Vec<u64>, limit: u32, window: u64, cost: u32, now: u64) -> (Option<Cell>, Response) {
    // A hit counts while it is less than `window` old.
    let from = now.saturating_sub(window - 1);
    hits.retain(|&t| t >= from);
    let allowed = (hits.len() as u64) + (cost as u64) <= limit as u64;
    if allowed {
        hits.extend(std::iter::repeat_n(now, cost as usize));
    }
    let remaining = (limit as u64).saturating_sub(hits.len() as u64) as u32;
    let reset_at = if remaining > 0 || hits.is_empty() {
        now
    } else {
        // Full: the next hit is admitted when the oldest leaves the window.
        hits[0].saturating_add(window)
    };
    let answer = Response::Rate { allowed, remaining, reset_at };
    (Some(Cell::Sliding { hits }), answer)
}

/// A boxed future, for the object-safe [`Coordinate`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A coordinator: one strongly consistent cell per name.
///
/// Object-safe (stores return it as `&dyn Coordinate`); futures are not
/// `Send`, as on Workers.
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

/// A lock on a coordinator: held by one token at a time, until released
/// or until its lease lapses.
///
/// Costs one coordinator request per [`acquire`](Lock::acquire) attempt and
/// one per [`release`](Lock::release); no KV operation.
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

    /// A sliding window: at most `limit` (up to [`MAX_SLIDING_LIMIT`]) hits
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cell: &mut Option<Cell>, r: Request, now: u64) -> Response {
        let (c, a) = apply(cell.take(), &r, now);
        *cell = c;
        a
    }
    fn claim(h: &str) -> Request {
        Request::Claim { holder: h.into(), lease_ms: LEASE_MS }
    }

    #[test]
    fn a_value_is_claimed_by_one_holder_and_released_values_are_checked_before_they_are_taken() {
        let mut c = None;
        assert!(matches!(run(&mut c, claim("a"), 0), Response::Granted { gen: 1, until: LEASE_MS, fresh: true }));
        assert!(matches!(run(&mut c, claim("b"), 1), Response::Denied { verify: false, .. }));
        assert_eq!(run(&mut c, Request::Commit { holder: "b".into() }, 2), Response::NotHolder);
        assert_eq!(run(&mut c, Request::Commit { holder: "a".into() }, 2), Response::Done);
        assert_eq!(run(&mut c, claim("a"), 3), Response::Held { until: 3 + LEASE_MS });
        assert_eq!(run(&mut c, Request::Release { holder: "b".into(), since: None }, 4), Response::NotHolder);
        // A release never frees by itself: another writer of `a` may have
        // written the value back. Once `a`'s last lease has settled, the next
        // claimant checks KV and takes it over.
        assert_eq!(run(&mut c, Request::Release { holder: "a".into(), since: None }, 4), Response::Done);
        assert!(matches!(run(&mut c, claim("b"), 5), Response::Denied { verify: false, .. }));
        let settled = 3 + LEASE_MS + SETTLE_MS;
        assert!(matches!(run(&mut c, claim("b"), settled - 1), Response::Denied { verify: false, .. }));
        let Response::Denied { gen, verify: true, .. } = run(&mut c, claim("b"), settled) else { panic!() };
        let take = Request::TakeOver { holder: "b".into(), from: "a".into(), gen, lease_ms: LEASE_MS };
        assert!(matches!(run(&mut c, take, settled), Response::Granted { fresh: true, .. }));
    }

    #[test]
    fn only_a_settled_claim_may_be_checked_and_only_at_its_generation() {
        let mut c = None;
        run(&mut c, claim("a"), 0);
        // Pending: settled only a SETTLE_MS after the lease ends.
        let at = LEASE_MS + SETTLE_MS;
        assert!(matches!(run(&mut c, claim("b"), at - 1), Response::Denied { verify: false, .. }));
        let Response::Denied { gen, verify: true, .. } = run(&mut c, claim("b"), at) else { panic!() };
        // A stale generation is not taken over.
        let stale = Request::TakeOver { holder: "b".into(), from: "a".into(), gen: gen - 1, lease_ms: LEASE_MS };
        assert!(matches!(run(&mut c, stale, at), Response::Denied { .. }));
        let ok = Request::TakeOver { holder: "b".into(), from: "a".into(), gen, lease_ms: LEASE_MS };
        assert!(matches!(run(&mut c, ok.clone(), at), Response::Granted { .. }));
        // Replaying the take-over is a plain claim by the new holder.
        assert!(matches!(run(&mut c, ok, at), Response::Granted { fresh: false, .. }));
        // Committed: settled SETTLE_MS after the holder's last lease.
        run(&mut c, Request::Commit { holder: "b".into() }, at + 10);
        let settled = at + LEASE_MS + SETTLE_MS;
        assert!(matches!(run(&mut c, claim("a"), settled - 1), Response::Denied { verify: false, .. }));
        let Response::Denied { gen, verify: true, .. } = run(&mut c, claim("a"), settled) else { panic!() };
        // Confirm applies to uncommitted claims only.
        assert_eq!(run(&mut c, Request::Confirm { from: "b".into(), gen }, settled), Response::NotHolder);
    }

    #[test]
    fn a_commit_keeps_the_lease_of_every_writer_of_the_holder() {
        let mut c = None;
        run(&mut c, claim("a"), 0);
        // A second writer of `a` claims a ms later, then the first commits.
        run(&mut c, claim("a"), 1);
        run(&mut c, Request::Commit { holder: "a".into() }, 2);
        // The second writer may write until LEASE_MS + 1: settled only after that.
        assert!(matches!(run(&mut c, claim("b"), LEASE_MS + SETTLE_MS), Response::Denied { verify: false, .. }));
        assert!(matches!(run(&mut c, claim("b"), LEASE_MS + 1 + SETTLE_MS), Response::Denied { verify: true, .. }));
    }

    #[test]
    fn a_released_value_keeps_its_generation_rising() {
        let mut c = None;
        run(&mut c, claim("a"), 0);
        let Response::Denied { gen, .. } = run(&mut c, claim("b"), LEASE_MS + SETTLE_MS) else { panic!() };
        // `a` abandons and claims again: `b`'s check of the old claim is void.
        run(&mut c, Request::Abandon { holder: "a".into(), gen: 1 }, LEASE_MS + SETTLE_MS);
        run(&mut c, claim("a"), LEASE_MS + SETTLE_MS);
        let late = Request::TakeOver { holder: "b".into(), from: "a".into(), gen, lease_ms: LEASE_MS };
        assert!(matches!(run(&mut c, late, LEASE_MS + SETTLE_MS + 1), Response::Denied { verify: false, .. }));
    }

    #[test]
    fn a_release_frees_only_a_drop_that_began_after_every_writer_stopped() {
        let release = |h: &str, since| Request::Release { holder: h.into(), since: Some(since) };
        let mut c = None;
        run(&mut c, claim("a"), 0);
        run(&mut c, Request::Commit { holder: "a".into() }, 1);
        // A second writer of `a` reaffirms at 10 s: it may write until 40 s.
        run(&mut c, claim("a"), 10_000);
        let last = 10_000 + LEASE_MS;
        // A drop that began within the margin of that lease end is not trusted.
        assert_eq!(run(&mut c, release("a", last + MARGIN_MS - 1), 50_000), Response::Done);
        assert!(matches!(c, Some(Cell::Claim { committed: false, .. })), "{c:?}");
        let Response::Denied { settles, verify: false, .. } = run(&mut c, claim("b"), 50_000) else { panic!() };
        assert_eq!(settles, Some(last + SETTLE_MS));
        // Another holder's release changes nothing; the holder's frees.
        assert_eq!(run(&mut c, release("b", last + MARGIN_MS), 50_000), Response::NotHolder);
        assert_eq!(run(&mut c, release("a", last + MARGIN_MS), 50_000), Response::Done);
        assert_eq!(c, None, "the freed cell is deleted");
        // The next claim is fresh, its generation above every earlier one.
        assert!(matches!(run(&mut c, claim("b"), 50_001), Response::Granted { gen: 50_001_000, fresh: true, .. }));
        // A late release by the old holder is not the holder's any more.
        assert_eq!(run(&mut c, release("a", 60_000), 60_000), Response::NotHolder);
        // A settled claim answers without a settle time.
        let Response::Denied { settles: None, verify: true, .. } =
            run(&mut c, claim("a"), 50_001 + LEASE_MS + SETTLE_MS)
        else {
            panic!()
        };
    }

    #[test]
    fn only_a_fresh_untouched_grant_is_abandoned() {
        let mut c = None;
        let Response::Granted { gen, fresh: true, .. } = run(&mut c, claim("a"), 0) else { panic!() };
        assert_eq!(run(&mut c, Request::Abandon { holder: "a".into(), gen }, 1), Response::Done);
        assert_eq!(c, None, "an abandoned claim's cell is deleted");
        // A second writer of `a` reaffirms the claim: the first's abandon is void.
        let Response::Granted { gen, .. } = run(&mut c, claim("a"), 2) else { panic!() };
        assert!(matches!(run(&mut c, claim("a"), 3), Response::Granted { fresh: false, .. }));
        assert_eq!(run(&mut c, Request::Abandon { holder: "a".into(), gen }, 4), Response::NotHolder);
        assert!(matches!(c, Some(Cell::Claim { .. })));
    }

    #[test]
    fn locks_exclude_until_release_or_lapse() {
        let mut c = None;
        let acq = |t: &str| Request::Acquire { token: t.into(), lease_ms: 1000 };
        assert_eq!(run(&mut c, acq("a"), 0), Response::Acquired { until: 1000 });
        assert_eq!(run(&mut c, acq("b"), 999), Response::Busy { until: 1000 });
        assert_eq!(run(&mut c, Request::Unlock { token: "b".into() }, 999), Response::NotHolder);
        assert_eq!(run(&mut c, acq("b"), 1000), Response::Acquired { until: 2000 });
        // The lapsed holder cannot release the new one's lock.
        assert_eq!(run(&mut c, Request::Unlock { token: "a".into() }, 1001), Response::NotHolder);
        assert_eq!(run(&mut c, Request::Unlock { token: "b".into() }, 1001), Response::Done);
        assert_eq!(c, None);
        assert!(matches!(run(&mut c, claim("x"), 0), Response::Granted { .. }));
        assert!(matches!(run(&mut c, acq("a"), 0), Response::Refused { .. }));
        // A lock with no lease would be everyone's at once.
        let mut c = None;
        let zero = Request::Acquire { token: "a".into(), lease_ms: 0 };
        assert!(matches!(run(&mut c, zero, 0), Response::Refused { .. }));
        assert_eq!(c, None);
    }

    #[test]
    fn fixed_windows_admit_exactly_the_limit() {
        let mut c = None;
        let hit = |cost| Request::Hit { limit: 3, window_ms: 1000, sliding: false, cost };
        let allowed: Vec<bool> = (0..5)
            .map(|i| match run(&mut c, hit(1), 2000 + i) {
                Response::Rate { allowed, .. } => allowed,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(allowed, [true, true, true, false, false]);
        assert_eq!(run(&mut c, hit(0), 2999), Response::Rate { allowed: true, remaining: 0, reset_at: 3000 });
        assert_eq!(run(&mut c, hit(2), 3000), Response::Rate { allowed: true, remaining: 1, reset_at: 4000 });
        assert_eq!(run(&mut c, hit(2), 3001), Response::Rate { allowed: false, remaining: 1, reset_at: 4000 });
    }

    #[test]
    fn sliding_windows_count_the_last_window_exactly() {
        let mut c = None;
        let hit = Request::Hit { limit: 2, window_ms: 100, sliding: true, cost: 1 };
        assert!(matches!(run(&mut c, hit.clone(), 0), Response::Rate { allowed: true, remaining: 1, .. }));
        assert!(matches!(run(&mut c, hit.clone(), 50), Response::Rate { allowed: true, remaining: 0, reset_at: 100 }));
        assert!(matches!(run(&mut c, hit.clone(), 99), Response::Rate { allowed: false, .. }));
        // The hit at 0 leaves the window at 100.
        assert!(matches!(run(&mut c, hit.clone(), 100), Response::Rate { allowed: true, reset_at: 150, .. }));
        let zero = Request::Hit { limit: 2, window_ms: 0, sliding: true, cost: 1 };
        assert!(matches!(run(&mut c, zero, 100), Response::Refused { .. }));
    }

    #[test]
    fn requests_and_cells_round_trip_through_json() {
        let r = Request::TakeOver { holder: "a".into(), from: "b".into(), gen: 3, lease_ms: 5 };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"op":"take_over","holder":"a","from":"b","gen":3,"lease_ms":5}"#);
        assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), r);
        let cell = Cell::Claim { holder: "a".into(), gen: 2, committed: true, until: 9 };
        let json = serde_json::to_string(&cell).unwrap();
        assert_eq!(serde_json::from_str::<Cell>(&json).unwrap(), cell);
    }
}
