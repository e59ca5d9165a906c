//! The round trips a call waits for in a row, counted by `Rounds` (each
//! operation completes only when a round ends): a call overlaps its
//! independent operations, at most six in flight, and keeps the protocol's
//! order where it matters. Each test fails if its call goes back to
//! awaiting its operations one after the other.

use blog::{Post, PostStatus, User};
use kvgen::{KvModel, MemoryStore, RoundTrips, Rounds};
use pollster::block_on;
use serde::{Deserialize, Serialize};

fn user(i: usize) -> User {
    User {
        id: format!("u{i:04}"),
        email: format!("user{i}@example.com"),
        org_id: format!("org{}", i % 7),
        handle: format!("h{i}"),
        name: format!("User {i}"),
    }
}

fn post(id: u64, author: &str) -> Post {
    Post { id, author_id: author.into(), status: PostStatus::Published, title: format!("t{id}"), body: "b".into() }
}

/// A model with no index.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Setting {
    #[kv(id)]
    name: String,
    value: String,
}

fn setting(i: usize) -> Setting {
    Setting { name: format!("s{i}"), value: format!("v{i}") }
}

/// Runs `call` on `s`, from a clean record, and returns what it waited for.
fn trips<T>(s: &Rounds<MemoryStore>, call: impl std::future::Future<Output = T>) -> (T, RoundTrips) {
    s.reset();
    let out = s.run(call);
    let trips = s.trips();
    assert!(trips.most_in_flight <= 6, "{trips:?}");
    (out, trips)
}

fn rounds(n: u64, ops: u64) -> (u64, u64) {
    (n, ops)
}

fn of(t: RoundTrips) -> (u64, u64) {
    (t.rounds, t.ops)
}

#[test]
fn create_of_a_user_waits_for_the_pre_read_its_entries_together_and_the_record() {
    let s = Rounds::new(MemoryStore::new());
    let ((), t) = trips(&s, async { User::repo(&s).create(&user(1)).await.unwrap() });
    // 1 bulk read; the entries of email, (org_id, handle) and org_id together; the record.
    assert_eq!(of(t), rounds(3, 5));
    assert_eq!(t.most_in_flight, 3);
}

#[test]
fn update_of_a_unique_value_waits_for_four_rounds() {
    let s = Rounds::new(MemoryStore::new());
    block_on(User::repo(&s).create(&user(1))).unwrap();
    let mut moved = user(1);
    moved.email = "new@example.com".into();
    let ((), t) = trips(&s, async { User::repo(&s).update(&moved).await.unwrap() });
    // The pre-read; the new email's entry with the read of the old one;
    // the record; the old entry's delete.
    assert_eq!(of(t), rounds(4, 5));
    assert_eq!(block_on(User::repo(&s).find_by_email("new@example.com")).unwrap(), Some(moved));
    assert_eq!(block_on(User::repo(&s).find_by_email("user1@example.com")).unwrap(), None);
}

#[test]
fn delete_of_a_user_waits_for_four_rounds() {
    let s = Rounds::new(MemoryStore::new());
    block_on(User::repo(&s).create(&user(1))).unwrap();
    let (deleted, t) = trips(&s, async { User::repo(&s).delete("u0001").await.unwrap() });
    assert!(deleted);
    // The record; its unique entries (1 bulk read); the record's delete; its three entries together.
    assert_eq!(of(t), rounds(4, 6));
    assert_eq!(t.most_in_flight, 3);
    assert_eq!(s.inner().keys().len(), 0, "{:?}", s.inner().keys());
}

#[test]
fn has_many_of_1000_posts_waits_for_one_listing_and_two_rounds_of_bulk_reads() {
    let s = Rounds::new(MemoryStore::new());
    let author = user(1);
    block_on(User::repo(&s).create(&author)).unwrap();
    let posts: Vec<Post> = (0..1000).map(|id| post(id, &author.id)).collect();
    for chunk in posts.chunks(100) {
        for r in block_on(Post::repo(&s).create_many(chunk)).unwrap() {
            r.unwrap();
        }
    }
    let (page, t) = trips(&s, async { User::repo(&s).list_posts(&author, kvgen::Page::first(1000)).await.unwrap() });
    assert_eq!(page.items, posts);
    assert_eq!(of(t), rounds(3, 11));
    assert_eq!(t.most_in_flight, 6);
}

#[test]
fn get_many_of_1000_ids_waits_for_two_rounds() {
    let s = Rounds::new(MemoryStore::new());
    let settings: Vec<Setting> = (0..1000).map(setting).collect();
    for chunk in settings.chunks(100) {
        for r in block_on(Setting::repo(&s).put_many(chunk)).unwrap() {
            r.unwrap();
        }
    }
    let ids: Vec<String> = settings.iter().map(|s| s.name.clone()).collect();
    let (got, t) = trips(&s, async { Setting::repo(&s).get_many(&ids).await.unwrap() });
    assert_eq!(got, settings.into_iter().map(Some).collect::<Vec<_>>());
    assert_eq!(of(t), rounds(2, 10));
    assert_eq!(t.most_in_flight, 6);
}

#[test]
fn belongs_to_of_1000_posts_waits_for_two_rounds() {
    let s = Rounds::new(MemoryStore::new());
    let users: Vec<User> = (0..1000).map(user).collect();
    for chunk in users.chunks(100) {
        for r in block_on(User::repo(&s).create_many(chunk)).unwrap() {
            r.unwrap();
        }
    }
    let posts: Vec<Post> = users.iter().enumerate().map(|(i, u)| post(i as u64, &u.id)).collect();
    let (authors, t) = trips(&s, async { Post::repo(&s).load_authors(&posts).await.unwrap() });
    assert_eq!(authors, users.into_iter().map(Some).collect::<Vec<_>>());
    assert_eq!(of(t), rounds(2, 10));
}

#[test]
fn put_many_of_100_records_with_no_index_waits_for_18_rounds() {
    let s = Rounds::new(MemoryStore::new());
    let settings: Vec<Setting> = (0..100).map(setting).collect();
    let (outcomes, t) = trips(&s, async { Setting::repo(&s).put_many(&settings).await.unwrap() });
    assert!(outcomes.iter().all(Result::is_ok));
    // 1 bulk read of the 100 keys, then 100 writes six at a time.
    assert_eq!(of(t), rounds(18, 101));
    assert_eq!(t.most_in_flight, 6);
    assert_eq!(
        block_on(Setting::repo(&s).get_many(&[settings[99].name.clone()])).unwrap(),
        vec![Some(settings[99].clone())]
    );
}

#[test]
fn delete_many_of_100_records_with_no_index_waits_for_18_rounds() {
    let s = Rounds::new(MemoryStore::new());
    let settings: Vec<Setting> = (0..100).map(setting).collect();
    block_on(Setting::repo(&s).put_many(&settings)).unwrap();
    let ids: Vec<String> = settings.iter().map(|s| s.name.clone()).collect();
    let (outcomes, t) = trips(&s, async { Setting::repo(&s).delete_many(&ids).await.unwrap() });
    assert!(outcomes.into_iter().all(|r| r.unwrap()));
    assert_eq!(of(t), rounds(18, 101));
    assert!(s.inner().keys().is_empty());
}

#[test]
fn a_store_that_allows_one_in_flight_gets_every_call_sequential() {
    let s = Rounds::new(MemoryStore::new().with_max_in_flight(1));
    let ((), t) = trips(&s, async { User::repo(&s).create(&user(1)).await.unwrap() });
    assert_eq!(of(t), rounds(5, 5));
    assert_eq!(t.most_in_flight, 1);
    let settings: Vec<Setting> = (0..100).map(setting).collect();
    let (_, t) = trips(&s, async { Setting::repo(&s).put_many(&settings).await.unwrap() });
    assert_eq!(of(t), rounds(101, 101));
}

#[test]
fn a_batch_whose_writes_share_a_key_runs_them_in_the_order_given() {
    // The second record takes the email the first gives up: it must see
    // the first one's write, as one call after the other would.
    let s = Rounds::new(MemoryStore::new());
    let (a, mut b) = (user(1), user(2));
    block_on(User::repo(&s).create(&a)).unwrap();
    let mut a2 = a.clone();
    a2.email = "moved@example.com".into();
    b.email = a.email.clone();
    let (outcomes, _) = trips(&s, async { User::repo(&s).put_many(&[a2.clone(), b.clone()]).await.unwrap() });
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(block_on(User::repo(&s).find_by_email(&a.email)).unwrap(), Some(b));
    assert_eq!(block_on(User::repo(&s).find_by_email("moved@example.com")).unwrap(), Some(a2));
}

#[test]
fn rounds_outside_run_complete_at_once_and_are_not_counted() {
    let s = Rounds::new(MemoryStore::new());
    block_on(User::repo(&s).create(&user(1))).unwrap();
    assert_eq!(s.trips(), RoundTrips::default());
}

#[test]
fn reads_by_id_and_unique_finders_wait_for_one_round_per_read() {
    let s = Rounds::new(MemoryStore::new());
    block_on(User::repo(&s).create(&user(1))).unwrap();
    let (_, t) = trips(&s, async { User::repo(&s).get("u0001").await.unwrap() });
    assert_eq!(of(t), rounds(1, 1));
    // The entry, then the record it names.
    let (found, t) = trips(&s, async { User::repo(&s).find_by_email("user1@example.com").await.unwrap() });
    assert!(found.is_some());
    assert_eq!(of(t), rounds(2, 2));
    // Has-one through a unique index: the same two reads.
    let profile = blog::Profile { id: "p1".into(), user_id: "u0001".into(), bio: "hi".into() };
    block_on(blog::Profile::repo(&s).create(&profile)).unwrap();
    let (one, t) = trips(&s, async { User::repo(&s).load_profile(&user(1)).await.unwrap() });
    assert_eq!(one, Some(profile));
    assert_eq!(of(t), rounds(2, 2));
}

#[test]
fn an_update_that_changes_nothing_indexed_waits_for_two_rounds_and_a_moved_secondary_value_four() {
    let s = Rounds::new(MemoryStore::new());
    block_on(Post::repo(&s).create(&post(1, "u0001"))).unwrap();
    let edited = Post { body: "edited".into(), ..post(1, "u0001") };
    let (_, t) = trips(&s, async { Post::repo(&s).update(&edited).await.unwrap() });
    // The pre-read, the record (the body is in no index and not in the metadata).
    assert_eq!(of(t), rounds(2, 2));
    // A post moved to another author: the new entries, the record, the old entries' deletes.
    let (_, t) = trips(&s, async { Post::repo(&s).update(&post(1, "u0002")).await.unwrap() });
    assert_eq!(of(t), rounds(4, 6));
}

#[test]
fn upsert_of_a_new_value_waits_for_the_lookup_and_a_create() {
    let s = Rounds::new(MemoryStore::new());
    let (_, t) = trips(&s, async { User::repo(&s).upsert_by_email(user(1)).await.unwrap() });
    assert_eq!(of(t), rounds(4, 6));
}

#[test]
fn a_page_of_250_waits_for_the_list_and_one_round_of_bulk_reads() {
    let s = Rounds::new(MemoryStore::new());
    let settings: Vec<Setting> = (0..250).map(setting).collect();
    block_on(Setting::repo(&s).put_many(&settings)).unwrap();
    let (page, t) = trips(&s, async { Setting::repo(&s).list(kvgen::Page::first(1000)).await.unwrap() });
    assert_eq!(page.items.len(), 250);
    assert_eq!(of(t), rounds(2, 4));
    // A count pages through its keys one list after the other: the cursor of each is the next one's start.
    let more: Vec<Setting> = (250..2500).map(setting).collect();
    for chunk in more.chunks(100) {
        block_on(Setting::repo(&s).put_many(chunk)).unwrap();
    }
    let (n, t) = trips(&s, async { Setting::repo(&s).count().await.unwrap() });
    assert_eq!(n, 2500);
    assert_eq!(of(t), rounds(3, 3));
}

#[test]
fn has_many_of_many_parents_lists_the_parents_together() {
    let s = Rounds::new(MemoryStore::new());
    let users: Vec<User> = (0..6).map(user).collect();
    for u in &users {
        block_on(User::repo(&s).create(u)).unwrap();
    }
    let posts: Vec<Post> = (0..120).map(|id| post(id, &users[id as usize % 6].id)).collect();
    for chunk in posts.chunks(60) {
        block_on(Post::repo(&s).create_many(chunk)).unwrap();
    }
    let (groups, t) = trips(&s, async { User::repo(&s).load_posts(&users).await.unwrap() });
    assert!(groups.iter().all(|g| g.len() == 20), "{:?}", groups.iter().map(Vec::len).collect::<Vec<_>>());
    // Six lists together, then two bulk reads together.
    assert_eq!(of(t), rounds(2, 8));
}
