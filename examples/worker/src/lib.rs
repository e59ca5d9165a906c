//! A Rust Worker over the blog models. Its HTTP routes exercise every
//! repository capability through the generated `KvEnv`; `/__conformance/NAME`
//! runs one of kvgen's behaviour scenarios against the real KV binding, so
//! the same scenarios that pass on MemoryStore are shown passing on Workers KV.

use blog::{Comment, KvEnv as Bindings, Post, Profile, Session, User};
use kvgen::{Page, WorkerKv, WriteOptions};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::json;
use worker::{event, Context, Env, Request, Response, Result, Router};

/// Answers a kvgen result: JSON on success, an HTTP status naming the error otherwise.
fn reply<T: Serialize>(result: kvgen::Result<T>) -> Result<Response> {
    match result {
        Ok(v) => Response::from_json(&v),
        Err(e) => {
            Ok(Response::from_json(&json!({ "error": e.to_string(), "kind": e.kind() }))?.with_status(e.http_status()))
        }
    }
}

fn found<T: Serialize>(result: kvgen::Result<Option<T>>) -> Result<Response> {
    match result {
        Ok(None) => Ok(Response::from_json(&json!({ "error": "not found" }))?.with_status(404)),
        other => reply(other.map(|v| v.expect("some"))),
    }
}

async fn body<T: DeserializeOwned>(req: &mut Request) -> Result<T> {
    // serde_json on the text: `req.json()` goes through JavaScript's JSON.parse, which rounds integers beyond 2^53.
    let text = req.text().await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("request body: {e}")))
}

fn page(req: &Request) -> Page {
    let url = req.url().ok();
    let q =
        |name: &str| url.as_ref().and_then(|u| u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()));
    let limit = q("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    Page { limit, cursor: q("cursor") }
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.url().ok()?.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn bindings(env: &Env) -> Result<Bindings<WorkerKv>> {
    // `?` on a kvgen error in a `worker::Result` function: kvgen's `worker` feature converts it.
    Ok(Bindings::from_worker(env)?)
}

fn param<'a>(ctx: &'a worker::RouteContext<()>, name: &str) -> &'a str {
    ctx.param(name).map(String::as_str).unwrap_or("")
}

#[cfg(feature = "coordination")]
mod coordination;

#[cfg(feature = "patterns")]
mod patterns;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    // The one route that needs the request's `Context` (for `wait_until`),
    // which the router does not carry.
    #[cfg(feature = "patterns")]
    if let Some(pair) = req.path().strip_prefix("/patterns/rates/") {
        return patterns::rate(&req, &env, &ctx, pair).await;
    }
    #[cfg(not(feature = "patterns"))]
    let _ = ctx;
    let router = operations(app(Router::new()));
    #[cfg(feature = "patterns")]
    let router = patterns::routes(router);
    #[cfg(feature = "coordination")]
    let router = coordination::routes(router);
    router.run(req, env).await
}

/// The application: every repository capability over HTTP.
fn app(router: Router<'_, ()>) -> Router<'_, ()> {
    router
        // ---- users: CRUD, unique and compound-unique finders, upsert, index listing
        .get_async("/users", |req, ctx| async move { reply(bindings(&ctx.env)?.users().list(page(&req)).await) })
        .get_async("/users/count", |_, ctx| async move { reply(bindings(&ctx.env)?.users().count().await) })
        .get_async("/users/meta", |req, ctx| async move {
            let listed = bindings(&ctx.env)?.users().list_meta(page(&req)).await;
            reply(listed.map(|p| json!({ "items": p.items.iter().map(|l| json!({ "id": l.id, "name": l.meta.as_ref().map(|m| &m.name) })).collect::<Vec<_>>(), "cursor": p.cursor })))
        })
        .post_async("/users", |mut req, ctx| async move {
            let user: User = body(&mut req).await?;
            reply(bindings(&ctx.env)?.users().create(&user).await.map(|_| user)).map(|r| if r.status_code() == 200 { r.with_status(201) } else { r })
        })
        .post_async("/users/upsert-by-email", |mut req, ctx| async move {
            let user: User = body(&mut req).await?;
            reply(bindings(&ctx.env)?.users().upsert_by_email(user).await)
        })
        .get_async("/users/by-email/:email", |_, ctx| async move {
            found(bindings(&ctx.env)?.users().find_by_email(param(&ctx, "email")).await)
        })
        .get_async("/users/:id", |_, ctx| async move {
            found(bindings(&ctx.env)?.users().get(&param(&ctx, "id").to_string()).await)
        })
        .get_async("/users/:id/exists", |_, ctx| async move {
            reply(bindings(&ctx.env)?.users().exists(&param(&ctx, "id").to_string()).await)
        })
        .put_async("/users/:id", |mut req, ctx| async move {
            let user: User = body(&mut req).await?;
            reply(bindings(&ctx.env)?.users().put(&user).await.map(|_| user))
        })
        .patch_async("/users/:id", |mut req, ctx| async move {
            let user: User = body(&mut req).await?;
            reply(bindings(&ctx.env)?.users().update(&user).await.map(|_| user))
        })
        .delete_async("/users/:id", |_, ctx| async move {
            reply(bindings(&ctx.env)?.users().delete(&param(&ctx, "id").to_string()).await)
        })
        .get_async("/orgs/:org/users", |req, ctx| async move {
            reply(bindings(&ctx.env)?.users().list_by_org_id(param(&ctx, "org"), page(&req)).await)
        })
        .get_async("/orgs/:org/users/:handle", |_, ctx| async move {
            found(bindings(&ctx.env)?.users().find_by_org_id_and_handle(param(&ctx, "org"), param(&ctx, "handle")).await)
        })
        // ---- relations
        .get_async("/users/:id/posts", |req, ctx| async move {
            let b = bindings(&ctx.env)?;
            let Some(user) = b.users().get(&param(&ctx, "id").to_string()).await? else {
                return found::<()>(Ok(None));
            };
            reply(b.users().list_posts(&user, page(&req)).await)
        })
        .get_async("/users/:id/profile", |_, ctx| async move {
            let b = bindings(&ctx.env)?;
            let Some(user) = b.users().get(&param(&ctx, "id").to_string()).await? else {
                return found::<()>(Ok(None));
            };
            found(b.users().load_profile(&user).await)
        })
        .post_async("/profiles", |mut req, ctx| async move {
            let profile: Profile = body(&mut req).await?;
            reply(bindings(&ctx.env)?.profiles().create(&profile).await.map(|_| profile))
        })
        .post_async("/posts", |mut req, ctx| async move {
            let post: Post = body(&mut req).await?;
            reply(bindings(&ctx.env)?.posts().create(&post).await.map(|_| post))
        })
        .get_async("/posts/authors", |req, ctx| async move {
            // A page of posts with their authors, loaded in one batch.
            let b = bindings(&ctx.env)?;
            let posts = b.posts().list(page(&req)).await?.items;
            let authors = b.posts().load_authors(&posts).await?;
            let rows: Vec<_> = posts.iter().zip(authors).map(|(p, a)| json!({ "post": p.id, "author": a.map(|a| a.handle) })).collect();
            Response::from_json(&rows)
        })
        .get_async("/posts/:id/author", |_, ctx| async move {
            let b = bindings(&ctx.env)?;
            let id: u64 = param(&ctx, "id").parse().unwrap_or(0);
            let Some(post) = b.posts().get(&id).await? else { return found::<()>(Ok(None)) };
            found(b.posts().load_author(&post).await)
        })
        .get_async("/posts/:id/comments", |req, ctx| async move {
            let b = bindings(&ctx.env)?;
            let id: u64 = param(&ctx, "id").parse().unwrap_or(0);
            let Some(post) = b.posts().get(&id).await? else { return found::<()>(Ok(None)) };
            reply(b.posts().list_comments(&post, page(&req)).await)
        })
        .post_async("/comments", |mut req, ctx| async move {
            let comment: Comment = body(&mut req).await?;
            reply(bindings(&ctx.env)?.comments().create(&comment).await.map(|_| comment))
        })
        // ---- every key under the scope the Worker's STAGE var names (`?var=` names another)
        .post_async("/stage/comments", |mut req, ctx| async move {
            let comment: Comment = body(&mut req).await?;
            let var = query(&req, "var").unwrap_or_else(|| "STAGE".into());
            match Bindings::from_worker_scoped_by(&ctx.env, &var) {
                Ok(staged) => reply(staged.comments().create(&comment).await.map(|_| comment)),
                Err(e) => reply::<()>(Err(e)),
            }
        })
        // ---- ttl, expiration and metadata
        .post_async("/sessions", |mut req, ctx| async move {
            let session: Session = body(&mut req).await?;
            let opts = WriteOptions { ttl: query(&req, "ttl").and_then(|t| t.parse().ok()), expiration: query(&req, "expiration").and_then(|t| t.parse().ok()), ..WriteOptions::default() };
            reply(bindings(&ctx.env)?.sessions().create_with(&session, opts).await.map(|_| session))
        })
        .get_async("/sessions", |req, ctx| async move {
            let listed = bindings(&ctx.env)?.sessions().list_meta(page(&req)).await;
            reply(listed.map(|p| p.items.iter().map(|l| json!({ "token": l.id, "expiration": l.expiration })).collect::<Vec<_>>()))
        })
}

/// Admin and conformance routes, each behind its feature.
fn operations(router: Router<'_, ()>) -> Router<'_, ()> {
    #[cfg(feature = "admin")]
    let router = router
        // Index verification and repair across every model.
        .get_async("/admin/verify", |_, ctx| async move { reply(bindings(&ctx.env)?.verify_all().await) })
        .post_async("/admin/repair", |_, ctx| async move { reply(bindings(&ctx.env)?.repair_all().await) });
    #[cfg(feature = "conformance")]
    let router = router
        // The conformance scenarios, on the APP binding.
        .on_async("/__conformance/:name", |req, ctx| async move {
            if req.method() != worker::Method::Post {
                return Response::error("POST only", 405);
            }
            // `?store=held`: the store made from a `worker::kv::KvStore` the Worker already holds.
            let store = match query(&req, "store").as_deref() {
                Some("held") => WorkerKv::from(ctx.env.kv("APP")?),
                _ => WorkerKv::from_env(&ctx.env, "APP")?,
            };
            let run = query(&req, "run").unwrap_or_else(|| "run".into());
            let now = worker::Date::now().as_millis() / 1000;
            let scenario_ctx = kvgen_tests::scenarios::Ctx { run, now };
            let outcome = kvgen_tests::scenarios::run(param(&ctx, "name"), &store, &scenario_ctx).await;
            Response::from_json(&json!({ "ok": outcome.is_ok(), "error": outcome.err() }))
        })
        .get_async("/__keys", |req, ctx| async move {
            // Every key of the APP binding under a prefix (a debugging aid).
            let store = WorkerKv::from_env(&ctx.env, "APP")?;
            let prefix = query(&req, "prefix").unwrap_or_default();
            let listed =
                kvgen::KvStore::list(&store, &kvgen::ListOptions { prefix, cursor: None, limit: 1000 }).await?;
            Response::from_json(&listed.keys.iter().map(|k| &k.name).collect::<Vec<_>>())
        });
    router
}
