//! The stateful, randomized model test.
//!
//! Random histories of repository calls on the blog `User` (a unique email,
//! a compound unique (org_id, handle), a secondary index on org_id, a meta
//! field) and `Profile` (has-one of User through a unique index): create,
//! put, update, upsert by email and delete, each with a random ttl choice
//! (keep, a ttl, permanent), a random fault at a random KV operation
//! (before, after, stall) and sometimes from a location that sees writes
//! 60 s late; clock advances that expire records; records overwritten with
//! JSON that no longer parses; repair. After every step the real store is
//! compared with a plain reference model:
//!
//! 1. no record lost that was not deleted or expired, none changed that the
//!    step did not touch, each with the expiry the TTL semantics give;
//! 2. every live record's index entries exist, name it, and expire no sooner
//!    than it (exactly with it once written without a fault, or repaired);
//! 3. no two live records carry one unique value, and a create of a live
//!    record's unique value is refused — unreadable records included: their
//!    values are never freed;
//! 4. lookups and listings return only live records carrying the value, and
//!    every such record;
//! 5. after repair, verify finds nothing but conflicts and unreadable records.
//!
//! A history that includes a write from a location that did not yet see an
//! earlier write is a race between two writers, which KV cannot settle: from
//! then on 2 and 3 are not checked (1, 4 and 5 still are).
//!
//! Histories of models with no index (blind puts, single and batched, with
//! faults) are checked the same way for a JSON model, a raw text model and a
//! raw bytes model: after every step each record and expiry is the
//! reference's, `get`, `get_many` and `list` give every value exactly as
//! written (a raw text value starting with U+FEFF is refused before any KV
//! operation), and verify is clean.
//!

//! Histories of the event-log pattern (appends with a fault at a random KV
//! operation, retried or not; snapshots with faults, some where writes show
//! 60 s late; time passing) keep the balance equal to the sum of the
//! committed events, each once.
//!
//! `KVGEN_MODEL_CASES` sets the number of histories (default 2,000); failures
//! shrink to a minimal history.

#[path = "support.rs"]
mod support;

use blog::{Profile, User};
use kvgen::{Error, Fault, Faulty, KvStore, ManualClock, MemoryStore, Page, PutOptions, Repo, WriteOptions};
use pollster::block_on;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use std::collections::BTreeMap;

const T0: u64 = 1_800_000_000;
const LAG: u64 = 60;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Call {
    Create,
    Put,
    Update,
    Upsert,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ttl {
    Keep,
    Secs(u64),
    Permanent,
}

#[derive(Debug, Clone)]
enum Step {
    Write { call: Call, user: (u8, u8, u8, u8, u8), ttl: Ttl, fault: Option<(u64, Fault)>, lagging: bool },
    Delete { id: u8, fault: Option<(u64, Fault)>, lagging: bool },
    Profile { id: u8, user: u8, delete: bool },
    Advance(u64),
    Corrupt(u8),
    Repair,
}

fn make_user((id, email, org, handle, name): (u8, u8, u8, u8, u8)) -> User {
    User {
        id: format!("u{id}"),
        email: format!("e{email}@x"),
        org_id: format!("o{org}"),
        handle: format!("h{handle}"),
        name: format!("n{name}"),
    }
}

fn step() -> impl Strategy<Value = Step> {
    let fault = prop_oneof![
        3 => Just(None),
        1 => (1u64..=10, prop_oneof![Just(Fault::Before), Just(Fault::After), Just(Fault::Timeout)]).prop_map(Some),
    ];
    let ttl = prop_oneof![3 => Just(Ttl::Keep), 1 => prop_oneof![Just(60u64), Just(120), Just(600)].prop_map(Ttl::Secs), 1 => Just(Ttl::Permanent)];
    let call = prop_oneof![Just(Call::Create), Just(Call::Put), Just(Call::Update), Just(Call::Upsert)];
    let user = (0u8..5, 0u8..4, 0u8..2, 0u8..3, 0u8..2);
    let lagging = prop_oneof![6 => Just(false), 1 => Just(true)];
    prop_oneof![
        8 => (call, user, ttl, fault.clone(), lagging.clone())
            .prop_map(|(call, user, ttl, fault, lagging)| Step::Write { call, user, ttl, fault, lagging }),
        2 => (0u8..5, fault, lagging).prop_map(|(id, fault, lagging)| Step::Delete { id, fault, lagging }),
        1 => (0u8..3, 0u8..5, any::<bool>()).prop_map(|(id, user, delete)| Step::Profile { id, user, delete }),
        2 => prop_oneof![Just(1u64), Just(30), Just(59), Just(61), Just(200), Just(700)].prop_map(Step::Advance),
        1 => (0u8..5).prop_map(Step::Corrupt),
        1 => Just(Step::Repair),
    ]
}

/// What the model knows of a record.
#[derive(Debug, Clone, PartialEq)]
struct Known {
    /// Its values (for an unreadable record: the last ones it was written with).
    user: User,
    readable: bool,
    expires: Option<u64>,
    /// Its entries were written by a call that completed without a fault
    /// (or by repair): they expire exactly with it.
    exact: bool,
}

struct World {
    clock: ManualClock,
    store: MemoryStore,
    users: BTreeMap<String, Known>,
    profiles: BTreeMap<String, Profile>,
    /// When the last write that may have landed was made.
    last_write: u64,
    /// A write was made from a location that did not see an earlier one.
    raced: bool,
}

type Check = Result<(), TestCaseError>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(TestCaseError::fail(format!($($msg)+)));
        }
    };
}

impl World {
    fn new() -> World {
        let clock = ManualClock::new(T0);
        let store = MemoryStore::with_clock(clock.clone());
        // Lagging views need the store to keep past versions from the start.
        let _ = store.lagging(LAG);
        World { clock, store, users: BTreeMap::new(), profiles: BTreeMap::new(), last_write: 0, raced: false }
    }

    fn now(&self) -> u64 {
        use kvgen::Clock;
        self.clock.now()
    }

    /// Forgets what expired.
    fn expire(&mut self) {
        let now = self.now();
        self.users.retain(|_, k| k.expires.is_none_or(|e| e > now));
    }

    /// The live record other than `id` that holds one of `u`'s unique
    /// values: it carries it, or it cannot be read and the value's entry
    /// names it (it may carry it: its value is never taken from it).
    fn holder_of(&self, u: &User, except: &str) -> Option<&Known> {
        let entries = [format!("user.email:{}", u.email), format!("user.org_id_handle:{}:{}", u.org_id, u.handle)];
        self.users.values().find(|k| {
            k.user.id != except
                && (k.user.email == u.email
                    || (k.user.org_id == u.org_id && k.user.handle == u.handle)
                    || (!k.readable
                        && entries.iter().any(|e| self.store.raw(e).as_deref() == Some(k.user.id.as_str()))))
        })
    }

    /// The expiry a successful write gives.
    fn expiry(&self, ttl: Ttl, old: Option<&Known>) -> Option<u64> {
        let now = self.now();
        match ttl {
            Ttl::Secs(t) => Some(now + t),
            Ttl::Permanent => None,
            Ttl::Keep => old.and_then(|k| k.expires).map(|e| e.max(now + 60)),
        }
    }

    /// What a fresh, faultless call must answer, and the record it leaves:
    /// `Ok(Some(..))` written, `Ok(None)` nothing written, `Err(kind)` refused.
    fn predict(&self, call: Call, u: &User) -> Result<Option<User>, &'static str> {
        match call {
            Call::Create => {
                if self.users.contains_key(&u.id) {
                    return Err("AlreadyExists");
                }
                if self.holder_of(u, &u.id).is_some() {
                    return Err("UniqueViolation");
                }
                Ok(Some(u.clone()))
            }
            Call::Put | Call::Update => {
                if call == Call::Update && !self.users.contains_key(&u.id) {
                    return Err("NotFound");
                }
                if self.holder_of(u, &u.id).is_some() {
                    return Err("UniqueViolation");
                }
                Ok(Some(u.clone()))
            }
            Call::Upsert => match self.users.values().find(|k| k.user.email == u.email) {
                // The lookup follows the email's entry: it cannot read a record it names.
                _ if self
                    .users
                    .get(&self.store.raw(&format!("user.email:{}", u.email)).unwrap_or_default())
                    .is_some_and(|k| !k.readable) =>
                {
                    Err("Serialization")
                }
                Some(k) if !k.readable => Err("Serialization"),
                Some(k) => {
                    let target = User { id: k.user.id.clone(), ..u.clone() };
                    match self.holder_of(&target, &target.id) {
                        Some(_) => Err("UniqueViolation"),
                        None => Ok(Some(target)),
                    }
                }
                None => self.predict(Call::Create, u),
            },
        }
    }

    /// The records `user:*` as they are in the store.
    fn actual(&self) -> BTreeMap<String, (Option<User>, Option<u64>)> {
        self.store
            .keys()
            .into_iter()
            .filter_map(|k| {
                let id = k.strip_prefix("user:")?.to_string();
                let user = serde_json::from_str::<User>(&self.store.raw(&k)?).ok();
                Some((id, (user, self.store.expiration(&k))))
            })
            .collect()
    }

    /// Takes the store's word for `ids` after a call whose outcome is not
    /// known, checking it is the old state or one the call could have made.
    fn settle(&mut self, ids: &[String], candidates: &[User]) -> Check {
        let actual = self.actual();
        for id in ids {
            match actual.get(id) {
                None => {
                    self.users.remove(id);
                }
                Some((user, expires)) => {
                    let old = self.users.get(id);
                    let is_old = old.is_some_and(|k| user.as_ref().map_or(!k.readable, |u| *u == k.user));
                    let is_new = user.as_ref().is_some_and(|u| candidates.contains(u));
                    ensure!(is_old || is_new, "{id}: {user:?} is neither what it was ({old:?}) nor what was written");
                    let user = match user {
                        Some(u) => u.clone(),
                        None => old.map(|k| k.user.clone()).unwrap_or_default_user(id),
                    };
                    let readable = actual[id].0.is_some();
                    self.users.insert(id.clone(), Known { user, readable, expires: *expires, exact: false });
                }
            }
        }
        Ok(())
    }

    fn apply(&mut self, step: &Step) -> Check {
        let now = self.now();
        match step {
            Step::Advance(secs) => self.clock.advance(*secs),
            Step::Repair => {
                block_on(User::repo(&self.store).repair()).map_err(fail)?;
                block_on(Profile::repo(&self.store).repair()).map_err(fail)?;
                if !self.raced {
                    // Repair cannot shorten an entry's expiry to less than a
                    // minute away (KV refuses it): such an entry goes soon anyway.
                    for k in self.users.values_mut().filter(|k| k.readable) {
                        k.exact = k.expires.is_none_or(|e| e >= now + 60);
                    }
                }
                let report = block_on(User::repo(&self.store).verify()).map_err(fail)?;
                ensure!(report.missing + report.dangling + report.mismatched == 0, "after repair: {report}");
                let unreadable = self.users.values().filter(|k| !k.readable).count() as u64;
                ensure!(report.unreadable == unreadable, "unreadable: {report}, model {unreadable}");
                ensure!(self.raced || report.conflicts == 0, "conflict without a race: {report}");
            }
            Step::Corrupt(n) => {
                let id = format!("u{n}");
                let Some(k) = self.users.get_mut(&id) else { return Ok(()) };
                if k.expires.is_some_and(|e| e < now + 60) {
                    return Ok(());
                }
                let key = format!("user:{id}");
                let meta = block_on(self.store.get(&key)).map_err(fail)?.and_then(|e| e.metadata);
                // As an older struct would have written it: no `handle`.
                let json = format!(r#"{{"id":"{id}","email":"{}"}}"#, k.user.email);
                let opts = PutOptions { expiration: k.expires, metadata: meta, ..Default::default() };
                block_on(self.store.put(&key, json.as_bytes(), &opts)).map_err(fail)?;
                k.readable = false;
                self.last_write = now;
            }
            Step::Profile { id, user, delete } => {
                let repo = Profile::repo(&self.store);
                let id = format!("p{id}");
                if *delete {
                    let had = block_on(repo.delete(&id)).map_err(fail)?;
                    ensure!(had == self.profiles.remove(&id).is_some(), "profile delete of {id}");
                } else {
                    let p = Profile { id: id.clone(), user_id: format!("u{user}"), bio: String::new() };
                    let taken = self.profiles.values().any(|q| q.id != id && q.user_id == p.user_id);
                    match block_on(repo.put(&p)) {
                        Ok(()) => {
                            ensure!(!taken, "profile {id} took {} from another", p.user_id);
                            self.profiles.insert(id, p);
                        }
                        Err(Error::UniqueViolation { .. }) => ensure!(taken, "profile {id} refused"),
                        Err(e) => return Err(fail(e)),
                    }
                }
            }
            Step::Write { call, user, ttl, fault, lagging } => {
                let u = make_user(*user);
                let stale = *lagging && now < self.last_write + LAG;
                let store = Faulty::new(if *lagging { self.store.lagging(LAG) } else { self.store.clone() });
                if let Some((n, f)) = fault {
                    store.fail_at(*n, *f);
                }
                let opts = match ttl {
                    Ttl::Keep => WriteOptions::default(),
                    Ttl::Secs(t) => WriteOptions::ttl(*t),
                    Ttl::Permanent => WriteOptions::permanent(),
                };
                let repo = User::repo(&store);
                let outcome = Faulty::drive(async {
                    match call {
                        Call::Create => repo.create_with(&u, opts).await.map(|()| u.clone()),
                        Call::Put => repo.put_with(&u, opts).await.map(|()| u.clone()),
                        Call::Update => repo.update_with(&u, opts).await.map(|()| u.clone()),
                        Call::Upsert => {
                            // The upsert keeps the holder's id; its ttl is the model's rule.
                            repo.upsert_by_email(u.clone()).await
                        }
                    }
                });
                let ttl = if *call == Call::Upsert { Ttl::Keep } else { *ttl };
                let faulted = store.operations() >= fault.map_or(u64::MAX, |(n, _)| n);
                let predicted = self.predict(*call, &u);
                // The records an upsert may land on: those carrying the email
                // (from a stale view, any record: it may carry it there).
                let holder_ids: Vec<String> = if stale && *call == Call::Upsert {
                    (0..5).map(|n| format!("u{n}")).filter(|id| *id != u.id).collect()
                } else {
                    self.users
                        .values()
                        .filter(|k| k.user.email == u.email)
                        .map(|k| k.user.id.clone())
                        .filter(|id| *id != u.id)
                        .collect()
                };
                let mut ids = vec![u.id.clone()];
                ids.extend(holder_ids.iter().cloned());
                let candidates: Vec<User> = ids.iter().map(|id| User { id: id.clone(), ..u.clone() }).collect();
                if stale {
                    self.raced = true;
                }
                // After a race the model cannot say which of two records
                // holding one value a call meets first: it only checks that
                // the call left the old state or the new one.
                match (&outcome, stale || faulted || self.raced) {
                    (Some(Ok(written)), false) => {
                        let want =
                            predicted.map_err(|kind| fail(format!("{call:?} of {u:?} succeeded, want {kind}")))?;
                        ensure!(want.as_ref() == Some(written), "{call:?} wrote {written:?}, want {want:?}");
                        let old = self.users.get(&written.id).cloned();
                        let expires = self.expiry(ttl, old.as_ref());
                        // A call rewrites every entry when the expiry changes;
                        // otherwise the kept ones stay as they were (a longer
                        // expiry left by an earlier failed call stays too).
                        let exact = match &old {
                            Some(k) if k.readable && k.expires == expires => k.exact,
                            _ => true,
                        };
                        self.users.insert(
                            written.id.clone(),
                            Known { user: written.clone(), readable: true, expires, exact },
                        );
                        self.last_write = now;
                    }
                    (Some(Err(e)), false) => {
                        ensure!(predicted == Err(e.kind()), "{call:?} of {u:?}: {e}, want {predicted:?}");
                    }
                    _ => {
                        // A fault or a stale view: the call may have written.
                        self.last_write = now;
                        self.settle(&ids, &candidates)?;
                        if let (Some(Ok(written)), false) = (&outcome, stale || *call == Call::Upsert) {
                            // It did complete: the record is the new one.
                            let k = &self.users[&written.id];
                            ensure!(k.user == *written && k.readable, "{call:?} succeeded but left {k:?}");
                        }
                    }
                }
            }
            Step::Delete { id, fault, lagging } => {
                let id = format!("u{id}");
                let stale = *lagging && now < self.last_write + LAG;
                let store = Faulty::new(if *lagging { self.store.lagging(LAG) } else { self.store.clone() });
                if let Some((n, f)) = fault {
                    store.fail_at(*n, *f);
                }
                let outcome = Faulty::drive(User::repo(&store).delete(&id));
                let faulted = store.operations() >= fault.map_or(u64::MAX, |(n, _)| n);
                if stale {
                    self.raced = true;
                }
                match (&outcome, stale || faulted) {
                    (Some(Ok(had)), false) => {
                        ensure!(*had == self.users.remove(&id).is_some(), "delete of {id} said {had}");
                        self.last_write = now;
                    }
                    (Some(Err(e)), false) => return Err(fail(format!("delete of {id}: {e}"))),
                    _ => {
                        self.last_write = now;
                        self.settle(std::slice::from_ref(&id), &[])?;
                        if let Some(Ok(true)) = outcome {
                            ensure!(!self.users.contains_key(&id), "delete of {id} said true, record left");
                        }
                    }
                }
            }
        }
        self.expire();
        Ok(())
    }

    /// Invariants 1-4 (5 is checked by the repair step itself).
    fn check(&self) -> Check {
        let now = self.now();
        // 1. The records are exactly the model's, with the model's expiry.
        let actual = self.actual();
        let ids: Vec<&String> = self.users.keys().collect();
        ensure!(actual.keys().collect::<Vec<_>>() == ids, "records {:?}, model {ids:?}", actual.keys());
        for (id, k) in &self.users {
            let (user, expires) = &actual[id];
            ensure!(user.is_some() == k.readable, "{id}: readable {}", user.is_some());
            ensure!(!k.readable || user.as_ref() == Some(&k.user), "{id}: {user:?}, model {:?}", k.user);
            ensure!(*expires == k.expires, "{id}: expires {expires:?}, model {:?} (now {now})", k.expires);
        }
        let users = User::repo(&self.store);
        if !self.raced {
            for k in self.users.values() {
                let u = &k.user;
                // 2. Its entries exist, name it, and do not expire before it.
                let unique =
                    [format!("user.email:{}", u.email), format!("user.org_id_handle:{}:{}", u.org_id, u.handle)];
                for key in &unique {
                    ensure!(self.store.raw(key).as_deref() == Some(u.id.as_str()), "{key} does not name {}", u.id);
                }
                let mut keys = unique.to_vec();
                if k.readable {
                    keys.push(format!("user.org_id:{}:{}", u.org_id, u.id));
                }
                for key in &keys {
                    ensure!(self.store.raw(key).is_some(), "{key} missing");
                    let e = self.store.expiration(key);
                    let lasts = match (e, k.expires) {
                        (None, _) => true,
                        (Some(_), None) => false,
                        (Some(e), Some(r)) => e >= r,
                    };
                    ensure!(lasts, "{key} expires {e:?}, before its record ({:?})", k.expires);
                    ensure!(!k.exact || !k.readable || e == k.expires, "{key} expires {e:?}, record {:?}", k.expires);
                }
                // 3. Nobody else can take its email.
                let fork = self.store.fork();
                let intruder = User { id: "intruder".into(), handle: "intruder".into(), ..u.clone() };
                let got = block_on(User::repo(&fork).create(&intruder));
                ensure!(matches!(got, Err(Error::UniqueViolation { .. })), "{}'s email taken: {got:?}", u.id);
            }
            for (a, ka) in &self.users {
                for (b, kb) in &self.users {
                    ensure!(a == b || ka.user.email != kb.user.email, "{a} and {b} share an email");
                }
            }
        }
        // 4. Lookups return live records carrying the value, and all of them.
        for e in 0..4 {
            let email = format!("e{e}@x");
            let carriers: Vec<&Known> = self.users.values().filter(|k| k.user.email == email).collect();
            match block_on(users.find_by_email(&email)) {
                Ok(Some(found)) => {
                    ensure!(carriers.iter().any(|k| k.readable && k.user == found), "find {email}: {found:?}")
                }
                Ok(None) => ensure!(
                    self.raced || carriers.iter().all(|k| !k.readable),
                    "find {email}: None, but {carriers:?} carry it"
                ),
                Err(Error::Serialization { .. }) => {
                    // The entry names a record that cannot be read.
                    let named = self.store.raw(&format!("user.email:{email}")).unwrap_or_default();
                    ensure!(self.users.get(&named).is_some_and(|k| !k.readable), "find {email}: unreadable?")
                }
                Err(err) => return Err(fail(err)),
            }
        }
        for o in 0..2 {
            let org = format!("o{o}");
            let page = block_on(users.list_by_org_id(&org, Page::first(1000))).map_err(fail)?;
            let mut want: Vec<&User> =
                self.users.values().filter(|k| k.readable && k.user.org_id == org).map(|k| &k.user).collect();
            want.sort_by(|a, b| a.id.cmp(&b.id));
            let got: Vec<&User> = page.items.iter().collect();
            if self.raced {
                ensure!(got.iter().all(|u| want.contains(u)), "list_by_org_id {org}: {got:?}, want within {want:?}");
            } else {
                ensure!(got == want, "list_by_org_id {org}: {got:?}, want {want:?}");
            }
        }
        for k in self.users.values().filter(|k| k.readable) {
            let want = self.profiles.values().find(|p| p.user_id == k.user.id);
            let got = block_on(users.load_profile(&k.user)).map_err(fail)?;
            ensure!(got.as_ref() == want, "load_profile {}: {got:?}, want {want:?}", k.user.id);
        }
        Ok(())
    }
}

trait DefaultUser {
    fn unwrap_or_default_user(self, id: &str) -> User;
}

impl DefaultUser for Option<User> {
    fn unwrap_or_default_user(self, id: &str) -> User {
        self.unwrap_or_else(|| User {
            id: id.into(),
            email: String::new(),
            org_id: String::new(),
            handle: String::new(),
            name: String::new(),
        })
    }
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

fn run_history(steps: &[Step]) -> Check {
    let mut world = World::new();
    for (i, step) in steps.iter().enumerate() {
        world.apply(step).map_err(|e| fail(format!("step {i} ({step:?}): {e}")))?;
        world.check().map_err(|e| fail(format!("after step {i} ({step:?}): {e}")))?;
    }
    Ok(())
}

#[test]
fn random_histories_keep_every_invariant() {
    let cases: u32 = std::env::var("KVGEN_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let ran = std::cell::Cell::new(0u64);
    let steps_run = std::cell::Cell::new(0u64);
    let started = std::time::Instant::now();
    let result = runner.run(&prop::collection::vec(step(), 1..25), |steps| {
        ran.set(ran.get() + 1);
        steps_run.set(steps_run.get() + steps.len() as u64);
        run_history(&steps)
    });
    match result {
        Ok(()) => println!(
            "model test: {cases} histories passed ({} runs with shrinking, {} steps) in {:.1} s",
            ran.get(),
            steps_run.get(),
            started.elapsed().as_secs_f64()
        ),
        Err(TestError::Fail(why, history)) => {
            panic!("model test failed: {why}\nminimal history ({} steps):\n{history:#?}", history.len())
        }
        Err(e) => panic!("model test: {e}"),
    }
}

/// Sanity: the harness does catch a broken store. A history that deletes an
/// entry behind the repository's back and then creates a duplicate must fail
/// invariant 3.
#[test]
fn the_model_catches_a_freed_unique_value() {
    let mut world = World::new();
    world
        .apply(&Step::Write { call: Call::Create, user: (0, 0, 0, 0, 0), ttl: Ttl::Keep, fault: None, lagging: false })
        .unwrap();
    world.check().unwrap();
    block_on(world.store.delete("user.email:e0@x")).unwrap();
    assert!(world.check().is_err(), "a lost unique entry must be seen");
    let _ = Repo::<User, _>::new(&world.store);
}

// ---- models with no index: JSON, raw text, raw bytes ---------------------------

/// No index: a put whose expiry the call decides is one blind write.
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Setting {
    #[kv(id)]
    name: String,
    value: u8,
}

/// A raw text value (the KV value is `body`, `rev` is in metadata).
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Doc {
    #[kv(id)]
    name: String,
    #[kv(raw)]
    body: String,
    rev: u8,
}

/// A raw bytes value.
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Blob {
    #[kv(id)]
    name: String,
    #[kv(raw)]
    data: Vec<u8>,
    rev: u8,
}

/// What the no-index histories need of a model: a record of a name and a value choice.
trait PlainModel: kvgen::Model<Id = String> + Clone + PartialEq + std::fmt::Debug {
    fn make(name: String, value: u8) -> Self;
    /// The error kind a write of the record is refused with before any KV operation, if any.
    fn refused(&self) -> Option<&'static str> {
        None
    }
}

impl PlainModel for Setting {
    fn make(name: String, value: u8) -> Self {
        Setting { name, value }
    }
}

/// Texts: empty, plain, escapes and non-ASCII, U+FEFF inside, and U+FEFF first
/// (refused: KV's bulk read would drop it).
const TEXTS: [&str; 5] = ["", "plain", "ü😀\t\"\\\n", "a\u{feff}b", "\u{feff}first"];

impl PlainModel for Doc {
    fn make(name: String, value: u8) -> Self {
        Doc { name, body: TEXTS[value as usize % TEXTS.len()].into(), rev: value }
    }
    fn refused(&self) -> Option<&'static str> {
        self.body.starts_with('\u{feff}').then_some("Serialization")
    }
}

impl PlainModel for Blob {
    fn make(name: String, value: u8) -> Self {
        let data: &[u8] = match value % 5 {
            0 => b"",
            1 => b"plain",
            2 => &[0xff, 0x00, 0x80, 0xc3],
            3 => &[0xef, 0xbb, 0xbf, b'x'],
            _ => &[0xed, 0xa0, 0x80, 0xe4, 0xb8],
        };
        Blob { name, data: data.to_vec(), rev: value }
    }
}

#[derive(Debug, Clone)]
enum Plain {
    Write { call: Call, id: u8, value: u8, ttl: Ttl, fault: Option<(u64, Fault)>, batch: bool },
    Delete { id: u8, fault: Option<(u64, Fault)> },
    Advance(u64),
}

fn plain_step() -> impl Strategy<Value = Plain> {
    let fault = prop_oneof![
        2 => Just(None),
        1 => (1u64..=3, prop_oneof![Just(Fault::Before), Just(Fault::After), Just(Fault::Timeout)]).prop_map(Some),
    ];
    let ttl = prop_oneof![2 => Just(Ttl::Keep), 1 => prop_oneof![Just(60u64), Just(600)].prop_map(Ttl::Secs), 1 => Just(Ttl::Permanent)];
    let call = prop_oneof![Just(Call::Create), Just(Call::Put), Just(Call::Update)];
    prop_oneof![
        6 => (call, 0u8..3, 0u8..5, ttl, fault.clone(), any::<bool>())
            .prop_map(|(call, id, value, ttl, fault, batch)| Plain::Write { call, id, value, ttl, fault, batch }),
        2 => (0u8..3, fault).prop_map(|(id, fault)| Plain::Delete { id, fault }),
        2 => prop_oneof![Just(30u64), Just(61), Just(700)].prop_map(Plain::Advance),
    ]
}

/// The model's records as stored, read one key at a time (exact bytes), with their expiries.
fn stored<M: PlainModel>(store: &MemoryStore) -> BTreeMap<String, (M, Option<u64>)> {
    let repo = Repo::<M, _>::new(store);
    let prefix = format!("{}:", M::MODEL);
    store
        .keys()
        .into_iter()
        .filter_map(|k| {
            let id = k.strip_prefix(&prefix)?.to_string();
            let rec = block_on(repo.get(&id)).ok()??;
            Some((id, (rec, store.expiration(&k))))
        })
        .collect()
}

/// Every read path gives the model's records exactly: `get`, `get_many`, `list`.
fn reads_agree<M: PlainModel>(store: &MemoryStore, model: &BTreeMap<String, (M, Option<u64>)>) -> Check {
    let repo = Repo::<M, _>::new(store);
    let ids: Vec<String> = (0..3).map(|i| format!("s{i}")).collect();
    let want: Vec<Option<M>> = ids.iter().map(|id| model.get(id).map(|(r, _)| r.clone())).collect();
    let got = block_on(repo.get_many(&ids)).map_err(fail)?;
    ensure!(got == want, "get_many gave {got:?}, want {want:?}");
    let listed = block_on(kvgen::all_pages(2, |p| repo.list(p))).map_err(fail)?;
    let want: Vec<M> = model.values().map(|(r, _)| r.clone()).collect();
    ensure!(listed.items == want && listed.unreadable.is_empty(), "list gave {listed:?}, want {want:?}");
    ensure!(block_on(repo.verify()).map_err(fail)?.is_clean(), "verify is not clean");
    Ok(())
}

fn run_plain<M: PlainModel>(steps: &[Plain]) -> Check {
    let clock = ManualClock::new(T0);
    let store = MemoryStore::with_clock(clock.clone());
    let mut model: BTreeMap<String, (M, Option<u64>)> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        let now = {
            use kvgen::Clock;
            clock.now()
        };
        match step {
            Plain::Advance(secs) => clock.advance(*secs),
            Plain::Write { call, id, value, ttl, fault, batch } => {
                let rec = M::make(format!("s{id}"), *value);
                let name = rec.id().clone();
                let faulty = Faulty::new(store.clone());
                if let Some((n, f)) = fault {
                    faulty.fail_at(*n, *f);
                }
                let opts = match ttl {
                    Ttl::Keep => WriteOptions::default(),
                    Ttl::Secs(t) => WriteOptions::ttl(*t),
                    Ttl::Permanent => WriteOptions::permanent(),
                };
                let repo = Repo::<M, _>::new(&faulty);
                let outcome = Faulty::drive(async {
                    match (call, batch) {
                        (Call::Create, false) => repo.create_with(&rec, opts).await,
                        (Call::Create, true) => {
                            repo.create_many_with(std::slice::from_ref(&rec), opts).await?.remove(0)
                        }
                        (Call::Put, false) => repo.put_with(&rec, opts).await,
                        (Call::Put, true) => repo.put_many_with(std::slice::from_ref(&rec), opts).await?.remove(0),
                        _ => repo.update_with(&rec, opts).await,
                    }
                });
                let old = model.get(&name).cloned();
                let want = match (call, &old, rec.refused()) {
                    (_, _, Some(kind)) => Err(kind),
                    (Call::Create, Some(_), _) => Err("AlreadyExists"),
                    (Call::Update, None, _) => Err("NotFound"),
                    _ => Ok(match ttl {
                        Ttl::Secs(t) => Some(now + t),
                        Ttl::Permanent => None,
                        Ttl::Keep => old.as_ref().and_then(|(_, e)| *e).map(|e| e.max(now + 60)),
                    }),
                };
                let faulted = faulty.operations() >= fault.map_or(u64::MAX, |(n, _)| n);
                if rec.refused().is_some() {
                    ensure!(faulty.operations() == 0, "step {i}: {step:?}: a refused write made KV operations");
                }
                match (outcome, faulted) {
                    (Some(Ok(())), false) => {
                        let expires = want.map_err(|k| fail(format!("step {i}: {step:?} succeeded, want {k}")))?;
                        model.insert(name, (rec, expires));
                    }
                    (Some(Err(e)), false) => {
                        ensure!(want == Err(e.kind()), "step {i}: {step:?}: {e}, want {want:?}");
                    }
                    _ => {
                        // Faulted: the record is as it was, or as the call writes it.
                        let actual = stored::<M>(&store).get(&name).cloned();
                        let new = want.ok().map(|e| (rec.clone(), e));
                        ensure!(actual == old || actual == new, "step {i}: {step:?} left {actual:?}");
                        match actual {
                            Some(a) => model.insert(name, a),
                            None => model.remove(&name),
                        };
                    }
                }
            }
            Plain::Delete { id, fault } => {
                let name = format!("s{id}");
                let faulty = Faulty::new(store.clone());
                if let Some((n, f)) = fault {
                    faulty.fail_at(*n, *f);
                }
                let outcome = Faulty::drive(Repo::<M, _>::new(&faulty).delete(&name));
                let faulted = faulty.operations() >= fault.map_or(u64::MAX, |(n, _)| n);
                match (outcome, faulted) {
                    (Some(Ok(had)), false) => {
                        ensure!(had == model.remove(&name).is_some(), "step {i}: delete said {had}")
                    }
                    (Some(Err(e)), false) => return Err(fail(format!("step {i}: delete: {e}"))),
                    _ => {
                        if !stored::<M>(&store).contains_key(&name) {
                            model.remove(&name);
                        }
                    }
                }
            }
        }
        let now = {
            use kvgen::Clock;
            clock.now()
        };
        model.retain(|_, (_, e)| e.is_none_or(|e| e > now));
        let actual = stored::<M>(&store);
        ensure!(actual == model, "after step {i} ({step:?}): {actual:?}, model {model:?}");
        reads_agree(&store, &model).map_err(|e| fail(format!("after step {i} ({step:?}): {e}")))?;
    }
    Ok(())
}

fn run_plain_histories<M: PlainModel>(what: &str) {
    let cases: u32 = std::env::var("KVGEN_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    match runner.run(&prop::collection::vec(plain_step(), 1..25), |steps| run_plain::<M>(&steps)) {
        Ok(()) => println!("{what} model test: {cases} histories passed"),
        Err(TestError::Fail(why, history)) => {
            panic!("{what} model test failed: {why}\nminimal history ({} steps):\n{history:#?}", history.len())
        }
        Err(e) => panic!("{what} model test: {e}"),
    }
}

// ---- a strict model in batches -------------------------------------------------

/// A batch of the strict `Member` model (email claimed on the coordinator).
#[derive(Debug, Clone)]
enum StrictStep {
    /// `put_many` (or `create_many`) of members `(id, email)`, a fault at
    /// one of its KV operations or coordinator requests.
    Write {
        create: bool,
        members: Vec<(u8, u8)>,
        fault: Option<(u64, Fault)>,
    },
    /// `delete_many` of these ids.
    Delete {
        ids: Vec<u8>,
        fault: Option<(u64, Fault)>,
    },
    Advance(u64),
}

fn strict_step() -> impl Strategy<Value = StrictStep> {
    let fault = prop_oneof![
        2 => Just(None),
        1 => (1u64..=14, prop_oneof![Just(Fault::Before), Just(Fault::After), Just(Fault::Timeout)]).prop_map(Some),
    ];
    prop_oneof![
        5 => (any::<bool>(), prop::collection::vec((0u8..4, 0u8..3), 1..4), fault.clone())
            .prop_map(|(create, members, fault)| StrictStep::Write { create, members, fault }),
        2 => (prop::collection::vec(0u8..4, 1..3), fault).prop_map(|(ids, fault)| StrictStep::Delete { ids, fault }),
        2 => prop_oneof![Just(1u64), Just(36), Just(91)].prop_map(StrictStep::Advance),
    ]
}

fn members_of(store: &MemoryStore) -> BTreeMap<String, support::Member> {
    store
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("member:"))
        .filter_map(|k| serde_json::from_str::<support::Member>(&store.raw(&k)?).ok())
        .map(|m| (m.id.clone(), m))
        .collect()
}

/// After every step: each record is as before the step or as the step asked
/// (and as asked when its outcome was `Ok`); no two live records share an
/// email, and the coordinator's holder of each live record's email is that
/// record; a refused write met an email another record held; once every
/// claim has settled, an email can be created exactly when no live record
/// carries it; the coordinator keeps at most one cell per email.
fn run_strict(steps: &[StrictStep]) -> Check {
    use kvgen::coord::{Cell, LEASE_MS, SETTLE_MS};
    use kvgen::Clock;
    use support::{member, Member};
    let clock = ManualClock::new(T0);
    let store = MemoryStore::with_clock(clock.clone());
    let holder = |email: &str| match store.coordination().cell(&format!("APP/member.email:{email}")) {
        Some(Cell::Claim { holder, .. }) => Some(holder),
        _ => None,
    };
    for (i, step) in steps.iter().enumerate() {
        let before = members_of(&store);
        let faulty = Faulty::new(store.clone());
        let repo = Member::repo(&faulty);
        // Each target: its id, and the record asked for (`None`: deleted).
        let (targets, outcome) = match step {
            StrictStep::Advance(secs) => {
                clock.advance(*secs);
                (Vec::new(), Some(Ok(Vec::new())))
            }
            StrictStep::Write { create, members, fault } => {
                let mut recs: Vec<Member> = Vec::new();
                for (id, email) in members {
                    if !recs.iter().any(|m| m.id == format!("m{id}")) {
                        recs.push(member(&format!("m{id}"), &format!("e{email}@x"), &format!("t{i}")));
                    }
                }
                if let Some((n, f)) = fault {
                    faulty.fail_at(*n, *f);
                }
                let out = Faulty::drive(async {
                    if *create {
                        repo.create_many(&recs).await
                    } else {
                        repo.put_many(&recs).await
                    }
                });
                (recs.into_iter().map(|m| (m.id.clone(), Some(m))).collect(), out)
            }
            StrictStep::Delete { ids, fault } => {
                let mut ids: Vec<String> = ids.iter().map(|id| format!("m{id}")).collect();
                ids.dedup();
                if let Some((n, f)) = fault {
                    faulty.fail_at(*n, *f);
                }
                let out = Faulty::drive(async {
                    repo.delete_many(&ids).await.map(|v| v.into_iter().map(|r| r.map(|_| ())).collect())
                });
                (ids.into_iter().map(|id| (id, None)).collect(), out)
            }
        };
        let after = members_of(&store);
        let faulted =
            matches!(step, StrictStep::Write { fault: Some(_), .. } | StrictStep::Delete { fault: Some(_), .. });
        let ctx = |what: String| fail(format!("step {i} ({step:?}): {what}"));
        for (id, m) in &before {
            if !targets.iter().any(|(t, _)| t == id) && after.get(id) != Some(m) {
                return Err(ctx(format!("{id} lost or changed: {:?}", after.get(id))));
            }
        }
        let outcomes: Vec<Option<&kvgen::Result<()>>> = match &outcome {
            Some(Ok(v)) => v.iter().map(Some).collect(),
            _ => vec![None; targets.len()],
        };
        for ((id, asked), out) in targets.iter().zip(outcomes) {
            let now = after.get(id);
            if now != before.get(id) && now != asked.as_ref() {
                return Err(ctx(format!("{id} is {now:?}")));
            }
            let create = matches!(step, StrictStep::Write { create: true, .. });
            match out {
                Some(Ok(())) if now != asked.as_ref() => return Err(ctx(format!("{id} Ok but {now:?}"))),
                Some(Ok(())) => {}
                Some(Err(Error::UniqueViolation { holder: h, .. })) => {
                    let email = &asked.as_ref().unwrap().email;
                    let other = before.values().chain(after.values()).any(|m| m.id == *h && m.id != *id)
                        || holder(&kvgen::key::encode(email)).is_some_and(|c| c != *id);
                    if !other || now != before.get(id) {
                        return Err(ctx(format!("{id} refused for {email} held by {h}, now {now:?}")));
                    }
                }
                Some(Err(Error::AlreadyExists { .. })) if create => {}
                Some(Err(_)) if faulted => {}
                Some(Err(e)) => return Err(ctx(format!("{id}: {e}"))),
                None => {}
            }
        }
        let mut seen = BTreeMap::new();
        for m in after.values() {
            if let Some(other) = seen.insert(m.email.clone(), m.id.clone()) {
                return Err(ctx(format!("{} carried by {other} and {}", m.email, m.id)));
            }
            if holder(&kvgen::key::encode(&m.email)).as_deref() != Some(m.id.as_str()) {
                return Err(ctx(format!("{} held by {:?}, carried by {}", m.email, holder(&m.email), m.id)));
            }
        }
        if store.coordination().cell_count() > 3 {
            return Err(ctx(format!("cells {:?}", store.coordination().names())));
        }
        let at = clock.now();
        clock.advance((LEASE_MS + SETTLE_MS) / 1000);
        for email in 0..3 {
            let email = format!("e{email}@x");
            let probe = store.fork();
            let created = block_on(Member::repo(&probe).create(&member("probe", &email, "p")));
            let carried = seen.contains_key(&email);
            if !matches!((carried, &created), (true, Err(Error::UniqueViolation { .. })) | (false, Ok(()))) {
                return Err(ctx(format!("creating {email} (carried: {carried}) gave {created:?}")));
            }
        }
        clock.set(at);
    }
    let report = block_on(Repo::<Member, _>::new(&store).repair()).map_err(fail)?;
    ensure!(report.conflicts == 0, "{report}");
    Ok(())
}

#[test]
fn strict_batch_histories_keep_every_invariant() {
    let cases: u32 = std::env::var("KVGEN_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&prop::collection::vec(strict_step(), 1..16), |steps| run_strict(&steps));
    match result {
        Ok(()) => println!("strict batch model test: {cases} histories passed"),
        Err(TestError::Fail(why, history)) => {
            panic!("strict model test failed: {why}\nminimal history ({} steps):\n{history:#?}", history.len())
        }
        Err(e) => panic!("strict model test: {e}"),
    }
}

#[test]
fn no_index_histories_keep_every_record_and_expiry() {
    run_plain_histories::<Setting>("no-index");
}

#[test]
fn raw_text_histories_keep_every_value_exactly_on_every_read_path() {
    run_plain_histories::<Doc>("raw text");
}

#[test]
fn raw_bytes_histories_keep_every_value_exactly_on_every_read_path() {
    run_plain_histories::<Blob>("raw bytes");
}

/// A step of an event-log history.
#[derive(Debug, Clone)]
enum Ledger {
    /// Commit an event of `cents` now, with a fault at one of its KV
    /// operations, then (when `retry`) commit it again.
    Append { cents: i64, fault: Option<(u64, Fault)>, retry: bool },
    /// Move the snapshot up to now, with a fault, here or where writes show 60 s late.
    Snapshot { fault: Option<(u64, Fault)>, lagging: bool },
    /// Let time pass.
    Advance { secs: u64 },
}

fn ledger_step() -> impl Strategy<Value = Ledger> {
    let fault = prop::option::of((1..5u64, prop_oneof![Just(Fault::Before), Just(Fault::After), Just(Fault::Timeout)]));
    prop_oneof![
        4 => (-5_000..5_000i64, fault.clone(), any::<bool>())
            .prop_map(|(cents, fault, retry)| Ledger::Append { cents, fault, retry }),
        2 => (fault, any::<bool>()).prop_map(|(fault, lagging)| Ledger::Snapshot { fault, lagging }),
        2 => prop_oneof![Just(1u64), Just(30), Just(61), Just(200)].prop_map(|secs| Ledger::Advance { secs }),
    ]
}

/// Runs a ledger history: after every step the balance is the sum of the
/// events the model says are committed (an append whose record write went
/// through, retried or not), each once.
fn run_ledger(steps: &[Ledger]) -> Result<(), TestCaseError> {
    use patterns::events::{self, Event, Snapshot};
    let clock = ManualClock::new(T0);
    let here = MemoryStore::with_clock(clock.clone());
    let there = here.lagging(LAG);
    let now_ms = || {
        use kvgen::Clock;
        clock.now() * 1000
    };
    let mut sum = 0i64;
    let mut n = 0u64;
    for (i, step) in steps.iter().enumerate() {
        match step {
            Ledger::Append { cents, fault, retry } => {
                n += 1;
                let event = Event { at: now_ms() + n, ..events::new_event("acct", *cents, "").unwrap() };
                let faulty = Faulty::new(here.clone());
                if let Some((k, f)) = fault {
                    faulty.fail_at(*k, *f);
                }
                let first = Faulty::drive(events::commit(&Event::repo(&faulty), &event));
                // The commit's operations: a bulk read, the index entry, the record.
                let written = match fault {
                    None => true,
                    Some((k, f)) => *k > 3 || (*k == 3 && *f == Fault::After),
                };
                ensure!(matches!(first, Some(Ok(()))) == (fault.is_none_or(|(k, _)| k > 3)), "step {i}: {first:?}");
                if *retry {
                    block_on(events::commit(&Event::repo(&here), &event))
                        .map_err(|e| fail(format!("step {i}: {e}")))?;
                }
                if written || *retry {
                    sum += cents;
                }
            }
            Ledger::Snapshot { fault, lagging } => {
                let at = if *lagging { &there } else { &here };
                let faulty = Faulty::new(at.clone());
                if let Some((k, f)) = fault {
                    faulty.fail_at(*k, *f);
                }
                let _ =
                    Faulty::drive(events::snapshot(&Event::repo(&faulty), &Snapshot::repo(&faulty), "acct", now_ms()));
            }
            Ledger::Advance { secs } => clock.advance(*secs),
        }
        let balance = block_on(events::balance(&Event::repo(&here), &Snapshot::repo(&here), "acct"))
            .map_err(|e| fail(format!("step {i}: {e}")))?;
        ensure!(balance == sum, "after step {i} ({step:?}): balance {balance}, committed {sum}");
    }
    Ok(())
}

#[test]
fn ledger_histories_balance_to_the_committed_events() {
    let cases: u32 = std::env::var("KVGEN_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    match runner.run(&prop::collection::vec(ledger_step(), 1..25), |steps| run_ledger(&steps)) {
        Ok(()) => println!("ledger model test: {cases} histories passed"),
        Err(TestError::Fail(why, history)) => {
            panic!("ledger model test failed: {why}\nminimal history ({} steps):\n{history:#?}", history.len())
        }
        Err(e) => panic!("ledger model test: {e}"),
    }
}
