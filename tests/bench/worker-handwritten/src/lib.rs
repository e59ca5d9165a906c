//! The application routes of examples/worker, written by hand against Workers
//! KV with serde_json, as a careful developer would without kvgen: the same
//! key layout, unique checks verified against the record, index entries kept,
//! bulk reads. (No percent-encoding of key parts and no limit checks.)

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};
use worker::kv::KvStore;
use worker::{event, Context, Env, Request, Response, Result, RouteContext, Router};

#[derive(Serialize, Deserialize, Clone)]
struct User {
    id: String,
    email: String,
    org_id: String,
    handle: String,
    name: String,
}

#[derive(Serialize, Deserialize, Clone)]
struct Profile {
    id: String,
    user_id: String,
    bio: String,
}

#[derive(Serialize, Deserialize, Clone)]
struct Post {
    id: u64,
    author_id: String,
    status: String,
    title: String,
    body: String,
}

#[derive(Serialize, Deserialize, Clone)]
struct Comment {
    id: String,
    post_id: u64,
    author_id: String,
    body: String,
}

#[derive(Serialize, Deserialize, Clone)]
struct Session {
    token: String,
    user_id: String,
}

fn kv(ctx: &RouteContext<()>, binding: &str) -> Result<KvStore> {
    ctx.env.kv(binding)
}

fn err(status: u16, msg: &str) -> Result<Response> {
    Ok(Response::from_json(&json!({ "error": msg }))?.with_status(status))
}

fn param(ctx: &RouteContext<()>, name: &str) -> String {
    ctx.param(name).cloned().unwrap_or_default()
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.url().ok()?.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn pad(id: u64) -> String {
    format!("{id:020}")
}

async fn get<T: DeserializeOwned>(kv: &KvStore, key: &str) -> Result<Option<T>> {
    Ok(kv.get(key).json::<T>().await?)
}

async fn put(kv: &KvStore, key: &str, value: &str, meta: Option<Value>, ttl: Option<u64>) -> Result<()> {
    let mut p = kv.put(key, value)?;
    if let Some(m) = meta {
        p = p.metadata(m)?;
    }
    if let Some(t) = ttl {
        p = p.expiration_ttl(t);
    }
    Ok(p.execute().await?)
}

/// Reads many keys, 100 at a time.
async fn bulk(kv: &KvStore, keys: &[String]) -> Result<Vec<Option<String>>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        let found = kv.get_bulk(chunk).text().await?;
        out.extend(chunk.iter().map(|k| found.get(k).cloned().flatten()));
    }
    Ok(out)
}

/// One page of keys under a prefix: (names, metadata, expirations, cursor).
async fn page(kv: &KvStore, prefix: String, req: &Request) -> Result<(Vec<worker::kv::Key>, Option<String>)> {
    let limit = query(req, "limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    let mut list = kv.list().prefix(prefix).limit(limit);
    if let Some(c) = query(req, "cursor") {
        list = list.cursor(c);
    }
    let r = list.execute().await?;
    Ok((r.keys, if r.list_complete { None } else { r.cursor }))
}

fn parse_all<T: DeserializeOwned>(values: Vec<Option<String>>) -> Vec<T> {
    values.into_iter().flatten().filter_map(|v| serde_json::from_str(&v).ok()).collect()
}

/// The record a unique entry names, if it still carries the value.
async fn holder(kv: &KvStore, entry: &str) -> Result<Option<User>> {
    let Some(id) = kv.get(entry).text().await? else { return Ok(None) };
    get::<User>(kv, &format!("user:{id}")).await
}

fn user_meta(u: &User) -> Value {
    json!({ "name": u.name })
}

/// Writes a user: checks the unique values against live holders, writes the
/// entries that changed, the record, then drops old entries.
async fn write_user(kv: &KvStore, u: &User, mode: &str) -> Result<std::result::Result<(), (u16, String)>> {
    let rec_key = format!("user:{}", u.id);
    let email_key = format!("user.email:{}", u.email);
    let handle_key = format!("user.org_id_handle:{}:{}", u.org_id, u.handle);
    let got = bulk(kv, &[rec_key.clone(), email_key.clone(), handle_key.clone()]).await?;
    let old: Option<User> = got[0].as_ref().and_then(|v| serde_json::from_str(v).ok());
    match (mode, &old) {
        ("create", Some(_)) => return Ok(Err((409, "already exists".into()))),
        ("update", None) => return Ok(Err((404, "not found".into()))),
        _ => {}
    }
    for (i, held) in got[1..].iter().enumerate() {
        if let Some(h) = held.as_ref().filter(|h| **h != u.id) {
            if let Some(other) = get::<User>(kv, &format!("user:{h}")).await? {
                let clash =
                    if i == 0 { other.email == u.email } else { other.org_id == u.org_id && other.handle == u.handle };
                if clash {
                    return Ok(Err((409, "unique violation".into())));
                }
            }
        }
    }
    let org_key = format!("user.org_id:{}:{}", u.org_id, u.id);
    put(kv, &email_key, &u.id, None, None).await?;
    put(kv, &handle_key, &u.id, None, None).await?;
    put(kv, &org_key, "", Some(user_meta(u)), None).await?;
    put(kv, &rec_key, &serde_json::to_string(u)?, Some(user_meta(u)), None).await?;
    if let Some(o) = old {
        for (old_key, new_key) in [
            (format!("user.email:{}", o.email), email_key),
            (format!("user.org_id_handle:{}:{}", o.org_id, o.handle), handle_key),
        ] {
            if old_key != new_key && kv.get(&old_key).text().await?.as_deref() == Some(&u.id) {
                kv.delete(&old_key).await?;
            }
        }
        let old_org = format!("user.org_id:{}:{}", o.org_id, o.id);
        if old_org != org_key {
            kv.delete(&old_org).await?;
        }
    }
    Ok(Ok(()))
}

fn written(r: std::result::Result<(), (u16, String)>, body: Value, status: u16) -> Result<Response> {
    match r {
        Ok(()) => Ok(Response::from_json(&body)?.with_status(status)),
        Err((code, msg)) => err(code, &msg),
    }
}

async fn create_plain(
    kv: &KvStore,
    rec_key: String,
    value: String,
    entries: Vec<String>,
    meta: Option<Value>,
    ttl: Option<u64>,
) -> Result<bool> {
    if kv.get(&rec_key).text().await?.is_some() {
        return Ok(false);
    }
    for e in entries {
        put(kv, &e, "", meta.clone(), ttl).await?;
    }
    put(kv, &rec_key, &value, meta, ttl).await?;
    Ok(true)
}

/// Records an index group names: list the group, bulk-read, keep those still in it.
async fn group<T: DeserializeOwned>(
    kv: &KvStore,
    prefix: String,
    rec: &str,
    req: &Request,
    keep: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, Option<String>)> {
    let (keys, cursor) = page(kv, prefix.clone(), req).await?;
    let rec_keys: Vec<String> = keys.iter().map(|k| format!("{rec}:{}", &k.name[prefix.len()..])).collect();
    let items: Vec<T> = parse_all(bulk(kv, &rec_keys).await?);
    Ok((items.into_iter().filter(|i| keep(i)).collect(), cursor))
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Router::new()
        .get_async("/users", |req, ctx| async move {
            let kv = kv(&ctx, "APP")?;
            let (keys, cursor) = page(&kv, "user:".into(), &req).await?;
            let names: Vec<String> = keys.into_iter().map(|k| k.name).collect();
            let items: Vec<User> = parse_all(bulk(&kv, &names).await?);
            Response::from_json(&json!({ "items": items, "cursor": cursor }))
        })
        .get_async("/users/count", |_, ctx| async move {
            let kv = kv(&ctx, "APP")?;
            let (mut n, mut cursor) = (0, None);
            loop {
                let mut list = kv.list().prefix("user:".into()).limit(1000);
                if let Some(c) = cursor {
                    list = list.cursor(c);
                }
                let r = list.execute().await?;
                n += r.keys.len();
                if r.list_complete {
                    break;
                }
                cursor = r.cursor;
            }
            Response::from_json(&n)
        })
        .get_async("/users/meta", |req, ctx| async move {
            let kv = kv(&ctx, "APP")?;
            let (keys, cursor) = page(&kv, "user:".into(), &req).await?;
            let items: Vec<Value> = keys.iter().map(|k| json!({ "id": &k.name[5..], "name": k.metadata.as_ref().and_then(|m| m.get("name")) })).collect();
            Response::from_json(&json!({ "items": items, "cursor": cursor }))
        })
        .post_async("/users", |mut req, ctx| async move {
            let u: User = req.json().await?;
            let r = write_user(&kv(&ctx, "APP")?, &u, "create").await?;
            written(r, serde_json::to_value(&u)?, 201)
        })
        .post_async("/users/upsert-by-email", |mut req, ctx| async move {
            let mut u: User = req.json().await?;
            let kv = kv(&ctx, "APP")?;
            if let Some(existing) = holder(&kv, &format!("user.email:{}", u.email)).await?.filter(|h| h.email == u.email) {
                u.id = existing.id;
            }
            let r = write_user(&kv, &u, "put").await?;
            written(r, serde_json::to_value(&u)?, 200)
        })
        .get_async("/users/by-email/:email", |_, ctx| async move {
            let email = param(&ctx, "email");
            match holder(&kv(&ctx, "APP")?, &format!("user.email:{email}")).await?.filter(|u| u.email == email) {
                Some(u) => Response::from_json(&u),
                None => err(404, "not found"),
            }
        })
        .get_async("/users/:id", |_, ctx| async move {
            match get::<User>(&kv(&ctx, "APP")?, &format!("user:{}", param(&ctx, "id"))).await? {
                Some(u) => Response::from_json(&u),
                None => err(404, "not found"),
            }
        })
        .get_async("/users/:id/exists", |_, ctx| async move {
            Response::from_json(&kv(&ctx, "APP")?.get(&format!("user:{}", param(&ctx, "id"))).text().await?.is_some())
        })
        .put_async("/users/:id", |mut req, ctx| async move {
            let u: User = req.json().await?;
            let r = write_user(&kv(&ctx, "APP")?, &u, "put").await?;
            written(r, serde_json::to_value(&u)?, 200)
        })
        .patch_async("/users/:id", |mut req, ctx| async move {
            let u: User = req.json().await?;
            let r = write_user(&kv(&ctx, "APP")?, &u, "update").await?;
            written(r, serde_json::to_value(&u)?, 200)
        })
        .delete_async("/users/:id", |_, ctx| async move {
            let kv = kv(&ctx, "APP")?;
            let id = param(&ctx, "id");
            let Some(u) = get::<User>(&kv, &format!("user:{id}")).await? else { return Response::from_json(&false) };
            kv.delete(&format!("user:{id}")).await?;
            for k in [format!("user.email:{}", u.email), format!("user.org_id_handle:{}:{}", u.org_id, u.handle)] {
                if kv.get(&k).text().await?.as_deref() == Some(&id) {
                    kv.delete(&k).await?;
                }
            }
            kv.delete(&format!("user.org_id:{}:{}", u.org_id, id)).await?;
            Response::from_json(&true)
        })
        .get_async("/orgs/:org/users", |req, ctx| async move {
            let org = param(&ctx, "org");
            let (items, cursor) = group::<User>(&kv(&ctx, "APP")?, format!("user.org_id:{org}:"), "user", &req, |u| u.org_id == org).await?;
            Response::from_json(&json!({ "items": items, "cursor": cursor }))
        })
        .get_async("/orgs/:org/users/:handle", |_, ctx| async move {
            let (org, handle) = (param(&ctx, "org"), param(&ctx, "handle"));
            match holder(&kv(&ctx, "APP")?, &format!("user.org_id_handle:{org}:{handle}")).await?.filter(|u| u.org_id == org && u.handle == handle) {
                Some(u) => Response::from_json(&u),
                None => err(404, "not found"),
            }
        })
        .get_async("/users/:id/posts", |req, ctx| async move {
            let kv = kv(&ctx, "APP")?;
            let id = param(&ctx, "id");
            if get::<User>(&kv, &format!("user:{id}")).await?.is_none() {
                return err(404, "not found");
            }
            let (items, cursor) = group::<Post>(&kv, format!("post.author_id:{id}:"), "post", &req, |p| p.author_id == id).await?;
            Response::from_json(&json!({ "items": items, "cursor": cursor }))
        })
        .get_async("/users/:id/profile", |_, ctx| async move {
            let kv = kv(&ctx, "APP")?;
            let id = param(&ctx, "id");
            let Some(pid) = kv.get(&format!("profile.user_id:{id}")).text().await? else { return err(404, "not found") };
            match get::<Profile>(&kv, &format!("profile:{pid}")).await?.filter(|p| p.user_id == id) {
                Some(p) => Response::from_json(&p),
                None => err(404, "not found"),
            }
        })
        .post_async("/profiles", |mut req, ctx| async move {
            let p: Profile = req.json().await?;
            let kv = kv(&ctx, "APP")?;
            let entry = format!("profile.user_id:{}", p.user_id);
            if let Some(h) = kv.get(&entry).text().await? {
                if get::<Profile>(&kv, &format!("profile:{h}")).await?.is_some_and(|o| o.user_id == p.user_id) {
                    return err(409, "unique violation");
                }
            }
            put(&kv, &entry, &p.id, None, None).await?;
            put(&kv, &format!("profile:{}", p.id), &serde_json::to_string(&p)?, None, None).await?;
            Response::from_json(&p)
        })
        .post_async("/posts", |mut req, ctx| async move {
            let p: Post = req.json().await?;
            let id = pad(p.id);
            let entries = vec![format!("post.author_id:{}:{id}", p.author_id), format!("post.author_id_status:{}:{}:{id}", p.author_id, p.status)];
            let meta = Some(json!({ "title": p.title }));
            if !create_plain(&kv(&ctx, "APP")?, format!("post:{id}"), serde_json::to_string(&p)?, entries, meta, None).await? {
                return err(409, "already exists");
            }
            Response::from_json(&p)
        })
        .get_async("/posts/authors", |req, ctx| async move {
            let kv = kv(&ctx, "APP")?;
            let (keys, _) = page(&kv, "post:".into(), &req).await?;
            let names: Vec<String> = keys.into_iter().map(|k| k.name).collect();
            let posts: Vec<Post> = parse_all(bulk(&kv, &names).await?);
            let mut ids: Vec<&str> = posts.iter().map(|p| p.author_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let users: Vec<User> = parse_all(bulk(&kv, &ids.iter().map(|i| format!("user:{i}")).collect::<Vec<_>>()).await?);
            let rows: Vec<Value> = posts
                .iter()
                .map(|p| json!({ "post": p.id, "author": users.iter().find(|u| u.id == p.author_id).map(|u| &u.handle) }))
                .collect();
            Response::from_json(&rows)
        })
        .get_async("/posts/:id/author", |_, ctx| async move {
            let kv = kv(&ctx, "APP")?;
            let id: u64 = param(&ctx, "id").parse().unwrap_or(0);
            let Some(p) = get::<Post>(&kv, &format!("post:{}", pad(id))).await? else { return err(404, "not found") };
            match get::<User>(&kv, &format!("user:{}", p.author_id)).await? {
                Some(u) => Response::from_json(&u),
                None => err(404, "not found"),
            }
        })
        .get_async("/posts/:id/comments", |req, ctx| async move {
            let kv = kv(&ctx, "APP")?;
            let id: u64 = param(&ctx, "id").parse().unwrap_or(0);
            if get::<Post>(&kv, &format!("post:{}", pad(id))).await?.is_none() {
                return err(404, "not found");
            }
            let (items, cursor) = group::<Comment>(&kv, format!("comment.post_id:{}:", pad(id)), "comment", &req, |c| c.post_id == id).await?;
            Response::from_json(&json!({ "items": items, "cursor": cursor }))
        })
        .post_async("/comments", |mut req, ctx| async move {
            let c: Comment = req.json().await?;
            let entries = vec![format!("comment.post_id:{}:{}", pad(c.post_id), c.id), format!("comment.author_id:{}:{}", c.author_id, c.id)];
            if !create_plain(&kv(&ctx, "APP")?, format!("comment:{}", c.id), serde_json::to_string(&c)?, entries, None, None).await? {
                return err(409, "already exists");
            }
            Response::from_json(&c)
        })
        .post_async("/sessions", |mut req, ctx| async move {
            let s: Session = req.json().await?;
            let ttl = query(&req, "ttl").and_then(|t| t.parse().ok()).unwrap_or(3600);
            if ttl < 60 {
                return err(400, "ttl under 60 s");
            }
            let entries = vec![format!("session.user_id:{}:{}", s.user_id, s.token)];
            if !create_plain(&kv(&ctx, "SESSIONS")?, format!("session:{}", s.token), serde_json::to_string(&s)?, entries, None, Some(ttl)).await? {
                return err(409, "already exists");
            }
            Response::from_json(&s)
        })
        .get_async("/sessions", |req, ctx| async move {
            let (keys, _) = page(&kv(&ctx, "SESSIONS")?, "session:".into(), &req).await?;
            let rows: Vec<Value> = keys.iter().map(|k| json!({ "token": &k.name[8..], "expiration": k.expiration })).collect();
            Response::from_json(&rows)
        })
        .run(req, env)
        .await
}
