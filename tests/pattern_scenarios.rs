//! The everyday-workload patterns of `examples/patterns`, as scenarios: the
//! same code on MemoryStore (the native suite) and on Workers KV (the Worker
//! example, on local workerd). Each counts its KV operations through
//! [`Metered`] and checks the costs docs/patterns.md states,
//! on both stores.

use std::cell::Cell;
use std::collections::BTreeMap;

use kvgen::rollout::Rollout;
use kvgen::swr::{Freshness, Stamped};
use kvgen::Page;
use kvgen::{KvStore, Model};
use kvgen::{Memo, Metered, Ops, WriteOptions};
use patterns::config::{self, Config};
use patterns::events::{self, Event, Snapshot};
use patterns::flags::{self, Flag};
use patterns::sessions::{self, Session};
use patterns::swr_cache::{Rate, POLICY};
use patterns::warming::{self, Product};

use crate::scenarios::Outcome;

/// Checks the operations counted since the last reset: `(operations toward
/// the 1000 per request, billed reads, writes, deletes, lists)`.
fn cost<S: KvStore>(m: &Metered<S>, step: &str, want: (u64, u64, u64, u64, u64)) -> Outcome {
    let o: Ops = m.reset();
    let got = (o.total(), o.billed_reads(), o.writes, o.deletes, o.lists);
    check!(got == want, "{step}: (ops, billed reads, writes, deletes, lists) {got:?}, expected {want:?}");
    Ok(())
}

/// An expiration `secs` from now, give or take the seconds a scenario takes.
fn expires_in(at: Option<Option<u64>>, now: u64, secs: u64) -> bool {
    matches!(at, Some(Some(at)) if at >= now + secs && at <= now + secs + 30)
}

pub(crate) async fn sessions<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let m = Metered::new(s);
    let repo = ok!(Session::repo_scoped(&m, scope));
    let a = ok!(sessions::start(&repo, "ada").await);
    cost(&m, "start", (3, 1, 2, 0, 0))?;
    let b = ok!(sessions::start(&repo, "ada").await);
    let c = ok!(sessions::start(&repo, "bob").await);
    m.reset();
    let v4 = |t: &str| t.len() == 36 && t.as_bytes()[14] == b'4';
    check!(v4(&a.token) && v4(&b.token) && a.token != b.token, "random v4 tokens: {} {}", a.token, b.token);

    check!(ok!(sessions::resume(&repo, &a.token).await) == Some(a.clone()), "resume");
    cost(&m, "resume within 5 minutes: the session and its tombstone in 1 bulk read", (1, 2, 0, 0, 0))?;
    check!(ok!(sessions::resume(&repo, "no-such-token").await).is_none(), "an unknown token");
    m.reset();

    // Sliding expiry: a session last slid 10 minutes ago, expiring in 2.
    let now = s.now();
    let old = Session { touched_at: now - 600, ..a.clone() };
    ok!(repo.update_with(&old, WriteOptions::ttl(120)).await);
    check!(expires_in(ok!(repo.expiration(&a.token).await), now, 120), "set up to expire in 2 minutes");
    m.reset();
    let slid = ok!(sessions::resume(&repo, &a.token).await);
    cost(&m, "resume that slides", (4, 3, 2, 0, 0))?;
    check!(slid.as_ref().is_some_and(|s| s.touched_at >= now), "the slide is recorded: {slid:?}");
    let expiry = ok!(repo.expiration(&a.token).await);
    check!(expires_in(expiry, now, Session::DEFAULT_TTL.unwrap_or(0)), "slid to 30 minutes: {expiry:?}");
    check!(ok!(repo.verify().await).is_clean(), "its index entry slid with it");
    m.reset();

    let merged = ok!(sessions::merge(&repo, &a.token, &[("theme", "dark"), ("lang", "en")]).await);
    let want: BTreeMap<String, String> = [("lang", "en"), ("theme", "dark")].map(|(k, v)| (k.into(), v.into())).into();
    check!(merged.map(|s| s.data) == Some(want), "merge adds");
    let merged = ok!(sessions::merge(&repo, &a.token, &[("lang", "")]).await);
    check!(merged.map(|s| s.data.len()) == Some(1), "an empty value removes");
    check!(ok!(sessions::merge(&repo, "no-such-token", &[("a", "b")]).await).is_none(), "merge of none");
    m.reset();

    let mut of_ada: Vec<String> = ok!(sessions::of_user(&repo, "ada").await).into_iter().map(|s| s.token).collect();
    cost(&m, "list a user's sessions", (3, 4, 0, 0, 1))?;
    of_ada.sort();
    let mut want = vec![a.token.clone(), b.token.clone()];
    want.sort();
    check!(of_ada == want, "ada's sessions, not bob's: {of_ada:?}");

    m.reset();
    check!(ok!(sessions::destroy(&repo, &b.token).await), "destroy");
    cost(&m, "destroy: the tombstone, then the session", (4, 1, 1, 2, 0))?;
    check!(ok!(sessions::resume(&repo, &b.token).await).is_none(), "a destroyed session is gone");
    check!(!ok!(sessions::destroy(&repo, &b.token).await), "destroying twice says so");
    m.reset();
    let out = ok!(sessions::destroy_all(&repo, "ada", None).await);
    cost(&m, "sign out everywhere (1 session)", (5, 1, 1, 2, 1))?;
    check!(out == sessions::SignOut { ended: 1, cursor: None }, "signed out everywhere: {out:?}");
    check!(ok!(sessions::resume(&repo, &a.token).await).is_none(), "a signed-out session is gone");
    check!(ok!(sessions::of_user(&repo, "ada").await).is_empty(), "no session of ada's left");
    check!(ok!(sessions::resume(&repo, &c.token).await).is_some(), "bob's session stays");
    check!(ok!(repo.verify().await).is_clean(), "clean at the end");
    Ok(())
}

pub(crate) async fn swr_cache<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let m = Metered::new(s);
    let repo = ok!(Rate::repo_scoped(&m, scope));
    let pair = "EUR-USD".to_string();
    check!(ok!(repo.get_cached(&pair, POLICY).await).is_none(), "nothing cached");
    cost(&m, "a miss", (1, 1, 0, 0, 0))?;
    let mut rate = Rate { pair: pair.clone(), micros: 1_085_000, fetched_at: 0 };
    let now = s.now();
    ok!(repo.put_fetched(&mut rate, POLICY).await);
    cost(&m, "writing a fetched value", (1, 0, 1, 0, 0))?;
    check!(rate.fetched_at >= now, "stamped with the store's time");
    check!(expires_in(ok!(repo.expiration(&pair).await), now, POLICY.ttl()), "kept for both windows");
    m.reset();
    let fresh = ok!(repo.get_cached(&pair, POLICY).await);
    check!(fresh == Some((rate.clone(), Freshness::Fresh)), "fresh: {fresh:?}");
    cost(&m, "a fresh hit", (1, 1, 0, 0, 0))?;

    // A value fetched two minutes ago is stale; one from before both windows is gone.
    let mut aged = rate.clone();
    aged.stamp(now - 120);
    ok!(repo.put_with(&aged, WriteOptions::ttl(POLICY.ttl())).await);
    check!(matches!(ok!(repo.get_cached(&pair, POLICY).await), Some((_, Freshness::Stale))), "stale");
    aged.stamp(now - POLICY.fresh - POLICY.stale - 1);
    ok!(repo.put_with(&aged, WriteOptions::ttl(POLICY.ttl())).await);
    check!(ok!(repo.get_cached(&pair, POLICY).await).is_none(), "older than both windows");
    Ok(())
}

pub(crate) async fn flags<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let m = Metered::new(s);
    let repo = ok!(Flag::repo_scoped(&m, scope));
    let rollout = Rollout { enabled: true, percent: 0.0, allow: vec!["ada".into()], deny: vec!["eve".into()] };
    let flag = Flag { name: "new-checkout".into(), rollout, note: "Q3 checkout".into() };
    ok!(flags::set(&repo, &flag).await);
    cost(&m, "set a flag", (1, 0, 1, 0, 0))?;
    check!(ok!(flags::is_on(&repo, "new-checkout", "ada").await), "on for the allowed");
    cost(&m, "evaluate a flag", (1, 1, 0, 0, 0))?;
    check!(!ok!(flags::is_on(&repo, "new-checkout", "bob").await), "off at 0 %");
    check!(!ok!(flags::is_on(&repo, "no-such-flag", "ada").await), "a missing flag is off");

    ok!(flags::set_percent(&repo, "new-checkout", 100.0).await);
    check!(ok!(flags::is_on(&repo, "new-checkout", "bob").await), "on at 100 %");
    check!(!ok!(flags::is_on(&repo, "new-checkout", "eve").await), "deny wins");
    // At 30 %, the subjects in are exactly those whose bucket is under 3000.
    ok!(flags::set_percent(&repo, "new-checkout", 30.0).await);
    let stored = ok!(repo.get(&"new-checkout".to_string()).await);
    check!(stored.as_ref().map(|f| f.note.as_str()) == Some("Q3 checkout"), "set_percent keeps the rest");
    for n in 0..20 {
        let who = format!("user-{n}");
        let want = kvgen::rollout::bucket("new-checkout", &who) < 3000;
        check!(ok!(flags::is_on(&repo, "new-checkout", &who).await) == want, "{who} at 30 %");
    }
    ok!(flags::set(&repo, &Flag { name: "dark-mode".into(), rollout: Rollout::default(), note: String::new() }).await);
    m.reset();
    let all = ok!(flags::all_for(&repo, "ada").await);
    cost(&m, "every flag for one subject", (2, 2, 0, 0, 1))?;
    let want: BTreeMap<String, bool> = [("dark-mode".into(), false), ("new-checkout".into(), true)].into();
    check!(all == want, "every flag: {all:?}");
    Ok(())
}

pub(crate) async fn config<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let m = Metered::new(s);
    let repo = ok!(Config::repo_scoped(&m, scope));
    let memo = Memo::new(config::MAX_AGE);
    check!(ok!(config::current(&repo, &memo).await) == Config::default(), "the default when none is stored");
    cost(&m, "first read in an isolate", (1, 1, 0, 0, 0))?;
    check!(ok!(config::current(&repo, &memo).await) == Config::default(), "again");
    cost(&m, "a read from the isolate's memo", (0, 0, 0, 0, 0))?;

    let changed = ok!(config::change(&repo, &memo, |c| c.banner = "Sale today".into()).await);
    cost(&m, "a partial update", (2, 1, 1, 0, 0))?;
    check!(changed.banner == "Sale today" && changed.rate_per_minute == 60, "banner changed: {changed:?}");
    ok!(config::change(&repo, &memo, |c| c.rate_per_minute = 120).await);
    check!(ok!(config::current(&repo, &memo).await).banner == "Sale today", "the memo has the change");
    let stored = ok!(repo.get(&config::ID.to_string()).await);
    check!(stored.as_ref().map(|c| (c.banner.as_str(), c.rate_per_minute)) == Some(("Sale today", 120)), "partial");
    m.reset();

    // Another isolate: its own memo, so one read, of the stored change.
    let other = Memo::new(config::MAX_AGE);
    check!(ok!(config::current(&repo, &other).await).rate_per_minute == 120, "another isolate reads the change");
    cost(&m, "another isolate's first read", (1, 1, 0, 0, 0))?;
    Ok(())
}

pub(crate) async fn cache_warming<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let m = Metered::new(s);
    let repo = ok!(Product::repo_scoped(&m, scope));
    let skus: Vec<String> = (1..=150).map(|i| format!("sku-{i:03}")).collect();
    let asked = Cell::new(0usize);
    // The origin knows every SKU but those ending in 7, and answers one it was not asked for.
    let origin = |missing: Vec<&String>| {
        asked.set(asked.get() + missing.len());
        let mut found: Vec<Product> = missing
            .iter()
            .filter(|s| !s.ends_with('7'))
            .map(|s| Product { sku: (*s).clone(), name: format!("Product {s}"), cents: 999 })
            .collect();
        found.push(Product { sku: "unasked".into(), name: "x".into(), cents: 1 });
        std::future::ready(Ok(found))
    };
    let now = s.now();
    let got = ok!(warming::warm(&repo, &skus, origin).await);
    cost(&m, "warming 150 SKUs, none cached, 135 known", (137, 150, 135, 0, 0))?;
    check!(asked.get() == 150, "the origin was asked for all 150 at once");
    check!(got.len() == 150, "one answer per SKU");
    for (sku, p) in skus.iter().zip(&got) {
        check!(p.as_ref().map(|p| &p.sku) == (!sku.ends_with('7')).then_some(sku), "{sku}: {p:?}");
    }
    check!(ok!(repo.get(&"unasked".to_string()).await).is_none(), "what was not asked for is not written");
    check!(expires_in(ok!(repo.expiration(&skus[0]).await), now, warming::TTL), "cached with the ttl");
    m.reset();

    asked.set(0);
    let again = ok!(warming::warm(&repo, &skus, origin).await);
    cost(&m, "warming again: only the 15 unknown asked again", (2, 150, 0, 0, 0))?;
    check!(asked.get() == 15 && again == got, "the cached ones read, the unknown ones asked again");
    Ok(())
}

/// Keys laid out as `{stage}:{model}:{id}` by code that came before kvgen:
/// a scope ending in `:` reads and writes them as they are.
pub(crate) async fn existing_stage_layout<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let stage = format!("{scope}:");
    let legacy = Product { sku: "p1".into(), name: "Kept".into(), cents: 100 };
    let json = ok!(serde_json::to_string(&legacy));
    ok!(s.put(&format!("{stage}product:p1"), json.as_bytes(), &kvgen::PutOptions::default()).await);
    let repo = ok!(Product::repo_scoped(s, &stage));
    check!(ok!(repo.get(&"p1".to_string()).await) == Some(legacy.clone()), "the existing record reads");
    ok!(repo.create(&Product { sku: "p2".into(), name: "New".into(), cents: 5 }).await);
    let listed = ok!(s.list(&kvgen::ListOptions { prefix: stage.clone(), cursor: None, limit: 10 }).await);
    let names: Vec<&str> = listed.keys.iter().map(|k| k.name.as_str()).collect();
    check!(names == [format!("{stage}product:p1"), format!("{stage}product:p2")], "the same layout: {names:?}");
    check!(ok!(repo.count().await) == 2, "both listed");
    let slash = ok!(Product::repo_scoped(s, scope));
    check!(ok!(slash.count().await) == 0, "the `/` scope of the same name sees none of them");
    Ok(())
}

/// The event log: back-dated appends on two streams, newest first across
/// pages, from a point in time, a live append, and a snapshot that folds
/// only settled events.
pub(crate) async fn event_log<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let m = Metered::new(s);
    let (log, snaps) = (ok!(Event::repo_scoped(&m, scope)), ok!(Snapshot::repo_scoped(&m, scope)));
    let now_ms = s.now() * 1000;
    let t0 = now_ms - 3_600_000;
    let minute = 60_000;
    for i in 0..10u64 {
        ok!(events::append_at(&log, "acct-1", t0 + i * minute, (i as i64 + 1) * 100, "deposit").await);
    }
    cost(&m, "10 appends", (30, 10, 20, 0, 0))?;
    ok!(events::append_at(&log, "acct-2", t0 + 5 * minute, 7, "another stream").await);
    m.reset();
    let ats = |p: &kvgen::ListPage<Event>| p.items.iter().map(|e| (e.at - t0) / minute).collect::<Vec<_>>();
    let first = ok!(events::newest_first(&log, "acct-1", None, Page::first(4)).await);
    cost(&m, "a page of 4 events", (2, 4, 0, 0, 1))?;
    check!(ats(&first) == [9, 8, 7, 6], "newest first: {:?}", ats(&first));
    let cursor = first.cursor.clone().ok_or("a second page")?;
    let second = ok!(events::newest_first(&log, "acct-1", None, Page::after(cursor, 4)).await);
    check!(ats(&second) == [5, 4, 3, 2], "the next page: {:?}", ats(&second));
    let from = ok!(events::newest_first(&log, "acct-1", Some(t0 + 4 * minute), Page::first(10)).await);
    check!(ats(&from) == [4, 3, 2, 1, 0], "from minute 4 back: {:?}", ats(&from));
    check!(from.cursor.is_none(), "the whole rest in one page");

    let live = ok!(events::append(&log, "acct-1", -50, "withdrawal").await);
    check!(live.at + 5_000 >= now_ms && live.id.len() == 26, "a live event at its ULID's time: {live:?}");
    let top = ok!(events::newest_first(&log, "acct-1", None, Page::first(1)).await);
    check!(top.items.first().map(|e| &e.id) == Some(&live.id), "the live event is the newest");
    m.reset();
    check!(ok!(events::balance(&log, &snaps, "acct-1").await) == 5450, "balance with no snapshot");

    let snap = ok!(events::snapshot(&log, &snaps, "acct-1", now_ms).await);
    check!((snap.cents, snap.events) == (5500, 10), "the settled events folded, the live one not: {snap:?}");
    m.reset();
    check!(ok!(events::balance(&log, &snaps, "acct-1").await) == 5450, "balance from the snapshot");
    cost(&m, "a balance from a snapshot and 1 newer event, its record read", (3, 2, 0, 0, 1))?;
    check!(ok!(events::balance(&log, &snaps, "acct-2").await) == 7, "another stream");
    Ok(())
}
