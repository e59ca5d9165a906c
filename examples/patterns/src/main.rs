//! Each pattern once on MemoryStore, printing the KV operations each step cost.

use std::cell::RefCell;
use std::rc::Rc;

use kvgen::{ManualClock, Memo, MemoryStore, Metered, Ops};
use patterns::{config, events, flags, sessions, swr_cache, warming};

fn cost(ops: Ops) -> String {
    format!(
        "{:>3} ops: {:>3} reads billed, {:>3} writes, {} deletes, {} lists",
        ops.total(),
        ops.billed_reads(),
        ops.writes,
        ops.deletes,
        ops.lists
    )
}

async fn run() -> kvgen::Result<()> {
    let clock = ManualClock::new(1_800_000_000);
    let store = Rc::new(Metered::new(MemoryStore::with_clock(clock.clone())));
    let step = |what: &str| println!("  {what:<50} {}", cost(store.reset()));

    let st = &*store;
    let (sess, flag_repo, config_repo, products) =
        (sessions::Session::repo(st), flags::Flag::repo(st), config::Config::repo(st), warming::Product::repo(st));
    println!("sessions");
    let s = sessions::start(&sess, "ada").await?;
    step("start (a random token)");
    sessions::resume(&sess, &s.token).await?;
    step("resume, within 5 minutes of the last slide");
    clock.advance(600);
    sessions::resume(&sess, &s.token).await?;
    step("resume, 10 minutes later (the expiry slides)");
    sessions::merge(&sess, &s.token, &[("theme", "dark")]).await?;
    step("merge {theme: dark}");
    sessions::start(&sess, "ada").await?;
    store.reset();
    let n = sessions::of_user(&sess, "ada").await?.len();
    step(&format!("list ada's sessions ({n})"));
    let n = sessions::destroy_all(&sess, "ada", None).await?.ended;
    step(&format!("sign out everywhere ({n} sessions)"));

    println!("stale-while-revalidate cache");
    let pending: Rc<RefCell<Vec<kvgen::swr::Revalidation>>> = Rc::default();
    for (wait, label) in [(0, "first read"), (30, "30 s later"), (120, "2 min later")] {
        clock.advance(wait);
        let spawn = {
            let p = pending.clone();
            move |r| p.borrow_mut().push(r)
        };
        let (rate, served) = swr_cache::rate(store.clone(), "", "EUR-USD", |_| async { Ok(1_085_000) }, spawn).await?;
        step(&format!("{label}: {served:?}, {} micros", rate.micros));
        let background = std::mem::take(&mut *pending.borrow_mut());
        for r in background {
            r.await?;
            step("  the revalidation, after the response");
        }
    }

    println!("feature flags");
    let rollout = kvgen::rollout::Rollout { enabled: true, percent: 25.0, allow: vec!["ada".into()], deny: vec![] };
    flags::set(&flag_repo, &flags::Flag { name: "new-checkout".into(), rollout, note: "Q3 checkout".into() }).await?;
    step("set new-checkout at 25 %, ada allowed");
    let on = flags::is_on(&flag_repo, "new-checkout", "ada").await?;
    step(&format!("is it on for ada? {on}"));
    let users: Vec<String> = (0..1000).map(|i| format!("user-{i}")).collect();
    let flag = flag_repo.get(&"new-checkout".to_string()).await?.expect("set above");
    let share = users.iter().filter(|u| flag.rollout.admits("new-checkout", u)).count();
    step(&format!("one read, evaluated for 1000 users: {share} on"));

    println!("configuration singleton");
    let memo = Memo::new(config::MAX_AGE);
    config::current(&config_repo, &memo).await?;
    step("first read in this isolate");
    config::current(&config_repo, &memo).await?;
    step("again within 30 s (from the isolate's memo)");
    config::change(&config_repo, &memo, |c| c.banner = "Sale today".into()).await?;
    step("change the banner");

    println!("event log");
    let (log, snaps) = (events::Event::repo(st), events::Snapshot::repo(st));
    // Event times are wall-clock milliseconds (an appended event's ULID time).
    let wall_ms =
        || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let t0 = wall_ms() - 3_600_000;
    for (i, cents) in [500, -120, 300].into_iter().enumerate() {
        events::append_at(&log, "acct-1", t0 + i as u64 * 60_000, cents, "imported").await?;
    }
    store.reset();
    events::append(&log, "acct-1", -50, "withdrawal").await?;
    step("append an event");
    let page = events::newest_first(&log, "acct-1", None, kvgen::Page::first(10)).await?;
    step(&format!("newest first: {:?} cents", page.items.iter().map(|e| e.cents).collect::<Vec<_>>()));
    let balance = events::balance(&log, &snaps, "acct-1").await?;
    step(&format!("balance, no snapshot yet: {balance}"));
    let snap = events::snapshot(&log, &snaps, "acct-1", wall_ms()).await?;
    step(&format!("snapshot: {} events older than 2 minutes folded", snap.events));
    let balance = events::balance(&log, &snaps, "acct-1").await?;
    step(&format!("balance from the snapshot: {balance}"));

    println!("cache warming");
    let skus: Vec<String> = (1..=250).map(|i| format!("sku-{i:03}")).collect();
    let origin = |missing: Vec<&String>| {
        let found =
            missing.iter().map(|s| warming::Product { sku: (*s).clone(), name: format!("Product {s}"), cents: 999 });
        std::future::ready(Ok(found.collect()))
    };
    warming::warm(&products, &skus, origin).await?;
    step("warm 250 SKUs, none cached");
    warming::warm(&products, &skus, origin).await?;
    step("warm them again, all cached");
    Ok(())
}

fn main() {
    if let Err(e) = pollster::block_on(run()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
