//! Attacks on the overlap of a call's operations (`Bounded`, the waves of
//! `write_many`, `together`), on `Rounds` and on `Coalesced`: each test
//! asserts a promise of RELIABILITY.md (rows 15 and 16), docs/costs.md
//! ("Round trips") or the doc comments of `store/flight.rs`,
//! `store/rounds.rs`, `store/coalesce.rs` and `index/exec.rs`. Tests marked
//! `#[ignore = "defect: ..."]` reproduce a defect found.

use blog::User;
use kvgen::{Coalesced, Error, Fault, Faulty, KvStore, MemoryStore, Metered, PutOptions, Rounds};
use pollster::block_on;
use std::collections::BTreeMap;

mod support;
use support::{member, Member};

fn u(id: &str, email: &str, org: &str, handle: &str) -> User {
    User { id: id.into(), email: email.into(), org_id: org.into(), handle: handle.into(), name: format!("n-{id}") }
}

/// Every key of the store with its value and expiration.
fn dump(s: &MemoryStore) -> BTreeMap<String, (Option<String>, Option<u64>)> {
    s.keys().into_iter().map(|k| (k.clone(), (s.raw(&k), s.expiration(&k)))).collect()
}

/// An outcome, comparable: `Ok`, or the error's variant name.
fn kind<T: std::fmt::Debug>(r: &kvgen::Result<T>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("{e:?}").split([' ', '{', '(']).next().unwrap_or_default().to_string(),
    }
}

/// A tiny deterministic generator (no dependency).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Put,
    Create,
}

/// Runs `batch` as one batch on `base`, and one call after the other on a
/// fork of it: the outcomes and every stored key must be the same.
fn batch_equals_sequence(base: &MemoryStore, batch: &[User], mode: Mode, ctx: &str) {
    let seq = base.fork();
    let seq_out: Vec<String> = batch
        .iter()
        .map(|r| {
            let repo = User::repo(&seq);
            kind(&block_on(async {
                match mode {
                    Mode::Put => repo.put(r).await,
                    Mode::Create => repo.create(r).await,
                }
            }))
        })
        .collect();
    let one = base.fork();
    let repo = User::repo(&one);
    let out = block_on(async {
        match mode {
            Mode::Put => repo.put_many(batch).await,
            Mode::Create => repo.create_many(batch).await,
        }
    })
    .unwrap();
    let batch_out: Vec<String> = out.iter().map(kind).collect();
    assert_eq!(batch_out, seq_out, "{ctx}: outcomes differ\nbatch {batch:?}");
    assert_eq!(dump(&one), dump(&seq), "{ctx}: stored keys differ\nbatch {batch:?}\noutcomes {batch_out:?}");
}

/// The named interactions the brief lists, each checked against the sequence.
#[test]
fn batches_whose_records_interact_end_as_one_call_after_the_other() {
    let base = MemoryStore::new();
    let users = User::repo(&base);
    block_on(users.create(&u("a", "x@x", "o1", "ha"))).unwrap();
    block_on(users.create(&u("b", "y@x", "o1", "hb"))).unwrap();
    let cases: Vec<(&str, Vec<User>)> = vec![
        ("swap two emails", vec![u("a", "y@x", "o1", "ha"), u("b", "x@x", "o1", "hb")]),
        ("b gives up y, then a takes it", vec![u("b", "z@x", "o1", "hb"), u("a", "y@x", "o1", "ha")]),
        ("a takes y, then b gives it up", vec![u("a", "y@x", "o1", "ha"), u("b", "z@x", "o1", "hb")]),
        ("the same id twice", vec![u("a", "p@x", "o1", "ha"), u("a", "q@x", "o2", "ha")]),
        ("same id twice, back to its value", vec![u("a", "p@x", "o1", "ha"), u("a", "x@x", "o1", "ha")]),
        ("a new record takes a's email after a moves", vec![u("a", "p@x", "o1", "ha"), u("c", "x@x", "o1", "hc")]),
        ("a new record takes a's email before a moves", vec![u("c", "x@x", "o1", "hc"), u("a", "p@x", "o1", "ha")]),
        ("a chain of moves", vec![u("b", "z@x", "o1", "hb"), u("a", "y@x", "o1", "ha"), u("c", "x@x", "o1", "hc")]),
        (
            "a chain in the other order",
            vec![u("c", "x@x", "o1", "hc"), u("a", "y@x", "o1", "ha"), u("b", "z@x", "o1", "hb")],
        ),
        ("handles swap in one org", vec![u("a", "x@x", "o1", "hb"), u("b", "y@x", "o1", "ha")]),
        ("a leaves the org, c takes its handle", vec![u("a", "x@x", "o2", "ha"), u("c", "c@x", "o1", "ha")]),
        ("two new records, one email", vec![u("c", "n@x", "o1", "hc"), u("d", "n@x", "o1", "hd")]),
    ];
    for (name, batch) in &cases {
        batch_equals_sequence(&base, batch, Mode::Put, name);
        batch_equals_sequence(&base, batch, Mode::Create, name);
    }
}

/// A store holding a few users and corruption: a record that is not a
/// `User`, an entry naming a record that does not carry its value, and an
/// entry naming no record.
fn corrupted() -> MemoryStore {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&u("a", "e0@x", "o1", "h0"))).unwrap();
    block_on(users.create(&u("b", "e1@x", "o1", "h1"))).unwrap();
    support::raw_put(&s, "user:c", "not a user");
    support::raw_put(&s, "user.email:e2@x", "a"); // a does not carry e2
    support::raw_put(&s, "user.email:e3@x", "ghost"); // no such record
    support::raw_put(&s, "user.email:e4@x", "c"); // held by the unreadable record
    s
}

/// Random batches of 2 to 6 users over 4 ids, 5 emails, 2 orgs and 3
/// handles, on a store with corruption, as `put_many` and `create_many`.
#[test]
fn random_batches_end_as_one_call_after_the_other() {
    let mut g = Lcg(0x5eed);
    for base in [MemoryStore::new(), corrupted()] {
        for round in 0..1500 {
            let n = 2 + g.pick(5) as usize;
            let batch: Vec<User> = (0..n)
                .map(|_| {
                    let id = ["a", "b", "c", "d"][g.pick(4) as usize];
                    u(id, &format!("e{}@x", g.pick(5)), ["o1", "o2"][g.pick(2) as usize], &format!("h{}", g.pick(3)))
                })
                .collect();
            let mode = if g.pick(2) == 0 { Mode::Put } else { Mode::Create };
            batch_equals_sequence(&base, &batch, mode, &format!("round {round} {mode:?}"));
        }
    }
}

/// Random batches applied on top of each other (the store evolves), each
/// checked against the sequence.
#[test]
fn random_batches_on_an_evolving_store_end_as_one_call_after_the_other() {
    let mut g = Lcg(42);
    let store = corrupted();
    for round in 0..800 {
        let n = 1 + g.pick(7) as usize;
        let batch: Vec<User> = (0..n)
            .map(|_| {
                let id = ["a", "b", "c", "d", "e"][g.pick(5) as usize];
                u(id, &format!("e{}@x", g.pick(5)), ["o1", "o2"][g.pick(2) as usize], &format!("h{}", g.pick(3)))
            })
            .collect();
        batch_equals_sequence(&store, &batch, Mode::Put, &format!("round {round}"));
        let _ = block_on(User::repo(&store).put_many(&batch)).unwrap();
        if g.pick(4) == 0 {
            let ids: Vec<String> =
                (0..1 + g.pick(3)).map(|_| ["a", "b", "c", "d", "e"][g.pick(5) as usize].into()).collect();
            // delete_many against deletes one after the other.
            let seq = store.fork();
            let seq_out: Vec<String> = ids.iter().map(|id| kind(&block_on(User::repo(&seq).delete(id)))).collect();
            let out = block_on(User::repo(&store).delete_many(&ids)).unwrap();
            let out: Vec<String> = out.iter().map(kind).collect();
            assert_eq!(out, seq_out, "round {round}: delete_many {ids:?}");
            assert_eq!(dump(&store), dump(&seq), "round {round}: delete_many {ids:?}");
        }
    }
}

/// The most in flight in one round of `call`, on a store allowing `limit`.
fn most_in_flight<T>(s: &Rounds<MemoryStore>, call: impl std::future::Future<Output = T>) -> (T, kvgen::RoundTrips) {
    s.reset();
    let out = s.run(call);
    (out, s.trips())
}

#[test]
fn big_batches_keep_at_most_six_in_flight() {
    let s = Rounds::new(MemoryStore::new());
    let users: Vec<User> = (0..300).map(|i| u(&format!("u{i}"), &format!("{i}@x"), "o1", &format!("h{i}"))).collect();
    let (out, t) = most_in_flight(&s, User::repo(&s).create_many(&users));
    assert!(out.unwrap().iter().all(Result::is_ok));
    assert!(t.most_in_flight <= 6 && t.most_in_flight >= 5, "{t:?}");
    let moved: Vec<User> = users.iter().map(|x| User { email: format!("m{}", x.email), ..x.clone() }).collect();
    let (out, t) = most_in_flight(&s, User::repo(&s).put_many(&moved));
    assert!(out.unwrap().iter().all(Result::is_ok));
    assert!(t.most_in_flight <= 6, "{t:?}");
    let ids: Vec<String> = users.iter().map(|x| x.id.clone()).collect();
    let (out, t) = most_in_flight(&s, User::repo(&s).get_many(&ids));
    assert_eq!(out.unwrap().len(), 300);
    assert!(t.most_in_flight <= 6, "{t:?}");
    let (out, t) = most_in_flight(&s, User::repo(&s).delete_many(&ids));
    assert!(out.unwrap().iter().all(|r| matches!(r, Ok(true))));
    assert!(t.most_in_flight <= 6, "{t:?}");
    assert!(s.inner().keys().is_empty(), "{:?}", s.inner().keys());
}

#[test]
fn a_store_allowing_two_keeps_every_batch_at_two() {
    let s = Rounds::new(MemoryStore::new().with_max_in_flight(2));
    let users: Vec<User> = (0..40).map(|i| u(&format!("u{i}"), &format!("{i}@x"), "o1", &format!("h{i}"))).collect();
    let (_, t) = most_in_flight(&s, User::repo(&s).create_many(&users));
    assert_eq!(t.most_in_flight, 2, "{t:?}");
    let ids: Vec<String> = users.iter().map(|x| x.id.clone()).collect();
    let (_, t) = most_in_flight(&s, User::repo(&s).delete_many(&ids));
    assert_eq!(t.most_in_flight, 2, "{t:?}");
}

/// A strict model's batch: each write claims its value on the coordinator,
/// and `Rounds` counts coordinator requests as round trips (a Durable Object
/// request on Workers, which takes one of the six connections).
#[test]
fn a_strict_batch_keeps_at_most_six_in_flight() {
    let s = Rounds::new(MemoryStore::new());
    let members: Vec<Member> = (0..30).map(|i| member(&format!("m{i}"), &format!("{i}@x"), "t")).collect();
    let (out, t) = most_in_flight(&s, Member::repo(&s).create_many(&members));
    assert!(out.unwrap().iter().all(Result::is_ok));
    assert!(t.most_in_flight <= 6, "create_many of 30 strict members: {t:?}");
}

#[test]
fn a_strict_delete_many_keeps_at_most_six_in_flight() {
    let s = Rounds::new(MemoryStore::new());
    let members: Vec<Member> = (0..30).map(|i| member(&format!("m{i}"), &format!("{i}@x"), "t")).collect();
    for m in &members {
        block_on(Member::repo(&s).create(m)).unwrap();
    }
    let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    let (out, t) = most_in_flight(&s, Member::repo(&s).delete_many(&ids));
    assert!(out.unwrap().iter().all(|r| matches!(r, Ok(true))));
    assert!(t.most_in_flight <= 6, "delete_many of 30 strict members: {t:?}");
}

/// Two repository calls joined on one store: each is a call with its own
/// bound, and both end (no deadlock between their places).
#[test]
fn joined_calls_on_one_store_both_end() {
    let s = Rounds::new(MemoryStore::new().with_max_in_flight(1));
    let a: Vec<User> = (0..20).map(|i| u(&format!("a{i}"), &format!("a{i}@x"), "o1", &format!("ha{i}"))).collect();
    let b: Vec<User> = (0..20).map(|i| u(&format!("b{i}"), &format!("b{i}@x"), "o1", &format!("hb{i}"))).collect();
    let (ra, rb) = s.run(futures_util::future::join(User::repo(&s).create_many(&a), User::repo(&s).create_many(&b)));
    assert!(ra.unwrap().iter().chain(rb.unwrap().iter()).all(Result::is_ok));
    assert!(block_on(User::repo(&s).verify()).unwrap().is_clean());
    // Joined calls are separate calls: each bounded to one, two together.
    assert_eq!(s.trips().most_in_flight, 2, "{:?}", s.trips());
}

/// Has-many of many parents: their listings run together, six at most.
#[test]
fn has_many_of_many_parents_keeps_at_most_six_in_flight() {
    use blog::{Post, PostStatus};
    let s = Rounds::new(MemoryStore::new());
    let users: Vec<User> = (0..40).map(|i| u(&format!("u{i:02}"), &format!("{i}@x"), "o1", &format!("h{i}"))).collect();
    block_on(User::repo(&s).create_many(&users)).unwrap();
    let posts: Vec<Post> = (0..200u64)
        .map(|i| Post {
            id: i,
            author_id: format!("u{:02}", i % 40),
            status: PostStatus::Published,
            title: format!("t{i}"),
            body: "b".into(),
        })
        .collect();
    block_on(Post::repo(&s).create_many(&posts)).unwrap();
    let (out, t) = most_in_flight(&s, User::repo(&s).load_posts(&users));
    let out = out.unwrap();
    assert_eq!(out.len(), 40);
    assert!(out.iter().all(|ps| ps.len() == 5), "{:?}", out.iter().map(Vec::len).collect::<Vec<_>>());
    assert!(t.most_in_flight <= 6, "{t:?}");
    // ceil(40/6) = 7 rounds of lists, then 200 children: 2 bulk reads together.
    assert_eq!(t.rounds, 8, "{t:?}");
}

// ---------------------------------------------------------------------------
// Faults inside the groups of a batch whose records interact.

/// The users the store holds, by id, from their raw values (unreadable ones skipped).
fn users_of(s: &MemoryStore) -> BTreeMap<String, User> {
    s.keys()
        .into_iter()
        .filter(|k| k.starts_with("user:"))
        .filter_map(|k| serde_json::from_str::<User>(&s.raw(&k)?).ok())
        .map(|r| (r.id.clone(), r))
        .collect()
}

/// What RELIABILITY.md promises after any failed call: every record is
/// either as it was or as some write of the batch made it; every live
/// record is found by each of its unique values and holds them against an
/// intruder; each of its entries lasts at least as long as it; repair
/// leaves verify clean.
fn check_after_fault(s: &MemoryStore, before: &BTreeMap<String, User>, batch: &[User], case: &str) {
    let live = users_of(s);
    for (id, r) in &live {
        let allowed = before.get(id) == Some(r) || batch.iter().any(|b| b == r);
        assert!(allowed, "{case}: {id} is {r:?}");
    }
    for (id, r) in before {
        if !batch.iter().any(|b| &b.id == id) {
            assert_eq!(live.get(id), Some(r), "{case}: {id} lost or changed");
        }
    }
    let repo = kvgen::Repo::<User, _>::new(s);
    for r in live.values() {
        assert_eq!(block_on(User::repo(s).find_by_email(&r.email)).unwrap().as_ref(), Some(r), "{case}: by email");
        assert_eq!(
            block_on(User::repo(s).find_by_org_id_and_handle(&r.org_id, &r.handle)).unwrap().as_ref(),
            Some(r),
            "{case}: by org and handle"
        );
        let intruder = u("intruder", &r.email, "oi", "hi");
        let fork = s.fork();
        assert!(
            matches!(block_on(User::repo(&fork).create(&intruder)), Err(Error::UniqueViolation { .. })),
            "{case}: {}'s email not held",
            r.id
        );
        let rec_exp = s.expiration(&format!("user:{}", r.id));
        for i in 0..3 {
            let key = repo.index_key(r, i).unwrap();
            assert!(s.raw(&key).is_some(), "{case}: {key} of {} missing", r.id);
            let ok = match (s.expiration(&key), rec_exp) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(e), Some(r)) => e >= r,
            };
            assert!(ok, "{case}: {key} expires {:?}, before its record ({rec_exp:?})", s.expiration(&key));
        }
    }
    let report = block_on(repo.repair()).unwrap();
    assert_eq!(report.conflicts + report.unreadable, 0, "{case}: {report}");
    assert!(block_on(repo.verify()).unwrap().is_clean(), "{case}: not clean after repair");
}

#[test]
fn faults_in_the_groups_of_interacting_batches_keep_the_invariants() {
    let (base, _clock) = support::clocked();
    let users = User::repo(&base);
    block_on(users.create(&u("a", "x@x", "o1", "ha"))).unwrap();
    block_on(users.create_with(&u("b", "y@x", "o1", "hb"), kvgen::WriteOptions::ttl(7200))).unwrap();
    block_on(users.create(&u("d", "w@x", "o2", "hd"))).unwrap();
    let batches: Vec<Vec<User>> = vec![
        vec![u("b", "z@x", "o1", "hb"), u("a", "y@x", "o1", "ha"), u("c", "x@x", "o1", "hc")],
        vec![u("a", "p@x", "o2", "ha"), u("a", "x@x", "o1", "hz"), u("d", "p@x", "o2", "hd")],
        vec![
            u("a", "y@x", "o1", "hb"),
            u("b", "x@x", "o1", "ha"),
            u("e", "e@x", "o1", "he"),
            u("d", "q@x", "o1", "hd"),
        ],
    ];
    let mut runs = 0;
    for batch in &batches {
        for opts in [kvgen::WriteOptions::default(), kvgen::WriteOptions::ttl(3600), kvgen::WriteOptions::ttl(100_000)]
        {
            let probe = Faulty::new(base.fork());
            block_on(User::repo(&probe).put_many_with(batch, opts)).unwrap();
            let n = probe.operations();
            for at in 1..=n {
                for fault in [Fault::Before, Fault::After, Fault::Timeout] {
                    runs += 1;
                    let s = base.fork();
                    let before = users_of(&s);
                    let faulty = Faulty::new(s.clone());
                    faulty.fail_at(at, fault);
                    let _ = Faulty::drive(User::repo(&faulty).put_many_with(batch, opts));
                    let case = format!("{batch:?} {opts:?}: {fault:?} at {at} of {n}");
                    check_after_fault(&s, &before, batch, &case);
                }
            }
        }
    }
    assert!(runs > 300, "{runs}");
}

// ---------------------------------------------------------------------------
// Coalesced.

fn text(e: &Option<kvgen::Entry>) -> Option<String> {
    e.as_ref().map(|e| String::from_utf8_lossy(&e.value).into_owned())
}

fn keys(ks: &[&str]) -> Vec<String> {
    ks.iter().map(|k| k.to_string()).collect()
}

#[test]
fn coalesced_answers_each_request_its_own_keys_in_order() {
    let s = Coalesced::new(Metered::new(MemoryStore::new()));
    for i in 0..150 {
        block_on(s.put(&format!("k{i}"), format!("v{i}").as_bytes(), &PutOptions::default())).unwrap();
    }
    let a: Vec<String> = (0..100).rev().map(|i| format!("k{i}")).collect(); // 100 keys, reversed
    let b = keys(&["k5", "k5", "missing", "k149", "k5"]); // duplicates and a missing key
    let c: Vec<String> = (0..120).map(|i| format!("k{i}")).collect(); // more than KV takes in one bulk read
    let d: Vec<String> = (50..150).map(|i| format!("k{i}")).collect();
    let (ra, rb, rc, rd) =
        block_on(futures_util::future::join4(s.get_many(&a), s.get_many(&b), s.get_many(&c), s.get_many(&d)));
    let ra: Vec<Option<String>> = ra.unwrap().iter().map(text).collect();
    assert_eq!(ra, (0..100).rev().map(|i| Some(format!("v{i}"))).collect::<Vec<_>>());
    let rb: Vec<Option<String>> = rb.unwrap().iter().map(text).collect();
    assert_eq!(rb, vec![Some("v5".into()), Some("v5".into()), None, Some("v149".into()), Some("v5".into())]);
    // A request KV would refuse is refused as it is alone, and fails no other.
    assert!(matches!(rc, Err(Error::BulkLimit { count: 120 })), "{rc:?}");
    let rd: Vec<Option<String>> = rd.unwrap().iter().map(text).collect();
    assert_eq!(rd, (50..150).map(|i| Some(format!("v{i}"))).collect::<Vec<_>>());
    // 151 distinct keys: 2 bulk reads; and the refused request of 120, passed through alone.
    assert_eq!((s.inner().ops().bulk_reads, s.inner().ops().bulk_keys), (3, 151 + 120), "{:?}", s.inner().ops());
    // An empty request is answered as the store alone answers it.
    let alone = format!("{:?}", block_on(s.inner().inner().get_many(&[])));
    assert_eq!(format!("{:?}", block_on(s.get_many(&[]))), alone);
}

/// A read issued after a write, while an earlier batch is being read, sees
/// the write: it is not answered by the earlier batch.
#[test]
fn coalesced_a_read_after_a_write_is_never_answered_by_an_earlier_read() {
    let s = Coalesced::new(Rounds::new(MemoryStore::new()));
    block_on(s.put("k", b"old", &PutOptions::default())).unwrap();
    let (first, second) = s.inner().run(async {
        let ks = keys(&["k"]);
        futures_util::future::join(s.get_many(&ks), async {
            s.put("k", b"new", &PutOptions::default()).await.unwrap();
            s.get_many(&ks).await
        })
        .await
    });
    // The first read overlaps the write: either answer is right.
    assert!(matches!(text(&first.unwrap()[0]).as_deref(), Some("old" | "new")));
    // The second was issued after the write answered: it must see it.
    assert_eq!(text(&second.unwrap()[0]).as_deref(), Some("new"));
}

/// Repository calls nested in a join through `Coalesced`: a batch write and
/// reads joined end and answer as they do alone.
#[test]
fn coalesced_joined_repository_calls_answer_as_alone() {
    let base = MemoryStore::new();
    let users: Vec<User> = (0..50).map(|i| u(&format!("u{i}"), &format!("{i}@x"), "o1", &format!("h{i}"))).collect();
    block_on(User::repo(&base).create_many(&users[..25])).unwrap();
    let ids: Vec<String> = users.iter().map(|x| x.id.clone()).collect();
    let alone = block_on(User::repo(&base.fork()).get_many(&ids)).unwrap();
    let s = Coalesced::new(Rounds::new(base.clone()));
    let (w, r1, r2) = s.inner().run(async {
        futures_util::future::join3(
            User::repo(&s).create_many(&users[25..]),
            User::repo(&s).get_many(&ids),
            User::repo(&s).get_many(&ids[..10]),
        )
        .await
    });
    assert!(w.unwrap().iter().all(Result::is_ok));
    // The reads were issued before any write of the batch: they see the 25 first.
    assert_eq!(r1.unwrap(), alone);
    assert_eq!(r2.unwrap(), alone[..10].to_vec());
    assert!(block_on(User::repo(&base).verify()).unwrap().is_clean());
    assert_eq!(block_on(User::repo(&base).get_many(&ids)).unwrap().iter().flatten().count(), 50);
}

/// "joined loaders answer what they answer alone": a request whose keys are
/// all valid, joined with one holding a key KV refuses (over 512 bytes).
#[test]
fn coalesced_an_invalid_key_of_one_request_does_not_fail_another() {
    let store = MemoryStore::new();
    block_on(store.put("k", b"v", &PutOptions::default())).unwrap();
    let long = "x".repeat(600);
    let alone_good = block_on(store.get_many(&keys(&["k"])));
    let alone_bad = block_on(store.get_many(std::slice::from_ref(&long)));
    assert!(alone_good.is_ok());
    assert!(matches!(alone_bad, Err(Error::KeyTooLong { .. })), "{alone_bad:?}");
    let s = Coalesced::new(store);
    let (good, bad) =
        block_on(futures_util::future::join(s.get_many(&keys(&["k"])), s.get_many(std::slice::from_ref(&long))));
    assert!(matches!(bad, Err(Error::KeyTooLong { .. })), "the refused request: {bad:?}");
    assert_eq!(text(&good.expect("the valid request, joined")[0]).as_deref(), Some("v"));
}

/// A request of a batch dropped while it reads the batch (a `select` with a
/// timeout, a race against a cache) must not strand the other requests of
/// its batch.
#[test]
fn coalesced_a_dropped_request_does_not_strand_its_batch() {
    use futures_util::future::{select, Either};
    let rounds = Rounds::new(MemoryStore::new());
    block_on(rounds.put("k", b"v", &PutOptions::default())).unwrap();
    let s = Coalesced::new(rounds);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.inner().run(async {
            let ks = keys(&["k"]);
            let o = PutOptions::default();
            // The first request, raced against a write that answers first.
            let raced = async {
                let read = std::pin::pin!(s.get_many(&ks));
                let write = std::pin::pin!(s.put("other", b"1", &o));
                match select(read, write).await {
                    Either::Left(_) => "read",
                    Either::Right(_) => "write",
                }
            };
            futures_util::future::join(raced, s.get_many(&ks)).await
        })
    }));
    let (winner, other) = out.expect("the joined request stalled");
    assert_eq!(winner, "write");
    assert_eq!(text(&other.unwrap()[0]).as_deref(), Some("v"));
}

// ---------------------------------------------------------------------------
// Rounds.

#[test]
fn rounds_counts_overlapped_groups_and_sequences() {
    let s = Rounds::new(MemoryStore::new());
    let o = PutOptions::default();
    s.run(async {
        let (a, b) = futures_util::future::join(s.put("a", b"1", &o), async {
            s.put("b", b"1", &o).await.unwrap();
            s.put("c", b"1", &o).await
        })
        .await;
        a.and(b).unwrap();
    });
    assert_eq!(s.trips(), kvgen::RoundTrips { rounds: 2, ops: 3, most_in_flight: 2 });
}

/// A call that ends while one of its operations waits for its round (a
/// `select` whose other branch answers): the next call's count must not
/// include it.
#[test]
fn rounds_does_not_count_an_operation_dropped_by_an_earlier_call() {
    use futures_util::future::select;
    let s = Rounds::new(MemoryStore::new());
    let o = PutOptions::default();
    s.run(async {
        let long = std::pin::pin!(async {
            s.put("a", b"1", &o).await.unwrap();
            s.put("b", b"1", &o).await.unwrap();
        });
        let short = std::pin::pin!(s.put("c", b"1", &o));
        let _ = select(long, short).await;
    });
    s.reset();
    s.run(async { s.put("d", b"1", &o).await.unwrap() });
    assert_eq!(s.trips(), kvgen::RoundTrips { rounds: 1, ops: 1, most_in_flight: 1 });
}

// ---------------------------------------------------------------------------
// More batches against the sequence: with a ttl (expirations compared), and
// a strict model (claims on the coordinator compared).

#[test]
fn random_batches_with_expiries_end_as_one_call_after_the_other() {
    let mut g = Lcg(7);
    let (store, clock) = support::clocked();
    let opts = [
        kvgen::WriteOptions::default(),
        kvgen::WriteOptions::ttl(3600),
        kvgen::WriteOptions::ttl(100),
        kvgen::WriteOptions { permanent: true, ..Default::default() },
    ];
    let mut refused = 0;
    for round in 0..600 {
        let n = 1 + g.pick(6) as usize;
        let batch: Vec<User> = (0..n)
            .map(|_| {
                let id = ["a", "b", "c", "d"][g.pick(4) as usize];
                u(id, &format!("e{}@x", g.pick(4)), ["o1", "o2"][g.pick(2) as usize], &format!("h{}", g.pick(3)))
            })
            .collect();
        let o = opts[g.pick(4) as usize];
        let seq = store.fork();
        let seq_out: Vec<String> = batch.iter().map(|r| kind(&block_on(User::repo(&seq).put_with(r, o)))).collect();
        let out: Vec<String> =
            block_on(User::repo(&store).put_many_with(&batch, o)).unwrap().iter().map(kind).collect();
        assert_eq!(out, seq_out, "round {round} {o:?} {batch:?}");
        refused += out.iter().filter(|o| o.starts_with("UniqueViolation")).count();
        assert_eq!(dump(&store), dump(&seq), "round {round} {o:?} {batch:?}");
        clock.advance(g.pick(50));
    }
    assert!(refused > 50, "the batches must conflict: {refused}");
}

#[test]
fn random_strict_batches_end_as_one_call_after_the_other() {
    let mut g = Lcg(99);
    let (store, clock) = support::clocked();
    let emails: Vec<String> = (0..4).map(|i| format!("s{i}@x")).collect();
    let mut refused = 0;
    for round in 0..500 {
        let n = 1 + g.pick(6) as usize;
        let batch: Vec<Member> = (0..n)
            .map(|_| {
                member(
                    ["m1", "m2", "m3", "m4"][g.pick(4) as usize],
                    &emails[g.pick(4) as usize],
                    ["t1", "t2"][g.pick(2) as usize],
                )
            })
            .collect();
        let create = g.pick(3) == 0;
        let seq = store.fork();
        let seq_out: Vec<String> = batch
            .iter()
            .map(|r| {
                let repo = Member::repo(&seq);
                kind(&block_on(async {
                    if create {
                        repo.create(r).await
                    } else {
                        repo.put(r).await
                    }
                }))
            })
            .collect();
        let repo = Member::repo(&store);
        let out = block_on(async {
            if create {
                repo.create_many(&batch).await
            } else {
                repo.put_many(&batch).await
            }
        });
        let out: Vec<String> = out.unwrap().iter().map(kind).collect();
        let ctx = format!("round {round} create={create} {batch:?}");
        assert_eq!(out, seq_out, "{ctx}");
        refused += out.iter().filter(|o| o.starts_with("UniqueViolation")).count();
        assert_eq!(dump(&store), dump(&seq), "{ctx}");
        for e in &emails {
            assert_eq!(support::holder(&store, e), support::holder(&seq, e), "{ctx}: claim of {e}");
        }
        if g.pick(5) == 0 {
            let ids: Vec<String> = (0..1 + g.pick(3)).map(|_| format!("m{}", 1 + g.pick(4))).collect();
            let seq = store.fork();
            let seq_out: Vec<String> = ids.iter().map(|id| kind(&block_on(Member::repo(&seq).delete(id)))).collect();
            let out: Vec<String> = block_on(Member::repo(&store).delete_many(&ids)).unwrap().iter().map(kind).collect();
            assert_eq!(out, seq_out, "round {round}: delete_many {ids:?}");
            assert_eq!(dump(&store), dump(&seq), "round {round}: delete_many {ids:?}");
        }
        clock.advance(g.pick(30));
    }
    assert!(refused > 50, "the batches must conflict: {refused}");
}

/// The strict batch's fault matrix: every KV operation and coordinator
/// request of a batch of moves failed in turn.
#[test]
fn faults_in_a_strict_batch_keep_every_live_value_held() {
    let (base, _clock) = support::clocked();
    block_on(Member::repo(&base).create(&member("m1", "s0@x", "t1"))).unwrap();
    block_on(Member::repo(&base).create(&member("m2", "s1@x", "t1"))).unwrap();
    let batches = [
        // A strict value just given up is held until its claim settles: the two takers are refused, as in a sequence.
        (
            vec![member("m2", "s2@x", "t2"), member("m1", "s1@x", "t1"), member("m3", "s0@x", "t1")],
            ["Ok(())", "UniqueViolation", "UniqueViolation"],
        ),
        // Three writes of one wave, all taking fresh values.
        (
            vec![member("m2", "s2@x", "t2"), member("m1", "s3@x", "t1"), member("m3", "s4@x", "t2")],
            ["Ok(())", "Ok(())", "Ok(())"],
        ),
    ];
    let mut runs = 0;
    for (batch, expected) in &batches {
        let probe = Faulty::new(base.fork());
        let seq = base.fork();
        let seq_out: Vec<String> = batch.iter().map(|m| kind(&block_on(Member::repo(&seq).put(m)))).collect();
        let out: Vec<String> = block_on(Member::repo(&probe).put_many(batch)).unwrap().iter().map(kind).collect();
        assert_eq!(out, seq_out);
        assert_eq!(&out, expected);
        let n = probe.operations();
        for at in 1..=n {
            for fault in [Fault::Before, Fault::After, Fault::Timeout] {
                runs += 1;
                let s = base.fork();
                let before = support::member_records(&s);
                let faulty = Faulty::new(s.clone());
                faulty.fail_at(at, fault);
                let _ = Faulty::drive(Member::repo(&faulty).put_many(batch));
                let case = format!("{fault:?} at {at} of {n}");
                let live = support::member_records(&s);
                for (id, m) in &live {
                    assert!(before.get(id) == Some(m) || batch.contains(m), "{case}: {id} is {m:?}");
                    assert_eq!(block_on(Member::repo(&s).find_by_email(&m.email)).unwrap().as_ref(), Some(m), "{case}");
                    let fork = s.fork();
                    let intruder = member("intruder", &m.email, "t9");
                    let r = block_on(Member::repo(&fork).create(&intruder));
                    assert!(
                        matches!(r, Err(Error::UniqueViolation { .. })),
                        "{case}: {id}'s {} not held: {r:?}",
                        m.email
                    );
                }
                let repo = kvgen::Repo::<Member, _>::new(&s);
                block_on(repo.repair()).unwrap();
                assert!(block_on(repo.verify()).unwrap().is_clean(), "{case}");
            }
        }
    }
    assert!(runs > 60, "{runs}");
}
