//! One regression test per defect that broke a promise of README.md or
//! RELIABILITY.md without any concurrent writer: TTL and index entries, lost
//! responses, compensation, unreadable and garbage data, overflowing ttls,
//! has-one through a secondary index, conflicts with a missing entry, repair
//! convergence, and two models sharing a key prefix.

use blog::{Profile, User};
use kvgen::{
    Error, Fault, Faulty, FindingKind, KeyPart, KvModel, KvStore, MemoryStore, Metered, Page, PutOptions, Repo,
    WriteOptions,
};
use pollster::block_on;
use serde::{Deserialize, Serialize};

#[path = "support.rs"]
mod support;
use support::*;

/// Every live key of `s` under `user`, with its expiry.
fn user_keys(s: &MemoryStore) -> Vec<(String, Option<u64>)> {
    s.keys().into_iter().filter(|k| k.starts_with("user")).map(|k| (k.clone(), s.expiration(&k))).collect()
}

/// For every live user record, each of its unique values is held by an entry
/// naming it: no other record can take the value.
fn uniques_held(s: &MemoryStore) {
    for key in s.keys().into_iter().filter(|k| k.starts_with("user:")) {
        let u: User = serde_json::from_str(&s.raw(&key).unwrap()).unwrap();
        assert_eq!(s.raw(&format!("user.email:{}", u.email)).as_deref(), Some(u.id.as_str()), "{key}: email entry");
    }
    emails_held(s, s, "after the fault");
}

// 1. A plain update after a ttl write keeps the record's expiry, and every
//    entry keeps exactly the same one: nothing outlives anything.
#[test]
fn plain_update_after_ttl_write_keeps_the_expiry_of_record_and_entries() {
    let (s, clock) = clocked();
    let users = User::repo(&s);
    let mut u = user("u1", "a@x");
    block_on(users.create_with(&u, WriteOptions::ttl(3600))).unwrap();
    u.name = "renamed".into(); // meta only: no unique entry is rewritten
    block_on(users.update(&u)).unwrap();
    let keys = user_keys(&s);
    assert_eq!(keys.len(), 4);
    assert!(keys.iter().all(|(_, e)| *e == Some(T0 + 3600)), "{keys:?}");
    clock.advance(3599);
    assert_eq!(block_on(users.find_by_email("a@x")).unwrap().map(|u| u.name), Some("renamed".into()));
    let dup = block_on(users.create(&User { id: "u2".into(), handle: "u2".into(), ..u.clone() }));
    assert!(matches!(dup, Err(Error::UniqueViolation { .. })), "{dup:?}");
    clock.advance(2);
    assert_eq!(user_keys(&s), vec![], "record and entries expire together");
    assert!(block_on(users.verify()).unwrap().is_clean());
}

// 2. A failed update_with(ttl) of a permanent record never leaves expiring
//    entries under a permanent record, whatever operation fails and how.
#[test]
fn failed_ttl_update_of_a_permanent_record_never_leaves_expiring_entries() {
    for fault in FAULTS {
        for n in 1..=8 {
            let (s, clock) = faulty_with_u1();
            let users = User::repo(&s);
            s.fail_at(n, fault);
            let _ = Faulty::drive(
                users.update_with(&User { name: "x".into(), ..user("u1", "a@x") }, WriteOptions::ttl(600)),
            );
            s.heal();
            clock.advance(601);
            // Either the record expired with its entries, or it is still
            // there and holds its values.
            uniques_held(s.inner());
            let report = block_on(users.repair()).unwrap();
            assert_eq!(report.conflicts, 0, "{fault:?} at {n}: {report}");
            assert!(block_on(users.verify()).unwrap().is_clean(), "{fault:?} at {n}");
        }
    }
}

// 3. A lost response on the record write of an update that moves a unique
//    value: the record landed with the new value, and its entry stays.
#[test]
fn lost_response_on_update_keeps_the_new_value_held() {
    let s = Faulty::new(MemoryStore::new());
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    // Op 1 the bulk read, op 2 the new email entry, op 3 the read of the
    // old email's entry (made with op 2), op 4 the record.
    s.fail_at(4, Fault::After);
    let err = block_on(users.update(&user("u1", "b@x"))).unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err}");
    assert_eq!(block_on(users.get("u1")).unwrap().unwrap().email, "b@x");
    let dup = block_on(users.create(&User { id: "u2".into(), handle: "u2".into(), ..user("u2", "b@x") }));
    assert!(matches!(dup, Err(Error::UniqueViolation { .. })), "{dup:?}");
    assert_eq!(block_on(users.verify()).unwrap().conflicts, 0);
}

// 4. A put from a location that does not yet see the record, whose record
//    write lands and reports failure, never deletes the record.
#[test]
fn failed_put_from_a_lagging_view_never_deletes_the_record() {
    let (s, clock) = clocked();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    clock.advance(10);
    let far = Faulty::new(s.lagging(60));
    // Op 1 the bulk read (sees no record), ops 2..=4 three entries, op 5 the record.
    far.fail_at(5, Fault::After);
    assert!(block_on(User::repo(&far).put(&User { name: "new".into(), ..user("u1", "a@x") })).is_err());
    clock.advance(60);
    let got = block_on(users.get("u1")).unwrap();
    assert_eq!(got.map(|u| u.name), Some("new".into()), "the record written last is there");
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Reading {
    #[kv(id)]
    id: String,
    #[kv(unique)]
    sensor: String,
    value: f64,
    note: Option<f64>,
}

// 5a. A value that would not read back is refused before any KV operation.
#[test]
fn non_finite_floats_are_refused_before_any_operation() {
    let s = Metered::new(MemoryStore::new());
    let readings = Reading::repo(&s);
    for (value, note) in [(f64::NAN, None), (f64::INFINITY, None), (1.0, Some(f64::NEG_INFINITY))] {
        let r = Reading { id: "r1".into(), sensor: "s1".into(), value, note };
        let err = block_on(readings.put(&r)).unwrap_err();
        assert!(matches!(err, Error::Serialization { .. }), "{err}");
        assert!(err.to_string().contains("NaN or infinite"), "{err}");
    }
    assert_eq!(s.ops().total(), 0, "no KV operation");
    // Values with nulls that do read back are fine.
    block_on(readings.put(&Reading { id: "r1".into(), sensor: "null".into(), value: 1.5, note: None })).unwrap();
}

// 5b. One unreadable record denies nothing: listings return the rest and
//     name it, it can be deleted, and audit never frees its values.
#[test]
fn an_unreadable_record_is_listed_apart_deletable_and_keeps_its_values() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    for (id, email) in [("u1", "a@x"), ("u2", "b@x"), ("u3", "c@x")] {
        block_on(users.create(&user(id, email))).unwrap();
    }
    // u2 as an older struct wrote it: no `handle`.
    raw_put(&s, "user:u2", r#"{"id":"u2","email":"b@x","org_id":"o1","name":"u2"}"#);
    let page = block_on(users.list(Page::first(10))).unwrap();
    assert_eq!(page.items.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["u1", "u3"]);
    assert_eq!(page.unreadable, ["user:u2"]);
    let page = block_on(users.list_by_org_id("o1", Page::first(10))).unwrap();
    assert_eq!((page.items.len(), page.unreadable.len()), (2, 1));
    assert!(matches!(block_on(users.get("u2")), Err(Error::Serialization { .. })));
    // Its unique value stays held: verify reports it, repair keeps its entry.
    let report = block_on(users.repair()).unwrap();
    assert_eq!((report.unreadable, report.dangling), (1, 0), "{report}");
    assert_eq!(s.raw("user.email:b@x").as_deref(), Some("u2"));
    let dup = block_on(users.create(&User { id: "u9".into(), handle: "u9".into(), ..user("u9", "b@x") }));
    assert!(matches!(dup, Err(Error::UniqueViolation { .. })), "{dup:?}");
    // A put over it heals it; a delete removes it.
    block_on(users.put(&user("u2", "b@x"))).unwrap();
    assert!(block_on(users.list(Page::first(10))).unwrap().unreadable.is_empty());
    raw_put(&s, "user:u2", "not json");
    assert!(block_on(users.delete("u2")).unwrap());
    assert_eq!(s.raw("user:u2"), None);
    block_on(users.repair()).unwrap();
    assert!(block_on(users.verify()).unwrap().is_clean());
    block_on(users.create(&User { id: "u9".into(), handle: "u9".into(), ..user("u9", "b@x") })).unwrap();
}

// 6. An over-long garbage unique entry blocks nothing and breaks no audit.
#[test]
fn over_long_garbage_unique_entry_blocks_nothing() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    raw_put(&s, "user.email:free@x", &"x".repeat(600));
    raw_put(&s, "profile.user_id:u1", &"y".repeat(600));
    block_on(users.create(&user("u1", "free@x"))).unwrap();
    assert_eq!(block_on(users.find_by_email("free@x")).unwrap().unwrap().id, "u1");
    assert_eq!(block_on(users.load_profiles(&[user("u1", "free@x")])).unwrap(), vec![None]);
    assert!(block_on(Profile::repo(&s).verify()).unwrap().dangling == 1);
    block_on(Profile::repo(&s).repair()).unwrap();
    assert!(block_on(users.verify()).unwrap().is_clean());
    assert!(block_on(Profile::repo(&s).verify()).unwrap().is_clean());
}

// 7. A ttl or expiration that overflows, or that KV refuses, is an error
//    before any operation, never a panic or a vanished record.
#[test]
fn overflowing_ttl_and_expiration_are_refused() {
    let s = Metered::new(MemoryStore::new());
    let users = User::repo(&s);
    let u = user("u1", "a@x");
    for opts in [WriteOptions::ttl(u64::MAX), WriteOptions::ttl(kvgen::limits::MAX_TTL_SECS + 1)] {
        let err = block_on(users.create_with(&u, opts)).unwrap_err();
        assert!(matches!(err, Error::TtlTooLong { .. }), "{err}");
    }
    let err = block_on(users.create_with(&u, WriteOptions::expire_at(u64::MAX))).unwrap_err();
    assert!(matches!(err, Error::ExpirationTooLate { .. }), "{err}");
    assert_eq!(s.ops().total(), 0);
    let err = block_on(s.put("k", b"v", &PutOptions { expiration_ttl: Some(u64::MAX), ..Default::default() }));
    assert!(matches!(err, Err(Error::TtlTooLong { .. })), "{err:?}");
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", has_one(Settings, by = account_id))]
struct Account {
    #[kv(id)]
    id: String,
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Settings {
    #[kv(id)]
    id: String,
    #[kv(belongs_to = Account)]
    account_id: String,
}

// 8. has_one through a secondary index passes over stale entries.
#[test]
fn has_one_through_a_secondary_index_skips_stale_entries() {
    let s = MemoryStore::new();
    let accounts = Account::repo(&s);
    let a = Account { id: "a1".into() };
    block_on(accounts.create(&a)).unwrap();
    // Stale entries sorting first: records that moved to another account.
    for n in 0..15 {
        let id = format!("s{n:02}");
        block_on(Settings::repo(&s).create(&Settings { id: id.clone(), account_id: "other".into() })).unwrap();
        raw_put(&s, &format!("settings.account_id:a1:{id}"), "");
    }
    let live = Settings { id: "s99".into(), account_id: "a1".into() };
    block_on(Settings::repo(&s).create(&live)).unwrap();
    assert_eq!(block_on(accounts.load_settings(&a)).unwrap(), Some(live.clone()));
    assert_eq!(block_on(accounts.load_settingses(std::slice::from_ref(&a))).unwrap(), vec![Some(live)]);
}

// 9. Two records carrying one unique value with no entry: a conflict, and
//    repair leaves the value held rather than free.
#[test]
fn conflict_with_a_missing_entry_is_found_and_the_value_stays_held() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    block_on(users.create(&user("u2", "b@x"))).unwrap();
    // u2 was overwritten elsewhere to carry a@x too, and a@x's entry was lost.
    raw_put(&s, "user:u2", &serde_json::to_string(&user("u2", "a@x")).unwrap());
    block_on(s.delete("user.email:a@x")).unwrap();
    let report = block_on(users.verify()).unwrap();
    assert_eq!(report.conflicts, 1, "{report}");
    assert!(report.findings.iter().any(|f| f.kind == FindingKind::Conflict && f.key == "user.email:a@x"));
    let report = block_on(users.repair()).unwrap();
    assert_eq!(report.conflicts, 1, "{report}");
    let dup = block_on(users.create(&User { id: "u3".into(), handle: "u3".into(), ..user("u3", "a@x") }));
    assert!(matches!(dup, Err(Error::UniqueViolation { .. })), "{dup:?}");
}

// 10. A record whose body id is not its key's id: repair converges.
#[test]
fn repair_converges_when_a_records_id_is_not_its_keys() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x"))).unwrap();
    raw_put(&s, "user:x", &serde_json::to_string(&user("y", "y@x")).unwrap());
    let first = block_on(users.repair()).unwrap();
    assert_eq!(first.unreadable, 1, "{first}");
    let second = block_on(users.repair()).unwrap();
    assert_eq!((second.missing, second.dangling, second.mismatched), (0, 0, 0), "{second}");
    let third = block_on(users.repair()).unwrap();
    assert_eq!(second, third, "repair reached a fixed point");
}

mod billing {
    use super::*;
    #[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[kv(binding = "APP")]
    pub struct Invoice {
        #[kv(id)]
        pub id: String,
        #[kv(unique)]
        pub number: String,
    }
}

mod legacy {
    use super::*;
    #[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[kv(binding = "APP")]
    pub struct Invoice {
        #[kv(id)]
        pub id: String,
        #[kv(index)]
        pub customer: String,
    }
}

// 11. Repair does not delete entries of indexes it does not know: another
//     model's, sharing the prefix.
#[test]
fn repair_keeps_entries_of_indexes_it_does_not_know() {
    let s = MemoryStore::new();
    block_on(legacy::Invoice::repo(&s).create(&legacy::Invoice { id: "l1".into(), customer: "c".into() })).unwrap();
    let report = block_on(billing::Invoice::repo(&s).repair()).unwrap();
    assert_eq!(report.unknown_index, 1, "{report}");
    assert_eq!(s.raw("invoice.customer:c:l1").as_deref(), Some(""));
    assert_eq!(block_on(legacy::Invoice::repo(&s).list_by_customer("c", Page::first(10))).unwrap().items.len(), 1);
}

// 19 (repositories side of the key codec): an id with every awkward byte
// still reads back as its key's.
#[test]
fn awkward_ids_read_back() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    let u = user("a:b%c\u{1}", "z@x");
    block_on(users.create(&u)).unwrap();
    assert_eq!(block_on(users.get(&u.id)).unwrap(), Some(u.clone()));
    assert_eq!(block_on(users.list(Page::first(10))).unwrap().items, vec![u.clone()]);
    assert!(block_on(Repo::<User, _>::new(&s).verify()).unwrap().is_clean());
    let _ = KeyPart::is_absent(&u.id);
}

// Found by the model test: a ttl write over an unreadable record whose first
// entry write lands and reports failure must not leave that entry expiring
// before the (still unreadable, permanent) record.
#[test]
fn failed_ttl_write_over_an_unreadable_record_keeps_its_values_held() {
    for fault in FAULTS {
        for n in 1..=8 {
            let (s, clock) = faulty_with_u1();
            let users = User::repo(&s);
            raw_put(s.inner(), "user:u1", r#"{"id":"u1","email":"a@x"}"#);
            s.fail_at(n, fault);
            let _ = Faulty::drive(users.put_with(&user("u1", "a@x"), WriteOptions::ttl(60)));
            s.heal();
            clock.advance(61);
            if s.inner().raw("user:u1").is_some() {
                let dup = block_on(users.create(&intruder("a@x")));
                assert!(matches!(dup, Err(Error::UniqueViolation { .. })), "{fault:?} at {n}: {dup:?}");
            }
        }
    }
}

// The derive refuses at compile time the ttls the runtime refuses.
#[test]
fn compile_time_and_run_time_ttl_bounds_agree() {
    assert_eq!(kvgen_codegen::valid::MAX_TTL_SECS, kvgen::limits::MAX_TTL_SECS);
}

// KV refuses a bulk read of values over 25 MiB in all: listings and batch
// reads of large records read such a batch again in halves.
#[test]
fn large_records_are_read_back_in_smaller_batches() {
    use blog::{Post, PostStatus};
    let s = Metered::new(MemoryStore::new());
    let posts = Post::repo(&s);
    let body = "b".repeat(7 * 1024 * 1024);
    for id in 0..4u64 {
        let p = Post { id, author_id: "a".into(), status: PostStatus::Draft, title: "t".into(), body: body.clone() };
        block_on(posts.create(&p)).unwrap();
    }
    s.reset();
    let page = block_on(posts.list(Page::first(10))).unwrap();
    assert_eq!(page.items.len(), 4);
    // 1 list, the refused bulk read of 4, then 2 bulk reads of 2.
    let ops = s.reset();
    assert_eq!((ops.lists, ops.bulk_reads), (1, 3), "{ops}");
    assert_eq!(block_on(posts.get_many(&[0, 1, 2, 3])).unwrap().iter().flatten().count(), 4);
    assert_eq!(block_on(posts.list_by_author_id("a", Page::first(10))).unwrap().items.len(), 4);
}

/// Was broken (found when MemoryStore's bulk read learned, from the
/// differential run, that KV's drops a leading byte-order mark): a unique
/// entry holding the id `\u{feff}u1` read back as `u1` in the bulk read a
/// create makes, so the entry looked stale and a second record took the
/// email. Such an id is now refused on a model with a unique index, before
/// any KV operation; a model without one stores it.
#[test]
fn was_broken_an_id_starting_with_a_byte_order_mark_lost_its_unique_values() {
    let s = Metered::new(MemoryStore::new());
    let users = User::repo(&s);
    let bom =
        User { id: "\u{feff}u1".into(), email: "a@x".into(), org_id: "o".into(), handle: "h".into(), name: "n".into() };
    let err = block_on(users.create(&bom)).unwrap_err();
    assert!(matches!(err, Error::InvalidKey { .. }), "{err}");
    assert_eq!(s.reset().total(), 0);
    assert!(s.inner().keys().is_empty());
    // Why: the entry's value, as the bulk read gives it, names another id.
    block_on(s.put("user.email:a@x", "\u{feff}u1".as_bytes(), &PutOptions::default())).unwrap();
    let got = block_on(s.get_many(&["user.email:a@x".to_string()])).unwrap();
    assert_eq!(got[0].as_ref().unwrap().value, b"u1");
    // No unique index: nothing reads the id in bulk, and it is stored.
    let settings = Repo::<Plain, _>::new(&s);
    let p = Plain { id: "\u{feff}p".into(), v: 1 };
    block_on(settings.create(&p)).unwrap();
    assert_eq!(block_on(settings.get(&p.id)).unwrap(), Some(p));
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "plain")]
struct Plain {
    #[kv(id)]
    id: String,
    v: u32,
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "numbered")]
struct Numbered {
    #[kv(id)]
    id: u64,
    #[kv(index)]
    tag: String,
}

// 12. A key under a model's prefix whose id does not decode as the id type
//     (written by other code) is named in `unreadable` by `list` and
//     `list_meta` alike, and counted by `count`: over a listing's pages,
//     items + unreadable = count.
#[test]
fn an_undecodable_id_key_is_listed_apart_and_counted() {
    let s = MemoryStore::new();
    let repo = Numbered::repo(&s);
    block_on(repo.create(&Numbered { id: 1, tag: "t".into() })).unwrap();
    raw_put_with(&s, "numbered:abc", r#"{"id":2,"tag":"t"}"#, Some(serde_json::json!({"$exp": null})), None);
    let count = block_on(repo.count()).unwrap();
    let page = block_on(repo.list(Page::first(10))).unwrap();
    assert_eq!((page.items.len(), page.unreadable.clone()), (1, vec!["numbered:abc".to_string()]));
    assert_eq!((page.items.len() + page.unreadable.len()) as u64, count);
    let page = block_on(repo.list_meta(Page::first(10))).unwrap();
    assert_eq!((page.items.len(), page.unreadable.clone()), (1, vec!["numbered:abc".to_string()]));
    assert_eq!((page.items.len() + page.unreadable.len()) as u64, count);
    // The same through an index: an entry whose last component is no id.
    raw_put_with(&s, "numbered.tag:t:abc", "", Some(serde_json::json!({"$exp": null})), None);
    let count = block_on(repo.count_by_tag("t")).unwrap();
    let page = block_on(repo.list_by_tag_meta("t", Page::first(10))).unwrap();
    assert_eq!((page.items.len(), page.unreadable.clone()), (1, vec!["numbered.tag:t:abc".to_string()]));
    assert_eq!((page.items.len() + page.unreadable.len()) as u64, count);
}
