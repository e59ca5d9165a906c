//! The everyday patterns of `examples/patterns` as routes, on the APP
//! binding: sessions, a stale-while-revalidate cache revalidated through
//! `Context::wait_until`, feature flags, a configuration singleton kept per
//! isolate, and cache warming.

use std::cell::Cell;

use kvgen::rollout::Rollout;
use kvgen::swr::Swr;
use kvgen::{Memo, WorkerKv};
use patterns::config::{self, Config};
use patterns::events::{self, Event, Snapshot};
use patterns::flags::{self, Flag};
use patterns::sessions::{self, Session};
use patterns::swr_cache::{self, Rate};
use patterns::warming::{self, Product};
use serde_json::{json, Value};
use worker::{Context, Env, Request, Response, Result, Router};

use crate::{body, found, param, query, reply};

fn app(env: &Env) -> Result<WorkerKv> {
    Ok(WorkerKv::from_env(env, "APP")?)
}

/// This isolate's copy of the configuration.
static CONFIG: Memo<Config> = Memo::new(config::MAX_AGE);

thread_local! {
    /// How many times this isolate's stand-in upstream was asked for a rate.
    static UPSTREAM_CALLS: Cell<u64> = const { Cell::new(0) };
}

/// The stand-in upstream: a new rate each time it is asked.
fn upstream_rate() -> u64 {
    UPSTREAM_CALLS.with(|c| {
        c.set(c.get() + 1);
        1_000_000 + c.get()
    })
}

/// `GET /patterns/rates/:pair[?fresh=S]`: stale-while-revalidate, the
/// revalidation run after the response by `wait_until`. `fresh` shortens
/// the fresh window, so a test can see a stale answer and its revalidation
/// without waiting a minute.
pub async fn rate(req: &Request, env: &Env, ctx: &Context, pair: &str) -> Result<Response> {
    let fresh = query(req, "fresh").and_then(|f| f.parse().ok()).unwrap_or(swr_cache::POLICY.fresh);
    let policy = Swr { fresh, ..swr_cache::POLICY };
    let owned = pair.to_string();
    let fetch = move || async move { Ok(Rate { pair: owned, micros: upstream_rate(), fetched_at: 0 }) };
    let spawn = |revalidation: kvgen::swr::Revalidation| {
        ctx.wait_until(async move {
            if let Err(e) = revalidation.await {
                worker::console_error!("revalidation failed: {e}");
            }
        })
    };
    let got = kvgen::swr::get_or_fetch(app(env)?, "", pair.to_string(), policy, fetch, spawn).await;
    reply(got.map(|(rate, served)| json!({ "rate": rate, "served": format!("{served:?}") })))
}

/// The other pattern routes.
pub fn routes(router: Router<'_, ()>) -> Router<'_, ()> {
    router
        // ---- sessions
        .post_async("/patterns/sessions", |mut req, ctx| async move {
            let user: Value = body(&mut req).await?;
            let store = app(&ctx.env)?;
            let user_id = user["user_id"].as_str().unwrap_or_default().to_string();
            reply(sessions::start(&Session::repo(&store), &user_id).await)
        })
        .get_async("/patterns/sessions/:token", |_, ctx| async move {
            let store = app(&ctx.env)?;
            found(sessions::resume(&Session::repo(&store), param(&ctx, "token")).await)
        })
        .patch_async("/patterns/sessions/:token", |mut req, ctx| async move {
            let data: std::collections::BTreeMap<String, String> = body(&mut req).await?;
            let pairs: Vec<(&str, &str)> = data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let store = app(&ctx.env)?;
            found(sessions::merge(&Session::repo(&store), param(&ctx, "token"), &pairs).await)
        })
        .delete_async("/patterns/sessions/:token", |_, ctx| async move {
            let store = app(&ctx.env)?;
            reply(sessions::destroy(&Session::repo(&store), param(&ctx, "token")).await)
        })
        .get_async("/patterns/users/:id/sessions", |_, ctx| async move {
            let store = app(&ctx.env)?;
            reply(sessions::of_user(&Session::repo(&store), param(&ctx, "id")).await)
        })
        // Up to 300 sessions per request: `{"ended": n, "cursor": c}`, then
        // again with `?cursor=c` until the cursor is null.
        .delete_async("/patterns/users/:id/sessions", |req, ctx| async move {
            let store = app(&ctx.env)?;
            let cursor = query(&req, "cursor");
            reply(sessions::destroy_all(&Session::repo(&store), param(&ctx, "id"), cursor).await)
        })
        // ---- feature flags
        .put_async("/patterns/flags/:name", |mut req, ctx| async move {
            let rollout: Rollout = body(&mut req).await?;
            let flag = Flag { name: param(&ctx, "name").into(), rollout, note: String::new() };
            let store = app(&ctx.env)?;
            reply(flags::set(&Flag::repo(&store), &flag).await.map(|_| flag))
        })
        .get_async("/patterns/flags/:name/:subject", |_, ctx| async move {
            let store = app(&ctx.env)?;
            let on = flags::is_on(&Flag::repo(&store), param(&ctx, "name"), param(&ctx, "subject")).await;
            reply(on.map(|on| json!({ "on": on })))
        })
        // ---- the configuration singleton, kept per isolate
        .get_async("/patterns/config", |_, ctx| async move {
            let store = app(&ctx.env)?;
            let from = if CONFIG.get(kvgen::KvStore::now(&store)).is_some() { "isolate" } else { "kv" };
            let config = config::current(&Config::repo(&store), &CONFIG).await;
            reply(config.map(|c| json!({ "config": c, "from": from })))
        })
        .patch_async("/patterns/config", |mut req, ctx| async move {
            let patch: Value = body(&mut req).await?;
            let store = app(&ctx.env)?;
            let changed = config::change(&Config::repo(&store), &CONFIG, |c| {
                if let Some(b) = patch["banner"].as_str() {
                    c.banner = b.into();
                }
                if let Some(r) = patch["rate_per_minute"].as_u64() {
                    c.rate_per_minute = r as u32;
                }
                if let Some(s) = patch["signups_open"].as_bool() {
                    c.signups_open = s;
                }
            })
            .await;
            reply(changed)
        })
        // ---- an event log per stream, newest first, with snapshots
        .post_async("/patterns/events/:stream", |mut req, ctx| async move {
            let e: Value = body(&mut req).await?;
            let store = app(&ctx.env)?;
            let (cents, memo) = (e["cents"].as_i64().unwrap_or(0), e["memo"].as_str().unwrap_or(""));
            reply(events::append(&Event::repo(&store), param(&ctx, "stream"), cents, memo).await)
        })
        .get_async("/patterns/events/:stream", |req, ctx| async move {
            let store = app(&ctx.env)?;
            let from = query(&req, "from").and_then(|f| f.parse().ok());
            reply(events::newest_first(&Event::repo(&store), param(&ctx, "stream"), from, crate::page(&req)).await)
        })
        .get_async("/patterns/events/:stream/balance", |_, ctx| async move {
            let store = app(&ctx.env)?;
            let balance = events::balance(&Event::repo(&store), &Snapshot::repo(&store), param(&ctx, "stream")).await;
            reply(balance.map(|cents| json!({ "cents": cents })))
        })
        .post_async("/patterns/events/:stream/snapshot", |_, ctx| async move {
            let store = app(&ctx.env)?;
            let now_ms = worker::Date::now().as_millis();
            reply(events::snapshot(&Event::repo(&store), &Snapshot::repo(&store), param(&ctx, "stream"), now_ms).await)
        })
        // ---- cache warming, from a stand-in origin that knows every SKU not ending in 7
        .post_async("/patterns/warm", |mut req, ctx| async move {
            let skus: Vec<String> = body(&mut req).await?;
            let store = app(&ctx.env)?;
            let asked = Cell::new(0usize);
            let origin = |missing: Vec<&String>| {
                asked.set(missing.len());
                let known = missing.into_iter().filter(|s| !s.ends_with('7'));
                let found = known.map(|s| Product { sku: s.clone(), name: format!("Product {s}"), cents: 999 });
                std::future::ready(Ok(found.collect()))
            };
            let warmed = warming::warm(&Product::repo(&store), &skus, origin).await;
            reply(
                warmed
                    .map(|w| json!({ "found": w.iter().filter(|p| p.is_some()).count(), "asked_origin": asked.get() })),
            )
        })
}
