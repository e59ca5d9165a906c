//! Bounded overlap: how many operations of one call may be in flight at a
//! time.
//!
//! Workers lets an invocation have six connections waiting for response
//! headers at a time and queues the rest, so a call that overlaps its
//! operations gains nothing past six and loses the order of the queue.
//! [`Bounded`] wraps a store for the span of one call and holds every
//! operation past the limit until one in flight answers; the groups of the
//! index protocol and the bulk reads of the repository run through it.
//!
//! Builds on the store contract only.

use crate::coord::cell::{Request, Response};
use crate::coord::{BoxFuture, Coordinate};
use crate::error::Result;
use crate::store::{inner_coordinator, inner_now_ms, Entry, KvStore, ListOptions, ListResult, PutOptions};
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::task::{Poll, Waker};

/// The operations a call has in flight at most, unless its store says
/// otherwise ([`KvStore::max_in_flight`]): the connections a Workers
/// invocation may have waiting for response headers at a time.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 6;

/// A store whose operations wait for a free place among `limit` in flight.
pub(crate) struct Bounded<'s, S: ?Sized> {
    inner: &'s S,
    limit: usize,
    free: Cell<usize>,
    waiting: RefCell<Vec<Waker>>,
}

/// A place in flight, given back when dropped.
struct Place<'b, 's, S: ?Sized>(&'b Bounded<'s, S>);

impl<S: ?Sized> Drop for Place<'_, '_, S> {
    fn drop(&mut self) {
        self.0.free.set(self.0.free.get() + 1);
        let waiting = std::mem::take(&mut *self.0.waiting.borrow_mut());
        waiting.into_iter().for_each(Waker::wake);
    }
}

impl<'s, S: KvStore + ?Sized> Bounded<'s, S> {
    /// `inner`, with at most `limit` operations in flight (at least 1).
    pub(crate) fn new(inner: &'s S, limit: usize) -> Self {
        let limit = limit.max(1);
        Bounded { inner, limit, free: Cell::new(limit), waiting: RefCell::new(Vec::new()) }
    }

    async fn place(&self) -> Place<'_, 's, S> {
        poll_fn(|cx| {
            if self.free.get() > 0 {
                self.free.set(self.free.get() - 1);
                Poll::Ready(())
            } else {
                self.waiting.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        Place(self)
    }

    async fn within<T>(&self, op: impl Future<Output = T>) -> T {
        let _place = self.place().await;
        op.await
    }
}

impl<S: KvStore + ?Sized> KvStore for Bounded<'_, S> {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        self.within(self.inner.get(key)).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        self.within(self.inner.get_many(keys)).await
    }
    async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
        self.within(self.inner.get_cached(key, cache_ttl)).await
    }
    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
        self.within(self.inner.get_many_cached(keys, cache_ttl)).await
    }
    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
        self.within(self.inner.put(key, value, options)).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.within(self.inner.delete(key)).await
    }
    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        self.within(self.inner.list(options)).await
    }
    fn now(&self) -> u64 {
        self.inner.now()
    }
    /// The inner store's pause, holding no place in flight: a write that
    /// waits to be tried again lets the call's other operations run.
    async fn pause(&self, ms: u64) {
        self.inner.pause(ms).await
    }
    fn max_in_flight(&self) -> usize {
        self.limit
    }
    /// The inner store's coordinator, its requests holding a place in
    /// flight as KV operations do (a Durable Object request is a connection
    /// too).
    fn coordinator(&self) -> Option<&dyn Coordinate> {
        self.inner.coordinator().map(|_| self as &dyn Coordinate)
    }
}

impl<S: KvStore + ?Sized> Coordinate for Bounded<'_, S> {
    fn call<'a>(&'a self, name: &'a str, request: &'a Request) -> BoxFuture<'a, Result<Response>> {
        Box::pin(async move { self.within(inner_coordinator(self.inner)?.call(name, request)).await })
    }
    fn now_ms(&self) -> u64 {
        inner_now_ms(self.inner)
    }
}

/// Runs `ops` together and returns their answers in order; the store they
/// run on bounds how many are in flight.
pub(crate) async fn together<T, F: Future<Output = T>>(ops: impl IntoIterator<Item = F>) -> Vec<T> {
    futures_util::future::join_all(ops).await
}

/// The first error of `outcomes`, or `Ok` when every one succeeded.
pub(crate) fn first_error(outcomes: Vec<Result<()>>) -> Result<()> {
    outcomes.into_iter().collect()
}
