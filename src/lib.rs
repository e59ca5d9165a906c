//! Typed Cloudflare Workers KV for Rust.
//!
//! Write a model once, as a plain struct with `#[derive(KvModel)]`, and get a
//! typed repository over any [`KvStore`]: get, create, put, update, delete,
//! paged listing, count, unique and compound-unique finders and upserts,
//! secondary-index listings, and relation loaders that batch their reads.
//!
//! ```
//! use kvgen::{KvModel, MemoryStore, Page};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
//! #[kv(binding = "APP", unique(org_id, handle))]
//! pub struct User {
//!     #[kv(id)]
//!     pub id: String,
//!     #[kv(unique)]
//!     pub email: String,
//!     #[kv(index)]
//!     pub org_id: String,
//!     pub handle: String,
//! }
//!
//! # pollster::block_on(async {
//! let store = MemoryStore::new();
//! let users = User::repo(&store);
//! let ada = User { id: "u1".into(), email: "ada@example.com".into(), org_id: "o1".into(), handle: "ada".into() };
//! users.create(&ada).await?;
//! assert_eq!(users.find_by_email("ada@example.com").await?, Some(ada.clone()));
//! assert_eq!(users.find_by_org_id_and_handle("o1", "ada").await?, Some(ada.clone()));
//! assert_eq!(users.list_by_org_id("o1", Page::first(10)).await?.items, vec![ada]);
//! # Ok::<(), kvgen::Error>(())
//! # }).unwrap();
//! ```
//!
//! The key layout, the unique-index protocol and the cost of each call are
//! described in the README.
#![deny(missing_docs)]

pub mod coord;
mod error;
mod http;
mod index;
mod model;
mod patterns;
mod repo;
mod store;

pub use model::{id, key};
pub use patterns::{rollout, swr};
pub use store::limits;

#[cfg(feature = "durable")]
pub use coord::durable::KvgenCoordinator;
pub use coord::{Coordinate, Lock, Locked, RateDecision, RateLimiter};
pub use error::{Error, Result, Source};
#[cfg(feature = "worker")]
pub use http::respond;
#[doc(no_inline)]
pub use key::{IdArg, KeyPart};
pub use model::{IndexDef, IndexKind, Model, RawKind};
pub use patterns::memo::Memo;
pub use repo::audit::{Finding, FindingKind, IndexReport, RepairOptions};
pub use repo::{all_pages, check_scope, ListPage, Listed, Repo, WriteOptions};
pub use store::clock::{Clock, ManualClock, SystemClock};
pub use store::coalesce::Coalesced;
pub use store::fault::{Fault, Faulty};
pub use store::flight::DEFAULT_MAX_IN_FLIGHT;
pub use store::memory::{MemoryCoordinator, MemoryStore};
pub use store::meter::{Metered, Ops};
pub use store::rounds::{RoundTrips, Rounds};
#[cfg(feature = "worker")]
pub use store::worker::{DurableCoordinator, WorkerKv};
pub use store::{Entry, KvStore, ListKey, ListOptions, ListResult, Page, PutOptions};

/// The README's Rust snippets, compiled by `cargo test --doc` (those marked
/// `ignore` are built elsewhere: the Worker handler by `scripts/e2e`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The Rust snippets of each docs/ chapter, compiled by `cargo test --doc` as the README's are.
#[cfg(doctest)]
#[doc = include_str!("../docs/attributes.md")]
pub struct AttributesDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/front-ends.md")]
pub struct FrontEndsDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/patterns.md")]
pub struct PatternsDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/unique-indexes.md")]
pub struct UniqueIndexesDoctests;

/// Derives [`Model`] and a typed repository for a struct. See the README for the attributes.
pub use kvgen_macros::KvModel;

/// Derives [`KeyPart`] for a unit enum: the key component is the variant's serde name.
pub use kvgen_macros::KeyPart;

/// What generated code refers to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::model::key::{read_serde_unit, write_serde_unit, KeyWriter};
    pub use serde;
    pub use serde_json;
    #[cfg(feature = "worker")]
    pub use worker;

    /// Implemented for the types a `belongs_to` foreign key may have: the
    /// parent's id type, or an `Option` of it.
    #[diagnostic::on_unimplemented(
        message = "a `belongs_to` field must have the parent's id type `{Id}`, or `Option<{Id}>`",
        label = "this field's type is `{Self}`"
    )]
    pub trait ForeignKey<Id> {}
    impl<T> ForeignKey<T> for T {}
    impl<T> ForeignKey<T> for Option<T> {}

    /// Implemented by a model for each field with an index of its own; `FIELD`
    /// stands for the field's name. `has_many` / `has_one` find the child's
    /// index through it.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no index on the field named in `by = ...`",
        label = "`{Self}` needs `#[kv(index)]`, `#[kv(unique)]` or `#[kv(belongs_to = ..)]` on this field",
        note = "a has_many / has_one relation lists the child's records through the child's index on its foreign key"
    )]
    pub trait IndexedBy<const FIELD: u64> {
        /// The index's position in `Model::INDEXES`.
        const INDEX: usize;
    }

    /// The binding of a model whose derive failed: the stubs the derive emits
    /// beside its errors name it, so that models related to the broken one
    /// report no second error. No real binding is empty.
    pub const FALLBACK_BINDING: &str = "";

    /// Whether two bindings are the same (a `const fn`, for compile-time checks
    /// that related models share a KV namespace). [`FALLBACK_BINDING`] is the
    /// same as every binding.
    pub const fn same_binding(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.is_empty() || b.is_empty() {
            return true;
        }
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Whether model `i` of `models` (`(binding, prefix)` pairs) differs in
    /// binding or key prefix from every model before it (a `const fn`, for the
    /// generated `Env`'s check that no two models share keys).
    pub const fn key_space_unique(models: &[(&str, &str)], i: usize) -> bool {
        let mut j = 0;
        while j < i {
            if same_binding(models[j].0, models[i].0) && same_binding(models[j].1, models[i].1) {
                return false;
            }
            j += 1;
        }
        true
    }

    /// [`check_scope`](crate::check_scope), and a scope ending in `:` must
    /// not be one of `prefixes` (for generated binding structs).
    pub fn check_env_scope(scope: &str, prefixes: &[&str]) -> crate::Result<()> {
        crate::check_scope(scope)?;
        match scope.strip_suffix(':') {
            Some(name) if prefixes.contains(&name) => Err(crate::Error::InvalidScope {
                scope: scope.to_string(),
                reason: "it is a model's key prefix: that model's unscoped listings would take in the scope's keys",
            }),
            _ => Ok(()),
        }
    }

    /// The value of the Worker's var `var` (for `from_worker_scoped_by`).
    #[cfg(feature = "worker")]
    pub fn worker_var(env: &worker::Env, var: &str) -> crate::Result<String> {
        match env.var(var) {
            Ok(v) => Ok(v.to_string()),
            Err(_) => Err(crate::Error::Store {
                op: "var",
                key: var.to_string(),
                message: "the Worker has no such var, or it is not text (wrangler `[vars]`)".into(),
                source: None,
            }),
        }
    }

    /// Compile-time check that `F` can refer to a record with id `Id`.
    pub const fn assert_foreign_key<F: ForeignKey<Id>, Id>() {}
}

/// Expands to `from_worker` for a generated binding struct (`KvEnv`) when kvgen's `worker`
/// feature is on, and to nothing otherwise. Not public API.
#[cfg(feature = "worker")]
#[doc(hidden)]
#[macro_export]
macro_rules! __env_from_worker {
    ($env:ident) => {
        impl $env<$crate::WorkerKv> {
            /// The KV bindings of a Worker's environment.
            pub fn from_worker(env: &$crate::__private::worker::Env) -> $crate::Result<Self> {
                Self::from_bindings(|binding| $crate::WorkerKv::from_env(env, binding))
            }

            /// The KV bindings of a Worker's environment, every key under the
            /// scope its var `var` holds: with `STAGE = "staging"` in an
            /// environment's `[vars]`, keys are `staging/{model}:{id}`. An
            /// empty var means no scope. A var the Worker does not have is an
            /// error (`Store`, op `var`), so a stage that forgot its var never
            /// reads or writes another stage's keys.
            pub fn from_worker_scoped_by(env: &$crate::__private::worker::Env, var: &str) -> $crate::Result<Self> {
                let scope = $crate::__private::worker_var(env, var)?;
                let this = Self::from_worker(env)?;
                if scope.is_empty() {
                    $crate::Result::Ok(this)
                } else {
                    this.with_scope(scope)
                }
            }
        }
    };
}

/// See the `worker` variant.
#[cfg(not(feature = "worker"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __env_from_worker {
    ($env:ident) => {};
}
