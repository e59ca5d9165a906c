//! Helpers shared by the regression tests of the guarantees
//! (`guarantees.rs`, `attacks.rs`) and the interleaving tests (`race.rs`,
//! `strict.rs`, `strict_attacks.rs`).
#![allow(dead_code)] // each test file uses its own part of them

use blog::User;
use kvgen::{Error, Fault, Faulty, KvModel, KvStore, ManualClock, MemoryStore, PutOptions};
use pollster::block_on;
use serde::{Deserialize, Serialize};
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

/// A member whose email is strict: claimed on the coordinator.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", strict)]
pub struct Member {
    #[kv(id)]
    pub id: String,
    #[kv(unique)]
    pub email: String,
    #[kv(index)]
    pub team: String,
}

/// A member of `team`.
pub fn member(id: &str, email: &str, team: &str) -> Member {
    Member { id: id.into(), email: email.into(), team: team.into() }
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
    block_on(s.put(key, value.as_bytes(), &PutOptions { expiration, expiration_ttl: None, metadata })).unwrap();
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

/// A store whose every KV operation and coordinator request waits for its
/// writer's turn (`turn` set to `true`), so a test can step writers through
/// any interleaving.
pub struct Gated<'a> {
    pub inner: &'a MemoryStore,
    pub turn: &'a std::cell::Cell<bool>,
}

/// Ready once, when the turn is given; the turn is then taken back.
struct Turn<'a>(&'a std::cell::Cell<bool>);

impl std::future::Future for Turn<'_> {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0.replace(false) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

impl KvStore for Gated<'_> {
    async fn get(&self, key: &str) -> kvgen::Result<Option<kvgen::Entry>> {
        Turn(self.turn).await;
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[String]) -> kvgen::Result<Vec<Option<kvgen::Entry>>> {
        Turn(self.turn).await;
        self.inner.get_many(keys).await
    }
    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> kvgen::Result<()> {
        Turn(self.turn).await;
        self.inner.put(key, value, options).await
    }
    async fn delete(&self, key: &str) -> kvgen::Result<()> {
        Turn(self.turn).await;
        self.inner.delete(key).await
    }
    async fn list(&self, options: &kvgen::ListOptions) -> kvgen::Result<kvgen::ListResult> {
        Turn(self.turn).await;
        self.inner.list(options).await
    }
    fn now(&self) -> u64 {
        self.inner.now()
    }
    fn coordinator(&self) -> Option<&dyn kvgen::Coordinate> {
        Some(self)
    }
}

impl kvgen::Coordinate for Gated<'_> {
    fn call<'a>(
        &'a self,
        name: &'a str,
        request: &'a kvgen::coord::Request,
    ) -> kvgen::coord::BoxFuture<'a, kvgen::Result<kvgen::coord::Response>> {
        Box::pin(async move {
            Turn(self.turn).await;
            kvgen::Coordinate::call(self.inner.coordination(), name, request).await
        })
    }
    fn now_ms(&self) -> u64 {
        kvgen::Coordinate::now_ms(self.inner.coordination())
    }
}

/// The `Member` records the store holds, by id, read from their raw values.
pub fn member_records(s: &MemoryStore) -> std::collections::BTreeMap<String, Member> {
    s.keys()
        .into_iter()
        .filter(|k| k.starts_with("member:"))
        .map(|k| {
            let m: Member = serde_json::from_str(&s.raw(&k).unwrap()).unwrap();
            (m.id.clone(), m)
        })
        .collect()
}

/// The record the coordinator names as the holder of a `Member` email, if it holds a claim.
pub fn holder(s: &MemoryStore, email: &str) -> Option<String> {
    match s.coordination().cell(&format!("APP/member.email:{}", kvgen::key::encode(&email.to_string()))) {
        Some(kvgen::coord::Cell::Claim { holder, .. }) => Some(holder),
        _ => None,
    }
}
