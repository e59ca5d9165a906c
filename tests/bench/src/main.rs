//! kvgen's benchmarks. `scripts/bench` runs this and prints every table that
//! BENCHMARKS.md records:
//!
//! 1. KV operations per repository call beside the cost-table minimum, at
//!    100, 1,000 and 10,000 posts;
//! 2. native CPU time per call on MemoryStore, kvgen against the hand-written
//!    baseline in `handwritten.rs`;
//! 3. `kvgen generate` on a schema of 1,000 models: time and peak memory;
//! 4. the build-time cost of `#[derive(KvModel)]` on 100 models;
//! 5. round trips per call on `Rounds`, and the wall time they cost at 50 ms
//!    per KV operation, against a hand-written Worker that overlaps its
//!    operations (`rounds.rs`).
//!
//! `kvgen-bench ops cpu codegen derive rounds` picks sections (default: all).
//! `kvgen-bench smoke` runs every section at a small size, in seconds, with
//! no timing worth reading: `scripts/test` runs it so that a change breaking
//! the benchmarks fails there.

mod handwritten;
mod rounds;

use blog::{Post, PostStatus, User};
use kvgen::{MemoryStore, Metered, Ops, Page};
use pollster::block_on;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Set by `smoke`: every section at a small size.
static SMOKE: AtomicBool = AtomicBool::new(false);

fn smoke() -> bool {
    SMOKE.load(Ordering::Relaxed)
}

fn user(i: usize, users: usize) -> User {
    User {
        id: format!("u{i:05}"),
        email: format!("user{i}@example.com"),
        org_id: format!("org{}", i % (users / 10).max(1)),
        handle: format!("h{i}"),
        name: format!("User {i}"),
    }
}

fn post(id: u64, users: usize) -> Post {
    Post {
        id,
        author_id: format!("u{:05}", id as usize % users),
        status: if id.is_multiple_of(3) { PostStatus::Draft } else { PostStatus::Published },
        title: format!("Post {id}"),
        body: "Lorem ipsum dolor sit amet, consectetur adipiscing elit.".into(),
    }
}

/// A blog of `posts` posts by `users` users, through kvgen.
fn blog(store: &impl kvgen::KvStore, posts: usize, users: usize) -> usize {
    for i in 0..users {
        block_on(User::repo(store).create(&user(i, users))).unwrap();
    }
    for id in 0..posts as u64 {
        block_on(Post::repo(store).create(&post(id, users))).unwrap();
    }
    users
}

fn brief(o: &Ops) -> String {
    let mut parts = Vec::new();
    for (n, what) in [(o.reads, "r"), (o.bulk_reads, "b"), (o.writes, "w"), (o.deletes, "d"), (o.lists, "l")] {
        if n > 0 {
            parts.push(format!("{n}{what}"));
        }
    }
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join("+")
    }
}

fn ops_section() {
    println!("## KV operations per call (r = read, b = bulk read, w = write, d = delete, l = list)\n");
    let sizes: &[usize] = if smoke() { &[100] } else { &[100, 1_000, 10_000] };
    // (call, minimum at each size, measured at each size)
    let mut rows: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    let mut all_min = true;
    for (col, &n) in sizes.iter().enumerate() {
        let store = Metered::new(MemoryStore::new());
        // Ten authors, so one author's posts grow with the data: 10, 100, 1,000.
        let users_n = blog(&store, n, 10);
        let users = User::repo(&store);
        let posts = Post::repo(&store);
        let per_author = n.div_ceil(users_n);
        let _ = per_author;
        let mut measure = |name: &str, min: Ops, run: &mut dyn FnMut()| {
            store.reset();
            run();
            let got = store.reset();
            let ok = (got.reads, got.bulk_reads, got.writes, got.deletes, got.lists)
                == (min.reads, min.bulk_reads, min.writes, min.deletes, min.lists);
            all_min &= ok;
            if col == 0 {
                rows.push((name.to_string(), Vec::new(), Vec::new()));
            }
            let row = rows.iter_mut().find(|r| r.0 == name).unwrap();
            row.1.push(brief(&min));
            row.2.push(format!("{}{}", brief(&got), if ok { "" } else { " (over)" }));
        };
        let ops = |r, b, w, d, l| Ops { reads: r, bulk_reads: b, writes: w, deletes: d, lists: l, ..Ops::default() };
        let a = user(0, users_n);
        measure("get by id", ops(1, 0, 0, 0, 0), &mut || {
            block_on(posts.get(&7)).unwrap().unwrap();
        });
        measure("find by unique (email)", ops(2, 0, 0, 0, 0), &mut || {
            block_on(users.find_by_email(&a.email)).unwrap().unwrap();
        });
        measure("find by compound unique (org, handle)", ops(2, 0, 0, 0, 0), &mut || {
            block_on(users.find_by_org_id_and_handle(&a.org_id, &a.handle)).unwrap().unwrap();
        });
        measure("create user (u = 2, s = 1)", ops(0, 1, 4, 0, 0), &mut || {
            block_on(users.create(&user(99_999, users_n))).unwrap();
        });
        measure("create post (u = 0, s = 2)", ops(0, 1, 3, 0, 0), &mut || {
            block_on(posts.create(&post(9_999_999, users_n))).unwrap();
        });
        let page_n = n.min(100) as u64;
        measure("list one page of 100 posts", ops(0, page_n.div_ceil(100), 0, 0, 1), &mut || {
            block_on(posts.list(Page::first(100))).unwrap();
        });
        let children = (per_author as u64).min(1000);
        measure("has-many: list_posts of one user (n/10 posts)", ops(0, children.div_ceil(100), 0, 0, 1), &mut || {
            block_on(users.list_posts(&a, Page::first(1000))).unwrap();
        });
        measure("has-many with projections (list_by_author_id_meta)", ops(0, 0, 0, 0, 1), &mut || {
            block_on(posts.list_by_author_id_meta(&a.id, Page::first(1000))).unwrap();
        });
        let page = block_on(Post::repo(store.inner()).list(Page::first(100))).unwrap().items;
        let distinct = page.iter().map(|p| &p.author_id).collect::<std::collections::BTreeSet<_>>().len() as u64;
        measure("belongs-to: load_authors of 100 posts", ops(0, distinct.div_ceil(100), 0, 0, 0), &mut || {
            block_on(posts.load_authors(&page)).unwrap();
        });
        let mut moved = a.clone();
        moved.email = "moved@example.com".into();
        // Not in the cost table: 1 bulk read (record, new entries), the new entry and the record,
        // then 1 bulk read to confirm the old entry points here, and its delete.
        measure("update moving the unique email", ops(0, 2, 2, 1, 0), &mut || {
            block_on(users.update(&moved)).unwrap();
        });
        measure("delete post (s = 2)", ops(1, 0, 0, 3, 0), &mut || {
            assert!(block_on(posts.delete(&9_999_999)).unwrap());
        });
        measure("count posts", ops(0, 0, 0, 0, (n as u64).div_ceil(1000).max(1)), &mut || {
            block_on(posts.count()).unwrap();
        });
    }
    println!("| call | minimum (100 / 1k / 10k posts) | measured at 100 | at 1,000 | at 10,000 |");
    println!("|---|---|---|---|---|");
    for (name, min, got) in &rows {
        let min = if min.iter().all(|m| m == &min[0]) { min[0].clone() } else { min.join(" / ") };
        println!("| {name} | {min} | {} |", got.join(" | "));
    }
    println!("\nevery call at the minimum at every size: {}\n", if all_min { "yes" } else { "NO" });
    assert!(all_min || !smoke(), "a call went over its minimum number of KV operations");
}

/// Median nanoseconds per call of `f` over `iters` calls, 7 samples.
fn time(iters: usize, mut f: impl FnMut(usize)) -> f64 {
    for i in 0..iters.min(50) {
        f(i);
    }
    let mut samples: Vec<f64> = (0..7)
        .map(|s| {
            let start = Instant::now();
            for i in 0..iters {
                f(s * iters + i);
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[3]
}

fn cpu_section() {
    println!("## Native CPU time per call, MemoryStore, 1,000 posts by 100 users (median of 7 samples)\n");
    const N: usize = 1000;
    let kv = MemoryStore::new();
    let hw = MemoryStore::new();
    let users_n = blog(&kv, N, 100);
    blog(&hw, N, 100);
    let (users, posts) = (User::repo(&kv), Post::repo(&kv));
    let page: Vec<Post> = block_on(posts.list(Page::first(100))).unwrap().items;
    let mut rows: Vec<(&str, f64, f64)> = Vec::new();
    let iters = if smoke() { 20 } else { 2000 };
    rows.push((
        "get by id",
        time(iters, |i| drop(block_on(posts.get(&((i % N) as u64))).unwrap())),
        time(iters, |i| drop(block_on(handwritten::get_post(&hw, (i % N) as u64)).unwrap())),
    ));
    rows.push((
        "find by unique (email)",
        time(iters, |i| drop(block_on(users.find_by_email(&format!("user{}@example.com", i % users_n))).unwrap())),
        time(iters, |i| {
            drop(block_on(handwritten::find_user_by_email(&hw, &format!("user{}@example.com", i % users_n))).unwrap())
        }),
    ));
    rows.push((
        "find by compound unique",
        time(iters, |i| {
            let u = user(i % users_n, users_n);
            drop(block_on(users.find_by_org_id_and_handle(&u.org_id, &u.handle)).unwrap())
        }),
        time(iters, |i| {
            let u = user(i % users_n, users_n);
            drop(block_on(handwritten::find_user_by_handle(&hw, &u.org_id, &u.handle)).unwrap())
        }),
    ));
    rows.push((
        "list one page of 100 posts",
        time(200, |_| drop(block_on(posts.list(Page::first(100))).unwrap())),
        time(200, |_| drop(block_on(handwritten::list_posts(&hw, 100)).unwrap())),
    ));
    rows.push((
        "has-many: 10 posts of a user",
        time(iters, |i| {
            let a = user(i % users_n, users_n);
            drop(block_on(users.list_posts(&a, Page::first(100))).unwrap())
        }),
        time(iters, |i| {
            drop(block_on(handwritten::posts_by_author(&hw, &format!("u{:05}", i % users_n), 100)).unwrap())
        }),
    ));
    rows.push((
        "belongs-to: authors of 100 posts",
        time(200, |_| drop(block_on(posts.load_authors(&page)).unwrap())),
        time(200, |_| drop(block_on(handwritten::load_authors(&hw, &page)).unwrap())),
    ));
    let mut next_kv = 100_000;
    let mut next_hw = 100_000;
    rows.push((
        "create user (2 unique, 1 index)",
        time(iters, |_| {
            next_kv += 1;
            block_on(users.create(&user(next_kv, users_n))).unwrap()
        }),
        time(iters, |_| {
            next_hw += 1;
            assert!(block_on(handwritten::create_user(&hw, &user(next_hw, users_n))).unwrap())
        }),
    ));
    let (mut pk, mut ph) = (1_000_000u64, 1_000_000u64);
    rows.push((
        "create post (2 indexes)",
        time(iters, |_| {
            pk += 1;
            block_on(posts.create(&post(pk, users_n))).unwrap()
        }),
        time(iters, |_| {
            ph += 1;
            assert!(block_on(handwritten::create_post(&hw, &post(ph, users_n))).unwrap())
        }),
    ));
    rows.push((
        "update moving the unique email",
        time(iters, |i| {
            let mut u = user(i % users_n, users_n);
            u.email = format!("moved{i}@example.com");
            block_on(users.update(&u)).unwrap()
        }),
        time(iters, |i| {
            let mut u = user(i % users_n, users_n);
            u.email = format!("moved{i}@example.com");
            assert!(block_on(handwritten::update_user(&hw, &u)).unwrap())
        }),
    ));
    let (mut dk, mut dh) = (1_000_000u64, 1_000_000u64);
    rows.push((
        "delete post",
        time(iters, |_| {
            dk += 1;
            assert!(block_on(posts.delete(&dk)).unwrap())
        }),
        time(iters, |_| {
            dh += 1;
            assert!(block_on(handwritten::delete_post(&hw, dh)).unwrap())
        }),
    ));
    println!("| call | kvgen | hand-written | ratio |\n|---|---|---|---|");
    let mut worst: f64 = 0.0;
    for (name, k, h) in &rows {
        let ratio = k / h;
        worst = worst.max(ratio);
        println!("| {name} | {} | {} | {ratio:.2}x |", ns(*k), ns(*h));
    }
    let geo = (rows.iter().map(|(_, k, h)| (k / h).ln()).sum::<f64>() / rows.len() as f64).exp();
    println!("\ngeometric mean {geo:.2}x, worst {worst:.2}x (goal: within 1.10x)\n");
}

fn ns(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{:.2} ms", v / 1e6)
    } else if v >= 1_000.0 {
        format!("{:.1} µs", v / 1e3)
    } else {
        format!("{v:.0} ns")
    }
}

/// Cargo's target folder for this workspace (CARGO_TARGET_DIR or `target/`), as cargo reports it.
fn target_dir() -> PathBuf {
    let out = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    PathBuf::from(meta["target_directory"].as_str().unwrap())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A kvgen.toml of `n` models in 10 bindings with two environments, with
/// uniques, indexes and relations.
fn schema(n: usize) -> String {
    let mut s =
        String::from("[output]\nrust = \"src/generated.rs\"\nkeys = \"KEYS.md\"\nwrangler = \"wrangler.toml\"\n\n");
    for b in 0..10 {
        s += &format!("[namespaces.NS{b}]\nid = \"ns{b}\"\n[namespaces.NS{b}.env.staging]\nid = \"ns{b}-staging\"\n[namespaces.NS{b}.env.production]\nid = \"ns{b}-production\"\n\n");
    }
    for m in 0..n {
        s += &format!("[models.Model{m}]\nbinding = \"NS{}\"\nunique = [[\"org\", \"code\"]]\n", m % 10);
        // Relations chain models 10 apart, which share a binding.
        if m + 10 < n {
            s += &format!("has_many = [{{ model = \"Model{}\", by = \"parent_id\" }}]\n", m + 10);
        }
        s += &format!("[models.Model{m}.fields]\nid = {{ type = \"String\", id = true }}\nemail = {{ type = \"String\", unique = true }}\norg = {{ type = \"String\", index = true }}\ncode = \"String\"\nname = {{ type = \"String\", meta = true }}\n");
        if m >= 10 {
            s += &format!("parent_id = {{ type = \"String\", belongs_to = \"Model{}\" }}\n", m - 10);
        }
        s += "\n";
    }
    s
}

fn codegen_section() {
    println!("## `kvgen generate` on a schema of 1,000 models (release build; median of 5 runs)\n");
    let root = repo_root();
    let profile = if smoke() { "dev" } else { "bench-debug" };
    let status = Command::new("cargo")
        .args(["build", "--quiet", "--profile", profile, "-p", "kvgen-cli"])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(status.success());
    let kvgen = target_dir().join(if smoke() { "debug" } else { profile }).join("kvgen");
    let dir = target_dir().join("bench-codegen");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let models = if smoke() { 20 } else { 1000 };
    std::fs::write(dir.join("kvgen.toml"), schema(models)).unwrap();
    std::fs::write(
        dir.join("wrangler.toml"),
        "name = \"scale\"\nmain = \"build/index.js\"\ncompatibility_date = \"2025-09-01\"\n",
    )
    .unwrap();
    let mut runs = Vec::new();
    for i in 0..if smoke() { 1 } else { 5 } {
        if i > 0 {
            // Every run writes every file: the outputs are removed first.
            let _ = std::fs::remove_file(dir.join("src/generated.rs"));
            let _ = std::fs::remove_file(dir.join("KEYS.md"));
        }
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%e %M"])
            .arg(&kvgen)
            .arg("generate")
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or("");
        let mut parts = last.split_whitespace();
        let secs: f64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
        let kib: f64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
        runs.push((secs, kib));
    }
    runs.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    let (secs, kib) = runs[runs.len() / 2];
    let lines = std::fs::read_to_string(dir.join("src/generated.rs")).map(|s| s.lines().count()).unwrap_or(0);
    println!("| models | wall time | peak memory | generated.rs |\n|---|---|---|---|");
    assert!(lines > models, "generated.rs holds {lines} lines for {models} models");
    println!("| {models} | {secs:.2} s | {:.1} MiB | {lines} lines |", kib / 1024.0);
    println!("\ngoal (under 1 s): {}\n", if secs < 1.0 { "met" } else { "MISSED" });
}

/// Writes the two crates the derive is measured on into `dir`: `serde-only`
/// (100 structs with serde derives) and `with-derive` (the same with
/// `#[derive(KvModel)]`), depending on the kvgen at `kvgen`, with this
/// workspace's lock file so dependency versions match the repository's.
fn write_derive_crates(dir: &Path, kvgen: &Path) -> [PathBuf; 2] {
    [false, true].map(|with| {
        let krate = dir.join(if with { "with-derive" } else { "serde-only" });
        std::fs::create_dir_all(krate.join("src")).unwrap();
        std::fs::write(
            krate.join("Cargo.toml"),
            format!(
                "[package]\nname = \"bench-{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nkvgen = {{ path = {:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\n[workspace]\n",
                if with { "derive" } else { "serde" },
                kvgen.display().to_string()
            ),
        )
        .unwrap();
        std::fs::copy(repo_root().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
        std::fs::write(krate.join("src/lib.rs"), derive_source(with)).unwrap();
        krate
    })
}

/// 100 models of 5 fields, with (`with`) or without the kvgen derive and attributes.
fn derive_source(with: bool) -> String {
    let mut src = String::from("use serde::{Deserialize, Serialize};\n");
    for m in 0..100 {
        let derive = if with { "kvgen::KvModel, " } else { "" };
        let kv = |a: &str| if with { format!("#[kv({a})] ") } else { String::new() };
        let container =
            if with { format!("#[kv(binding = \"NS{}\", unique(org, code))]\n", m % 10) } else { String::new() };
        src += &format!(
            "#[derive({derive}Serialize, Deserialize, Clone, Debug, PartialEq)]\n{container}pub struct Model{m} {{\n    {}pub id: String,\n    {}pub email: String,\n    {}pub org: String,\n    pub code: String,\n    {}pub name: String,\n}}\n",
            kv("id"),
            kv("unique"),
            kv("index"),
            kv("meta")
        );
    }
    src
}

fn derive_section() {
    println!("## Build time of 100 models, with and without `#[derive(KvModel)]` (debug build of the models crate alone, median of 3)\n");
    let root = repo_root();
    let dir = target_dir().join("bench-derive");
    if smoke() {
        // No builds: each model of the derive's crate goes through the derive in process.
        let [_, with] = write_derive_crates(&dir, &root);
        let file = syn::parse_file(&std::fs::read_to_string(with.join("src/lib.rs")).unwrap()).unwrap();
        let mut models = 0;
        for item in &file.items {
            if let syn::Item::Struct(s) = item {
                kvgen_codegen::derive_model(&s.clone().into()).unwrap();
                models += 1;
            }
        }
        assert_eq!(models, 100);
        println!("the derive accepts the 100 models (smoke: not built)\n");
        return;
    }
    let mut results = Vec::new();
    for krate in write_derive_crates(&dir, &root) {
        let src = std::fs::read_to_string(krate.join("src/lib.rs")).unwrap();
        let target = dir.join("target");
        let build = || {
            let start = Instant::now();
            let st = Command::new("cargo")
                .args(["build", "--quiet"])
                .env("CARGO_TARGET_DIR", &target)
                .current_dir(&krate)
                .status()
                .unwrap();
            assert!(st.success());
            start.elapsed().as_secs_f64()
        };
        build(); // dependencies
        let mut times: Vec<f64> = (0..3)
            .map(|_| {
                std::fs::write(krate.join("src/lib.rs"), format!("{src}\n")).unwrap();
                std::fs::write(krate.join("src/lib.rs"), &src).unwrap();
                build()
            })
            .collect();
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        results.push(times[1]);
    }
    println!("| crate | build time |\n|---|---|");
    println!("| 100 structs, serde derives only | {:.2} s |", results[0]);
    println!("| the same with `#[derive(KvModel)]` | {:.2} s |", results[1]);
    println!(
        "\nthe derive adds {:.2} s for 100 models ({:.1} ms a model)\n",
        results[1] - results[0],
        (results[1] - results[0]) * 10.0
    );
}

fn profile(what: &str) {
    let kv = MemoryStore::new();
    let users_n = blog(&kv, 1000, 100);
    let (users, posts) = (User::repo(&kv), Post::repo(&kv));
    let page: Vec<Post> = block_on(posts.list(Page::first(100))).unwrap().items;
    for i in 0..2000 {
        match what {
            "update" => {
                let mut u = user(i % users_n, users_n);
                u.email = format!("moved{i}@example.com");
                block_on(users.update(&u)).unwrap();
            }
            "update-hw" => {
                let mut u = user(i % users_n, users_n);
                u.email = format!("moved{i}@example.com");
                block_on(handwritten::update_user(&kv, &u)).unwrap();
            }
            "authors" => drop(block_on(posts.load_authors(&page)).unwrap()),
            "authors-hw" => drop(block_on(handwritten::load_authors(&kv, &page)).unwrap()),
            "has-many" => drop(block_on(users.list_posts(&user(i % users_n, users_n), Page::first(100))).unwrap()),
            _ => drop(block_on(users.find_by_email(&format!("user{}@example.com", i % users_n))).unwrap()),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    SMOKE.store(args.iter().any(|a| a == "smoke"), Ordering::Relaxed);
    let want = |s: &str| args.is_empty() || smoke() || args.iter().any(|a| a == s);
    if want("ops") {
        ops_section();
    }
    if want("cpu") {
        cpu_section();
    }
    if want("rounds") {
        rounds::section();
    }
    if want("codegen") {
        codegen_section();
    }
    if want("derive") {
        derive_section();
    }
    // `kvgen-bench derive-crates DIR [KVGEN]` only writes the derive section's two
    // crates (against the kvgen at KVGEN, default this repository), for
    // measuring cold builds by hand (BENCHMARKS.md, "Cold build").
    if let Some(i) = args.iter().position(|a| a == "derive-crates") {
        let dir = PathBuf::from(args.get(i + 1).expect("derive-crates DIR [KVGEN]"));
        let kvgen = args.get(i + 2).map(PathBuf::from).unwrap_or_else(repo_root);
        for krate in write_derive_crates(&dir, &kvgen) {
            println!("{}", krate.display());
        }
        return;
    }
    // Profiling aid: `kvgen-bench profile NAME` runs one call in a loop.
    if let Some(i) = args.iter().position(|a| a == "profile") {
        profile(args.get(i + 1).map(String::as_str).unwrap_or(""));
    }
}
