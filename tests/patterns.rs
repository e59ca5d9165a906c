//! The runtime's helpers for the everyday patterns, on MemoryStore with a
//! manual clock: stale-while-revalidate with its background revalidation,
//! rollout buckets, the in-isolate memo, and modify / touch /
//! get_many_or_fetch at their edges. (The patterns themselves run as
//! conformance scenarios on both stores.)

use std::cell::RefCell;
use std::rc::Rc;

use kvgen::rollout::{bucket, Rollout, BUCKETS};
use kvgen::swr::{self, Revalidation, Served, Swr};
use kvgen::{Error, Fault, Faulty, KvModel, ManualClock, Memo, MemoryStore, Metered, WriteOptions};
use patterns::swr_cache::{self, Rate, POLICY};
use serde::{Deserialize, Serialize};

const T0: u64 = 1_800_000_000;

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

type Pending = Rc<RefCell<Vec<Revalidation>>>;

/// One stale-while-revalidate read of EUR-USD, the upstream answering `micros`.
fn read(store: &Rc<Metered<MemoryStore>>, pending: &Pending, micros: u64) -> kvgen::Result<(Rate, Served)> {
    let p = pending.clone();
    block(swr_cache::rate(
        store.clone(),
        "",
        "EUR-USD",
        move |_| async move { Ok(micros) },
        move |r| p.borrow_mut().push(r),
    ))
}

#[test]
fn stale_while_revalidate_serves_then_revalidates_in_the_background() {
    let clock = ManualClock::new(T0);
    let store = Rc::new(Metered::new(MemoryStore::with_clock(clock.clone())));
    let pending: Pending = Rc::default();

    let (rate, served) = read(&store, &pending, 100).unwrap();
    assert_eq!((rate.micros, rate.fetched_at, served), (100, T0, Served::Fetched));
    assert!(pending.borrow().is_empty());

    clock.advance(POLICY.fresh - 1);
    let (rate, served) = read(&store, &pending, 200).unwrap();
    assert_eq!((rate.micros, served), (100, Served::Fresh), "fresh: the upstream is not asked");
    assert!(pending.borrow().is_empty());

    clock.advance(1);
    store.reset();
    let (rate, served) = read(&store, &pending, 300).unwrap();
    assert_eq!((rate.micros, served), (100, Served::Stale), "stale: the cached value answers");
    assert_eq!((store.ops().writes, pending.borrow().len()), (0, 1), "the write waits for the revalidation");
    let revalidation = pending.borrow_mut().pop().unwrap();
    block(revalidation).unwrap();
    assert_eq!(store.ops().writes, 1);
    let (rate, served) = read(&store, &pending, 400).unwrap();
    assert_eq!((rate.micros, rate.fetched_at, served), (300, T0 + POLICY.fresh, Served::Fresh), "revalidated");

    // Past both windows: fetched before answering (KV has expired it by then too).
    clock.advance(POLICY.fresh + POLICY.stale);
    let (rate, served) = read(&store, &pending, 500).unwrap();
    assert_eq!((rate.micros, served), (500, Served::Fetched));
    assert!(pending.borrow().is_empty());
}

#[test]
fn a_failed_fetch_is_the_callers_error_and_writes_nothing() {
    let clock = ManualClock::new(T0);
    let store = Rc::new(MemoryStore::with_clock(clock.clone()));
    let failing =
        || async { Err::<Rate, _>(Error::Store { op: "fetch", key: "EUR-USD".into(), message: "down".into() }) };
    let got = block(swr::get_or_fetch(store.clone(), "", "EUR-USD".to_string(), POLICY, failing, |_| {}));
    assert!(matches!(got, Err(Error::Store { .. })), "{got:?}");
    assert!(store.keys().is_empty());

    // A failed revalidation leaves the stale value in place and reports through its future.
    let ok = || async { Ok(Rate { pair: "EUR-USD".into(), micros: 1, fetched_at: 0 }) };
    block(swr::get_or_fetch(store.clone(), "", "EUR-USD".to_string(), POLICY, ok, |_| {})).unwrap();
    clock.advance(POLICY.fresh);
    let mut handed = None;
    let (rate, served) =
        block(swr::get_or_fetch(store.clone(), "", "EUR-USD".to_string(), POLICY, failing, |r| handed = Some(r)))
            .unwrap();
    assert_eq!((rate.micros, served), (1, Served::Stale));
    assert!(block(handed.unwrap()).is_err());
    assert_eq!(block(Rate::repo(&*store).get(&"EUR-USD".to_string())).unwrap().map(|r| r.micros), Some(1));
}

#[test]
fn swr_windows_and_ttl() {
    let p = Swr { fresh: 10, stale: 20 };
    use kvgen::swr::Freshness::*;
    assert_eq!([p.state(100, 100), p.state(100, 109), p.state(100, 110)], [Fresh, Fresh, Stale]);
    assert_eq!([p.state(100, 129), p.state(100, 130), p.state(100, 5)], [Stale, Expired, Fresh]);
    assert_eq!(p.ttl(), 60, "at least KV's minimum");
    assert_eq!(Swr { fresh: 60, stale: 3600 }.ttl(), 3660);
    assert!(block(swr::get_or_fetch(
        Rc::new(MemoryStore::new()),
        "bad scope!",
        "x".to_string(),
        POLICY,
        || async { Ok(Rate { pair: "x".into(), micros: 1, fetched_at: 0 }) },
        |_| {}
    ))
    .is_err());
}

#[test]
fn rollout_buckets_are_pinned_uniform_and_monotonic() {
    // Pinned: a change to the hash would move users between cohorts.
    let pinned =
        [bucket("new-checkout", "ada"), bucket("new-checkout", "bob"), bucket("dark-mode", "ada"), bucket("", "")];
    assert_eq!(pinned, [PINNED_ADA, PINNED_BOB, PINNED_DARK_ADA, PINNED_EMPTY], "{pinned:?}");
    // The flag's name is part of the hash: cohorts differ between flags.
    let subjects: Vec<String> = (0..20_000).map(|i| format!("user-{i}")).collect();
    let same = subjects.iter().filter(|s| (bucket("a", s) < 5000) == (bucket("b", s) < 5000)).count();
    assert!((9_000..11_000).contains(&same), "independent halves agree about half the time: {same}");
    // Uniform: each tenth of the buckets holds about a tenth of the subjects.
    let mut tenths = [0usize; 10];
    for s in &subjects {
        let b = bucket("new-checkout", s);
        assert!(b < BUCKETS);
        tenths[(b / 1000) as usize] += 1;
    }
    assert!(tenths.iter().all(|&n| (1_800..2_200).contains(&n)), "{tenths:?}");
    // Monotonic: raising the percentage only adds subjects.
    let at = |p: f64| {
        let r = Rollout { enabled: true, percent: p, ..Rollout::default() };
        subjects.iter().filter(|s| r.admits("new-checkout", s)).cloned().collect::<std::collections::BTreeSet<_>>()
    };
    let (ten, twenty) = (at(10.0), at(20.0));
    assert!(ten.is_subset(&twenty) && ten.len() < twenty.len());
    assert!((1_800..2_200).contains(&ten.len()), "10 % of 20,000: {}", ten.len());
    assert!(at(0.0).is_empty() && at(100.0).len() == subjects.len());
}

// The pinned buckets, as an independent implementation of the documented
// hash (FNV-1a 64, then the 64-bit finalizing mix) computes them.
const PINNED_ADA: u32 = 4857;
const PINNED_BOB: u32 = 2125;
const PINNED_DARK_ADA: u32 = 5513;
const PINNED_EMPTY: u32 = 2267;

#[test]
fn rollout_rules() {
    let r =
        Rollout { enabled: true, percent: 100.0, allow: vec!["ada".into()], deny: vec!["eve".into(), "ada".into()] };
    assert!(!r.admits("f", "ada"), "deny wins over allow");
    assert!(!r.admits("f", "eve") && r.admits("f", "bob"));
    let off = Rollout { enabled: false, ..r.clone() };
    assert!(!off.admits("f", "bob"), "the kill switch");
    let allow_only = Rollout { enabled: true, percent: 0.0, allow: vec!["ada".into()], deny: vec![] };
    assert!(allow_only.admits("f", "ada") && !allow_only.admits("f", "bob"));
    let t = |p: f64| Rollout { percent: p, ..Rollout::default() }.threshold();
    assert_eq!([t(-5.0), t(0.01), t(12.345), t(100.0), t(250.0), t(f64::NAN)], [0, 1, 1235, 10_000, 10_000, 0]);
}

#[test]
fn memo_keeps_a_value_for_its_max_age() {
    let memo = Memo::new(30);
    assert_eq!(memo.get(100), None);
    let loads = RefCell::new(0);
    let load = |v: Option<&'static str>| {
        let loads = &loads;
        move || async move {
            *loads.borrow_mut() += 1;
            Ok(v)
        }
    };
    assert_eq!(block(memo.get_or_load(100, load(None))).unwrap(), None);
    assert_eq!(block(memo.get_or_load(100, load(Some("a")))).unwrap(), Some("a"), "a None is not kept");
    assert_eq!(block(memo.get_or_load(129, load(Some("b")))).unwrap(), Some("a"), "kept for 30 s");
    assert_eq!(*loads.borrow(), 2);
    assert_eq!(block(memo.get_or_load(130, load(Some("b")))).unwrap(), Some("b"), "then loaded again");
    memo.clear();
    assert_eq!(memo.get(131), None);
    let failing = || async { Err(Error::InvalidCursor { cursor: "x".into() }) };
    assert!(block(memo.get_or_load(131, failing)).is_err());
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Account {
    #[kv(id)]
    id: String,
    #[kv(unique)]
    email: String,
    #[kv(index)]
    plan: String,
}

fn account(id: &str, email: &str) -> Account {
    Account { id: id.into(), email: email.into(), plan: "free".into() }
}

#[test]
fn modify_moves_index_entries_and_keeps_the_id() {
    let store = Metered::new(MemoryStore::new());
    let repo = Account::repo(&store);
    block(repo.create(&account("a1", "a@x"))).unwrap();
    block(repo.create(&account("a2", "b@x"))).unwrap();
    store.reset();
    assert_eq!(block(repo.modify(&"nobody".into(), |a| a.plan = "pro".into())).unwrap(), None);
    assert_eq!(store.ops().writes, 0, "nothing to modify, nothing written");
    let changed = block(repo.modify(&"a1".into(), |a| a.email = "c@x".into())).unwrap().unwrap();
    assert_eq!(changed.email, "c@x");
    assert_eq!(block(repo.find_by_email("c@x")).unwrap(), Some(changed));
    assert_eq!(block(repo.find_by_email("a@x")).unwrap(), None, "the old value is freed");
    let taken = block(repo.modify(&"a1".into(), |a| a.email = "b@x".into()));
    assert!(matches!(taken, Err(Error::UniqueViolation { .. })), "{taken:?}");
    let moved = block(repo.modify(&"a1".into(), |a| a.id = "a9".into()));
    assert!(matches!(moved, Err(Error::InvalidKey { .. })), "{moved:?}");
    assert!(block(repo.get(&"a9".into())).unwrap().is_none());
    assert!(block(repo.verify()).unwrap().is_clean());
}

#[test]
fn touch_moves_the_expiry_of_the_record_and_its_entries() {
    let clock = ManualClock::new(T0);
    let store = MemoryStore::with_clock(clock.clone());
    let repo = Account::repo(&store);
    block(repo.create_with(&account("a1", "a@x"), WriteOptions::ttl(120))).unwrap();
    clock.advance(100);
    assert!(block(repo.touch(&"a1".into(), 3600)).unwrap().is_some());
    assert!(store.keys().iter().all(|k| store.expiration(k) == Some(T0 + 100 + 3600)), "every key slid");
    clock.advance(3000);
    assert!(block(repo.get(&"a1".into())).unwrap().is_some(), "alive past its first expiry");
    assert_eq!(block(repo.touch(&"nobody".into(), 3600)).unwrap(), None);
}

#[test]
fn get_many_or_fetch_asks_only_for_the_missing_and_fills_repeats() {
    let store = Metered::new(MemoryStore::new());
    let repo = Account::repo(&store);
    block(repo.create(&account("a1", "a@x"))).unwrap();
    let ids: Vec<String> = ["a1", "a2", "a2", "a3"].map(String::from).into();
    let asked = RefCell::new(Vec::new());
    let got = block(repo.get_many_or_fetch(&ids, WriteOptions::default(), |missing| {
        asked.borrow_mut().extend(missing.into_iter().cloned());
        std::future::ready(Ok(vec![account("a2", "b@x"), account("zz", "z@x")]))
    }))
    .unwrap();
    assert_eq!(*asked.borrow(), ["a2", "a2", "a3"]);
    let got: Vec<Option<&str>> = got.iter().map(|a| a.as_ref().map(|a| a.id.as_str())).collect();
    assert_eq!(got, [Some("a1"), Some("a2"), Some("a2"), None], "a repeated id is filled at each place");
    assert!(block(repo.get(&"zz".into())).unwrap().is_none(), "an id not asked for is not written");

    // Every put failing is an error; none is swallowed. Operations: the
    // bulk read, the put's own read, then the record's write, which fails.
    let faulty = Faulty::new(MemoryStore::new());
    faulty.fail_at(2, Fault::Before);
    let frepo = Account::repo(&faulty);
    let failed = block(frepo.get_many_or_fetch(&ids[1..2], WriteOptions::default(), |_| {
        std::future::ready(Ok(vec![account("a2", "b@x")]))
    }));
    assert!(failed.is_err(), "{failed:?}");
}
