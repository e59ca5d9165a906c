//! Writes under Workers KV's rate limit of one write per second per key,
//! emulated by `MemoryStore::with_write_rate_limit` on a `ManualClock`: a
//! write refused with `RateLimited` is tried again after a jittered backoff
//! (the store's `pause`, which moves the clock), in its place in the index
//! protocol's order; a key kept busy ends the call in `RateLimited`, leaving
//! only what a failed write may leave.

use blog::User;
use kvgen::{
    Clock, Entry, Error, Fault, Faulty, FindingKind, KvStore, ListOptions, ListResult, ManualClock, MemoryStore,
    Metered, PutOptions, Result,
};
use pollster::block_on;

mod support;
use support::{user, T0};

/// A rate-limited store on a clock standing at `T0`.
fn limited() -> (MemoryStore, ManualClock) {
    let clock = ManualClock::new(T0);
    (MemoryStore::with_clock(clock.clone()).with_write_rate_limit(), clock)
}

/// The same update on a store without the limit: the writes it makes.
fn writes_of_the_update_unlimited() -> u64 {
    let clock = ManualClock::new(T0);
    let store = Metered::new(MemoryStore::with_clock(clock.clone()));
    let users = User::repo(&store);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    store.reset();
    block_on(users.put(&user("u1", "b@x"))).unwrap();
    assert_eq!(clock.now_ms(), T0 * 1000, "without the limit nothing waits");
    store.ops().writes
}

#[test]
fn a_record_written_again_within_a_second_lands_once_after_the_backoff() {
    let (inner, clock) = limited();
    let store = Metered::new(inner.clone());
    let users = User::repo(&store);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    // The same second: the record's put is refused once, then lands.
    store.reset();
    let start = clock.now_ms();
    block_on(users.put(&user("u1", "b@x"))).unwrap();
    let waited = clock.now_ms() - start;
    assert!((1000..=1500).contains(&waited), "one backoff of 1-1.5 s, the clock moved by the pause: {waited} ms");
    // Every write of the call once, and the refused put of the record once more.
    assert_eq!(store.ops().writes, writes_of_the_update_unlimited() + 1);
    assert_eq!(block_on(users.get("u1")).unwrap(), Some(user("u1", "b@x")));
    assert_eq!(block_on(users.find_by_email("b@x")).unwrap(), Some(user("u1", "b@x")));
    assert_eq!(block_on(users.find_by_email("a@x")).unwrap(), None);
    let report = block_on(users.verify()).unwrap();
    assert!(report.is_clean(), "{report:?}");

    // A delete as soon as the record is written: refused once, then lands;
    // its entries, written over a second ago, go at once.
    let start = clock.now_ms();
    block_on(users.delete("u1")).unwrap();
    let waited = clock.now_ms() - start;
    assert!((1000..=1500).contains(&waited), "{waited} ms");
    assert_eq!(inner.keys(), Vec::<String>::new());
}

#[test]
fn a_write_refused_by_any_store_is_retried_in_its_place() {
    // `Fault::RateLimited` refuses one chosen operation, as KV would.
    let clock = ManualClock::new(T0);
    let store = Faulty::new(MemoryStore::with_clock(clock.clone()));
    let users = User::repo(&store);
    // A create: a bulk read, three entries together, then the record (the 5th).
    store.fail_at(5, Fault::RateLimited);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    assert_eq!(store.operations(), 6, "the record's put tried twice");
    assert!((1000..=1500).contains(&(clock.now_ms() - T0 * 1000)));
    assert_eq!(block_on(users.find_by_email("a@x")).unwrap(), Some(user("u1", "a@x")));
    // An entry of the first group refused: it is tried again before the record is written.
    store.fail_at(2, Fault::RateLimited);
    block_on(users.create(&user("u2", "b@x"))).unwrap();
    assert_eq!(block_on(users.find_by_email("b@x")).unwrap(), Some(user("u2", "b@x")));
    assert!(block_on(users.verify()).unwrap().is_clean());
    // A read refused so is not retried: KV limits writes, not reads.
    store.fail_at(1, Fault::RateLimited);
    assert!(matches!(block_on(users.get("u1")), Err(Error::RateLimited { .. })));
}

/// A store whose key `busy` another writer rewrites, unchanged, at the end of
/// every pause: each retry of a write of that key finds it written under a
/// second before.
struct Busy {
    inner: MemoryStore,
    busy: String,
}

impl KvStore for Busy {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        self.inner.get_many(keys).await
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
    fn coordinator(&self) -> Option<&dyn kvgen::Coordinate> {
        self.inner.coordinator()
    }
    async fn pause(&self, ms: u64) {
        self.inner.pause(ms).await;
        // The other writer: the same value and metadata, written again.
        let now = self.inner.get(&self.busy).await.unwrap().expect("the busy key is there");
        let opts = PutOptions { metadata: now.metadata, ..PutOptions::default() };
        self.inner.put(&self.busy, &now.value, &opts).await.unwrap();
    }
}

#[test]
fn a_key_kept_busy_ends_the_call_in_rate_limited_leaving_only_what_a_failed_write_may() {
    let (inner, clock) = limited();
    block_on(User::repo(&inner).create(&user("u1", "a@x"))).unwrap();
    let before: Vec<(String, Option<String>)> = inner.keys().into_iter().map(|k| (k.clone(), inner.raw(&k))).collect();
    let store = Busy { inner: inner.clone(), busy: "user:u1".into() };
    let users = User::repo(&store);

    let start = clock.now_ms();
    let err = block_on(users.put(&user("u1", "b@x"))).unwrap_err();
    match &err {
        Error::RateLimited { key, retry_after } => {
            assert_eq!(key, "user:u1");
            assert!(*retry_after > 0 && *retry_after <= 1000, "{retry_after}");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(err.http_status(), 429);
    assert_eq!(err.to_json()["kind"], "RateLimited");
    // Three tries: two waits, 1-1.5 s then 2-3 s.
    let waited = clock.now_ms() - start;
    assert!((3000..=4500).contains(&waited), "{waited} ms");

    // The record as it was; the entry written for the new email (step 1)
    // names a record that does not carry it: lookups ignore it.
    assert_eq!(block_on(users.get("u1")).unwrap(), Some(user("u1", "a@x")));
    assert_eq!(block_on(users.find_by_email("a@x")).unwrap(), Some(user("u1", "a@x")));
    assert_eq!(block_on(users.find_by_email("b@x")).unwrap(), None);
    // Nothing blocks the new email: another record may take it.
    let fork = inner.fork();
    block_on(User::repo(&fork).create(&user("u2", "b@x"))).unwrap();
    // verify reports that entry, dangling, and nothing else; repair removes it.
    let report = block_on(users.verify()).unwrap();
    let findings: Vec<_> = report.findings.iter().map(|f| (f.kind, f.key.as_str())).collect();
    assert_eq!(findings.len(), 1, "{report:?}");
    assert_eq!(findings[0].0, FindingKind::Dangling, "{report:?}");
    assert!(findings[0].1.ends_with("b@x"), "{report:?}");
    clock.advance(1);
    block_on(users.repair()).unwrap();
    assert!(block_on(users.verify()).unwrap().is_clean());
    let after: Vec<(String, Option<String>)> = inner.keys().into_iter().map(|k| (k.clone(), inner.raw(&k))).collect();
    assert_eq!(after, before, "after repair, exactly the keys and values before the call");
}
