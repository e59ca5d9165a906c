//! A configuration singleton: one record, read on most requests, changed
//! rarely. Each isolate keeps it in a [`Memo`] for [`MAX_AGE`] seconds, so
//! it costs a KV read per isolate per 30 s rather than one per request;
//! a change reaches other isolates within that (plus KV's propagation).

use kvgen::{KvModel, KvStore, Memo, Result};
use serde::{Deserialize, Serialize};

/// How long an isolate keeps the configuration it read, in seconds.
pub const MAX_AGE: u64 = 30;

/// The one record's id.
pub const ID: &str = "current";

/// The application's settings.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "config")]
pub struct Config {
    /// Always [`ID`].
    #[kv(id)]
    pub id: String,
    /// Shown on every page.
    pub banner: String,
    /// Requests per minute a client may make.
    pub rate_per_minute: u32,
    /// Whether sign-ups are open.
    pub signups_open: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { id: ID.into(), banner: String::new(), rate_per_minute: 60, signups_open: true }
    }
}

/// The configuration: from `memo` while it is younger than its max age,
/// else read (or the default when none was ever written). Costs 1 read per
/// `max_age` per memo, nothing otherwise.
pub async fn current<S: KvStore>(repo: &ConfigRepo<'_, S>, memo: &Memo<Config>) -> Result<Config> {
    let read = memo
        .get_or_load(repo.store().now(), || async { Ok(Some(repo.get(&ID.to_string()).await?.unwrap_or_default())) });
    Ok(read.await?.unwrap_or_default())
}

/// A partial update: `change` edits the stored configuration (the default
/// when there is none), which is written back and kept in `memo`. Costs
/// 1 read + 1 write. Last writer wins between two concurrent changes: keep
/// configuration writes to one place (an admin route, a deploy step).
pub async fn change<S: KvStore>(
    repo: &ConfigRepo<'_, S>,
    memo: &Memo<Config>,
    change: impl FnOnce(&mut Config),
) -> Result<Config> {
    let id = ID.to_string();
    let mut config = repo.get(&id).await?.unwrap_or_default();
    change(&mut config);
    config.id = id;
    repo.put_with(&config, kvgen::WriteOptions::permanent()).await?;
    memo.set(config.clone(), repo.store().now());
    Ok(config)
}
