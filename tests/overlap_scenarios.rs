//! Scenarios of overlapped operations at the size a Worker meets them: a
//! `put_many` of 1,000 records, a `get_many` of 1,000 ids and a has-many of
//! 1,000 children, each run with the store's six in flight and again one
//! at a time, which must answer the same. The data is written over several
//! scenarios (one Worker invocation each, under its 1,000 operations) into
//! one scope of the run that they share, so they run in the order of
//! `scenarios::NAMES`.

use blog::{Post, PostStatus, User};
use kvgen::{Coordinate, Entry, KvModel, KvStore, ListOptions, ListResult, Page, PutOptions, Result};
use serde::{Deserialize, Serialize};

/// A model with no index and a model ttl: its `put_many` reads nothing, so
/// 1,000 of them are exactly 1,000 writes.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "tick", ttl = 3600)]
pub struct Tick {
    #[kv(id)]
    id: String,
    n: u32,
}

/// How many records each scenario writes or reads.
const N: usize = 1000;
/// The posts the has-many reads, written 250 per scenario.
const POSTS_PER_STEP: u64 = 250;
const AUTHOR: &str = "overlap-author";

/// A store that lets a call have one operation in flight: every call awaits
/// its operations one after the other, as before calls overlapped them.
struct OneAtATime<'a, S>(&'a S);

impl<S: KvStore> KvStore for OneAtATime<'_, S> {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        self.0.get(key).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        self.0.get_many(keys).await
    }
    async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
        self.0.get_cached(key, cache_ttl).await
    }
    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
        self.0.get_many_cached(keys, cache_ttl).await
    }
    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
        self.0.put(key, value, options).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.0.delete(key).await
    }
    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        self.0.list(options).await
    }
    fn now(&self) -> u64 {
        self.0.now()
    }
    fn coordinator(&self) -> Option<&dyn Coordinate> {
        self.0.coordinator()
    }
    fn max_in_flight(&self) -> usize {
        1
    }
    async fn pause(&self, ms: u64) {
        self.0.pause(ms).await
    }
}

fn tick(i: usize) -> Tick {
    Tick { id: format!("t{i:04}"), n: i as u32 }
}

fn ids() -> Vec<String> {
    (0..N).map(|i| tick(i).id).collect()
}

/// `put_many` of 1,000 records together (1,000 writes, six in flight).
pub async fn put_many<S: KvStore>(s: &S, scope: &str) -> crate::scenarios::Outcome {
    let ticks: Vec<Tick> = (0..N).map(tick).collect();
    let outcomes = ok!(ok!(Tick::repo_scoped(s, scope)).put_many(&ticks).await);
    check!(outcomes.iter().all(Result::is_ok), "every put of 1,000: {:?}", outcomes.iter().find(|o| o.is_err()));
    Ok(())
}

/// 250 more posts of one author (step `step` of 4).
pub async fn posts<S: KvStore>(s: &S, scope: &str, step: u64) -> crate::scenarios::Outcome {
    let posts: Vec<Post> = (step * POSTS_PER_STEP..(step + 1) * POSTS_PER_STEP)
        .map(|id| Post {
            id,
            author_id: AUTHOR.into(),
            status: PostStatus::Published,
            title: format!("p{id}"),
            body: "b".into(),
        })
        .collect();
    let outcomes = ok!(ok!(Post::repo_scoped(s, scope)).create_many(&posts).await);
    check!(outcomes.iter().all(Result::is_ok), "every post: {:?}", outcomes.iter().find(|o| o.is_err()));
    Ok(())
}

/// `get_many` of the 1,000 records and the author's 1,000 posts, together
/// and one at a time: the same answers, and what was written.
pub async fn reads<S: KvStore>(s: &S, scope: &str) -> crate::scenarios::Outcome {
    let seq = OneAtATime(s);
    let ids = ids();
    let together = ok!(ok!(Tick::repo_scoped(s, scope)).get_many(&ids).await);
    let one_by_one = ok!(ok!(Tick::repo_scoped(&seq, scope)).get_many(&ids).await);
    check!(together == one_by_one, "get_many of 1,000: together and one at a time differ");
    check!(
        together == (0..N).map(|i| Some(tick(i))).collect::<Vec<_>>(),
        "get_many of 1,000 reads what put_many wrote"
    );
    let author = User {
        id: AUTHOR.into(),
        email: "overlap@example.com".into(),
        org_id: "o".into(),
        handle: "overlap".into(),
        name: "Overlap".into(),
    };
    let together = ok!(ok!(User::repo_scoped(s, scope)).list_posts(&author, Page::first(1000)).await);
    let one_by_one = ok!(ok!(User::repo_scoped(&seq, scope)).list_posts(&author, Page::first(1000)).await);
    check!(together == one_by_one, "has-many of 1,000: together and one at a time differ");
    let got: Vec<u64> = together.items.iter().map(|p| p.id).collect();
    check!(got == (0..4 * POSTS_PER_STEP).collect::<Vec<_>>(), "has-many of 1,000: {} posts", got.len());
    check!(together.cursor.is_none(), "has-many of 1,000 is one page");
    Ok(())
}

/// Two belongs-to loaders of one request, joined, through `Coalesced`:
/// their overlapping ids (60 and 60, 100 distinct) cost one bulk read, and
/// they answer what they answer alone.
pub async fn loaders<S: KvStore>(s: &S, scope: &str) -> crate::scenarios::Outcome {
    let users: Vec<User> = (0..100).map(|n| crate::scenarios::user(n, "loaders")).collect();
    let outcomes = ok!(ok!(User::repo_scoped(s, scope)).create_many(&users).await);
    check!(outcomes.iter().all(Result::is_ok), "every user: {:?}", outcomes.iter().find(|o| o.is_err()));
    let post = |id: u64, author: &User| Post {
        id,
        author_id: author.id.clone(),
        status: PostStatus::Published,
        title: format!("p{id}"),
        body: "b".into(),
    };
    let first: Vec<Post> = users[..60].iter().enumerate().map(|(i, u)| post(i as u64, u)).collect();
    let second: Vec<Post> = users[40..].iter().enumerate().map(|(i, u)| post(100 + i as u64, u)).collect();
    let alone = (
        ok!(ok!(Post::repo_scoped(s, scope)).load_authors(&first).await),
        ok!(ok!(Post::repo_scoped(s, scope)).load_authors(&second).await),
    );
    let c = kvgen::Coalesced::new(kvgen::Metered::new(s));
    let posts = ok!(Post::repo_scoped(&c, scope));
    let (a, b) = futures_util::future::join(posts.load_authors(&first), posts.load_authors(&second)).await;
    check!((ok!(a), ok!(b)) == alone, "joined loaders answer what they answer alone");
    let ops = c.inner().ops();
    check!((ops.bulk_reads, ops.bulk_keys) == (1, 100), "100 distinct ids, one bulk read: {ops:?}");
    Ok(())
}
