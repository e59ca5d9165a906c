//! `Metered`: counts the KV operations and bytes that pass through any store.

use crate::coord::cell::{Request, Response};
use crate::coord::{BoxFuture, Coordinate};
use crate::error::Result;
use crate::store::{inner_coordinator, inner_now_ms, Entry, KvStore, ListOptions, ListResult, PutOptions};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Operation counts, as [`Metered::ops`] reports them.
///
/// ```
/// use kvgen::{KvStore, MemoryStore, Metered, PutOptions};
///
/// # pollster::block_on(async {
/// let store = Metered::new(MemoryStore::new());
/// store.put("a", b"12345", &PutOptions::default()).await?;
/// let before = store.ops();
/// let keys = ["a", "b", "c"].map(String::from);
/// store.get_many(&keys).await?;
/// let ops = store.ops().since(&before);
/// assert_eq!((ops.bulk_reads, ops.bulk_keys), (1, 3));
/// assert_eq!(ops.total(), 1, "one operation toward the 1000 per request");
/// assert_eq!(ops.billed_reads(), 3, "billed per key");
/// assert_eq!(ops.to_string(), "1 bulk read (3 keys in bulk); 5 B read, 0 B written");
/// assert_eq!((before + ops).total(), 2);
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ops {
    /// Single-key reads (`get`).
    pub reads: u64,
    /// Bulk reads (`get_many`), each one operation of up to 100 keys.
    pub bulk_reads: u64,
    /// Keys asked for by bulk reads.
    pub bulk_keys: u64,
    /// Writes (`put`).
    pub writes: u64,
    /// Deletes.
    pub deletes: u64,
    /// List pages.
    pub lists: u64,
    /// Bytes of values and metadata read.
    pub bytes_read: u64,
    /// Bytes of values and metadata written.
    pub bytes_written: u64,
    /// Requests to the coordinator (Durable Object requests on Workers): not
    /// KV operations, so not in [`total`](Ops::total).
    pub coordinations: u64,
}

impl Ops {
    /// Operations the Workers runtime counts against its 1000-per-request budget.
    pub fn total(&self) -> u64 {
        self.reads + self.bulk_reads + self.writes + self.deletes + self.lists
    }

    /// Reads as KV bills them: one per key, whether read alone or in bulk
    /// (a bulk read is one operation toward the 1000 per request, but is
    /// billed per key).
    pub fn billed_reads(&self) -> u64 {
        self.reads + self.bulk_keys
    }

    /// The difference `self - earlier`, field by field.
    pub fn since(&self, earlier: &Ops) -> Ops {
        Ops {
            reads: self.reads - earlier.reads,
            bulk_reads: self.bulk_reads - earlier.bulk_reads,
            bulk_keys: self.bulk_keys - earlier.bulk_keys,
            writes: self.writes - earlier.writes,
            deletes: self.deletes - earlier.deletes,
            lists: self.lists - earlier.lists,
            bytes_read: self.bytes_read - earlier.bytes_read,
            bytes_written: self.bytes_written - earlier.bytes_written,
            coordinations: self.coordinations - earlier.coordinations,
        }
    }
}

impl std::ops::Add for Ops {
    type Output = Ops;
    fn add(self, o: Ops) -> Ops {
        Ops {
            reads: self.reads + o.reads,
            bulk_reads: self.bulk_reads + o.bulk_reads,
            bulk_keys: self.bulk_keys + o.bulk_keys,
            writes: self.writes + o.writes,
            deletes: self.deletes + o.deletes,
            lists: self.lists + o.lists,
            bytes_read: self.bytes_read + o.bytes_read,
            bytes_written: self.bytes_written + o.bytes_written,
            coordinations: self.coordinations + o.coordinations,
        }
    }
}

impl fmt::Display for Ops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut add = |n: u64, one: &str, many: &str| {
            if n > 0 {
                parts.push(format!("{n} {}", if n == 1 { one } else { many }));
            }
        };
        add(self.reads, "read", "reads");
        add(self.bulk_reads, "bulk read", "bulk reads");
        add(self.writes, "write", "writes");
        add(self.deletes, "delete", "deletes");
        add(self.lists, "list", "lists");
        add(self.coordinations, "coordinator request", "coordinator requests");
        if parts.is_empty() {
            return f.write_str("no KV operations");
        }
        write!(f, "{}", parts.join(" + "))?;
        if self.bulk_reads > 0 {
            let noun = if self.bulk_keys == 1 { "key" } else { "keys" };
            write!(f, " ({} {noun} in bulk)", self.bulk_keys)?;
        }
        write!(f, "; {} B read, {} B written", self.bytes_read, self.bytes_written)
    }
}

#[derive(Default)]
struct Counters {
    reads: AtomicU64,
    bulk_reads: AtomicU64,
    bulk_keys: AtomicU64,
    writes: AtomicU64,
    deletes: AtomicU64,
    lists: AtomicU64,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
    coordinations: AtomicU64,
}

/// Wraps a store and counts every operation and byte that goes through it.
/// Operations that the store refuses are counted too: KV bills them.
///
/// What one repository call costs:
///
/// ```
/// use kvgen::{KvModel, MemoryStore, Metered};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[kv(binding = "APP")]
/// pub struct User {
///     #[kv(id)]
///     pub id: String,
///     #[kv(unique)]
///     pub email: String,
/// }
///
/// # pollster::block_on(async {
/// let store = Metered::new(MemoryStore::new());
/// let users = User::repo(&store);
/// users.create(&User { id: "u1".into(), email: "ada@example.com".into() }).await?;
/// let create = store.reset();
/// assert_eq!(create.writes, 2, "the record and its unique entry: {create}");
///
/// users.find_by_email("ada@example.com").await?;
/// assert_eq!(store.ops().reads, 2, "the unique entry, then the record");
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
pub struct Metered<S> {
    inner: S,
    n: Counters,
}

impl<S> Metered<S> {
    /// Wraps `inner`, with every count at zero.
    pub fn new(inner: S) -> Self {
        Metered { inner, n: Counters::default() }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The counts so far.
    pub fn ops(&self) -> Ops {
        let n = &self.n;
        Ops {
            reads: n.reads.load(Relaxed),
            bulk_reads: n.bulk_reads.load(Relaxed),
            bulk_keys: n.bulk_keys.load(Relaxed),
            writes: n.writes.load(Relaxed),
            deletes: n.deletes.load(Relaxed),
            lists: n.lists.load(Relaxed),
            bytes_read: n.bytes_read.load(Relaxed),
            bytes_written: n.bytes_written.load(Relaxed),
            coordinations: n.coordinations.load(Relaxed),
        }
    }

    /// Sets every count back to zero and returns what they were.
    pub fn reset(&self) -> Ops {
        let before = self.ops();
        let n = &self.n;
        for c in [
            &n.reads,
            &n.bulk_reads,
            &n.bulk_keys,
            &n.writes,
            &n.deletes,
            &n.lists,
            &n.bytes_read,
            &n.bytes_written,
            &n.coordinations,
        ] {
            c.store(0, Relaxed);
        }
        before
    }
}

fn entry_bytes(e: &Option<Entry>) -> u64 {
    e.as_ref().map_or(0, |e| (e.value.len() + e.metadata.as_ref().map_or(0, |m| m.to_string().len())) as u64)
}

impl<S: KvStore> KvStore for Metered<S> {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        self.n.reads.fetch_add(1, Relaxed);
        let got = self.inner.get(key).await?;
        self.n.bytes_read.fetch_add(entry_bytes(&got), Relaxed);
        Ok(got)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        self.n.bulk_reads.fetch_add(1, Relaxed);
        self.n.bulk_keys.fetch_add(keys.len() as u64, Relaxed);
        let got = self.inner.get_many(keys).await?;
        self.n.bytes_read.fetch_add(got.iter().map(entry_bytes).sum(), Relaxed);
        Ok(got)
    }

    async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
        self.n.reads.fetch_add(1, Relaxed);
        let got = self.inner.get_cached(key, cache_ttl).await?;
        self.n.bytes_read.fetch_add(entry_bytes(&got), Relaxed);
        Ok(got)
    }

    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
        self.n.bulk_reads.fetch_add(1, Relaxed);
        self.n.bulk_keys.fetch_add(keys.len() as u64, Relaxed);
        let got = self.inner.get_many_cached(keys, cache_ttl).await?;
        self.n.bytes_read.fetch_add(got.iter().map(entry_bytes).sum(), Relaxed);
        Ok(got)
    }

    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
        self.n.writes.fetch_add(1, Relaxed);
        let meta = options.metadata.as_ref().map_or(0, |m| m.to_string().len());
        self.n.bytes_written.fetch_add((value.len() + meta) as u64, Relaxed);
        self.inner.put(key, value, options).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.n.deletes.fetch_add(1, Relaxed);
        self.inner.delete(key).await
    }

    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        self.n.lists.fetch_add(1, Relaxed);
        let page = self.inner.list(options).await?;
        let meta: usize = page.keys.iter().filter_map(|k| k.metadata.as_ref()).map(|m| m.to_string().len()).sum();
        self.n.bytes_read.fetch_add(meta as u64, Relaxed);
        Ok(page)
    }

    fn now(&self) -> u64 {
        self.inner.now()
    }

    /// The inner store's pause, counted as no operation.
    async fn pause(&self, ms: u64) {
        self.inner.pause(ms).await
    }
    fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight()
    }

    fn coordinator(&self) -> Option<&dyn Coordinate> {
        self.inner.coordinator().map(|_| self as &dyn Coordinate)
    }
}

impl<S: KvStore> Coordinate for Metered<S> {
    fn call<'a>(&'a self, name: &'a str, request: &'a Request) -> BoxFuture<'a, Result<Response>> {
        Box::pin(async move {
            self.n.coordinations.fetch_add(1, Relaxed);
            inner_coordinator(&self.inner)?.call(name, request).await
        })
    }
    fn now_ms(&self) -> u64 {
        inner_now_ms(&self.inner)
    }
}
