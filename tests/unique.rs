//! The unique-index protocol on an eventually consistent store: violations
//! detected, stale entries verified on read and healed on write, failed
//! writes leaving nothing that blocks a value.

use blog::User;
use kvgen::{Error, Fault, Faulty, KvStore, MemoryStore, PutOptions};
use pollster::block_on;

fn user(id: &str, email: &str, org: &str, handle: &str) -> User {
    User { id: id.into(), email: email.into(), org_id: org.into(), handle: handle.into(), name: id.to_uppercase() }
}

fn raw_put(s: &MemoryStore, key: &str, value: &str) {
    block_on(s.put(key, value.as_bytes(), &PutOptions::default())).unwrap();
}

#[test]
fn single_unique_violation_is_detected() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x", "o1", "a"))).unwrap();
    let before = s.keys();
    let err = block_on(users.create(&user("u2", "a@x", "o1", "b"))).unwrap_err();
    match err {
        Error::UniqueViolation { model, index, value, holder, .. } => {
            assert_eq!((model, index, value.as_str(), holder.as_str()), ("user", "email", "a@x", "u1"));
        }
        other => panic!("expected a unique violation, got {other}"),
    }
    assert_eq!(s.keys(), before, "a refused create writes nothing");
}

#[test]
fn compound_unique_violation_is_detected() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x", "o1", "ada"))).unwrap();
    // The same handle in another organisation is fine.
    block_on(users.create(&user("u2", "b@x", "o2", "ada"))).unwrap();
    let err = block_on(users.create(&user("u3", "c@x", "o1", "ada"))).unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { index: "org_id_handle", value, holder, .. } if value == "o1:ada" && holder == "u1"),
        "{err}"
    );
}

#[test]
fn update_into_a_taken_value_is_refused_and_changes_nothing() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x", "o1", "a"))).unwrap();
    block_on(users.create(&user("u2", "b@x", "o1", "b"))).unwrap();
    let before = s.keys();
    let err = block_on(users.update(&user("u2", "a@x", "o1", "b"))).unwrap_err();
    assert!(matches!(err, Error::UniqueViolation { index: "email", .. }), "{err}");
    assert_eq!(s.keys(), before);
    assert_eq!(block_on(users.find_by_email("b@x")).unwrap().unwrap().id, "u2");
}

#[test]
fn entry_of_a_deleted_record_is_stale_and_healed_by_create() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    // A crash after the index entry was written but before the record was.
    raw_put(&s, "user.email:a@x", "ghost");
    assert_eq!(block_on(users.find_by_email("a@x")).unwrap(), None, "a stale entry finds nothing");
    block_on(users.create(&user("u1", "a@x", "o1", "a"))).unwrap();
    assert_eq!(s.raw("user.email:a@x").as_deref(), Some("u1"), "create replaced the stale entry");
    assert_eq!(block_on(users.find_by_email("a@x")).unwrap().unwrap().id, "u1");
}

#[test]
fn entry_of_a_record_that_moved_on_is_stale_and_healed_by_create() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x", "o1", "a"))).unwrap();
    block_on(users.update(&user("u1", "new@x", "o1", "a"))).unwrap();
    // A crash before the old entry was deleted: it still points at u1.
    raw_put(&s, "user.email:a@x", "u1");
    assert_eq!(block_on(users.find_by_email("a@x")).unwrap(), None, "u1 no longer carries a@x");
    block_on(users.create(&user("u2", "a@x", "o1", "b"))).unwrap();
    assert_eq!(block_on(users.find_by_email("a@x")).unwrap().unwrap().id, "u2");
    assert_eq!(block_on(users.find_by_email("new@x")).unwrap().unwrap().id, "u1");
}

#[test]
fn failed_create_leaves_nothing_that_blocks_and_deletes_nothing() {
    // Fail each write of a create in turn, before and after it applies. A
    // failed write may have landed, so the call undoes nothing: what it
    // wrote either is the record (a lost response: the create happened) or
    // names a record that does not carry the value, which blocks nothing.
    for fault in [Fault::Before, Fault::After] {
        for n in 2..=5 {
            let s = Faulty::new(MemoryStore::new());
            let users = User::repo(&s);
            // Op 1 is the bulk read; ops 2..=5 are three index writes and the record.
            s.fail_at(n, fault);
            let err = block_on(users.create(&user("u1", "a@x", "o1", "a"))).unwrap_err();
            assert!(matches!(err, Error::Store { .. }), "{err}");
            let landed = fault == Fault::After && n == 5;
            assert_eq!(s.inner().raw("user:u1").is_some(), landed, "fault {fault:?} at op {n}");
            if landed {
                // Every entry is in place: the record is findable by each value.
                assert_eq!(block_on(users.find_by_email("a@x")).unwrap().unwrap().id, "u1");
                assert!(block_on(users.verify()).unwrap().is_clean());
                let taken = block_on(users.create(&user("u2", "a@x", "o2", "b"))).unwrap_err();
                assert!(matches!(taken, Error::UniqueViolation { .. }), "{taken}");
                continue;
            }
            // What was left blocks no other record from taking the values...
            block_on(users.create(&user("u2", "a@x", "o1", "a"))).unwrap();
            assert_eq!(block_on(users.find_by_email("a@x")).unwrap().unwrap().id, "u2");
            // ...and repair leaves exactly u2's entries.
            block_on(users.repair()).unwrap();
            let report = block_on(users.verify()).unwrap();
            assert!(report.is_clean(), "fault {fault:?} at op {n}: {report}");
            assert_eq!(s.inner().keys().len(), 4, "fault {fault:?} at op {n}: {:?}", s.inner().keys());
        }
    }
}

#[test]
fn failed_update_keeps_the_old_record_findable() {
    for n in [2, 3, 5] {
        let s = Faulty::new(MemoryStore::new());
        let users = User::repo(&s);
        block_on(users.create(&user("u1", "a@x", "o1", "a"))).unwrap();
        // Op 1 is the bulk read; then, together, the new email entry, the new
        // compound entry and the read of the old unique entries (op 4, whose
        // failure only leaves the old entries for repair); then the record.
        s.fail_at(n, Fault::Before);
        assert!(block_on(users.update(&user("u1", "b@x", "o1", "b"))).is_err());
        let found = block_on(users.find_by_email("a@x")).unwrap();
        assert_eq!(found.map(|u| u.email), Some("a@x".to_string()), "fault at op {n}");
        assert_eq!(block_on(users.find_by_email("b@x")).unwrap(), None);
        // Nothing blocks the new value.
        block_on(users.create(&user("u2", "b@x", "o1", "b"))).unwrap();
    }
}

#[test]
fn delete_leaves_entries_that_point_elsewhere() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    block_on(users.create(&user("u1", "a@x", "o1", "a"))).unwrap();
    // An entry for u1's email that (wrongly) points at another record.
    raw_put(&s, "user.email:a@x", "u9");
    assert!(block_on(users.delete("u1")).unwrap());
    assert_eq!(s.raw("user.email:a@x").as_deref(), Some("u9"));
    assert_eq!(s.raw("user.org_id_handle:o1:a"), None);
    assert_eq!(s.raw("user.org_id:o1:u1"), None);
}

#[test]
fn upsert_by_unique_keeps_the_holders_id() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    let created = block_on(users.upsert_by_email(user("u1", "a@x", "o1", "a"))).unwrap();
    assert_eq!(created.id, "u1");
    let replaced = block_on(users.upsert_by_email(user("other", "a@x", "o1", "renamed"))).unwrap();
    assert_eq!(replaced.id, "u1");
    assert_eq!(block_on(users.count()).unwrap(), 1);
    assert_eq!(block_on(users.find_by_org_id_and_handle("o1", "renamed")).unwrap().unwrap().id, "u1");
    assert_eq!(block_on(users.find_by_org_id_and_handle("o1", "a")).unwrap(), None);
}

/// Error fields name the holder by its id as written, not its key form.
#[test]
fn a_violation_names_the_holder_as_its_id_was_written() {
    #[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize)]
    #[kv(binding = "APP", prefix = "ticket")]
    struct Ticket {
        #[kv(id)]
        id: i64,
        #[kv(unique)]
        code: String,
    }
    #[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize)]
    #[kv(binding = "APP", prefix = "seat", strict)]
    struct Seat {
        #[kv(id)]
        id: u64,
        #[kv(unique)]
        code: String,
    }
    let s = MemoryStore::new();
    pollster::block_on(Ticket::repo(&s).create(&Ticket { id: -42, code: "a:b".into() })).unwrap();
    let err = pollster::block_on(Ticket::repo(&s).create(&Ticket { id: 7, code: "a:b".into() }));
    assert!(matches!(&err, Err(Error::UniqueViolation { holder, .. }) if holder == "-42"), "{err:?}");
    // The same through the coordinator (the entry gone, as at a location not showing it yet).
    pollster::block_on(Seat::repo(&s).create(&Seat { id: 42, code: "x%y".into() })).unwrap();
    pollster::block_on(s.delete("seat.code:x%25y")).unwrap();
    let err = pollster::block_on(Seat::repo(&s).create(&Seat { id: 7, code: "x%y".into() }));
    assert!(matches!(&err, Err(Error::UniqueViolation { holder, .. }) if holder == "42"), "{err:?}");
}
