//! Batches: `create_many`, `put_many` and `delete_many` answer and leave the
//! store exactly as the same single calls made one after the other do —
//! random batches over a few ids and values, so that records of one batch
//! clash by id and by unique value — and share their reads.

use blog::User;
use kvgen::{Error, ManualClock, MemoryStore, Metered, WriteOptions};
use pollster::block_on;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const T0: u64 = 1_800_000_000;

fn user((id, email, org, handle): (u8, u8, u8, u8)) -> User {
    User {
        id: format!("u{id}"),
        email: format!("e{email}@x"),
        org_id: format!("o{org}"),
        handle: format!("h{handle}"),
        name: format!("n{id}"),
    }
}

#[derive(Debug, Clone)]
enum Batch {
    Create(Vec<User>, Option<u64>),
    Put(Vec<User>, Option<u64>),
    Delete(Vec<String>),
}

fn batch() -> impl Strategy<Value = Batch> {
    let users = prop::collection::vec((0u8..5, 0u8..4, 0u8..2, 0u8..3).prop_map(user), 0..7);
    let ttl = prop_oneof![Just(None), Just(Some(600u64))];
    prop_oneof![
        (users.clone(), ttl.clone()).prop_map(|(u, t)| Batch::Create(u, t)),
        (users, ttl).prop_map(|(u, t)| Batch::Put(u, t)),
        prop::collection::vec((0u8..6).prop_map(|i| format!("u{i}")), 0..7).prop_map(Batch::Delete),
    ]
}

fn opts(ttl: Option<u64>) -> WriteOptions {
    ttl.map_or_else(WriteOptions::default, WriteOptions::ttl)
}

/// Every key of the store, with its value, metadata and expiry.
type Dump = Vec<(String, Option<kvgen::Entry>, Option<u64>)>;

fn dump(s: &MemoryStore) -> Dump {
    use kvgen::KvStore;
    s.keys().into_iter().map(|k| (k.clone(), block_on(s.get(&k)).unwrap(), s.expiration(&k))).collect()
}

/// The outcomes as error kinds (or `true`/`false` for deletes).
fn kinds<T: std::fmt::Debug>(outcomes: Vec<kvgen::Result<T>>) -> Vec<Result<String, &'static str>> {
    outcomes.into_iter().map(|o| o.map(|v| format!("{v:?}")).map_err(|e| e.kind())).collect()
}

fn run_batch(s: &MemoryStore, b: &Batch) -> Vec<Result<String, &'static str>> {
    let users = User::repo(s);
    match b {
        Batch::Create(recs, ttl) => kinds(block_on(users.create_many_with(recs, opts(*ttl))).unwrap()),
        Batch::Put(recs, ttl) => kinds(block_on(users.put_many_with(recs, opts(*ttl))).unwrap()),
        Batch::Delete(ids) => kinds(block_on(users.delete_many(ids)).unwrap()),
    }
}

fn run_singly(s: &MemoryStore, b: &Batch) -> Vec<Result<String, &'static str>> {
    let users = User::repo(s);
    match b {
        Batch::Create(recs, ttl) => kinds(recs.iter().map(|r| block_on(users.create_with(r, opts(*ttl)))).collect()),
        Batch::Put(recs, ttl) => kinds(recs.iter().map(|r| block_on(users.put_with(r, opts(*ttl)))).collect()),
        Batch::Delete(ids) => kinds(ids.iter().map(|id| block_on(users.delete(id))).collect()),
    }
}

#[test]
fn a_batch_does_what_its_calls_one_after_the_other_do() {
    let config = Config { cases: 500, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let clashes = std::cell::Cell::new(0u32);
    runner
        .run(&prop::collection::vec(batch(), 1..6), |batches| {
            let clock = ManualClock::new(T0);
            let (a, b) = (MemoryStore::with_clock(clock.clone()), MemoryStore::with_clock(clock.clone()));
            for bt in &batches {
                let together = run_batch(&a, bt);
                let singly = run_singly(&b, bt);
                clashes.set(clashes.get() + together.iter().filter(|o| o.is_err()).count() as u32);
                prop_assert_eq!(&together, &singly, "{:?}", bt);
                prop_assert_eq!(dump(&a), dump(&b), "{:?}", bt);
                clock.advance(100);
            }
            Ok(())
        })
        .unwrap();
    // The batches did clash: refusals were compared, not only successes.
    let clashes = clashes.get();
    assert!(clashes > 100, "only {clashes} refusals in the batches");
}

#[test]
fn clashes_inside_one_batch_are_refused_as_single_calls_would_be() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    let a = user((1, 1, 0, 1));
    let same_id = user((1, 2, 0, 2));
    let same_email = user((2, 1, 0, 3));
    let b = user((3, 3, 0, 4));
    let got = block_on(users.create_many(&[a.clone(), same_id, same_email, b.clone()])).unwrap();
    assert!(got[0].is_ok() && got[3].is_ok(), "{got:?}");
    assert!(matches!(got[1], Err(Error::AlreadyExists { .. })), "{got:?}");
    assert!(matches!(got[2], Err(Error::UniqueViolation { .. })), "{got:?}");
    // A value freed earlier in the batch can be taken later in it.
    let a_moves = User { email: "new@x".into(), ..a.clone() };
    let b_takes = User { email: a.email.clone(), ..b.clone() };
    let got = block_on(users.put_many(&[a_moves.clone(), b_takes.clone()])).unwrap();
    assert!(got.iter().all(Result::is_ok), "{got:?}");
    assert_eq!(block_on(users.find_by_email(&a.email)).unwrap(), Some(b_takes));
    // An id given twice is deleted once.
    let got = block_on(users.delete_many(&[a.id.clone(), a.id.clone(), "none".into()])).unwrap();
    assert_eq!(got.into_iter().map(Result::unwrap).collect::<Vec<_>>(), [true, false, false]);
    assert!(block_on(users.verify()).unwrap().is_clean());
}

#[test]
fn a_record_refused_before_any_operation_does_not_stop_the_batch() {
    let s = Metered::new(MemoryStore::new());
    let users = User::repo(&s);
    let long = User { email: "x".repeat(600), ..user((1, 1, 0, 1)) };
    let got = block_on(users.create_many(&[long, user((2, 2, 0, 2))])).unwrap();
    assert!(matches!(got[0], Err(Error::KeyTooLong { .. })), "{got:?}");
    assert!(got[1].is_ok());
    // Only the second record was read and written.
    let o = s.reset();
    assert_eq!((o.bulk_reads, o.bulk_keys, o.writes), (1, 3, 4));
}

#[test]
fn a_failed_shared_read_writes_nothing() {
    let s = kvgen::Faulty::new(MemoryStore::new());
    s.fail_at(1, kvgen::Fault::Before);
    let got = block_on(User::repo(&s).create_many(&[user((1, 1, 0, 1)), user((2, 2, 0, 2))]));
    assert!(matches!(got, Err(Error::Store { .. })), "{got:?}");
    assert!(s.inner().keys().is_empty());
    assert_eq!(s.operations(), 1);
}
