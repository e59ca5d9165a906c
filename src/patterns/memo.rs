//! An in-isolate cache: one value kept in memory for a while, so a hot,
//! rarely changed record (a configuration, a flag set) costs a KV read per
//! isolate per `max_age` instead of one per request. A Worker isolate
//! serves many requests, and a `static` lives as long as its isolate:
//!
//! ```
//! static CONFIG: kvgen::Memo<String> = kvgen::Memo::new(30);
//! ```
//!
//! Other isolates keep their own copy, so a change reaches them within
//! `max_age` (plus KV's own propagation).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::error::Result;

/// One value and when it was loaded.
///
/// ```
/// use kvgen::Memo;
///
/// static THEME: Memo<String> = Memo::new(30);
///
/// # pollster::block_on(async {
/// let mut loads = 0;
/// for now in [100, 110, 129, 130] {
///     let theme = THEME
///         .get_or_load(now, || {
///             loads += 1; // a KV read, in a Worker
///             async { Ok(Some("dark".to_string())) }
///         })
///         .await?;
///     assert_eq!(theme.as_deref(), Some("dark"));
/// }
/// assert_eq!(loads, 2, "loaded at 100, kept until 130");
/// THEME.clear();
/// assert_eq!(THEME.get(131), None);
/// THEME.set("light".into(), 131);
/// assert_eq!(THEME.get(160).as_deref(), Some("light"));
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct Memo<T> {
    max_age: u64,
    slot: Mutex<Option<(T, u64)>>,
    /// How many times the slot was set or cleared: a load that finds it
    /// changed since it began does not keep what it read (older).
    changes: AtomicU64,
}

impl<T: Clone> Memo<T> {
    /// Keeps a loaded value for `max_age` seconds.
    pub const fn new(max_age: u64) -> Self {
        Memo { max_age, slot: Mutex::new(None), changes: AtomicU64::new(0) }
    }

    /// The kept value, if it was loaded less than `max_age` before `now`.
    pub fn get(&self, now: u64) -> Option<T> {
        match &*self.slot() {
            Some((v, at)) if now.saturating_sub(*at) < self.max_age => Some(v.clone()),
            _ => None,
        }
    }

    /// Keeps `value`, loaded at `now`.
    pub fn set(&self, value: T, now: u64) {
        let mut slot = self.slot();
        *slot = Some((value, now));
        self.changes.fetch_add(1, Ordering::Relaxed);
    }

    /// Forgets the kept value: the next read loads.
    pub fn clear(&self) {
        let mut slot = self.slot();
        *slot = None;
        self.changes.fetch_add(1, Ordering::Relaxed);
    }

    /// The kept value, or the one `load` gives, kept from `now` on. A
    /// `None` from `load` is not kept, nor is a value loaded while the memo
    /// was set or cleared (the load began before that change, so may have
    /// read what it replaced).
    pub async fn get_or_load<Fut>(&self, now: u64, load: impl FnOnce() -> Fut) -> Result<Option<T>>
    where
        Fut: Future<Output = Result<Option<T>>>,
    {
        let began = self.changes.load(Ordering::Relaxed);
        if let Some(v) = self.get(now) {
            return Ok(Some(v));
        }
        // No lock is held across the await: a request interleaved with
        // this one at the await finds the slot free.
        let loaded = load().await?;
        if let Some(v) = &loaded {
            let mut slot = self.slot();
            if self.changes.load(Ordering::Relaxed) == began {
                *slot = Some((v.clone(), now));
                self.changes.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(loaded)
    }

    fn slot(&self) -> MutexGuard<'_, Option<(T, u64)>> {
        // Nothing panics while the lock is held, but a poisoned slot still
        // holds a whole value.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
}
