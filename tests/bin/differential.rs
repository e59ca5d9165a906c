//! The differential run: seeded random sequences of raw KV operations, each
//! applied to Workers KV on local workerd (the JavaScript Worker of
//! tests/differential, `POST URL/` with one operation) and to a MemoryStore,
//! the answers compared field by field: values, metadata, expirations, list
//! membership and order on every page, whether a page has a cursor, and
//! error kinds. Cursors are compared as opaque (present or not).
//!
//!     differential --worker URL [--seeds 1,2,3,4] [--ops 800]
//!     differential --worker URL --seed N      (reproduces one seed)
//!
//! Before each seed the namespace is emptied on both sides, so a seed's run
//! is the same whatever ran before it. MemoryStore follows the system clock,
//! as workerd does: absolute expirations are compared exactly, those a ttl
//! gave within 2 seconds (the two stores read the clock at different
//! moments). Expirations the generator asks for are never within 2 seconds
//! of a boundary, and keys written with a ttl under 10 minutes are deleted
//! by the next operation, so nothing expires during a run.
//!
//! The known differences of local workerd (RELIABILITY.md) are not skipped
//! blindly: each is checked to be exactly the documented behaviour.

use kvgen::{Clock, Entry, Error, KvStore, ListOptions, MemoryStore, PutOptions, SystemClock};
use serde_json::{json, Value};
use std::process::ExitCode;

const MAX: u64 = kvgen::limits::MAX_EXPIRATION;

/// A deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One raw operation.
#[derive(Debug, Clone)]
enum Op {
    Put {
        key: String,
        value: Vec<u8>,
        options: PutOptions,
    },
    Get {
        key: String,
    },
    GetMany {
        keys: Vec<String>,
    },
    Delete {
        key: String,
    },
    /// Every page of a listing; `between` is written after the first page.
    List {
        prefix: String,
        limit: u32,
        between: Option<(String, bool)>,
    },
    /// A listing from a cursor no store issued.
    BadCursor {
        prefix: String,
        cursor: String,
    },
}

/// Keys the generator writes: short ones that collide often, unicode, NUL,
/// array-index-like ones, and the length edges.
fn key_pool() -> Vec<String> {
    let mut keys: Vec<String> = [
        "a",
        "b",
        "ab",
        "a/b",
        "a/c",
        "a/b/c",
        "b/a",
        "é",
        "é/x",
        "中",
        "中文",
        "a\u{0}b",
        "x y",
        "0",
        "1",
        "01",
        "42",
        "4294967294",
        "4294967295",
        "-1",
        "1.5",
        ".",
        "..",
        "",
        "...",
        "a.",
        "\u{7f}",
        "\u{ffff}",
        "😀",
        "A",
        "Z",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for i in 0..40 {
        keys.push(format!("n/{i:03}"));
    }
    keys.push("k".repeat(512));
    keys.push("k".repeat(513));
    keys.push(format!("{}é", "k".repeat(510))); // 512 bytes
    keys.push(format!("{}é", "k".repeat(511))); // 513 bytes
    keys
}

fn prefix_pool() -> Vec<String> {
    let mut p: Vec<String> =
        ["", "a", "a/", "a/b", "b", "é", "中", "n/", "n/0", "n/01", "0", "z", "\u{0}", "a\u{0}", "k"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    p.push("k".repeat(512));
    p.push("k".repeat(513));
    p
}

fn value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(9) {
        0 => Vec::new(),
        1 => "héllo wörld 中文 😀".into(),
        2 => "nul\u{0}inside\u{0}".into(),
        3 => "x".repeat(rng.below(200_000) as usize).into_bytes(),
        4 => "{\"json\":true}".into(),
        // Not UTF-8: a lone continuation byte, a truncated sequence, a
        // surrogate's encoding, a byte-order mark (a bulk read decodes text).
        5 => vec![0xef, 0xbb, 0xbf, b'a', 0x80, 0xff, 0xe4, 0xb8, b'z', 0xed, 0xa0, 0x80, 0xc3],
        _ => format!("v{}", rng.below(1_000_000)).into_bytes(),
    }
}

/// Metadata, often near the 1024-byte limit as JavaScript measures it, with
/// numbers JavaScript writes differently from serde_json.
fn metadata(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => json!({"n": 1.0, "f": 1.5e-7, "e": 1e21, "z": -0.0, "big": u64::MAX, "neg": -12.5}),
        1 => json!(["a", 1, true, null, {"k": "é"}]),
        2 => json!("just a string"),
        3 => json!(7),
        4 => json!(null),
        _ => {
            // {"p":"...","n":[1.0, ...]} around 1024 bytes: serde_json
            // writes each 1.0 as three bytes, JavaScript as one.
            let floats = rng.below(40) as usize;
            let target = 1000 + rng.below(40) as usize;
            let fixed = r#"{"n":[],"p":""}"#.len() + floats * 2 - usize::from(floats > 0);
            let pad = target.saturating_sub(fixed);
            let s: String = match rng.below(3) {
                0 => "p".repeat(pad),
                1 => "é".repeat(pad / 2) + &"p".repeat(pad % 2),
                _ => "\n".repeat(pad / 2) + &"p".repeat(pad % 2),
            };
            json!({"p": s, "n": vec![1.0; floats]})
        }
    }
}

fn put_options(rng: &mut Rng, now: u64) -> PutOptions {
    let mut o = PutOptions::default();
    if rng.chance(35) {
        o.expiration_ttl =
            Some(*rng.pick(&[0, 1, 59, 60, 61, 3600, 86_400, 31_536_000, MAX - now, MAX, MAX + 1, 1 << 40]));
    }
    if rng.chance(30) {
        let soon = [0, 1, now - 100, now, now + 30, now + 55];
        let fine = [now + 3600, now + 86_400 * 365, MAX - 1, MAX];
        let late = [MAX + 1, 10_000_000_000, 1 << 53, u64::MAX];
        o.expiration = Some(match rng.below(3) {
            0 => *rng.pick(&soon),
            1 => *rng.pick(&fine),
            _ => *rng.pick(&late),
        });
    }
    if rng.chance(45) {
        o.metadata = Some(metadata(rng));
    }
    o
}

fn generate(rng: &mut Rng, now: u64, keys: &[String], prefixes: &[String]) -> Op {
    let key = |rng: &mut Rng| rng.pick(keys).clone();
    match rng.below(100) {
        0..=39 => {
            let value = if rng.chance(1) {
                "v".repeat(25 * 1024 * 1024 + rng.below(2) as usize).into_bytes()
            } else {
                value(rng)
            };
            Op::Put { key: key(rng), value, options: put_options(rng, now) }
        }
        40..=54 => Op::Get { key: key(rng) },
        55..=66 => {
            let n = match rng.below(20) {
                0 => 0,
                1 => 101,
                2 => 100,
                _ => 1 + rng.below(6),
            };
            let mut ks: Vec<String> = (0..n).map(|i| format!("n/{:03}", i % 40)).collect();
            for k in ks.iter_mut().take(6) {
                *k = key(rng);
            }
            if n > 1 && rng.chance(30) {
                ks[n as usize - 1] = ks[0].clone(); // a key asked twice
            }
            Op::GetMany { keys: ks }
        }
        67..=75 => Op::Delete { key: key(rng) },
        76..=97 => {
            let limit = *rng.pick(&[0, 1, 2, 3, 7, 10, 1000, 1001]);
            let between = rng.chance(30).then(|| (key(rng), rng.chance(50)));
            Op::List { prefix: rng.pick(prefixes).clone(), limit, between }
        }
        _ => {
            let cursor = rng.pick(&["", "garbage", "AAAA", "YQ", "MA=="]).to_string();
            Op::BadCursor { prefix: rng.pick(&["", "a", "n/"]).to_string(), cursor }
        }
    }
}

/// An answer, comparable across the stores.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Done,
    Error(String),
    Entry(Option<(Vec<u8>, Option<Value>)>),
    Entries(Vec<Option<(Vec<u8>, Option<Value>)>>),
    /// Pages of listed keys, and whether each had a cursor.
    Pages(Vec<(Vec<Listed>, bool)>),
}

/// A listed key: name, expiration, metadata.
type Listed = (String, Option<u64>, Option<Value>);

fn entry(e: Option<Entry>) -> Option<(Vec<u8>, Option<Value>)> {
    e.map(|e| (e.value, e.metadata))
}

struct Workerd {
    base: String,
    agent: ureq::Agent,
}

impl Workerd {
    fn new(base: &str) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(120)))
            .build();
        Workerd { base: base.trim_end_matches('/').to_string(), agent: config.into() }
    }

    fn call(&self, op: Value) -> Result<Value, String> {
        let mut resp = self.agent.post(&self.base).send_json(&op).map_err(|e| format!("POST {}: {e}", self.base))?;
        let text = resp.body_mut().with_config().limit(64 << 20).read_to_string().map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&text).map_err(|_| format!("workerd answered: {text}"))?;
        match v.get("error") {
            Some(e) => Err(e.as_str().unwrap_or_default().to_string()),
            None => Ok(v["ok"].clone()),
        }
    }

    /// Empties the namespace.
    fn clear(&self) -> Result<(), String> {
        loop {
            let page = self.call(json!({"op": "list", "prefix": ""}))?;
            let keys = page["keys"].as_array().cloned().unwrap_or_default();
            if keys.is_empty() {
                return Ok(());
            }
            for k in keys {
                self.call(json!({"op": "delete", "key": k["name"]}))?;
            }
        }
    }
}

/// The kvgen error kind of a workerd error message, as `WorkerKv` maps it.
fn kind_of(message: &str, options: Option<&PutOptions>) -> String {
    let m = message.to_ascii_lowercase();
    let kind = if m.contains("out of range") {
        match options {
            Some(o) if o.expiration.is_some_and(|e| e > MAX) => "ExpirationTooLate",
            _ => "TtlTooLong",
        }
    } else if m.contains("expiration_ttl") {
        // Before "invalid expiration": KV words a short ttl as an invalid
        // `expiration_ttl`.
        "TtlTooShort"
    } else if m.contains("invalid expiration") {
        "ExpirationTooSoon"
    } else if m.contains("failed: 414") {
        "KeyTooLong"
    } else if m.contains("cannot be empty")
        || m.contains("must not be empty")
        || m.contains("not allowed as a key")
        || m.contains("illegal key")
    {
        "InvalidKey"
    } else if m.contains("metadata length") {
        "MetadataTooLarge"
    } else if m.contains("value length") {
        "ValueTooLarge"
    } else if m.contains("key_count_limit") {
        "ListLimit"
    } else if m.contains("total size of request") {
        "BulkTooLarge"
    } else if m.contains("minimum of 1 key") || m.contains("maximum of 100 keys") {
        "BulkLimit"
    } else {
        return format!("Store: {message}");
    };
    kind.to_string()
}

/// An entry as the JavaScript Worker answers it: `value` (text), or `bytes`
/// (an array of byte values) for a value that is not UTF-8.
fn js_entry(v: &Value) -> Option<(Vec<u8>, Option<Value>)> {
    if v.is_null() {
        return None;
    }
    let value = match v["bytes"].as_array() {
        Some(bytes) => bytes.iter().map(|b| b.as_u64().unwrap_or(0) as u8).collect(),
        None => v["value"].as_str().unwrap_or_default().as_bytes().to_vec(),
    };
    Some((value, Some(v["metadata"].clone()).filter(|m| !m.is_null())))
}

fn pages_js(
    w: &Workerd,
    prefix: &str,
    limit: u32,
    between: &dyn Fn(usize) -> Result<(), String>,
) -> Result<Answer, String> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut op = json!({"op": "list", "prefix": prefix, "limit": limit});
        if let Some(c) = &cursor {
            op["cursor"] = json!(c);
        }
        let page = match w.call(op) {
            Ok(p) => p,
            Err(e) => return Ok(Answer::Error(kind_of(&e, None))),
        };
        let keys = page["keys"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|k| {
                let metadata = Some(k["metadata"].clone()).filter(|m| !m.is_null());
                (k["name"].as_str().unwrap_or_default().to_string(), k["expiration"].as_u64(), metadata)
            })
            .collect();
        let complete = page["list_complete"].as_bool().unwrap_or(true);
        pages.push((keys, !complete));
        between(pages.len())?;
        if complete || pages.len() > 2000 {
            return Ok(Answer::Pages(pages));
        }
        cursor = page["cursor"].as_str().map(String::from);
    }
}

fn pages_mem(
    s: &MemoryStore,
    prefix: &str,
    limit: u32,
    between: &dyn Fn(usize) -> Result<(), String>,
) -> Result<Answer, String> {
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = match pollster::block_on(s.list(&ListOptions { prefix: prefix.into(), cursor, limit })) {
            Ok(p) => p,
            Err(e) => return Ok(Answer::Error(e.kind().into())),
        };
        let keys = page.keys.into_iter().map(|k| (k.name, k.expiration, k.metadata)).collect();
        pages.push((keys, page.cursor.is_some()));
        between(pages.len())?;
        if page.cursor.is_none() || pages.len() > 2000 {
            return Ok(Answer::Pages(pages));
        }
        cursor = page.cursor;
    }
}

fn put_json(key: &str, value: &[u8], o: &PutOptions) -> Value {
    // Text as a string (as before), other bytes as an array the Worker puts as a Uint8Array.
    let mut op = match std::str::from_utf8(value) {
        Ok(text) => json!({"op": "put", "key": key, "value": text}),
        Err(_) => json!({"op": "put", "key": key, "bytes": value}),
    };
    if let Some(t) = o.expiration_ttl {
        op["expirationTtl"] = json!(t);
    }
    if let Some(e) = o.expiration {
        op["expiration"] = json!(e);
    }
    if let Some(m) = &o.metadata {
        op["metadata"] = m.clone();
    }
    op
}

fn err_kind(e: &Error) -> String {
    match e {
        Error::Store { message, .. } => format!("Store: {message}"),
        other => other.kind().to_string(),
    }
}

/// Applies `op` to both stores: `(workerd, memory)`.
fn apply(w: &Workerd, m: &MemoryStore, op: &Op) -> Result<(Answer, Answer), String> {
    let mem = |r: Result<Answer, Error>| r.unwrap_or_else(|e| Answer::Error(err_kind(&e)));
    Ok(match op {
        Op::Put { key, value, options } => {
            let js = match w.call(put_json(key, value, options)) {
                Ok(_) => Answer::Done,
                Err(e) => Answer::Error(kind_of(&e, Some(options))),
            };
            (js, mem(pollster::block_on(m.put(key, value, options)).map(|_| Answer::Done)))
        }
        Op::Get { key } => {
            let js = match w.call(json!({"op": "get", "key": key})) {
                Ok(v) => Answer::Entry(js_entry(&v)),
                Err(e) => Answer::Error(kind_of(&e, None)),
            };
            (js, mem(pollster::block_on(m.get(key)).map(|e| Answer::Entry(entry(e)))))
        }
        Op::GetMany { keys } => {
            let js = match w.call(json!({"op": "get_many", "keys": keys})) {
                Ok(v) => {
                    let pairs = v.as_array().cloned().unwrap_or_default();
                    let found = |k: &str| pairs.iter().find(|p| p[0] == k).map(|p| js_entry(&p[1]));
                    // A key the map left out is reported as such, apart from a missing one.
                    Answer::Entries(
                        keys.iter().map(|k| found(k).unwrap_or(Some((b"<left out>".to_vec(), None)))).collect(),
                    )
                }
                Err(e) => Answer::Error(kind_of(&e, None)),
            };
            let mut memory =
                mem(pollster::block_on(m.get_many(keys)).map(|v| Answer::Entries(v.into_iter().map(entry).collect())));
            // Known difference: local workerd leaves array-index keys out of
            // the bulk read's map. Check it does exactly that, then compare
            // the rest.
            if let (Answer::Entries(j), Answer::Entries(mm)) = (&js, &mut memory) {
                for (i, k) in keys.iter().enumerate() {
                    let left_out = j[i] == Some((b"<left out>".to_vec(), None));
                    if is_array_index(k) != left_out {
                        return Err(format!(
                            "bulk read of `{k}`: left out {left_out}, array index {}",
                            is_array_index(k)
                        ));
                    }
                    if left_out {
                        mm[i] = j[i].clone();
                    }
                }
            }
            (js, memory)
        }
        Op::Delete { key } => {
            let js = match w.call(json!({"op": "delete", "key": key})) {
                Ok(_) => Answer::Done,
                Err(e) => Answer::Error(kind_of(&e, None)),
            };
            (js, mem(pollster::block_on(m.delete(key)).map(|_| Answer::Done)))
        }
        Op::List { prefix, limit, between } => {
            let write_js = |page: usize| -> Result<(), String> {
                match between {
                    Some((k, put)) if page == 1 => {
                        let op = if *put {
                            put_json(k, b"between", &PutOptions::default())
                        } else {
                            json!({"op": "delete", "key": k})
                        };
                        w.call(op).map(|_| ()).or(Ok(()))
                    }
                    _ => Ok(()),
                }
            };
            let write_mem = |page: usize| -> Result<(), String> {
                match between {
                    Some((k, put)) if page == 1 => {
                        let r = if *put {
                            pollster::block_on(m.put(k, b"between", &PutOptions::default()))
                        } else {
                            pollster::block_on(m.delete(k))
                        };
                        drop(r);
                        Ok(())
                    }
                    _ => Ok(()),
                }
            };
            let js = pages_js(w, prefix, *limit, &write_js)?;
            let memory = pages_mem(m, prefix, *limit, &write_mem)?;
            // Known difference: local workerd lists nothing under a prefix
            // holding U+0000 (Workers KV matches prefixes by bytes).
            if prefix.contains('\u{0}') && !matches!(js, Answer::Error(_)) {
                if js != Answer::Pages(vec![(vec![], false)]) {
                    return Err(format!("prefix with U+0000 listed {js:?}"));
                }
                return Ok((memory.clone(), memory));
            }
            (js, memory)
        }
        Op::BadCursor { prefix, cursor } => {
            // Known difference, by decision: MemoryStore refuses a cursor it
            // did not issue; local workerd lists from the start for "" and
            // otherwise reads the cursor as the base64 of a key to start after.
            let memory = mem(pollster::block_on(m.list(&ListOptions {
                prefix: prefix.clone(),
                cursor: Some(cursor.clone()),
                limit: 10,
            }))
            .map(|_| Answer::Done));
            if memory != Answer::Error("InvalidCursor".into()) {
                return Err(format!("MemoryStore took cursor `{cursor}`: {memory:?}"));
            }
            let js = w.call(json!({"op": "list", "prefix": prefix, "limit": 10, "cursor": cursor}));
            let js = js.map_err(|e| format!("workerd refused cursor `{cursor}`: {e}"))?;
            if cursor.is_empty() {
                let first = w.call(json!({"op": "list", "prefix": prefix, "limit": 10}))?;
                if js != first {
                    return Err("workerd: an empty cursor did not list from the start".into());
                }
            }
            (memory.clone(), memory)
        }
    })
}

fn is_array_index(k: &str) -> bool {
    let canonical = !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) && (k == "0" || !k.starts_with('0'));
    canonical && k.len() <= 10 && k.parse::<u64>().is_ok_and(|n| n < u32::MAX as u64)
}

/// Whether two answers agree: equal, but for ttl-given expirations, which
/// may differ by 2 seconds.
fn agree(a: &Answer, b: &Answer) -> bool {
    match (a, b) {
        (Answer::Pages(x), Answer::Pages(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((kx, cx), (ky, cy))| {
                    cx == cy
                        && kx.len() == ky.len()
                        && kx.iter().zip(ky).all(|(p, q)| {
                            p.0 == q.0
                                && p.2 == q.2
                                && match (p.1, q.1) {
                                    (Some(e), Some(f)) => e.abs_diff(f) <= 2,
                                    (e, f) => e == f,
                                }
                        })
                })
        }
        _ => a == b,
    }
}

fn short(op: &Op) -> String {
    let s = format!("{op:?}");
    if s.len() > 400 {
        format!("{}… ({} chars)", &s[..s.char_indices().nth(400).map_or(s.len(), |(i, _)| i)], s.len())
    } else {
        s
    }
}

fn run_seed(w: &Workerd, seed: u64, ops: usize, diffs: &mut Vec<String>) -> Result<usize, String> {
    w.clear()?;
    let m = MemoryStore::with_clock(SystemClock);
    let mut rng = Rng(seed);
    let (keys, prefixes) = (key_pool(), prefix_pool());
    let mut pending_delete: Option<String> = None;
    let mut calls = 0;
    for i in 0..ops {
        let op = match pending_delete.take() {
            Some(key) => Op::Delete { key },
            None => generate(&mut rng, SystemClock.now(), &keys, &prefixes),
        };
        if let Op::Put { key, options, .. } = &op {
            if options.expiration_ttl.is_some_and(|t| t < 600)
                || options.expiration.is_some_and(|e| e < SystemClock.now() + 600)
            {
                pending_delete = Some(key.clone());
            }
        }
        let (js, memory) = apply(w, &m, &op)?;
        calls += match &js {
            Answer::Pages(p) => p.len(),
            _ => 1,
        };
        if !agree(&js, &memory) {
            let show = |a: &Answer| {
                let s = format!("{a:?}");
                if s.len() > 600 {
                    format!("{}…", &s[..s.char_indices().nth(600).map_or(s.len(), |(i, _)| i)])
                } else {
                    s
                }
            };
            diffs.push(format!(
                "seed {seed} op {i}: {}\n    workerd: {}\n    memory:  {}",
                short(&op),
                show(&js),
                show(&memory)
            ));
        }
    }
    Ok(calls)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let Some(url) = arg("--worker") else {
        eprintln!("usage: differential --worker URL [--seeds 1,2,3,4 | --seed N] [--ops N]");
        return ExitCode::FAILURE;
    };
    let seeds: Vec<u64> = match arg("--seed").or(arg("--seeds")) {
        Some(s) => s.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
        None => vec![1, 2, 3, 4],
    };
    let ops: usize = arg("--ops").and_then(|n| n.parse().ok()).unwrap_or(800);
    let w = Workerd::new(&url);
    let started = std::time::Instant::now();
    let (mut total_ops, mut total_calls) = (0, 0);
    let mut diffs = Vec::new();
    for &seed in &seeds {
        match run_seed(&w, seed, ops, &mut diffs) {
            Ok(calls) => {
                total_ops += ops;
                total_calls += calls;
                println!("seed {seed}: {ops} operations, {calls} KV calls on each store");
            }
            Err(e) => {
                println!("seed {seed}: FAILED: {e}");
                diffs.push(format!("seed {seed}: {e}"));
            }
        }
    }
    for d in &diffs {
        println!("difference: {d}");
    }
    println!(
        "differential: seeds {seeds:?}, {total_ops} operations ({total_calls} KV calls) on each store, {} differences, {:.1} s",
        diffs.len(),
        started.elapsed().as_secs_f64()
    );
    if diffs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
