//! A stale-while-revalidate cache of an upstream's answers, typed per
//! cached type: here a currency rate. Fresh for a minute, then served for
//! an hour more while it is fetched again in the background.

use kvgen::swr::{self, Revalidation, Served, Stamped, Swr};
use kvgen::{KvModel, KvStore, Result};
use serde::{Deserialize, Serialize};

/// The windows: fresh for 60 s, then stale (served and revalidated) for an hour.
pub const POLICY: Swr = Swr { fresh: 60, stale: 3600 };

/// An exchange rate, as an upstream service answered it.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "rate")]
pub struct Rate {
    /// The currency pair, e.g. `EUR-USD`.
    #[kv(id)]
    pub pair: String,
    /// The rate in millionths.
    pub micros: u64,
    /// When it was fetched, seconds since the epoch (set by kvgen on write).
    pub fetched_at: u64,
}

impl Stamped for Rate {
    fn stamped_at(&self) -> u64 {
        self.fetched_at
    }
    fn stamp(&mut self, at: u64) {
        self.fetched_at = at;
    }
}

/// The rate of `pair`, from the cache or from `upstream`. When stale, the
/// cached rate is answered and the revalidation handed to `spawn` (a
/// Worker passes `Context::wait_until`). Costs 1 read, plus 1 write when
/// fetched (now or in the background).
pub async fn rate<S, F, Fut>(
    store: S,
    scope: &str,
    pair: &str,
    upstream: F,
    spawn: impl FnOnce(Revalidation),
) -> Result<(Rate, Served)>
where
    S: KvStore + Clone + 'static,
    F: FnOnce(String) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<u64>> + 'static,
{
    let owned = pair.to_string();
    let fetch = move || async move {
        let micros = upstream(owned.clone()).await?;
        Ok(Rate { pair: owned, micros, fetched_at: 0 })
    };
    swr::get_or_fetch(store, scope, pair.to_string(), POLICY, fetch, spawn).await
}
