//! An in-isolate cache: one value kept in memory for a while, so a hot,
//! rarely changed record (a configuration, a flag set) costs a KV read per
//! isolate per `max_age` instead of one per request. A Worker isolate
//! serves many requests; keep a `Memo` in a `thread_local!` (Workers run
//! one thread per isolate). Other isolates keep their own copy, so a change
//! reaches them within `max_age` (plus KV's own propagation).

use std::cell::RefCell;
use std::future::Future;

use crate::Result;

/// One value and when it was loaded.
#[derive(Debug)]
pub struct Memo<T> {
    max_age: u64,
    slot: RefCell<Option<(T, u64)>>,
}

impl<T: Clone> Memo<T> {
    /// Keeps a loaded value for `max_age` seconds.
    pub const fn new(max_age: u64) -> Self {
        Memo { max_age, slot: RefCell::new(None) }
    }

    /// The kept value, if it was loaded less than `max_age` before `now`.
    pub fn get(&self, now: u64) -> Option<T> {
        match &*self.slot.borrow() {
            Some((v, at)) if now.saturating_sub(*at) < self.max_age => Some(v.clone()),
            _ => None,
        }
    }

    /// Keeps `value`, loaded at `now`.
    pub fn set(&self, value: T, now: u64) {
        *self.slot.borrow_mut() = Some((value, now));
    }

    /// Forgets the kept value: the next read loads.
    pub fn clear(&self) {
        *self.slot.borrow_mut() = None;
    }

    /// The kept value, or the one `load` gives, kept from `now` on. A
    /// `None` from `load` is not kept.
    pub async fn get_or_load<Fut>(&self, now: u64, load: impl FnOnce() -> Fut) -> Result<Option<T>>
    where
        Fut: Future<Output = Result<Option<T>>>,
    {
        if let Some(v) = self.get(now) {
            return Ok(Some(v));
        }
        // No borrow is held across the await: a request interleaved with
        // this one at the await finds the slot free.
        let loaded = load().await?;
        if let Some(v) = &loaded {
            self.set(v.clone(), now);
        }
        Ok(loaded)
    }
}
