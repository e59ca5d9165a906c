//! Ordered and range listing on MemoryStore: groups of a leading subset of a
//! compound index's fields, listings from or after a value, descending
//! index positions, at every page boundary, against a reference computed
//! from the records.

use blog::Activity;
use kvgen::{Error, KvModel, KvStore, MemoryStore, Page};
use pollster::block_on;
use serde::{Deserialize, Serialize};

/// A compound unique index with an integer second field, and a unique
/// descending integer.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", unique(tenant, seq))]
struct Ticket {
    #[kv(id)]
    id: String,
    tenant: String,
    seq: u64,
    #[kv(unique, desc)]
    rank: i8,
}

fn activity(id: u64, actor: &str, at: i64, seq: u32) -> Activity {
    Activity { id, actor: actor.into(), at, seq, what: format!("a{id}") }
}

/// Every page of a listing, following cursors; each page's length at most `limit`.
fn all_pages<T, F>(limit: u32, mut page: F) -> Vec<T>
where
    F: FnMut(Page) -> kvgen::Result<kvgen::ListPage<T>>,
{
    let mut out = Vec::new();
    let mut next = Page::first(limit);
    for _ in 0..10_000 {
        let got = page(next).expect("listing");
        assert!(got.items.len() <= limit as usize, "a page of {} items at limit {limit}", got.items.len());
        out.extend(got.items);
        match got.cursor {
            Some(c) => next = Page::after(c, limit),
            None => return out,
        }
    }
    panic!("the listing never ended");
}

/// Activities of "x" with `at` values spread over negatives and extremes,
/// and neighbours whose actors share a prefix with it.
fn seeded() -> (MemoryStore, Vec<Activity>) {
    let store = MemoryStore::new();
    let repo = Activity::repo(&store);
    let ats = [i64::MIN, -1_000, -1, 0, 1, 7, 7, 1_000, 1_732_000_000_000, i64::MAX];
    let mut xs = Vec::new();
    for (i, at) in ats.iter().enumerate() {
        let a = activity(100 + i as u64, "x", *at, i as u32);
        block_on(repo.create(&a)).unwrap();
        xs.push(a);
    }
    for (i, actor) in ["xy", "x:y", "w", "x%", ""].iter().enumerate() {
        block_on(repo.create(&activity(900 + i as u64, actor, 5, 50 + i as u32))).unwrap();
    }
    (store, xs)
}

/// `x`'s activities in the index's order: newest first, then by id.
fn newest_first(xs: &[Activity]) -> Vec<Activity> {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| b.at.cmp(&a.at).then(a.id.cmp(&b.id)));
    v
}

#[test]
fn a_leading_field_lists_its_group_only_and_newest_first() {
    let (store, xs) = seeded();
    let repo = Activity::repo(&store);
    for limit in [1, 2, 9, 10, 11, 1000] {
        let got = all_pages(limit, |p| block_on(repo.list_by_actor("x", p)));
        assert_eq!(got, newest_first(&xs), "limit {limit}");
    }
    // The other actors each have their own group, even those "x" is a prefix of.
    for actor in ["xy", "x:y", "w", "x%", ""] {
        let got = all_pages(3, |p| block_on(repo.list_by_actor(actor, p)));
        assert_eq!(got.len(), 1, "{actor:?}");
        assert_eq!(got[0].actor, actor);
    }
    assert!(block_on(repo.list_by_actor("z", Page::first(10))).unwrap().items.is_empty());
}

/// Every start value, from and after, at every page boundary: the pages
/// joined are exactly the group's records at or past the start, in order.
#[test]
fn from_and_after_match_the_reference_at_every_page_boundary() {
    let (store, xs) = seeded();
    let repo = Activity::repo(&store);
    let expected_order = newest_first(&xs);
    let starts =
        [i64::MIN, i64::MIN + 1, -1_001, -1_000, -999, -1, 0, 6, 7, 8, 1_731_999_999_999, i64::MAX - 1, i64::MAX];
    for start in starts {
        // `at` is descending: from `start` on means at or before it.
        let from: Vec<Activity> = expected_order.iter().filter(|a| a.at <= start).cloned().collect();
        let after: Vec<Activity> = expected_order.iter().filter(|a| a.at < start).cloned().collect();
        let n = from.len() as u32;
        let mut limits = vec![1, 2, 1000];
        limits.extend([n.saturating_sub(1), n, n + 1].into_iter().filter(|l| *l > 0));
        for limit in limits {
            let got = all_pages(limit, |p| block_on(repo.list_by_actor_from_at("x", start, p)));
            assert_eq!(got, from, "from {start}, limit {limit}");
            let got = all_pages(limit, |p| block_on(repo.list_by_actor_after_at("x", start, p)));
            assert_eq!(got, after, "after {start}, limit {limit}");
        }
    }
}

#[test]
fn a_range_ending_exactly_at_a_page_end_has_no_empty_page_after_it() {
    let (store, _) = seeded();
    let repo = Activity::repo(&store);
    // At or before 0: 0, -1, -1000, MIN: two pages of 2, the last without a cursor.
    let first = block_on(repo.list_by_actor_from_at("x", 0, Page::first(2))).unwrap();
    assert_eq!(first.items.iter().map(|a| a.at).collect::<Vec<_>>(), [0, -1]);
    let second = block_on(repo.list_by_actor_from_at("x", 0, first.next(2).unwrap())).unwrap();
    assert_eq!(second.items.iter().map(|a| a.at).collect::<Vec<_>>(), [-1_000, i64::MIN]);
    assert_eq!(second.cursor, None, "the group ends with this page");
}

#[test]
fn an_ascending_single_field_index_lists_from_a_value() {
    let (store, xs) = seeded();
    let repo = Activity::repo(&store);
    // `seq` over every actor: 0..=9 for "x", 50..=54 for the others.
    let got = all_pages(3, |p| block_on(repo.list_by_seq_from(7, p)));
    assert_eq!(got.iter().map(|a| a.seq).collect::<Vec<_>>(), [7, 8, 9, 50, 51, 52, 53, 54]);
    let got = all_pages(4, |p| block_on(repo.list_by_seq_after(9, p)));
    assert_eq!(got.iter().map(|a| a.seq).collect::<Vec<_>>(), [50, 51, 52, 53, 54]);
    assert_eq!(all_pages(2, |p| block_on(repo.list_by_seq_from(0, p))).len(), xs.len() + 5);
    assert!(all_pages(2, |p| block_on(repo.list_by_seq_after(u32::MAX, p))).is_empty());
}

/// More than 1,000 entries before the start: the keys before it are passed
/// over 1,000 a call, the pages before the first item empty with a cursor.
#[test]
fn a_start_past_a_thousand_entries_is_reached_through_empty_pages() {
    let store = MemoryStore::new();
    let repo = Activity::repo(&store);
    let recs: Vec<Activity> = (0..1_205).map(|i| activity(i, "big", i as i64, i as u32)).collect();
    for r in block_on(repo.create_many(&recs)).unwrap() {
        r.unwrap();
    }
    // Newest first: 1,204 down to 0; at or before 150 is the last 151 of them.
    let mut pages = 0;
    let mut got = Vec::new();
    let mut next = Page::first(100);
    loop {
        let page = block_on(repo.list_by_actor_from_at("big", 150, next)).unwrap();
        pages += 1;
        got.extend(page.items.iter().map(|a| a.at));
        match page.next(100) {
            Some(p) => next = p,
            None => break,
        }
    }
    assert_eq!(got, (0..=150).rev().collect::<Vec<i64>>());
    // 1 page passing over the first 1,000 keys, then 100 + 51 items (the second within the same list).
    assert_eq!(pages, 3);
}

#[test]
fn range_cursors_are_bound_to_their_start() {
    let (store, _) = seeded();
    let repo = Activity::repo(&store);
    let page = block_on(repo.list_by_actor_from_at("x", 1_000, Page::first(1))).unwrap();
    let cursor = page.cursor.clone().unwrap();
    // Another start, another group, another kind of listing: refused.
    let other_start = block_on(repo.list_by_actor_from_at("x", 7, Page::after(cursor.clone(), 1)));
    assert!(matches!(other_start, Err(Error::InvalidCursor { .. })), "{other_start:?}");
    let other_group = block_on(repo.list_by_actor_from_at("xy", 1_000, Page::after(cursor.clone(), 1)));
    assert!(matches!(other_group, Err(Error::InvalidCursor { .. })), "{other_group:?}");
    let plain = block_on(repo.list_by_actor("x", Page::after(cursor.clone(), 1)));
    assert!(matches!(plain, Err(Error::InvalidCursor { .. })), "{plain:?}");
    // A bound moved before the start is refused too (hex of a key before it).
    let (tag, rest) = cursor.split_once('.').unwrap();
    let (_, inner) = rest.split_once('.').unwrap();
    let early: String = "APP".bytes().map(|b| format!("{b:02x}")).collect();
    let forged = block_on(repo.list_by_actor_from_at("x", 1_000, Page::after(format!("{tag}.{early}.{inner}"), 1)));
    assert!(matches!(forged, Err(Error::InvalidCursor { .. })), "{forged:?}");
    // Its own cursor resumes.
    let resumed = block_on(repo.list_by_actor_from_at("x", 1_000, Page::after(cursor, 1))).unwrap();
    assert_eq!(resumed.items[0].at, 7);
}

#[test]
fn a_unique_compound_index_lists_by_its_leading_field() {
    let store = MemoryStore::new();
    let repo = Ticket::repo(&store);
    let mut all = Vec::new();
    for (i, (tenant, seq)) in [("a", 3u64), ("a", 1), ("ab", 2), ("a", 2), ("b", 1), ("a", u64::MAX)].iter().enumerate()
    {
        let t =
            Ticket { id: format!("t{i}"), tenant: tenant.to_string(), seq: *seq, rank: (i as i16 * 50 - 128) as i8 };
        block_on(repo.create(&t)).unwrap();
        all.push(t);
    }
    for limit in [1, 3, 4, 5] {
        let got = all_pages(limit, |p| block_on(repo.list_by_tenant("a", p)));
        assert_eq!(got.iter().map(|t| t.seq).collect::<Vec<_>>(), [1, 2, 3, u64::MAX], "limit {limit}");
        let got = all_pages(limit, |p| block_on(repo.list_by_tenant_from_seq("a", 2, p)));
        assert_eq!(got.iter().map(|t| t.seq).collect::<Vec<_>>(), [2, 3, u64::MAX], "limit {limit}");
        let got = all_pages(limit, |p| block_on(repo.list_by_tenant_after_seq("a", 3, p)));
        assert_eq!(got.iter().map(|t| t.seq).collect::<Vec<_>>(), [u64::MAX], "limit {limit}");
    }
    // The descending unique `rank`: highest first, from a value down.
    let mut ranks: Vec<i8> = all.iter().map(|t| t.rank).collect();
    ranks.sort_by(|a, b| b.cmp(a));
    let got = all_pages(2, |p| block_on(repo.list_by_rank_from(i8::MAX, p)));
    assert_eq!(got.iter().map(|t| t.rank).collect::<Vec<_>>(), ranks);
    let got = all_pages(2, |p| block_on(repo.list_by_rank_after(-28, p)));
    assert_eq!(
        got.iter().map(|t| t.rank).collect::<Vec<_>>(),
        ranks.iter().copied().filter(|r| *r < -28).collect::<Vec<_>>()
    );
    assert_eq!(block_on(repo.find_by_rank(-28)).unwrap().map(|t| t.id), Some("t2".to_string()));
    // A record moved to another tenant leaves the group: its old entry is stale and skipped.
    let mut moved = all[1].clone();
    moved.tenant = "c".into();
    block_on(repo.update(&moved)).unwrap();
    let got = all_pages(10, |p| block_on(repo.list_by_tenant("a", p)));
    assert_eq!(got.iter().map(|t| t.seq).collect::<Vec<_>>(), [2, 3, u64::MAX]);
}

#[test]
fn stale_entries_are_skipped_by_range_listings() {
    let (store, _) = seeded();
    let repo = Activity::repo(&store);
    // Activity 103 (at 0) moves to at 5: its entry at 0 goes, a new one comes.
    let mut a = block_on(repo.get(&103)).unwrap().unwrap();
    a.at = 5;
    block_on(repo.update(&a)).unwrap();
    // A stale entry written by hand, as a failed write can leave: at -5, naming 104 (whose at is 1).
    let stale = format!("activity.actor_at:x:{}:{}", kvgen::key::encode_desc(&-5i64), kvgen::key::encode(&104u64));
    block_on(store.put(&stale, b"", &Default::default())).unwrap();
    let got = all_pages(2, |p| block_on(repo.list_by_actor_from_at("x", 5, p)));
    assert_eq!(
        got.iter().map(|a| (a.id, a.at)).collect::<Vec<_>>(),
        [(103, 5), (104, 1), (102, -1), (101, -1_000), (100, i64::MIN)]
    );
}

#[test]
fn count_by_counts_one_group_of_entries() {
    let (store, _) = seeded();
    let repo = Activity::repo(&store);
    assert_eq!(block_on(repo.count_by_actor("x")).unwrap(), 10);
    assert_eq!(block_on(repo.count_by_actor("xy")).unwrap(), 1);
    assert_eq!(block_on(repo.count_by_actor("z")).unwrap(), 0);
    assert_eq!(block_on(repo.count_by_actor_and_at("x", 7)).unwrap(), 2);
    assert_eq!(block_on(repo.count_by_actor_and_at("x", 8)).unwrap(), 0);
    assert_eq!(block_on(repo.count_by_seq(50)).unwrap(), 1);
    // Entries, not verified records: a stale one counts until repair removes it.
    let stale = format!("activity.actor_at:x:{}:{}", kvgen::key::encode_desc(&-5i64), kvgen::key::encode(&104u64));
    block_on(store.put(&stale, b"", &Default::default())).unwrap();
    assert_eq!(block_on(repo.count_by_actor("x")).unwrap(), 11);
    block_on(repo.repair()).unwrap();
    assert_eq!(block_on(repo.count_by_actor("x")).unwrap(), 10);

    let tickets = Ticket::repo(&store);
    for (i, tenant) in ["a", "a", "ab", "a"].iter().enumerate() {
        let t = Ticket { id: format!("t{i}"), tenant: tenant.to_string(), seq: i as u64, rank: i as i8 };
        block_on(tickets.create(&t)).unwrap();
    }
    assert_eq!(block_on(tickets.count_by_tenant("a")).unwrap(), 3);
    assert_eq!(block_on(tickets.count_by_tenant("ab")).unwrap(), 1);
}

#[test]
fn all_pages_gathers_every_page_in_order() {
    let (store, xs) = seeded();
    let repo = Activity::repo(&store);
    for limit in [1, 3, 10, 1000] {
        let all = block_on(kvgen::all_pages(limit, |p| repo.list_by_actor("x", p))).unwrap();
        assert_eq!(all.items, newest_first(&xs), "limit {limit}");
        assert_eq!(all.cursor, None);
        let from = block_on(kvgen::all_pages(limit, |p| repo.list_by_actor_from_at("x", 7, p))).unwrap();
        assert_eq!(from.items, newest_first(&xs).into_iter().filter(|a| a.at <= 7).collect::<Vec<_>>());
    }
    // Unreadable records of every page are gathered too.
    block_on(store.put("activity:00000000000000000777", b"not json", &Default::default())).unwrap();
    let all = block_on(kvgen::all_pages(2, |p| repo.list(p))).unwrap();
    assert_eq!(all.items.len(), 15);
    assert_eq!(all.unreadable, ["activity:00000000000000000777"]);
    // An error on any page is the answer.
    let bad = block_on(kvgen::all_pages(0, |p| repo.list(p)));
    assert!(matches!(bad, Err(Error::ListLimit { .. })), "{bad:?}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn record() -> impl Strategy<Value = (usize, i64, u32)> {
        let at = prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1i64), Just(0i64), -3i64..3];
        (0usize..3, at, 0u32..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Random groups (actors that are prefixes of each other), duplicate
        /// and extreme values, random starts and limits: every listing's pages
        /// joined equal the reference, and no page is over its limit.
        #[test]
        fn ranged_listings_equal_the_reference(
            recs in prop::collection::vec(record(), 0..14),
            start in prop_oneof![Just(i64::MIN), Just(i64::MAX), -4i64..4],
            seq_start in 0u32..7,
            limit in 1u32..6,
        ) {
            const ACTORS: [&str; 3] = ["a", "ab", "a:b"];
            let store = MemoryStore::new();
            let repo = Activity::repo(&store);
            let all: Vec<Activity> = recs
                .iter()
                .enumerate()
                .map(|(i, (actor, at, seq))| activity(i as u64, ACTORS[*actor], *at, *seq))
                .collect();
            for r in block_on(repo.create_many(&all)).unwrap() {
                r.unwrap();
            }
            for actor in ACTORS {
                let mut group: Vec<Activity> = all.iter().filter(|r| r.actor == actor).cloned().collect();
                group.sort_by(|a, b| b.at.cmp(&a.at).then(a.id.cmp(&b.id)));
                prop_assert_eq!(&all_pages(limit, |p| block_on(repo.list_by_actor(actor, p))), &group);
                let from: Vec<Activity> = group.iter().filter(|r| r.at <= start).cloned().collect();
                prop_assert_eq!(all_pages(limit, |p| block_on(repo.list_by_actor_from_at(actor, start, p))), from);
                let after: Vec<Activity> = group.iter().filter(|r| r.at < start).cloned().collect();
                prop_assert_eq!(all_pages(limit, |p| block_on(repo.list_by_actor_after_at(actor, start, p))), after);
                prop_assert_eq!(block_on(repo.count_by_actor(actor)).unwrap(), group.len() as u64);
            }
            // The ascending `seq` index over every actor.
            let mut by_seq: Vec<Activity> = all.iter().filter(|r| r.seq >= seq_start).cloned().collect();
            by_seq.sort_by(|a, b| a.seq.cmp(&b.seq).then(a.id.cmp(&b.id)));
            prop_assert_eq!(&all_pages(limit, |p| block_on(repo.list_by_seq_from(seq_start, p))), &by_seq);
            by_seq.retain(|r| r.seq > seq_start);
            prop_assert_eq!(&all_pages(limit, |p| block_on(repo.list_by_seq_after(seq_start, p))), &by_seq);
        }
    }
}

/// The owner of [`Post`]s.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Owner {
    #[kv(id)]
    id: String,
}

/// A `belongs_to` (whose index takes `list_by_owner_id`) and a compound
/// index over the same leading field, newest first.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", index(owner_id, created_at desc, name = "recent"))]
struct Post {
    #[kv(id)]
    id: String,
    #[kv(belongs_to = Owner)]
    owner_id: String,
    created_at: u64,
}

/// The group listing the relation's name took is generated as
/// `list_by_owner_id_in_recent`: an owner's posts, newest first.
#[test]
fn a_group_listing_a_relation_took_lists_under_its_index_name() {
    let s = MemoryStore::new();
    let posts = Post::repo(&s);
    for (id, owner, at) in [("p1", "o1", 10), ("p2", "o1", 30), ("p3", "o2", 20), ("p4", "o1", 20)] {
        block_on(posts.create(&Post { id: id.into(), owner_id: owner.into(), created_at: at })).unwrap();
    }
    let page = block_on(posts.list_by_owner_id_in_recent("o1", Page::first(10))).unwrap();
    assert_eq!(page.items.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["p2", "p4", "p1"]);
    assert_eq!(block_on(posts.count_by_owner_id_in_recent("o1")).unwrap(), 3);
    // The relation's own listing, in id order, is unchanged.
    let page = block_on(posts.list_by_owner_id("o1", Page::first(10))).unwrap();
    assert_eq!(page.items.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["p1", "p2", "p4"]);
}
