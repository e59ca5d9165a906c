//! Adversarial tests of strict unique indexes, `Lock` and `RateLimiter`.
//!
//! Each test states a scenario, the guarantee it breaks (RELIABILITY.md,
//! "Strict unique indexes": (a), (b), (c), under A1 = KV shows a write at
//! every location within 60 s, A2 = a Worker's clock within 5 s of the
//! coordinator's), and whether it needs an assumption violated. Each failed
//! on the code it was written against and passes since the fix: a claim
//! settles only after the last lease of any writer of its holder (a commit
//! or reaffirmation does not shorten it), a release frees a value only when
//! the write or delete dropping it began after every writer of the record
//! stopped, rate-limit cells name the limiter's length first, and a lock
//! needs a lease.

#[path = "support.rs"]
mod support;

use kvgen::coord::{LEASE_MS, MARGIN_MS};
use kvgen::{Lock, ManualClock, MemoryStore, RateLimiter};
use pollster::block_on;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use support::{member, Gated, Member, T0};

/// A call stepped one KV operation / coordinator request at a time.
struct Stepper<'a, T> {
    call: Option<Pin<Box<dyn Future<Output = T> + 'a>>>,
    turn: &'a Cell<bool>,
    out: Option<T>,
}

impl<'a, T> Stepper<'a, T> {
    fn new(turn: &'a Cell<bool>, call: impl Future<Output = T> + 'a) -> Self {
        let mut s = Stepper { call: Some(Box::pin(call)), turn, out: None };
        s.poll();
        s
    }
    fn poll(&mut self) {
        let mut cx = Context::from_waker(Waker::noop());
        if let Some(call) = self.call.as_mut() {
            if let Poll::Ready(out) = call.as_mut().poll(&mut cx) {
                self.out = Some(out);
                self.call = None;
            }
        }
    }
    /// Lets the call make `n` more operations.
    fn step(&mut self, n: usize) {
        for _ in 0..n {
            assert!(self.call.is_some(), "the call finished early");
            self.turn.set(true);
            self.poll();
        }
    }
    fn finish(mut self) -> T {
        while self.call.is_some() {
            self.turn.set(true);
            self.poll();
        }
        self.out.take().unwrap()
    }
}

/// Every record carrying `email`, as the up-to-date location sees it.
fn carriers(s: &MemoryStore, email: &str) -> Vec<String> {
    s.keys()
        .into_iter()
        .filter(|k| k.starts_with("member:"))
        .filter_map(|k| serde_json::from_str::<Member>(&s.raw(&k).unwrap()).ok())
        .filter(|m| m.email == email)
        .map(|m| m.id)
        .collect()
}

/// Attack 1 — breaks (a), no assumption violated (lag exactly 60 s = A1,
/// one clock = A2, every KV write inside its lease less MARGIN).
///
/// A reaffirmation (`Claim` answered `Held`) resets a committed cell's
/// `since` to now, and a committed cell settles `SETTLE_MS` after `since`.
/// But the reaffirmed writer may still write the value until
/// `since + LEASE_MS - MARGIN_MS` (25 s later), and that write is only
/// guaranteed visible everywhere at `since + 85 s`. So between
/// `since + 60 s` and `since + 85 s` a checker may read the holder's record
/// without the value and take the claim over, and then the slow write lands.
///
/// To make the holder's record not carry the value at the check, a second
/// writer of the same record, at another location whose read of the record
/// is stale, moves it to another value: it never saw the value, so it does
/// not release it (no release that would extend the settle time).
///
/// t0+0   x = o@x (base)                    t0+100  x moves to p@x (committed)
/// t0+110 W1 (put x keeping p@x, team t2): reads x, claim -> Held (since = t0+110)
/// t0+111 W2 at a 60-s-lagging location: reads x as o@x, puts x = q@x; releases o@x only
/// t0+134 W1 writes x (p@x) — inside its lease (until t0+140, margin 5 s)
/// t0+175 Y at the lagging location creates y = p@x: the cell settled at
///        t0+170; Y reads x as q@x (W2's write; W1's is not visible until
///        t0+194), takes the claim over and writes y.
/// Then x and y both carry p@x.
#[test]
fn a_reaffirmed_claim_settles_before_its_writer_has_finished() {
    let clock = ManualClock::new(T0);
    let store = MemoryStore::with_clock(clock.clone());
    let far = store.lagging(60);
    let members = kvgen::Repo::<Member, _>::new(&store);
    block_on(members.create(&member("x", "o@x", "t1"))).unwrap();
    clock.set(T0 + 100);
    block_on(members.put(&member("x", "p@x", "t1"))).unwrap();

    // W1: put x keeping p@x, changing its team; stopped after its claim.
    clock.set(T0 + 110);
    let turn = Cell::new(false);
    let gated = Gated { inner: &store, turn: &turn };
    let w1_repo = kvgen::Repo::<Member, _>::new(&gated);
    let w1_rec = member("x", "p@x", "t2");
    let mut w1 = Stepper::new(&turn, w1_repo.put(&w1_rec));
    w1.step(2); // bulk read, claim (Held)

    // W2 at the lagging location: x looks like it carries o@x; moves it to q@x.
    clock.set(T0 + 111);
    block_on(kvgen::Repo::<Member, _>::new(&far).put(&member("x", "q@x", "t1"))).unwrap();

    // W1 writes its record inside its lease (its lease check passes).
    clock.set(T0 + 134);
    const { assert!(T0 * 1000 + 134_000 + MARGIN_MS <= T0 * 1000 + 110_000 + LEASE_MS) };
    w1.finish().unwrap();
    assert_eq!(carriers(&store, "p@x"), ["x"]);

    // Y at the lagging location, after the cell has settled (t0+110+60).
    clock.set(T0 + 175);
    let y = block_on(kvgen::Repo::<Member, _>::new(&far).create(&member("y", "p@x", "t1")));

    // Once everything has propagated: at most one live record per strict value.
    clock.set(T0 + 300);
    let both = carriers(&store, "p@x");
    assert!(both.len() <= 1, "p@x carried by {both:?} (y's create gave {y:?})");
}

/// Attack 2 — breaks (a), no assumption violated. Same shape as attack 1,
/// through `Commit` instead of `Held`: two writers of one record claim the
/// same value; the second's `Claim` extends the pending lease (until
/// t0+31), but the first's `Commit` (t0+2) turns the cell committed with
/// `since` = t0+2, so it settles at t0+62 while the second writer may
/// still write until t0+26 (visible everywhere only at t0+86).
///
/// t0+0  W1 put x = p@x: claim granted (until t0+30)
/// t0+1  W1' put x = p@x (team t2): claim reaffirmed, pending until t0+31
/// t0+2  W1 writes x and commits: committed, since t0+2
/// t0+3  W2 at a lagging location (x not visible yet) puts x = q@x: no release of p@x
/// t0+25 W1' writes x (p@x) inside its lease, and its Worker is stopped
///       before its own commit (which would have reset `since` again)
/// t0+70 Y at the lagging location sees x = q@x, takes p@x over, writes y.
#[test]
fn a_commit_ends_the_lease_another_writer_of_the_record_still_holds() {
    let clock = ManualClock::new(T0);
    let store = MemoryStore::with_clock(clock.clone());
    let far = store.lagging(60);
    let (t1, t2) = (Cell::new(false), Cell::new(false));
    let (g1, g2) = (Gated { inner: &store, turn: &t1 }, Gated { inner: &store, turn: &t2 });
    let (r1, r2) = (kvgen::Repo::<Member, _>::new(&g1), kvgen::Repo::<Member, _>::new(&g2));
    let (a, b) = (member("x", "p@x", "t1"), member("x", "p@x", "t2"));
    let mut w1 = Stepper::new(&t1, r1.put(&a));
    w1.step(2); // bulk read, claim (granted, fresh)
    clock.set(T0 + 1);
    let mut w1b = Stepper::new(&t2, r2.put(&b));
    w1b.step(2); // bulk read (x absent), claim (reaffirmed, pending until t0+31)
    clock.set(T0 + 2);
    w1.finish().unwrap(); // entries, record, commit

    clock.set(T0 + 3);
    block_on(kvgen::Repo::<Member, _>::new(&far).put(&member("x", "q@x", "t1"))).unwrap();

    // W1' writes its entries and record inside its lease, then its Worker is
    // stopped before its commit (a Worker stopped at any point).
    clock.set(T0 + 25);
    w1b.step(3); // email entry, team entry, record
    drop(w1b);
    assert_eq!(carriers(&store, "p@x"), ["x"]);

    clock.set(T0 + 70);
    let y = block_on(kvgen::Repo::<Member, _>::new(&far).create(&member("y", "p@x", "t1")));
    clock.set(T0 + 300);
    let both = carriers(&store, "p@x");
    assert!(both.len() <= 1, "p@x carried by {both:?} (y's create gave {y:?})");
}

/// Attack 3 — breaks RateLimiter's "at most `limit` hits per window, per
/// key, counted in one cell per key". No assumption involved.
///
/// A limiter's cell is named `rate:{name}:{key}` with no escaping, so the
/// limiter "login" on key "10.0.0.1:8080" and the limiter "login:10.0.0.1"
/// on key "8080" (or any IPv6 address as a key) share one cell: each pair's
/// hits are counted against the other's. Here two fixed windows of
/// different lengths reset each other's count (a window start that is not
/// the current one reads as an empty window), so limiter A admits 2 hits
/// within one of its windows whose limit is 1.
#[test]
fn rate_limiters_whose_name_and_key_join_alike_share_a_count() {
    let clock = ManualClock::new(T0);
    let store = MemoryStore::with_clock(clock.clone());
    let coord = store.coordination();
    // A: 1 hit per hour for key "10.0.0.1:8080"; B: 1 hit per minute for key "8080".
    let a = RateLimiter::fixed(coord, "login", 1, 3_600_000);
    let b = RateLimiter::fixed(coord, "login:10.0.0.1", 1, 60_000);
    let hour_start = T0 - T0 % 3600;
    let mut admitted_a = 0;
    for minute in 0..3 {
        clock.set(hour_start + 60 * minute + 1);
        if block_on(a.hit("10.0.0.1:8080")).unwrap().allowed {
            admitted_a += 1;
        }
        // B's own hit, a different (limiter, key) pair.
        let _ = block_on(b.hit("8080")).unwrap();
    }
    assert_eq!(admitted_a, 1, "limiter A admitted {admitted_a} hits in one window of limit 1");
}

/// Attack 3b — the same collision, seen as independence: the first hit of a
/// fresh (limiter, key) pair is refused because another pair used its slot.
#[test]
fn a_fresh_limiter_key_pair_is_refused_by_another_pairs_hit() {
    let store = MemoryStore::with_clock(ManualClock::new(T0));
    let coord = store.coordination();
    let a = RateLimiter::fixed(coord, "api", 1, 60_000);
    let b = RateLimiter::fixed(coord, "api:user", 1, 60_000);
    assert!(block_on(a.hit("user:1")).unwrap().allowed);
    let first_b = block_on(b.hit("1")).unwrap();
    assert!(first_b.allowed, "the first hit of limiter api:user on key 1 was refused: {first_b:?}");
}

/// Attack 4 (edge case; arguable) — `Lock::new(.., lease_ms = 0)` is
/// accepted (a rate limit's zero window is refused), and then every token
/// "acquires" the lock at the same instant: two holders at once, against
/// "held by one token at a time". No assumption involved.
#[test]
fn a_lock_with_a_zero_lease_is_granted_to_two_tokens_at_once() {
    let store = MemoryStore::with_clock(ManualClock::new(T0));
    let coord = store.coordination();
    let a = Lock::new(coord, "job", "a", 0);
    let b = Lock::new(coord, "job", "b", 0);
    let got_a = block_on(a.try_acquire());
    let got_b = block_on(b.try_acquire());
    let both = matches!((&got_a, &got_b), (Ok(Some(_)), Ok(Some(_))));
    assert!(!both, "both tokens hold the lock: a {got_a:?}, b {got_b:?}");
}

/// Attack 5 — breaks (a), no stated assumption violated (one location, one
/// clock, every KV write inside its lease); needs one writer to be slow
/// (>= 65 s) between its record write and its `Release`, which no
/// assumption bounds (only KV writes are bounded by the lease).
///
/// A `Release` of a committed claim whose `since` is 90 s old frees the
/// value at once ("quiet"), without checking KV. But the releaser's belief
/// that the record no longer carries the value dates from its record
/// write, and another writer of the same record (reaffirmed `Held` before
/// that) may have written the value again afterwards, inside its lease.
/// The releaser then also deletes the unique entry (it still names the
/// record), so not even KV's own check stops the next creator.
///
/// T     x = v@x committed long ago. W2 (put x keeping v@x, team t2): read, claim -> Held (since T)
/// T     W (put x moving to w@x): read, claim w@x, entry, record x = w@x, commit; then stalls
/// T+20  W2 writes x = v@x (team t2), inside its lease (until T+30)
/// T+95  W resumes: Release v@x -> quiet (since + 90 passed) -> Free; deletes entry v@x -> x
/// T+96  Z creates z = v@x: no entry, cell free, granted; x and z both carry v@x.
#[test]
fn a_late_release_frees_a_value_another_writer_of_the_record_wrote_back() {
    let clock = ManualClock::new(T0);
    let store = MemoryStore::with_clock(clock.clone());
    let members = kvgen::Repo::<Member, _>::new(&store);
    block_on(members.create(&member("x", "v@x", "t1"))).unwrap();

    let t = T0 + 1000;
    clock.set(t);
    let (t1, t2) = (Cell::new(false), Cell::new(false));
    let (g1, g2) = (Gated { inner: &store, turn: &t1 }, Gated { inner: &store, turn: &t2 });
    let (r1, r2) = (kvgen::Repo::<Member, _>::new(&g1), kvgen::Repo::<Member, _>::new(&g2));
    let (keep, moving) = (member("x", "v@x", "t2"), member("x", "w@x", "t1"));
    let mut w2 = Stepper::new(&t2, r2.put(&keep));
    w2.step(2); // bulk read (x = v@x), claim v@x -> Held
    let mut w = Stepper::new(&t1, r1.put(&moving));
    w.step(5); // bulk read, claim w@x, entry w@x, record, commit w@x
    assert_eq!(carriers(&store, "w@x"), ["x"]);

    clock.set(t + 20);
    w2.finish().unwrap();
    assert_eq!(carriers(&store, "v@x"), ["x"]);

    clock.set(t + 95);
    w.finish().unwrap(); // release v@x, drop its entry

    clock.set(t + 96);
    let z = block_on(members.create(&member("z", "v@x", "t1")));
    let both = carriers(&store, "v@x");
    assert!(both.len() <= 1, "v@x carried by {both:?} (z's create gave {z:?})");
}

/// Attack 6 — `with_lock` whose release fails after the body ran: the
/// caller got a plain `Err`, the same as a lock never taken, lost the
/// body's value, and a retry ran the body twice. Now the value comes back
/// with the release's error, whether the release did not reach the
/// coordinator or reached it and its answer was lost.
#[test]
fn a_lock_whose_release_fails_returns_the_body_value_with_the_error() {
    use kvgen::{Fault, Faulty, Locked};
    for fault in [Fault::Before, Fault::After] {
        let clock = ManualClock::new(T0);
        let faulty = Faulty::new(MemoryStore::with_clock(clock.clone()));
        let lock = Lock::new(&faulty, "job", "a", 10_000);
        let runs = Cell::new(0);
        // Acquire is the 1st coordinator request, the release the 2nd.
        faulty.fail_at(2, fault);
        let body = async {
            runs.set(runs.get() + 1);
            42
        };
        let out = block_on(lock.with_lock(1, |_| async {}, body)).expect("the lock was taken: not an Err");
        assert!(matches!(out, Locked::ReleaseFailed { value: 42, .. }), "{fault:?}: {out:?}");
        assert!(out.ran() && runs.get() == 1);
        assert_eq!(out.value(), Some(42));
        // Busy and released runs say so too.
        let other = Lock::new(&faulty, "job", "b", 10_000);
        let busy = block_on(other.with_lock(1, |_| async {}, async { 1 })).unwrap();
        assert_eq!(matches!(busy, Locked::Busy), fault == Fault::Before, "{fault:?}: {busy:?}");
        clock.advance(10);
        let ran = block_on(other.with_lock(1, |_| async {}, async { 7 })).unwrap();
        assert!(matches!(ran, Locked::Ran(7)), "{ran:?}");
    }
}
