//! Behaviour scenarios, written once and generic over the store: the native
//! test suite runs them on MemoryStore, the Worker example runs them on
//! Workers KV in local workerd. Each runs under a scope of its own, so they
//! share a namespace without seeing each other.

use crate::overlap_scenarios as overlap;
use crate::pattern_scenarios as patterns;
use blog::{Activity, Comment, Post, PostStatus, Profile, Session, User};
use kvgen::{Error, KvStore, ListOptions, Page, PutOptions, Repo, WriteOptions};

/// What a scenario is told about its surroundings.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// A scope no earlier run used (scenarios add their own name to it).
    pub run: String,
    /// The store's current time, seconds since the epoch.
    pub now: u64,
}

impl Ctx {
    fn scope(&self, name: &str) -> String {
        format!("{}-{name}", self.run)
    }
}

/// A scenario's verdict: `Err` says what did not hold.
pub type Outcome = Result<(), String>;

/// Every scenario's name, in the order they run.
pub const NAMES: &[&str] = &[
    "crud",
    "unique_violations",
    "stale_entry_healing",
    "secondary_index_paging",
    "bulk_reads",
    "relations",
    "ttl_and_metadata",
    "ttl_of_every_write",
    "limit_errors",
    "record_listing",
    "scope_isolation",
    "verify_and_repair",
    "raw_kv_edges",
    "cursor_binding",
    "strict_claims",
    "batches_and_generated_ids",
    "ordered_and_range_listing",
    "pattern_sessions",
    "pattern_swr_cache",
    "pattern_flags",
    "pattern_config",
    "pattern_cache_warming",
    "pattern_event_log",
    "existing_stage_layout",
    "raw_values",
    "free_metadata",
    "overlap_put_many",
    "overlap_posts_1",
    "overlap_posts_2",
    "overlap_posts_3",
    "overlap_posts_4",
    "overlap_reads",
    "overlap_loaders",
    "cache_ttl_read",
];

/// Runs the scenario called `name`.
pub async fn run<S: KvStore>(name: &str, store: &S, ctx: &Ctx) -> Outcome {
    let scope = ctx.scope(name);
    let scope = scope.as_str();
    match name {
        "crud" => crud(store, scope).await,
        "unique_violations" => unique_violations(store, scope).await,
        "stale_entry_healing" => stale_entry_healing(store, scope).await,
        "secondary_index_paging" => secondary_index_paging(store, scope).await,
        "bulk_reads" => bulk_reads(store, scope).await,
        "relations" => relations(store, scope).await,
        "ttl_and_metadata" => ttl_and_metadata(store, scope, ctx.now).await,
        "ttl_of_every_write" => ttl_of_every_write(store, scope).await,
        "limit_errors" => limit_errors(store, scope).await,
        "record_listing" => record_listing(store, scope).await,
        "scope_isolation" => scope_isolation(store, scope).await,
        "verify_and_repair" => verify_and_repair(store, scope).await,
        "raw_kv_edges" => raw_kv_edges(store, scope, ctx.now).await,
        "cursor_binding" => cursor_binding(store, scope).await,
        "strict_claims" => strict_claims(store, scope).await,
        "pattern_sessions" => patterns::sessions(store, scope).await,
        "pattern_swr_cache" => patterns::swr_cache(store, scope).await,
        "pattern_flags" => patterns::flags(store, scope).await,
        "pattern_config" => patterns::config(store, scope).await,
        "pattern_cache_warming" => patterns::cache_warming(store, scope).await,
        "pattern_event_log" => patterns::event_log(store, scope).await,
        "existing_stage_layout" => patterns::existing_stage_layout(store, scope).await,
        "batches_and_generated_ids" => batches_and_generated_ids(store, scope).await,
        "ordered_and_range_listing" => ordered_and_range_listing(store, scope).await,
        "raw_values" => raw_values(store, scope).await,
        "free_metadata" => free_metadata(store, scope).await,
        // One scope for the overlap scenarios, which build on each other.
        "overlap_put_many" => overlap::put_many(store, &ctx.scope("overlap")).await,
        "overlap_posts_1" => overlap::posts(store, &ctx.scope("overlap"), 0).await,
        "overlap_posts_2" => overlap::posts(store, &ctx.scope("overlap"), 1).await,
        "overlap_posts_3" => overlap::posts(store, &ctx.scope("overlap"), 2).await,
        "overlap_posts_4" => overlap::posts(store, &ctx.scope("overlap"), 3).await,
        "overlap_reads" => overlap::reads(store, &ctx.scope("overlap")).await,
        "overlap_loaders" => overlap::loaders(store, scope).await,
        "cache_ttl_read" => cache_ttl_read(store, scope).await,
        other => Err(format!("no scenario called `{other}`")),
    }
}

/// A user whose fields derive from `n`.
pub fn user(n: usize, org: &str) -> User {
    User {
        id: format!("u{n:05}"),
        email: format!("user{n}@example.com"),
        org_id: org.into(),
        handle: format!("h{n}"),
        name: format!("User {n}"),
    }
}

fn post(id: u64, author: &str, status: PostStatus) -> Post {
    Post { id, author_id: author.into(), status, title: format!("Post {id}"), body: "text".into() }
}

async fn crud<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    let mut ada = user(1, "acme");
    ok!(users.create(&ada).await);
    check!(ok!(users.get(&ada.id).await) == Some(ada.clone()), "get after create");
    check!(ok!(users.exists(&ada.id).await), "exists after create");
    let again = users.create(&ada).await;
    check!(matches!(again, Err(Error::AlreadyExists { .. })), "create twice: {again:?}");
    ada.name = "Ada L.".into();
    ok!(users.update(&ada).await);
    check!(ok!(users.get(&ada.id).await).map(|u| u.name) == Some("Ada L.".into()), "get after update");
    let missing = users.update(&user(2, "acme")).await;
    check!(matches!(missing, Err(Error::NotFound { .. })), "update of a missing record: {missing:?}");
    ok!(users.put(&user(2, "acme")).await);
    check!(ok!(users.exists(&user(2, "acme").id).await), "put creates");
    let got = ok!(users.get_many(&[user(2, "acme").id, "nobody".into(), ada.id.clone()]).await);
    check!(
        got.iter().map(|u| u.as_ref().map(|u| u.id.clone())).collect::<Vec<_>>()
            == vec![Some("u00002".into()), None, Some("u00001".into())],
        "get_many keeps order and gaps: {got:?}"
    );
    check!(ok!(users.delete(&ada.id).await), "delete finds the record");
    check!(!ok!(users.delete(&ada.id).await), "second delete finds nothing");
    check!(ok!(users.get(&ada.id).await).is_none(), "get after delete");
    check!(ok!(users.find_by_email(&ada.email).await).is_none(), "unique entry gone after delete");
    check!(ok!(users.list_by_org_id("acme", Page::first(10)).await).items.len() == 1, "secondary entry gone");
    Ok(())
}

async fn unique_violations<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    ok!(users.create(&user(1, "acme")).await);
    let mut dup_email = user(2, "acme");
    dup_email.email = user(1, "acme").email;
    let err = users.create(&dup_email).await;
    check!(matches!(&err, Err(Error::UniqueViolation { index: "email", .. })), "single unique: {err:?}");
    let mut dup_handle = user(3, "acme");
    dup_handle.handle = user(1, "acme").handle;
    let err = users.create(&dup_handle).await;
    check!(matches!(&err, Err(Error::UniqueViolation { index: "org_id_handle", .. })), "compound unique: {err:?}");
    dup_handle.org_id = "other".into();
    ok!(users.create(&dup_handle).await);
    check!(ok!(users.find_by_org_id_and_handle("other", "h1").await).is_some(), "same handle, other org");
    check!(ok!(users.get("u00002").await).is_none(), "refused create wrote no record");
    Ok(())
}

async fn stale_entry_healing<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    // An entry whose record was never written (a crash between the two writes).
    let stale_key = format!("{scope}/user.email:ghost@example.com");
    ok!(s.put(&stale_key, b"ghost", &PutOptions::default()).await);
    check!(ok!(users.find_by_email("ghost@example.com").await).is_none(), "stale entry finds nothing");
    let mut u = user(1, "acme");
    u.email = "ghost@example.com".into();
    ok!(users.create(&u).await);
    check!(
        ok!(users.find_by_email("ghost@example.com").await).map(|f| f.id) == Some(u.id.clone()),
        "create healed the stale entry"
    );
    // An entry left behind by an update whose cleanup did not run.
    let mut moved = u.clone();
    moved.email = "moved@example.com".into();
    ok!(users.update(&moved).await);
    ok!(s.put(&stale_key, u.id.as_bytes(), &PutOptions::default()).await);
    check!(ok!(users.find_by_email("ghost@example.com").await).is_none(), "moved-on record is not returned");
    let mut other = user(2, "acme");
    other.email = "ghost@example.com".into();
    ok!(users.create(&other).await);
    check!(ok!(users.find_by_email("ghost@example.com").await).map(|f| f.id) == Some(other.id), "second heal");
    Ok(())
}

async fn secondary_index_paging<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let posts = ok!(Post::repo_scoped(s, scope));
    const N: u64 = 1100;
    for id in 0..N {
        ok!(posts.create(&post(id, "prolific", PostStatus::Published)).await);
    }
    ok!(posts.create(&post(N, "someone-else", PostStatus::Published)).await);
    let mut seen = Vec::new();
    let mut page = Some(Page::first(1000));
    let mut pages = 0;
    while let Some(p) = page {
        let got = ok!(posts.list_by_author_id("prolific", p).await);
        pages += 1;
        seen.extend(got.items.iter().map(|p| p.id));
        page = got.next(1000);
    }
    check!(seen.len() as u64 == N, "saw {} of {N} posts", seen.len());
    check!(seen.windows(2).all(|w| w[0] < w[1]), "ids come in numeric order");
    check!(pages >= 2, "more than one page ({pages})");
    let meta = ok!(posts.list_by_author_id_meta("prolific", Page::first(1000)).await);
    check!(meta.items.len() == 1000, "a full page of projections ({})", meta.items.len());
    check!(meta.items[0].meta.as_ref().map(|m| m.title.as_str()) == Some("Post 0"), "projection carries the title");
    Ok(())
}

async fn bulk_reads<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    for n in 0..150 {
        ok!(users.create(&user(n, "acme")).await);
    }
    let ids: Vec<String> = (0..160).map(|n| user(n, "acme").id).collect();
    let got = ok!(users.get_many(&ids).await);
    check!(got.len() == 160, "one answer per id");
    check!(got[..150].iter().all(Option::is_some), "the 150 that exist are found");
    check!(got[150..].iter().all(Option::is_none), "the 10 that do not are None");
    // Raw bulk reads with missing keys among present ones.
    let keys: Vec<String> =
        vec![format!("{scope}/user:u00001"), format!("{scope}/nope"), format!("{scope}/user:u00002")];
    let raw = ok!(s.get_many(&keys).await);
    check!(raw[0].is_some() && raw[1].is_none() && raw[2].is_some(), "raw bulk read with a gap: {raw:?}");
    // A key asked for twice is answered at both places.
    let twice = ok!(s.get_many(&[keys[0].clone(), keys[0].clone()]).await);
    check!(twice[0].is_some() && twice[0] == twice[1], "raw bulk read of one key twice: {twice:?}");
    Ok(())
}

async fn relations<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    let posts = ok!(Post::repo_scoped(s, scope));
    let comments = ok!(Comment::repo_scoped(s, scope));
    let profiles = ok!(Profile::repo_scoped(s, scope));
    let (a, b) = (user(1, "acme"), user(2, "acme"));
    ok!(users.create(&a).await);
    ok!(users.create(&b).await);
    ok!(profiles.create(&Profile { id: "p1".into(), user_id: a.id.clone(), bio: "hi".into() }).await);
    for id in 0..5 {
        let author = if id < 3 { &a.id } else { &b.id };
        ok!(posts.create(&post(id, author, PostStatus::Published)).await);
    }
    for (i, p) in [0u64, 0, 4].iter().enumerate() {
        let c = Comment { id: format!("c{i}"), post_id: *p, author_id: b.id.clone(), body: "!".into() };
        ok!(comments.create(&c).await);
    }
    let page = ok!(users.list_posts(&a, Page::first(10)).await);
    check!(page.items.iter().map(|p| p.id).collect::<Vec<_>>() == vec![0, 1, 2], "has_many page: {:?}", page.items);
    let groups = ok!(users.load_posts(&[a.clone(), b.clone()]).await);
    check!(groups.iter().map(Vec::len).collect::<Vec<_>>() == vec![3, 2], "has_many batched");
    let all = ok!(posts.list(Page::first(10)).await).items;
    let authors = ok!(posts.load_authors(&all).await);
    check!(
        all.iter().zip(&authors).all(|(p, u)| u.as_ref().map(|u| &u.id) == Some(&p.author_id)),
        "belongs_to batched"
    );
    check!(ok!(posts.load_author(&all[4]).await).map(|u| u.id) == Some(b.id.clone()), "belongs_to one");
    let per_post = ok!(posts.load_comments(&all).await);
    check!(per_post.iter().map(Vec::len).collect::<Vec<_>>() == vec![2, 0, 0, 0, 1], "comments per post");
    check!(ok!(users.load_profile(&a).await).map(|p| p.id) == Some("p1".into()), "has_one");
    let ones = ok!(users.load_profiles(&[a.clone(), b.clone()]).await);
    check!(ones[0].is_some() && ones[1].is_none(), "has_one batched: {ones:?}");
    let c0 = ok!(comments.get("c0").await).ok_or("c0 missing")?;
    check!(ok!(comments.load_post(&c0).await).map(|p| p.id) == Some(0), "comment's post");
    Ok(())
}

async fn ttl_and_metadata<S: KvStore>(s: &S, scope: &str, now: u64) -> Outcome {
    let sessions = ok!(Session::repo_scoped(s, scope));
    ok!(sessions.create(&Session { token: "default".into(), user_id: "u1".into() }).await);
    ok!(sessions.create_with(&Session { token: "short".into(), user_id: "u1".into() }, WriteOptions::ttl(120)).await);
    let at = now + 7200;
    ok!(sessions
        .create_with(&Session { token: "abs".into(), user_id: "u1".into() }, WriteOptions::expire_at(at))
        .await);
    let listed = ok!(sessions.list_meta(Page::first(10)).await).items;
    let exp = |id: &str| listed.iter().find(|l| l.id == id).and_then(|l| l.expiration);
    let near = |got: Option<u64>, want: u64| got.is_some_and(|g| g.abs_diff(want) <= 30);
    check!(near(exp("default"), now + 3600), "model ttl 3600: {:?}", exp("default"));
    check!(near(exp("short"), now + 120), "per-call ttl 120: {:?}", exp("short"));
    check!(exp("abs") == Some(at), "absolute expiration: {:?}", exp("abs"));
    // Index entries expire with their record.
    let entries =
        ok!(s.list(&ListOptions { prefix: format!("{scope}/session.user_id:u1:"), cursor: None, limit: 10 }).await);
    check!(entries.keys.len() == 3 && entries.keys.iter().all(|k| k.expiration.is_some()), "entries expire too");
    // Typed metadata round trip.
    let users = ok!(User::repo_scoped(s, scope));
    let u = user(1, "acme");
    ok!(users.create(&u).await);
    let (_, meta) = ok!(users.get_with_meta(&u.id).await).ok_or("user missing")?;
    check!(meta.map(|m| m.name) == Some(u.name.clone()), "record metadata");
    let listed = ok!(users.list_meta(Page::first(10)).await).items;
    check!(listed.len() == 1 && listed[0].meta.as_ref().map(|m| &m.name) == Some(&u.name), "listed metadata");
    Ok(())
}

/// The expirations of every key under `{scope}/{model}` (the record and its
/// index entries), as a listing reports them.
async fn expirations<S: KvStore>(s: &S, scope: &str, model: &str) -> Result<Vec<(String, Option<u64>)>, String> {
    let mut out = Vec::new();
    for prefix in [format!("{scope}/{model}:"), format!("{scope}/{model}.")] {
        let page = ok!(s.list(&ListOptions { prefix, cursor: None, limit: 1000 }).await);
        out.extend(page.keys.into_iter().map(|k| (k.name, k.expiration)));
    }
    Ok(out)
}

/// Every key of the record and its entries expires at `want`.
fn all_expire_at(keys: &[(String, Option<u64>)], want: Option<u64>) -> bool {
    !keys.is_empty() && keys.iter().all(|(_, e)| *e == want)
}

/// What each write call does to a record's expiry, and that its index
/// entries always expire exactly with it (on Workers KV too, where reads
/// return no expiration: the write reads it from the record's metadata).
async fn ttl_of_every_write<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    let mut u = user(7, "acme");
    ok!(users.create_with(&u, WriteOptions::ttl(3600)).await);
    let keys = ok!(expirations(s, scope, "user").await);
    let at = keys.first().and_then(|(_, e)| *e);
    check!(at.is_some() && keys.len() == 4 && all_expire_at(&keys, at), "create_with ttl: {keys:?}");
    check!(ok!(users.expiration(&u.id).await) == Some(at), "expiration() reads the record's");
    // update and put without options keep the stored expiry, entries included.
    u.name = "renamed".into();
    ok!(users.update(&u).await);
    let keys = ok!(expirations(s, scope, "user").await);
    check!(all_expire_at(&keys, at), "update keeps the expiry: {keys:?} (want {at:?})");
    u.email = "moved@example.com".into();
    ok!(users.put(&u).await);
    let keys = ok!(expirations(s, scope, "user").await);
    check!(keys.len() == 4 && all_expire_at(&keys, at), "put moving the email keeps it: {keys:?}");
    // A ttl sets a new one, a permanent write removes it; entries follow.
    ok!(users.update_with(&u, WriteOptions::ttl(7200)).await);
    let keys = ok!(expirations(s, scope, "user").await);
    let later = keys.first().and_then(|(_, e)| *e);
    check!(later > at && all_expire_at(&keys, later), "update_with ttl: {keys:?}");
    ok!(users.update_with(&u, WriteOptions::permanent()).await);
    let keys = ok!(expirations(s, scope, "user").await);
    check!(all_expire_at(&keys, None), "update_with permanent: {keys:?}");
    ok!(users.update(&u).await);
    check!(all_expire_at(&ok!(expirations(s, scope, "user").await), None), "a permanent record stays so");
    // Shrinking an expiry works the same way.
    ok!(users.update_with(&u, WriteOptions::ttl(600)).await);
    let keys = ok!(expirations(s, scope, "user").await);
    let soon = keys.first().and_then(|(_, e)| *e);
    check!(soon.is_some() && all_expire_at(&keys, soon), "permanent -> ttl 600: {keys:?}");
    // The shortest ttl KV accepts.
    ok!(users.update_with(&u, WriteOptions::ttl(60)).await);
    // A model with a default ttl renews it on every write.
    let sessions = ok!(Session::repo_scoped(s, scope));
    let session = Session { token: "t".into(), user_id: "u7".into() };
    ok!(sessions.create(&session).await);
    let keys = ok!(expirations(s, scope, "session").await);
    let first = keys.first().and_then(|(_, e)| *e);
    check!(keys.len() == 2 && first.is_some() && all_expire_at(&keys, first), "default ttl: {keys:?}");
    ok!(sessions.update_with(&session, WriteOptions::permanent()).await);
    check!(all_expire_at(&ok!(expirations(s, scope, "session").await), None), "permanent beats the default ttl");
    Ok(())
}

async fn limit_errors<S: KvStore>(s: &S, scope: &str) -> Outcome {
    // Raw store: what the backend itself refuses.
    let key513 = format!("{scope}/{}", "k".repeat(512 - scope.len()));
    check!(key513.len() == 513, "test key is 513 bytes");
    let err = s.put(&key513, b"v", &PutOptions::default()).await;
    check!(matches!(err, Err(Error::KeyTooLong { len: 513, .. })), "put key 513: {err:?}");
    let err = s.get(&key513).await;
    check!(matches!(err, Err(Error::KeyTooLong { .. })), "get key 513: {err:?}");
    let meta = serde_json::json!({ "m": "x".repeat(1025 - 8) });
    let err = s.put(&format!("{scope}/m"), b"v", &PutOptions { metadata: Some(meta), ..Default::default() }).await;
    check!(matches!(err, Err(Error::MetadataTooLarge { .. })), "metadata 1025: {err:?}");
    let err = s.put(&format!("{scope}/t"), b"v", &PutOptions { expiration_ttl: Some(59), ..Default::default() }).await;
    check!(matches!(err, Err(Error::TtlTooShort { .. })), "ttl 59: {err:?}");
    let err = s.list(&ListOptions { prefix: scope.into(), cursor: None, limit: 1001 }).await;
    check!(matches!(err, Err(Error::ListLimit { limit: 1001 })), "list limit 1001: {err:?}");
    let keys: Vec<String> = (0..101).map(|i| format!("{scope}/b{i}")).collect();
    let err = s.get_many(&keys).await;
    check!(matches!(err, Err(Error::BulkLimit { count: 101 })), "bulk 101: {err:?}");
    // Through a repository: refused before any write.
    let users = ok!(User::repo_scoped(s, scope));
    let long = User { id: "i".repeat(600), ..user(1, "acme") };
    let err = users.create(&long).await;
    check!(matches!(err, Err(Error::KeyTooLong { .. })), "long id: {err:?}");
    let big = User { name: "n".repeat(1100), ..user(2, "acme") };
    let err = users.create(&big).await;
    check!(matches!(err, Err(Error::MetadataTooLarge { .. })), "big metadata: {err:?}");
    let sessions = ok!(Session::repo_scoped(s, scope));
    let err = sessions.create_with(&Session { token: "t".into(), user_id: "u".into() }, WriteOptions::ttl(59)).await;
    check!(matches!(err, Err(Error::TtlTooShort { ttl: 59, .. })), "repo ttl 59: {err:?}");
    let err = users.list(Page::first(1001)).await;
    check!(matches!(err, Err(Error::ListLimit { limit: 1001 })), "repo list 1001: {err:?}");
    let left = ok!(s.list(&ListOptions { prefix: format!("{scope}/"), cursor: None, limit: 100 }).await);
    check!(left.keys.is_empty(), "refused writes left nothing: {:?}", left.keys);
    Ok(())
}

async fn record_listing<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    for n in 0..25 {
        ok!(users.create(&user(n, if n % 2 == 0 { "even" } else { "odd" })).await);
    }
    let mut ids = Vec::new();
    let mut page = Some(Page::first(10));
    while let Some(p) = page {
        let got = ok!(users.list(p).await);
        ids.extend(got.items.into_iter().map(|u| u.id));
        page = got.cursor.map(|c| Page::after(c, 10));
    }
    check!(ids.len() == 25, "listed {} of 25", ids.len());
    check!(ids.windows(2).all(|w| w[0] < w[1]), "key order");
    check!(ok!(users.count().await) == 25, "count");
    check!(ok!(users.list_by_org_id("even", Page::first(100)).await).items.len() == 13, "index group");
    Ok(())
}

async fn scope_isolation<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let a = format!("{scope}-a");
    let b = format!("{scope}-b");
    let in_a = ok!(User::repo_scoped(s, &a));
    let in_b = ok!(User::repo_scoped(s, &b));
    ok!(in_a.create(&user(1, "acme")).await);
    ok!(in_b.create(&user(1, "acme")).await);
    check!(ok!(in_a.count().await) == 1 && ok!(in_b.count().await) == 1, "each scope has its own");
    ok!(in_a.delete(&user(1, "acme").id).await);
    check!(ok!(in_b.find_by_email(&user(1, "acme").email).await).is_some(), "deleting in a leaves b");
    let bad = Repo::<User, S>::scoped(s, "no/slashes");
    check!(matches!(bad, Err(Error::InvalidScope { .. })), "bad scope refused");
    Ok(())
}

async fn verify_and_repair<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    for n in 0..5 {
        ok!(users.create(&user(n, "acme")).await);
    }
    check!(ok!(users.verify().await).is_clean(), "clean after creates");
    // Corrupt it as a crash would: an entry without its record, a record without its entry.
    ok!(s.put(&format!("{scope}/user.email:ghost@example.com"), b"ghost", &PutOptions::default()).await);
    ok!(s.delete(&format!("{scope}/user.email:user1@example.com")).await);
    ok!(s.put(&format!("{scope}/user.org_id:elsewhere:u00002"), b"", &PutOptions::default()).await);
    let found = ok!(users.verify().await);
    check!((found.records, found.dangling, found.missing, found.mismatched) == (5, 2, 1, 0), "verify found {found}");
    let fixed = ok!(users.repair().await);
    check!((fixed.dangling, fixed.missing) == (2, 1), "repair fixed {fixed}");
    check!(ok!(users.verify().await).is_clean(), "clean after repair");
    check!(ok!(users.find_by_email("user1@example.com").await).is_some(), "the missing entry is back");
    Ok(())
}

/// Raw KV edges where MemoryStore and Workers KV once differed: bulk reads of
/// array-index keys, missing and repeated keys with metadata; metadata
/// measured as JavaScript writes it; the order of limit checks; list limit 0
/// and long prefixes; the 32-bit ttl and expiration bounds.
async fn raw_kv_edges<S: KvStore>(s: &S, scope: &str, now: u64) -> Outcome {
    use serde_json::json;
    // Raw keys that look like array indices: a bulk read must still find them.
    let (k0, k1, k01) = ("0".to_string(), "1".to_string(), "01".to_string());
    let (present, missing) = (format!("{scope}/present"), format!("{scope}/missing"));
    for k in [&k0, &k1, &k01, &present] {
        let opts = PutOptions { metadata: Some(json!({"n": 1.0, "k": k})), ..Default::default() };
        ok!(s.put(k, format!("v{k}").as_bytes(), &opts).await);
    }
    let asked = vec![k0.clone(), missing.clone(), k01.clone(), k1.clone(), present.clone(), k0.clone()];
    let got = ok!(s.get_many(&asked).await);
    check!(got.len() == asked.len(), "one answer per key: {got:?}");
    for (k, e) in asked.iter().zip(&got) {
        if *k == missing {
            check!(e.is_none(), "missing key read as {e:?}");
            continue;
        }
        let e = e.as_ref().ok_or(format!("bulk read lost `{k}`"))?;
        check!(e.as_str() == Some(format!("v{k}").as_str()), "value of `{k}`: {:?}", e.as_str());
        // JavaScript writes 1.0 as 1, and KV gives back what it stored.
        check!(e.metadata == Some(json!({"n": 1, "k": k})), "metadata of `{k}`: {:?}", e.metadata);
    }
    // Metadata of 1024 bytes as JavaScript writes it (1.0 as `1`), 1104 as
    // serde_json writes it: accepted.
    let near = json!({"p": "p".repeat(1024 - 94), "n": vec![1.0; 40]});
    check!(kvgen::limits::metadata_json(&near).len() == 1024, "near-limit metadata is 1024 bytes");
    ok!(s.put(&present, b"v", &PutOptions { metadata: Some(near), ..Default::default() }).await);
    let over = json!({"p": "p".repeat(1025 - 94), "n": vec![1.0; 40]});
    let err = s.put(&present, b"v", &PutOptions { metadata: Some(over.clone()), ..Default::default() }).await;
    check!(matches!(err, Err(Error::MetadataTooLarge { .. })), "1025 bytes of metadata: {err:?}");
    // Several faults: KV reports the ttl before the metadata, the key before
    // the ttl's lower bound, and a ttl or expiration outside 32 bits first.
    let both = PutOptions { metadata: Some(over.clone()), expiration_ttl: Some(59), ..Default::default() };
    let err = s.put(&present, b"v", &both).await;
    check!(matches!(err, Err(Error::TtlTooShort { .. })), "metadata and ttl: {err:?}");
    let soon = PutOptions { metadata: Some(over), expiration: Some(now), ..Default::default() };
    let err = s.put(&present, b"v", &soon).await;
    check!(matches!(err, Err(Error::ExpirationTooSoon { .. })), "metadata and expiration: {err:?}");
    let long = "k".repeat(513);
    let err = s.put(&long, b"v", &PutOptions { expiration_ttl: Some(59), ..Default::default() }).await;
    check!(matches!(err, Err(Error::KeyTooLong { .. })), "long key and ttl: {err:?}");
    let err = s.put("", b"v", &PutOptions { expiration_ttl: Some(1 << 31), ..Default::default() }).await;
    check!(matches!(err, Err(Error::TtlTooLong { .. })), "empty key and ttl 2^31: {err:?}");
    let err = s.put(&present, b"v", &PutOptions { expiration: Some(1 << 31), ..Default::default() }).await;
    check!(matches!(err, Err(Error::ExpirationTooLate { .. })), "expiration 2^31: {err:?}");
    // The largest ttl and expiration are accepted; the ttl may run past 2^31.
    let max_ttl = kvgen::limits::MAX_TTL_SECS;
    ok!(s.put(&present, b"v", &PutOptions { expiration_ttl: Some(max_ttl), ..Default::default() }).await);
    let at = kvgen::limits::MAX_EXPIRATION;
    ok!(s.put(&missing, b"v", &PutOptions { expiration: Some(at), ..Default::default() }).await);
    let listed = ok!(s.list(&ListOptions { prefix: format!("{scope}/"), cursor: None, limit: 0 }).await);
    check!(listed.keys.len() == 2 && listed.cursor.is_none(), "limit 0 lists a full page: {listed:?}");
    check!(listed.keys[0].expiration == Some(at), "expiration 2^31-1 kept");
    let e = listed.keys[1].expiration.unwrap_or(0);
    check!(e.abs_diff(now + max_ttl) < 600, "ttl 2^31-1 gives now + ttl: {e}");
    let err = s.list(&ListOptions { prefix: long, cursor: None, limit: 10 }).await;
    check!(matches!(err, Err(Error::KeyTooLong { .. })), "513-byte prefix: {err:?}");
    for k in [&k0, &k1, &k01, &present, &missing] {
        ok!(s.delete(k).await);
    }
    Ok(())
}

/// Repositories bind every cursor to the listing it came from: a cursor of
/// another scope, model or index, or a malformed one, is `InvalidCursor`.
async fn cursor_binding<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let a = format!("{scope}-a");
    let b = format!("{scope}-b");
    let in_a = ok!(User::repo_scoped(s, &a));
    let in_b = ok!(User::repo_scoped(s, &b));
    for n in 0..3 {
        ok!(in_a.create(&user(n, "acme")).await);
        ok!(in_b.create(&user(n, "acme")).await);
    }
    let first = ok!(in_a.list(Page::first(1)).await);
    let cursor = first.cursor.clone().ok_or("a first page of 1 of 3 has a cursor")?;
    let second = ok!(in_a.list(Page::after(cursor.clone(), 1)).await);
    check!(second.items.len() == 1 && second.items[0].id != first.items[0].id, "the cursor continues the listing");
    let invalid = |r: kvgen::Result<usize>| matches!(r, Err(Error::InvalidCursor { .. }));
    let other_scope = in_b.list(Page::after(cursor.clone(), 1)).await.map(|p| p.items.len());
    check!(invalid(other_scope), "a cursor of another scope");
    let other_index = in_a.list_by_org_id("acme", Page::after(cursor.clone(), 1)).await.map(|p| p.items.len());
    check!(invalid(other_index), "a cursor of another index");
    let meta = in_a.list_meta(Page::after(cursor.clone(), 1)).await.map(|p| p.items.len());
    check!(meta.is_ok(), "the same listing through list_meta: {meta:?}");
    let posts = ok!(Post::repo_scoped(s, &a));
    ok!(posts.create(&post(1, "x", PostStatus::Published)).await);
    check!(
        invalid(posts.list(Page::after(cursor.clone(), 1)).await.map(|p| p.items.len())),
        "a cursor of another model"
    );
    let by_org = ok!(in_a.list_by_org_id("acme", Page::first(1)).await);
    let org_cursor = by_org.cursor.ok_or("a first page of an index has a cursor")?;
    let other_value = in_a.list_by_org_id("other", Page::after(org_cursor, 1)).await.map(|p| p.items.len());
    check!(invalid(other_value), "a cursor of another index value");
    for bad in ["", "garbage", ".", "0000000000000000.", "0000000000000000.x"] {
        check!(invalid(in_a.list(Page::after(bad, 1)).await.map(|p| p.items.len())), "cursor `{bad}`");
    }
    Ok(())
}

/// An account whose email is a strict unique value (claimed on the store's
/// coordinator: the Durable Object on Workers).
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "strict_account", strict)]
pub struct StrictAccount {
    /// The id.
    #[kv(id)]
    pub id: String,
    /// One account per email, even against racing writers.
    #[kv(unique)]
    pub email: String,
}

/// Strict claims on the store's coordinator: a duplicate is refused by the
/// coordinator even where KV shows no index entry (as at a location that
/// has not seen it yet), a kept value stays the record's, and a released
/// value is not free to others until the holder's lease has settled.
async fn strict_claims<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let accounts = ok!(StrictAccount::repo_scoped(s, scope));
    let repo = ok!(Repo::<StrictAccount, _>::scoped(s, scope));
    let account = |id: &str, email: &str| StrictAccount { id: id.into(), email: email.into() };
    check!(s.coordinator().is_some(), "the store has no coordinator");
    ok!(accounts.create(&account("a1", "e1@x")).await);
    let err = accounts.create(&account("a2", "e1@x")).await;
    check!(matches!(&err, Err(Error::UniqueViolation { index: "email", .. })), "duplicate: {err:?}");
    // Without the index entry KV's own check passes: the coordinator refuses.
    let entry = repo.index_key(&account("a1", "e1@x"), 0).expect("an entry key");
    ok!(s.delete(&entry).await);
    let err = accounts.create(&account("a2", "e1@x")).await;
    check!(
        matches!(&err, Err(Error::UniqueViolation { ref holder, .. }) if holder == "a1"),
        "duplicate without an entry: {err:?}"
    );
    check!(ok!(accounts.get("a2").await).is_none(), "the refused create wrote nothing");
    // A put keeping the value reaffirms it; a move releases it, and the
    // released value is not free until the holder's lease has settled.
    ok!(accounts.put(&account("a1", "e1@x")).await);
    ok!(accounts.put(&account("a1", "e2@x")).await);
    let err = accounts.create(&account("a3", "e1@x")).await;
    // The refusal says when the released claim settles (within lease + settle time).
    check!(
        matches!(&err, Err(Error::UniqueViolation { retry_after: Some(s), .. }) if (1..=90).contains(s)),
        "a value released a moment ago: {err:?}"
    );
    check!(ok!(accounts.find_by_email("e2@x").await).map(|a| a.id) == Some("a1".into()), "the moved value");
    ok!(accounts.create(&account("a4", "e4@x")).await);
    check!(ok!(accounts.delete("a4").await), "delete");
    Ok(())
}

/// A model whose id the repository generates (a ULID), and which has no
/// index, so that its puts with a ttl are blind writes.
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "draft")]
pub struct Draft {
    /// Filled by `create_new`.
    #[kv(id, generate = "ulid")]
    pub id: String,
    /// The text.
    pub text: String,
}

async fn batches_and_generated_ids<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    let batch: Vec<User> = (0..120).map(|n| user(n, "acme")).collect();
    let mut clash = user(500, "acme");
    clash.email = batch[3].email.clone();
    let mut all = batch.clone();
    all.push(clash);
    let done = ok!(users.create_many(&all).await);
    check!(done[..120].iter().all(Result::is_ok), "create_many: {:?}", done.iter().find(|d| d.is_err()));
    check!(matches!(done[120], Err(Error::UniqueViolation { .. })), "a taken email in the batch: {:?}", done[120]);
    check!(ok!(users.count().await) == 120, "120 created");
    let renamed: Vec<User> =
        batch.iter().map(|u| User { name: format!("{} (renamed)", u.name), ..u.clone() }).collect();
    check!(ok!(users.put_many(&renamed).await).iter().all(Result::is_ok), "put_many");
    check!(ok!(users.get(&batch[7].id).await) == Some(renamed[7].clone()), "put_many wrote");
    let ids: Vec<String> = batch.iter().map(|u| u.id.clone()).chain(["nobody".to_string()]).collect();
    let gone = ok!(users.delete_many(&ids).await);
    check!(gone[..120].iter().all(|g| matches!(g, Ok(true))) && matches!(gone[120], Ok(false)), "delete_many");
    check!(ok!(users.count().await) == 0, "all deleted");
    check!(ok!(users.verify().await).is_clean(), "clean after the batches");

    let drafts = ok!(Draft::repo_scoped(s, scope));
    let mut d = Draft { id: String::new(), text: "hello".into() };
    let id = ok!(drafts.create_new(&mut d).await);
    check!(id.len() == 26 && d.id == id, "a ULID: {id}");
    check!(ok!(drafts.get(&id).await) == Some(d.clone()), "create_new stored it");
    let many: Vec<Draft> = (0..3).map(|i| Draft { id: format!("d{i}"), text: "t".into() }).collect();
    check!(ok!(drafts.put_many_with(&many, WriteOptions::ttl(3600)).await).iter().all(Result::is_ok), "blind puts");
    check!(matches!(ok!(drafts.expiration(&"d1".to_string()).await), Some(Some(_))), "a blind put's ttl");
    Ok(())
}

/// Every page of a listing joined, each page at most `limit` long; `Err`
/// names the first failure.
async fn pages<T, F, Fut>(limit: u32, mut call: F) -> Result<Vec<T>, String>
where
    F: FnMut(Page) -> Fut,
    Fut: std::future::Future<Output = kvgen::Result<kvgen::ListPage<T>>>,
{
    let mut out = Vec::new();
    let mut next = Some(Page::first(limit));
    let mut calls = 0;
    while let Some(p) = next {
        let got = call(p).await.map_err(|e| format!("a page at limit {limit} failed: {e}"))?;
        if got.items.len() > limit as usize {
            return Err(format!("a page of {} at limit {limit}", got.items.len()));
        }
        calls += 1;
        if calls > 1_000 {
            return Err(format!("the listing at limit {limit} does not end"));
        }
        next = got.next(limit);
        out.extend(got.items);
    }
    Ok(out)
}

/// Listing by the leading field of a compound index (`actor` of
/// `index(actor, at desc)`), newest first, from and after a point in time, at
/// every page boundary; an ascending integer index from a value; cursors
/// bound to their start.
async fn ordered_and_range_listing<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let log = ok!(Activity::repo_scoped(s, scope));
    let ats = [i64::MIN, -86_400_000, -1, 0, 1_000, 1_000, 1_732_000_000_000, 1_732_000_000_001, i64::MAX];
    let mut mine = Vec::new();
    for (i, at) in ats.iter().enumerate() {
        let a = Activity { id: 10 + i as u64, actor: "x".into(), at: *at, seq: i as u32, what: format!("w{i}") };
        ok!(log.create(&a).await);
        mine.push(a);
    }
    // Neighbours whose actor starts with "x", or escapes to something that does.
    for (i, actor) in ["xy", "x:y", "x%", "w"].iter().enumerate() {
        let a =
            Activity { id: 90 + i as u64, actor: actor.to_string(), at: 0, seq: 100 + i as u32, what: String::new() };
        ok!(log.create(&a).await);
    }
    mine.sort_by(|a, b| b.at.cmp(&a.at).then(a.id.cmp(&b.id)));
    let n = mine.len() as u32;
    for limit in [1, n - 1, n, n + 1] {
        let got = pages(limit, |p| log.list_by_actor("x", p)).await?;
        check!(got == mine, "list_by_actor(x) at limit {limit}: {:?}", got.iter().map(|a| a.id).collect::<Vec<_>>());
    }
    let xy = pages(2, |p| log.list_by_actor("xy", p)).await?;
    check!(xy.len() == 1 && xy[0].actor == "xy", "the group of xy holds xy only: {xy:?}");
    for start in [i64::MIN, -2, -1, 0, 999, 1_000, 1_732_000_000_000, i64::MAX] {
        let from: Vec<Activity> = mine.iter().filter(|a| a.at <= start).cloned().collect();
        let after: Vec<Activity> = mine.iter().filter(|a| a.at < start).cloned().collect();
        let k = from.len() as u32;
        for limit in [1, 2, k.max(1), k + 1, 1000] {
            let got = pages(limit, |p| log.list_by_actor_from_at("x", start, p)).await?;
            check!(got == from, "from {start} at limit {limit}: {:?}", got.iter().map(|a| a.at).collect::<Vec<_>>());
            let got = pages(limit, |p| log.list_by_actor_after_at("x", start, p)).await?;
            check!(got == after, "after {start} at limit {limit}: {:?}", got.iter().map(|a| a.at).collect::<Vec<_>>());
        }
    }
    // A range that ends exactly at a page end: at or before 0 is 4 records, two pages of 2.
    let first = ok!(log.list_by_actor_from_at("x", 0, Page::first(2)).await);
    let Some(next) = first.next(2) else { return Err("the first of two pages has no cursor".into()) };
    let second = ok!(log.list_by_actor_from_at("x", 0, next).await);
    check!(second.items.len() == 2 && second.cursor.is_none(), "the second page ends the range: {second:?}");
    // An ascending integer index from a value, across actors.
    let seqs: Vec<u32> = pages(3, |p| log.list_by_seq_from(7, p)).await?.iter().map(|a| a.seq).collect();
    check!(seqs == [7, 8, 100, 101, 102, 103], "seq from 7: {seqs:?}");
    let seqs: Vec<u32> = pages(3, |p| log.list_by_seq_after(101, p)).await?.iter().map(|a| a.seq).collect();
    check!(seqs == [102, 103], "seq after 101: {seqs:?}");
    // A cursor is bound to its start value.
    let page = ok!(log.list_by_actor_from_at("x", 1_000, Page::first(1)).await);
    let Some(cursor) = page.cursor else { return Err("no cursor after one of several".into()) };
    let other = log.list_by_actor_from_at("x", 0, Page::after(cursor.clone(), 1)).await;
    check!(matches!(other, Err(Error::InvalidCursor { .. })), "a cursor of another start: {other:?}");
    let resumed = ok!(log.list_by_actor_from_at("x", 1_000, Page::after(cursor, 1)).await);
    check!(resumed.items.first().map(|a| a.at) == Some(1_000), "the cursor resumes: {resumed:?}");
    // A group of 1,050: the first list of 1,000 keys (at 1,049 down to 50) holds nothing at or
    // before 20, so the first page is empty with a cursor; the pages after it end inside the
    // second list and resume inside it, passing the store's cursor back again.
    let big: Vec<Activity> = (0..1_050)
        .map(|i| Activity { id: 1_000 + i, actor: "big".into(), at: i as i64, seq: 0, what: String::new() })
        .collect();
    for (i, r) in ok!(log.create_many(&big).await).into_iter().enumerate() {
        r.map_err(|e| format!("create_many: record {i}: {e}"))?;
    }
    let mut sizes = Vec::new();
    let mut ats = Vec::new();
    let mut next = Some(Page::first(10));
    while let Some(p) = next {
        let got = ok!(log.list_by_actor_from_at("big", 20, p).await);
        sizes.push(got.items.len());
        ats.extend(got.items.iter().map(|a| a.at));
        next = got.next(10);
        check!(sizes.len() < 10, "the listing does not end: {sizes:?}");
    }
    check!(ats == (0..=20).rev().collect::<Vec<i64>>(), "at or before 20 in a group of 1,050: {ats:?}");
    check!(sizes == [0, 10, 10, 1], "pages: {sizes:?}");
    // Counting a group (2 lists for 1,050), and every page gathered.
    check!(ok!(log.count_by_actor("big").await) == 1_050, "count of big");
    check!(ok!(log.count_by_actor("x").await) == 9, "count of x");
    let all = ok!(kvgen::all_pages(400, |p| log.list_by_actor("big", p)).await);
    check!(all.items.len() == 1_050 && all.items.first().map(|a| a.at) == Some(1_049), "all pages of big");
    Ok(())
}

/// A raw text value: the body is the KV value itself (TypeScript reads it
/// with `get(key)`), the other fields are in its metadata.
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "doc")]
pub struct Doc {
    /// The key.
    #[kv(id)]
    pub slug: String,
    /// The value, as text.
    #[kv(raw)]
    pub body: String,
    /// In metadata.
    pub title: String,
    /// In metadata.
    pub views: u32,
}

/// A raw bytes value (TypeScript reads it with `get(key, "arrayBuffer")`),
/// with a `#[kv(meta)]` field listings carry.
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "avatar")]
pub struct Avatar {
    /// The key.
    #[kv(id)]
    pub user_id: String,
    /// The value, as bytes.
    #[kv(raw)]
    pub image: Vec<u8>,
    /// In metadata, and in listings' projection.
    #[kv(meta)]
    pub content_type: String,
    /// In metadata.
    pub width: Option<u32>,
}

/// The raw text the scenario stores as `doc:readme` (scripts/e2e reads it back with `wrangler kv key get`).
pub const RAW_TEXT: &str = "# kvgen\nRaw text, not JSON: \"quoted\", back\\slash, tab\t, ü, 😀\n";

/// The raw bytes the scenario stores as `avatar:ts` (scripts/e2e reads them back with `wrangler kv key get`):
/// every byte value, then sequences that are not UTF-8.
pub fn raw_bytes() -> Vec<u8> {
    let mut b: Vec<u8> = (0..=255u8).rev().collect();
    b.extend_from_slice(&[0xef, 0xbb, 0xbf, 0x80, 0xff, 0xe4, 0xb8, 0xed, 0xa0, 0x80, 0xc3]);
    b
}

async fn raw_values<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let docs = ok!(Doc::repo_scoped(s, scope));
    let avatars = ok!(Avatar::repo_scoped(s, scope));
    let readme = Doc { slug: "readme".into(), body: RAW_TEXT.into(), title: "Read me".into(), views: 3 };
    ok!(docs.create(&readme).await);
    check!(ok!(docs.get(&readme.slug).await) == Some(readme.clone()), "a raw text record reads back");
    // Stored as such: the value is the text's bytes, the other fields metadata.
    let stored = ok!(s.get(&format!("{scope}/doc:readme")).await).ok_or("no doc:readme")?;
    check!(stored.value == RAW_TEXT.as_bytes(), "doc:readme holds {:?}", stored.as_str());
    let meta = stored.metadata.clone().unwrap_or_default();
    check!(meta["title"] == "Read me" && meta["views"] == 3 && meta["$exp"].is_null(), "doc metadata: {meta}");
    check!(meta.get("slug").is_none() && meta.get("body").is_none(), "id and value stay out of metadata: {meta}");

    let ts = Avatar { user_id: "ts".into(), image: raw_bytes(), content_type: "image/x-test".into(), width: None };
    let small =
        Avatar { user_id: "a2".into(), image: vec![0xff, 0, 0xfe], content_type: "image/png".into(), width: Some(2) };
    let empty = Avatar { user_id: "a3".into(), image: Vec::new(), content_type: "none".into(), width: None };
    for a in [&ts, &small, &empty] {
        ok!(avatars.create(a).await);
    }
    let stored = ok!(s.get(&format!("{scope}/avatar:ts")).await).ok_or("no avatar:ts")?;
    check!(
        stored.value == raw_bytes(),
        "avatar:ts holds {} bytes, not the {} written",
        stored.value.len(),
        raw_bytes().len()
    );
    check!(ok!(avatars.get(&ts.user_id).await) == Some(ts.clone()), "raw bytes read back exactly");
    check!(ok!(avatars.get(&empty.user_id).await) == Some(empty.clone()), "an empty raw value reads back");
    // Bulk reads decode text, so bytes are read one key at a time; text in bulk.
    let ids = vec!["ts".to_string(), "nobody".into(), "a2".into()];
    let got = ok!(avatars.get_many(&ids).await);
    check!(got == vec![Some(ts.clone()), None, Some(small.clone())], "get_many of raw bytes: {got:?}");
    let got = ok!(docs.get_many(&["readme".to_string()]).await);
    check!(got == vec![Some(readme.clone())], "get_many of raw text");
    let page = ok!(avatars.list(Page::first(10)).await);
    check!(page.items == vec![small.clone(), empty.clone(), ts.clone()], "list of raw bytes: {:?}", page.items);
    let listed = ok!(avatars.list_meta(Page::first(10)).await);
    let types: Vec<String> =
        listed.items.iter().filter_map(|l| l.meta.as_ref().map(|m| m.content_type.clone())).collect();
    check!(types == ["image/png", "none", "image/x-test"], "listed projections: {types:?}");
    let (_, meta) = ok!(avatars.get_with_meta(&small.user_id).await).ok_or("get_with_meta")?;
    check!(meta.map(|m| m.content_type) == Some("image/png".into()), "get_with_meta of a raw record");

    // Writes keep the protocol: AlreadyExists, NotFound, expiry, delete.
    check!(matches!(avatars.create(&small).await, Err(Error::AlreadyExists { .. })), "create twice");
    let ghost = Avatar { user_id: "ghost".into(), ..small.clone() };
    check!(matches!(avatars.update(&ghost).await, Err(Error::NotFound { .. })), "update of none");
    let bigger = Avatar { image: vec![7; 3000], width: Some(9), ..small.clone() };
    ok!(avatars.update_with(&bigger, WriteOptions::ttl(3600)).await);
    check!(ok!(avatars.get(&small.user_id).await) == Some(bigger.clone()), "update of a raw record");
    check!(matches!(ok!(avatars.expiration(&small.user_id).await), Some(Some(_))), "its ttl is recorded");
    check!(ok!(avatars.count().await) == 3, "three avatars");
    check!(ok!(avatars.verify().await).is_clean(), "verify finds raw records clean");
    check!(ok!(avatars.delete(&empty.user_id).await), "delete of a raw record");
    check!(ok!(avatars.get(&empty.user_id).await).is_none(), "deleted");

    // Batches, as for any model.
    let batch: Vec<Avatar> =
        (0..3).map(|i| Avatar { user_id: format!("b{i}"), image: vec![0x80, i], ..small.clone() }).collect();
    check!(ok!(avatars.create_many(&batch).await).iter().all(Result::is_ok), "create_many of raw records");
    check!(ok!(avatars.put_many(&batch).await).iter().all(Result::is_ok), "put_many of raw records");
    let ids: Vec<String> = batch.iter().map(|a| a.user_id.clone()).collect();
    check!(ok!(avatars.get_many(&ids).await) == batch.iter().cloned().map(Some).collect::<Vec<_>>(), "batch written");
    check!(ok!(avatars.delete_many(&ids).await).iter().all(|d| matches!(d, Ok(true))), "delete_many of raw records");

    // Limits, before any write: metadata (the fields other than id and value) and the value.
    let wordy = Doc { slug: "wordy".into(), title: "t".repeat(1100), ..readme.clone() };
    check!(matches!(docs.put(&wordy).await, Err(Error::MetadataTooLarge { .. })), "metadata over 1024 bytes");
    let huge = Avatar { user_id: "huge".into(), image: vec![1; kvgen::limits::MAX_VALUE_BYTES + 1], ..small.clone() };
    check!(matches!(avatars.put(&huge).await, Err(Error::ValueTooLarge { .. })), "a value over 25 MiB");
    check!(
        ok!(docs.get(&wordy.slug).await).is_none() && ok!(avatars.get(&huge.user_id).await).is_none(),
        "nothing written"
    );
    Ok(())
}

/// Free metadata a write stores beside the record (`*_with_metadata`).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
struct Version {
    version: u32,
    by: String,
}

/// Reads with KV's `cacheTtl`: what a cached read answers after a write in
/// the same location (the record), the least cache ttl KV takes (30 s), and
/// a smaller one refused before any KV operation.
async fn cache_ttl_read<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    let posts = users.related::<Post>();
    let ada = user(1, "acme");
    ok!(users.create(&ada).await);
    ok!(posts.create(&post(1, &ada.id, PostStatus::Published)).await);
    let cached = users.cached(30);
    check!(ok!(cached.get(&ada.id).await) == Some(ada.clone()), "cached get (30 s)");
    check!(ok!(cached.exists(&ada.id).await), "cached exists");
    let many = ok!(users.cached(300).get_many(&[ada.id.clone(), "nobody".into()]).await);
    check!(many == vec![Some(ada.clone()), None], "cached get_many: {many:?}");
    check!(ok!(cached.find_by_email(&ada.email).await) == Some(ada.clone()), "cached finder");
    let listed = ok!(cached.list_by_org_id("acme", Page::first(10)).await);
    check!(listed.items == vec![ada.clone()], "cached listing: {listed:?}");
    let loaded = ok!(cached.load_posts(std::slice::from_ref(&ada)).await);
    check!(loaded.len() == 1 && loaded[0].len() == 1, "cached has_many: {loaded:?}");
    // The store's own cached reads, at the least ttl and at a large one.
    let key = users.record_key(&ada.id);
    let entry = ok!(s.get_cached(&key, 30).await);
    check!(entry.as_ref().and_then(|e| e.as_str()).is_some_and(|t| t.contains("u00001")), "get_cached: {entry:?}");
    let both = ok!(s.get_many_cached(&[key.clone(), format!("{key}-missing")], 86_400).await);
    check!(both.len() == 2 && both[0].is_some() && both[1].is_none(), "get_many_cached: {both:?}");
    // Under 30 s: refused, and no KV operation made.
    let metered = kvgen::Metered::new(s);
    let refused = ok!(User::repo_scoped(&metered, scope)).cached(29).get(&ada.id).await;
    check!(matches!(refused, Err(Error::InvalidCacheTtl { cache_ttl: 29, min: 30 })), "cache ttl 29: {refused:?}");
    let refused = ok!(User::repo_scoped(&metered, scope)).cached(29).list_by_org_id("acme", Page::first(10)).await;
    check!(matches!(refused, Err(Error::InvalidCacheTtl { .. })), "listing with cache ttl 29: {refused:?}");
    check!(metered.ops().total() == 0, "no KV operation before the refusal: {}", metered.ops());
    let refused = s.get_cached(&key, 29).await;
    check!(matches!(refused, Err(Error::InvalidCacheTtl { cache_ttl: 29, .. })), "store get_cached 29: {refused:?}");
    let refused = s.get_many_cached(std::slice::from_ref(&key), 1).await;
    check!(matches!(refused, Err(Error::InvalidCacheTtl { cache_ttl: 1, .. })), "store get_many_cached 1: {refused:?}");
    Ok(())
}

async fn free_metadata<S: KvStore>(s: &S, scope: &str) -> Outcome {
    let users = ok!(User::repo_scoped(s, scope));
    let ada = user(1, "acme");
    let v1 = Version { version: 1, by: "import".into() };
    ok!(users.create_with_metadata(&ada, &v1, WriteOptions::default()).await);
    let got = ok!(users.get_with_metadata::<Version>(&ada.id).await);
    check!(got == Some((ada.clone(), Some(v1.clone()))), "typed free metadata reads back: {got:?}");
    let raw = ok!(s.get(&format!("{scope}/user:{}", ada.id)).await).ok_or("no record")?;
    let meta = raw.metadata.unwrap_or_default();
    check!(
        meta["$meta"] == serde_json::json!({"version": 1, "by": "import"}) && meta["name"] == "User 1",
        "stored: {meta}"
    );
    // The projection and listings are as before.
    let (_, projection) = ok!(users.get_with_meta(&ada.id).await).ok_or("get_with_meta")?;
    check!(projection.map(|m| m.name) == Some("User 1".into()), "the projection beside free metadata");
    let listed = ok!(users.list_meta(Page::first(10)).await);
    check!(listed.items.len() == 1 && listed.unreadable.is_empty(), "list_meta beside free metadata: {listed:?}");
    check!(ok!(users.verify().await).is_clean(), "verify keeps free metadata as the record's");
    ok!(users.repair().await);
    check!(
        ok!(users.get_with_metadata::<Version>(&ada.id).await).and_then(|g| g.1) == Some(v1.clone()),
        "repair keeps it"
    );
    // Another write's metadata replaces it; a write without it drops it.
    let v2 = serde_json::json!({"version": 2, "by": "edit"});
    ok!(users.update_with_metadata(&ada, &v2, WriteOptions::default()).await);
    let got = ok!(users.get_with_metadata::<serde_json::Value>(&ada.id).await).and_then(|g| g.1);
    check!(got == Some(v2.clone()), "update_with_metadata: {got:?}");
    ok!(users.put(&ada).await);
    check!(
        ok!(users.get_with_metadata::<Version>(&ada.id).await) == Some((ada.clone(), None)),
        "a plain write drops it"
    );
    // Over KV's 1024 bytes with the rest of the metadata: refused, the record unchanged.
    let big = serde_json::json!({"note": "n".repeat(1000)});
    let err = users.put_with_metadata(&ada, &big, WriteOptions::default()).await;
    check!(matches!(err, Err(Error::MetadataTooLarge { .. })), "free metadata over the limit: {err:?}");
    check!(ok!(users.get_with_metadata::<Version>(&ada.id).await) == Some((ada.clone(), None)), "nothing written");
    // On a model without meta fields, and on a raw model.
    let drafts = ok!(Draft::repo_scoped(s, scope));
    let d = Draft { id: "d1".into(), text: "t".into() };
    ok!(drafts.put_with_metadata(&d, &v1, WriteOptions::ttl(3600)).await);
    check!(ok!(drafts.get_with_meta(&d.id).await).map(|g| g.0) == Some(d.clone()), "get_with_meta without meta fields");
    check!(ok!(drafts.list_meta(Page::first(10)).await).items.len() == 1, "listed without meta fields");
    let docs = ok!(Doc::repo_scoped(s, scope));
    let doc = Doc { slug: "m".into(), body: "body".into(), title: "T".into(), views: 0 };
    ok!(docs.put_with_metadata(&doc, &v1, WriteOptions::default()).await);
    check!(ok!(docs.get_with_metadata::<Version>(&doc.slug).await) == Some((doc.clone(), Some(v1))), "a raw model's");
    Ok(())
}
