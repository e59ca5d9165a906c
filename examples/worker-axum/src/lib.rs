//! axum on Workers over kvgen: the blog's users behind an axum `Router`.
//!
//! - The generated `KvEnv` goes in an `Arc` as the router's state (`WorkerKv`
//!   is `Send + Sync` on wasm32, so axum accepts it).
//! - Handlers await JavaScript futures, which are not `Send`: `#[worker::send]`
//!   makes each handler's future `Send`, as axum requires.
//! - A handler returns `Result<_, kvgen::Error>`: with kvgen's `axum` feature
//!   the error answers with its status (`NotFound` 404, `UniqueViolation` 409,
//!   ...) and a JSON body `{"kind": .., "message": ..}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use blog::{KvEnv, User};
use kvgen::WorkerKv;
use std::sync::Arc;
use tower_service::Service;
use worker::*;

/// The router's state: every KV binding, with a repository per model.
type Kv = Arc<KvEnv<WorkerKv>>;

fn router(kv: Kv) -> Router {
    Router::new().route("/users", get(count_users).post(create_user)).route("/users/{id}", get(get_user)).with_state(kv)
}

#[event(fetch)]
async fn fetch(req: HttpRequest, env: Env, _ctx: Context) -> Result<axum::http::Response<axum::body::Body>> {
    let kv = Arc::new(KvEnv::from_worker(&env)?);
    Ok(router(kv).call(req).await?)
}

#[worker::send]
async fn count_users(State(kv): State<Kv>) -> std::result::Result<Json<u64>, kvgen::Error> {
    Ok(Json(kv.users().count().await?))
}

#[worker::send]
async fn get_user(State(kv): State<Kv>, Path(id): Path<String>) -> std::result::Result<Response, kvgen::Error> {
    Ok(match kv.users().get(&id).await? {
        Some(user) => Json(user).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    })
}

#[worker::send]
async fn create_user(State(kv): State<Kv>, Json(user): Json<User>) -> std::result::Result<Response, kvgen::Error> {
    kv.users().create(&user).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}
