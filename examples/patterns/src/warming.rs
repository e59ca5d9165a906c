//! Cache warming: a list of keys read in bulk, the missing ones fetched
//! from the origin in one call and written back in bulk, e.g. the products
//! on a landing page before a sale, or every key a deploy is about to need.

use kvgen::{KvModel, KvStore, Result, WriteOptions};
use serde::{Deserialize, Serialize};

/// How long a warmed product stays cached, in seconds.
pub const TTL: u64 = 6 * 3600;

/// A product, as the origin (a database, an API) knows it.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "product")]
pub struct Product {
    /// The stock-keeping unit.
    #[kv(id)]
    pub sku: String,
    /// The product's name.
    pub name: String,
    /// The price in cents.
    pub cents: u64,
}

/// The products with these SKUs, in order: the cached ones read in bulk
/// (100 a read), the rest asked of `origin` in one call and cached with
/// [`TTL`], one write each (the model has no index). `None` for a SKU the
/// origin does not know.
pub async fn warm<S, F, Fut>(repo: &ProductRepo<'_, S>, skus: &[String], origin: F) -> Result<Vec<Option<Product>>>
where
    S: KvStore,
    F: FnOnce(Vec<&String>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Product>>>,
{
    repo.get_many_or_fetch(skus, WriteOptions::ttl(TTL), origin).await
}
