//! The records of the TypeScript e2e run: `ts-reader write URL` writes them
//! through the Rust Worker of examples/worker (ids and values with spaces,
//! `/`, `%`, `:`, control characters, unicode, integers beyond 2^53);
//! `ts-reader read URL` asks the TypeScript Worker of tests/ts-reader, served
//! on the same KV state, to read them back through the generated key builders
//! and read helpers, and compares every answer with what was written. Exits 1
//! on the first difference.

use serde_json::{json, Value};
use std::process::ExitCode;

fn users() -> Vec<Value> {
    let user = |id: &str, email: &str, org: &str, handle: &str, name: &str| json!({ "id": id, "email": email, "org_id": org, "handle": handle, "name": name });
    vec![
        user("a b/c%d:e", "ada:1%@acme.dev", "acme/eu:1", "ada lovelace", "Ada"),
        user("ünï😀", "ü@例え.jp", "acme/eu:1", "ünï", "Ünï 😀"),
        user("%41", "pct%41@x.y", "org%", "%", "Pct"),
        user("tab\tnew\nline\u{7f}", "ctl\u{1}@x.y", "org%", "x:y", "Ctl"),
        user("/", "slash@x.y", "", "", ""),
    ]
}

/// Organisations and the ids listed under each, sorted.
fn orgs() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("acme/eu:1", vec!["a b/c%d:e", "ünï😀"]),
        ("org%", vec!["%41", "tab\tnew\nline\u{7f}"]),
        ("", vec!["/"]),
        ("acme", vec![]),
    ]
}

fn profiles() -> Vec<Value> {
    vec![json!({ "id": "p:1 ü", "user_id": "a b/c%d:e", "bio": "Wrote the first program." })]
}

fn posts() -> Vec<Value> {
    let post = |id: u64, author: &str, status: &str, title: &str| json!({ "id": id, "author_id": author, "status": status, "title": title, "body": format!("{title}: body") });
    vec![
        post(u64::MAX, "a b/c%d:e", "published", "u64::MAX"),
        post((1 << 53) + 1, "a b/c%d:e", "published", "2^53 + 1"),
        post(0, "ünï😀", "draft", "zero"),
    ]
}

fn comments() -> Vec<Value> {
    let comment = |id: &str, post: u64| json!({ "id": id, "post_id": post, "author_id": "ünï😀", "body": "Nice." });
    vec![comment("c:1", u64::MAX), comment("c/2 ü", u64::MAX), comment("c%3", 0)]
}

fn sessions() -> Vec<Value> {
    vec![json!({ "token": "tok:1%/é", "user_id": "a b/c%d:e" })]
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(120)))
        .build()
        .into()
}

fn post(agent: &ureq::Agent, url: &str, body: &Value) -> Result<Value, String> {
    let mut resp = agent.post(url).send_json(body).map_err(|e| format!("POST {url}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().map_err(|e| format!("POST {url}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!("POST {url} {body}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("POST {url}: {e}: {text}"))
}

fn write(base: &str) -> Result<usize, String> {
    let agent = agent();
    let mut n = 0;
    for (route, records) in [
        ("/users", users()),
        ("/profiles", profiles()),
        ("/posts", posts()),
        ("/comments", comments()),
        ("/sessions", sessions()),
    ] {
        for r in records {
            post(&agent, &format!("{base}{route}"), &r)?;
            n += 1;
        }
    }
    // Raw values (a text and a bytes record among them) under the scope
    // `ts-raw_values`, which scripts/e2e reads back with `wrangler kv key get`.
    let done = post(&agent, &format!("{base}/__conformance/raw_values?run=ts"), &Value::Null)?;
    if done["ok"] != true {
        return Err(format!("the raw_values scenario failed in the Rust Worker: {done}"));
    }
    Ok(n + 2)
}

fn same(what: &str, got: &Value, want: &Value) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: the TypeScript Worker read {got}, the Rust Worker wrote {want}"))
    }
}

fn read(base: &str) -> Result<usize, String> {
    let query = json!({
        "users": users(),
        "orgs": orgs().iter().map(|(o, _)| *o).collect::<Vec<_>>(),
        "profiles": ["a b/c%d:e", "ünï😀"],
        "posts": posts().iter().map(|p| json!({ "id": p["id"].to_string(), "author_id": p["author_id"], "status": p["status"] })).collect::<Vec<_>>(),
        "stale": { "email": "stale:%@x.y", "id": "a b/c%d:e" },
        "sessions": sessions().iter().map(|s| s["token"].clone()).chain([json!("no such token")]).collect::<Vec<_>>(),
    });
    let got = post(&agent(), &format!("{base}/read"), &query)?;
    let mut checks = 0;
    let mut check = |what: String, got: &Value, want: &Value| {
        checks += 1;
        same(&what, got, want)
    };
    for (u, g) in users().iter().zip(got["users"].as_array().ok_or("no users")?) {
        let id = &u["id"];
        check(format!("getUser({id})"), &g["get"], u)?;
        check(format!("getUserWithMeta({id}).metadata"), &g["metadata"], &json!({ "name": u["name"], "$exp": null }))?;
        check(format!("findUserByEmail({})", u["email"]), &g["byEmail"], u)?;
        check(format!("findUserByOrgIdAndHandle({}, {})", u["org_id"], u["handle"]), &g["byOrgAndHandle"], u)?;
    }
    for ((org, ids), g) in orgs().iter().zip(got["orgs"].as_array().ok_or("no orgs")?) {
        check(format!("listUserByOrgId({org:?})"), g, &json!(ids))?;
    }
    let found = &got["profiles"];
    check("findProfileByUserId(\"a b/c%d:e\")".into(), &found[0], &profiles()[0])?;
    check("findProfileByUserId(\"ünï😀\")".into(), &found[1], &Value::Null)?;
    let comments = comments();
    for (p, g) in posts().iter().zip(got["posts"].as_array().ok_or("no posts")?) {
        let id = &p["id"];
        // Parsed here with exact integers: u64::MAX as written.
        let raw: Value = serde_json::from_str(g["raw"].as_str().ok_or(format!("post {id}: no record"))?)
            .map_err(|e| format!("post {id}: {e}"))?;
        check(format!("postKey({id}) read as text"), &raw, p)?;
        check(format!("getPost({id}) found it"), &g["found"], &json!(true))?;
        let mut titles: Vec<String> = posts()
            .iter()
            .filter(|q| q["author_id"] == p["author_id"] && q["status"] == p["status"])
            .map(|q| q["title"].as_str().unwrap_or_default().to_string())
            .collect();
        titles.sort();
        check(
            format!("listPostByAuthorIdAndStatus({}, {})", p["author_id"], p["status"]),
            &g["titles"],
            &json!(titles),
        )?;
        let mut ids: Vec<&str> =
            comments.iter().filter(|c| c["post_id"] == *id).map(|c| c["id"].as_str().unwrap_or_default()).collect();
        ids.sort();
        check(format!("listCommentByPostId({id})"), &g["comments"], &json!(ids))?;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let got_sessions = &got["sessions"];
    for (s, g) in sessions().iter().zip(got_sessions.as_array().ok_or("no sessions")?) {
        check(format!("getSessionWithMeta({}).value", s["token"]), &g["value"], s)?;
        // The model's ttl of 3600 s: kvgen stored the absolute expiration in `$exp`.
        let exp = g["metadata"]["$exp"].as_u64().ok_or(format!("session {}: no $exp in {g}", s["token"]))?;
        let ok = (now + 3000..=now + 3700).contains(&exp);
        check(format!("getSessionWithMeta({}).metadata.$exp near now + 3600", s["token"]), &json!(ok), &json!(true))?;
    }
    check(
        "getSessionWithMeta(\"no such token\")".into(),
        &got_sessions[1],
        &json!({ "value": null, "metadata": null }),
    )?;
    // A unique entry naming a record that does not carry the value is ignored.
    check("the stale entry written".into(), &got["stale"]["entry"], &json!(kvgen::key::encode("a b/c%d:e")))?;
    check("findUserByEmail(\"stale:%@x.y\") through a stale entry".into(), &got["stale"]["found"], &Value::Null)?;
    Ok(checks)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["write", url] => {
            write(url.trim_end_matches('/')).map(|n| format!("ts-reader: {n} records written through the Rust Worker"))
        }
        ["read", url] => read(url.trim_end_matches('/'))
            .map(|n| format!("ts-reader: {n} reads by the TypeScript Worker agree with what the Rust Worker wrote")),
        // The exact bytes the raw_values scenario stores, for scripts/e2e to compare.
        ["raw", kind @ ("text" | "bytes")] => {
            use std::io::Write;
            let bytes = if *kind == "text" {
                kvgen_tests::scenarios::RAW_TEXT.as_bytes().to_vec()
            } else {
                kvgen_tests::scenarios::raw_bytes()
            };
            return match std::io::stdout().write_all(&bytes) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            };
        }
        _ => Err("usage: ts-reader write|read URL, or ts-reader raw text|bytes".into()),
    };
    match outcome {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ts-reader: {e}");
            ExitCode::FAILURE
        }
    }
}
