//! `Rounds`: a test double that counts the round trips a call waits for in a
//! row, so a test can assert the latency of a handler, not only its
//! operation count.
//!
//! On Workers every KV operation is a network round trip, and operations a
//! call makes together overlap. `Rounds` models that: an operation completes
//! only when the current round ends, and a round ends when the call can make
//! no progress without its operations. A call that awaits its operations one
//! after the other takes one round per operation; one that overlaps them
//! takes one round per group. Coordinator requests count as round trips
//! too (a Durable Object request on Workers).
//!
//! Builds on the store contract and the coordinator's contract; nothing in
//! the crate depends on it.

use crate::coord::{BoxFuture, Coordinate, Request, Response};
use crate::error::Result;
use crate::store::{inner_coordinator, inner_now_ms, Entry, KvStore, ListOptions, ListResult, PutOptions};
use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// What the calls driven by [`Rounds::run`] waited for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundTrips {
    /// Rounds: round trips waited for in a row.
    pub rounds: u64,
    /// Operations (KV operations and coordinator requests) in all rounds.
    pub ops: u64,
    /// The most operations in flight in one round.
    pub most_in_flight: usize,
}

#[derive(Default)]
struct State {
    /// Whether [`Rounds::run`] is driving: outside it, operations complete at once.
    driving: bool,
    /// The number of the current round.
    round: u64,
    /// Operations waiting for the current round to end.
    waiting: usize,
    wakers: Vec<Waker>,
    record: RoundTrips,
}

/// A store whose operations each take one round to complete (see the
/// module docs). Drive a call with [`run`](Rounds::run), then read
/// [`trips`](Rounds::trips).
///
/// ```
/// use kvgen::{KvStore, MemoryStore, PutOptions, Rounds};
///
/// let store = Rounds::new(MemoryStore::new());
/// let opts = PutOptions::default();
/// // Two writes one after the other: two rounds.
/// store.run(async {
///     store.put("a", b"1", &opts).await.unwrap();
///     store.put("b", b"2", &opts).await.unwrap();
/// });
/// assert_eq!(store.trips().rounds, 2);
/// // Two writes together: one round, two in flight.
/// store.reset();
/// store.run(async {
///     let (a, b) = futures_util::future::join(store.put("a", b"1", &opts), store.put("b", b"2", &opts)).await;
///     a.and(b).unwrap();
/// });
/// assert_eq!(store.trips(), kvgen::RoundTrips { rounds: 1, ops: 2, most_in_flight: 2 });
/// ```
pub struct Rounds<S> {
    inner: S,
    state: RefCell<State>,
}

impl<S: KvStore> Rounds<S> {
    /// Wraps `inner`, no round counted yet.
    pub fn new(inner: S) -> Self {
        Rounds { inner, state: RefCell::new(State::default()) }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// What the calls driven so far waited for.
    pub fn trips(&self) -> RoundTrips {
        self.state.borrow().record
    }

    /// Sets the record back to zero and returns what it was.
    pub fn reset(&self) -> RoundTrips {
        std::mem::take(&mut self.state.borrow_mut().record)
    }

    /// Runs `call` to completion on this thread, ending a round each time it
    /// waits only for operations of this store.
    ///
    /// # Panics
    /// When `call` waits for something that is not an operation of this
    /// store (a timer, another store): it would never finish here.
    pub fn run<F: Future>(&self, call: F) -> F::Output {
        struct Stop<'a>(&'a RefCell<State>);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.borrow_mut().driving = false;
            }
        }
        self.state.borrow_mut().driving = true;
        let _stop = Stop(&self.state);
        let mut call = pin!(call);
        let mut cx = Context::from_waker(Waker::noop());
        // Polls in a row that left no operation waiting: a call may yield a
        // few times on its own (to let reads issued together join), never forever.
        let mut idle = 0;
        loop {
            if let Poll::Ready(out) = call.as_mut().poll(&mut cx) {
                return out;
            }
            let wakers = {
                let mut s = self.state.borrow_mut();
                if s.waiting == 0 {
                    idle += 1;
                    assert!(
                        idle < 64,
                        "Rounds::run: the call waits for something that is not an operation of this store"
                    );
                    continue;
                }
                idle = 0;
                s.record.rounds += 1;
                s.record.ops += s.waiting as u64;
                s.record.most_in_flight = s.record.most_in_flight.max(s.waiting);
                s.waiting = 0;
                s.round += 1;
                std::mem::take(&mut s.wakers)
            };
            wakers.into_iter().for_each(Waker::wake);
        }
    }

    /// `op`'s answer, once the current round ends.
    async fn trip<T>(&self, op: impl Future<Output = T>) -> T {
        let out = op.await;
        let round = {
            let mut s = self.state.borrow_mut();
            if !s.driving {
                return out;
            }
            s.waiting += 1;
            s.round
        };
        // An operation dropped before its round ends (its call gave up on
        // it) no longer waits: it is not counted.
        struct Waiting<'a>(&'a RefCell<State>, u64);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                let mut s = self.0.borrow_mut();
                if s.round == self.1 {
                    s.waiting -= 1;
                }
            }
        }
        let _waiting = Waiting(&self.state, round);
        poll_fn(|cx| {
            let mut s = self.state.borrow_mut();
            if s.round > round {
                Poll::Ready(())
            } else {
                s.wakers.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        out
    }
}

impl<S: KvStore> KvStore for Rounds<S> {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        self.trip(self.inner.get(key)).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        self.trip(self.inner.get_many(keys)).await
    }
    async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
        self.trip(self.inner.get_cached(key, cache_ttl)).await
    }
    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
        self.trip(self.inner.get_many_cached(keys, cache_ttl)).await
    }
    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
        self.trip(self.inner.put(key, value, options)).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.trip(self.inner.delete(key)).await
    }
    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        self.trip(self.inner.list(options)).await
    }
    fn now(&self) -> u64 {
        self.inner.now()
    }
    /// The inner store's pause, counted as no round trip.
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

impl<S: KvStore> Coordinate for Rounds<S> {
    fn call<'a>(&'a self, name: &'a str, request: &'a Request) -> BoxFuture<'a, Result<Response>> {
        Box::pin(self.trip(async move { inner_coordinator(&self.inner)?.call(name, request).await }))
    }
    fn now_ms(&self) -> u64 {
        inner_now_ms(&self.inner)
    }
}
