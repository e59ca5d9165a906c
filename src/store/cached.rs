//! `CachedReads`: the view of a store that the repository's stale-accepting
//! reads (get, get_many, exists, finders, listings, relation loaders) go
//! through. Its reads carry a cache ttl ([`KvStore::get_cached`],
//! [`KvStore::get_many_cached`]); everything else is the store's own.
//!
//! It is the only caller of the cached reads in the crate: the index
//! protocol, `verify` and `repair` are handed the store itself and never
//! this view, so none of their reads can be served from a cache.
//!
//! Builds on the store contract only.

use crate::coord::Coordinate;
use crate::error::Result;
use crate::store::limits;
use crate::store::{Entry, KvStore, ListOptions, ListResult, PutOptions};

/// `inner`, its reads with cache ttl `cache_ttl` (plain reads when `None`).
pub(crate) struct CachedReads<'s, S: ?Sized> {
    inner: &'s S,
    cache_ttl: Option<u64>,
}

impl<'s, S: KvStore + ?Sized> CachedReads<'s, S> {
    /// The view of `inner` reading with `cache_ttl`, checked: a ttl under
    /// [`limits::MIN_CACHE_TTL_SECS`] is refused here, before any KV operation.
    pub(crate) fn new(inner: &'s S, cache_ttl: Option<u64>) -> Result<Self> {
        if let Some(ttl) = cache_ttl {
            limits::check_cache_ttl(ttl)?;
        }
        Ok(CachedReads { inner, cache_ttl })
    }
}

impl<S: KvStore + ?Sized> KvStore for CachedReads<'_, S> {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        match self.cache_ttl {
            Some(ttl) => self.inner.get_cached(key, ttl).await,
            None => self.inner.get(key).await,
        }
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        match self.cache_ttl {
            Some(ttl) => self.inner.get_many_cached(keys, ttl).await,
            None => self.inner.get_many(keys).await,
        }
    }
    async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
        self.inner.get_cached(key, cache_ttl).await
    }
    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
        self.inner.get_many_cached(keys, cache_ttl).await
    }
    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
        self.inner.put(key, value, options).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key).await
    }
    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        self.inner.list(options).await
    }
    fn now(&self) -> u64 {
        self.inner.now()
    }
    fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight()
    }
    fn coordinator(&self) -> Option<&dyn Coordinate> {
        self.inner.coordinator()
    }
}
