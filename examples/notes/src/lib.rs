//! kvgen through build.rs: models in `models.rs`, the `KvEnv` struct generated
//! into OUT_DIR by `build.rs` and included here, at the crate root, so that
//! its `crate::models::...` paths resolve.

pub mod models;

include!(concat!(env!("OUT_DIR"), "/kvgen.rs"));
