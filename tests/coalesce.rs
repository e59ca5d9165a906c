//! `Coalesced`: bulk reads issued together are made as one, so two relation
//! loaders of one request asking for overlapping ids cost one bulk read per
//! 100 distinct ids, and answer what they answer alone.

use blog::{Post, PostStatus, User};
use kvgen::{Coalesced, Fault, Faulty, KvStore, MemoryStore, Metered, Rounds};
use pollster::block_on;

fn user(i: usize) -> User {
    User {
        id: format!("u{i:04}"),
        email: format!("user{i}@example.com"),
        org_id: "o".into(),
        handle: format!("h{i}"),
        name: format!("User {i}"),
    }
}

fn post(id: u64, author: usize) -> Post {
    Post { id, author_id: user(author).id, status: PostStatus::Published, title: format!("t{id}"), body: "b".into() }
}

/// 150 users, and two pages of posts whose authors overlap: 0..60 and 40..100.
fn blog() -> (MemoryStore, Vec<Post>, Vec<Post>) {
    let store = MemoryStore::new();
    let users: Vec<User> = (0..150).map(user).collect();
    for chunk in users.chunks(50) {
        block_on(User::repo(&store).create_many(chunk)).unwrap();
    }
    let first: Vec<Post> = (0..60).map(|i| post(i as u64, i)).collect();
    let second: Vec<Post> = (40..100).map(|i| post(1000 + i as u64, i)).collect();
    (store, first, second)
}

#[test]
fn two_loaders_joined_cost_one_bulk_read_per_100_distinct_ids() {
    let (store, first, second) = blog();
    let alone = (
        block_on(Post::repo(&store).load_authors(&first)).unwrap(),
        block_on(Post::repo(&store).load_authors(&second)).unwrap(),
    );
    let s = Coalesced::new(Metered::new(store));
    let together =
        block_on(futures_util::future::join(Post::repo(&s).load_authors(&first), Post::repo(&s).load_authors(&second)));
    let together = (together.0.unwrap(), together.1.unwrap());
    assert_eq!(together, alone);
    let ops = s.inner().ops();
    // 100 distinct ids: 1 bulk read, not 2.
    assert_eq!((ops.bulk_reads, ops.bulk_keys), (1, 100), "{ops:?}");
}

#[test]
fn without_it_the_same_loaders_read_every_id_they_ask_for() {
    // The measure above is the wrapper's doing: the same join on the store alone costs 2 bulk reads of 60.
    let (store, first, second) = blog();
    let s = Metered::new(store);
    let (a, b) =
        block_on(futures_util::future::join(Post::repo(&s).load_authors(&first), Post::repo(&s).load_authors(&second)));
    a.unwrap();
    b.unwrap();
    assert_eq!((s.ops().bulk_reads, s.ops().bulk_keys), (2, 120));
}

#[test]
fn coalesced_reads_wait_for_one_round() {
    let (store, first, second) = blog();
    let s = Coalesced::new(Rounds::new(store));
    let rounds = s.inner();
    rounds.run(async {
        let (a, b) =
            futures_util::future::join(Post::repo(&s).load_authors(&first), Post::repo(&s).load_authors(&second)).await;
        a.unwrap();
        b.unwrap();
    });
    assert_eq!((rounds.trips().rounds, rounds.trips().ops), (1, 1));
}

#[test]
fn a_failed_coalesced_read_fails_every_request_it_answers() {
    let (store, first, second) = blog();
    let faulty = Faulty::new(store);
    faulty.fail_at(1, Fault::Before);
    let s = Coalesced::new(faulty);
    let (a, b) =
        block_on(futures_util::future::join(Post::repo(&s).load_authors(&first), Post::repo(&s).load_authors(&second)));
    assert!(a.is_err() && b.is_err(), "{a:?} {b:?}");
    // The next reads are a batch of their own, and succeed.
    assert!(block_on(Post::repo(&s).load_authors(&first)).is_ok());
}

#[test]
fn writes_and_single_reads_pass_through_and_see_each_other() {
    let s = Coalesced::new(MemoryStore::new());
    block_on(User::repo(&s).create(&user(1))).unwrap();
    assert_eq!(block_on(User::repo(&s).get("u0001")).unwrap(), Some(user(1)));
    let moved = User { email: "moved@example.com".into(), ..user(1) };
    block_on(User::repo(&s).update(&moved)).unwrap();
    assert_eq!(block_on(User::repo(&s).find_by_email("moved@example.com")).unwrap(), Some(moved));
    assert!(block_on(s.get_many(&["user:u0001".into(), "nope".into()])).unwrap()[1].is_none());
}
