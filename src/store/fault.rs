//! `Faulty`: a store wrapper that makes chosen operations fail, to test what
//! repositories leave behind when a Worker dies between two writes.

use crate::coord::cell::{Request, Response};
use crate::coord::{BoxFuture, Coordinate};
use crate::error::{Error, Result};
use crate::store::{inner_coordinator, inner_now_ms, Entry, KvStore, ListOptions, ListResult, PutOptions};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Mutex;

/// When an injected fault strikes.
///
/// ```
/// use kvgen::{Fault, Faulty, KvStore, MemoryStore, PutOptions};
///
/// # pollster::block_on(async {
/// let store = Faulty::new(MemoryStore::new());
/// let none = PutOptions::default();
/// store.fail_at(1, Fault::Before);
/// assert!(store.put("a", b"1", &none).await.is_err());
/// assert_eq!(store.inner().raw("a"), None, "Before: nothing was written");
///
/// store.fail_at(1, Fault::After);
/// assert!(store.put("a", b"1", &none).await.is_err());
/// assert_eq!(store.inner().raw("a").as_deref(), Some("1"), "After: written, yet reported failed");
///
/// store.fail_at(1, Fault::Timeout);
/// assert!(Faulty::drive(store.put("b", b"2", &none)).is_none(), "Timeout: the call never answers");
/// assert_eq!(store.inner().raw("b"), None);
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The operation fails before it reaches the store: nothing happens.
    Before,
    /// The operation is applied, then reports failure (the write landed but
    /// the caller sees an error, as when a response is lost).
    After,
    /// The operation never answers: the call stalls there, as when a Worker
    /// is stopped mid-request (out of time, evicted). Drop the stalled call
    /// (see [`Faulty::drive`]) to model the Worker dying between two writes:
    /// nothing after that point runs, cleanup included.
    Timeout,
    /// The operation is refused with [`Error::RateLimited`] (a `retry_after`
    /// of a second) before it reaches the store: nothing happens, as when
    /// Workers KV refuses a second write of a key within a second.
    RateLimited,
}

/// Wraps a store and fails the operations it is told to, counting from 1.
///
/// Every operation counts (reads, writes, deletes, lists and coordinator
/// requests), so a test can fail each step of a repository call in turn
/// and check what it leaves behind. Here the second write fails:
///
/// ```
/// use kvgen::{Error, Fault, Faulty, KvStore, MemoryStore, PutOptions};
///
/// # pollster::block_on(async {
/// let store = Faulty::new(MemoryStore::new());
/// store.fail_at(2, Fault::Before);
/// let none = PutOptions::default();
/// store.put("a", b"1", &none).await?;
/// let err = store.put("b", b"2", &none).await.unwrap_err();
/// assert!(matches!(err, Error::Store { op: "put", ref key, .. } if key == "b"));
/// store.put("c", b"3", &none).await?;
/// assert_eq!(store.operations(), 3);
/// assert_eq!(store.inner().keys(), ["a", "c"]);
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
pub struct Faulty<S> {
    inner: S,
    count: AtomicU64,
    plan: Mutex<Vec<(u64, Fault)>>,
}

impl<S> Faulty<S> {
    /// Wraps `inner` with no faults planned.
    pub fn new(inner: S) -> Self {
        Faulty { inner, count: AtomicU64::new(0), plan: Mutex::new(Vec::new()) }
    }

    /// Makes the `n`th operation from now (1-based) fail with `fault`.
    pub fn fail_at(&self, n: u64, fault: Fault) {
        let now = self.count.load(SeqCst);
        self.plan.lock().unwrap_or_else(|e| e.into_inner()).push((now + n, fault));
    }

    /// Clears every planned fault.
    pub fn heal(&self) {
        self.plan.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// How many operations have gone through so far.
    pub fn operations(&self) -> u64 {
        self.count.load(SeqCst)
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn next(&self) -> Option<Fault> {
        let n = self.count.fetch_add(1, SeqCst) + 1;
        let mut plan = self.plan.lock().unwrap_or_else(|e| e.into_inner());
        let at = plan.iter().position(|(k, _)| *k == n)?;
        Some(plan.remove(at).1)
    }
}

impl Faulty<()> {
    /// Polls `call` until it completes or stalls, over a store whose
    /// operations complete at once (MemoryStore behind `Faulty`): `Some` with
    /// its result, or `None` when it stalled at a [`Fault::Timeout`]. The
    /// stalled call is dropped, as a stopped Worker's request is.
    pub fn drive<T>(call: impl std::future::Future<Output = T>) -> Option<T> {
        let mut call = std::pin::pin!(call);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match call.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}

fn injected(op: &'static str, key: &str) -> Error {
    Error::Store { op, key: key.to_string(), message: "injected fault".to_string(), source: None }
}

macro_rules! faulty_op {
    ($self:ident, $op:literal, $key:expr, $call:expr) => {{
        match $self.next() {
            None => $call,
            Some(Fault::Before) => Err(injected($op, $key)),
            Some(Fault::After) => {
                $call?;
                Err(injected($op, $key))
            }
            Some(Fault::Timeout) => std::future::pending().await,
            Some(Fault::RateLimited) => {
                Err(Error::RateLimited { key: $key.to_string(), retry_after: crate::store::limits::WRITE_INTERVAL_MS })
            }
        }
    }};
}

impl<S: KvStore> KvStore for Faulty<S> {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        faulty_op!(self, "get", key, self.inner.get(key).await)
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        let first = keys.first().map(String::as_str).unwrap_or("");
        faulty_op!(self, "get_many", first, self.inner.get_many(keys).await)
    }
    async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
        faulty_op!(self, "get", key, self.inner.get_cached(key, cache_ttl).await)
    }
    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
        let first = keys.first().map(String::as_str).unwrap_or("");
        faulty_op!(self, "get_many", first, self.inner.get_many_cached(keys, cache_ttl).await)
    }
    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
        faulty_op!(self, "put", key, self.inner.put(key, value, options).await)
    }
    async fn delete(&self, key: &str) -> Result<()> {
        faulty_op!(self, "delete", key, self.inner.delete(key).await)
    }
    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        faulty_op!(self, "list", &options.prefix, self.inner.list(options).await)
    }
    fn now(&self) -> u64 {
        self.inner.now()
    }

    /// The inner store's pause, never failed (it is no operation).
    async fn pause(&self, ms: u64) {
        self.inner.pause(ms).await
    }
    fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight()
    }
    /// The inner store's coordinator, its requests counted and failed in the
    /// same sequence as the KV operations.
    fn coordinator(&self) -> Option<&dyn Coordinate> {
        self.inner.coordinator().map(|_| self as &dyn Coordinate)
    }
}

impl<S: KvStore> Coordinate for Faulty<S> {
    fn call<'a>(&'a self, name: &'a str, request: &'a Request) -> BoxFuture<'a, Result<Response>> {
        Box::pin(async move {
            let inner = inner_coordinator(&self.inner)?;
            faulty_op!(self, "coordinate", name, inner.call(name, request).await)
        })
    }
    fn now_ms(&self) -> u64 {
        inner_now_ms(&self.inner)
    }
}
