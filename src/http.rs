//! kvgen errors at an HTTP boundary: a status code per kind, `?` in a
//! Worker's `#[event(fetch)]` handler (feature `worker`), and axum's
//! `IntoResponse` (feature `axum`).

use crate::error::Error;

impl Error {
    /// The HTTP status that answers this error:
    ///
    /// | kind | status |
    /// |---|---|
    /// | `NotFound` | 404 |
    /// | `AlreadyExists`, `UniqueViolation` | 409 |
    /// | `ValueTooLarge`, `MetadataTooLarge` | 413 |
    /// | `KeyTooLong` | 414 |
    /// | other limit and input errors (`InvalidKey`, ttl and expiration, `InvalidCacheTtl`, `ListLimit`, `BulkLimit`, `InvalidCursor`, `InvalidScope`) | 400 |
    /// | `RateLimited`: KV refused a write of a key written under a second before | 429 |
    /// | `Store`: KV rate-limited the call (429) | 503 |
    /// | `Store`: the binding or the var is missing | 500 |
    /// | `Store`: any other failure of the backend | 502 |
    /// | `Serialization`, `NoCoordinator` | 500 |
    /// | `LeaseExpired` | 503 |
    ///
    /// ```
    /// use kvgen::Error;
    ///
    /// assert_eq!(Error::NotFound { model: "user", key: "user:u9".into() }.http_status(), 404);
    /// assert_eq!(Error::ListLimit { limit: 5000 }.http_status(), 400);
    /// let throttled = Error::Store { op: "put", key: "k".into(), message: "429 Too Many Requests".into(), source: None };
    /// assert_eq!(throttled.http_status(), 503);
    /// ```
    pub fn http_status(&self) -> u16 {
        match self {
            Error::NotFound { .. } => 404,
            Error::AlreadyExists { .. } | Error::UniqueViolation { .. } => 409,
            Error::ValueTooLarge { .. } | Error::MetadataTooLarge { .. } | Error::BulkTooLarge { .. } => 413,
            Error::KeyTooLong { .. } => 414,
            Error::Store { op: "bind" | "var", .. } => 500,
            Error::Store { message, .. } => {
                let m = message.to_ascii_lowercase();
                if m.contains("429") || m.contains("too many requests") {
                    503
                } else {
                    502
                }
            }
            Error::Serialization { .. } | Error::NoCoordinator { .. } => 500,
            Error::LeaseExpired { .. } => 503,
            Error::RateLimited { .. } => 429,
            _ => 400,
        }
    }

    /// The JSON body that answers this error: `{"kind": "NotFound", "message": "..."}`,
    /// with `"retry_after"` (seconds) for a `UniqueViolation` whose claim has
    /// not settled yet, and `"retry_after_ms"` (milliseconds) for a `RateLimited`.
    ///
    /// ```
    /// use kvgen::Error;
    /// use serde_json::json;
    ///
    /// let taken = Error::UniqueViolation {
    ///     model: "user",
    ///     index: "email",
    ///     value: "ada@example.com".into(),
    ///     holder: "u1".into(),
    ///     retry_after: Some(42),
    /// };
    /// let body = taken.to_json();
    /// assert_eq!(body["kind"], "UniqueViolation");
    /// assert_eq!(body["retry_after"], json!(42));
    /// assert_eq!(body["message"], taken.to_string());
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "kind": self.kind(), "message": self.to_string() });
        match self {
            Error::UniqueViolation { retry_after: Some(secs), .. } => body["retry_after"] = serde_json::json!(secs),
            Error::RateLimited { retry_after, .. } => body["retry_after_ms"] = serde_json::json!(retry_after),
            _ => {}
        }
        body
    }

    /// The seconds of the HTTP `Retry-After` header that answers this error:
    /// a `RateLimited`'s milliseconds rounded up (at least 1); `None` for the
    /// other kinds.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(retry_after.div_ceil(1000).max(1)),
            _ => None,
        }
    }
}

#[cfg(feature = "worker")]
impl Error {
    /// This error as a Worker's HTTP answer: the status of
    /// [`http_status`](Error::http_status) and the [`to_json`](Error::to_json)
    /// body, as `application/json`, with a `Retry-After` header when
    /// [`retry_after_secs`](Error::retry_after_secs) gives one. For a handler of `#[event(fetch)]`, where
    /// `?` would answer every kvgen error with a 500:
    ///
    /// ```no_run
    /// use kvgen::{KvModel, KvStore};
    /// use serde::{Deserialize, Serialize};
    /// use worker::Response;
    ///
    /// #[derive(KvModel, Serialize, Deserialize, Clone, Debug)]
    /// #[kv(binding = "APP")]
    /// pub struct User {
    ///     #[kv(id)]
    ///     pub id: String,
    ///     #[kv(unique)]
    ///     pub email: String,
    /// }
    ///
    /// async fn sign_up<S: KvStore>(store: &S, user: User) -> worker::Result<Response> {
    ///     match User::repo(store).create(&user).await {
    ///         Ok(()) => Ok(Response::from_json(&user)?.with_status(201)),
    ///         Err(e) => e.to_response(), // a taken email: 409 {"kind": "UniqueViolation", ..}
    ///     }
    /// }
    /// ```
    ///
    /// (Compiled, not run: it builds a JavaScript `Response`.)
    pub fn to_response(&self) -> worker::Result<worker::Response> {
        let mut response = worker::Response::from_json(&self.to_json())?.with_status(self.http_status());
        if let Some(secs) = self.retry_after_secs() {
            response.headers_mut().set("Retry-After", &secs.to_string())?;
        }
        Ok(response)
    }
}

/// A Worker's HTTP answer to a kvgen result: `value` as JSON with status 200,
/// or the error's [`Error::to_response`]. Compiled, not run (it builds a
/// JavaScript `Response`):
///
/// ```no_run
/// fn answer(found: kvgen::Result<Vec<String>>) -> worker::Result<worker::Response> {
///     kvgen::respond(found)
/// }
/// ```
#[cfg(feature = "worker")]
pub fn respond<T: serde::Serialize>(result: crate::error::Result<T>) -> worker::Result<worker::Response> {
    match result {
        Ok(value) => worker::Response::from_json(&value),
        Err(e) => e.to_response(),
    }
}

/// `?` on a kvgen call in a Worker handler returning `worker::Result`: the
/// message keeps the kind, as in `kvgen NotFound: user `user:u9` not found`
/// (the Worker answers 500; [`Error::to_response`] answers with the error's status).
#[cfg(feature = "worker")]
impl From<Error> for worker::Error {
    fn from(e: Error) -> Self {
        worker::Error::RustError(format!("kvgen {}: {e}", e.kind()))
    }
}

/// An axum handler may return `Result<_, kvgen::Error>`: the error answers
/// with [`Error::http_status`] and the [`Error::to_json`] body, and a
/// `Retry-After` header when [`Error::retry_after_secs`] gives one.
///
/// ```
/// use axum_core::response::IntoResponse;
///
/// let response = kvgen::Error::NotFound { model: "user", key: "user:u9".into() }.into_response();
/// assert_eq!(response.status(), 404);
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Error {
    fn into_response(self) -> axum_core::response::Response {
        let status = http::StatusCode::from_u16(self.http_status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.to_json().to_string();
        let mut response = (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response();
        if let Some(secs) = self.retry_after_secs() {
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(op: &'static str, message: &str) -> Error {
        Error::Store { op, key: "k".into(), message: message.into(), source: None }
    }

    /// An email taken by `u1`, its claim settled.
    fn taken() -> Error {
        Error::UniqueViolation {
            model: "user",
            index: "email",
            value: "a".into(),
            holder: "u1".into(),
            retry_after: None,
        }
    }

    #[test]
    fn statuses() {
        let cases: Vec<(Error, u16)> = vec![
            (Error::NotFound { model: "user", key: "user:u1".into() }, 404),
            (Error::AlreadyExists { model: "user", key: "user:u1".into() }, 409),
            (taken(), 409),
            (Error::ValueTooLarge { key: "k".into(), size: 1 }, 413),
            (Error::MetadataTooLarge { key: "k".into(), size: 1 }, 413),
            (Error::KeyTooLong { key: "k".into(), len: 513 }, 414),
            (Error::TtlTooShort { key: "k".into(), ttl: 1 }, 400),
            (Error::ListLimit { limit: 1001 }, 400),
            (Error::InvalidCacheTtl { cache_ttl: 29, min: 30 }, 400),
            (Error::BulkLimit { count: 101 }, 400),
            (Error::InvalidCursor { cursor: "x".into() }, 400),
            (Error::InvalidScope { scope: "a b".into(), reason: "r" }, 400),
            (store("put", "KV PUT failed: 429 Too Many Requests"), 503),
            (Error::RateLimited { key: "k".into(), retry_after: 1000 }, 429),
            (store("get", "network connection lost"), 502),
            (store("bind", "no binding"), 500),
            (Error::Serialization { key: "k".into(), message: "eof".into(), source: None }, 500),
        ];
        for (e, status) in cases {
            assert_eq!(e.http_status(), status, "{e:?}");
        }
    }

    #[test]
    fn json_body_names_the_kind() {
        let e = Error::NotFound { model: "user", key: "user:u9".into() };
        assert_eq!(e.to_json(), serde_json::json!({ "kind": "NotFound", "message": "user `user:u9` not found" }));
        let e = Error::UniqueViolation {
            model: "link",
            index: "slug",
            value: "s".into(),
            holder: "l1".into(),
            retry_after: Some(80),
        };
        let body = e.to_json();
        assert_eq!(body["retry_after"], 80);
        assert_eq!(
            body["message"],
            "unique index link.slug already holds `s` (record `l1`); the claim settles in 80 s"
        );
        let e = Error::RateLimited { key: "user:u1".into(), retry_after: 1200 };
        let body = e.to_json();
        assert_eq!(body["kind"], "RateLimited");
        assert_eq!(body["retry_after_ms"], 1200);
        assert_eq!(
            body["message"],
            "Workers KV takes one write per second per key: the write of `user:u1` was refused (retry after 1200 ms)"
        );
        assert_eq!(e.retry_after_secs(), Some(2));
        assert_eq!(Error::RateLimited { key: "k".into(), retry_after: 0 }.retry_after_secs(), Some(1));
        assert_eq!(Error::NotFound { model: "user", key: "user:u9".into() }.retry_after_secs(), None);
    }

    #[cfg(feature = "axum")]
    #[test]
    fn axum_response() {
        use axum_core::response::IntoResponse;
        let r = taken().into_response();
        assert_eq!(r.status(), 409);
        assert_eq!(r.headers()[http::header::CONTENT_TYPE], "application/json");
        assert!(r.headers().get(http::header::RETRY_AFTER).is_none());
        let r = Error::RateLimited { key: "k".into(), retry_after: 1500 }.into_response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[http::header::RETRY_AFTER], "2");
    }
}
