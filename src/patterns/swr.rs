//! Stale-while-revalidate caching of any model: a cached record is served
//! while fresh, served *and* fetched again in the background while stale,
//! and fetched before answering once it is older than both windows (KV
//! expires it then, or 60 s after the fetch when both windows are shorter:
//! KV's least ttl).
//!
//! A cached model implements [`Stamped`]: it carries the time its value was
//! fetched, which kvgen sets when it writes the fetched record.

use std::future::Future;
use std::pin::Pin;

use crate::error::Result;
use crate::model::Model;
use crate::repo::{Repo, WriteOptions};
use crate::store::KvStore;

/// A model that carries when its value was fetched.
pub trait Stamped {
    /// When the value was fetched, seconds since the epoch.
    fn stamped_at(&self) -> u64;
    /// Sets when the value was fetched.
    fn stamp(&mut self, at: u64);
}

/// How long a cached value is fresh, and how long after that it may still
/// be served while it is fetched again, in seconds.
///
/// ```
/// use kvgen::swr::{Freshness, Swr};
///
/// let policy = Swr { fresh: 60, stale: 300 };
/// assert_eq!(policy.state(1_000, 1_059), Freshness::Fresh);
/// assert_eq!(policy.state(1_000, 1_060), Freshness::Stale);
/// assert_eq!(policy.state(1_000, 1_360), Freshness::Expired);
/// assert_eq!(policy.ttl(), 360);
/// assert_eq!(Swr { fresh: 10, stale: 0 }.ttl(), 60, "KV's least ttl");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swr {
    /// Served as it is for this long after it was fetched.
    pub fresh: u64,
    /// Then served and revalidated for this much longer.
    pub stale: u64,
}

impl Swr {
    /// The ttl a fetched value is written with: both windows, and at
    /// least KV's 60 s minimum.
    pub fn ttl(&self) -> u64 {
        self.fresh.saturating_add(self.stale).max(crate::store::limits::MIN_TTL_SECS)
    }

    /// What a value fetched at `stamped_at` is at `now`.
    pub fn state(&self, stamped_at: u64, now: u64) -> Freshness {
        let age = now.saturating_sub(stamped_at);
        if age < self.fresh {
            Freshness::Fresh
        } else if age < self.fresh.saturating_add(self.stale) {
            Freshness::Stale
        } else {
            Freshness::Expired
        }
    }
}

/// Where a cached value is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Within the fresh window: served as it is.
    Fresh,
    /// Within the stale window: served, and fetched again in the background.
    Stale,
    /// Older than both windows: fetched before answering.
    Expired,
}

/// What [`get_or_fetch`] answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// The cached value, fresh.
    Fresh,
    /// The cached value, stale; a revalidation was handed to `spawn`.
    Stale,
    /// Fetched now: there was no value, or it was too old.
    Fetched,
}

/// A revalidation to run after the response, e.g. by the Worker's
/// `Context::wait_until`.
pub type Revalidation = Pin<Box<dyn Future<Output = Result<()>>>>;

impl<M: Model + Stamped, S: KvStore> Repo<'_, M, S> {
    /// The cached record with this id and what it is now, without fetching:
    /// `None` when there is none, it is older than both windows, or it no
    /// longer reads as the model (its shape changed in a deploy: fetching
    /// overwrites it). Costs 1 read.
    pub async fn get_cached(&self, id: &M::Id, policy: Swr) -> Result<Option<(M, Freshness)>> {
        let rec = match self.get(id).await {
            Ok(Some(rec)) => rec,
            Ok(None) | Err(crate::error::Error::Serialization { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        match policy.state(rec.stamped_at(), self.store().now()) {
            Freshness::Expired => Ok(None),
            state => Ok(Some((rec, state))),
        }
    }

    /// Stamps `rec` with the store's time and writes it with the policy's
    /// ttl. Costs what [`put_with`](Repo::put_with) costs: 1 write for a
    /// model with no index.
    pub async fn put_fetched(&self, rec: &mut M, policy: Swr) -> Result<()> {
        rec.stamp(self.store().now());
        self.put_with(rec, WriteOptions::ttl(policy.ttl())).await
    }
}

/// Stale-while-revalidate: the record with this id from the cache in
/// `store` (under `scope`), fetched by `fetch` when missing or too old;
/// when stale, the cached record is answered and its revalidation (fetch,
/// then write) is handed to `spawn`, which a Worker passes to
/// `Context::wait_until`. The store is taken by value so the revalidation
/// can outlive the request's borrows.
///
/// Costs 1 read when fresh or stale, plus a fetch and a write (1 write for
/// a model with no index) when fetched, now or in the background. A
/// fetched value whose write the backend fails (`Error::Store`) is still
/// the answer, uncached. Each
/// stale read starts its own revalidation: KV offers nothing to elect one
/// among concurrent readers, so a hot key revalidates once per read in the
/// stale window, each writing the value it fetched (last writer wins).
///
/// ```
/// use kvgen::swr::{get_or_fetch, Served, Stamped, Swr};
/// use kvgen::{KvModel, ManualClock, MemoryStore};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[kv(binding = "CACHE")]
/// pub struct Quote {
///     #[kv(id)]
///     pub symbol: String,
///     pub price: u64,
///     pub fetched_at: u64,
/// }
///
/// impl Stamped for Quote {
///     fn stamped_at(&self) -> u64 {
///         self.fetched_at
///     }
///     fn stamp(&mut self, at: u64) {
///         self.fetched_at = at;
///     }
/// }
///
/// // What the origin answers (an HTTP call, in a Worker).
/// fn origin(price: u64) -> impl FnOnce() -> std::future::Ready<kvgen::Result<Quote>> {
///     move || std::future::ready(Ok(Quote { symbol: "ACME".into(), price, fetched_at: 0 }))
/// }
///
/// # pollster::block_on(async {
/// let clock = ManualClock::new(1_000);
/// let store = MemoryStore::with_clock(clock.clone());
/// let policy = Swr { fresh: 60, stale: 300 };
/// let id = || "ACME".to_string();
///
/// let (q, served) = get_or_fetch(store.clone(), "", id(), policy, origin(1), |_| {}).await?;
/// assert_eq!((q.price, served), (1, Served::Fetched));
/// let (q, served) = get_or_fetch(store.clone(), "", id(), policy, origin(2), |_| panic!("fresh")).await?;
/// assert_eq!((q.price, served), (1, Served::Fresh));
///
/// // Stale: the cached quote answers, and the revalidation is handed over
/// // (to `Context::wait_until` in a Worker).
/// clock.advance(120);
/// let mut later = Vec::new();
/// let (q, served) = get_or_fetch(store.clone(), "", id(), policy, origin(3), |r| later.push(r)).await?;
/// assert_eq!((q.price, served), (1, Served::Stale));
/// for revalidation in later {
///     revalidation.await?;
/// }
/// let (q, served) = get_or_fetch(store.clone(), "", id(), policy, origin(4), |_| {}).await?;
/// assert_eq!((q.price, served), (3, Served::Fresh));
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
pub async fn get_or_fetch<M, S, F, Fut>(
    store: S,
    scope: &str,
    id: M::Id,
    policy: Swr,
    fetch: F,
    spawn: impl FnOnce(Revalidation),
) -> Result<(M, Served)>
where
    M: Model + Stamped + 'static,
    S: KvStore + Clone + 'static,
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = Result<M>> + 'static,
{
    if !scope.is_empty() {
        crate::repo::check_scope(scope)?;
    }
    let repo = Repo::<M, S>::with_checked_scope(&store, scope);
    if let Some((rec, state)) = repo.get_cached(&id, policy).await? {
        if state == Freshness::Fresh {
            return Ok((rec, Served::Fresh));
        }
        let (store, scope) = (store.clone(), scope.to_string());
        spawn(Box::pin(async move {
            let mut fresh = fetch().await?;
            Repo::<M, S>::with_checked_scope(&store, &scope).put_fetched(&mut fresh, policy).await
        }));
        return Ok((rec, Served::Stale));
    }
    let mut rec = fetch().await?;
    match repo.put_fetched(&mut rec, policy).await {
        // The value is the answer even when the backend would not cache it
        // now (KV refuses a second write to one key within a second, which
        // is what a hot key's concurrent fetches do); a limit or
        // serialization error would fail every time, and is the answer.
        Ok(()) | Err(crate::error::Error::Store { .. }) => Ok((rec, Served::Fetched)),
        Err(e) => Err(e),
    }
}
