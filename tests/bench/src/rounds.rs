//! Round trips per call, and the wall time they cost when every KV
//! operation takes 50 ms: kvgen against a hand-written Worker that overlaps
//! its independent operations the way a careful developer would with
//! `Promise.all` (here `join_all`), six at a time as Workers allows an
//! invocation, and keeps the same protocol order (entries before the record,
//! the record before stale entries go).
//!
//! Both run on [`Rounds`]: every operation completes only when a round ends,
//! so a call's rounds are the round trips it waited for in a row.

use crate::{handwritten, post, smoke, user};
use blog::{Post, User};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use kvgen::{Entry, KvModel, KvStore, ListOptions, MemoryStore, Page, PutOptions, Result, RoundTrips, Rounds};
use pollster::block_on;
use serde::{Deserialize, Serialize};

/// The simulated latency of one KV operation.
const LATENCY_MS: u64 = 50;
/// Operations in flight at once: what Workers lets one invocation wait for.
const IN_FLIGHT: usize = 6;

/// A model with no index, for the batch rows.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
pub struct Setting {
    #[kv(id)]
    pub name: String,
    pub value: String,
}

fn setting(i: usize) -> Setting {
    Setting { name: format!("s{i:04}"), value: format!("v{i}") }
}

/// Bulk reads of `keys`, 100 keys each, six at a time, in order.
async fn read_all<S: KvStore>(s: &S, keys: &[String]) -> Result<Vec<Option<Entry>>> {
    let chunks: Vec<Vec<Option<Entry>>> =
        stream::iter(keys.chunks(100)).map(|c| s.get_many(c)).buffered(IN_FLIGHT).try_collect().await?;
    Ok(chunks.into_iter().flatten().collect())
}

/// The id an entry holds.
fn text(e: &Entry) -> &str {
    handwritten::text(&e.value)
}

fn meta_name(u: &User) -> PutOptions {
    PutOptions { metadata: handwritten::meta_name(u), ..Default::default() }
}

/// Creates a user: the record and both unique entries in one bulk read, the
/// three entries together, then the record. An entry held by another id
/// refuses the create without reading its holder (`handwritten::create_user`
/// reads it; the bench creates no conflict, so the rounds are the same).
async fn create_user<S: KvStore>(s: &S, u: &User) -> Result<bool> {
    let rec = format!("user:{}", u.id);
    let email = format!("user.email:{}", u.email);
    let handle = format!("user.org_id_handle:{}:{}", u.org_id, u.handle);
    let got = s.get_many(&[rec.clone(), email.clone(), handle.clone()]).await?;
    if got[0].is_some() || got[1..].iter().flatten().any(|e| text(e) != u.id) {
        return Ok(false);
    }
    let none = PutOptions::default();
    let org = format!("user.org_id:{}:{}", u.org_id, u.id);
    let meta = meta_name(u);
    futures_util::future::try_join3(
        s.put(&email, u.id.as_bytes(), &none),
        s.put(&handle, u.id.as_bytes(), &none),
        s.put(&org, b"", &meta),
    )
    .await?;
    s.put(&rec, serde_json::to_string(u).unwrap().as_bytes(), &meta_name(u)).await?;
    Ok(true)
}

/// Moves a user's email: one bulk read, the new entry together with the read
/// of the old one, the record, then the old entry's delete if it still
/// points here.
async fn move_email<S: KvStore>(s: &S, u: &User) -> Result<bool> {
    let rec = format!("user:{}", u.id);
    let email = format!("user.email:{}", u.email);
    let got = s.get_many(&[rec.clone(), email.clone()]).await?;
    let Some(old) = &got[0] else { return Ok(false) };
    let old: User = serde_json::from_slice(&old.value).unwrap();
    if got[1].as_ref().is_some_and(|e| text(e) != u.id) {
        return Ok(false);
    }
    let stale = format!("user.email:{}", old.email);
    let (put, held) =
        futures_util::future::join(s.put(&email, u.id.as_bytes(), &PutOptions::default()), s.get(&stale)).await;
    put?;
    s.put(&rec, serde_json::to_string(u).unwrap().as_bytes(), &meta_name(u)).await?;
    if held?.is_some_and(|e| text(&e) == u.id) {
        s.delete(&stale).await?;
    }
    Ok(true)
}

/// Deletes a user: the record, its unique entries (to delete only those that
/// point here), the record's delete, then its entries together.
async fn delete_user<S: KvStore>(s: &S, id: &str) -> Result<bool> {
    let Some(rec) = s.get(&format!("user:{id}")).await? else { return Ok(false) };
    let u: User = serde_json::from_slice(&rec.value).unwrap();
    let uniques = [format!("user.email:{}", u.email), format!("user.org_id_handle:{}:{}", u.org_id, u.handle)];
    let held = s.get_many(&uniques).await?;
    s.delete(&format!("user:{id}")).await?;
    let mut entries: Vec<String> = uniques
        .iter()
        .zip(&held)
        .filter(|(_, h)| h.as_ref().is_some_and(|e| text(e) == id))
        .map(|(k, _)| k.clone())
        .collect();
    entries.push(format!("user.org_id:{}:{}", u.org_id, u.id));
    futures_util::future::try_join_all(entries.iter().map(|k| s.delete(k))).await?;
    Ok(true)
}

/// A user's posts: one listing of the index, then the records.
async fn posts_of<S: KvStore>(s: &S, author: &str) -> Result<Vec<Post>> {
    let prefix = format!("post.author_id:{author}:");
    let page = s.list(&ListOptions { prefix: prefix.clone(), cursor: None, limit: 1000 }).await?;
    let keys: Vec<String> = page.keys.iter().map(|k| format!("post:{}", &k.name[prefix.len()..])).collect();
    let got = read_all(s, &keys).await?;
    Ok(got.into_iter().flatten().map(|e| serde_json::from_slice::<Post>(&e.value).unwrap()).collect())
}

/// Every record put, six at a time (a hand-written batch keeps no expiry, so
/// it reads nothing first).
async fn put_settings<S: KvStore>(s: &S, all: &[Setting]) -> Result<()> {
    let none = PutOptions::default();
    let puts = all.iter().map(|x| (format!("setting:{}", x.name), serde_json::to_vec(x).unwrap()));
    stream::iter(puts)
        .map(|(k, v)| {
            let none = &none;
            async move { s.put(&k, &v, none).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// Every record deleted, six at a time.
async fn delete_settings<S: KvStore>(s: &S, ids: &[String]) -> Result<()> {
    let keys: Vec<String> = ids.iter().map(|id| format!("setting:{id}")).collect();
    stream::iter(&keys).map(|k| s.delete(k)).buffer_unordered(IN_FLIGHT).try_collect::<Vec<()>>().await?;
    Ok(())
}

/// Runs `call` on `s` from a clean record and returns what it waited for.
fn trips<T>(s: &Rounds<MemoryStore>, call: impl std::future::Future<Output = T>) -> (T, RoundTrips) {
    s.reset();
    let out = s.run(call);
    let t = s.trips();
    assert!(t.most_in_flight <= IN_FLIGHT, "{t:?}");
    (out, t)
}

/// Two stores with the same data: one for kvgen, one for the hand-written code.
fn stores(fill: impl Fn(&MemoryStore)) -> (Rounds<MemoryStore>, Rounds<MemoryStore>) {
    let (kv, hw) = (MemoryStore::new(), MemoryStore::new());
    fill(&kv);
    fill(&hw);
    (Rounds::new(kv), Rounds::new(hw))
}

/// `n` with a comma every three digits, as the tables write numbers.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn seconds(ms: u64) -> String {
    if ms >= 1000 {
        format!("{:.2} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

pub fn section() {
    println!("## Round trips per call, and wall time at {LATENCY_MS} ms per KV operation\n");
    let n = if smoke() { 200 } else { 1000 };
    let mut rows: Vec<(String, RoundTrips, RoundTrips)> = Vec::new();
    let mut row = |name: String, kv: RoundTrips, hw: RoundTrips| rows.push((name, kv, hw));

    let users = |store: &MemoryStore| {
        for u in (0..n).map(|i| user(i, n)).collect::<Vec<_>>().chunks(100) {
            for r in block_on(User::repo(store).create_many(u)).unwrap() {
                r.unwrap();
            }
        }
    };
    let (kv, hw) = stores(users);
    let fresh = user(n + 1, n);
    let ((), a) = trips(&kv, async { User::repo(&kv).create(&fresh).await.unwrap() });
    let (made, b) = trips(&hw, create_user(&hw, &fresh));
    assert!(made.unwrap());
    row("create a user (2 unique, 1 index)".into(), a, b);

    let mut moved = fresh.clone();
    moved.email = "moved@example.com".into();
    let ((), a) = trips(&kv, async { User::repo(&kv).update(&moved).await.unwrap() });
    let (done, b) = trips(&hw, move_email(&hw, &moved));
    assert!(done.unwrap());
    assert_eq!(block_on(User::repo(kv.inner()).find_by_email("moved@example.com")).unwrap(), Some(moved.clone()));
    row("update its unique email".into(), a, b);

    let (gone, a) = trips(&kv, async { User::repo(&kv).delete(&moved.id).await.unwrap() });
    let (gone_hw, b) = trips(&hw, delete_user(&hw, &moved.id));
    assert!(gone && gone_hw.unwrap());
    assert_eq!(kv.inner().keys(), hw.inner().keys(), "both deletes leave the same keys");
    row("delete it".into(), a, b);

    // The authors of n posts, each by another user.
    let posts: Vec<Post> = (0..n).map(|i| Post { author_id: user(i, n).id, ..post(i as u64, n) }).collect();
    let (authors, a) = trips(&kv, async { Post::repo(&kv).load_authors(&posts).await.unwrap() });
    let ids: Vec<String> = posts.iter().map(|p| format!("user:{}", p.author_id)).collect();
    let (got, b) = trips(&hw, read_all(&hw, &ids));
    assert_eq!(authors.iter().flatten().count(), got.unwrap().iter().flatten().count());
    row(format!("belongs-to: the authors of {} posts", thousands(n)), a, b);

    // One user's n posts.
    let one_author = |store: &MemoryStore| {
        let posts: Vec<Post> = (0..n as u64).map(|id| Post { author_id: "u00000".into(), ..post(id, n) }).collect();
        for chunk in posts.chunks(100) {
            for r in block_on(Post::repo(store).create_many(chunk)).unwrap() {
                r.unwrap();
            }
        }
    };
    let (kv, hw) = stores(one_author);
    let author = user(0, n);
    let (page, a) = trips(&kv, async { User::repo(&kv).list_posts(&author, Page::first(1000)).await.unwrap() });
    let (got, b) = trips(&hw, posts_of(&hw, &author.id));
    assert_eq!(page.items, got.unwrap());
    row(format!("has-many: {} posts of one user", thousands(n)), a, b);

    let settings: Vec<Setting> = (0..n).map(setting).collect();
    let (kv, hw) = stores(|store| {
        for chunk in settings.chunks(100) {
            block_on(Setting::repo(store).put_many(chunk)).unwrap();
        }
    });
    let names: Vec<String> = settings.iter().map(|s| s.name.clone()).collect();
    let (got, a) = trips(&kv, async { Setting::repo(&kv).get_many(&names).await.unwrap() });
    let keys: Vec<String> = names.iter().map(|id| format!("setting:{id}")).collect();
    let (got_hw, b) = trips(&hw, read_all(&hw, &keys));
    assert_eq!(got.iter().flatten().count(), got_hw.unwrap().iter().flatten().count());
    row(format!("get_many of {} ids", thousands(n)), a, b);

    let (kv, hw) = stores(|_| ());
    let hundred = &settings[..100];
    let (out, a) = trips(&kv, async { Setting::repo(&kv).put_many(hundred).await.unwrap() });
    assert!(out.iter().all(Result::is_ok));
    let (done, b) = trips(&hw, put_settings(&hw, hundred));
    done.unwrap();
    row("put_many of 100 records of a model with no index".into(), a, b);

    let (out, a) = trips(&kv, async { Setting::repo(&kv).delete_many(&names[..100]).await.unwrap() });
    assert!(out.into_iter().all(|r| r.unwrap()));
    let (done, b) = trips(&hw, delete_settings(&hw, &names[..100]));
    done.unwrap();
    assert!(kv.inner().keys().is_empty() && hw.inner().keys().is_empty());
    row("delete_many of 100 such records".into(), a, b);

    println!(
        "| call | KV operations | kvgen: round trips in a row | most in flight | hand-written, overlapped | \
         kvgen's wall time | hand-written's | awaited one by one |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, a, b) in &rows {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            a.ops,
            a.rounds,
            a.most_in_flight,
            b.rounds,
            seconds(a.rounds * LATENCY_MS),
            seconds(b.rounds * LATENCY_MS),
            seconds(a.ops * LATENCY_MS)
        );
    }
    println!();
}
