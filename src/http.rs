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
    /// | `Store`: KV rate-limited the call (429) | 503 |
    /// | `Store`: the binding or the var is missing | 500 |
    /// | `Store`: any other failure of the backend | 502 |
    /// | `Serialization`, `NoCoordinator` | 500 |
    /// | `LeaseExpired` | 503 |
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
            _ => 400,
        }
    }

    /// The JSON body that answers this error: `{"kind": "NotFound", "message": "..."}`,
    /// with `"retry_after"` (seconds) for a `UniqueViolation` whose claim has
    /// not settled yet.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "kind": self.kind(), "message": self.to_string() });
        if let Error::UniqueViolation { retry_after: Some(secs), .. } = self {
            body["retry_after"] = serde_json::json!(secs);
        }
        body
    }
}

#[cfg(feature = "worker")]
impl Error {
    /// This error as a Worker's HTTP answer: the status of
    /// [`http_status`](Error::http_status) and the [`to_json`](Error::to_json)
    /// body, as `application/json`. For a handler of `#[event(fetch)]`, where
    /// `?` would answer every kvgen error with a 500:
    ///
    /// ```ignore
    /// match kv.users().create(&user).await {
    ///     Ok(()) => Ok(Response::from_json(&user)?.with_status(201)),
    ///     Err(e) => e.to_response(), // a taken email: 409 {"kind": "UniqueViolation", ..}
    /// }
    /// ```
    pub fn to_response(&self) -> worker::Result<worker::Response> {
        Ok(worker::Response::from_json(&self.to_json())?.with_status(self.http_status()))
    }
}

/// A Worker's HTTP answer to a kvgen result: `value` as JSON with status 200,
/// or the error's [`Error::to_response`].
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
/// with [`Error::http_status`] and the [`Error::to_json`] body.
#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Error {
    fn into_response(self) -> axum_core::response::Response {
        let status = http::StatusCode::from_u16(self.http_status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.to_json().to_string();
        (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(op: &'static str, message: &str) -> Error {
        Error::Store { op, key: "k".into(), message: message.into(), source: None }
    }

    #[test]
    fn statuses() {
        let cases: Vec<(Error, u16)> = vec![
            (Error::NotFound { model: "user", key: "user:u1".into() }, 404),
            (Error::AlreadyExists { model: "user", key: "user:u1".into() }, 409),
            (
                Error::UniqueViolation {
                    model: "user",
                    index: "email",
                    value: "a".into(),
                    holder: "u1".into(),
                    retry_after: None,
                },
                409,
            ),
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
    }

    #[cfg(feature = "axum")]
    #[test]
    fn axum_response() {
        use axum_core::response::IntoResponse;
        let e = Error::UniqueViolation {
            model: "user",
            index: "email",
            value: "a".into(),
            holder: "u1".into(),
            retry_after: None,
        };
        let r = e.into_response();
        assert_eq!(r.status(), 409);
        assert_eq!(r.headers()[http::header::CONTENT_TYPE], "application/json");
    }
}
