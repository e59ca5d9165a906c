//! `Coalesced`: reads issued together become one set of bulk reads.
//!
//! Handlers and loaders often read in parallel: two relation loaders of one
//! page joined, `get_many`s of several widgets. Each alone makes its own
//! bulk reads; `Coalesced` queues every bulk read issued in the same turn of
//! the executor (before any of them is polled again) and makes them as one:
//! the distinct keys of all of them, in bulk reads of up to 100 together.
//! Two loaders asking for overlapping ids then cost one bulk read per 100
//! distinct ids. A single-key `get` passes through: KV's bulk read reads
//! text only, and a `get` gives a value's exact bytes.
//!
//! It adds no staleness: each read it makes is issued after every request it
//! answers was made, so each answer is at least as new as a read of its own
//! would be. It never shares a read issued earlier. Writes, deletes and
//! listings pass through.
//!
//! Builds on the store contract and `bulk`; nothing in the crate depends on it.

use crate::coord::Coordinate;
use crate::error::{Error, Result};
use crate::store::bulk::read_entries;
use crate::store::limits;
use crate::store::{Entry, KvStore, ListOptions, ListResult, PutOptions};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// A store whose reads issued together are made as one (see the module docs).
///
/// ```
/// use kvgen::{Coalesced, KvStore, MemoryStore, Metered, PutOptions};
///
/// # pollster::block_on(async {
/// let store = Coalesced::new(Metered::new(MemoryStore::new()));
/// store.put("a", b"1", &PutOptions::default()).await?;
/// let (a, ab) = futures_util::future::join(store.get_many(&["a".into()]), store.get_many(&["a".into(), "b".into()])).await;
/// assert_eq!(a?[0].as_ref().map(|e| e.value.clone()), Some(b"1".to_vec()));
/// assert_eq!(ab?.len(), 2);
/// // Both were answered by one bulk read of the two distinct keys.
/// assert_eq!((store.inner().ops().bulk_reads, store.inner().ops().bulk_keys), (1, 2));
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
pub struct Coalesced<S> {
    inner: S,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// The batch now filling: its distinct keys, and where each is.
    keys: Vec<String>,
    at: HashMap<String, usize>,
    /// The number of the batch now filling.
    batch: u64,
    /// Batches filled, until the last of their requests has taken its part.
    answers: HashMap<u64, Answer>,
    /// Requests waiting for a batch's read.
    waiting: Vec<Waker>,
}

/// What a batch's read found: the entries of its keys, or the first key and
/// the error as text (an error is answered to each request of the batch).
type Read = std::result::Result<Rc<Vec<Option<Entry>>>, (String, String)>;

#[derive(Default)]
struct Answer {
    /// The batch's distinct keys, once it is filled.
    keys: Vec<String>,
    /// `None` until the batch is read.
    got: Option<Read>,
    /// Whether one of its requests is reading it now.
    reading: bool,
    /// Requests that have not taken their part yet.
    left: usize,
}

/// A request's place in its batch; given back when dropped, answered or not,
/// so a batch whose requests all went away leaves nothing behind.
struct Ticket<'c, S> {
    of: &'c Coalesced<S>,
    batch: u64,
    places: Vec<usize>,
}

impl<S> Drop for Ticket<'_, S> {
    fn drop(&mut self) {
        let mut s = self.of.state.borrow_mut();
        if let Some(answer) = s.answers.get_mut(&self.batch) {
            answer.left -= 1;
            if answer.left == 0 {
                s.answers.remove(&self.batch);
            }
        }
    }
}

/// The request reading a batch: if it is dropped before the read answers,
/// another request of the batch reads it instead.
struct Reading<'c, S> {
    of: &'c Coalesced<S>,
    batch: u64,
}

impl<S> Drop for Reading<'_, S> {
    fn drop(&mut self) {
        let mut s = self.of.state.borrow_mut();
        if let Some(answer) = s.answers.get_mut(&self.batch) {
            answer.reading = false;
        }
        std::mem::take(&mut s.waiting).into_iter().for_each(Waker::wake);
    }
}

/// What a request does next: take its part of the read, or read the batch.
enum Turn {
    Answered,
    Read(Vec<String>),
}

impl<S: KvStore> Coalesced<S> {
    /// Wraps `inner` (one per invocation: its batches live as long as it does).
    pub fn new(inner: S) -> Self {
        Coalesced { inner, state: RefCell::new(State::default()) }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn enqueue(&self, keys: &[String]) -> Ticket<'_, S> {
        let mut s = self.state.borrow_mut();
        let State { keys: batch_keys, at, .. } = &mut *s;
        let places = keys
            .iter()
            .map(|k| {
                *at.entry(k.clone()).or_insert_with(|| {
                    batch_keys.push(k.clone());
                    batch_keys.len() - 1
                })
            })
            .collect();
        let batch = s.batch;
        s.answers.entry(batch).or_default().left += 1;
        Ticket { of: self, batch, places }
    }

    async fn read(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        // A request KV would refuse is answered alone, so that its error is
        // its own and fails no other request.
        if keys.is_empty()
            || limits::check_bulk(keys.len()).is_err()
            || keys.iter().any(|k| limits::check_key(k).is_err())
        {
            return self.inner.get_many(keys).await;
        }
        let ticket = self.enqueue(keys);
        // Let every read issued in this turn join the batch.
        let mut yielded = false;
        poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
        {
            // The first request back closes the batch; later requests go to the next one.
            let mut s = self.state.borrow_mut();
            if s.batch == ticket.batch {
                s.batch += 1;
                s.at.clear();
                let keys = std::mem::take(&mut s.keys);
                s.answers.get_mut(&ticket.batch).expect("a filled batch has its answer").keys = keys;
            }
        }
        {
            let turn = poll_fn(|cx| {
                let mut s = self.state.borrow_mut();
                let answer = s.answers.get_mut(&ticket.batch).expect("a batch with a request has its answer");
                if answer.got.is_some() {
                    Poll::Ready(Turn::Answered)
                } else if !answer.reading {
                    answer.reading = true;
                    Poll::Ready(Turn::Read(answer.keys.clone()))
                } else {
                    s.waiting.push(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await;
            if let Turn::Read(keys) = turn {
                let reading = Reading { of: self, batch: ticket.batch };
                let got = read_entries(&self.inner, &keys).await;
                let mut s = self.state.borrow_mut();
                let answer = s.answers.get_mut(&ticket.batch).expect("a batch being read has its answer");
                answer.got = Some(match got {
                    Ok(entries) => Ok(Rc::new(entries)),
                    Err(e) => Err((keys.first().cloned().unwrap_or_default(), e.to_string())),
                });
                drop(s);
                drop(reading);
            }
        }
        let s = self.state.borrow();
        let answer = s.answers.get(&ticket.batch).expect("a batch read has its answer");
        match answer.got.as_ref().expect("the batch was read") {
            Ok(entries) => Ok(ticket.places.iter().map(|&i| entries[i].clone()).collect()),
            Err((key, message)) => {
                Err(Error::Store { op: "get_many", key: key.clone(), message: message.clone(), source: None })
            }
        }
    }
}

impl<S: KvStore> KvStore for Coalesced<S> {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        self.read(keys).await
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
    async fn pause(&self, ms: u64) {
        self.inner.pause(ms).await
    }
    fn coordinator(&self) -> Option<&dyn Coordinate> {
        self.inner.coordinator()
    }
}
