//! The one error type of kvgen: every variant is a fact a user can act on.

/// An error kvgen wraps ([`Error::Serialization`], [`Error::Store`]), kept
/// as the wrapping error's [`source`](std::error::Error::source).
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a kvgen call can fail with.
///
/// Store backends return it too, so limit violations look the same whether
/// [`MemoryStore`](crate::MemoryStore) or Workers KV caught them.
///
/// Match the variant to act on it (the enum is `#[non_exhaustive]`: keep a
/// catch-all arm):
///
/// ```
/// use kvgen::{Error, KvModel, MemoryStore};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[kv(binding = "APP")]
/// pub struct User {
///     #[kv(id)]
///     pub id: String,
///     #[kv(unique)]
///     pub email: String,
/// }
///
/// # pollster::block_on(async {
/// let store = MemoryStore::new();
/// let users = User::repo(&store);
/// users.create(&User { id: "u1".into(), email: "ada@example.com".into() }).await?;
/// let taken = users.create(&User { id: "u2".into(), email: "ada@example.com".into() }).await;
/// let answer = match taken {
///     Err(Error::UniqueViolation { index, holder, .. }) => format!("{index} taken by {holder}"),
///     Err(Error::AlreadyExists { .. }) => "id taken".to_string(),
///     Err(other) => return Err(other),
///     Ok(()) => "created".to_string(),
/// };
/// assert_eq!(answer, "email taken by u1");
///
/// let again = users.create(&User { id: "u1".into(), email: "bob@example.com".into() }).await.unwrap_err();
/// assert_eq!(again.kind(), "AlreadyExists");
/// assert!(!again.is_limit());
/// assert_eq!(again.to_string(), "user `user:u1` already exists");
/// # Ok::<(), kvgen::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `update` found no record with that id.
    #[error("{model} `{key}` not found")]
    NotFound {
        /// The model's key prefix.
        model: &'static str,
        /// The record key that was read.
        key: String,
    },
    /// `create` found a record with that id already.
    #[error("{model} `{key}` already exists")]
    AlreadyExists {
        /// The model's key prefix.
        model: &'static str,
        /// The record key that is taken.
        key: String,
    },
    /// Another live record already carries this unique value.
    #[error("unique index {model}.{index} already holds `{value}` (record `{holder}`){}", retry_note(*.retry_after))]
    UniqueViolation {
        /// The model's key prefix.
        model: &'static str,
        /// The index name.
        index: &'static str,
        /// The encoded value, components joined by `:`.
        value: String,
        /// The id of the record holding the value, as written (`42`, not its
        /// key form `00000000000000000042`).
        holder: String,
        /// For a strict index, seconds until the holder's claim settles when
        /// it has not: the next write of the value after that checks the
        /// holder's record on KV and takes the value if the record no longer
        /// carries it (deleted, expired, changed). `None` when KV (or a
        /// settled claim checked against it) shows the holder carrying it.
        retry_after: Option<u64>,
    },
    /// A key is longer than the 512 bytes KV accepts.
    #[error("key is {len} bytes, over the 512-byte limit: `{key}`")]
    KeyTooLong {
        /// The key (as long as it is).
        key: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A key KV refuses for another reason: empty, `.` or `..`.
    #[error("invalid key `{key}`: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why KV refuses it.
        reason: &'static str,
    },
    /// A value is over the 25 MiB limit.
    #[error("value of `{key}` is {size} bytes, over the 25 MiB limit")]
    ValueTooLarge {
        /// The key written.
        key: String,
        /// The value's size in bytes.
        size: usize,
    },
    /// Serialized metadata is over the 1024-byte limit.
    #[error("metadata of `{key}` is {size} bytes, over the 1024-byte limit")]
    MetadataTooLarge {
        /// The key written.
        key: String,
        /// The serialized metadata's size in bytes.
        size: usize,
    },
    /// `expiration_ttl` under 60 seconds.
    #[error("expiration_ttl {ttl}s for `{key}` is under the 60 s minimum")]
    TtlTooShort {
        /// The key written.
        key: String,
        /// The ttl asked for, in seconds.
        ttl: u64,
    },
    /// `expiration_ttl` so long that the expiration it gives (now + ttl) is
    /// past [`MAX_EXPIRATION`](crate::store::limits::MAX_EXPIRATION).
    // The bound is KV's 32-bit integer, as `limits::MAX_TTL_SECS` defines it
    // (named here by its value, so errors do not depend on the checks).
    #[error("expiration_ttl {ttl}s for `{key}` is over the maximum ({max} s)", max = i32::MAX)]
    TtlTooLong {
        /// The key written.
        key: String,
        /// The ttl asked for, in seconds.
        ttl: u64,
    },
    /// An absolute expiration past [`MAX_EXPIRATION`](crate::store::limits::MAX_EXPIRATION).
    #[error("expiration {expiration} for `{key}` is past the latest kvgen accepts ({max})", max = i32::MAX)]
    ExpirationTooLate {
        /// The key written.
        key: String,
        /// The expiration asked for, in seconds since the epoch.
        expiration: u64,
    },
    /// An absolute expiration less than 60 seconds in the future.
    #[error("expiration {expiration} for `{key}` is less than 60 s after now ({now})")]
    ExpirationTooSoon {
        /// The key written.
        key: String,
        /// The expiration asked for, in seconds since the epoch.
        expiration: u64,
        /// The store's clock, in seconds since the epoch.
        now: u64,
    },
    /// A list page asked for more than 1000 keys (or for none).
    #[error("list limit {limit} is outside 1..=1000")]
    ListLimit {
        /// The limit asked for.
        limit: u32,
    },
    /// A cached read's `cacheTtl` under the Workers KV minimum (30 s), refused
    /// before any KV operation.
    #[error("cacheTtl {cache_ttl}s is under the {min} s minimum of Workers KV")]
    InvalidCacheTtl {
        /// The cache ttl asked for, in seconds.
        cache_ttl: u64,
        /// The least Workers KV accepts, in seconds.
        min: u64,
    },
    /// A bulk read of more than 100 keys (or of none).
    #[error("bulk read of {count} keys is outside 1..=100")]
    BulkLimit {
        /// How many keys were asked for.
        count: usize,
    },
    /// A bulk read whose values total over 25 MiB, counted as JavaScript
    /// counts string length (UTF-16 code units), each key asked once per time
    /// asked. Workers KV refuses the whole read (413).
    #[error("bulk read of {count} keys totals {size} units of values, over the 25 MiB limit")]
    BulkTooLarge {
        /// How many keys were asked for.
        count: usize,
        /// The values' total length.
        size: usize,
    },
    /// A list cursor the store did not issue.
    #[error("invalid list cursor `{cursor}`")]
    InvalidCursor {
        /// The cursor passed in.
        cursor: String,
    },
    /// A runtime scope that could not be put in front of keys.
    #[error("invalid scope `{scope}`: {reason}")]
    InvalidScope {
        /// The scope passed in.
        scope: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A value or metadata could not be (de)serialized.
    #[error("serialization of `{key}` failed: {message}")]
    Serialization {
        /// The key being read or written.
        key: String,
        /// What serde_json said, or why kvgen refused the value.
        message: String,
        /// The serde_json error, when there is one ([`std::error::Error::source`]).
        #[source]
        source: Option<Source>,
    },
    /// The backend failed for a reason of its own (network, runtime, injected fault).
    #[error("store {op} of `{key}` failed: {message}")]
    Store {
        /// The operation: get, get_many, put, delete, list; `bind` for a
        /// missing binding, `var` for a missing var.
        op: &'static str,
        /// The key or prefix involved.
        key: String,
        /// The backend's message.
        message: String,
        /// The backend's error, when it is a Rust error that can be kept
        /// ([`std::error::Error::source`]); JavaScript errors on Workers are
        /// kept as their message only.
        #[source]
        source: Option<Source>,
    },
    /// A model with strict unique values was written through a store with
    /// no coordinator (see [`KvStore::coordinator`](crate::KvStore::coordinator)).
    #[error("{model} has strict unique values, and this store has no coordinator")]
    NoCoordinator {
        /// The model's key prefix.
        model: &'static str,
    },
    /// A write's claim on a strict value lapsed before the write could use
    /// it (the write ran longer than the lease). When nothing was written
    /// (`written` false) the call can be retried; when the record was
    /// written, the claim may now be another record's: check with `verify`.
    #[error("the claim of {model} `{key}` on a strict value lapsed ({stage})")]
    LeaseExpired {
        /// The model's key prefix.
        model: &'static str,
        /// The record key.
        key: String,
        /// Where: `before writing` or `after writing`.
        stage: &'static str,
    },
    /// Workers KV refused a write (`put` or `delete`) of a key written less
    /// than a second before: KV takes one write per second per key, and
    /// answers a faster one with 429 (`KV PUT failed: 429 Too Many
    /// Requests`). Each write of a call is retried a few times with a
    /// jittered backoff before the call ends in this error (see
    /// docs/workers.md); a call that ends in it leaves what any failed write
    /// leaves (RELIABILITY.md).
    #[error("Workers KV takes one write per second per key: the write of `{key}` was refused (retry after {retry_after} ms)")]
    RateLimited {
        /// The key whose write was refused.
        key: String,
        /// Milliseconds until the key takes a write again, as far as the
        /// store knows (Workers KV does not say: a second).
        retry_after: u64,
    },
}

impl Error {
    /// [`Error::Serialization`] of `key`, keeping serde_json's error as its source.
    pub(crate) fn serialization(key: &str, err: serde_json::Error) -> Self {
        Error::Serialization { key: key.to_string(), message: err.to_string(), source: Some(Box::new(err)) }
    }

    /// The variant's name (`"UniqueViolation"`), for logs and API responses.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "NotFound",
            Error::AlreadyExists { .. } => "AlreadyExists",
            Error::UniqueViolation { .. } => "UniqueViolation",
            Error::KeyTooLong { .. } => "KeyTooLong",
            Error::InvalidKey { .. } => "InvalidKey",
            Error::ValueTooLarge { .. } => "ValueTooLarge",
            Error::MetadataTooLarge { .. } => "MetadataTooLarge",
            Error::TtlTooShort { .. } => "TtlTooShort",
            Error::ExpirationTooSoon { .. } => "ExpirationTooSoon",
            Error::TtlTooLong { .. } => "TtlTooLong",
            Error::ExpirationTooLate { .. } => "ExpirationTooLate",
            Error::ListLimit { .. } => "ListLimit",
            Error::InvalidCacheTtl { .. } => "InvalidCacheTtl",
            Error::BulkLimit { .. } => "BulkLimit",
            Error::BulkTooLarge { .. } => "BulkTooLarge",
            Error::InvalidCursor { .. } => "InvalidCursor",
            Error::InvalidScope { .. } => "InvalidScope",
            Error::Serialization { .. } => "Serialization",
            Error::Store { .. } => "Store",
            Error::NoCoordinator { .. } => "NoCoordinator",
            Error::LeaseExpired { .. } => "LeaseExpired",
            Error::RateLimited { .. } => "RateLimited",
        }
    }

    /// Whether the error is a Workers KV limit (or key-format) violation.
    ///
    /// ```
    /// let err = kvgen::limits::check_key(&"k".repeat(513)).unwrap_err();
    /// assert!(err.is_limit());
    /// assert_eq!(err.kind(), "KeyTooLong");
    /// ```
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            Error::KeyTooLong { .. }
                | Error::InvalidKey { .. }
                | Error::ValueTooLarge { .. }
                | Error::MetadataTooLarge { .. }
                | Error::TtlTooShort { .. }
                | Error::ExpirationTooSoon { .. }
                | Error::TtlTooLong { .. }
                | Error::ExpirationTooLate { .. }
                | Error::ListLimit { .. }
                | Error::InvalidCacheTtl { .. }
                | Error::BulkLimit { .. }
                | Error::BulkTooLarge { .. }
        )
    }
}

/// `Result` with kvgen's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn retry_note(retry_after: Option<u64>) -> String {
    retry_after.map(|s| format!("; the claim settles in {s} s")).unwrap_or_default()
}
