//! Coordination on Workers: a strict unique index, a lock and an exact rate
//! limit, all on the `KvgenCoordinator` Durable Object (kvgen's `durable`
//! feature), beside a plain unique index for comparison. `scripts/e2e`
//! sends them bursts of concurrent requests.

use kvgen::coord::COORDINATOR_BINDING;
use kvgen::{DurableCoordinator, KvModel, Lock, RateLimiter, WorkerKv};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::cell::Cell;
use std::time::Duration;
use worker::{Env, Request, Response, Result, RouteContext, Router};

/// An account whose email is strict: claimed on the coordinator.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug)]
#[kv(binding = "APP", prefix = "account", strict)]
pub struct Account {
    /// The account id.
    #[kv(id)]
    pub id: String,
    /// One account per email, even under racing creates.
    #[kv(unique)]
    pub email: String,
}

/// The same shape with a plain unique index, for comparison.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug)]
#[kv(binding = "APP", prefix = "signup")]
pub struct Signup {
    /// The signup id.
    #[kv(id)]
    pub id: String,
    /// Unique as far as KV's view at each write goes.
    #[kv(unique)]
    pub email: String,
}

thread_local! {
    /// Requests inside the critical section now, and the most ever seen at
    /// once: every request of this Worker runs in one isolate locally, so
    /// this counts overlap across concurrent requests.
    static INSIDE: Cell<u32> = const { Cell::new(0) };
    static MOST: Cell<u32> = const { Cell::new(0) };
}

async fn critical_section() {
    INSIDE.with(|n| n.set(n.get() + 1));
    MOST.with(|m| m.set(m.get().max(INSIDE.with(Cell::get))));
    worker::Delay::from(Duration::from_millis(25)).await;
    INSIDE.with(|n| n.set(n.get() - 1));
}

fn coordinator(env: &Env) -> Result<DurableCoordinator> {
    Ok(DurableCoordinator::new(env.durable_object(COORDINATOR_BINDING)?))
}

fn reply<T: Serialize>(result: kvgen::Result<T>) -> Result<Response> {
    match result {
        Ok(v) => Response::from_json(&v),
        Err(e) => {
            Ok(Response::from_json(&json!({ "error": e.to_string(), "kind": e.kind() }))?.with_status(e.http_status()))
        }
    }
}

fn param(ctx: &RouteContext<()>, name: &str) -> String {
    ctx.param(name).cloned().unwrap_or_default()
}

async fn wait(_attempt: u32) {
    worker::Delay::from(Duration::from_millis(10)).await;
}

/// The routes.
pub fn routes(router: Router<'_, ()>) -> Router<'_, ()> {
    router
        .post_async("/strict/accounts", |mut req: Request, ctx| async move {
            let account: Account = req.json().await?;
            let store = WorkerKv::from_env(&ctx.env, "APP")?;
            reply(Account::repo(&store).create(&account).await.map(|_| account))
        })
        .get_async("/strict/accounts/by-email/:email", |_, ctx| async move {
            let store = WorkerKv::from_env(&ctx.env, "APP")?;
            reply(Account::repo(&store).find_by_email(&param(&ctx, "email")).await)
        })
        .post_async("/plain/signups", |mut req: Request, ctx| async move {
            let signup: Signup = req.json().await?;
            let store = WorkerKv::from_env(&ctx.env, "APP")?;
            reply(Signup::repo(&store).create(&signup).await.map(|_| signup))
        })
        .post_async("/coord/lock/:name/:token", |_, ctx| async move {
            let coord = coordinator(&ctx.env)?;
            let lock = Lock::new(&coord, &param(&ctx, "name"), param(&ctx, "token"), 10_000);
            let ran = lock.with_lock(1000, wait, critical_section()).await?;
            Response::from_json(&json!({ "acquired": ran.ran() }))
        })
        .post_async("/coord/unlocked", |_, _| async move {
            critical_section().await;
            Response::from_json(&json!({ "acquired": true }))
        })
        .get_async("/coord/overlap", |_, _| async move {
            // The most requests seen in the critical section at once, then reset.
            let most = MOST.with(|m| m.replace(0));
            Response::from_json(&json!({ "most_inside": most }))
        })
        .post_async("/coord/rate/:key", |_, ctx| async move {
            let coord = coordinator(&ctx.env)?;
            let limiter = RateLimiter::sliding(&coord, "e2e", 10, 3_600_000);
            let d = limiter.hit(&param(&ctx, "key")).await?;
            Response::from_json(&json!({ "allowed": d.allowed, "remaining": d.remaining, "reset_at": d.reset_at }))
        })
}
