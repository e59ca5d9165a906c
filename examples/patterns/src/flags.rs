//! Feature flags: one record per flag, holding a [`Rollout`] (a kill
//! switch, a percentage, allow and deny lists). Evaluation is
//! deterministic: a subject is in or out of a flag's percentage the same
//! way on every request, every isolate and every platform.

use std::collections::BTreeMap;

use kvgen::rollout::Rollout;
use kvgen::{KvModel, KvStore, Result};

use serde::{Deserialize, Serialize};

/// A feature flag.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "flag")]
pub struct Flag {
    /// The flag's name, e.g. `new-checkout`.
    #[kv(id)]
    pub name: String,
    /// Who it is on for.
    pub rollout: Rollout,
    /// Shown in listings without reading the record.
    #[kv(meta)]
    pub note: String,
}

/// Sets a flag (creating or replacing it). Costs 1 write: the model has no index.
pub async fn set<S: KvStore>(repo: &FlagRepo<'_, S>, flag: &Flag) -> Result<()> {
    repo.put_with(flag, kvgen::WriteOptions::permanent()).await
}

/// Whether flag `name` is on for `subject`; a flag that does not exist is
/// off. Costs 1 read.
pub async fn is_on<S: KvStore>(repo: &FlagRepo<'_, S>, name: &str, subject: &str) -> Result<bool> {
    Ok(repo.get(&name.to_string()).await?.is_some_and(|f| f.rollout.admits(name, subject)))
}

/// Every flag evaluated for one subject, every page of them: 1 list + 1
/// bulk read per 100 flags (2 operations for up to 100 flags).
pub async fn all_for<S: KvStore>(repo: &FlagRepo<'_, S>, subject: &str) -> Result<BTreeMap<String, bool>> {
    let mut out = BTreeMap::new();
    let mut page = kvgen::Page::first(100);
    loop {
        let got = repo.list(page).await?;
        out.extend(got.items.into_iter().map(|f| (f.rollout.admits(&f.name, subject), f.name)).map(|(on, n)| (n, on)));
        match got.cursor {
            Some(cursor) => page = kvgen::Page::after(cursor, 100),
            None => return Ok(out),
        }
    }
}

/// Raises (or lowers) a flag's percentage, keeping the rest: a
/// [`modify`](kvgen::Repo::modify). Costs 1 read + 1 bulk read (the
/// update's) + 1 write.
pub async fn set_percent<S: KvStore>(repo: &FlagRepo<'_, S>, name: &str, percent: f64) -> Result<Option<Flag>> {
    repo.modify(&name.to_string(), |f| f.rollout.percent = percent).await
}
