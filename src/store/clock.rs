//! The clocks a store reads the time from: the system's, and a
//! [`ManualClock`] that tests move by hand, so expiry and the rate limit can
//! be tested without waiting.
//!
//! Builds on nothing else of the crate; the stores read it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A source of "now", in seconds since the epoch.
pub trait Clock: Send + Sync {
    /// The current time in seconds since the epoch.
    fn now(&self) -> u64;
    /// The current time in milliseconds since the epoch (by default
    /// [`now`](Clock::now) in milliseconds): what
    /// [`MemoryStore::with_write_rate_limit`](crate::MemoryStore::with_write_rate_limit) measures a key's writes with.
    fn now_ms(&self) -> u64 {
        self.now().saturating_mul(1000)
    }
    /// Waits `ms` milliseconds, or makes them pass: what
    /// [`MemoryStore`](crate::MemoryStore)'s [`KvStore::pause`](crate::KvStore::pause) does. By default it returns at
    /// once.
    fn pause(&self, ms: u64) {
        let _ = ms;
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }
    /// Sleeps the thread for `ms` (natively; on wasm32, which cannot block,
    /// it returns at once).
    fn pause(&self, ms: u64) {
        #[cfg(not(target_arch = "wasm32"))]
        std::thread::sleep(std::time::Duration::from_millis(ms));
        #[cfg(target_arch = "wasm32")]
        let _ = ms;
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// It keeps milliseconds: [`advance`](ManualClock::advance) and
/// [`set`](ManualClock::set) move it by whole seconds, a
/// [`pause`](Clock::pause) by the milliseconds asked, and
/// [`now`](Clock::now) gives the whole seconds passed.
///
/// Give one to [`MemoryStore::with_clock`](crate::MemoryStore::with_clock) to test expiry without waiting:
///
/// ```
/// use kvgen::{KvStore, ManualClock, MemoryStore, PutOptions};
///
/// # pollster::block_on(async {
/// let clock = ManualClock::new(1_000);
/// let store = MemoryStore::with_clock(clock.clone());
/// let ttl = PutOptions { expiration_ttl: Some(60), ..PutOptions::default() };
/// store.put("otp:u1", b"123456", &ttl).await?;
/// clock.advance(59);
/// assert!(store.get("otp:u1").await?.is_some());
/// clock.advance(1);
/// assert_eq!(store.get("otp:u1").await?, None, "expired at 1060");
/// clock.set(0);
/// assert_eq!(store.now(), 0);
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Default, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: u64) -> Self {
        ManualClock(Arc::new(AtomicU64::new(now.saturating_mul(1000))))
    }
    /// Moves the clock forward by `secs`.
    pub fn advance(&self, secs: u64) {
        self.advance_ms(secs.saturating_mul(1000));
    }
    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: u64) {
        let _ = self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| Some(t.saturating_add(ms)));
    }
    /// Sets the clock.
    pub fn set(&self, now: u64) {
        self.0.store(now.saturating_mul(1000), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst) / 1000
    }
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    /// Moves the clock forward by `ms`, at once.
    fn pause(&self, ms: u64) {
        self.advance_ms(ms);
    }
}
