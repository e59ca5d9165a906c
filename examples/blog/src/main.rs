//! A tour of a kvgen repository on MemoryStore: each step prints what it did
//! and the KV operations it cost.

use blog::{Comment, KvEnv, Post, PostStatus, Profile, Session, User};
use kvgen::{MemoryStore, Metered, Page, WriteOptions};

/// One metered MemoryStore per KV binding, as the generated `KvEnv` expects.
struct Tour {
    app: Metered<MemoryStore>,
    sessions: Metered<MemoryStore>,
}

impl Tour {
    fn step(&self, what: &str, result: impl std::fmt::Display) {
        let ops = self.app.reset() + self.sessions.reset();
        println!("{what:<52} {result}\n{:<52} cost: {ops}", "");
    }
}

fn user(id: &str, org: &str, handle: &str, name: &str) -> User {
    User {
        id: id.into(),
        email: format!("{handle}@{org}.example"),
        org_id: org.into(),
        handle: handle.into(),
        name: name.into(),
    }
}

async fn run() -> kvgen::Result<()> {
    let tour = Tour { app: Metered::new(MemoryStore::new()), sessions: Metered::new(MemoryStore::new()) };
    let env = KvEnv::new(&tour.app, &tour.sessions);
    let (users, posts, comments, profiles) = (env.users(), env.posts(), env.comments(), env.profiles());

    println!("== users: unique email, unique (org_id, handle), index on org_id");
    let ada = user("u1", "acme", "ada", "Ada Lovelace");
    users.create(&ada).await?;
    tour.step("create user u1 (1 unique + 1 compound + 1 index)", "ok");
    users.create(&user("u2", "acme", "grace", "Grace Hopper")).await?;
    users.create(&user("u3", "initech", "ada", "Ada Byron")).await?;
    tour.step("create users u2, u3", "ok");

    let found = users.find_by_email("ada@acme.example").await?;
    tour.step("find_by_email(ada@acme.example)", found.map(|u| u.id).unwrap_or_default());
    let found = users.find_by_org_id_and_handle("initech", "ada").await?;
    tour.step("find_by_org_id_and_handle(initech, ada)", found.map(|u| u.id).unwrap_or_default());

    let clash = users.create(&user("u4", "acme", "ada", "Impostor")).await;
    tour.step("create u4 with a taken email", clash.err().map(|e| e.to_string()).unwrap_or_default());

    let acme = users.list_by_org_id("acme", Page::first(10)).await?;
    let ids: Vec<_> = acme.items.iter().map(|u| u.id.as_str()).collect();
    tour.step("list_by_org_id(acme)", ids.join(", "));
    let acme = users.list_by_org_id_meta("acme", Page::first(10)).await?;
    let names: Vec<_> = acme.items.iter().filter_map(|l| l.meta.as_ref().map(|m| m.name.clone())).collect();
    tour.step("list_by_org_id_meta(acme): names from metadata", names.join(", "));

    let mut moved = ada.clone();
    moved.email = "countess@acme.example".into();
    users.update(&moved).await?;
    tour.step("update u1's email (moves its unique entry)", "ok");
    let old = users.find_by_email("ada@acme.example").await?;
    tour.step("find_by_email(old address)", format!("{old:?}"));

    let upserted = users.upsert_by_email(user("new-id", "acme", "grace", "Rear Admiral Hopper")).await?;
    tour.step("upsert_by_email(grace@acme.example)", format!("kept id {}", upserted.id));

    println!("\n== posts and comments: belongs_to, has_many, has_one");
    for i in 1..=3u64 {
        let author = if i == 3 { "u2" } else { "u1" };
        let status = if i == 2 { PostStatus::Draft } else { PostStatus::Published };
        posts
            .create(&Post { id: i, author_id: author.into(), status, title: format!("Post {i}"), body: "...".into() })
            .await?;
    }
    tour.step("create posts 1..=3", "ok");
    for (id, post) in [("c1", 1), ("c2", 1), ("c3", 3)] {
        comments.create(&Comment { id: id.into(), post_id: post, author_id: "u2".into(), body: "Nice".into() }).await?;
    }
    profiles.create(&Profile { id: "p1".into(), user_id: "u1".into(), bio: "Analyst".into() }).await?;
    tour.step("create comments c1..c3 and profile p1", "ok");

    let page = users.list_posts(&moved, Page::first(10)).await?;
    let titles: Vec<_> = page.items.iter().map(|p| p.title.as_str()).collect();
    tour.step("list_posts(u1)  [has_many]", titles.join(", "));
    let published = posts.list_by_author_id_and_status("u1", &PostStatus::Published, Page::first(10)).await?;
    tour.step("list_by_author_id_and_status(u1, published)", published.items.len());
    let all = posts.list(Page::first(100)).await?;
    tour.step("list posts, page of 100", all.items.len());
    let authors = posts.load_authors(&all.items).await?;
    let names: Vec<_> = authors.iter().map(|a| a.as_ref().map_or("?", |u| u.handle.as_str())).collect();
    tour.step("load_authors(3 posts, 2 authors)  [belongs_to]", names.join(", "));
    let per_post = posts.load_comments(&all.items).await?;
    let counts: Vec<_> = per_post.iter().map(|c| c.len().to_string()).collect();
    tour.step("load_comments(3 posts)  [has_many, batched]", counts.join(", "));
    let profile = users.load_profile(&moved).await?;
    tour.step("load_profile(u1)  [has_one]", profile.map(|p| p.bio).unwrap_or_default());

    println!("\n== listing, counting, deleting");
    let first = users.list(Page::first(2)).await?;
    tour.step("list users, page of 2", first.items.iter().map(|u| u.id.clone()).collect::<Vec<_>>().join(", "));
    if let Some(next) = first.next(2) {
        let second = users.list(next).await?;
        tour.step("list users, next page", second.items.iter().map(|u| u.id.clone()).collect::<Vec<_>>().join(", "));
    }
    let n = users.count().await?;
    tour.step("count users", n);
    let deleted = users.delete(&"u3".to_string()).await?;
    tour.step("delete u3 (record, then its index entries)", deleted);

    println!("\n== ttl and a second binding");
    let sessions = env.sessions();
    sessions.create(&Session { token: "t1".into(), user_id: "u1".into() }).await?;
    tour.step("create session (model ttl = 3600)", "ok");
    sessions.put_with(&Session { token: "t2".into(), user_id: "u1".into() }, WriteOptions::ttl(120)).await?;
    tour.step("put session t2 with ttl 120", "ok");
    let listed = sessions.list_meta(Page::first(10)).await?;
    let exp: Vec<_> = listed.items.iter().map(|l| format!("{} expires {}", l.id, l.expiration.unwrap_or(0))).collect();
    tour.step("list_meta(sessions)", exp.join("; "));
    let short =
        sessions.create_with(&Session { token: "t3".into(), user_id: "u1".into() }, WriteOptions::ttl(59)).await;
    tour.step("create session with ttl 59", short.err().map(|e| e.to_string()).unwrap_or_default());

    for (binding, store) in env.stores() {
        println!("\nkeys in binding {binding}:");
        for key in store.inner().keys() {
            println!("  {key}");
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = pollster::block_on(run()) {
        eprintln!("blog example failed: {e}");
        std::process::exit(1);
    }
}
