//! An adversarial review's attacks on the guarantees of docs/unique-indexes.md,
//! docs/attributes.md ("Expiry: what each write does") and RELIABILITY.md
//! ("Guarantees without concurrent writers"), without concurrent
//! writers. The `was_broken_*` tests broke a guarantee when written and are
//! its regression tests now; the `held_*` ones held from the start.

use blog::{Post, PostStatus, User};
use kvgen::{Error, Fault, Faulty, KvModel, KvStore, ManualClock, MemoryStore, Page, PutOptions, WriteOptions};
use pollster::block_on;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[path = "support.rs"]
mod support;
use support::*;

// ---------------------------------------------------------------------------
// WAS BROKEN 1. A numeric #[kv(meta)] field: KV stores metadata as JavaScript's
// JSON (1.0 -> 1), and audit compares the re-serialized projection with the
// stored one by serde_json::Value equality (Float(10.0) != PosInt(10)).
// Guarantee 5: repair() must leave verify() reporting nothing but conflicts,
// unreadable records and unknown-index entries.

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Item {
    #[kv(id)]
    id: String,
    #[kv(index)]
    group: String,
    #[kv(meta)]
    price: f64,
}

#[test]
fn was_broken_numeric_meta_makes_repair_never_converge() {
    let s = MemoryStore::new();
    let items = Item::repo(&s);
    block_on(items.create(&Item { id: "i1".into(), group: "g".into(), price: 10.0 })).unwrap();
    let first = block_on(items.verify()).unwrap();
    block_on(items.repair()).unwrap();
    block_on(items.repair()).unwrap();
    let after = block_on(items.verify()).unwrap();
    assert_eq!(
        after.mismatched, 0,
        "a freshly created record, repaired twice, still mismatched: {after} (before any repair: {first})"
    );
}

// WAS BROKEN 2. A u64 meta value above 2^53 does not read back (KV keeps a
// double): list_meta, a listing of live records, fails for the whole page.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Counter {
    #[kv(id)]
    id: String,
    #[kv(meta)]
    hits: u64,
}

#[test]
fn was_broken_u64_meta_above_2_53_breaks_list_meta() {
    let s = MemoryStore::new();
    let counters = Counter::repo(&s);
    block_on(counters.create(&Counter { id: "a".into(), hits: 1 })).unwrap();
    // A meta number KV would store with fewer digits is refused before any write.
    let err = block_on(counters.create(&Counter { id: "b".into(), hits: u64::MAX })).unwrap_err();
    assert!(matches!(err, Error::Serialization { .. }), "{err}");
    assert!(s.raw("counter:b").is_none());
    block_on(counters.create(&Counter { id: "b".into(), hits: 1 << 53 })).unwrap();
    let page = block_on(counters.list_meta(Page::first(10)));
    assert!(page.is_ok(), "list_meta of two live records: {page:?}");
    let got = block_on(counters.get_with_meta("b"));
    assert!(got.is_ok(), "get_with_meta: {got:?}");
}

// WAS BROKEN 2b. One record whose metadata was written by other code makes
// list_meta fail for the whole page (list() names it apart instead).
#[test]
fn was_broken_foreign_metadata_breaks_list_meta_for_the_page() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    block_on(users.create(&user("u2", "b@x"))).unwrap();
    let json = s.raw("user:u2").unwrap();
    raw_put_with(&s, "user:u2", &json, Some(json!("legacy")), None);
    assert_eq!(block_on(users.list(Page::first(10))).unwrap().items.len(), 2);
    let page = block_on(users.list_meta(Page::first(10)));
    assert!(page.is_ok(), "list_meta: {page:?}");
}

// ---------------------------------------------------------------------------
// WAS BROKEN 3. A ttl write over a record whose metadata is not kvgen's (written
// by other code: metadata a string, or `$exp` garbage). Its expiry counts as
// "never", so a ttl write is taken as shrinking it and the entries that point
// here are rewritten only AFTER the record. Their real expiry was shorter:
// a fault after the record write (or a Before fault on a best-effort write,
// where the call even answers Ok) leaves entries expiring before the record.
#[test]
fn was_broken_ttl_write_over_foreign_metadata_leaves_entries_expiring_first() {
    let mut failures = Vec::new();
    for metadata in [
        json!("legacy"),
        json!({"name": "u1", "$exp": "soon"}),
        json!({"$exp": -1}),
        // What a kvgen from before `$exp` wrote: the projection only.
        json!({"name": "u1"}),
    ] {
        for fault in FAULTS {
            for n in 1..=8 {
                let clock = ManualClock::new(T0);
                let s = Faulty::new(MemoryStore::with_clock(clock.clone()));
                let users = User::repo(&s);
                block_on(users.create_with(&user("u1", "a@x"), WriteOptions::ttl(600))).unwrap();
                // Other code rewrites the record, same JSON and same expiry,
                // its own metadata: record and entries all expire at T0 + 600.
                let json = s.inner().raw("user:u1").unwrap();
                raw_put_with(s.inner(), "user:u1", &json, Some(metadata.clone()), Some(T0 + 600));
                s.fail_at(n, fault);
                let r = Faulty::drive(users.update_with(&user("u1", "a@x"), WriteOptions::ttl(3000)));
                s.heal();
                clock.advance(700);
                let users = User::repo(s.inner());
                if s.inner().raw("user:u1").is_some() {
                    let dup = block_on(users.create(&intruder("a@x")));
                    if !matches!(dup, Err(Error::UniqueViolation { .. })) {
                        failures.push(format!(
                            "metadata {metadata}, {fault:?} at op {n}: update -> {:?}; at T0+700 the record \
                             (expires {:?}) is live but its email entry is gone: create -> {dup:?}",
                            r.map(|r| r.is_ok()),
                            s.inner().expiration("user:u1")
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} runs broke guarantee 2/3:\n{}", failures.len(), failures.join("\n"));
}

// WAS BROKEN 4. Keep semantics over a record written by other code with a real
// expiry but metadata without `$exp` (e.g. the projection only): a plain
// update makes the record permanent (docs/attributes.md: "kept as stored") while every
// entry keeps its old expiry (same_expiry: None == None): once they expire,
// the live record's email is free. No fault needed.
#[test]
fn was_broken_plain_update_over_record_without_exp_frees_its_email() {
    let (s, clock) = clocked();
    let users = User::repo(&s);
    block_on(users.create_with(&user("u1", "a@x"), WriteOptions::ttl(600))).unwrap();
    // Consistent state written by other code: record and entries expire at T0+600.
    let json = s.raw("user:u1").unwrap();
    raw_put_with(&s, "user:u1", &json, Some(json!({"name": "u1"})), Some(T0 + 600));
    block_on(users.update(&User { name: "renamed".into(), ..user("u1", "a@x") })).unwrap();
    let rec_exp = s.expiration("user:u1");
    let entry_exp = s.expiration("user.email:a@x");
    clock.advance(601);
    assert!(
        s.raw("user:u1").is_none()
            || matches!(block_on(users.create(&intruder("a@x"))), Err(Error::UniqueViolation { .. })),
        "after a plain update the record expires {rec_exp:?} (was T0+600 = {}) and its email entry {entry_exp:?}: \
         at T0+601 the live record's email was taken",
        T0 + 600
    );
}

// WAS BROKEN 5. Repair over a record whose metadata is not kvgen's: the entries
// walk skips the expiry check (record_expiration None), so entries expiring
// before the record stay; verify() is clean and, later, the value is free.
#[test]
fn was_broken_repair_keeps_entries_expiring_before_a_record_with_foreign_metadata() {
    let (s, clock) = clocked();
    let users = User::repo(&s);
    block_on(users.create_with(&user("u1", "a@x"), WriteOptions::ttl(600))).unwrap();
    // Other code makes the record permanent, with its own metadata.
    let json = s.raw("user:u1").unwrap();
    raw_put_with(&s, "user:u1", &json, Some(json!("legacy")), None);
    let report = block_on(users.repair()).unwrap();
    let verify = block_on(users.verify()).unwrap();
    clock.advance(601);
    let dup = block_on(users.create(&intruder("a@x")));
    assert!(
        matches!(dup, Err(Error::UniqueViolation { .. })),
        "repair: {report}; verify: {verify}; at T0+601 the permanent record's email was taken: {dup:?}"
    );
}

// WAS BROKEN 6. Repair trusts `$exp` over the record's real expiry (which the
// records walk has from the listing): a record whose `$exp` is sooner than
// its real expiry gets entries rewritten to the sooner time.
#[test]
fn was_broken_repair_shortens_entries_to_a_stale_exp() {
    let (s, clock) = clocked();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    let json = s.raw("user:u1").unwrap();
    raw_put_with(&s, "user:u1", &json, Some(json!({"name": "u1", "$exp": T0 + 100})), None);
    let report = block_on(users.repair()).unwrap();
    clock.advance(200);
    assert!(s.raw("user:u1").is_some());
    let dup = block_on(users.create(&intruder("a@x")));
    assert!(
        matches!(dup, Err(Error::UniqueViolation { .. })),
        "repair: {report}; the permanent record's email entry now expires first: {dup:?}"
    );
}

// WAS BROKEN 7. belongs_to loaders parse the parent with `parse`, not
// `parse_record`: a record whose body id is not its key's (unreadable for
// get, list, verify) is returned for the wrong id.
#[test]
fn was_broken_belongs_to_returns_a_record_whose_id_is_not_its_keys() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    let posts = Post::repo(&s);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    block_on(s.put("user:u1", serde_json::to_string(&user("u2", "b@x")).unwrap().as_bytes(), &PutOptions::default()))
        .unwrap();
    let p = Post { id: 1, author_id: "u1".into(), status: PostStatus::Draft, title: "t".into(), body: "b".into() };
    block_on(posts.create(&p)).unwrap();
    assert!(matches!(block_on(users.get("u1")), Err(Error::Serialization { .. })));
    let one = block_on(posts.load_author(&p));
    let many = block_on(posts.load_authors(std::slice::from_ref(&p)));
    let ok = |r: &Option<User>| r.as_ref().is_none_or(|u| u.id == "u1");
    assert!(
        !matches!(&one, Ok(r) if !ok(r)) && !matches!(&many, Ok(v) if !ok(&v[0])),
        "author u1 loaded as {one:?} / {many:?}"
    );
}

// ===========================================================================
// Attacks that HELD.

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", unique(team, nick))]
struct Acct {
    #[kv(id)]
    id: String,
    #[kv(unique)]
    nick: Option<String>,
    #[kv(index)]
    team: Option<String>,
    #[kv(meta)]
    label: String,
}

fn acct(id: &str, nick: Option<&str>, team: Option<&str>) -> Acct {
    Acct { id: id.into(), nick: nick.map(Into::into), team: team.map(Into::into), label: id.into() }
}

/// Every live readable Acct's unique values are held, find returns it, and
/// list_by_team lists it.
fn accts_ok(s: &MemoryStore, ctx: &str) {
    let repo = Acct::repo(s);
    for key in s.keys().into_iter().filter(|k| k.starts_with("acct:")) {
        let Ok(a) = serde_json::from_str::<Acct>(&s.raw(&key).unwrap()) else { continue };
        if let Some(n) = &a.nick {
            let r = block_on(repo.create(&Acct { id: "zz-intruder".into(), team: None, ..a.clone() }));
            assert!(matches!(r, Err(Error::UniqueViolation { .. })), "{ctx}: {key} nick {n} free: {r:?}");
            assert_eq!(block_on(repo.find_by_nick(n)).unwrap().as_ref(), Some(&a), "{ctx}: find_by_nick");
        }
        if let Some(t) = &a.team {
            let mut all = Vec::new();
            let mut page = Some(Page::first(1));
            while let Some(p) = page.take() {
                let got = block_on(repo.list_by_team(t, p)).unwrap();
                page = got.next(1);
                all.extend(got.items);
            }
            assert!(all.contains(&a), "{ctx}: {key} not listed under team {t}: {all:?}");
        }
    }
}

// HELD: Option unique / secondary / compound fields moving between None and
// Some, with shrinking and growing ttls, every fault at every position.
#[test]
fn held_option_fields_with_ttls_and_faults() {
    let states = [
        (Some("n1"), Some("t1"), WriteOptions::ttl(600)),
        (None, Some("t2"), WriteOptions::ttl(3000)),
        (Some("n2"), None, WriteOptions::ttl(120)),
        (Some("n1"), Some("t1"), WriteOptions::permanent()),
        (None, None, WriteOptions::default()),
    ];
    for (from_n, from_t, from_o) in states {
        for (to_n, to_t, to_o) in states {
            for fault in FAULTS {
                for n in 1..=10 {
                    let clock = ManualClock::new(T0);
                    let s = Faulty::new(MemoryStore::with_clock(clock.clone()));
                    let repo = Acct::repo(&s);
                    block_on(repo.create_with(&acct("a1", from_n, from_t), from_o)).unwrap();
                    block_on(repo.create(&acct("a2", Some("other"), Some("t1")))).unwrap();
                    s.fail_at(n, fault);
                    let _ = Faulty::drive(repo.put_with(&acct("a1", to_n, to_t), to_o));
                    s.heal();
                    let ctx = format!("{from_n:?}/{from_t:?}/{from_o:?} -> {to_n:?}/{to_t:?}/{to_o:?}, {fault:?}@{n}");
                    for step in [0, 119, 2, 480, 2400] {
                        clock.advance(step);
                        accts_ok(s.inner(), &format!("{ctx} +{step}"));
                    }
                }
            }
        }
    }
}

// HELD: repair after those histories leaves verify clean.
#[test]
fn held_repair_converges_on_option_fields() {
    let s = MemoryStore::new();
    let repo = Acct::repo(&s);
    block_on(repo.create(&acct("a1", Some("n"), Some("t")))).unwrap();
    block_on(s.put("acct.nick:zz", b"%ZZ", &PutOptions::default())).unwrap(); // garbage id
    block_on(s.put("acct.team:t:nope", b"", &PutOptions::default())).unwrap(); // no record
    block_on(s.put("acct.gone:x", b"a1", &PutOptions::default())).unwrap(); // unknown index
    block_on(s.put("acct.team_nick::n", b"a1", &PutOptions::default())).unwrap(); // absent part
    let r = block_on(repo.repair()).unwrap();
    let v = block_on(repo.verify()).unwrap();
    assert_eq!((v.missing, v.dangling, v.mismatched, v.unknown_index), (0, 0, 0, 1), "{r}\n{v}");
}

// HELD: models whose prefixes are prefixes of each other, and scopes.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "user_x")]
struct UserX {
    #[kv(id)]
    id: String,
    #[kv(unique)]
    email: String,
}

#[test]
fn held_prefix_of_another_prefix_and_scopes() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    let xs = UserX::repo(&s);
    let scoped = User::repo_scoped(&s, "user").unwrap();
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    block_on(xs.create(&UserX { id: "u1".into(), email: "a@x".into() })).unwrap();
    block_on(scoped.create(&user("u1", "a@x"))).unwrap();
    for r in [block_on(users.repair()).unwrap(), block_on(scoped.repair()).unwrap()] {
        assert_eq!((r.records, r.entries, r.dangling, r.unknown_index), (1, 3, 0, 0), "{r}");
    }
    let r = block_on(xs.repair()).unwrap();
    assert_eq!((r.records, r.entries, r.dangling), (1, 1, 0), "{r}");
    assert_eq!(block_on(users.list(Page::first(10))).unwrap().items.len(), 1);
    assert_eq!(s.keys().len(), 10);
    // A cursor of one listing is refused by another.
    block_on(users.create(&user("u2", "b@x"))).unwrap();
    let c = block_on(users.list(Page::first(1))).unwrap().cursor.unwrap();
    assert!(matches!(block_on(scoped.list(Page::after(c.clone(), 1))), Err(Error::InvalidCursor { .. })));
    assert!(matches!(block_on(users.list_by_org_id("o1", Page::after(c, 1))), Err(Error::InvalidCursor { .. })));
}

// HELD: odd ids (`:`, `%`, control characters, empty) through every write,
// a fault at every position, delete and repair.
#[test]
fn held_odd_ids_with_faults() {
    for id in ["", "a:b", "%", "%3A", "\u{0}\u{7f}\n", ":"] {
        for fault in FAULTS {
            for n in 1..=8 {
                let s = Faulty::new(MemoryStore::new());
                let users = User::repo(&s);
                block_on(users.create(&user(id, "a@x"))).unwrap();
                s.fail_at(n, fault);
                let _ = Faulty::drive(users.update(&User { email: "b@x".into(), ..user(id, "a@x") }));
                s.heal();
                emails_held(&s, s.inner(), &format!("{id:?} {fault:?}@{n}"));
                block_on(users.repair()).unwrap();
                let v = block_on(users.verify()).unwrap();
                assert!(v.is_clean(), "{id:?} {fault:?}@{n}: {v}");
                assert!(block_on(users.delete(&id.to_string())).unwrap());
                assert!(block_on(users.verify()).unwrap().is_clean());
            }
        }
    }
}

// HELD: delete of a record whose unique entries point elsewhere leaves them.
#[test]
fn held_delete_keeps_entries_pointing_elsewhere() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    block_on(users.create(&user("u2", "b@x"))).unwrap();
    // u2's record is overwritten to carry a@x too; the entry still names u1.
    block_on(s.put("user:u2", serde_json::to_string(&user("u2", "a@x")).unwrap().as_bytes(), &PutOptions::default()))
        .unwrap();
    assert!(block_on(users.delete("u2")).unwrap());
    assert_eq!(s.raw("user.email:a@x").as_deref(), Some("u1"));
    emails_held(&s, &s, "after delete");
}

// HELD: a ttl ending exactly at the maximum expiration; a kept expiry near
// expiry is bumped to 60 s with its entries; metadata at the 1024-byte limit
// once `$exp` is added is refused before any write.
#[test]
fn held_expiry_edges() {
    let (s, clock) = clocked();
    let users = User::repo(&s);
    let max = kvgen::limits::MAX_EXPIRATION;
    block_on(users.create_with(&user("u1", "a@x"), WriteOptions::ttl(max - T0))).unwrap();
    assert_eq!(s.expiration("user.email:a@x"), Some(max));
    assert!(block_on(users.create_with(&user("u2", "b@x"), WriteOptions::ttl(max - T0 + 1))).is_err());
    assert!(s.raw("user:u2").is_none());
    block_on(users.create_with(&user("u3", "c@x"), WriteOptions::ttl(100))).unwrap();
    clock.advance(90);
    for fault in FAULTS {
        for n in 1..=6 {
            let f = Faulty::new(s.fork());
            f.fail_at(n, fault);
            let _ = Faulty::drive(User::repo(&f).update(&User { email: "d@x".into(), ..user("u3", "c@x") }));
            f.heal();
            // The entries the record now needs expire no sooner than it.
            let rec: User = serde_json::from_str(&f.inner().raw("user:u3").unwrap()).unwrap();
            let rec_exp = f.inner().expiration("user:u3").unwrap();
            for k in
                [format!("user.email:{}", rec.email), "user.org_id_handle:o1:u3".into(), "user.org_id:o1:u3".into()]
            {
                let e = f.inner().expiration(&k);
                assert!(
                    e.is_some_and(|e| e >= rec_exp),
                    "bump {fault:?}@{n}: {k} {e:?} < record {rec_exp}: {:?}",
                    f.inner().keys()
                );
            }
            emails_held(&f, f.inner(), &format!("bump {fault:?}@{n}"));
        }
    }
    block_on(users.update(&user("u3", "c@x"))).unwrap();
    assert_eq!(s.expiration("user:u3"), Some(T0 + 150));
    assert_eq!(s.expiration("user.email:c@x"), Some(T0 + 150));
    // Metadata: a name that fits alone but not with `$exp` (always written,
    // with room for the largest expiration) is refused before any write.
    let fits = 1024 - r#"{"name":""}"#.len();
    let long = User { name: "n".repeat(fits), ..user("u4", "e@x") };
    let before = s.keys();
    let r = block_on(users.create(&long));
    assert!(matches!(r, Err(Error::MetadataTooLarge { .. })), "{r:?}");
    assert_eq!(s.keys(), before);
    let room = 1024 - r#"{"name":"","$exp":2147483647}"#.len();
    block_on(users.create(&User { name: "n".repeat(room), ..user("u4", "e@x") })).unwrap();
}

// HELD: garbage / huge / negative `$exp` on a record: a plain update never
// loses the record or frees its values (it may fail: `$exp` past 2038).
#[test]
fn held_garbage_exp_keep_update_loses_nothing() {
    for exp in [json!(u64::MAX), json!(9_999_999_999u64), json!(-5), json!(1.5), json!(null), json!([1])] {
        let (s, clock) = clocked();
        let users = User::repo(&s);
        block_on(users.create(&user("u1", "a@x"))).unwrap();
        let json = s.raw("user:u1").unwrap();
        raw_put_with(&s, "user:u1", &json, Some(json!({"name": "u1", "$exp": exp})), None);
        let r = block_on(users.update(&User { name: "z".into(), ..user("u1", "a@x") }));
        clock.advance(100_000);
        assert!(s.raw("user:u1").is_some(), "$exp {exp}: {r:?}");
        emails_held(&s, &s, &format!("$exp {exp}"));
    }
}

// HELD: has_one / has_many loaders with stale and garbage entries.
#[test]
fn held_loaders_with_stale_and_garbage_entries() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    let posts = Post::repo(&s);
    let u = user("u1", "a@x");
    block_on(users.create(&u)).unwrap();
    block_on(s.put("profile.user_id:u1", b"%ZZ", &PutOptions::default())).unwrap();
    assert_eq!(block_on(users.load_profile(&u)).unwrap(), None);
    assert_eq!(block_on(users.load_profiles(std::slice::from_ref(&u))).unwrap(), vec![None]);
    let p = Post { id: 7, author_id: "u1".into(), status: PostStatus::Draft, title: "t".into(), body: "b".into() };
    block_on(posts.create(&p)).unwrap();
    block_on(s.put("post.author_id:u1:00000000000000000008", b"", &PutOptions::default())).unwrap();
    block_on(s.put("post.author_id:u1:garbage", b"", &PutOptions::default())).unwrap();
    assert_eq!(block_on(users.load_posts(std::slice::from_ref(&u))).unwrap(), vec![vec![p.clone()]]);
}

fn clock_now(c: &ManualClock) -> u64 {
    kvgen::Clock::now(c)
}

/// Every live readable Acct: each entry it needs exists, names it (unique),
/// and expires no sooner than the record.
fn acct_entries_cover(s: &MemoryStore, ctx: &str) {
    let repo = Acct::repo(s);
    for key in s.keys().into_iter().filter(|k| k.starts_with("acct:")) {
        let Ok(a) = serde_json::from_str::<Acct>(&s.raw(&key).unwrap()) else { continue };
        if format!("acct:{}", a.id) != key {
            continue;
        }
        let rec_exp = s.expiration(&key);
        for i in 0..3 {
            let Some(k) = repo.index_key(&a, i) else { continue };
            let v = s.raw(&k);
            assert!(v.is_some(), "{ctx}: {key} needs {k}, missing; keys {:?}", s.keys());
            let e = s.expiration(&k);
            let ok = match (e, rec_exp) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(e), Some(r)) => e >= r,
            };
            assert!(ok, "{ctx}: {key} (expires {rec_exp:?}) needs {k}, which expires {e:?}");
            if !k.starts_with("acct.team:") {
                assert_eq!(v.as_deref(), Some(a.id.as_str()), "{ctx}: {k} names another record");
            }
        }
    }
}

// HELD: random histories on Acct (Option unique, Option secondary, compound
// unique with Option parts, meta), every write kind incl. upsert, random ttl,
// random fault, clock advances, corruption, repair.
#[test]
fn held_random_histories_on_option_fields() {
    let cases: u64 = std::env::var("ATTACK_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for case in 0..cases {
        let clock = ManualClock::new(T0);
        let s = Faulty::new(MemoryStore::with_clock(clock.clone()));
        let repo = Acct::repo(&s);
        let mut log = Vec::new();
        for _ in 0..16 {
            let pick = |r: u64, xs: &[Option<&'static str>]| xs[r as usize % xs.len()];
            let id = ["a1", "a2", "a3"][rnd(3) as usize];
            let nick = pick(rnd(3), &[None, Some("n1"), Some("n2")]);
            let team = pick(rnd(3), &[None, Some("t1"), Some("t2")]);
            let a = Acct { label: format!("l{}", rnd(3)), ..acct(id, nick, team) };
            let opts = [
                WriteOptions::default(),
                WriteOptions::ttl(60),
                WriteOptions::ttl(120),
                WriteOptions::ttl(600),
                WriteOptions::permanent(),
            ][rnd(5) as usize];
            let fault = [None, None, Some(Fault::Before), Some(Fault::After), Some(Fault::Timeout)][rnd(5) as usize];
            let at = 1 + rnd(10);
            if let Some(f) = fault {
                s.fail_at(at, f);
            }
            let op = rnd(9);
            log.push(format!("op{op} {a:?} {opts:?} {fault:?}@{at}"));
            match op {
                0 => drop(Faulty::drive(repo.create_with(&a, opts))),
                1 | 2 => drop(Faulty::drive(repo.put_with(&a, opts))),
                3 => drop(Faulty::drive(repo.update_with(&a, opts))),
                4 => drop(Faulty::drive(repo.upsert_by_nick(a.clone()))),
                5 => drop(Faulty::drive(repo.delete(&a.id))),
                6 => clock.advance([30, 59, 61, 120, 700][rnd(5) as usize]),
                7 => {
                    s.heal();
                    let r = block_on(repo.repair());
                    let v = block_on(repo.verify()).unwrap();
                    assert!(
                        v.missing + v.dangling + v.mismatched == 0,
                        "case {case}: after repair {r:?}: {v}\n{}",
                        log.join("\n")
                    );
                }
                _ => {
                    // Corrupt: an older struct's JSON (no label) over a record.
                    if let Some(json) = s.inner().raw(&format!("acct:{id}")) {
                        let mut v: Value = serde_json::from_str(&json).unwrap();
                        if let Some(o) = v.as_object_mut() {
                            o.remove("label");
                        }
                        let exp = s.inner().expiration(&format!("acct:{id}"));
                        if exp.is_some_and(|e| e < clock_now(&clock) + 60) {
                            continue;
                        }
                        let meta = block_on(s.inner().get(&format!("acct:{id}"))).unwrap().unwrap().metadata;
                        raw_put_with(s.inner(), &format!("acct:{id}"), &v.to_string(), meta, exp);
                    }
                }
            }
            s.heal();
            let ctx = format!("case {case}\n{}", log.join("\n"));
            acct_entries_cover(s.inner(), &ctx);
            accts_ok(s.inner(), &ctx);
        }
    }
}

// Wrapped errors keep their cause: a record that is not JSON gives a
// Serialization error whose source is serde_json's own error.
#[test]
fn serialization_errors_keep_serde_jsons_error_as_their_source() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    block_on(s.put("user:u1", b"{not json", &PutOptions::default())).unwrap();
    let err = block_on(users.get("u1")).unwrap_err();
    let source = std::error::Error::source(&err).unwrap_or_else(|| panic!("no source: {err:?}"));
    let json = source.downcast_ref::<serde_json::Error>().expect("serde_json's error");
    assert!(json.is_syntax(), "{json}");
    assert!(err.to_string().contains(&json.to_string()), "{err}");
}
