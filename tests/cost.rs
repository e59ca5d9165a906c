//! One test per row of the DESIGN cost table: each repository call costs
//! exactly the minimum number of KV operations, counted by `Metered`.

use blog::{Comment, Post, PostStatus, User};
use kvgen::{MemoryStore, Metered, Ops, Page};
use pollster::block_on;

fn store() -> Metered<MemoryStore> {
    Metered::new(MemoryStore::new())
}

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

/// Only the operation counts, not bytes.
fn ops(reads: u64, bulk_reads: u64, writes: u64, deletes: u64, lists: u64) -> (u64, u64, u64, u64, u64) {
    (reads, bulk_reads, writes, deletes, lists)
}

fn counts(o: Ops) -> (u64, u64, u64, u64, u64) {
    (o.reads, o.bulk_reads, o.writes, o.deletes, o.lists)
}

#[test]
fn get_by_id_costs_one_read() {
    let s = store();
    let users = User::repo(&s);
    block_on(users.create(&user(1))).unwrap();
    s.reset();
    assert!(block_on(users.get(&"u0001".into())).unwrap().is_some());
    assert_eq!(counts(s.reset()), ops(1, 0, 0, 0, 0));
    assert!(block_on(users.get(&"missing".into())).unwrap().is_none());
    assert_eq!(counts(s.reset()), ops(1, 0, 0, 0, 0));
}

#[test]
fn find_by_unique_costs_two_reads() {
    let s = store();
    let users = User::repo(&s);
    block_on(users.create(&user(1))).unwrap();
    s.reset();
    assert!(block_on(users.find_by_email("user1@example.com")).unwrap().is_some());
    assert_eq!(counts(s.reset()), ops(2, 0, 0, 0, 0));
}

#[test]
fn find_by_compound_unique_costs_two_reads() {
    let s = store();
    let users = User::repo(&s);
    block_on(users.create(&user(1))).unwrap();
    s.reset();
    assert!(block_on(users.find_by_org_id_and_handle("org1", "h1")).unwrap().is_some());
    assert_eq!(counts(s.reset()), ops(2, 0, 0, 0, 0));
}

#[test]
fn create_costs_one_bulk_read_and_one_write_per_key() {
    let s = store();
    // User: u = 2 (email, (org_id, handle)), s = 1 (org_id).
    block_on(User::repo(&s).create(&user(1))).unwrap();
    assert_eq!(counts(s.reset()), ops(0, 1, 1 + 2 + 1, 0, 0));
    // Post: u = 0, s = 2 (author_id, (author_id, status)).
    block_on(Post::repo(&s).create(&post(1, "u0001"))).unwrap();
    assert_eq!(counts(s.reset()), ops(0, 1, 1 + 2, 0, 0));
    // Comment: u = 0, s = 2 (post_id, author_id).
    let c = Comment { id: "c1".into(), post_id: 1, author_id: "u0001".into(), body: "hi".into() };
    block_on(Comment::repo(&s).create(&c)).unwrap();
    assert_eq!(counts(s.reset()), ops(0, 1, 1 + 2, 0, 0));
}

#[test]
fn list_one_page_costs_one_list_and_a_bulk_read_per_100() {
    let s = store();
    let users = User::repo(&s);
    for i in 0..250 {
        block_on(users.create(&user(i))).unwrap();
    }
    s.reset();
    let page = block_on(users.list(Page::first(250))).unwrap();
    assert_eq!(page.items.len(), 250);
    assert_eq!(counts(s.reset()), ops(0, 3, 0, 0, 1));
    let page = block_on(users.list(Page::first(100))).unwrap();
    assert_eq!(page.items.len(), 100);
    assert_eq!(counts(s.reset()), ops(0, 1, 0, 0, 1));
}

#[test]
fn has_many_costs_one_list_and_a_bulk_read_per_100() {
    let s = store();
    let author = user(1);
    block_on(User::repo(&s).create(&author)).unwrap();
    for id in 0..250 {
        block_on(Post::repo(&s).create(&post(id, &author.id))).unwrap();
    }
    block_on(Post::repo(&s).create(&post(999, "someone-else"))).unwrap();
    s.reset();
    let page = block_on(User::repo(&s).list_posts(&author, Page::first(1000))).unwrap();
    assert_eq!(page.items.len(), 250);
    assert_eq!(counts(s.reset()), ops(0, 3, 0, 0, 1));
    // With projections: one list, no reads.
    let page = block_on(Post::repo(&s).list_by_author_id_meta(&author.id, Page::first(1000))).unwrap();
    assert_eq!(page.items.len(), 250);
    assert!(page.items.iter().all(|l| l.meta.as_ref().is_some_and(|m| m.title.starts_with('t'))));
    assert_eq!(counts(s.reset()), ops(0, 0, 0, 0, 1));
}

#[test]
fn belongs_to_costs_a_bulk_read_per_100_distinct_parents() {
    let s = store();
    for i in 0..150 {
        block_on(User::repo(&s).create(&user(i))).unwrap();
    }
    // 300 posts over 150 distinct authors (each twice).
    let posts: Vec<Post> = (0..300).map(|id| post(id, &format!("u{:04}", id % 150))).collect();
    s.reset();
    let authors = block_on(Post::repo(&s).load_authors(&posts)).unwrap();
    assert_eq!(counts(s.ops()), ops(0, 2, 0, 0, 0));
    assert_eq!(s.reset().bulk_keys, 150);
    assert!(posts.iter().zip(&authors).all(|(p, a)| a.as_ref().is_some_and(|a| a.id == p.author_id)));
}

#[test]
fn update_keeping_the_expiry_writes_only_the_record_and_changed_entries() {
    let s = store();
    let users = User::repo(&s);
    let mut u = user(1);
    block_on(users.create_with(&u, kvgen::WriteOptions::ttl(3600))).unwrap();
    s.reset();
    // A field in no index and not in the metadata: the record only.
    u.handle = u.handle.clone();
    u.name = u.name.clone();
    block_on(users.update(&u)).unwrap();
    assert_eq!(counts(s.reset()), ops(0, 1, 1, 0, 0));
    // The meta field: the record and the secondary entry that carries it.
    u.name = "renamed".into();
    block_on(users.update(&u)).unwrap();
    assert_eq!(counts(s.reset()), ops(0, 1, 2, 0, 0));
    // A unique value moves: the new entry, the record; then one bulk read
    // to check the old entry still names it, and its delete.
    u.email = "moved@example.com".into();
    block_on(users.update(&u)).unwrap();
    assert_eq!(counts(s.reset()), ops(0, 2, 2, 1, 0));
}

#[test]
fn update_changing_the_expiry_rewrites_every_entry() {
    let s = store();
    let users = User::repo(&s);
    let u = user(1);
    block_on(users.create(&u)).unwrap();
    s.reset();
    // 2 unique + 1 secondary entries, and the record.
    block_on(users.update_with(&u, kvgen::WriteOptions::ttl(3600))).unwrap();
    assert_eq!(counts(s.reset()), ops(0, 1, 4, 0, 0));
    block_on(users.update_with(&u, kvgen::WriteOptions::permanent())).unwrap();
    assert_eq!(counts(s.reset()), ops(0, 1, 4, 0, 0));
}
