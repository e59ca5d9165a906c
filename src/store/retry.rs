//! Writes under Workers KV's rate limit of one write per second per key.
//!
//! KV refuses a second write (`put` or `delete`) of a key within a second of
//! the last with 429, which the stores report as
//! [`Error::RateLimited`]. Such a write is tried again, inside the call,
//! after a jittered exponential backoff ([`backoff_ms`]): [`TRIES`] tries in
//! all, the waits made by the store's [`pause`](KvStore::pause). A retry is
//! the same operation again, so a call whose writes are retried makes its
//! writes in the order it always does (the index protocol: entries before
//! the record); when the tries are spent the write, and with it the call,
//! ends in the last `RateLimited`.
//!
//! [`Retrying`] wraps the store a call writes through, for the span of the
//! call (or of one write of a batch), as [`Bounded`](crate::store::flight)
//! does; it goes outside `Bounded`, so that a write waiting to be tried again
//! holds no place in flight.
//!
//! Builds on the store contract only.

use crate::coord::Coordinate;
use crate::error::{Error, Result};
use crate::store::{Entry, KvStore, ListOptions, ListResult, PutOptions};
use std::future::Future;

/// How many times a write refused with [`Error::RateLimited`] is tried in
/// all (the first try included).
pub(crate) const TRIES: u32 = 3;

/// The wait after the first refusal, before jitter: KV's interval between
/// two writes of one key.
pub(crate) const FIRST_WAIT_MS: u64 = crate::store::limits::WRITE_INTERVAL_MS;

/// The longest a store's own `retry_after` is waited for.
pub(crate) const MAX_WAIT_MS: u64 = 10_000;

/// The wait after the `refusal`th refusal of a write (1-based), in ms:
/// `FIRST_WAIT_MS * 2^(refusal - 1)` plus a jitter of up to half of that
/// again, `random` picking it (uniform over `base..=base * 3 / 2`), and
/// never less than the `retry_after` the store answered with (up to
/// [`MAX_WAIT_MS`]). With [`TRIES`] = 3: 1000..=1500 ms, then 2000..=3000 ms.
pub(crate) fn backoff_ms(refusal: u32, retry_after: u64, random: u64) -> u64 {
    let base = FIRST_WAIT_MS << refusal.saturating_sub(1).min(10);
    let jitter = random % (base / 2 + 1);
    (base + jitter).max(retry_after.min(MAX_WAIT_MS))
}

/// Random bits for the jitter, from the platform as generated ids get
/// theirs (`getrandom`); none (no jitter) when the platform has none to give.
fn random() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_or(0, |()| u64::from_le_bytes(bytes))
}

/// `op`, tried again after [`backoff_ms`] on `store` each time it is refused
/// with [`Error::RateLimited`], [`TRIES`] times in all. `check` runs after
/// each wait, before the next try: an `Err` from it ends the write (a strict
/// write's lease check: a lease that lapsed while waiting stops the write).
pub(crate) async fn retried<S, T, F, Fut>(store: &S, check: Option<&dyn Fn() -> Result<()>>, mut op: F) -> Result<T>
where
    S: KvStore + ?Sized,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut refusals = 0;
    loop {
        match op().await {
            Err(Error::RateLimited { retry_after, .. }) if refusals + 1 < TRIES => {
                refusals += 1;
                store.pause(backoff_ms(refusals, retry_after, random())).await;
                if let Some(check) = check {
                    check()?;
                }
            }
            outcome => return outcome,
        }
    }
}

/// A store whose writes are [`retried`] when KV's rate limit refuses them;
/// its reads go straight through.
pub(crate) struct Retrying<'a, S: ?Sized> {
    inner: &'a S,
    check: Option<&'a dyn Fn() -> Result<()>>,
}

impl<'a, S: KvStore + ?Sized> Retrying<'a, S> {
    /// `inner`, its writes retried; `check` runs before each retry (see [`retried`]).
    pub(crate) fn new(inner: &'a S, check: Option<&'a dyn Fn() -> Result<()>>) -> Self {
        Retrying { inner, check }
    }
}

impl<S: KvStore + ?Sized> KvStore for Retrying<'_, S> {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        self.inner.get_many(keys).await
    }
    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
        retried(self.inner, self.check, || self.inner.put(key, value, options)).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        retried(self.inner, self.check, || self.inner.delete(key)).await
    }
    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        self.inner.list(options).await
    }
    fn now(&self) -> u64 {
        self.inner.now()
    }
    fn coordinator(&self) -> Option<&dyn Coordinate> {
        self.inner.coordinator()
    }
    fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight()
    }
    async fn pause(&self, ms: u64) {
        self.inner.pause(ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::clock::{Clock, ManualClock};
    use crate::store::memory::MemoryStore;

    #[test]
    fn the_backoff_doubles_and_its_jitter_stays_within_half_of_the_wait() {
        for (refusal, low) in [(1, 1000), (2, 2000), (3, 4000)] {
            let high = low * 3 / 2;
            assert_eq!(backoff_ms(refusal, 0, 0), low);
            assert_eq!(backoff_ms(refusal, 0, low / 2), high);
            assert_eq!(backoff_ms(refusal, 0, low / 2 + 1), low, "the jitter wraps around");
            let mut seen = std::collections::HashSet::new();
            for _ in 0..2000 {
                let wait = backoff_ms(refusal, 0, random());
                assert!((low..=high).contains(&wait), "refusal {refusal}: {wait}");
                seen.insert(wait);
            }
            assert!(seen.len() > 100, "jittered: {} distinct waits", seen.len());
        }
        // Never under the store's own retry_after, which is bounded.
        assert_eq!(backoff_ms(1, 1400, 0), 1400);
        assert_eq!(backoff_ms(1, u64::MAX, 0), MAX_WAIT_MS);
        // Bounded however many refusals.
        assert!(backoff_ms(u32::MAX, 0, u64::MAX) <= (FIRST_WAIT_MS << 10) * 3 / 2);
        // The whole schedule: at most 4.5 s of waiting for one write.
        let most: u64 = (1..TRIES).map(|r| backoff_ms(r, 1000, u64::from(u32::MAX))).max().unwrap();
        assert!(most <= 3000);
        let worst: u64 = (1..TRIES).map(|r| FIRST_WAIT_MS << (r - 1)).map(|b| b * 3 / 2).sum();
        assert_eq!(worst, 4500);
    }

    #[test]
    fn a_write_refused_by_the_rate_limit_is_tried_again_after_the_backoff() {
        let clock = ManualClock::new(1_000);
        let store = MemoryStore::with_clock(clock.clone()).with_write_rate_limit();
        let writes = Retrying::new(&store, None);
        let opts = PutOptions::default();
        pollster::block_on(async {
            writes.put("k", b"1", &opts).await.unwrap();
            let start = clock.now_ms();
            writes.put("k", b"2", &opts).await.unwrap();
            let waited = clock.now_ms() - start;
            assert!((1000..=1500).contains(&waited), "{waited}");
            assert_eq!(store.raw("k").as_deref(), Some("2"));
            // A delete too.
            writes.delete("k").await.unwrap();
            assert_eq!(store.raw("k"), None);
        });
    }

    #[test]
    fn the_check_before_a_retry_ends_the_write() {
        let clock = ManualClock::new(1_000);
        let store = MemoryStore::with_clock(clock.clone()).with_write_rate_limit();
        let opts = PutOptions::default();
        let lapsed = || Err(Error::NotFound { model: "m", key: "lapsed".into() });
        let writes = Retrying::new(&store, Some(&lapsed));
        pollster::block_on(async {
            writes.put("k", b"1", &opts).await.unwrap();
            let out = writes.put("k", b"2", &opts).await;
            assert!(matches!(out, Err(Error::NotFound { .. })), "{out:?}");
            assert_eq!(store.raw("k").as_deref(), Some("1"));
        });
    }
}
