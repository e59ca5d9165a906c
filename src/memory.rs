//! `MemoryStore`: an embedded, faithful emulator of a Workers KV namespace.

use crate::error::{Error, Result};
use crate::limits;
use crate::store::{Entry, KvStore, ListKey, ListOptions, ListResult, PutOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A source of "now", in seconds since the epoch.
pub trait Clock: Send + Sync {
    /// The current time in seconds since the epoch.
    fn now(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Debug, Default, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: u64) -> Self {
        ManualClock(Arc::new(AtomicU64::new(now)))
    }
    /// Moves the clock forward by `secs`.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    /// Sets the clock.
    pub fn set(&self, now: u64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone)]
struct Item {
    value: String,
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
/// limit (key 1..=512 bytes and not `.`/`..`, value 25 MiB, metadata 1024
/// bytes, ttl >= 60 s, expiration >= now + 60 s, list limit 1..=1000, bulk
/// reads 1..=100 keys), lists in byte order with opaque cursors, and expires
/// keys against an injectable [`Clock`].
///
/// Clones share the same data; [`fork`](MemoryStore::fork) copies it.
/// [`lagging`](MemoryStore::lagging) gives a view that sees writes only once
/// they are some seconds old, as another KV location would.
#[derive(Clone)]
pub struct MemoryStore {
    data: Arc<Mutex<Data>>,
    clock: Arc<dyn Clock>,
    lag: u64,
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

const CURSOR_TAG: &str = "mc1.";

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(SystemClock)
    }

    /// An empty store on the given clock.
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        MemoryStore { data: Arc::default(), clock: Arc::new(clock), lag: 0 }
    }

    /// An independent copy of this store's data, on the same clock.
    pub fn fork(&self) -> MemoryStore {
        let data = self.data();
        let copy = Data { keys: data.keys.clone(), history: data.history };
        MemoryStore { data: Arc::new(Mutex::new(copy)), clock: self.clock.clone(), lag: self.lag }
    }

    /// A view of the same namespace from "another location": its reads and
    /// listings see every write only `secs` seconds after it was made (KV
    /// propagates writes across locations in about 60 s), its own writes
    /// included. Writes through it reach the shared data at once.
    pub fn lagging(&self, secs: u64) -> MemoryStore {
        self.data().history = true;
        MemoryStore { data: self.data.clone(), clock: self.clock.clone(), lag: secs }
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

    /// The raw value of a live key, without going through the async API.
    pub fn raw(&self, key: &str) -> Option<String> {
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

    fn encode_cursor(key: &str) -> String {
        let mut s = String::with_capacity(CURSOR_TAG.len() + key.len() * 2);
        s.push_str(CURSOR_TAG);
        for b in key.bytes() {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    fn decode_cursor(cursor: &str) -> Result<String> {
        let bad = || Error::InvalidCursor { cursor: cursor.to_string() };
        let hex = cursor.strip_prefix(CURSOR_TAG).ok_or_else(bad)?;
        if hex.len() % 2 != 0 {
            return Err(bad());
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
            .collect::<Result<Vec<u8>>>()?;
        String::from_utf8(bytes).map_err(|_| bad())
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
        Ok(keys.iter().map(|k| self.read(k)).collect())
    }

    async fn put(&self, key: &str, value: &str, options: &PutOptions) -> Result<()> {
        limits::check_key(key)?;
        limits::check_value(key, value)?;
        if let Some(metadata) = &options.metadata {
            limits::check_metadata(key, metadata)?;
        }
        let now = self.now();
        let expiration = match (options.expiration_ttl, options.expiration) {
            // KV gives expiration_ttl precedence when both are set.
            (Some(ttl), _) => Some(limits::ttl_to_expiration(key, ttl, now)?),
            (None, Some(at)) => {
                limits::check_expiration(key, at, now)?;
                Some(at)
            }
            (None, None) => None,
        };
        let item = Item { value: value.to_string(), metadata: options.metadata.clone(), expiration };
        self.data().write(key, now, Some(item));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        limits::check_key(key)?;
        let now = self.now();
        self.data().write(key, now, None);
        Ok(())
    }

    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        limits::check_list_limit(options.limit)?;
        let start = match &options.cursor {
            Some(c) => Bound::Excluded(Self::decode_cursor(c)?),
            None => Bound::Included(options.prefix.clone()),
        };
        let now = self.now();
        let as_of = self.as_of(now);
        let data = self.data();
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
            if keys.len() == options.limit as usize {
                more = true;
                break;
            }
            keys.push(ListKey { name: name.clone(), expiration: item.expiration, metadata: item.metadata.clone() });
        }
        let cursor = if more { keys.last().map(|k| Self::encode_cursor(&k.name)) } else { None };
        Ok(ListResult { keys, cursor })
    }

    fn now(&self) -> u64 {
        self.clock.now()
    }
}
