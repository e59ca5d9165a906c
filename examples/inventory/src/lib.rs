//! The inventory models, generated from kvgen.toml by `kvgen generate`.

mod generated;

pub use generated::{Item, ItemMeta, KvEnv, Warehouse};
