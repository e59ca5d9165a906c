//! The coordinator Durable Object that strict unique indexes claim their
//! values on: its binding, its class and the migration that creates it, as
//! kvgen writes them into a wrangler config.
//!
//! Builds on no other part of `wrangler`; the binding's name comes from
//! [`crate::project`], which also decides whether a project needs the
//! coordinator. The fragments and both editors build on this module, so it
//! must not depend on them.
//!
//! Wrangler's own documentation on environments says Durable Object bindings are
//! not inherited: every environment must list the ones it uses, so kvgen writes
//! the binding at the top level and in every `[env.NAME]`. `migrations` is an
//! inheritable key: the top-level list applies to every environment that does
//! not give its own, and an environment that does replaces it, so kvgen writes
//! the migration at the top level and into an environment only when that
//! environment already has a `migrations` list of its own.

use crate::project::COORDINATOR_BINDING;

/// The coordinator's class (the runtime's `kvgen::coord::COORDINATOR_CLASS`).
pub const COORDINATOR_CLASS: &str = "KvgenCoordinator";
/// The tag of the migration that creates the coordinator's class.
pub const COORDINATOR_MIGRATION: &str = "kvgen-coordinator-v1";

/// The migration keys that create a class.
pub(super) const CREATES: [&str; 2] = ["new_classes", "new_sqlite_classes"];

/// The coordinator's entry in `durable_objects.bindings`, for wrangler.jsonc.
pub(super) fn binding_json() -> serde_json::Value {
    serde_json::json!({ "name": COORDINATOR_BINDING, "class_name": COORDINATOR_CLASS })
}

/// The migration that creates the coordinator's class, for wrangler.jsonc.
pub(super) fn migration_json() -> serde_json::Value {
    serde_json::json!({ "tag": COORDINATOR_MIGRATION, "new_sqlite_classes": [COORDINATOR_CLASS] })
}
