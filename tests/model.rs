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
//! Histories of the event-log pattern (appends with a fault at a random KV
//! operation, retried or not; snapshots with faults, some where writes show
//! 60 s late; time passing) keep the balance equal to the sum of the
//! committed events, each once.
//!
//! `KVGEN_MODEL_CASES` sets the number of histories (default 2,000); failures
//! shrink to a minimal history.

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

// ---- a model with no index ----------------------------------------------------

/// No index: a put whose expiry the call decides is one blind write.
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Setting {
    #[kv(id)]
    name: String,
    value: u8,
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
        6 => (call, 0u8..3, 0u8..4, ttl, fault.clone(), any::<bool>())
            .prop_map(|(call, id, value, ttl, fault, batch)| Plain::Write { call, id, value, ttl, fault, batch }),
        2 => (0u8..3, fault).prop_map(|(id, fault)| Plain::Delete { id, fault }),
        2 => prop_oneof![Just(30u64), Just(61), Just(700)].prop_map(Plain::Advance),
    ]
}

/// The records `setting:*`: value and expiry.
fn settings(store: &MemoryStore) -> BTreeMap<String, (Setting, Option<u64>)> {
    store
        .keys()
        .into_iter()
        .filter_map(|k| {
            let id = k.strip_prefix("setting:")?.to_string();
            let s: Setting = serde_json::from_str(&store.raw(&k)?).ok()?;
            Some((id, (s, store.expiration(&k))))
        })
        .collect()
}

fn run_plain(steps: &[Plain]) -> Check {
    let clock = ManualClock::new(T0);
    let store = MemoryStore::with_clock(clock.clone());
    let mut model: BTreeMap<String, (Setting, Option<u64>)> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        let now = {
            use kvgen::Clock;
            clock.now()
        };
        match step {
            Plain::Advance(secs) => clock.advance(*secs),
            Plain::Write { call, id, value, ttl, fault, batch } => {
                let rec = Setting { name: format!("s{id}"), value: *value };
                let faulty = Faulty::new(store.clone());
                if let Some((n, f)) = fault {
                    faulty.fail_at(*n, *f);
                }
                let opts = match ttl {
                    Ttl::Keep => WriteOptions::default(),
                    Ttl::Secs(t) => WriteOptions::ttl(*t),
                    Ttl::Permanent => WriteOptions::permanent(),
                };
                let repo = Setting::repo(&faulty);
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
                let old = model.get(&rec.name).cloned();
                let want = match (call, &old) {
                    (Call::Create, Some(_)) => Err("AlreadyExists"),
                    (Call::Update, None) => Err("NotFound"),
                    _ => Ok(match ttl {
                        Ttl::Secs(t) => Some(now + t),
                        Ttl::Permanent => None,
                        Ttl::Keep => old.as_ref().and_then(|(_, e)| *e).map(|e| e.max(now + 60)),
                    }),
                };
                let faulted = faulty.operations() >= fault.map_or(u64::MAX, |(n, _)| n);
                match (outcome, faulted) {
                    (Some(Ok(())), false) => {
                        let expires = want.map_err(|k| fail(format!("step {i}: {step:?} succeeded, want {k}")))?;
                        model.insert(rec.name.clone(), (rec, expires));
                    }
                    (Some(Err(e)), false) => {
                        ensure!(want == Err(e.kind()), "step {i}: {step:?}: {e}, want {want:?}");
                    }
                    _ => {
                        // Faulted: the record is as it was, or as the call writes it.
                        let actual = settings(&store).get(&rec.name).cloned();
                        let new = want.ok().map(|e| (rec.clone(), e));
                        ensure!(actual == old || actual == new, "step {i}: {step:?} left {actual:?}");
                        match actual {
                            Some(a) => model.insert(rec.name.clone(), a),
                            None => model.remove(&rec.name),
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
                let outcome = Faulty::drive(Setting::repo(&faulty).delete(&name));
                let faulted = faulty.operations() >= fault.map_or(u64::MAX, |(n, _)| n);
                match (outcome, faulted) {
                    (Some(Ok(had)), false) => {
                        ensure!(had == model.remove(&name).is_some(), "step {i}: delete said {had}")
                    }
                    (Some(Err(e)), false) => return Err(fail(format!("step {i}: delete: {e}"))),
                    _ => {
                        if !settings(&store).contains_key(&name) {
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
        ensure!(settings(&store) == model, "after step {i} ({step:?}): {:?}, model {model:?}", settings(&store));
    }
    Ok(())
}

#[test]
fn no_index_histories_keep_every_record_and_expiry() {
    let cases: u32 = std::env::var("KVGEN_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    match runner.run(&prop::collection::vec(plain_step(), 1..25), |steps| run_plain(&steps)) {
        Ok(()) => println!("no-index model test: {cases} histories passed"),
        Err(TestError::Fail(why, history)) => {
            panic!("no-index model test failed: {why}\nminimal history ({} steps):\n{history:#?}", history.len())
        }
        Err(e) => panic!("no-index model test: {e}"),
    }
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
