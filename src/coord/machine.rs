//! The cell's state machine: [`apply`], the one function every coordinator
//! runs (the in-process [`MemoryCoordinator`](crate::MemoryCoordinator) and
//! the Durable Object alike, so they cannot disagree), and its helpers for
//! strict claims, locks and rate limits.
//!
//! Builds on the cell's types ([`cell`](crate::coord::cell)) and the
//! coordinator's constants. Deterministic and free of I/O: the coordinators
//! call it; nothing here may depend on them, on the stores or on the
//! [`Lock`](crate::coord::Lock) and [`RateLimiter`](crate::coord::RateLimiter) handles.

use crate::coord::cell::{Cell, Request, Response};
use crate::coord::{MARGIN_MS, MAX_SLIDING_LIMIT, SETTLE_MS};

fn refused(cell: Option<Cell>, message: &str) -> (Option<Cell>, Response) {
    (cell, Response::Refused { message: message.to_string() })
}

/// The answer to a request on a claim that `cell` does not hold for the
/// caller: refused when the cell is not a claim's at all (a lock, a rate
/// limit), else [`Response::NotHolder`]; the cell is unchanged.
fn not_holder(cell: Option<Cell>) -> (Option<Cell>, Response) {
    match cell {
        Some(Cell::Lock { .. } | Cell::Window { .. } | Cell::Sliding { .. }) => refused(cell, "not a claim"),
        other => (other, Response::NotHolder),
    }
}

/// Whether a claim may be checked against KV at `now`: KV's propagation
/// time after the last lease of any of the holder's writers ended.
fn settled(until: u64, now: u64) -> bool {
    now >= until.saturating_add(SETTLE_MS)
}

/// Applies `request` to the cell of one name at time `now` (ms): the new
/// state (`None` to delete it) and the answer. Deterministic and total.
///
/// ```
/// use kvgen::coord::{apply, Cell, Request, Response};
///
/// let take = |token: &str| Request::Acquire { token: token.into(), lease_ms: 1_000 };
/// let (cell, answer) = apply(None, &take("a"), 0);
/// assert_eq!(answer, Response::Acquired { until: 1_000 });
/// let (cell, answer) = apply(cell, &take("b"), 500);
/// assert_eq!(answer, Response::Busy { until: 1_000 });
/// assert_eq!(cell, Some(Cell::Lock { token: "a".into(), until: 1_000 }));
/// // A lapsed lock is the next taker's.
/// let (_, answer) = apply(cell, &take("b"), 1_000);
/// assert_eq!(answer, Response::Acquired { until: 2_000 });
/// ```
pub fn apply(cell: Option<Cell>, request: &Request, now: u64) -> (Option<Cell>, Response) {
    use Request as R;
    match request {
        R::Claim { holder, lease_ms } => claim(cell, holder, *lease_ms, now),
        R::Commit { holder } => match cell {
            Some(Cell::Claim { holder: h, gen, until, .. }) if h == *holder => {
                (Some(Cell::Claim { holder: h, gen: gen + 1, committed: true, until }), Response::Done)
            }
            other => not_holder(other),
        },
        // A release never frees the value by itself: another writer of the
        // same record may have written it back, which only KV can tell. The
        // claim becomes uncommitted, and the next claimant checks KV once it
        // has settled (at once when the holder's last lease is long over).
        R::Release { holder, since } => match cell {
            // The drop began after every writer of the holder stopped
            // writing (their leases ended, with the clock margin): the KV
            // write or delete that dropped the value is later than every
            // write that carried it, so the value is free. The cell is
            // deleted (see `fresh_gen` for why its generation need not stay).
            Some(Cell::Claim { holder: h, until, .. })
                if h == *holder && since.is_some_and(|s| s.saturating_sub(MARGIN_MS) >= until) =>
            {
                (None, Response::Done)
            }
            Some(Cell::Claim { holder: h, gen, until, .. }) if h == *holder => {
                (Some(Cell::Claim { holder: h, gen: gen + 1, committed: false, until }), Response::Done)
            }
            other => not_holder(other),
        },
        R::Abandon { holder, gen } => match cell {
            Some(Cell::Claim { holder: h, gen: g, committed: false, .. }) if h == *holder && g == *gen => {
                (None, Response::Done)
            }
            other => not_holder(other),
        },
        R::TakeOver { holder, from, gen, lease_ms } => match cell {
            Some(Cell::Claim { holder: h, gen: g, until, .. }) if h == *from && g == *gen && settled(until, now) => {
                let until = now.saturating_add(*lease_ms);
                let cell = Cell::Claim { holder: holder.clone(), gen: g + 1, committed: false, until };
                (Some(cell), Response::Granted { gen: g + 1, until, fresh: true })
            }
            // Anything else: the claim changed since it was checked; a new
            // claim decides.
            other => claim(other, holder, *lease_ms, now),
        },
        R::Confirm { from, gen } => match cell {
            Some(Cell::Claim { holder: h, gen: g, committed: false, until }) if h == *from && g == *gen => {
                (Some(Cell::Claim { holder: h, gen: g + 1, committed: true, until }), Response::Done)
            }
            other => (other, Response::NotHolder),
        },
        R::Acquire { lease_ms: 0, .. } => refused(cell, "a lock's lease must be at least 1 ms"),
        R::Acquire { token, lease_ms } => match cell {
            None | Some(Cell::Free { .. }) => lock(token, *lease_ms, now),
            Some(Cell::Lock { token: t, until }) if t == *token || until <= now => lock(token, *lease_ms, now),
            Some(Cell::Lock { until, token }) => (Some(Cell::Lock { token, until }), Response::Busy { until }),
            other => refused(other, "not a lock"),
        },
        R::Unlock { token } => match cell {
            Some(Cell::Lock { token: t, until }) if t == *token && until > now => (None, Response::Done),
            Some(Cell::Lock { until, .. }) if until <= now => (None, Response::NotHolder),
            c @ (None | Some(Cell::Lock { .. })) => (c, Response::NotHolder),
            other => refused(other, "not a lock"),
        },
        R::Hit { limit, window_ms, sliding, cost } => {
            if *window_ms == 0 {
                return refused(cell, "the window must be at least 1 ms");
            }
            if *sliding {
                if *limit > MAX_SLIDING_LIMIT {
                    return refused(cell, "a sliding window admits at most 10000 hits");
                }
                match cell {
                    None | Some(Cell::Free { .. }) => sliding_hit(Vec::new(), *limit, *window_ms, *cost, now),
                    Some(Cell::Sliding { hits }) => sliding_hit(hits, *limit, *window_ms, *cost, now),
                    other => refused(other, "not a sliding rate limit"),
                }
            } else {
                match cell {
                    None | Some(Cell::Free { .. }) => fixed_hit(None, *limit, *window_ms, *cost, now),
                    Some(Cell::Window { start, count }) => {
                        fixed_hit(Some((start, count)), *limit, *window_ms, *cost, now)
                    }
                    other => refused(other, "not a fixed-window rate limit"),
                }
            }
        }
    }
}

fn claim(cell: Option<Cell>, holder: &str, lease_ms: u64, now: u64) -> (Option<Cell>, Response) {
    let lease = now.saturating_add(lease_ms);
    match cell {
        None | Some(Cell::Free { .. }) => {
            let gen = fresh_gen(cell.as_ref(), now);
            let cell = Cell::Claim { holder: holder.to_string(), gen, committed: false, until: lease };
            (Some(cell), Response::Granted { gen, until: lease, fresh: true })
        }
        Some(Cell::Claim { holder: h, gen, committed, until }) => {
            if h == holder {
                // The same record's writer (a retry, or two writes of one
                // record): the claim is reaffirmed with a new generation, so
                // a take-over checked before it fails, and its lease end
                // covers this writer too.
                let cell = Cell::Claim { holder: h, gen: gen + 1, committed, until: until.max(lease) };
                let answer = if committed {
                    Response::Held { until: lease }
                } else {
                    Response::Granted { gen: gen + 1, until: lease, fresh: false }
                };
                (Some(cell), answer)
            } else {
                let settles = until.saturating_add(SETTLE_MS);
                let settles = (now < settles).then_some(settles);
                let answer = Response::Denied { holder: h.clone(), gen, verify: settled(until, now), settles };
                (Some(Cell::Claim { holder: h, gen, committed, until }), answer)
            }
        }
        other => refused(other, "not a claim"),
    }
}

/// The generation of a claim made on a free cell. A freed cell is deleted,
/// so its generations are not kept: a new cell's start from the clock
/// (1,000 per ms), above every generation an earlier cell of the name
/// reached unless that cell changed more than 1,000 times per ms of its
/// life. A generation only ever names a claim to the requests that change
/// it (take-over, confirm, abandon), and those check the holder too.
/// A `Free` cell (stored by earlier versions) continues its own count.
fn fresh_gen(cell: Option<&Cell>, now: u64) -> u64 {
    let clock = now.saturating_mul(1000).max(1);
    match cell {
        Some(Cell::Free { gen }) => clock.max(gen + 1),
        _ => clock,
    }
}

fn lock(token: &str, lease_ms: u64, now: u64) -> (Option<Cell>, Response) {
    let until = now.saturating_add(lease_ms);
    (Some(Cell::Lock { token: token.to_string(), until }), Response::Acquired { until })
}

fn fixed_hit(state: Option<(u64, u32)>, limit: u32, window: u64, cost: u32, now: u64) -> (Option<Cell>, Response) {
    let current = now - now % window;
    let count = match state {
        Some((start, count)) if start == current => count,
        _ => 0,
    };
    let allowed = count.checked_add(cost).is_some_and(|n| n <= limit);
    let count = if allowed { count + cost } else { count };
    let reset_at = current.saturating_add(window);
    let answer = Response::Rate { allowed, remaining: limit.saturating_sub(count), reset_at };
    (Some(Cell::Window { start: current, count }), answer)
}

fn sliding_hit(mut hits: Vec<u64>, limit: u32, window: u64, cost: u32, now: u64) -> (Option<Cell>, Response) {
    // A hit counts while it is less than `window` old.
    let from = now.saturating_sub(window - 1);
    hits.retain(|&t| t >= from);
    let allowed = (hits.len() as u64) + (cost as u64) <= limit as u64;
    if allowed {
        hits.extend(std::iter::repeat_n(now, cost as usize));
    }
    let remaining = (limit as u64).saturating_sub(hits.len() as u64) as u32;
    let reset_at = if remaining > 0 || hits.is_empty() {
        now
    } else {
        // Full: the next hit is admitted when the oldest leaves the window.
        hits[0].saturating_add(window)
    };
    let answer = Response::Rate { allowed, remaining, reset_at };
    (Some(Cell::Sliding { hits }), answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::LEASE_MS;

    fn run(cell: &mut Option<Cell>, r: Request, now: u64) -> Response {
        let (c, a) = apply(cell.take(), &r, now);
        *cell = c;
        a
    }
    fn claim(h: &str) -> Request {
        Request::Claim { holder: h.into(), lease_ms: LEASE_MS }
    }

    #[test]
    fn a_value_is_claimed_by_one_holder_and_released_values_are_checked_before_they_are_taken() {
        let mut c = None;
        assert!(matches!(run(&mut c, claim("a"), 0), Response::Granted { gen: 1, until: LEASE_MS, fresh: true }));
        assert!(matches!(run(&mut c, claim("b"), 1), Response::Denied { verify: false, .. }));
        assert_eq!(run(&mut c, Request::Commit { holder: "b".into() }, 2), Response::NotHolder);
        assert_eq!(run(&mut c, Request::Commit { holder: "a".into() }, 2), Response::Done);
        assert_eq!(run(&mut c, claim("a"), 3), Response::Held { until: 3 + LEASE_MS });
        assert_eq!(run(&mut c, Request::Release { holder: "b".into(), since: None }, 4), Response::NotHolder);
        // A release never frees by itself: another writer of `a` may have
        // written the value back. Once `a`'s last lease has settled, the next
        // claimant checks KV and takes it over.
        assert_eq!(run(&mut c, Request::Release { holder: "a".into(), since: None }, 4), Response::Done);
        assert!(matches!(run(&mut c, claim("b"), 5), Response::Denied { verify: false, .. }));
        let settled = 3 + LEASE_MS + SETTLE_MS;
        assert!(matches!(run(&mut c, claim("b"), settled - 1), Response::Denied { verify: false, .. }));
        let Response::Denied { gen, verify: true, .. } = run(&mut c, claim("b"), settled) else { panic!() };
        let take = Request::TakeOver { holder: "b".into(), from: "a".into(), gen, lease_ms: LEASE_MS };
        assert!(matches!(run(&mut c, take, settled), Response::Granted { fresh: true, .. }));
    }

    #[test]
    fn only_a_settled_claim_may_be_checked_and_only_at_its_generation() {
        let mut c = None;
        run(&mut c, claim("a"), 0);
        // Pending: settled only a SETTLE_MS after the lease ends.
        let at = LEASE_MS + SETTLE_MS;
        assert!(matches!(run(&mut c, claim("b"), at - 1), Response::Denied { verify: false, .. }));
        let Response::Denied { gen, verify: true, .. } = run(&mut c, claim("b"), at) else { panic!() };
        // A stale generation is not taken over.
        let stale = Request::TakeOver { holder: "b".into(), from: "a".into(), gen: gen - 1, lease_ms: LEASE_MS };
        assert!(matches!(run(&mut c, stale, at), Response::Denied { .. }));
        let ok = Request::TakeOver { holder: "b".into(), from: "a".into(), gen, lease_ms: LEASE_MS };
        assert!(matches!(run(&mut c, ok.clone(), at), Response::Granted { .. }));
        // Replaying the take-over is a plain claim by the new holder.
        assert!(matches!(run(&mut c, ok, at), Response::Granted { fresh: false, .. }));
        // Committed: settled SETTLE_MS after the holder's last lease.
        run(&mut c, Request::Commit { holder: "b".into() }, at + 10);
        let settled = at + LEASE_MS + SETTLE_MS;
        assert!(matches!(run(&mut c, claim("a"), settled - 1), Response::Denied { verify: false, .. }));
        let Response::Denied { gen, verify: true, .. } = run(&mut c, claim("a"), settled) else { panic!() };
        // Confirm applies to uncommitted claims only.
        assert_eq!(run(&mut c, Request::Confirm { from: "b".into(), gen }, settled), Response::NotHolder);
    }

    #[test]
    fn a_commit_keeps_the_lease_of_every_writer_of_the_holder() {
        let mut c = None;
        run(&mut c, claim("a"), 0);
        // A second writer of `a` claims a ms later, then the first commits.
        run(&mut c, claim("a"), 1);
        run(&mut c, Request::Commit { holder: "a".into() }, 2);
        // The second writer may write until LEASE_MS + 1: settled only after that.
        assert!(matches!(run(&mut c, claim("b"), LEASE_MS + SETTLE_MS), Response::Denied { verify: false, .. }));
        assert!(matches!(run(&mut c, claim("b"), LEASE_MS + 1 + SETTLE_MS), Response::Denied { verify: true, .. }));
    }

    #[test]
    fn a_released_value_keeps_its_generation_rising() {
        let mut c = None;
        run(&mut c, claim("a"), 0);
        let Response::Denied { gen, .. } = run(&mut c, claim("b"), LEASE_MS + SETTLE_MS) else { panic!() };
        // `a` abandons and claims again: `b`'s check of the old claim is void.
        run(&mut c, Request::Abandon { holder: "a".into(), gen: 1 }, LEASE_MS + SETTLE_MS);
        run(&mut c, claim("a"), LEASE_MS + SETTLE_MS);
        let late = Request::TakeOver { holder: "b".into(), from: "a".into(), gen, lease_ms: LEASE_MS };
        assert!(matches!(run(&mut c, late, LEASE_MS + SETTLE_MS + 1), Response::Denied { verify: false, .. }));
    }

    #[test]
    fn a_release_frees_only_a_drop_that_began_after_every_writer_stopped() {
        let release = |h: &str, since| Request::Release { holder: h.into(), since: Some(since) };
        let mut c = None;
        run(&mut c, claim("a"), 0);
        run(&mut c, Request::Commit { holder: "a".into() }, 1);
        // A second writer of `a` reaffirms at 10 s: it may write until 40 s.
        run(&mut c, claim("a"), 10_000);
        let last = 10_000 + LEASE_MS;
        // A drop that began within the margin of that lease end is not trusted.
        assert_eq!(run(&mut c, release("a", last + MARGIN_MS - 1), 50_000), Response::Done);
        assert!(matches!(c, Some(Cell::Claim { committed: false, .. })), "{c:?}");
        let Response::Denied { settles, verify: false, .. } = run(&mut c, claim("b"), 50_000) else { panic!() };
        assert_eq!(settles, Some(last + SETTLE_MS));
        // Another holder's release changes nothing; the holder's frees.
        assert_eq!(run(&mut c, release("b", last + MARGIN_MS), 50_000), Response::NotHolder);
        assert_eq!(run(&mut c, release("a", last + MARGIN_MS), 50_000), Response::Done);
        assert_eq!(c, None, "the freed cell is deleted");
        // The next claim is fresh, its generation above every earlier one.
        assert!(matches!(run(&mut c, claim("b"), 50_001), Response::Granted { gen: 50_001_000, fresh: true, .. }));
        // A late release by the old holder is not the holder's any more.
        assert_eq!(run(&mut c, release("a", 60_000), 60_000), Response::NotHolder);
        // A settled claim answers without a settle time.
        let Response::Denied { settles: None, verify: true, .. } =
            run(&mut c, claim("a"), 50_001 + LEASE_MS + SETTLE_MS)
        else {
            panic!()
        };
    }

    #[test]
    fn only_a_fresh_untouched_grant_is_abandoned() {
        let mut c = None;
        let Response::Granted { gen, fresh: true, .. } = run(&mut c, claim("a"), 0) else { panic!() };
        assert_eq!(run(&mut c, Request::Abandon { holder: "a".into(), gen }, 1), Response::Done);
        assert_eq!(c, None, "an abandoned claim's cell is deleted");
        // A second writer of `a` reaffirms the claim: the first's abandon is void.
        let Response::Granted { gen, .. } = run(&mut c, claim("a"), 2) else { panic!() };
        assert!(matches!(run(&mut c, claim("a"), 3), Response::Granted { fresh: false, .. }));
        assert_eq!(run(&mut c, Request::Abandon { holder: "a".into(), gen }, 4), Response::NotHolder);
        assert!(matches!(c, Some(Cell::Claim { .. })));
    }

    #[test]
    fn locks_exclude_until_release_or_lapse() {
        let mut c = None;
        let acq = |t: &str| Request::Acquire { token: t.into(), lease_ms: 1000 };
        assert_eq!(run(&mut c, acq("a"), 0), Response::Acquired { until: 1000 });
        assert_eq!(run(&mut c, acq("b"), 999), Response::Busy { until: 1000 });
        assert_eq!(run(&mut c, Request::Unlock { token: "b".into() }, 999), Response::NotHolder);
        assert_eq!(run(&mut c, acq("b"), 1000), Response::Acquired { until: 2000 });
        // The lapsed holder cannot release the new one's lock.
        assert_eq!(run(&mut c, Request::Unlock { token: "a".into() }, 1001), Response::NotHolder);
        assert_eq!(run(&mut c, Request::Unlock { token: "b".into() }, 1001), Response::Done);
        assert_eq!(c, None);
        assert!(matches!(run(&mut c, claim("x"), 0), Response::Granted { .. }));
        assert!(matches!(run(&mut c, acq("a"), 0), Response::Refused { .. }));
        // A lock with no lease would be everyone's at once.
        let mut c = None;
        let zero = Request::Acquire { token: "a".into(), lease_ms: 0 };
        assert!(matches!(run(&mut c, zero, 0), Response::Refused { .. }));
        assert_eq!(c, None);
    }

    #[test]
    fn fixed_windows_admit_exactly_the_limit() {
        let mut c = None;
        let hit = |cost| Request::Hit { limit: 3, window_ms: 1000, sliding: false, cost };
        let allowed: Vec<bool> = (0..5)
            .map(|i| match run(&mut c, hit(1), 2000 + i) {
                Response::Rate { allowed, .. } => allowed,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(allowed, [true, true, true, false, false]);
        assert_eq!(run(&mut c, hit(0), 2999), Response::Rate { allowed: true, remaining: 0, reset_at: 3000 });
        assert_eq!(run(&mut c, hit(2), 3000), Response::Rate { allowed: true, remaining: 1, reset_at: 4000 });
        assert_eq!(run(&mut c, hit(2), 3001), Response::Rate { allowed: false, remaining: 1, reset_at: 4000 });
    }

    #[test]
    fn sliding_windows_count_the_last_window_exactly() {
        let mut c = None;
        let hit = Request::Hit { limit: 2, window_ms: 100, sliding: true, cost: 1 };
        assert!(matches!(run(&mut c, hit.clone(), 0), Response::Rate { allowed: true, remaining: 1, .. }));
        assert!(matches!(run(&mut c, hit.clone(), 50), Response::Rate { allowed: true, remaining: 0, reset_at: 100 }));
        assert!(matches!(run(&mut c, hit.clone(), 99), Response::Rate { allowed: false, .. }));
        // The hit at 0 leaves the window at 100.
        assert!(matches!(run(&mut c, hit.clone(), 100), Response::Rate { allowed: true, reset_at: 150, .. }));
        let zero = Request::Hit { limit: 2, window_ms: 0, sliding: true, cost: 1 };
        assert!(matches!(run(&mut c, zero, 100), Response::Refused { .. }));
    }
}
