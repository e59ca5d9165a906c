//! One test per row of the cost table in docs/costs.md: each repository call costs
//! exactly the minimum number of KV operations, counted by `Metered`, both
//! as Workers counts them toward its 1,000 operations per invocation (a bulk
//! read is one) and as KV bills them (a bulk read is one read per key).
//! The last test checks the writes table of every example's KEYS.md against
//! the meter.

use blog::{Activity, Comment, Post, PostStatus, Profile, Session, User};
use kvgen::{KvModel, KvStore, MemoryStore, Metered, Model, Ops, Page, Repo, WriteOptions};
use pollster::block_on;
use serde::{Deserialize, Serialize};

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

/// A model with no index.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Setting {
    #[kv(id)]
    name: String,
    value: String,
}

/// A model whose id the repository generates, with one unique index.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Order {
    #[kv(id, generate = "ulid")]
    id: String,
    #[kv(unique)]
    reference: String,
}

/// A has-one through a secondary index.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", has_one(Avatar, by = owner_id))]
struct Owner {
    #[kv(id)]
    id: String,
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Avatar {
    #[kv(id)]
    id: String,
    #[kv(index)]
    owner_id: String,
}

fn setting(i: usize) -> Setting {
    Setting { name: format!("s{i}"), value: format!("v{i}") }
}

/// Only the operation counts, not bytes.
fn ops(reads: u64, bulk_reads: u64, writes: u64, deletes: u64, lists: u64) -> (u64, u64, u64, u64, u64) {
    (reads, bulk_reads, writes, deletes, lists)
}

fn counts(o: Ops) -> (u64, u64, u64, u64, u64) {
    (o.reads, o.bulk_reads, o.writes, o.deletes, o.lists)
}

/// What a call cost, as the cost table of docs/costs.md has it.
#[derive(Debug, PartialEq, Eq)]
struct Cost {
    /// Operations toward the 1,000 per invocation.
    ops: u64,
    /// Billed reads: one per key read, in bulk or not.
    reads: u64,
    writes: u64,
    deletes: u64,
    lists: u64,
}

fn cost(ops: u64, reads: u64, writes: u64, deletes: u64, lists: u64) -> Cost {
    Cost { ops, reads, writes, deletes, lists }
}

fn billed(o: Ops) -> Cost {
    Cost { ops: o.total(), reads: o.billed_reads(), writes: o.writes, deletes: o.deletes, lists: o.lists }
}

/// Checks the kinds of operations and the billed counts of what the store
/// did since its last reset, and resets it.
fn assert_cost(s: &Metered<MemoryStore>, kinds: (u64, u64, u64, u64, u64), want: Cost) {
    let o = s.reset();
    assert_eq!(counts(o), kinds, "operations by kind");
    assert_eq!(billed(o), want, "operations and billed counts");
}

#[test]
fn get_by_id_costs_one_read() {
    let s = store();
    let users = User::repo(&s);
    block_on(users.create(&user(1))).unwrap();
    s.reset();
    let id = "u0001".to_string();
    assert!(block_on(users.get(&id)).unwrap().is_some());
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
    assert!(block_on(users.get("missing")).unwrap().is_none());
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
    assert!(block_on(users.get_with_meta(&id)).unwrap().is_some());
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
    assert!(block_on(users.exists(&id)).unwrap());
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
    assert_eq!(block_on(users.expiration(&id)).unwrap(), Some(None));
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
}

#[test]
fn get_many_costs_a_bulk_read_per_100_ids() {
    let s = store();
    let users = User::repo(&s);
    for i in 0..120 {
        block_on(users.create(&user(i))).unwrap();
    }
    s.reset();
    let ids: Vec<String> = (0..150).map(|i| user(i).id).collect();
    let got = block_on(users.get_many(&ids)).unwrap();
    assert_eq!(got.iter().filter(|u| u.is_some()).count(), 120);
    assert_cost(&s, ops(0, 2, 0, 0, 0), cost(2, 150, 0, 0, 0));
}

#[test]
fn find_by_unique_costs_two_reads() {
    let s = store();
    let users = User::repo(&s);
    block_on(users.create(&user(1))).unwrap();
    s.reset();
    assert!(block_on(users.find_by_email("user1@example.com")).unwrap().is_some());
    assert_cost(&s, ops(2, 0, 0, 0, 0), cost(2, 2, 0, 0, 0));
    // A value nobody holds: its entry is missing, 1 read.
    assert!(block_on(users.find_by_email("nobody@example.com")).unwrap().is_none());
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
}

#[test]
fn find_by_compound_unique_costs_two_reads() {
    let s = store();
    let users = User::repo(&s);
    block_on(users.create(&user(1))).unwrap();
    s.reset();
    assert!(block_on(users.find_by_org_id_and_handle("org1", "h1")).unwrap().is_some());
    assert_cost(&s, ops(2, 0, 0, 0, 0), cost(2, 2, 0, 0, 0));
}

#[test]
fn create_costs_one_bulk_read_and_one_write_per_key() {
    let s = store();
    // User: u = 2 (email, (org_id, handle)), s = 1 (org_id).
    block_on(User::repo(&s).create(&user(1))).unwrap();
    assert_cost(&s, ops(0, 1, 1 + 2 + 1, 0, 0), cost(1 + 4, 1 + 2, 4, 0, 0));
    // Post: u = 0, s = 2 (author_id, (author_id, status)).
    block_on(Post::repo(&s).create(&post(1, "u0001"))).unwrap();
    assert_cost(&s, ops(0, 1, 1 + 2, 0, 0), cost(1 + 3, 1, 3, 0, 0));
    // Comment: u = 0, s = 2 (post_id, author_id).
    let c = Comment { id: "c1".into(), post_id: 1, author_id: "u0001".into(), body: "hi".into() };
    block_on(Comment::repo(&s).create(&c)).unwrap();
    assert_cost(&s, ops(0, 1, 1 + 2, 0, 0), cost(1 + 3, 1, 3, 0, 0));
    // A put of a new record costs the same.
    block_on(User::repo(&s).put(&user(2))).unwrap();
    assert_cost(&s, ops(0, 1, 4, 0, 0), cost(5, 3, 4, 0, 0));
    // Free metadata costs nothing more.
    let version = serde_json::json!({"version": 1});
    block_on(User::repo(&s).create_with_metadata(&user(3), &version, WriteOptions::default())).unwrap();
    assert_cost(&s, ops(0, 1, 4, 0, 0), cost(5, 3, 4, 0, 0));
    block_on(Setting::repo(&s).put_with_metadata(&setting(1), &version, WriteOptions::ttl(3600))).unwrap();
    assert_cost(&s, ops(0, 0, 1, 0, 0), cost(1, 0, 1, 0, 0));
    // It goes to the record's metadata only, not its index entries'.
    let entry = block_on(s.get("user.org_id:org3:u0003")).unwrap().unwrap();
    let record = block_on(s.get("user:u0003")).unwrap().unwrap();
    assert_eq!(record.metadata.as_ref().map(|m| m["$meta"].clone()), Some(version.clone()));
    assert!(entry.metadata.is_some_and(|m| m.get("$meta").is_none()));
    s.reset();
    // Over KV's 1024 bytes with the rest of the metadata: refused before any KV operation.
    let big = serde_json::json!({ "note": "n".repeat(1000) });
    let err = block_on(User::repo(&s).put_with_metadata(&user(3), &big, WriteOptions::default())).unwrap_err();
    assert!(matches!(err, kvgen::Error::MetadataTooLarge { .. }), "{err}");
    assert_cost(&s, ops(0, 0, 0, 0, 0), cost(0, 0, 0, 0, 0));
}

#[test]
fn create_new_costs_what_create_costs() {
    let s = store();
    // u = 1, s = 0: 1 bulk read of 2 keys, 2 writes.
    let mut draft = Order { id: String::new(), reference: "r1".into() };
    block_on(Order::repo(&s).create_new(&mut draft)).unwrap();
    assert_cost(&s, ops(0, 1, 2, 0, 0), cost(3, 2, 2, 0, 0));
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
    assert_cost(&s, ops(0, 3, 0, 0, 1), cost(4, 250, 0, 0, 1));
    let page = block_on(users.list(Page::first(100))).unwrap();
    assert_eq!(page.items.len(), 100);
    assert_cost(&s, ops(0, 1, 0, 0, 1), cost(2, 100, 0, 0, 1));
    let page = block_on(users.list_meta(Page::first(250))).unwrap();
    assert_eq!(page.items.len(), 250);
    assert_cost(&s, ops(0, 0, 0, 0, 1), cost(1, 0, 0, 0, 1));
}

#[test]
fn count_costs_a_list_per_1000() {
    let s = store();
    let settings = Setting::repo(&s);
    for i in 0..2500 {
        block_on(settings.put(&setting(i))).unwrap();
    }
    s.reset();
    assert_eq!(block_on(settings.count()).unwrap(), 2500);
    assert_cost(&s, ops(0, 0, 0, 0, 3), cost(3, 0, 0, 0, 3));
    assert_eq!(block_on(User::repo(&s).count()).unwrap(), 0);
    assert_cost(&s, ops(0, 0, 0, 0, 1), cost(1, 0, 0, 0, 1));
}

#[test]
fn list_by_secondary_index_costs_one_list_and_a_bulk_read_per_100() {
    let s = store();
    let users = User::repo(&s);
    for i in 0..700 {
        block_on(users.create(&user(i))).unwrap();
    }
    s.reset();
    // 100 of the 700 users are in org3.
    let page = block_on(users.list_by_org_id("org3", Page::first(1000))).unwrap();
    assert_eq!(page.items.len(), 100);
    assert_cost(&s, ops(0, 1, 0, 0, 1), cost(2, 100, 0, 0, 1));
    let page = block_on(users.list_by_org_id_meta("org3", Page::first(1000))).unwrap();
    assert_eq!(page.items.len(), 100);
    assert_cost(&s, ops(0, 0, 0, 0, 1), cost(1, 0, 0, 0, 1));
}

/// A compound unique index whose leading field lists a group.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", unique(tenant, seq))]
struct Ticket {
    #[kv(id)]
    id: String,
    tenant: String,
    seq: u64,
}

#[test]
fn group_and_range_listings_cost_one_list_and_a_bulk_read_per_100() {
    let s = store();
    let log = Activity::repo(&s);
    let recs: Vec<Activity> = (0..250)
        .map(|i| Activity { id: i, actor: "a".into(), at: i as i64, seq: i as u32, what: String::new() })
        .chain(std::iter::once(Activity { id: 999, actor: "ab".into(), at: 5, seq: 0, what: String::new() }))
        .collect();
    for r in block_on(log.create_many(&recs)).unwrap() {
        r.unwrap();
    }
    s.reset();
    // The leading field of (actor, at desc): 250 records.
    let page = block_on(log.list_by_actor("a", Page::first(1000))).unwrap();
    assert_eq!(page.items.len(), 250);
    assert_cost(&s, ops(0, 3, 0, 0, 1), cost(4, 250, 0, 0, 1));
    // From a value of the next field: at or before 149 (newest first), 150 records.
    let page = block_on(log.list_by_actor_from_at("a", 149, Page::first(1000))).unwrap();
    assert_eq!(page.items.len(), 150);
    assert_eq!(page.cursor, None);
    assert_cost(&s, ops(0, 2, 0, 0, 1), cost(3, 150, 0, 0, 1));
    // A page of 10 after a value: the list reads up to 1,000 keys, the bulk read only the 10.
    let page = block_on(log.list_by_actor_after_at("a", 200, Page::first(10))).unwrap();
    assert_eq!(page.items.iter().map(|a| a.at).collect::<Vec<_>>(), (190..200).rev().collect::<Vec<i64>>());
    assert_cost(&s, ops(0, 1, 0, 0, 1), cost(2, 10, 0, 0, 1));
    // Ids and metadata of the group, newest first, no record read: 1 list.
    let meta = block_on(log.list_by_actor_meta("a", Page::first(1000))).unwrap();
    assert_eq!(meta.items.iter().map(|l| l.id).take(3).collect::<Vec<_>>(), [249, 248, 247]);
    assert_eq!(meta.items.len(), 250, "not the entry of actor `ab`");
    assert_cost(&s, ops(0, 0, 0, 0, 1), cost(1, 0, 0, 0, 1));
    // The next page lists the same keys again from its cursor: the same cost.
    let next = block_on(log.list_by_actor_after_at("a", 200, page.next(10).unwrap())).unwrap();
    assert_eq!(next.items.first().map(|a| a.at), Some(189));
    assert_cost(&s, ops(0, 1, 0, 0, 1), cost(2, 10, 0, 0, 1));

    // Through a unique index, the entries hold the ids: 1 bulk read per 100 entries more.
    let tickets = Ticket::repo(&s);
    let all: Vec<Ticket> = (0..150).map(|i| Ticket { id: format!("t{i}"), tenant: "x".into(), seq: i }).collect();
    for r in block_on(tickets.create_many(&all)).unwrap() {
        r.unwrap();
    }
    s.reset();
    let page = block_on(tickets.list_by_tenant("x", Page::first(1000))).unwrap();
    assert_eq!(page.items.len(), 150);
    assert_cost(&s, ops(0, 4, 0, 0, 1), cost(5, 300, 0, 0, 1));
    let page = block_on(tickets.list_by_tenant_from_seq("x", 100, Page::first(1000))).unwrap();
    assert_eq!(page.items.len(), 50);
    assert_cost(&s, ops(0, 2, 0, 0, 1), cost(3, 100, 0, 0, 1));
}

/// The keys before a range's start are passed over 1,000 a call: an empty
/// page (1 list, no read) per whole 1,000 of them.
#[test]
fn a_range_start_past_k_entries_costs_floor_k_over_1000_empty_pages() {
    let s = store();
    let log = Activity::repo(&s);
    let recs: Vec<Activity> =
        (0..2_300).map(|i| Activity { id: i, actor: "a".into(), at: i as i64, seq: 0, what: String::new() }).collect();
    for r in block_on(log.create_many(&recs)).unwrap() {
        r.unwrap();
    }
    s.reset();
    // Newest first: at or before 99 is past k = 2,200 keys: floor(k/1000) = 2 empty pages.
    let mut page = block_on(log.list_by_actor_from_at("a", 99, Page::first(100))).unwrap();
    for _ in 0..2 {
        assert!(page.items.is_empty());
        assert_cost(&s, ops(0, 0, 0, 0, 1), cost(1, 0, 0, 0, 1));
        page = block_on(log.list_by_actor_from_at("a", 99, page.next(100).unwrap())).unwrap();
    }
    assert_eq!(page.items.len(), 100);
    assert_eq!(page.items[0].at, 99);
    assert_cost(&s, ops(0, 1, 0, 0, 1), cost(2, 100, 0, 0, 1));
    // Counting the group: 1 list per 1,000 entries, no read.
    assert_eq!(block_on(log.count_by_actor("a")).unwrap(), 2_300);
    assert_cost(&s, ops(0, 0, 0, 0, 3), cost(3, 0, 0, 0, 3));
    assert_eq!(block_on(log.count_by_actor("nobody")).unwrap(), 0);
    assert_cost(&s, ops(0, 0, 0, 0, 1), cost(1, 0, 0, 0, 1));
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
    assert_cost(&s, ops(0, 3, 0, 0, 1), cost(4, 250, 0, 0, 1));
    // With projections: one list, no reads.
    let page = block_on(Post::repo(&s).list_by_author_id_meta(&author.id, Page::first(1000))).unwrap();
    assert_eq!(page.items.len(), 250);
    assert!(page.items.iter().all(|l| l.meta.as_ref().is_some_and(|m| m.title.starts_with('t'))));
    assert_cost(&s, ops(0, 0, 0, 0, 1), cost(1, 0, 0, 0, 1));
}

#[test]
fn has_many_of_many_parents_costs_a_list_per_parent_and_a_bulk_read_per_100_children() {
    let s = store();
    let authors: Vec<User> = (0..3).map(user).collect();
    for a in &authors {
        block_on(User::repo(&s).create(a)).unwrap();
    }
    // 150 posts over 3 authors.
    for id in 0..150 {
        block_on(Post::repo(&s).create(&post(id, &authors[id as usize % 3].id))).unwrap();
    }
    s.reset();
    let groups = block_on(User::repo(&s).load_posts(&authors)).unwrap();
    assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 50]);
    assert_cost(&s, ops(0, 2, 0, 0, 3), cost(5, 150, 0, 0, 3));
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
    assert_cost(&s, ops(0, 2, 0, 0, 0), cost(2, 150, 0, 0, 0));
    assert!(posts.iter().zip(&authors).all(|(p, a)| a.as_ref().is_some_and(|a| a.id == p.author_id)));
    // One child: one read.
    assert!(block_on(Post::repo(&s).load_author(&posts[0])).unwrap().is_some());
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
}

#[test]
fn has_one_costs_two_reads_or_two_bulk_reads_per_100_parents() {
    let s = store();
    let users: Vec<User> = (0..150).map(user).collect();
    for (i, u) in users.iter().enumerate() {
        block_on(User::repo(&s).create(u)).unwrap();
        // Every other user has a profile: 75 profiles.
        if i % 2 == 0 {
            let p = Profile { id: format!("p{i}"), user_id: u.id.clone(), bio: String::new() };
            block_on(Profile::repo(&s).create(&p)).unwrap();
        }
    }
    s.reset();
    assert!(block_on(User::repo(&s).load_profile(&users[0])).unwrap().is_some());
    assert_cost(&s, ops(2, 0, 0, 0, 0), cost(2, 2, 0, 0, 0));
    // 150 entries read (2 bulk reads), then the 75 profiles they name (1).
    let profiles = block_on(User::repo(&s).load_profiles(&users)).unwrap();
    assert_eq!(profiles.iter().filter(|p| p.is_some()).count(), 75);
    assert_cost(&s, ops(0, 3, 0, 0, 0), cost(3, 150 + 75, 0, 0, 0));
}

#[test]
fn has_one_through_a_secondary_index_costs_a_list_and_a_bulk_read_per_10_entries() {
    let s = store();
    let owner = Owner { id: "o1".into() };
    block_on(Owner::repo(&s).create(&owner)).unwrap();
    block_on(Avatar::repo(&s).create(&Avatar { id: "a1".into(), owner_id: "o1".into() })).unwrap();
    s.reset();
    assert!(block_on(Owner::repo(&s).load_avatar(&owner)).unwrap().is_some());
    assert_cost(&s, ops(0, 1, 0, 0, 1), cost(2, 1, 0, 0, 1));
    // 12 stale entries before the live one: a page of 10, then one of 3.
    for i in 0..12 {
        block_on(s.inner().put(&format!("avatar.owner_id:o1:a0{i:02}"), b"", &Default::default())).unwrap();
    }
    s.reset();
    assert!(block_on(Owner::repo(&s).load_avatar(&owner)).unwrap().is_some());
    assert_cost(&s, ops(0, 2, 0, 0, 2), cost(4, 13, 0, 0, 2));
}

#[test]
fn update_keeping_the_expiry_writes_only_the_record_and_changed_entries() {
    let s = store();
    let users = User::repo(&s);
    let mut u = user(1);
    block_on(users.create_with(&u, WriteOptions::ttl(3600))).unwrap();
    s.reset();
    // A field in no index and not in the metadata: the record only.
    u.handle = u.handle.clone();
    u.name = u.name.clone();
    block_on(users.update(&u)).unwrap();
    assert_cost(&s, ops(0, 1, 1, 0, 0), cost(2, 3, 1, 0, 0));
    // The meta field: the record and the secondary entry that carries it.
    u.name = "renamed".into();
    block_on(users.update(&u)).unwrap();
    assert_cost(&s, ops(0, 1, 2, 0, 0), cost(3, 3, 2, 0, 0));
    // A unique value moves: the new entry, the record; then one bulk read
    // to check the old entry still names it, and its delete.
    u.email = "moved@example.com".into();
    block_on(users.update(&u)).unwrap();
    assert_cost(&s, ops(0, 2, 2, 1, 0), cost(5, 4, 2, 1, 0));
    // A secondary value moves (a post's status, in its (author_id, status)
    // index): its new entry, the record, the old entry's delete, and no
    // bulk read to check it (a secondary entry's key names its record).
    let mut p = post(1, "u0001");
    block_on(Post::repo(&s).create(&p)).unwrap();
    s.reset();
    p.status = PostStatus::Draft;
    block_on(Post::repo(&s).put(&p)).unwrap();
    assert_cost(&s, ops(0, 1, 2, 1, 0), cost(4, 1, 2, 1, 0));
}

#[test]
fn update_changing_the_expiry_rewrites_every_entry() {
    let s = store();
    let users = User::repo(&s);
    let u = user(1);
    block_on(users.create(&u)).unwrap();
    s.reset();
    // 2 unique + 1 secondary entries, and the record.
    block_on(users.update_with(&u, WriteOptions::ttl(3600))).unwrap();
    assert_cost(&s, ops(0, 1, 4, 0, 0), cost(5, 3, 4, 0, 0));
    block_on(users.update_with(&u, WriteOptions::permanent())).unwrap();
    assert_cost(&s, ops(0, 1, 4, 0, 0), cost(5, 3, 4, 0, 0));
}

#[test]
fn upsert_costs_a_lookup_and_a_create_or_an_update() {
    let s = store();
    let users = User::repo(&s);
    // New: the entry is missing (1 read), then a create.
    block_on(users.upsert_by_email(user(1))).unwrap();
    assert_cost(&s, ops(1, 1, 4, 0, 0), cost(6, 4, 4, 0, 0));
    // Existing: entry and record (2 reads), then an update keeping the expiry
    // that changes the meta field (the record and the secondary entry).
    let renamed = User { id: "other-id".into(), name: "renamed".into(), ..user(1) };
    let stored = block_on(users.upsert_by_email(renamed)).unwrap();
    assert_eq!(stored.id, "u0001");
    assert_cost(&s, ops(2, 1, 2, 0, 0), cost(5, 5, 2, 0, 0));
}

#[test]
fn delete_costs_a_read_a_bulk_read_and_a_delete_per_key() {
    let s = store();
    block_on(User::repo(&s).create(&user(1))).unwrap();
    block_on(Post::repo(&s).create(&post(1, "u0001"))).unwrap();
    s.reset();
    // User: the record (1 read), its 2 unique entries (1 bulk read), then 1 + 2 + 1 deletes.
    assert!(block_on(User::repo(&s).delete("u0001")).unwrap());
    assert_cost(&s, ops(1, 1, 0, 4, 0), cost(6, 3, 0, 4, 0));
    // Post: no unique index, no bulk read.
    assert!(block_on(Post::repo(&s).delete(&1)).unwrap());
    assert_cost(&s, ops(1, 0, 0, 3, 0), cost(4, 1, 0, 3, 0));
    // Nothing there: 1 read.
    assert!(!block_on(Post::repo(&s).delete(&1)).unwrap());
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
}

#[test]
fn a_no_index_models_put_is_exactly_one_write_when_the_call_decides_the_expiry() {
    let s = store();
    let settings = Setting::repo(&s);
    for opts in [WriteOptions::ttl(600), WriteOptions::expire_at(s.now() + 600), WriteOptions::permanent()] {
        // New or existing, no read.
        for _ in 0..2 {
            block_on(settings.put_with(&setting(1), opts)).unwrap();
            assert_cost(&s, ops(0, 0, 1, 0, 0), cost(1, 0, 1, 0, 0));
        }
    }
    // The model's ttl decides it too.
    let previews = notes::models::Preview::repo(&s);
    let p = notes::models::Preview { note_id: 1, html: "<p>1</p>".into() };
    block_on(previews.put(&p)).unwrap();
    assert_cost(&s, ops(0, 0, 1, 0, 0), cost(1, 0, 1, 0, 0));
    assert_eq!(block_on(previews.expiration(&1)).unwrap(), Some(Some(s.now() + 600)));
    s.reset();
    // Nothing decides it: the stored expiry is kept, which takes a read.
    block_on(settings.put(&setting(1))).unwrap();
    assert_cost(&s, ops(0, 1, 1, 0, 0), cost(2, 1, 1, 0, 0));
    // create (AlreadyExists) and update (NotFound) read whatever the expiry.
    block_on(settings.create_with(&setting(2), WriteOptions::ttl(600))).unwrap();
    assert_cost(&s, ops(0, 1, 1, 0, 0), cost(2, 1, 1, 0, 0));
    block_on(settings.update_with(&setting(2), WriteOptions::ttl(600))).unwrap();
    assert_cost(&s, ops(0, 1, 1, 0, 0), cost(2, 1, 1, 0, 0));
}

#[test]
fn batches_share_their_reads() {
    let s = store();
    let users = User::repo(&s);
    let batch: Vec<User> = (0..150).map(user).collect();
    // 150 records and 300 unique entries: 450 keys in 5 bulk reads; 4 writes each.
    let done = block_on(users.create_many(&batch)).unwrap();
    assert!(done.iter().all(Result::is_ok));
    assert_cost(&s, ops(0, 5, 600, 0, 0), cost(605, 450, 600, 0, 0));
    // A put keeping the expiry of records that did not change: the record only.
    let done = block_on(users.put_many(&batch)).unwrap();
    assert!(done.iter().all(Result::is_ok));
    assert_cost(&s, ops(0, 5, 150, 0, 0), cost(155, 450, 150, 0, 0));
    // No index, the expiry decided: no read at all.
    let settings: Vec<Setting> = (0..150).map(setting).collect();
    let done = block_on(Setting::repo(&s).put_many_with(&settings, WriteOptions::ttl(600))).unwrap();
    assert!(done.iter().all(Result::is_ok));
    assert_cost(&s, ops(0, 0, 150, 0, 0), cost(150, 0, 150, 0, 0));
    // Delete: 150 records (2 bulk reads), 300 unique entries (3), 4 deletes each.
    let ids: Vec<String> = batch.iter().map(|u| u.id.clone()).collect();
    let done = block_on(users.delete_many(&ids)).unwrap();
    assert!(done.iter().all(|d| matches!(d, Ok(true))));
    assert_cost(&s, ops(0, 5, 0, 600, 0), cost(605, 450, 0, 600, 0));
}

// ---- KEYS.md ----------------------------------------------------------------

/// The project of an example: its kvgen.toml, or (for the build.rs example)
/// the sources its build script names.
fn example(name: &str) -> kvgen_codegen::project::Project {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name);
    let config = dir.join("kvgen.toml");
    if config.exists() {
        kvgen_codegen::project::Project::load(&config).expect("the example is valid")
    } else {
        let empty = kvgen_codegen::config::ConfigFile::empty(&config);
        kvgen_codegen::project::Project::build(empty, &[dir.join("src/models.rs")], &[]).expect("the example is valid")
    }
}

/// What the meter counts for one record: writes of a create, of an update
/// keeping the expiry and changing nothing (none for a model with a ttl),
/// of an update changing the expiry, and deletes of a delete.
fn measured<M: Model>(rec: &M) -> [Option<u64>; 4] {
    let s = store();
    let repo = Repo::<M, _>::new(&s);
    block_on(repo.create(rec)).unwrap();
    let create = s.reset().writes;
    let same = M::DEFAULT_TTL.is_none().then(|| {
        block_on(repo.update(rec)).unwrap();
        s.reset().writes
    });
    block_on(repo.update_with(rec, WriteOptions::ttl(7200))).unwrap();
    let new = s.reset().writes;
    assert!(block_on(repo.delete(rec.id())).unwrap());
    let delete = s.reset().deletes;
    [Some(create), same, Some(new), Some(delete)]
}

/// A record of each example model, with every indexed field present.
fn measure_model(name: &str) -> [Option<u64>; 4] {
    match name {
        "User" => measured(&user(1)),
        "Profile" => measured(&Profile { id: "p1".into(), user_id: "u1".into(), bio: "b".into() }),
        "Post" => measured(&post(1, "u1")),
        "Comment" => measured(&Comment { id: "c1".into(), post_id: 1, author_id: "u1".into(), body: "b".into() }),
        "Session" => measured(&Session { token: "t1".into(), user_id: "u1".into() }),
        "Activity" => measured(&Activity { id: 1, actor: "a".into(), at: -5, seq: 1, what: "w".into() }),
        "Notebook" => measured(&notes::models::Notebook { id: "n1".into(), slug: "s".into(), title: "t".into() }),
        "Note" => measured(&notes::models::Note {
            id: 1,
            notebook_id: "n1".into(),
            tag: Some("rust".into()),
            body: "b".into(),
        }),
        "Preview" => measured(&notes::models::Preview { note_id: 1, html: "h".into() }),
        "Warehouse" => measured(&inventory::Warehouse { code: "W1".into(), city: "Berlin".into() }),
        "Item" => measured(&inventory::Item {
            id: 1,
            warehouse_id: "W1".into(),
            sku: "A".into(),
            name: "Anvil".into(),
            quantity: 1,
        }),
        other => panic!("no record of model {other} to measure: add one to measure_model"),
    }
}

/// The first number in a table cell, `None` when it has none (`—`).
fn first_number(cell: &str) -> Option<u64> {
    let digits: String =
        cell.chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit() || *c == ',').collect();
    digits.replace(',', "").parse().ok()
}

#[test]
fn the_writes_table_of_every_example_agrees_with_the_meter() {
    let mut checked = 0;
    for name in ["blog", "notes", "inventory"] {
        let project = example(name);
        let doc = kvgen_codegen::keys::markdown(&project);
        let table = doc.split("## Writes per call").nth(1).expect("KEYS.md has a writes table");
        for found in &project.models {
            let model = found.model.ident.to_string();
            let row = table
                .lines()
                .find(|l| l.starts_with(&format!("| `{model}` |")))
                .unwrap_or_else(|| panic!("{name}: no writes row for {model}"));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let documented = [3, 4, 5, 6].map(|i| first_number(cells[i]));
            assert_eq!(documented, measure_model(&model), "{name}: {model}: {row}");
            // What 1,000 writes a day buy: that many creates.
            let create = documented[0].unwrap();
            assert_eq!(first_number(cells[7]), Some(1000 / create), "{name}: {model}: {row}");
            checked += 1;
        }
    }
    assert_eq!(checked, 11, "every model of every example");
}

#[test]
fn modify_costs_a_read_and_an_update() {
    let s = store();
    let settings = Setting::repo(&s);
    block_on(settings.put(&setting(1))).unwrap();
    s.reset();
    let changed = block_on(settings.modify(&"s1".into(), |r| r.value = "new".into())).unwrap();
    assert_eq!(changed.map(|r| r.value), Some("new".into()));
    // No index: 1 read, then the update's 1 bulk read + 1 write.
    assert_cost(&s, ops(1, 1, 1, 0, 0), cost(3, 2, 1, 0, 0));
    let users = User::repo(&s);
    block_on(users.create(&user(1))).unwrap();
    s.reset();
    block_on(users.modify(&"u0001".into(), |_| {})).unwrap();
    // u = 2: the update's bulk read is of the record and its 2 unique entries.
    assert_cost(&s, ops(1, 1, 1, 0, 0), cost(3, 4, 1, 0, 0));
    assert!(block_on(users.modify(&"missing".into(), |_| {})).unwrap().is_none());
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
}

#[test]
fn touch_costs_a_read_and_an_update_changing_the_expiry() {
    let s = store();
    let sessions = Session::repo(&s);
    block_on(sessions.create(&Session { token: "t1".into(), user_id: "u1".into() })).unwrap();
    s.reset();
    assert!(block_on(sessions.touch(&"t1".into(), 7200)).unwrap().is_some());
    // u = 0, s = 1: 1 read, then 1 bulk read + (1 + u + s) writes.
    assert_cost(&s, ops(1, 1, 2, 0, 0), cost(4, 2, 2, 0, 0));
}

#[test]
fn get_many_or_fetch_costs_the_bulk_reads_and_the_puts_of_what_was_fetched() {
    let s = store();
    let settings = Setting::repo(&s);
    for i in 0..120 {
        block_on(settings.put(&setting(i))).unwrap();
    }
    s.reset();
    let ids: Vec<String> = (0..150).map(|i| setting(i).name).collect();
    let fetch = |missing: Vec<&String>| {
        let found = missing.into_iter().map(|n| Setting { name: n.clone(), value: "fetched".into() });
        std::future::ready(Ok(found.collect()))
    };
    let got = block_on(settings.get_many_or_fetch(&ids, WriteOptions::ttl(3600), fetch)).unwrap();
    assert!(got.iter().all(Option::is_some));
    // ceil(150/100) bulk reads, then 30 blind puts (no index, a decided expiry).
    assert_cost(&s, ops(0, 2, 30, 0, 0), cost(32, 150, 30, 0, 0));
    block_on(settings.get_many_or_fetch(&ids, WriteOptions::ttl(3600), fetch)).unwrap();
    assert_cost(&s, ops(0, 2, 0, 0, 0), cost(2, 150, 0, 0, 0));
}

/// A raw bytes value (the other fields in metadata).
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Blob {
    #[kv(id)]
    id: String,
    #[kv(raw)]
    data: Vec<u8>,
    kind: String,
}

/// A raw text value.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Snippet {
    #[kv(id)]
    id: String,
    #[kv(raw)]
    text: String,
}

#[test]
fn raw_values_cost_as_a_model_without_index_and_raw_bytes_read_one_key_at_a_time() {
    let s = store();
    let blobs = Blob::repo(&s);
    let snippets = Snippet::repo(&s);
    let blob = |i: usize| Blob { id: format!("b{i:03}"), data: vec![0xff, i as u8], kind: "x".into() };
    let snippet = |i: usize| Snippet { id: format!("s{i:03}"), text: format!("text {i}") };
    // Writes: as any model without an index (create reads the record; a put with a ttl is blind).
    block_on(blobs.create(&blob(0))).unwrap();
    assert_cost(&s, ops(0, 1, 1, 0, 0), cost(2, 1, 1, 0, 0));
    block_on(blobs.put_with(&blob(0), WriteOptions::ttl(3600))).unwrap();
    assert_cost(&s, ops(0, 0, 1, 0, 0), cost(1, 0, 1, 0, 0));
    for i in 1..150 {
        block_on(blobs.put(&blob(i))).unwrap();
        block_on(snippets.put(&snippet(i))).unwrap();
    }
    s.reset();
    // Reads by id: 1 read each.
    assert!(block_on(blobs.get(&blob(3).id)).unwrap().is_some());
    assert_cost(&s, ops(1, 0, 0, 0, 0), cost(1, 1, 0, 0, 0));
    // Many: raw bytes one read per id (KV's bulk read is text only); raw text in bulk.
    let ids: Vec<String> = (1..=120).map(|i| blob(i).id).collect();
    assert_eq!(block_on(blobs.get_many(&ids)).unwrap().len(), 120);
    assert_cost(&s, ops(120, 0, 0, 0, 0), cost(120, 120, 0, 0, 0));
    let ids: Vec<String> = (1..=120).map(|i| snippet(i).id).collect();
    assert_eq!(block_on(snippets.get_many(&ids)).unwrap().len(), 120);
    assert_cost(&s, ops(0, 2, 0, 0, 0), cost(2, 120, 0, 0, 0));
    // A page: 1 list, then one read per raw bytes record, bulk reads for raw text.
    assert_eq!(block_on(blobs.list(Page::first(50))).unwrap().items.len(), 50);
    assert_cost(&s, ops(50, 0, 0, 0, 1), cost(51, 50, 0, 0, 1));
    assert_eq!(block_on(snippets.list(Page::first(50))).unwrap().items.len(), 50);
    assert_cost(&s, ops(0, 1, 0, 0, 1), cost(2, 50, 0, 0, 1));
    assert_eq!(block_on(blobs.list_meta(Page::first(50))).unwrap().items.len(), 50);
    assert_cost(&s, ops(0, 0, 0, 0, 1), cost(1, 0, 0, 0, 1));
    // Refused before any KV operation: metadata over 1024 bytes, a value over 25 MiB.
    let wordy = Blob { kind: "k".repeat(1100), ..blob(1) };
    assert!(matches!(block_on(blobs.put(&wordy)), Err(kvgen::Error::MetadataTooLarge { .. })));
    let huge = Blob { data: vec![0; kvgen::limits::MAX_VALUE_BYTES + 1], ..blob(1) };
    assert!(matches!(block_on(blobs.put(&huge)), Err(kvgen::Error::ValueTooLarge { .. })));
    assert_cost(&s, ops(0, 0, 0, 0, 0), cost(0, 0, 0, 0, 0));
}
