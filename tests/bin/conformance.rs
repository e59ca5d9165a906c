//! The conformance runner: every behaviour scenario on MemoryStore, and, with
//! `--worker URL`, the same scenarios inside the Worker on local workerd
//! (`POST URL/__conformance/NAME`), then a walk over the Worker's HTTP routes.
//! Prints one line per scenario with each store's result and closes with
//! `N passed, N failed`; exits 1 if anything failed.

use kvgen::{Clock, MemoryStore, SystemClock};
use kvgen_tests::scenarios::{self, Ctx, Outcome};
use serde_json::{json, Value};
use std::process::ExitCode;

struct Worker {
    base: String,
    agent: ureq::Agent,
}

impl Worker {
    fn new(base: &str) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(300)))
            .build();
        Worker { base: base.trim_end_matches('/').to_string(), agent: config.into() }
    }

    fn scenario(&self, name: &str, run: &str) -> Outcome {
        self.scenario_on(name, run, "")
    }

    /// `scenario` through the store of `?store=STORE` (empty: the default one).
    fn scenario_on(&self, name: &str, run: &str, store: &str) -> Outcome {
        let url = format!("{}/__conformance/{name}?run={run}&store={store}", self.base);
        let mut resp = self.agent.post(&url).send_empty().map_err(|e| format!("POST {url}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().map_err(|e| format!("reading {url}: {e}"))?;
        let v: Value = serde_json::from_str(&body).map_err(|_| format!("{url} answered {status}: {body}"))?;
        match v["ok"].as_bool() {
            Some(true) => Ok(()),
            _ => Err(v["error"].as_str().unwrap_or(&body).to_string()),
        }
    }

    /// `(status, JSON body)` of one request.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.base);
        let sent = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            ("POST", Some(b)) => self.agent.post(&url).send_json(b),
            ("POST", None) => self.agent.post(&url).send_empty(),
            ("PUT", Some(b)) => self.agent.put(&url).send_json(b),
            ("PATCH", Some(b)) => self.agent.patch(&url).send_json(b),
            (m, _) => return Err(format!("no body for {m} {path}")),
        };
        let mut resp = sent.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().map_err(|e| format!("{method} {path}: {e}"))?;
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, v))
    }
}

macro_rules! expect {
    ($w:expr, $method:literal, $path:expr, $body:expr, $status:literal) => {{
        let path: &str = &$path;
        let (status, v) = $w.call($method, path, $body)?;
        if status != $status {
            return Err(format!("{} {} answered {status}, not {}: {v}", $method, $path, $status));
        }
        v
    }};
}

/// Every route of the Worker, in the order a client would use them.
fn http_routes(w: &Worker) -> Outcome {
    let user = |id: &str, email: &str, handle: &str| json!({ "id": id, "email": email, "org_id": "acme", "handle": handle, "name": id.to_uppercase() });
    expect!(w, "POST", "/users", Some(user("u1", "ada@acme.dev", "ada")), 201);
    expect!(w, "POST", "/users", Some(user("u2", "grace@acme.dev", "grace")), 201);
    let v = expect!(w, "POST", "/users", Some(user("u3", "ada@acme.dev", "ada2")), 409);
    if v["kind"] != "UniqueViolation" {
        return Err(format!("duplicate email: {v}"));
    }
    expect!(w, "POST", "/users", Some(user("u1", "x@acme.dev", "x")), 409);
    let v = expect!(w, "GET", "/users/u1", None, 200);
    if v["email"] != "ada@acme.dev" {
        return Err(format!("get: {v}"));
    }
    expect!(w, "GET", "/users/nobody", None, 404);
    let v = expect!(w, "GET", "/users/u1/exists", None, 200);
    if v != json!(true) {
        return Err(format!("exists: {v}"));
    }
    let v = expect!(w, "GET", "/users/by-email/grace@acme.dev", None, 200);
    if v["id"] != "u2" {
        return Err(format!("find_by_email: {v}"));
    }
    let v = expect!(w, "GET", "/orgs/acme/users/ada", None, 200);
    if v["id"] != "u1" {
        return Err(format!("find_by_org_id_and_handle: {v}"));
    }
    expect!(w, "PATCH", "/users/u9", Some(user("u9", "n@acme.dev", "n")), 404);
    expect!(w, "PATCH", "/users/u1", Some(user("u1", "countess@acme.dev", "ada")), 200);
    expect!(w, "GET", "/users/by-email/ada@acme.dev", None, 404);
    expect!(w, "PUT", "/users/u4", Some(user("u4", "linus@acme.dev", "linus")), 200);
    let v = expect!(w, "POST", "/users/upsert-by-email", Some(user("other", "linus@acme.dev", "torvalds")), 200);
    if v["id"] != "u4" {
        return Err(format!("upsert_by_email kept the id: {v}"));
    }
    let v = expect!(w, "GET", "/orgs/acme/users?limit=2", None, 200);
    let cursor = v["cursor"].as_str().ok_or(format!("list_by_org_id page 1 has a cursor: {v}"))?.to_string();
    let v2 = expect!(w, "GET", format!("/orgs/acme/users?limit=2&cursor={cursor}"), None, 200);
    let n = v["items"].as_array().map_or(0, Vec::len) + v2["items"].as_array().map_or(0, Vec::len);
    if n != 3 {
        return Err(format!("list_by_org_id over two pages: {n} users"));
    }
    let v = expect!(w, "GET", "/users/meta", None, 200);
    if v["items"][0]["name"] != "U1" {
        return Err(format!("list_meta: {v}"));
    }
    let v = expect!(w, "GET", "/users/count", None, 200);
    if v != json!(3) {
        return Err(format!("count: {v}"));
    }
    expect!(w, "POST", "/profiles", Some(json!({ "id": "p1", "user_id": "u1", "bio": "analyst" })), 200);
    let v = expect!(w, "GET", "/users/u1/profile", None, 200);
    if v["id"] != "p1" {
        return Err(format!("has_one: {v}"));
    }
    for (id, author) in [(1, "u1"), (2, "u1"), (3, "u2")] {
        let post = json!({ "id": id, "author_id": author, "status": "published", "title": format!("Post {id}"), "body": "..." });
        expect!(w, "POST", "/posts", Some(post), 200);
    }
    let v = expect!(w, "GET", "/users/u1/posts", None, 200);
    if v["items"].as_array().map_or(0, Vec::len) != 2 {
        return Err(format!("has_many: {v}"));
    }
    let v = expect!(w, "GET", "/posts/3/author", None, 200);
    if v["id"] != "u2" {
        return Err(format!("belongs_to: {v}"));
    }
    let v = expect!(w, "GET", "/posts/authors", None, 200);
    if v != json!([{ "post": 1, "author": "ada" }, { "post": 2, "author": "ada" }, { "post": 3, "author": "grace" }]) {
        return Err(format!("belongs_to batched: {v}"));
    }
    expect!(w, "POST", "/comments", Some(json!({ "id": "c1", "post_id": 1, "author_id": "u2", "body": "!" })), 200);
    let v = expect!(w, "GET", "/posts/1/comments", None, 200);
    if v["items"].as_array().map_or(0, Vec::len) != 1 {
        return Err(format!("comments: {v}"));
    }
    expect!(w, "POST", "/sessions?ttl=120", Some(json!({ "token": "t1", "user_id": "u1" })), 200);
    let v = expect!(w, "POST", "/sessions?ttl=59", Some(json!({ "token": "t2", "user_id": "u1" })), 400);
    if v["kind"] != "TtlTooShort" {
        return Err(format!("ttl 59: {v}"));
    }
    let v = expect!(w, "GET", "/sessions", None, 200);
    let exp = v[0]["expiration"].as_u64().unwrap_or(0);
    let now = SystemClock.now();
    if exp.abs_diff(now + 120) > 30 {
        return Err(format!("session expiration {exp}, now {now}"));
    }
    let v = expect!(w, "DELETE", "/users/u2", None, 200);
    if v != json!(true) {
        return Err(format!("delete: {v}"));
    }
    expect!(w, "GET", "/users/u2", None, 404);
    expect!(w, "GET", "/users/by-email/grace@acme.dev", None, 404);
    // Every index of every model agrees with its records.
    let v = expect!(w, "GET", "/admin/verify", None, 200);
    let reports = v.as_array().ok_or(format!("verify: {v}"))?;
    let dirty: Vec<&Value> =
        reports.iter().filter(|r| r["missing"] != 0 || r["dangling"] != 0 || r["mismatched"] != 0).collect();
    if reports.len() != 6 || !dirty.is_empty() {
        return Err(format!("verify_all: {v}"));
    }
    let v = expect!(w, "POST", "/admin/repair", Some(json!({})), 200);
    if v.as_array().is_none_or(|r| r.iter().any(|r| r["repaired"] != true)) {
        return Err(format!("repair_all: {v}"));
    }
    Ok(())
}

/// `n` concurrent requests, one thread each: `(status, body)` per request, in order.
fn burst(
    w: &Worker,
    n: usize,
    request: impl Fn(usize) -> (&'static str, String, Option<Value>) + Sync,
) -> Vec<(u16, Value)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let request = &request;
                s.spawn(move || {
                    let (method, path, body) = request(i);
                    w.call(method, &path, body).unwrap_or_else(|e| (0, Value::String(e)))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("request thread")).collect()
    })
}

/// Racing writers on the coordinator Durable Object: a strict unique index
/// gives exactly one of 50 concurrent creates; a lock admits one request
/// at a time; a rate limit of 10 admits exactly 10 of 50.
fn coordination(w: &Worker, run: &str) -> Outcome {
    let email = format!("race-{run}@x");
    let strict = burst(w, 50, |i| {
        ("POST", "/strict/accounts".into(), Some(json!({ "id": format!("a{i}-{run}"), "email": email })))
    });
    let won = strict.iter().filter(|(s, _)| *s == 200).count();
    let refused = strict.iter().filter(|(s, v)| *s == 409 && v["kind"] == "UniqueViolation").count();
    let plain = burst(w, 50, |i| {
        ("POST", "/plain/signups".into(), Some(json!({ "id": format!("s{i}-{run}"), "email": email })))
    });
    let plain_won = plain.iter().filter(|(s, _)| *s == 200).count();
    println!("  50 concurrent creates of one email: strict index {won} created, {refused} refused; plain index {plain_won} created");
    if (won, refused) != (1, 49) {
        let other: Vec<_> = strict.iter().filter(|(s, _)| *s != 200 && *s != 409).take(3).collect();
        return Err(format!("strict creates: {won} created, {refused} refused (want 1 and 49); others: {other:?}"));
    }
    let winner = strict.iter().position(|(s, _)| *s == 200).expect("one winner");
    let found = expect!(w, "GET", format!("/strict/accounts/by-email/{email}"), None, 200);
    if found["id"] != format!("a{winner}-{run}") {
        return Err(format!("the email's record is {found}, not the winner a{winner}-{run}"));
    }

    expect!(w, "GET", "/coord/overlap", None, 200);
    let locked = burst(w, 20, |i| ("POST", format!("/coord/lock/l-{run}/t{i}"), None));
    let acquired = locked.iter().filter(|(s, v)| *s == 200 && v["acquired"] == true).count();
    let most = expect!(w, "GET", "/coord/overlap", None, 200)["most_inside"].as_u64().unwrap_or(0);
    burst(w, 20, |_| ("POST", "/coord/unlocked".into(), None));
    let unlocked_most = expect!(w, "GET", "/coord/overlap", None, 200)["most_inside"].as_u64().unwrap_or(0);
    println!("  20 concurrent requests for one lock: {acquired} ran, at most {most} inside at once (without the lock: {unlocked_most})");
    if acquired != 20 || most != 1 {
        let other: Vec<_> = locked.iter().filter(|(s, v)| *s != 200 || v["acquired"] != true).take(3).collect();
        return Err(format!("lock: {acquired} of 20 ran, {most} inside at once (want 20 and 1); others: {other:?}"));
    }
    if unlocked_most < 2 {
        return Err(format!("without the lock only {unlocked_most} were inside at once: the check cannot see overlap"));
    }

    let rated = burst(w, 50, |_| ("POST", format!("/coord/rate/k-{run}"), None));
    let allowed = rated.iter().filter(|(s, v)| *s == 200 && v["allowed"] == true).count();
    let denied = rated.iter().filter(|(s, v)| *s == 200 && v["allowed"] == false).count();
    println!("  50 concurrent hits on a limit of 10 per hour: {allowed} allowed, {denied} refused");
    if (allowed, denied) != (10, 40) {
        return Err(format!("rate limit: {allowed} allowed, {denied} refused (want 10 and 40)"));
    }
    Ok(())
}

/// The pattern routes (examples/patterns in the Worker): a session's life, a
/// stale read revalidated after its response by `wait_until`, a flag, the
/// configuration kept per isolate, and cache warming.
fn pattern_routes(w: &Worker, run: &str) -> Outcome {
    // A scope from the Worker's STAGE var ("e2e"), and a var it does not have.
    let comment = json!({ "id": format!("c-{run}"), "post_id": 1, "author_id": "u1", "body": "staged" });
    expect!(w, "POST", "/stage/comments", Some(comment.clone()), 200);
    let keys = expect!(w, "GET", format!("/__keys?prefix=e2e/comment:c-{run}"), None, 200);
    if keys != json!([format!("e2e/comment:c-{run}")]) {
        return Err(format!("the STAGE var scopes the keys: {keys}"));
    }
    let v = expect!(w, "POST", "/stage/comments?var=NO_SUCH_VAR", Some(comment), 500);
    if v["kind"] != "Store" || !v["error"].as_str().unwrap_or("").contains("NO_SUCH_VAR") {
        return Err(format!("a missing var is an error naming it: {v}"));
    }

    let user = format!("pu-{run}");
    let s = expect!(w, "POST", "/patterns/sessions", Some(json!({ "user_id": user })), 200);
    let token = s["token"].as_str().ok_or(format!("a session has a token: {s}"))?.to_string();
    expect!(w, "GET", format!("/patterns/sessions/{token}"), None, 200);
    let v = expect!(w, "PATCH", format!("/patterns/sessions/{token}"), Some(json!({ "theme": "dark" })), 200);
    if v["data"]["theme"] != "dark" {
        return Err(format!("merge: {v}"));
    }
    let v = expect!(w, "GET", format!("/patterns/users/{user}/sessions"), None, 200);
    if v.as_array().map(Vec::len) != Some(1) {
        return Err(format!("a user's sessions: {v}"));
    }
    let v = expect!(w, "DELETE", format!("/patterns/users/{user}/sessions"), None, 200);
    if v != json!({ "ended": 1, "cursor": null }) {
        return Err(format!("sign out everywhere: {v}"));
    }
    expect!(w, "GET", format!("/patterns/sessions/{token}"), None, 404);

    // fresh=0: every read after the first is stale, answered from the cache
    // and revalidated after the response.
    let path = format!("/patterns/rates/P-{run}?fresh=0");
    let first = expect!(w, "GET", path, None, 200);
    let m1 = first["rate"]["micros"].as_u64().ok_or(format!("a rate: {first}"))?;
    if first["served"] != "Fetched" {
        return Err(format!("the first read fetches: {first}"));
    }
    let stale = expect!(w, "GET", path, None, 200);
    if stale["served"] != "Stale" || stale["rate"]["micros"] != m1 {
        return Err(format!("a stale read answers the cached rate {m1}: {stale}"));
    }
    let mut revalidated = None;
    for _ in 0..50 {
        let v = expect!(w, "GET", path, None, 200);
        if v["rate"]["micros"].as_u64().is_some_and(|m| m > m1) {
            revalidated = Some(v);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let v = revalidated.ok_or("the stale read's revalidation never wrote a newer rate")?;
    println!(
        "  stale-while-revalidate: fetched {m1}, served stale, revalidated after the response to {}",
        v["rate"]["micros"]
    );

    let flag = format!("/patterns/flags/f-{run}");
    expect!(w, "PUT", flag, Some(json!({ "enabled": true, "percent": 0.0, "allow": ["ada"] })), 200);
    let (ada, bob) =
        (expect!(w, "GET", format!("{flag}/ada"), None, 200), expect!(w, "GET", format!("{flag}/bob"), None, 200));
    if ada["on"] != true || bob["on"] != false {
        return Err(format!("flag at 0 % with ada allowed: ada {ada}, bob {bob}"));
    }

    let banner = format!("b-{run}");
    expect!(w, "PATCH", "/patterns/config", Some(json!({ "banner": banner })), 200);
    let v = expect!(w, "GET", "/patterns/config", None, 200);
    if v["config"]["banner"] != banner.as_str() || v["from"] != "isolate" {
        return Err(format!("the changed configuration, from the isolate's memo: {v}"));
    }

    // An event log: appends, newest first (by `at`), from a point in time, a balance, a snapshot.
    let stream = format!("/patterns/events/s-{run}");
    let mut appended = Vec::new();
    for (cents, memo) in [(100, "a"), (200, "b"), (-50, "c")] {
        let e = expect!(w, "POST", stream, Some(json!({ "cents": cents, "memo": memo })), 200);
        appended.push((e["id"].as_str().unwrap_or("").to_string(), e["at"].as_u64().unwrap_or(0)));
    }
    let page = expect!(w, "GET", stream, None, 200);
    let ats: Vec<u64> =
        page["items"].as_array().map_or(vec![], |a| a.iter().filter_map(|e| e["at"].as_u64()).collect());
    if ats.len() != 3 || ats.windows(2).any(|w| w[0] < w[1]) {
        return Err(format!("three events, newest first: {page}"));
    }
    let (first_id, first_at) = appended[0].clone();
    let from = expect!(w, "GET", format!("{stream}?from={first_at}"), None, 200);
    let items = from["items"].as_array().cloned().unwrap_or_default();
    if !items.iter().all(|e| e["at"].as_u64().is_some_and(|a| a <= first_at))
        || !items.iter().any(|e| e["id"] == first_id.as_str())
    {
        return Err(format!("events from the first one's time back: {from}"));
    }
    let balance = expect!(w, "GET", format!("{stream}/balance"), None, 200);
    let snap = expect!(w, "POST", format!("{stream}/snapshot"), None, 200);
    let after = expect!(w, "GET", format!("{stream}/balance"), None, 200);
    if balance["cents"] != 250 || after["cents"] != 250 || snap["events"] != 0 {
        return Err(format!(
            "balance 250 before and after a snapshot that folds none of the new events: {balance}, {snap}, {after}"
        ));
    }

    let skus: Vec<String> = (1..=20).map(|i| format!("w{run}-{i:02}")).collect();
    let v = expect!(w, "POST", "/patterns/warm", Some(json!(skus)), 200);
    if v != json!({ "found": 18, "asked_origin": 20 }) {
        return Err(format!("warming 20 SKUs, 2 unknown to the origin: {v}"));
    }
    let v = expect!(w, "POST", "/patterns/warm", Some(json!(skus)), 200);
    if v != json!({ "found": 18, "asked_origin": 2 }) {
        return Err(format!("warming again asks only for the unknown: {v}"));
    }
    Ok(())
}

/// The scenarios run again through `WorkerKv::from(worker::kv::KvStore)`: those
/// whose reads go through bulk reads with metadata (records, listings, relations).
const HELD: &[&str] =
    &["crud", "bulk_reads", "relations", "ttl_and_metadata", "record_listing", "free_metadata", "cache_ttl_read"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let worker = args.iter().position(|a| a == "--worker").and_then(|i| args.get(i + 1)).map(|u| Worker::new(u));
    let run = format!("r{}", SystemClock.now());
    let memory = MemoryStore::new();
    let (mut passed, mut failed) = (0, 0);
    let mut failures = Vec::new();
    let mut tally = |store: &str, name: &str, outcome: &Outcome| match outcome {
        Ok(()) => passed += 1,
        Err(why) => {
            failed += 1;
            failures.push(format!("{name} on {store}: {why}"));
        }
    };
    let show = |o: &Outcome| if o.is_ok() { "ok" } else { "FAILED" };
    println!("{:<26} {:<8} {}", "scenario", "memory", if worker.is_some() { "workerd" } else { "" });
    for name in scenarios::NAMES {
        // The clock is read per scenario, as the Worker reads its own.
        let ctx = Ctx { run: run.clone(), now: SystemClock.now() };
        let on_memory = pollster::block_on(scenarios::run(name, &memory, &ctx));
        tally("memory", name, &on_memory);
        let on_worker = worker.as_ref().map(|w| w.scenario(name, &run));
        if let Some(o) = &on_worker {
            tally("workerd", name, o);
        }
        println!("{name:<26} {:<8} {}", show(&on_memory), on_worker.as_ref().map_or("", show));
    }
    if let Some(w) = &worker {
        // The scenarios that read in bulk, again through a `WorkerKv` made from a
        // `worker::kv::KvStore` (which reads in bulk another way), under their own run.
        for name in HELD {
            let held = w.scenario_on(name, &format!("{run}h"), "held");
            tally("workerd", &format!("{name} (held)"), &held);
            println!("{:<26} {:<8} {}", format!("{name} (held)"), "-", show(&held));
        }
        let routes = http_routes(w);
        tally("workerd", "http_routes", &routes);
        println!("{:<26} {:<8} {}", "http_routes", "-", show(&routes));
        let patterns = pattern_routes(w, &run);
        tally("workerd", "pattern_routes", &patterns);
        println!("{:<26} {:<8} {}", "pattern_routes", "-", show(&patterns));
        let coordinated = coordination(w, &run);
        tally("workerd", "coordination", &coordinated);
        println!("{:<26} {:<8} {}", "coordination", "-", show(&coordinated));
    }
    for f in &failures {
        println!("  failed: {f}");
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
