//! Two creates racing for one unique value, at every interleaving of their
//! KV operations (and coordinator requests). KV has no compare-and-set, so
//! what a plain unique index gives is weaker than a database's unique
//! constraint; this test pins down exactly what, and that a strict index
//! (claimed on the coordinator) gives exactly one success every time.

#[path = "support.rs"]
mod support;

use blog::User;
use kvgen::{Error, MemoryStore, Model, Repo};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use support::{Gated, Member};

fn contender(id: &str) -> User {
    User { id: id.into(), email: "same@x".into(), org_id: "o".into(), handle: id.into(), name: id.into() }
}

fn strict_contender(id: &str) -> Member {
    Member { id: id.into(), email: "same@x".into(), team: "t".into() }
}

type Outcome = kvgen::Result<()>;

/// A create in flight, or `None` once it finished.
type Call<'a> = Option<Pin<Box<dyn Future<Output = Outcome> + 'a>>>;

/// Runs both creates, stepping them one KV operation at a time in the order
/// `schedule` gives, then as long as `extend` says; returns the store, each
/// outcome, and which creates were still running when the schedule ran out.
fn replay<M: Model>(schedule: &[usize], contender: fn(&str) -> M) -> (MemoryStore, [Option<Outcome>; 2], Vec<usize>) {
    let store = MemoryStore::new();
    let turns = [Cell::new(false), Cell::new(false)];
    let stores = [Gated { inner: &store, turn: &turns[0] }, Gated { inner: &store, turn: &turns[1] }];
    let (a, b) = (contender("a"), contender("b"));
    let repo_a = Repo::<M, _>::new(&stores[0]);
    let repo_b = Repo::<M, _>::new(&stores[1]);
    let mut calls: [Call<'_>; 2] = [Some(Box::pin(repo_a.create(&a))), Some(Box::pin(repo_b.create(&b)))];
    let mut outcomes: [Option<Outcome>; 2] = [None, None];
    let mut cx = Context::from_waker(Waker::noop());
    let mut step = |who: usize, calls: &mut [Call<'_>; 2]| {
        if let Some(call) = calls[who].as_mut() {
            if let Poll::Ready(out) = call.as_mut().poll(&mut cx) {
                outcomes[who] = Some(out);
                calls[who] = None;
            }
        }
    };
    // Bring both to their first operation, then give turns in order.
    step(0, &mut calls);
    step(1, &mut calls);
    for &who in schedule {
        turns[who].set(true);
        step(who, &mut calls);
    }
    let running = (0..2).filter(|&i| calls[i].is_some()).collect();
    drop(calls);
    (store, outcomes, running)
}

#[test]
fn two_creates_race_for_one_unique_value_at_every_interleaving() {
    let mut pending = vec![Vec::new()];
    let (mut interleavings, mut one_wins, mut both_succeed) = (0, 0, 0);
    while let Some(schedule) = pending.pop() {
        let (store, outcomes, running) = replay(&schedule, contender);
        if !running.is_empty() {
            for who in running {
                let mut next = schedule.clone();
                next.push(who);
                pending.push(next);
            }
            continue;
        }
        interleavings += 1;
        let [a, b] = outcomes.map(|o| o.expect("finished"));
        let users = User::repo(&store);
        let repo = Repo::<User, _>::new(&store);
        // At least one create succeeds; a refusal is always a unique violation.
        assert!(a.is_ok() || b.is_ok(), "{schedule:?}: both refused");
        for r in [&a, &b] {
            if let Err(e) = r {
                assert!(matches!(e, Error::UniqueViolation { index: "email", .. }), "{schedule:?}: {e}");
            }
        }
        // A lookup returns a record that carries the value, whoever won.
        let found = pollster::block_on(users.find_by_email("same@x")).unwrap().expect("someone holds it");
        assert_eq!(found.email, "same@x");
        let report = pollster::block_on(repo.verify()).unwrap();
        match (&a, &b) {
            (Ok(()), Ok(())) => {
                // Both checks ran before either record was written: both records
                // carry the value, the index names the last writer, verify says so.
                both_succeed += 1;
                assert_eq!(report.conflicts, 1, "{schedule:?}: {report}");
            }
            _ => {
                one_wins += 1;
                let winner = if a.is_ok() { "a" } else { "b" };
                assert_eq!(found.id, winner, "{schedule:?}");
                assert!(report.is_clean(), "{schedule:?}: {report}");
            }
        }
    }
    println!("{interleavings} interleavings: one create wins in {one_wins}, both succeed in {both_succeed}");
    assert!(interleavings >= 100, "{interleavings}");
    assert!(one_wins > 0 && both_succeed > 0);
}

/// Every schedule of two calls, run to completion: `(schedule, store, outcomes)`.
fn every_interleaving<M: Model>(contender: fn(&str) -> M) -> Vec<(Vec<usize>, MemoryStore, [Outcome; 2])> {
    let mut pending = vec![Vec::new()];
    let mut done = Vec::new();
    while let Some(schedule) = pending.pop() {
        let (store, outcomes, running) = replay(&schedule, contender);
        if running.is_empty() {
            done.push((schedule, store, outcomes.map(|o| o.expect("finished"))));
            continue;
        }
        for who in running {
            let mut next = schedule.clone();
            next.push(who);
            pending.push(next);
        }
    }
    done
}

#[test]
fn two_creates_of_one_strict_value_give_exactly_one_success_at_every_interleaving() {
    let runs = every_interleaving(strict_contender);
    for (schedule, store, [a, b]) in &runs {
        assert!(a.is_ok() != b.is_ok(), "{schedule:?}: {a:?} {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert!(matches!(loser, Err(Error::UniqueViolation { index: "email", .. })), "{schedule:?}: {loser:?}");
        let winner = if a.is_ok() { "a" } else { "b" };
        let members = Member::repo(store);
        let found = pollster::block_on(members.find_by_email("same@x")).unwrap().expect("the winner holds it");
        assert_eq!(found.id, winner, "{schedule:?}");
        // The loser wrote nothing, and the coordinator holds the winner's claim, committed.
        assert_eq!(
            pollster::block_on(members.get(&(if winner == "a" { "b" } else { "a" }).to_string())).unwrap(),
            None
        );
        let report = pollster::block_on(Repo::<Member, _>::new(store).verify()).unwrap();
        assert!(report.is_clean(), "{schedule:?}: {report}");
        let cells = store.coordination().names();
        assert_eq!(cells, ["APP/member.email:same@x"], "{schedule:?}");
        match store.coordination().cell(&cells[0]) {
            Some(kvgen::coord::Cell::Claim { holder, committed: true, .. }) => assert_eq!(holder, winner),
            other => panic!("{schedule:?}: {other:?}"),
        }
    }
    println!("{} interleavings of two strict creates: exactly one success in each", runs.len());
    assert!(runs.len() >= 50, "{}", runs.len());
}
