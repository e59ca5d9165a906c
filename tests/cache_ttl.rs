//! Cached reads (`#[kv(cache_ttl = ..)]`, `Repo::cached`): which reads carry
//! KV's `cacheTtl`, which never do, and the range KV accepts.
//!
//! A recording store logs every operation and whether a read asked for a
//! cache ttl; the tests run each call through it and look at the log.

use kvgen::{Entry, ListOptions, ListResult, PutOptions};
use kvgen::{Error, Faulty, KvModel, KvStore, MemoryStore, Metered, Model, Page, Rounds};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", cache_ttl = 300, has_many(Book, by = author_id))]
pub struct Author {
    #[kv(id)]
    pub id: String,
    #[kv(unique)]
    pub email: String,
    #[kv(index)]
    pub city: String,
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", cache_ttl = 120)]
pub struct Book {
    #[kv(id)]
    pub id: String,
    #[kv(belongs_to = Author)]
    pub author_id: String,
    pub title: String,
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
pub struct Plain {
    #[kv(id)]
    pub id: String,
}

/// One operation as the store saw it: reads with the cache ttl they asked for.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Get { key: String, cache_ttl: Option<u64> },
    GetMany { first: String, cache_ttl: Option<u64> },
    Put,
    Delete,
    List,
}

impl Op {
    fn cache_ttl(&self) -> Option<Option<u64>> {
        match self {
            Op::Get { cache_ttl, .. } | Op::GetMany { cache_ttl, .. } => Some(*cache_ttl),
            _ => None,
        }
    }
}

/// A MemoryStore that logs every operation.
#[derive(Default)]
struct Recording {
    inner: MemoryStore,
    log: RefCell<Vec<Op>>,
}

impl Recording {
    fn take(&self) -> Vec<Op> {
        std::mem::take(&mut *self.log.borrow_mut())
    }
    fn push(&self, op: Op) {
        self.log.borrow_mut().push(op);
    }
}

impl KvStore for Recording {
    async fn get(&self, key: &str) -> kvgen::Result<Option<Entry>> {
        self.push(Op::Get { key: key.into(), cache_ttl: None });
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[String]) -> kvgen::Result<Vec<Option<Entry>>> {
        self.push(Op::GetMany { first: keys[0].clone(), cache_ttl: None });
        self.inner.get_many(keys).await
    }
    async fn get_cached(&self, key: &str, cache_ttl: u64) -> kvgen::Result<Option<Entry>> {
        self.push(Op::Get { key: key.into(), cache_ttl: Some(cache_ttl) });
        self.inner.get_cached(key, cache_ttl).await
    }
    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> kvgen::Result<Vec<Option<Entry>>> {
        self.push(Op::GetMany { first: keys[0].clone(), cache_ttl: Some(cache_ttl) });
        self.inner.get_many_cached(keys, cache_ttl).await
    }
    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> kvgen::Result<()> {
        self.push(Op::Put);
        self.inner.put(key, value, options).await
    }
    async fn delete(&self, key: &str) -> kvgen::Result<()> {
        self.push(Op::Delete);
        self.inner.delete(key).await
    }
    async fn list(&self, options: &ListOptions) -> kvgen::Result<ListResult> {
        self.push(Op::List);
        self.inner.list(options).await
    }
    fn now(&self) -> u64 {
        self.inner.now()
    }
    fn coordinator(&self) -> Option<&dyn kvgen::Coordinate> {
        self.inner.coordinator()
    }
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

fn ada() -> Author {
    Author { id: "a1".into(), email: "ada@example.com".into(), city: "london".into() }
}

fn book(id: &str) -> Book {
    Book { id: id.into(), author_id: "a1".into(), title: format!("title {id}") }
}

/// The reads of `ops`, each with the cache ttl it asked for.
fn reads(ops: &[Op]) -> Vec<Option<u64>> {
    ops.iter().filter_map(Op::cache_ttl).collect()
}

/// Seeds an author and two books, and clears the log.
fn seeded() -> Recording {
    let store = Recording::default();
    block(async {
        Author::repo(&store).create(&ada()).await.unwrap();
        Book::repo(&store).create(&book("b1")).await.unwrap();
        Book::repo(&store).create(&book("b2")).await.unwrap();
    });
    store.take();
    store
}

#[test]
fn the_attribute_sets_the_models_cache_ttl() {
    assert_eq!(Author::CACHE_TTL, Some(300));
    assert_eq!(Book::CACHE_TTL, Some(120));
    assert_eq!(Plain::CACHE_TTL, None);
    let store = MemoryStore::new();
    assert_eq!(Author::repo(&store).cache_ttl(), Some(300));
    assert_eq!(Author::repo(&store).cached(45).cache_ttl(), Some(45));
    assert_eq!(Author::repo(&store).uncached().cache_ttl(), None);
    assert_eq!(Plain::repo(&store).cache_ttl(), None);
    assert_eq!(Plain::repo(&store).cached(60).cache_ttl(), Some(60));
}

#[test]
fn stale_accepting_reads_are_cached() {
    let store = seeded();
    let authors = Author::repo(&store);
    let books = Book::repo(&store);
    block(async {
        let checks: Vec<(&str, Vec<Op>, u64)> = vec![
            ("get", (authors.get("a1").await.unwrap().unwrap(), store.take()).1, 300),
            ("get_many", (authors.get_many(&["a1".into()]).await.unwrap(), store.take()).1, 300),
            ("exists", (assert!(authors.exists("a1").await.unwrap()), store.take()).1, 300),
            ("get_with_meta", (authors.get_with_meta("a1").await.unwrap().unwrap(), store.take()).1, 300),
            ("find_by_email", (authors.find_by_email("ada@example.com").await.unwrap().unwrap(), store.take()).1, 300),
            ("list", (assert_eq!(authors.list(Page::first(10)).await.unwrap().items.len(), 1), store.take()).1, 300),
            (
                "list_by_city",
                (
                    assert_eq!(authors.list_by_city("london", Page::first(10)).await.unwrap().items.len(), 1),
                    store.take(),
                )
                    .1,
                300,
            ),
            (
                "load_books (has_many)",
                (assert_eq!(authors.load_books(&[ada()]).await.unwrap()[0].len(), 2), store.take()).1,
                120,
            ),
            ("load_author (belongs_to)", (books.load_author(&book("b1")).await.unwrap().unwrap(), store.take()).1, 300),
            (
                "load_authors (belongs_to, batched)",
                (books.load_authors(&[book("b1"), book("b2")]).await.unwrap(), store.take()).1,
                300,
            ),
            ("list_by_author_id", (books.list_by_author_id("a1", Page::first(10)).await.unwrap(), store.take()).1, 120),
        ];
        for (call, ops, ttl) in checks {
            let reads = reads(&ops);
            assert!(!reads.is_empty(), "{call}: no read in {ops:?}");
            assert!(reads.iter().all(|r| *r == Some(ttl)), "{call}: every read cached for {ttl} s: {ops:?}");
        }
    });
}

#[test]
fn protocol_reads_are_never_cached() {
    let store = seeded();
    let authors = Author::repo(&store);
    let books = Book::repo(&store);
    block(async {
        let mut ops = Vec::new();
        let ada2 = Author { id: "a2".into(), email: "ada2@example.com".into(), city: "paris".into() };
        // The uniqueness pre-read, and the holder reads of a taken value.
        authors.create(&ada2).await.unwrap();
        let taken = Author { id: "a3".into(), ..ada() };
        assert!(matches!(authors.create(&taken).await, Err(Error::UniqueViolation { .. })));
        ops.extend(store.take());
        // Update's and delete's read of the current record.
        authors.update(&Author { city: "berlin".into(), ..ada2.clone() }).await.unwrap();
        authors.put(&Author { city: "rome".into(), ..ada2.clone() }).await.unwrap();
        books.update(&Book { title: "new".into(), ..book("b1") }).await.unwrap();
        authors.upsert_by_email(Author { id: "ignored".into(), ..ada2.clone() }).await.unwrap();
        authors.modify(&"a2".to_string(), |a| a.city = "oslo".into()).await.unwrap();
        authors.delete("a2").await.unwrap();
        books.delete("b2").await.unwrap();
        ops.extend(store.take());
        // verify and repair, with something to repair.
        store.inner.delete("book.author_id:a1:b1").await.unwrap();
        let report = books.verify().await.unwrap();
        assert!(!report.is_clean(), "{report:?}");
        books.repair().await.unwrap();
        authors.verify().await.unwrap();
        authors.repair().await.unwrap();
        ops.extend(store.take());
        let reads = reads(&ops);
        assert!(reads.len() >= 10, "the protocol reads: {ops:?}");
        assert!(reads.iter().all(Option::is_none), "a protocol read was cached: {ops:?}");
    });
}

#[test]
fn per_call_settings_override_the_models() {
    let store = seeded();
    let authors = Author::repo(&store);
    block(async {
        authors.cached(45).get("a1").await.unwrap();
        assert_eq!(reads(&store.take()), vec![Some(45)]);
        authors.uncached().get("a1").await.unwrap();
        assert_eq!(reads(&store.take()), vec![None]);
        // A relation loader of an uncached repository reads its children uncached too.
        authors.uncached().load_books(&[ada()]).await.unwrap();
        assert!(reads(&store.take()).iter().all(Option::is_none));
        // Without a per-call setting, the related model's own.
        authors.load_books(&[ada()]).await.unwrap();
        assert!(reads(&store.take()).iter().all(|r| *r == Some(120)));
        Plain::repo(&store).create(&Plain { id: "p1".into() }).await.unwrap();
        store.take();
        Plain::repo(&store).get("p1").await.unwrap().unwrap();
        assert_eq!(reads(&store.take()), vec![None]);
        Plain::repo(&store).cached(30).get("p1").await.unwrap().unwrap();
        assert_eq!(reads(&store.take()), vec![Some(30)]);
    });
}

#[test]
fn a_cache_ttl_under_30_s_is_refused_before_any_kv_operation() {
    let store = seeded();
    let authors = Author::repo(&store);
    block(async {
        let refused = |e: kvgen::Result<_>| matches!(e, Err(Error::InvalidCacheTtl { cache_ttl: 29, min: 30 }));
        assert!(refused(authors.cached(29).get("a1").await.map(|_| ())));
        assert!(refused(authors.cached(29).get_many(&["a1".into()]).await.map(|_| ())));
        assert!(refused(authors.cached(29).exists("a1").await.map(|_| ())));
        assert!(refused(authors.cached(29).find_by_email("ada@example.com").await.map(|_| ())));
        assert!(refused(authors.cached(29).list(Page::first(10)).await.map(|_| ())));
        assert!(refused(authors.cached(29).list_by_city("london", Page::first(10)).await.map(|_| ())));
        assert!(refused(authors.cached(29).load_books(&[ada()]).await.map(|_| ())));
        assert_eq!(store.take(), vec![], "no KV operation");
        // Writes take no cache ttl: the setting does not stop them.
        authors.cached(29).update(&Author { city: "paris".into(), ..ada() }).await.unwrap();
        assert!(reads(&store.take()).iter().all(Option::is_none));
        let err = authors.cached(0).get("a1").await.unwrap_err();
        assert_eq!(err.kind(), "InvalidCacheTtl");
        assert!(err.is_limit());
        assert_eq!(err.to_string(), "cacheTtl 0s is under the 30 s minimum of Workers KV");
    });
}

#[test]
fn memory_store_checks_the_range_as_kv_does() {
    let store = MemoryStore::new();
    block(async {
        store.put("k", b"v", &PutOptions::default()).await.unwrap();
        let e = store.get_cached("k", 29).await.unwrap_err();
        assert!(matches!(e, Error::InvalidCacheTtl { cache_ttl: 29, min: 30 }), "{e:?}");
        let e = store.get_many_cached(&["k".into()], 29).await.unwrap_err();
        assert!(matches!(e, Error::InvalidCacheTtl { cache_ttl: 29, min: 30 }), "{e:?}");
        assert_eq!(store.get_cached("k", 30).await.unwrap().unwrap().as_str(), Some("v"));
        let many = store.get_many_cached(&["k".into(), "missing".into()], u64::MAX).await.unwrap();
        assert_eq!(many.len(), 2);
        assert!(many[1].is_none());
        // Key checks come first, as on KV.
        assert!(matches!(store.get_cached("", 1).await, Err(Error::InvalidKey { .. })));
        assert_eq!(kvgen::limits::MIN_CACHE_TTL_SECS, 30);
    });
}

#[test]
fn every_wrapper_forwards_cached_reads() {
    let store = seeded();
    block(async {
        let metered = Metered::new(&store);
        Author::repo(&metered).get("a1").await.unwrap().unwrap();
        assert_eq!(metered.ops().reads, 1);
        let faulty = Faulty::new(&store);
        Author::repo(&faulty).get_many(&["a1".into()]).await.unwrap();
        assert_eq!(faulty.operations(), 1);
        let rounds = Rounds::new(&store);
        Author::repo(&rounds).get("a1").await.unwrap().unwrap();
        let shared = std::rc::Rc::new(MemoryStore::new());
        Plain::repo(&shared).cached(10).get("p").await.unwrap_err();
        assert_eq!(reads(&store.take()), vec![Some(300), Some(300), Some(300)]);
    });
}
