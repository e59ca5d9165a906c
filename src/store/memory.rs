//! `MemoryStore`: an embedded, faithful emulator of a Workers KV namespace.

use crate::coord::cell::{Cell, Request, Response};
use crate::coord::machine::apply;
use crate::coord::{BoxFuture, Coordinate};
use crate::error::{Error, Result};
use crate::store::clock::{Clock, SystemClock};
use crate::store::limits;
use crate::store::{Entry, KvStore, ListKey, ListOptions, ListResult, PutOptions};
use serde_json::Value;
use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Clone)]
struct Item {
    value: Vec<u8>,
    metadata: Option<Value>,
    expiration: Option<u64>,
}

impl Item {
    fn live(&self, now: u64) -> bool {
        self.expiration.is_none_or(|e| e > now)
    }
}

/// One write of a key: what it set (`None` for a delete), and when.
#[derive(Debug, Clone)]
struct Version {
    at: u64,
    item: Option<Item>,
}

/// How long past versions are kept once a lagging view exists, in seconds.
const HISTORY_SECS: u64 = 600;

#[derive(Debug, Default)]
struct Data {
    /// Each key's versions, oldest first; without history, only the latest.
    keys: BTreeMap<String, Vec<Version>>,
    history: bool,
    /// The namespace's cursor secret and how many cursors it issued.
    cursors: CursorKey,
    /// Whether writes of one key are held to one a second
    /// ([`MemoryStore::with_write_rate_limit`]), and when (ms) each key
    /// recently written was last written.
    rate_limit: bool,
    last_write: HashMap<String, u64>,
}

/// Cursors are opaque and bound to the prefix they were issued for: the last
/// key of the page, length-prefixed and padded to the longest key (so not
/// even its length shows), encrypted with a keystream of a keyed hash under a
/// secret drawn at random for each namespace, and authenticated with the
/// same keyed hash over the prefix and the ciphertext. A cursor of another
/// prefix, another namespace or a forged or altered one is refused with
/// [`Error::InvalidCursor`]; nothing is kept per cursor, so none ever expires.
/// (The keyed hash is std's SipHash with its random per-process keys: the
/// cursors hide keys from whoever holds them; this is an emulator, not a
/// security boundary.)
#[derive(Debug, Default)]
struct CursorKey {
    secret: RandomState,
    issued: u64,
}

/// Plaintext of a cursor: 2 bytes of length, then the key, zero-padded.
const CURSOR_PLAIN: usize = 2 + limits::MAX_KEY_BYTES;
/// Nonce (8 bytes), ciphertext, tag (16 bytes).
const CURSOR_BYTES: usize = 8 + CURSOR_PLAIN + 16;

impl CursorKey {
    fn keystream(&self, nonce: u64, data: &mut [u8]) {
        for (i, chunk) in data.chunks_mut(8).enumerate() {
            let block = self.secret.hash_one((0u8, nonce, i as u64)).to_le_bytes();
            chunk.iter_mut().zip(block).for_each(|(b, k)| *b ^= k);
        }
    }

    fn tag(&self, nonce: u64, prefix: &str, ct: &[u8]) -> [u8; 16] {
        let mut tag = [0; 16];
        tag[..8].copy_from_slice(&self.secret.hash_one((1u8, nonce, prefix, ct)).to_le_bytes());
        tag[8..].copy_from_slice(&self.secret.hash_one((2u8, nonce, prefix, ct)).to_le_bytes());
        tag
    }

    fn encode(&mut self, prefix: &str, last: &str) -> String {
        self.issued += 1;
        let nonce = self.issued;
        let mut plain = vec![0u8; CURSOR_PLAIN];
        plain[..2].copy_from_slice(&(last.len() as u16).to_be_bytes());
        plain[2..2 + last.len()].copy_from_slice(last.as_bytes());
        self.keystream(nonce, &mut plain);
        let mut bytes = Vec::with_capacity(CURSOR_BYTES);
        bytes.extend_from_slice(&nonce.to_le_bytes());
        bytes.extend_from_slice(&plain);
        bytes.extend_from_slice(&self.tag(nonce, prefix, &plain));
        base64url(&bytes)
    }

    fn decode(&self, prefix: &str, cursor: &str) -> Option<String> {
        let bytes = unbase64url(cursor).filter(|b| b.len() == CURSOR_BYTES)?;
        let nonce = u64::from_le_bytes(bytes[..8].try_into().ok()?);
        let (ct, tag) = bytes[8..].split_at(CURSOR_PLAIN);
        if self.tag(nonce, prefix, ct) != tag {
            return None;
        }
        let mut plain = ct.to_vec();
        self.keystream(nonce, &mut plain);
        let len = u16::from_be_bytes([plain[0], plain[1]]) as usize;
        let key = String::from_utf8(plain.get(2..2 + len)?.to_vec()).ok()?;
        key.starts_with(prefix).then_some(key)
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn unbase64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = B64.iter().position(|b| b == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    // Only the canonical spelling of the bytes is a cursor.
    (base64url(&out) == s).then_some(out)
}

impl Data {
    /// The item visible at `as_of` (`None` reads the latest write).
    fn visible(versions: &[Version], as_of: Option<u64>) -> Option<&Item> {
        let v = match as_of {
            None => versions.last(),
            Some(t) => versions.iter().rev().find(|v| v.at <= t),
        };
        v.and_then(|v| v.item.as_ref())
    }

    /// Refuses a write of `key` at `now_ms` under a second after its last
    /// write, when the rate limit is on; otherwise notes the write.
    fn admit(&mut self, key: &str, now_ms: u64) -> Result<()> {
        if !self.rate_limit {
            return Ok(());
        }
        if let Some(&last) = self.last_write.get(key) {
            let since = now_ms.saturating_sub(last);
            if now_ms >= last && since < limits::WRITE_INTERVAL_MS {
                return Err(Error::RateLimited {
                    key: key.to_string(),
                    retry_after: limits::WRITE_INTERVAL_MS - since,
                });
            }
        }
        // Forget the writes that can no longer refuse one, now and then.
        if self.last_write.len() >= 1024 {
            self.last_write.retain(|_, at| now_ms.saturating_sub(*at) < limits::WRITE_INTERVAL_MS);
        }
        self.last_write.insert(key.to_string(), now_ms);
        Ok(())
    }

    fn write(&mut self, key: &str, at: u64, item: Option<Item>) {
        if !self.history {
            match item {
                Some(item) => {
                    self.keys.insert(key.to_string(), vec![Version { at, item: Some(item) }]);
                }
                None => {
                    self.keys.remove(key);
                }
            }
            return;
        }
        let versions = self.keys.entry(key.to_string()).or_default();
        versions.push(Version { at, item });
        // Keep the versions of the last HISTORY_SECS, and the newest older one.
        let cutoff = at.saturating_sub(HISTORY_SECS);
        let old = versions.iter().take_while(|v| v.at < cutoff).count();
        if old > 1 {
            versions.drain(..old - 1);
        }
    }
}

/// An in-memory KV namespace that behaves like Workers KV: it enforces every
/// limit in KV's order (see [`limits::check_put`]: key 1..=512 bytes and not
/// `.`/`..`, value 25 MiB, metadata 1024 bytes as JavaScript writes it, ttl
/// 60..=2^31-1 s, expiration now + 60 s..=2^31-1, list prefix 512 bytes, list
/// limit 0..=1000 with 0 meaning 1000, bulk reads 1..=100 keys), lists in
/// byte order with opaque cursors bound to their prefix, and expires keys
/// against an injectable [`Clock`].
///
/// Clones share the same data; [`fork`](MemoryStore::fork) copies it.
/// [`lagging`](MemoryStore::lagging) gives a view that sees writes only once
/// they are some seconds old, as another KV location would.
///
/// ```
/// use kvgen::{KvStore, ListOptions, ManualClock, MemoryStore, PutOptions};
///
/// # pollster::block_on(async {
/// let clock = ManualClock::new(1_000);
/// let store = MemoryStore::with_clock(clock.clone());
/// store.put("user:2", b"bob", &PutOptions::default()).await?;
/// store.put("user:1", "ada".as_bytes(), &PutOptions::default()).await?;
/// assert_eq!(store.get("user:1").await?.unwrap().as_str(), Some("ada"));
///
/// // Listings are in byte order.
/// let page = store.list(&ListOptions { prefix: "user:".into(), cursor: None, limit: 10 }).await?;
/// let names: Vec<_> = page.keys.iter().map(|k| k.name.as_str()).collect();
/// assert_eq!(names, ["user:1", "user:2"]);
///
/// // KV's limits are enforced as Workers KV enforces them.
/// let long = "k".repeat(513);
/// assert!(matches!(store.put(&long, b"", &PutOptions::default()).await, Err(kvgen::Error::KeyTooLong { .. })));
///
/// // Another location sees a write about a minute later.
/// let far = store.lagging(60);
/// store.put("user:3", b"cy", &PutOptions::default()).await?;
/// assert_eq!(far.get("user:3").await?, None);
/// clock.advance(60);
/// assert!(far.get("user:3").await?.is_some());
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    data: Arc<Mutex<Data>>,
    clock: Arc<dyn Clock>,
    lag: u64,
    coord: MemoryCoordinator,
    /// Operations one call may have in flight ([`KvStore::max_in_flight`]).
    in_flight: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("keys", &self.data().keys.len()).field("lag", &self.lag).finish()
    }
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(SystemClock)
    }

    /// An empty store on the given clock.
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(clock);
        MemoryStore {
            data: Arc::default(),
            coord: MemoryCoordinator::new(clock.clone()),
            clock,
            lag: 0,
            in_flight: crate::store::flight::DEFAULT_MAX_IN_FLIGHT,
        }
    }

    /// An independent copy of this store's data and coordinator, on the same clock.
    pub fn fork(&self) -> MemoryStore {
        let data = self.data();
        // A fresh cursor secret: the copy is another namespace.
        let copy = Data {
            keys: data.keys.clone(),
            history: data.history,
            cursors: CursorKey::default(),
            rate_limit: data.rate_limit,
            last_write: HashMap::new(),
        };
        let coord = self.coord.fork();
        MemoryStore {
            data: Arc::new(Mutex::new(copy)),
            clock: self.clock.clone(),
            lag: self.lag,
            coord,
            in_flight: self.in_flight,
        }
    }

    /// A view of the same namespace from "another location": its reads and
    /// listings see every write only `secs` seconds after it was made (KV
    /// propagates writes across locations in about 60 s), its own writes
    /// included. Writes through it reach the shared data at once.
    pub fn lagging(&self, secs: u64) -> MemoryStore {
        self.data().history = true;
        MemoryStore {
            data: self.data.clone(),
            clock: self.clock.clone(),
            lag: secs,
            coord: self.coord.clone(),
            in_flight: self.in_flight,
        }
    }

    /// This store with at most `n` operations of one call in flight (at
    /// least 1; the default is 6, as on Workers). `1` makes every call
    /// await its operations one after the other.
    ///
    /// ```
    /// use kvgen::{KvStore, MemoryStore};
    /// assert_eq!(MemoryStore::new().max_in_flight(), 6);
    /// assert_eq!(MemoryStore::new().with_max_in_flight(1).max_in_flight(), 1);
    /// ```
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.in_flight = n.max(1);
        self
    }

    /// This namespace with Workers KV's rate limit of one write per second
    /// per key: a `put` or `delete` of a key less than
    /// [`WRITE_INTERVAL_MS`](limits::WRITE_INTERVAL_MS) after the key's last
    /// write, by the store's [`Clock`] (in milliseconds), is refused with
    /// [`Error::RateLimited`] and changes nothing. A refused write does not
    /// count as a write. Off by default. The limit is the namespace's: every
    /// clone and view of it shares it, and a [`fork`](MemoryStore::fork)
    /// keeps it.
    ///
    /// ```
    /// use kvgen::{Error, KvStore, ManualClock, MemoryStore, PutOptions};
    /// # pollster::block_on(async {
    /// let clock = ManualClock::new(1_000);
    /// let store = MemoryStore::with_clock(clock.clone()).with_write_rate_limit();
    /// store.put("k", b"1", &PutOptions::default()).await?;
    /// let again = store.put("k", b"2", &PutOptions::default()).await;
    /// assert!(matches!(again, Err(Error::RateLimited { retry_after: 1000, .. })));
    /// clock.advance(1);
    /// store.put("k", b"2", &PutOptions::default()).await?;
    /// assert_eq!(store.raw("k").as_deref(), Some("2"));
    /// # Ok::<(), Error>(())
    /// # }).unwrap();
    /// ```
    pub fn with_write_rate_limit(self) -> Self {
        self.data().rate_limit = true;
        self
    }

    /// The in-process coordinator (strict unique values, locks, rate limits).
    pub fn coordination(&self) -> &MemoryCoordinator {
        &self.coord
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        // A panic while holding the lock cannot leave the map half-updated:
        // every change is a single insert, push or remove.
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> u64 {
        self.clock.now()
    }

    /// The time reads see: `None` for the latest, or `now - lag`.
    fn as_of(&self, now: u64) -> Option<u64> {
        (self.lag > 0).then(|| now.saturating_sub(self.lag))
    }

    /// Every live key this view sees, in byte order (a test and debugging aid).
    pub fn keys(&self) -> Vec<String> {
        let now = self.now();
        let as_of = self.as_of(now);
        self.data()
            .keys
            .iter()
            .filter(|(_, v)| Data::visible(v, as_of).is_some_and(|i| i.live(now)))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The value of a live key as text (invalid UTF-8 replaced by U+FFFD),
    /// without going through the async API.
    pub fn raw(&self, key: &str) -> Option<String> {
        self.read(key).map(|e| String::from_utf8_lossy(&e.value).into_owned())
    }

    /// The exact bytes of a live key's value, without going through the async API.
    pub fn raw_bytes(&self, key: &str) -> Option<Vec<u8>> {
        self.read(key).map(|e| e.value)
    }

    /// The absolute expiry of a live key.
    pub fn expiration(&self, key: &str) -> Option<u64> {
        let now = self.now();
        let data = self.data();
        let item = Data::visible(data.keys.get(key)?, self.as_of(now))?;
        item.live(now).then_some(item.expiration).flatten()
    }

    fn read(&self, key: &str) -> Option<Entry> {
        let now = self.now();
        let data = self.data();
        let item = Data::visible(data.keys.get(key)?, self.as_of(now))?;
        item.live(now).then(|| Entry { value: item.value.clone(), metadata: item.metadata.clone() })
    }
}

impl KvStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        limits::check_key(key)?;
        Ok(self.read(key))
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        limits::check_bulk(keys.len())?;
        for key in keys {
            limits::check_key(key)?;
        }
        // Workers KV's bulk read reads text as JavaScript's TextDecoder does:
        // each invalid UTF-8 sequence becomes U+FFFD, and a leading byte-order
        // mark is dropped (measured on local workerd by the differential run).
        let as_text = |mut e: Entry| {
            if let std::borrow::Cow::Owned(text) = String::from_utf8_lossy(&e.value) {
                e.value = text.into_bytes();
            }
            if e.value.starts_with("\u{feff}".as_bytes()) {
                e.value.drain(..3);
            }
            e
        };
        let found: Vec<Option<Entry>> = keys.iter().map(|k| self.read(k).map(as_text)).collect();
        limits::check_bulk_size(keys.len(), found.iter().flatten().map(|e| e.value.as_slice()))?;
        Ok(found)
    }

    /// [`get`](KvStore::get), after checking the cache ttl as Workers KV
    /// does (at least 30 s). One location has no edge cache to serve from:
    /// the read is the latest this view sees.
    async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
        limits::check_key(key)?;
        limits::check_cache_ttl(cache_ttl)?;
        Ok(self.read(key))
    }

    /// [`get_many`](KvStore::get_many), after checking the cache ttl as
    /// [`get_cached`](KvStore::get_cached) does.
    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
        limits::check_bulk(keys.len())?;
        for key in keys {
            limits::check_key(key)?;
        }
        limits::check_cache_ttl(cache_ttl)?;
        self.get_many(keys).await
    }

    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
        let now = self.now();
        let expiration = limits::check_put(key, value, options, now)?;
        // Stored as KV stores it: the JSON JavaScript writes, read back
        // (`null` is no metadata).
        let metadata = options.metadata.as_ref().map(limits::metadata_as_stored).filter(|m| !m.is_null());
        let item = Item { value: value.to_vec(), metadata, expiration };
        let mut data = self.data();
        data.admit(key, self.clock.now_ms())?;
        data.write(key, now, Some(item));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        limits::check_key(key)?;
        let now = self.now();
        let mut data = self.data();
        data.admit(key, self.clock.now_ms())?;
        data.write(key, now, None);
        Ok(())
    }

    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        // Workers KV lists a page of 1000 when asked for 0.
        let limit = if options.limit == 0 { limits::MAX_LIST_LIMIT } else { options.limit };
        limits::check_list_limit(limit)?;
        limits::check_prefix(&options.prefix)?;
        let mut data = self.data();
        let start = match &options.cursor {
            Some(c) => Bound::Excluded(
                data.cursors.decode(&options.prefix, c).ok_or_else(|| Error::InvalidCursor { cursor: c.clone() })?,
            ),
            None => Bound::Included(options.prefix.clone()),
        };
        let now = self.now();
        let as_of = self.as_of(now);
        let mut keys = Vec::new();
        let mut more = false;
        for (name, versions) in data.keys.range::<String, _>((start, Bound::Unbounded)) {
            if !name.starts_with(&options.prefix) {
                if name.as_str() > options.prefix.as_str() {
                    break;
                }
                continue;
            }
            let Some(item) = Data::visible(versions, as_of).filter(|i| i.live(now)) else {
                continue;
            };
            if keys.len() == limit as usize {
                more = true;
                break;
            }
            keys.push(ListKey { name: name.clone(), expiration: item.expiration, metadata: item.metadata.clone() });
        }
        let cursor = if more { keys.last().map(|k| data.cursors.encode(&options.prefix, &k.name)) } else { None };
        Ok(ListResult { keys, cursor })
    }

    fn now(&self) -> u64 {
        self.clock.now()
    }

    /// An in-process coordinator on the store's clock, shared by its clones
    /// and lagging views (a Durable Object is strongly consistent); a
    /// [`fork`](MemoryStore::fork) gets its own.
    fn coordinator(&self) -> Option<&dyn Coordinate> {
        Some(&self.coord)
    }

    fn max_in_flight(&self) -> usize {
        self.in_flight
    }

    /// Asks the store's [`Clock`] to [`pause`](Clock::pause): a
    /// [`ManualClock`](crate::ManualClock) moves forward by `ms`, the [`SystemClock`](crate::SystemClock) sleeps.
    async fn pause(&self, ms: u64) {
        self.clock.pause(ms);
    }
}

/// An in-process coordinator with the semantics of the Durable Object one:
/// [`MemoryStore`](crate::MemoryStore) carries one, shared by its clones and views.
///
/// ```
/// use kvgen::coord::{Cell, Request, Response};
/// use kvgen::{Lock, MemoryStore};
///
/// # pollster::block_on(async {
/// let store = MemoryStore::new();
/// let coord = store.coordination();
/// assert!(Lock::new(coord, "job", "t1", 10_000).try_acquire().await?.is_some());
/// assert_eq!(coord.names(), ["lock:job"]);
/// assert!(matches!(coord.cell("lock:job"), Some(Cell::Lock { token, .. }) if token == "t1"));
/// let busy = coord.apply_now("lock:job", &Request::Acquire { token: "t2".into(), lease_ms: 1 });
/// assert!(matches!(busy, Response::Busy { .. }));
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemoryCoordinator {
    cells: Arc<Mutex<HashMap<String, Cell>>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCoordinator").field("cells", &self.lock().len()).finish()
    }
}

impl MemoryCoordinator {
    /// An empty coordinator on `clock` (seconds; cells see it in ms).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        MemoryCoordinator { cells: Arc::default(), clock }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cell>> {
        self.cells.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An independent copy of every cell, on the same clock.
    pub fn fork(&self) -> MemoryCoordinator {
        MemoryCoordinator { cells: Arc::new(Mutex::new(self.lock().clone())), clock: self.clock.clone() }
    }

    /// The state of the cell `name` (a test and debugging aid).
    pub fn cell(&self, name: &str) -> Option<Cell> {
        self.lock().get(name).cloned()
    }

    /// Every cell's name, sorted (a test and debugging aid).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().keys().cloned().collect();
        names.sort();
        names
    }

    /// How many cells are stored (a test aid: a Durable Object per cell
    /// keeps its storage key while its cell exists).
    pub fn cell_count(&self) -> usize {
        self.lock().len()
    }

    /// Applies `request` to `name` at once.
    pub fn apply_now(&self, name: &str, request: &Request) -> Response {
        let now = self.now_ms();
        let mut cells = self.lock();
        let (cell, answer) = apply(cells.remove(name), request, now);
        if let Some(cell) = cell {
            cells.insert(name.to_string(), cell);
        }
        answer
    }
}

impl Coordinate for MemoryCoordinator {
    fn call<'a>(&'a self, name: &'a str, request: &'a Request) -> BoxFuture<'a, Result<Response>> {
        Box::pin(async move { Ok(self.apply_now(name, request)) })
    }
    fn now_ms(&self) -> u64 {
        self.clock.now().saturating_mul(1000)
    }
}
