//! The executor of the index protocol: it makes a write's reads, asks
//! [`plan`](crate::index::plan) what to do with what they found, and applies
//! the steps to the store in the protocol's order. Deletes and the shared
//! bulk reads live here too.
//!
//! The protocol is generic over the store only: repositories are generic over
//! the model, and the protocol, the largest part of them, is instantiated
//! once per store type rather than once per model (that keeps Worker wasm
//! small). The few steps that need the model go through the object-safe
//! [`Stored`].
//!
//! Builds on `plan`, `entry`, `strict`, the stores and the model layer.

use crate::error::Result;
use crate::index::entry::{IndexEntry, Stored};
use crate::index::plan::{self, pointing_to, prepare, strict_entries, Plan, Prepared, Steps};
use crate::index::strict::Claims;
use crate::model::{IndexDef, IndexKind};
use crate::store::bulk::{read_entries, read_keys};
use crate::store::{Entry, KvStore};

/// A key's expiration as a listing gives it: 1 list. `None` when it never
/// expires or is not there.
pub(crate) async fn listed_expiration<S: KvStore>(store: &S, key: &str) -> Result<Option<u64>> {
    let page = store.list(&crate::store::ListOptions { prefix: key.to_string(), cursor: None, limit: 1 }).await?;
    Ok(page.keys.into_iter().find(|k| k.name == key).and_then(|k| k.expiration))
}

/// Create, update or put.
///
/// One bulk read of the record and its unique entries; a conflict only when
/// another live record carries the value. Then, in this order:
/// 1. entries for values the old record does not carry, and kept entries
///    whose expiry grows (so no entry ever expires before its record);
/// 2. the record;
/// 3. kept entries whose expiry shrinks, and removal of old entries the
///    record no longer needs (only those pointing to it).
///
/// Nothing is deleted or undone when a write fails: a write that reports
/// failure may have landed, and this location may not yet see a record
/// written elsewhere, so deleting could remove what a committed record
/// needs. What a failed call leaves are entries naming a record that does not
/// carry their value: lookups ignore them, the next write of the value
/// replaces them, and `repair` removes them.
///
/// With `claims` (a model with strict unique indexes), the strict values
/// are claimed on the coordinator after the checks and before the first
/// write, each write first checks the claims' lease, the claims are
/// committed once the record is written, and values the record dropped are
/// released at the end.
pub(crate) async fn write<S: KvStore>(
    store: &S,
    plan: Plan,
    stored: &dyn Stored,
    claims: Option<&Claims<'_>>,
) -> Result<()> {
    let prepared = prepare(store.now(), plan)?;
    let got = read_entries(store, prepared.keys()).await?;
    apply(store, prepared, got, stored, claims).await
}

/// Many writes, each with the protocol of [`write`], their first reads
/// shared: the keys of every write go into bulk reads of up to 100 keys,
/// made before the first write. A write that reads a key an earlier write
/// of the batch reads or writes (the same id, or a unique value an earlier
/// record takes) reads again just before it is made, so that it sees the
/// earlier write, as it would one call after the other.
///
/// `Err` when a shared read fails: nothing was written. Otherwise one
/// outcome per write, in order; every write is attempted, whatever became
/// of the others.
///
/// `claims` holds each write's strict claims (see [`write`]), in the order
/// of `plans`.
pub(crate) async fn write_many<S: KvStore>(
    store: &S,
    plans: Vec<Plan>,
    stored: &dyn Stored,
    claims: Vec<Option<Claims<'_>>>,
) -> Result<Vec<Result<()>>> {
    let now = store.now();
    let prepared: Vec<Result<Prepared>> = plans.into_iter().map(|p| prepare(now, p)).collect();
    let mut touched: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut shared = vec![false; prepared.len()];
    let mut keys: Vec<String> = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        let Ok(p) = p else { continue };
        let mine = p.keys().iter().map(String::as_str).chain(std::iter::once(p.rec_key()));
        let mine = mine.chain(p.entries().iter().map(|e| e.key.as_str()));
        let mine: Vec<&str> = mine.collect();
        if !mine.iter().any(|k| touched.contains(k)) {
            shared[i] = true;
            keys.extend(p.keys().iter().cloned());
        }
        touched.extend(mine);
    }
    let mut got = read_entries(store, &keys).await?.into_iter();
    let mut out = Vec::with_capacity(prepared.len());
    for ((p, shared), claims) in prepared.into_iter().zip(shared).zip(claims) {
        let outcome = match p {
            Err(e) => Err(e),
            Ok(p) if shared => {
                let mine: Vec<Option<Entry>> = got.by_ref().take(p.keys().len()).collect();
                apply(store, p, mine, stored, claims.as_ref()).await
            }
            Ok(p) => match read_entries(store, p.keys()).await {
                Ok(mine) => apply(store, p, mine, stored, claims.as_ref()).await,
                Err(e) => Err(e),
            },
        };
        out.push(outcome);
    }
    Ok(out)
}

/// The rest of [`write`], given what its first read found (`got`, in the
/// order of the prepared write's keys): the old record's expiry (1 list
/// when its metadata does not say), the decision, the holders of contested
/// entries (1 bulk read, only then), and the steps.
async fn apply<S: KvStore>(
    store: &S,
    prepared: Prepared,
    got: Vec<Option<Entry>>,
    stored: &dyn Stored,
    claims: Option<&Claims<'_>>,
) -> Result<()> {
    if prepared.is_blind() {
        return execute(store, plan::blind(prepared), claims, stored).await;
    }
    let found = prepared.found(got)?;
    // The old record's expiry, from its metadata; a record whose metadata
    // does not say (written by other code, or an older kvgen) is listed to
    // learn it: 1 list, only then.
    let old_exp: Option<u64> = match &found.old {
        Some(e) => match plan::stored_expiration(e.metadata.as_ref()) {
            Some(at) => at,
            None => listed_expiration(store, prepared.rec_key()).await?,
        },
        None => None,
    };
    let decision = plan::decide(prepared, found, old_exp, stored);
    if !decision.contested.is_empty() {
        let holder_keys: Vec<String> = decision.contested.iter().map(|c| c.holder_key.clone()).collect();
        let holders = read_keys(store, &holder_keys).await?;
        plan::check_contested(&decision, &holders, stored)?;
    }
    execute(store, decision.steps, claims, stored).await
}

/// Applies the steps of a write in the protocol's order (see [`Steps`]).
///
/// With `claims` (a model with strict unique indexes), the strict values
/// are claimed on the coordinator before the first write, each write before
/// the record first checks the claims' lease, the claims are committed once
/// the record is written, and values the record dropped are released after.
/// What follows the record is best-effort: an entry left with a later
/// expiry than its record, or an old entry left behind, is stale — ignored
/// by lookups, replaced by the next write of its value, removed by repair.
async fn execute<S: KvStore>(store: &S, steps: Steps, claims: Option<&Claims<'_>>, stored: &dyn Stored) -> Result<()> {
    if let Some(claims) = claims {
        claims.claim(store, stored).await?;
    }
    let check = || claims.map_or(Ok(()), |c| c.check());
    for put in &steps.before {
        check()?;
        store.put(&put.key, &put.value, &put.opts).await?;
    }
    check()?;
    store.put(&steps.record.key, &steps.record.value, &steps.record.opts).await?;
    let committed = match claims {
        Some(c) => c.commit().await,
        None => Ok(()),
    };
    for put in &steps.after {
        let _ = store.put(&put.key, &put.value, &put.opts).await;
    }
    if !steps.dropped.is_empty() {
        if let (Some(c), Ok(())) = (claims, &committed) {
            c.release_dropped(&steps.dropped).await;
        }
        if let Ok(ours) = entries_pointing_to(store, steps.indexes, steps.dropped, &steps.id).await {
            for e in ours {
                let _ = store.delete(&e.key).await;
            }
        }
    }
    committed
}

/// Deletes a record, then those of `entries` that point to it. `entries` is
/// `None` when the record is unreadable: only the record is deleted, and its
/// entries, now naming no record, are stale until repair removes them.
///
/// The strict values of the record are released on the coordinator once the
/// record is deleted (best effort: a claim left behind settles and is taken
/// over once KV shows the record gone).
pub(crate) async fn delete<S: KvStore>(
    store: &S,
    binding: &'static str,
    indexes: &'static [IndexDef],
    rec_key: &str,
    id: &str,
    entries: Option<Vec<IndexEntry>>,
) -> Result<()> {
    let Some(entries) = entries else {
        return store.delete(rec_key).await;
    };
    let strict = strict_entries(indexes, &entries);
    let ours = entries_pointing_to(store, indexes, entries, id).await?;
    delete_then(store, binding, indexes, rec_key, id, &strict, ours).await
}

/// One record of [`delete_many`]: its key, encoded id, and entries (`None`
/// when it is unreadable).
pub(crate) struct Doomed {
    pub rec_key: String,
    pub id: String,
    pub entries: Option<Vec<IndexEntry>>,
}

/// [`delete`] of many records, the reads of their unique entries shared (bulk
/// reads of up to 100 keys, made before the first delete). The records must
/// be distinct. `Err` when the shared read fails: nothing was deleted.
/// Otherwise one outcome per record, in order; every record is attempted.
pub(crate) async fn delete_many<S: KvStore>(
    store: &S,
    binding: &'static str,
    indexes: &'static [IndexDef],
    doomed: Vec<Doomed>,
) -> Result<Vec<Result<()>>> {
    let is_unique = |e: &&IndexEntry| indexes[e.index].kind == IndexKind::Unique;
    let keys: Vec<String> =
        doomed.iter().flat_map(|d| d.entries.iter().flatten().filter(is_unique).map(|e| e.key.clone())).collect();
    let mut held = read_keys(store, &keys).await?.into_iter();
    let mut out = Vec::with_capacity(doomed.len());
    for d in doomed {
        let Some(entries) = d.entries else {
            out.push(store.delete(&d.rec_key).await);
            continue;
        };
        let n = entries.iter().filter(is_unique).count();
        let mine: Vec<Option<String>> = held.by_ref().take(n).collect();
        let strict = strict_entries(indexes, &entries);
        let ours = pointing_to(indexes, entries, &d.id, &mine);
        out.push(delete_then(store, binding, indexes, &d.rec_key, &d.id, &strict, ours).await);
    }
    Ok(out)
}

/// The record first, then its strict values released (`strict`), then its
/// entries that point to it (`ours`).
async fn delete_then<S: KvStore>(
    store: &S,
    binding: &str,
    indexes: &[IndexDef],
    rec_key: &str,
    id: &str,
    strict: &[IndexEntry],
    ours: Vec<IndexEntry>,
) -> Result<()> {
    // When the delete began: a release after it frees a value whose
    // writers all stopped before then.
    let since = store.coordinator().filter(|_| !strict.is_empty()).map(|c| c.now_ms());
    store.delete(rec_key).await?;
    if let (Some(coord), Some(since)) = (store.coordinator(), since) {
        crate::index::strict::release_all(coord, binding, indexes, id, strict, since).await;
    }
    for e in ours {
        store.delete(&e.key).await?;
    }
    Ok(())
}

/// Of `entries`, those that point to the record with encoded id `id`: every
/// secondary entry (its key ends in the id), and unique entries whose stored
/// value is the id (one bulk read when there are any).
async fn entries_pointing_to<S: KvStore>(
    store: &S,
    indexes: &[IndexDef],
    entries: Vec<IndexEntry>,
    id: &str,
) -> Result<Vec<IndexEntry>> {
    let unique: Vec<String> =
        entries.iter().filter(|e| indexes[e.index].kind == IndexKind::Unique).map(|e| e.key.clone()).collect();
    let held = read_keys(store, &unique).await?;
    Ok(pointing_to(indexes, entries, id, &held))
}
