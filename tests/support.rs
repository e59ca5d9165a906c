//! Helpers shared by the regression tests of the guarantees
//! (`guarantees.rs`, `attacks.rs`).
#![allow(dead_code)] // each test file uses its own part of them

use blog::User;
use kvgen::{Error, Fault, Faulty, KvStore, ManualClock, MemoryStore, PutOptions};
use pollster::block_on;
use serde_json::Value;

/// The clock's start, seconds since the epoch.
pub const T0: u64 = 1_800_000_000;

/// Every kind of fault, in the order the tests try them.
pub const FAULTS: [Fault; 3] = [Fault::Before, Fault::After, Fault::Timeout];

/// A user of org `o1` whose handle and name are its id.
pub fn user(id: &str, email: &str) -> User {
    User { id: id.into(), email: email.into(), org_id: "o1".into(), handle: id.into(), name: id.into() }
}

/// A user that only shares `email` with anyone: creating it tests whether the email is held.
pub fn intruder(email: &str) -> User {
    User { id: "intruder".into(), handle: "intruder".into(), ..user("intruder", email) }
}

/// A store on a clock standing at [`T0`].
pub fn clocked() -> (MemoryStore, ManualClock) {
    let clock = ManualClock::new(T0);
    (MemoryStore::with_clock(clock.clone()), clock)
}

/// A faulty store on a clock standing at [`T0`], holding `user("u1", "a@x")`.
pub fn faulty_with_u1() -> (Faulty<MemoryStore>, ManualClock) {
    let (s, clock) = clocked();
    let s = Faulty::new(s);
    block_on(User::repo(&s).create(&user("u1", "a@x"))).unwrap();
    (s, clock)
}

/// Writes a key behind the repositories' back.
pub fn raw_put(s: &MemoryStore, key: &str, value: &str) {
    raw_put_with(s, key, value, None, None);
}

/// [`raw_put`] with metadata and an expiration.
pub fn raw_put_with(s: &MemoryStore, key: &str, value: &str, metadata: Option<Value>, expiration: Option<u64>) {
    block_on(s.put(key, value, &PutOptions { expiration, expiration_ttl: None, metadata })).unwrap();
}

/// Every readable live user record's email is still held: a create of it
/// through `s` is refused.
pub fn emails_held<S: KvStore>(s: &S, inner: &MemoryStore, ctx: &str) {
    let users = User::repo(s);
    for key in inner.keys().into_iter().filter(|k| k.starts_with("user:")) {
        let Ok(u) = serde_json::from_str::<User>(&inner.raw(&key).unwrap()) else { continue };
        let r = block_on(users.create(&intruder(&u.email)));
        assert!(
            matches!(r, Err(Error::UniqueViolation { .. })),
            "{ctx}: live record {key} (expires {:?}) lost its email {}: entry expires {:?}; create -> {r:?}",
            inner.expiration(&key),
            u.email,
            inner.expiration(&format!("user.email:{}", u.email)),
        );
    }
}
