//! The stores: the [`KvStore`] contract every backend implements, the backends
//! and the test doubles that wrap them, side by side.
//!
//! - this file: the contract ([`KvStore`], [`PutOptions`], [`ListOptions`], ...);
//! - `cached`: the view stale-accepting repository reads go through, which
//!   reads with a cache ttl ([`KvStore::get_cached`]);
//! - `bulk`: bulk reads of any number of keys, split into reads KV accepts;
//! - [`limits`]: Workers KV's limits, which every backend enforces the same way;
//! - `clock`: the clocks stores read the time from ([`ManualClock`](crate::ManualClock) for tests);
//! - `memory`: [`MemoryStore`](crate::MemoryStore), a faithful in-process KV
//!   emulator (and [`MemoryCoordinator`](crate::MemoryCoordinator));
//! - `worker`: [`WorkerKv`](crate::WorkerKv) on a Workers KV binding (feature `worker`);
//! - `fault`: [`Faulty`](crate::Faulty), a wrapper that fails chosen operations;
//! - `meter`: [`Metered`](crate::Metered), a wrapper that counts operations;
//! - `rounds`: [`Rounds`](crate::Rounds), a wrapper that counts the round trips a call waits for;
//! - `flight`: how many operations of one call may be in flight at a time;
//! - `coalesce`: [`Coalesced`](crate::Coalesced), a wrapper that makes bulk reads issued together as one;
//! - `retry`: writes refused by KV's rate limit of one write per second per
//!   key, retried with a jittered backoff.
//!
//! Builds on the model layer's errors and on the coordinator's request types
//! (a store may carry a coordinator). The index protocol and the repository
//! are built on this contract; nothing here may depend on them.
//!
//! The storage contract: the only thing a backend implements.

pub(crate) mod bulk;
pub(crate) mod cached;
pub(crate) mod clock;
pub(crate) mod coalesce;
pub(crate) mod fault;
pub(crate) mod flight;
pub mod limits;
pub(crate) mod memory;
pub(crate) mod meter;
pub(crate) mod retry;
pub(crate) mod rounds;
#[cfg(feature = "worker")]
pub(crate) mod worker;

use crate::coord::Coordinate;
use crate::error::{Error, Result};
use serde_json::Value;

/// A value read from the store, with its metadata.
///
/// ```
/// use kvgen::Entry;
///
/// let entry = Entry::text("ada", Some(serde_json::json!({ "v": 1 })));
/// assert_eq!(entry.as_str(), Some("ada"));
/// assert_eq!(Entry { value: vec![b'a', 0xff], metadata: None }.into_text(), "a\u{fffd}");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The value's bytes, exactly as written (kvgen's records are JSON text;
    /// raw values are any bytes).
    pub value: Vec<u8>,
    /// The key's metadata, if it has any.
    pub metadata: Option<Value>,
}

impl Entry {
    /// An entry of the text `value`.
    pub fn text(value: impl Into<String>, metadata: Option<Value>) -> Self {
        Entry { value: value.into().into_bytes(), metadata }
    }

    /// The value as text, when it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }

    /// The value as text, each invalid UTF-8 sequence replaced by U+FFFD
    /// (no copy when it is valid).
    pub fn into_text(self) -> String {
        text_of(self.value)
    }
}

/// Bytes as text, each invalid UTF-8 sequence replaced by U+FFFD (no copy when valid).
pub(crate) fn text_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// How long a written key lives, and what metadata it carries.
///
/// ```
/// use kvgen::{KvStore, ManualClock, MemoryStore, PutOptions};
/// use serde_json::json;
///
/// # pollster::block_on(async {
/// let store = MemoryStore::with_clock(ManualClock::new(1_000));
/// let options = PutOptions { expiration_ttl: Some(3600), metadata: Some(json!({ "role": "admin" })), ..PutOptions::default() };
/// store.put("session:s1", b"u1", &options).await?;
/// assert_eq!(store.expiration("session:s1"), Some(4_600));
/// assert_eq!(store.get("session:s1").await?.unwrap().metadata, Some(json!({ "role": "admin" })));
///
/// // KV's shortest ttl is 60 s.
/// let short = PutOptions { expiration_ttl: Some(59), ..PutOptions::default() };
/// assert!(matches!(store.put("k", b"v", &short).await, Err(kvgen::Error::TtlTooShort { .. })));
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PutOptions {
    /// Absolute expiry, seconds since the epoch (at least now + 60).
    pub expiration: Option<u64>,
    /// Relative expiry in seconds (at least 60).
    pub expiration_ttl: Option<u64>,
    /// Metadata, at most 1024 bytes as JavaScript's `JSON.stringify` writes it.
    pub metadata: Option<Value>,
}

/// One page request of a listing.
///
/// ```
/// use kvgen::{KvStore, ListOptions, MemoryStore, PutOptions};
///
/// # pollster::block_on(async {
/// let store = MemoryStore::new();
/// for key in ["user:3", "user:1", "org:1", "user:2"] {
///     store.put(key, b"", &PutOptions::default()).await?;
/// }
/// let mut names = Vec::new();
/// let mut options = ListOptions { prefix: "user:".into(), cursor: None, limit: 2 };
/// loop {
///     let page = store.list(&options).await?;
///     names.extend(page.keys.into_iter().map(|k| k.name));
///     match page.cursor {
///         Some(cursor) => options.cursor = Some(cursor),
///         None => break,
///     }
/// }
/// assert_eq!(names, ["user:1", "user:2", "user:3"]);
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ListOptions {
    /// Only keys starting with this.
    pub prefix: String,
    /// Where the previous page stopped: a cursor this store issued for this prefix.
    pub cursor: Option<String>,
    /// At most this many keys (1..=1000; Workers KV takes 0 for 1000).
    pub limit: u32,
}

/// One page request: how many items, and where the previous page stopped.
///
/// A repository's listings take it and answer a cursor for the next page:
///
/// ```
/// use kvgen::{KvModel, MemoryStore, Page};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[kv(binding = "APP")]
/// pub struct Note {
///     #[kv(id)]
///     pub id: u32,
/// }
///
/// # pollster::block_on(async {
/// let store = MemoryStore::new();
/// let notes = Note::repo(&store);
/// for id in 1..=3 {
///     notes.put(&Note { id }).await?;
/// }
/// let first = notes.list(Page::first(2)).await?;
/// assert_eq!(first.items, [Note { id: 1 }, Note { id: 2 }]);
/// let rest = notes.list(Page::after(first.cursor.unwrap(), 2)).await?;
/// assert_eq!(rest.items, [Note { id: 3 }]);
/// assert_eq!(Page::default(), Page::first(100));
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Page {
    /// At most this many items (1..=1000).
    pub limit: u32,
    /// The cursor of the previous page, `None` for the first.
    pub cursor: Option<String>,
}

impl Page {
    /// The first page of at most `limit` items.
    pub fn first(limit: u32) -> Self {
        Page { limit, cursor: None }
    }
    /// The page after `cursor`.
    pub fn after(cursor: impl Into<String>, limit: u32) -> Self {
        Page { limit, cursor: Some(cursor.into()) }
    }
}

impl Default for Page {
    /// The first page of 100.
    fn default() -> Self {
        Page::first(100)
    }
}

/// A key as a listing returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListKey {
    /// The key.
    pub name: String,
    /// Its absolute expiry, seconds since the epoch.
    pub expiration: Option<u64>,
    /// Its metadata.
    pub metadata: Option<Value>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ListResult {
    /// Keys in byte order. A page may be empty while the listing is not complete.
    pub keys: Vec<ListKey>,
    /// Where the next page starts; `None` when the listing is complete.
    pub cursor: Option<String>,
}

/// A Workers KV namespace, or something that behaves like one.
///
/// Code generic over the store runs on Workers KV ([`WorkerKv`](crate::WorkerKv))
/// and, in tests, on [`MemoryStore`](crate::MemoryStore):
///
/// ```
/// use kvgen::{KvStore, MemoryStore, PutOptions};
///
/// async fn visit<S: KvStore>(store: &S, page: &str) -> kvgen::Result<u64> {
///     let key = format!("visits:{page}");
///     let seen = match store.get(&key).await? {
///         Some(entry) => entry.as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
///         None => 0,
///     };
///     store.put(&key, (seen + 1).to_string().as_bytes(), &PutOptions::default()).await?;
///     Ok(seen + 1)
/// }
///
/// # pollster::block_on(async {
/// let store = MemoryStore::new();
/// visit(&store, "home").await?;
/// assert_eq!(visit(&store, "home").await?, 2);
/// assert_eq!(store.raw("visits:home").as_deref(), Some("2"));
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
///
/// Futures carry no `Send` bound, since Workers futures are not `Send`.
/// Implementations enforce the KV limits of [`limits`](crate::store::limits) and
/// report violations with the matching [`Error`](crate::Error) variant.
#[allow(async_fn_in_trait)]
pub trait KvStore {
    /// Reads one key.
    async fn get(&self, key: &str) -> Result<Option<Entry>>;
    /// Reads the values and metadata of 1..=100 keys in one operation; the
    /// answer is in the order asked, `None` for a missing key. (Workers KV's
    /// `get(keys, {withMetadata: true})` answers a missing key with `null`; it
    /// is one operation, billed per key, like the bulk read without metadata.)
    ///
    /// Workers KV's bulk read reads values as text only, as JavaScript's
    /// `TextDecoder` does: each invalid UTF-8 sequence comes back as U+FFFD,
    /// and a leading byte-order mark is dropped.
    /// Read such values with [`get`](KvStore::get), which gives exact bytes.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>>;
    /// [`get`](KvStore::get), which the store may answer from a cache up to
    /// `cache_ttl` seconds old (Workers KV's `get(key, {cacheTtl})`: at least
    /// [`MIN_CACHE_TTL_SECS`](crate::store::limits::MIN_CACHE_TTL_SECS),
    /// refused below with [`Error::InvalidCacheTtl`](crate::Error::InvalidCacheTtl)).
    /// Only reads that accept a stale answer call it; the write protocol and
    /// `verify`/`repair` never do. The default reads uncached.
    async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
        let _ = cache_ttl;
        self.get(key).await
    }
    /// [`get_many`](KvStore::get_many) with a cache ttl, as
    /// [`get_cached`](KvStore::get_cached) is `get` with one. The default
    /// reads uncached.
    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
        let _ = cache_ttl;
        self.get_many(keys).await
    }
    /// Writes one key: `value` is stored as these exact bytes (a `&str`'s
    /// bytes are its UTF-8, as Workers KV stores a string).
    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()>;
    /// Deletes one key; deleting a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<()>;
    /// Lists one page of keys with a prefix, in byte order.
    async fn list(&self, options: &ListOptions) -> Result<ListResult>;
    /// The store's clock, seconds since the epoch: what expirations are
    /// checked against. Repositories turn a ttl into an absolute expiration
    /// with it once per call, so a record and its index entries expire in the
    /// same second.
    fn now(&self) -> u64;
    /// The coordinator that strict unique indexes claim their values on
    /// (a Durable Object on Workers), or `None` when the store has none:
    /// writes of a strict value are then refused with
    /// [`Error::NoCoordinator`](crate::Error::NoCoordinator).
    fn coordinator(&self) -> Option<&dyn Coordinate> {
        None
    }
    /// How many operations one call may have in flight at a time:
    /// [`DEFAULT_MAX_IN_FLIGHT`](crate::store::flight::DEFAULT_MAX_IN_FLIGHT)
    /// (6, the connections a Workers invocation may have waiting for
    /// response headers at a time) unless the store says otherwise. A call
    /// overlaps independent operations up to this many; 1 makes every call
    /// sequential.
    fn max_in_flight(&self) -> usize {
        crate::store::flight::DEFAULT_MAX_IN_FLIGHT
    }
    /// Waits `ms` milliseconds: how a write refused with
    /// [`Error::RateLimited`](crate::Error::RateLimited) waits before it is
    /// tried again (the runtime crate has no timer of its own).
    /// [`WorkerKv`](crate::WorkerKv) waits on the Workers timer and
    /// [`MemoryStore`](crate::MemoryStore) asks its [`Clock`](crate::Clock)
    /// (a [`ManualClock`](crate::ManualClock) moves forward by `ms`). The
    /// default does not wait: a store that never answers `RateLimited` never
    /// pauses, and one that does should implement this.
    async fn pause(&self, ms: u64) {
        let _ = ms;
    }
}

/// What a wrapper store ([`Faulty`](crate::Faulty), [`Metered`](crate::Metered))
/// forwards its coordinator requests to: the inner store's coordinator, or
/// [`Error::NoCoordinator`] when it has none.
pub(crate) fn inner_coordinator<S: KvStore + ?Sized>(inner: &S) -> Result<&dyn Coordinate> {
    inner.coordinator().ok_or(Error::NoCoordinator { model: "" })
}

/// A wrapper store's coordinator clock: the inner coordinator's, or the
/// inner store's clock in ms when it has none.
pub(crate) fn inner_now_ms<S: KvStore + ?Sized>(inner: &S) -> u64 {
    inner.coordinator().map_or(inner.now() * 1000, |c| c.now_ms())
}

/// A store behind a reference, or shared by owner (`Rc`, `Arc`: what a
/// task that outlives the request's borrows holds, such as a revalidation
/// handed to `wait_until`): the store itself.
macro_rules! store_behind {
    ($ty:ty) => {
        impl<S: KvStore + ?Sized> KvStore for $ty {
            async fn get(&self, key: &str) -> Result<Option<Entry>> {
                (**self).get(key).await
            }
            async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
                (**self).get_many(keys).await
            }
            async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
                (**self).get_cached(key, cache_ttl).await
            }
            async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
                (**self).get_many_cached(keys, cache_ttl).await
            }
            async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
                (**self).put(key, value, options).await
            }
            async fn delete(&self, key: &str) -> Result<()> {
                (**self).delete(key).await
            }
            async fn list(&self, options: &ListOptions) -> Result<ListResult> {
                (**self).list(options).await
            }
            fn now(&self) -> u64 {
                (**self).now()
            }
            fn coordinator(&self) -> Option<&dyn Coordinate> {
                (**self).coordinator()
            }
            fn max_in_flight(&self) -> usize {
                (**self).max_in_flight()
            }
            async fn pause(&self, ms: u64) {
                (**self).pause(ms).await
            }
        }
    };
}
store_behind!(&S);
store_behind!(std::rc::Rc<S>);
store_behind!(std::sync::Arc<S>);
