//! Strict unique indexes: values claimed on the coordinator.
//!
//! The fault matrix of `faults.rs`, on a model whose email is strict, with
//! faults at every position of the call's KV operations *and* coordinator
//! requests (fails before, fails after, stalls forever). After each fault:
//!
//! (a) no two live records carry one strict value, and the coordinator's
//!     holder of each value a live record carries is that record;
//! (b) once a dead writer's claims have settled (lease + settle time), a
//!     value no live record carries can be created, and one a live record
//!     carries cannot;
//! (c) no committed record is lost;
//!
//! and the retry reaches the state asked for.

#[path = "support.rs"]
mod support;

use kvgen::coord::{Cell, LEASE_MS, SETTLE_MS};
use kvgen::{Error, Fault, Faulty, KvStore, ManualClock, MemoryStore, Metered, Repo};
use pollster::block_on;
use support::{holder, member, member_records as records, Gated, Member};

const EMAILS: [&str; 7] = ["a@x", "a2@x", "b@x", "b2@x", "c@x", "d@x", "e@x"];

fn base(clock: &ManualClock) -> MemoryStore {
    let s = MemoryStore::with_clock(clock.clone());
    let members = Member::repo(&s);
    for m in [member("m1", "a@x", "t1"), member("m2", "b@x", "t1"), member("m3", "c@x", "t2")] {
        block_on(members.create(&m)).unwrap();
    }
    s
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Create,
    PutMoving,
    UpdateMoving,
    UpsertOntoExisting,
    PutOntoHeldValue,
    Delete,
}

const OPS: [Op; 6] =
    [Op::Create, Op::PutMoving, Op::UpdateMoving, Op::UpsertOntoExisting, Op::PutOntoHeldValue, Op::Delete];

impl Op {
    /// The target record's id, its state before, and after success (or
    /// the refusal expected).
    fn target(self) -> (&'static str, Option<Member>, Option<Member>) {
        match self {
            Op::Create => ("m4", None, Some(member("m4", "d@x", "t2"))),
            Op::PutMoving => ("m1", Some(member("m1", "a@x", "t1")), Some(member("m1", "a2@x", "t1"))),
            Op::UpdateMoving => ("m2", Some(member("m2", "b@x", "t1")), Some(member("m2", "b2@x", "t2"))),
            Op::UpsertOntoExisting => ("m3", Some(member("m3", "c@x", "t2")), Some(member("m3", "c@x", "t3"))),
            // m5 asks for m2's value: refused, m5 never exists.
            Op::PutOntoHeldValue => ("m5", None, None),
            Op::Delete => ("m1", Some(member("m1", "a@x", "t1")), None),
        }
    }

    async fn apply<S: KvStore>(self, s: &S) -> kvgen::Result<()> {
        let members = Member::repo(s);
        let (_, _, after) = self.target();
        match self {
            Op::Create => match members.create(after.as_ref().unwrap()).await {
                Err(Error::AlreadyExists { .. }) => Ok(()),
                other => other,
            },
            Op::PutMoving => members.put(after.as_ref().unwrap()).await,
            Op::UpdateMoving => members.update(after.as_ref().unwrap()).await,
            Op::UpsertOntoExisting => {
                members.upsert_by_email(Member { id: "fresh".into(), ..after.unwrap() }).await.map(|_| ())
            }
            Op::PutOntoHeldValue => match members.put(&member("m5", "b@x", "t1")).await {
                Err(Error::UniqueViolation { .. }) => Ok(()),
                Ok(()) => panic!("m5 took m2's strict value"),
                Err(e) => Err(e),
            },
            Op::Delete => members.delete(&"m1".to_string()).await.map(|_| ()),
        }
    }
}

fn check(s: &MemoryStore, clock: &ManualClock, op: Op, case: &str) {
    let live = records(s);
    // (c) No committed record lost: the others as they were, the target old or new.
    let (target, before, after) = op.target();
    for (id, m) in records(&base(&ManualClock::new(clock_now(clock)))) {
        if id != target {
            assert_eq!(live.get(&id), Some(&m), "{case}: record {id} lost or changed");
        }
    }
    let now = live.get(target);
    assert!(now == before.as_ref() || now == after.as_ref(), "{case}: target is {now:?}");
    // (a) One live record per strict value, and it is the coordinator's holder.
    for email in EMAILS {
        let carriers: Vec<&String> = live.values().filter(|m| m.email == email).map(|m| &m.id).collect();
        assert!(carriers.len() <= 1, "{case}: {email} carried by {carriers:?}");
        if let [id] = carriers[..] {
            assert_eq!(holder(s, email).as_ref(), Some(id), "{case}: {email}");
        }
    }
    // (b) After the lease and the settle time, every value is free exactly
    // when no live record carries it (probed on copies).
    let later = s.fork();
    clock.advance((LEASE_MS + SETTLE_MS) / 1000);
    for email in EMAILS {
        let probe = later.fork();
        let created = block_on(Member::repo(&probe).create(&member("probe", email, "tp")));
        let carried = live.values().any(|m| m.email == email);
        match (carried, &created) {
            (true, Err(Error::UniqueViolation { .. })) | (false, Ok(())) => {}
            _ => panic!("{case}: creating {email} (carried: {carried}) gave {created:?}"),
        }
    }
    clock.set(clock_now(clock) - (LEASE_MS + SETTLE_MS) / 1000);
}

fn clock_now(clock: &ManualClock) -> u64 {
    kvgen::Clock::now(clock)
}

#[test]
fn strict_fault_matrix() {
    let (mut runs, mut failed, mut stalled) = (0, 0, 0);
    let mut sizes = Vec::new();
    for op in OPS {
        let clock = ManualClock::new(1_800_000_000);
        let probe = Metered::new(Faulty::new(base(&clock)));
        block_on(op.apply(&probe)).unwrap();
        let n = probe.inner().operations();
        sizes.push(format!("{op:?}={n} ({} coordinator)", probe.ops().coordinations));
        for position in 1..=n {
            for kind in [Fault::Before, Fault::After, Fault::Timeout] {
                runs += 1;
                let case = format!("{op:?}, {kind:?} at operation {position} of {n}");
                let store = base(&clock);
                let faulty = Faulty::new(store.clone());
                faulty.fail_at(position, kind);
                match Faulty::drive(op.apply(&faulty)) {
                    None => stalled += 1,
                    Some(Err(_)) => failed += 1,
                    Some(Ok(())) => {}
                }
                check(&store, &clock, op, &format!("{case}, after the fault"));
                // The retry reaches the state asked for, once a dead
                // writer's claims have settled at the latest.
                let retried = match block_on(op.apply(&store)) {
                    Err(Error::UniqueViolation { .. }) => {
                        clock.advance((LEASE_MS + SETTLE_MS) / 1000);
                        block_on(op.apply(&store))
                    }
                    other => other,
                };
                retried.unwrap_or_else(|e| panic!("{case}: retry failed: {e}"));
                let (target, _, after) = op.target();
                assert_eq!(records(&store).get(target), after.as_ref(), "{case}: after the retry");
                check(&store, &clock, op, &format!("{case}, after the retry"));
                let report = block_on(Repo::<Member, _>::new(&store).repair()).unwrap();
                assert_eq!(report.conflicts + report.unreadable, 0, "{case}: {report}");
                clock.set(1_800_000_000);
            }
        }
    }
    println!(
        "strict fault matrix: {} operations ({}) x every position x 3 fault kinds = {runs} runs; {failed} calls failed, {stalled} stalled",
        OPS.len(),
        sizes.join(", ")
    );
    assert!(runs > 100, "{runs}");
}

#[test]
fn a_store_without_a_coordinator_refuses_strict_writes_before_any_operation() {
    struct Plain(MemoryStore);
    impl KvStore for Plain {
        async fn get(&self, key: &str) -> kvgen::Result<Option<kvgen::Entry>> {
            self.0.get(key).await
        }
        async fn get_many(&self, keys: &[String]) -> kvgen::Result<Vec<Option<kvgen::Entry>>> {
            self.0.get_many(keys).await
        }
        async fn put(&self, key: &str, value: &[u8], options: &kvgen::PutOptions) -> kvgen::Result<()> {
            self.0.put(key, value, options).await
        }
        async fn delete(&self, key: &str) -> kvgen::Result<()> {
            self.0.delete(key).await
        }
        async fn list(&self, options: &kvgen::ListOptions) -> kvgen::Result<kvgen::ListResult> {
            self.0.list(options).await
        }
        fn now(&self) -> u64 {
            self.0.now()
        }
    }
    let store = Metered::new(Plain(MemoryStore::new()));
    let created = block_on(Member::repo(&store).create(&member("m1", "a@x", "t")));
    assert!(matches!(created, Err(Error::NoCoordinator { model: "member" })), "{created:?}");
    assert_eq!(store.ops().total(), 0);
}

#[test]
fn a_claim_left_by_a_dead_writer_blocks_its_value_for_lease_plus_settle_time_at_most() {
    let clock = ManualClock::new(1_800_000_000);
    let store = MemoryStore::with_clock(clock.clone());
    let faulty = Faulty::new(store.clone());
    // The writer dies right after its claim is granted (1 bulk read, 1
    // claim, then its first KV write stalls): nothing on KV.
    faulty.fail_at(3, Fault::Timeout);
    assert!(Faulty::drive(Member::repo(&faulty).create(&member("dead", "v@x", "t"))).is_none());
    assert_eq!(holder(&store, "v@x").as_deref(), Some("dead"));
    let members = Member::repo(&store);
    let secs = (LEASE_MS + SETTLE_MS) / 1000;
    clock.advance(secs - 1);
    let early = block_on(members.create(&member("next", "v@x", "t")));
    assert!(matches!(early, Err(Error::UniqueViolation { ref holder, .. }) if holder == "dead"), "{early:?}");
    clock.advance(1);
    block_on(members.create(&member("next", "v@x", "t"))).unwrap();
    assert_eq!(holder(&store, "v@x").as_deref(), Some("next"));
}

#[test]
fn a_settled_claim_whose_record_carries_the_value_is_confirmed_not_taken() {
    let clock = ManualClock::new(1_800_000_000);
    let store = MemoryStore::with_clock(clock.clone());
    let faulty = Faulty::new(store.clone());
    // The writer dies after writing its record, before committing its
    // claim (the last operation of a create).
    let probe = Faulty::new(MemoryStore::with_clock(clock.clone()));
    block_on(Member::repo(&probe).create(&member("w", "w@x", "t"))).unwrap();
    let commit_at = probe.operations();
    faulty.fail_at(commit_at, Fault::Timeout);
    assert!(Faulty::drive(Member::repo(&faulty).create(&member("w", "w@x", "t"))).is_none());
    assert!(matches!(store.coordination().cell("APP/member.email:w@x"), Some(Cell::Claim { committed: false, .. })));
    clock.advance((LEASE_MS + SETTLE_MS) / 1000);
    // Without the unique entry (not visible at this location), KV's own check
    // passes: the coordinator's settled claim is checked against the record.
    block_on(store.delete("member.email:w@x")).unwrap();
    let members = Member::repo(&store);
    let taken = block_on(members.create(&member("other", "w@x", "t")));
    assert!(matches!(taken, Err(Error::UniqueViolation { ref holder, .. }) if holder == "w"), "{taken:?}");
    // Confirmed on the dead writer's behalf.
    assert!(matches!(store.coordination().cell("APP/member.email:w@x"), Some(Cell::Claim { committed: true, .. })));
}

#[test]
fn strict_writes_cost_one_or_two_coordinator_requests_per_value() {
    let store = Metered::new(MemoryStore::new());
    let members = Member::repo(&store);
    let count = |f: &dyn Fn()| {
        store.reset();
        f();
        store.ops()
    };
    let create = count(&|| block_on(members.create(&member("m1", "a@x", "t"))).unwrap());
    assert_eq!((create.coordinations, create.writes), (2, 3), "{create}");
    let keep = count(&|| block_on(members.put(&member("m1", "a@x", "t2"))).unwrap());
    assert_eq!(keep.coordinations, 1, "{keep}");
    let moving = count(&|| block_on(members.put(&member("m1", "b@x", "t2"))).unwrap());
    assert_eq!(moving.coordinations, 3, "claim + commit + release: {moving}");
    let delete = count(&|| assert!(block_on(members.delete(&"m1".to_string())).unwrap()));
    assert_eq!(delete.coordinations, 1, "{delete}");
    let refused = count(&|| {
        block_on(members.create(&member("m2", "c@x", "t"))).unwrap();
        let e = block_on(members.create(&member("m3", "c@x", "t")));
        assert!(matches!(e, Err(Error::UniqueViolation { .. })));
    });
    assert_eq!(refused.coordinations, 2, "the refused create is stopped by KV's view first: {refused}");
    let reads = count(&|| assert!(block_on(members.find_by_email("c@x")).unwrap().is_some()));
    assert_eq!(reads.coordinations, 0, "reads stay on KV: {reads}");
}

#[test]
fn a_value_released_while_another_writer_of_the_record_writes_it_is_not_taken() {
    use kvgen::coord::{Request, Response};
    let clock = ManualClock::new(1_800_000_000);
    let store = MemoryStore::with_clock(clock.clone());
    let members = Member::repo(&store);
    block_on(members.create(&member("x", "v@x", "t"))).unwrap();
    // Writer A puts x keeping v@x: its claim is reaffirmed, then it is slow.
    clock.advance(1);
    let cell = "APP/member.email:v@x";
    let held = store.coordination().apply_now(cell, &Request::Claim { holder: "x".into(), lease_ms: LEASE_MS });
    assert!(matches!(held, Response::Held { .. }), "{held:?}");
    // Writer B moves x to w@x and releases v@x.
    clock.advance(1);
    block_on(members.put(&member("x", "w@x", "t"))).unwrap();
    // A's record lands last: x carries v@x again.
    let a = serde_json::to_string(&member("x", "v@x", "t")).unwrap();
    block_on(store.put(
        "member:x",
        a.as_bytes(),
        &kvgen::PutOptions { metadata: Some(serde_json::json!({"$exp": null})), ..Default::default() },
    ))
    .unwrap();
    // Nobody else gets v@x: not at once, nor once the release has settled
    // (KV shows x carrying it, so the claim is confirmed).
    clock.advance(1);
    for wait in [0, (LEASE_MS + SETTLE_MS) / 1000] {
        clock.advance(wait);
        let y = block_on(members.create(&member("y", "v@x", "t")));
        assert!(matches!(y, Err(Error::UniqueViolation { ref holder, .. }) if holder == "x"), "after {wait} s: {y:?}");
        assert_eq!(holder(&store, "v@x").as_deref(), Some("x"));
    }
}

/// Random histories of concurrent writers (creates, puts, updates and
/// deletes of three records over three emails, three writers in flight at
/// a time, stepped one operation at a time in a seeded random order, writers
/// of one record racing each other included). After each history: no two
/// live records carry one email, each carried email's claim is its
/// record's, and once claims have settled an email can be created exactly
/// when no live record carries it.
#[test]
fn random_concurrent_histories_keep_strict_values_single() {
    const IDS: [&str; 3] = ["x", "y", "z"];
    const VALUES: [&str; 3] = ["p@x", "q@x", "r@x"];
    let histories: u64 = std::env::var("KVGEN_STRICT_HISTORIES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let (mut calls, mut succeeded, mut steps) = (0u64, 0u64, 0u64);
    for seed in 1..=histories {
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let clock = ManualClock::new(1_800_000_000);
        let store = MemoryStore::with_clock(clock.clone());
        let turns: Vec<std::cell::Cell<bool>> = (0..3).map(|_| std::cell::Cell::new(false)).collect();
        let stores: Vec<Gated<'_>> = turns.iter().map(|t| Gated { inner: &store, turn: t }).collect();
        type Call<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = kvgen::Result<()>> + 'a>>;
        let mut flying: Vec<Option<Call<'_>>> = vec![None, None, None];
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut started = 0;
        while started < 12 || flying.iter().any(Option::is_some) {
            let w = next(3) as usize;
            if flying[w].is_none() {
                if started >= 12 {
                    continue;
                }
                started += 1;
                calls += 1;
                let repo = Member::repo(&stores[w]);
                let m = member(IDS[next(3) as usize], VALUES[next(3) as usize], "t");
                let call: Call<'_> = match next(4) {
                    0 => Box::pin(async move { repo.create(&m).await }),
                    1 => Box::pin(async move { repo.put(&m).await }),
                    2 => Box::pin(async move { repo.update(&m).await }),
                    _ => Box::pin(async move { repo.delete(&m.id).await.map(|_| ()) }),
                };
                flying[w] = Some(call);
            } else {
                turns[w].set(true);
                steps += 1;
            }
            if let Some(call) = flying[w].as_mut() {
                if let std::task::Poll::Ready(out) = call.as_mut().poll(&mut cx) {
                    flying[w] = None;
                    match out {
                        Ok(()) => succeeded += 1,
                        Err(Error::UniqueViolation { .. } | Error::AlreadyExists { .. } | Error::NotFound { .. }) => {}
                        Err(e) => panic!("seed {seed}: {e}"),
                    }
                }
            }
        }
        drop(flying);
        let live = records(&store);
        for email in VALUES {
            let carriers: Vec<&String> = live.values().filter(|m| m.email == email).map(|m| &m.id).collect();
            assert!(carriers.len() <= 1, "seed {seed}: {email} carried by {carriers:?}");
            if let [id] = carriers[..] {
                assert_eq!(holder(&store, email).as_ref(), Some(id), "seed {seed}: {email}");
            }
        }
        clock.advance((LEASE_MS + SETTLE_MS) / 1000);
        for email in VALUES {
            let probe = store.fork();
            let created = block_on(Member::repo(&probe).create(&member("probe", email, "t")));
            let carried = live.values().any(|m| m.email == email);
            match (carried, &created) {
                (true, Err(Error::UniqueViolation { .. })) | (false, Ok(())) => {}
                _ => panic!("seed {seed}: creating {email} (carried: {carried}) gave {created:?}"),
            }
        }
    }
    println!(
        "{histories} random histories of 12 concurrent strict writes: {calls} calls, {succeeded} succeeded, {steps} interleaved steps"
    );
    assert!(succeeded > calls / 4, "{succeeded} of {calls}");
}

#[test]
fn locks_limits_and_settled_claims_cost_what_the_readme_says() {
    let clock = ManualClock::new(1_800_000_000);
    let store = Metered::new(MemoryStore::with_clock(clock.clone()));
    let lock = kvgen::Lock::new(&store, "job", "t1", 10_000);
    assert!(block_on(lock.try_acquire()).unwrap().is_some());
    assert!(block_on(lock.release()).unwrap());
    let limiter = kvgen::RateLimiter::fixed(&store, "api", 5, 60_000);
    assert!(block_on(limiter.hit("u1")).unwrap().allowed);
    let ops = store.reset();
    assert_eq!((ops.coordinations, ops.total()), (3, 0), "1 request per acquire, release and hit: {ops}");
    // A value released by another record, claimed once the holder's lease
    // has settled: 1 more request and 1 read (the holder's record) than a create.
    let members = Member::repo(&store);
    block_on(members.create(&member("m1", "a@x", "t"))).unwrap();
    block_on(members.put(&member("m1", "b@x", "t"))).unwrap();
    clock.advance((LEASE_MS + SETTLE_MS) / 1000);
    store.reset();
    block_on(members.create(&member("m2", "a@x", "t"))).unwrap();
    let taken = store.reset();
    block_on(members.create(&member("m3", "c@x", "t"))).unwrap();
    let fresh = store.reset();
    assert_eq!(taken.coordinations, fresh.coordinations + 1, "taken {taken}, fresh {fresh}");
    assert_eq!(taken.reads, fresh.reads + 1, "taken {taken}, fresh {fresh}");
}

#[test]
fn batches_claim_and_release_strict_values_per_record() {
    let store = MemoryStore::new();
    let members = Member::repo(&store);
    let out =
        block_on(members.create_many(&[member("m1", "a@x", "t"), member("m2", "a@x", "t"), member("m3", "c@x", "t")]))
            .unwrap();
    assert!(out[0].is_ok() && out[2].is_ok(), "{out:?}");
    assert!(matches!(out[1], Err(Error::UniqueViolation { .. })), "{out:?}");
    assert_eq!(holder(&store, "a@x").as_deref(), Some("m1"));
    assert_eq!(holder(&store, "c@x").as_deref(), Some("m3"));
    // Without the index entries, only the coordinator stands in the way.
    block_on(store.delete("member.email:a@x")).unwrap();
    let out = block_on(members.put_many(&[member("m4", "a@x", "t")])).unwrap();
    assert!(matches!(out[0], Err(Error::UniqueViolation { ref holder, .. }) if holder == "m1"), "{out:?}");
    let deleted = block_on(members.delete_many(&["m1".to_string(), "m3".to_string()])).unwrap();
    assert!(deleted.iter().all(|d| matches!(d, Ok(true))), "{deleted:?}");
    for email in ["a@x", "c@x"] {
        let cell = store.coordination().cell(&format!("APP/member.email:{email}"));
        assert!(matches!(cell, Some(Cell::Claim { committed: false, .. })), "{email}: released, {cell:?}");
    }
}

// A delete or a move of a value frees it at once when it began after every
// writer of the record stopped (their leases ended, plus the clock margin);
// otherwise the value waits for the claim to settle, and the refusal says
// how long.

const V: &str = "APP/member.email:v@x";

#[test]
fn a_value_deleted_after_its_writers_stopped_is_free_at_once() {
    let clock = ManualClock::new(support::T0);
    let store = MemoryStore::with_clock(clock.clone());
    let members = Member::repo(&store);
    block_on(members.create(&member("x", "v@x", "t"))).unwrap();
    // The create's lease (30 s) and the clock margin (5 s) are over.
    clock.advance((LEASE_MS + kvgen::coord::MARGIN_MS) / 1000);
    assert!(block_on(members.delete(&"x".to_string())).unwrap());
    assert_eq!(store.coordination().cell(V), None, "the confirmed release frees the cell");
    block_on(members.create(&member("y", "v@x", "t"))).unwrap();
    assert_eq!(holder(&store, "v@x").as_deref(), Some("y"));
    // The same for a value a record moves away from.
    clock.advance((LEASE_MS + kvgen::coord::MARGIN_MS) / 1000);
    block_on(members.put(&member("y", "w@x", "t"))).unwrap();
    block_on(members.create(&member("z", "v@x", "t"))).unwrap();
    assert_eq!(holder(&store, "v@x").as_deref(), Some("z"));
}

#[test]
fn a_value_deleted_while_a_lease_may_still_write_it_waits_and_says_how_long() {
    let clock = ManualClock::new(support::T0);
    let store = MemoryStore::with_clock(clock.clone());
    let members = Member::repo(&store);
    block_on(members.create(&member("x", "v@x", "t"))).unwrap();
    // Deleted 10 s later: another writer of x could still write it back
    // until the lease ends (T0 + 30 s), which only KV would show after 60 s.
    clock.advance(10);
    assert!(block_on(members.delete(&"x".to_string())).unwrap());
    let early = block_on(members.create(&member("y", "v@x", "t")));
    let wait = (LEASE_MS + SETTLE_MS) / 1000 - 10;
    assert!(
        matches!(early, Err(Error::UniqueViolation { ref holder, retry_after: Some(s), .. }) if holder == "x" && s == wait),
        "{early:?}"
    );
    assert!(early.unwrap_err().to_string().ends_with(&format!("; the claim settles in {wait} s")));
    clock.advance(wait - 1);
    let still = block_on(members.create(&member("y", "v@x", "t")));
    assert!(matches!(still, Err(Error::UniqueViolation { retry_after: Some(1), .. })), "{still:?}");
    clock.advance(1);
    block_on(members.create(&member("y", "v@x", "t"))).unwrap();
    // A value a live record holds, checked against KV, has no retry time.
    let held = block_on(members.create(&member("z", "v@x", "t")));
    assert!(matches!(held, Err(Error::UniqueViolation { retry_after: None, .. })), "{held:?}");
}

#[test]
fn a_freed_value_cannot_come_back_through_a_location_that_has_not_seen_the_delete() {
    let clock = ManualClock::new(support::T0);
    let store = MemoryStore::with_clock(clock.clone());
    let members = Member::repo(&store);
    block_on(members.create(&member("x", "v@x", "t"))).unwrap();
    // Past the create's lease, not yet settled: only the confirmed release
    // frees the value now.
    clock.advance(61);
    // Another location sees writes 60 s late: x lives there, and will
    // until a minute after the delete.
    let far = store.lagging(60);
    let far_members = Member::repo(&far);
    assert!(block_on(members.delete(&"x".to_string())).unwrap());
    block_on(members.create(&member("y", "v@x", "t"))).unwrap();
    assert!(block_on(far_members.get(&"x".to_string())).unwrap().is_some(), "the far location lags");
    // A write of x there (a modify, a put of what it read) claims v@x for x
    // again, and the coordinator knows y holds it.
    let back = block_on(far_members.modify(&"x".to_string(), |m| m.team = "t2".into()));
    assert!(matches!(back, Err(Error::UniqueViolation { ref holder, .. }) if holder == "y"), "{back:?}");
    let put = block_on(far_members.put(&member("x", "v@x", "t3")));
    assert!(matches!(put, Err(Error::UniqueViolation { ref holder, .. }) if holder == "y"), "{put:?}");
    // A create there is refused by its own stale view (x, as that location
    // still shows it) until the delete reaches it, then by y's claim.
    let stale = block_on(far_members.create(&member("z", "v@x", "t")));
    assert!(matches!(stale, Err(Error::UniqueViolation { ref holder, .. }) if holder == "x"), "{stale:?}");
    clock.advance(61);
    let late = block_on(far_members.create(&member("z", "v@x", "t")));
    assert!(matches!(late, Err(Error::UniqueViolation { ref holder, .. }) if holder == "y"), "{late:?}");
    assert!(block_on(members.get(&"x".to_string())).unwrap().is_none());
    assert_eq!(holder(&store, "v@x").as_deref(), Some("y"));
    assert!(block_on(members.verify()).unwrap().is_clean());
}

#[test]
fn cells_are_reclaimed_once_their_release_frees_them() {
    let clock = ManualClock::new(support::T0);
    let store = MemoryStore::with_clock(clock.clone());
    let members = Member::repo(&store);
    let gap = (LEASE_MS + kvgen::coord::MARGIN_MS) / 1000;
    for i in 0..1000 {
        let id = format!("m{}", i % 10);
        block_on(members.create(&member(&id, &format!("v{i}@x"), "t"))).unwrap();
        clock.advance(gap);
        assert!(block_on(members.delete(&id)).unwrap());
    }
    assert_eq!(store.coordination().cell_count(), 0, "{:?}", store.coordination().names());
    // A refused create gives its fresh grants back: no cell stays either.
    block_on(members.create(&member("a", "a@x", "t"))).unwrap();
    let lost = block_on(members.create(&member("a", "b@x", "t")));
    assert!(matches!(lost, Err(Error::AlreadyExists { .. })), "{lost:?}");
    assert_eq!(store.coordination().names(), ["APP/member.email:a@x"]);
    // A delete that may race a writer of the record leaves its cell until
    // the next claimant takes it over; that claimant's own delete frees it.
    assert!(block_on(members.delete(&"a".to_string())).unwrap());
    assert_eq!(store.coordination().cell_count(), 1);
    clock.advance((LEASE_MS + SETTLE_MS) / 1000);
    block_on(members.create(&member("b", "a@x", "t"))).unwrap();
    clock.advance(gap);
    assert!(block_on(members.delete(&"b".to_string())).unwrap());
    assert_eq!(store.coordination().cell_count(), 0);
}

/// `modify` is a read, then an `update` (which reads the record again,
/// then writes): KV has no compare-and-set, so a delete landing between the
/// update's read and its record write is undone. Pinned at every position
/// of the delete among modify's operations (KV operations and coordinator
/// requests): before the update's read, `Ok(None)` and nothing written;
/// between it and the record write, the record is written back with its
/// strict value claimed again (its value was freed by the delete, so the
/// claim is fresh); after the write, the delete wins.
#[test]
fn modify_writes_back_a_record_deleted_only_between_its_update_read_and_write() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let mut outcomes = Vec::new();
    for k in 0.. {
        let clock = ManualClock::new(support::T0);
        let store = MemoryStore::with_clock(clock.clone());
        let members = Member::repo(&store);
        block_on(members.create(&member("x", "v@x", "t"))).unwrap();
        clock.advance(100);
        let turn = std::cell::Cell::new(false);
        let gated = Gated { inner: &store, turn: &turn };
        let repo = Member::repo(&gated);
        let x = "x".to_string();
        let mut call = Box::pin(repo.modify(&x, |m| m.team = "t2".into()));
        let mut cx = Context::from_waker(Waker::noop());
        let mut steps = 0;
        let mut done = None;
        let mut deleted = false;
        while done.is_none() {
            if steps == k && !deleted {
                assert!(block_on(members.delete(&"x".to_string())).unwrap());
                deleted = true;
            }
            turn.set(true);
            if let Poll::Ready(r) = call.as_mut().poll(&mut cx) {
                done = Some(r);
            }
            steps += 1;
        }
        if !deleted {
            break; // k is past modify's last operation
        }
        let out = done.unwrap().unwrap();
        let after = block_on(members.get(&"x".to_string())).unwrap();
        outcomes.push(match (out.is_some(), after.is_some()) {
            (false, false) => "none",
            (true, true) => "written back",
            (true, false) => "deleted after",
            (false, true) => panic!("k = {k}: Ok(None), yet x exists"),
        });
        if after.is_some() {
            assert_eq!(holder(&store, "v@x").as_deref(), Some("x"), "k = {k}");
            // The delete removed the email entry the update found in place
            // (the team entry is rewritten, its value changed): the
            // written-back record lacks it until repair puts it back.
            let report = block_on(members.verify()).unwrap();
            assert_eq!((report.missing, report.conflicts), (1, 0), "k = {k}: {report:?}");
            block_on(members.repair()).unwrap();
            assert!(block_on(members.verify()).unwrap().is_clean(), "k = {k}");
        }
        assert!(block_on(members.verify()).unwrap().is_clean(), "k = {k}");
    }
    // Steps: modify's get, the update's bulk read, its claim, the team
    // entry's put, the record's put, then the commit and the tail.
    assert_eq!(outcomes[..6], ["none", "none", "written back", "written back", "written back", "deleted after"]);
    assert_eq!(outcomes[..2], ["none", "none"], "{outcomes:?}");
    let back = outcomes.iter().filter(|o| **o == "written back").count();
    assert!(back >= 1 && outcomes[2..2 + back].iter().all(|o| *o == "written back"), "{outcomes:?}");
    assert!(outcomes[2 + back..].iter().all(|o| *o == "deleted after"), "{outcomes:?}");
}
