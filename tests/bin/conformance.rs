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
        let url = format!("{}/__conformance/{name}?run={run}", self.base);
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
        let routes = http_routes(w);
        tally("workerd", "http_routes", &routes);
        println!("{:<26} {:<8} {}", "http_routes", "-", show(&routes));
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
