//! What repositories do under eventual consistency: a second "location"
//! (`MemoryStore::lagging`) sees writes only 60 s after they were made, as
//! KV propagates them across locations.

use blog::User;
use kvgen::{ManualClock, MemoryStore, Repo};
use pollster::block_on;

const LAG: u64 = 60;

fn user(id: &str, email: &str) -> User {
    User { id: id.into(), email: email.into(), org_id: "o".into(), handle: id.into(), name: id.into() }
}

fn two_locations() -> (ManualClock, MemoryStore, MemoryStore) {
    let clock = ManualClock::new(1_800_000_000);
    let here = MemoryStore::with_clock(clock.clone());
    let there = here.lagging(LAG);
    (clock, here, there)
}

#[test]
fn another_location_sees_a_write_after_the_lag() {
    let (clock, here, there) = two_locations();
    block_on(User::repo(&here).create(&user("u1", "a@x"))).unwrap();
    clock.advance(10);
    assert_eq!(block_on(User::repo(&there).get("u1")).unwrap(), None);
    assert_eq!(block_on(User::repo(&there).find_by_email("a@x")).unwrap(), None);
    clock.advance(LAG);
    assert_eq!(block_on(User::repo(&there).find_by_email("a@x")).unwrap().map(|u| u.id), Some("u1".into()));
}

#[test]
fn a_stale_location_can_create_a_duplicate_which_verify_reports() {
    let (clock, here, there) = two_locations();
    block_on(User::repo(&here).create(&user("u1", "a@x"))).unwrap();
    clock.advance(10);
    // Within the lag the other location cannot see u1's entry: its create succeeds.
    block_on(User::repo(&there).create(&user("u2", "a@x"))).unwrap();
    clock.advance(LAG);
    // Lookups still only return a record carrying the value: the last writer's.
    let found = block_on(User::repo(&here).find_by_email("a@x")).unwrap().unwrap();
    assert_eq!((found.id.as_str(), found.email.as_str()), ("u2", "a@x"));
    let report = block_on(Repo::<User, _>::new(&here).verify()).unwrap();
    assert_eq!(report.conflicts, 1, "{report}");
    // Once the lag has passed, the same create is refused everywhere.
    let late = block_on(User::repo(&there).create(&user("u3", "a@x")));
    assert!(matches!(late, Err(kvgen::Error::UniqueViolation { .. })), "{late:?}");
}

#[test]
fn a_stale_location_reads_the_old_version_consistently() {
    let (clock, here, there) = two_locations();
    block_on(User::repo(&here).create(&user("u1", "a@x"))).unwrap();
    clock.advance(LAG);
    block_on(User::repo(&here).update(&user("u1", "b@x"))).unwrap();
    clock.advance(10);
    // The old version, found by its old value: stale, but it does carry what it was found by.
    let old = block_on(User::repo(&there).find_by_email("a@x")).unwrap().unwrap();
    assert_eq!(old.email, "a@x");
    assert_eq!(block_on(User::repo(&there).find_by_email("b@x")).unwrap(), None);
    // Here, the new version only.
    assert_eq!(block_on(User::repo(&here).find_by_email("a@x")).unwrap(), None);
    clock.advance(LAG);
    assert_eq!(block_on(User::repo(&there).find_by_email("a@x")).unwrap(), None);
    assert_eq!(block_on(User::repo(&there).find_by_email("b@x")).unwrap().map(|u| u.id), Some("u1".into()));
}

#[test]
fn a_delete_reaches_the_other_location_after_the_lag_and_leaves_no_entries() {
    let (clock, here, there) = two_locations();
    block_on(User::repo(&here).create(&user("u1", "a@x"))).unwrap();
    clock.advance(LAG);
    assert!(block_on(User::repo(&here).delete("u1")).unwrap());
    clock.advance(10);
    assert!(block_on(User::repo(&there).find_by_email("a@x")).unwrap().is_some());
    clock.advance(LAG);
    assert!(block_on(User::repo(&there).find_by_email("a@x")).unwrap().is_none());
    assert_eq!(here.keys(), Vec::<String>::new());
    assert!(block_on(Repo::<User, _>::new(&here).verify()).unwrap().is_clean());
}
