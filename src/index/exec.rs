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
use crate::store::flight::{first_error, together, Bounded};
use crate::store::retry::Retrying;
use crate::store::{Entry, KvStore};
use std::collections::HashSet;

/// A key's expiration as a listing gives it: 1 list. `None` when it never
/// expires or is not there.
pub(crate) async fn listed_expiration<S: KvStore>(store: &S, key: &str) -> Result<Option<u64>> {
    let page = store.list(&crate::store::ListOptions { prefix: key.to_string(), cursor: None, limit: 1 }).await?;
    Ok(page.keys.into_iter().find(|k| k.name == key).and_then(|k| k.expiration))
}

/// Create, update or put.
///
/// One bulk read of the record and its unique entries; a conflict only when
/// another live record carries the value. Then, in this order, each step a
/// group of operations made together:
/// 1. entries for values the old record does not carry, and kept entries
///    whose expiry grows (so no entry ever expires before its record); with
///    them, the read of old unique entries the record drops (to learn which
///    still point to it);
/// 2. the record, once every entry of step 1 is written;
/// 3. kept entries whose expiry shrinks, and removal of old entries the
///    record no longer needs (only those pointing to it).
///
/// Each put and delete refused by KV's rate limit of one write per second
/// per key ([`Error::RateLimited`](crate::Error::RateLimited)) is tried
/// again after a jittered backoff (`store::retry`), in its place in this
/// order; a write still refused after the last try fails as any write does.
///
/// Nothing is deleted or undone when a write fails: a write that reports
/// failure may have landed, and this location may not yet see a record
/// written elsewhere, so deleting could remove what a committed record
/// needs. What a failed call leaves are entries naming a record that does not
/// carry their value: lookups ignore them, the next write of the value
/// replaces them, and `repair` removes them. A failure in a group of step 1
/// (one member failed, or never answered, while others landed) leaves the
/// same: the record is not written.
///
/// With `claims` (a model with strict unique indexes), the strict values
/// are claimed on the coordinator after the checks and before the first
/// write, each group first checks the claims' lease, the claims are
/// committed once the record is written, and values the record dropped are
/// released at the end.
///
/// `store` bounds the operations in flight: the caller gives a
/// [`Bounded`] store, whose coordinator the claims are made on too.
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
/// record takes) reads again once the earlier writes are done, so that it
/// sees them, as it would one call after the other.
///
/// The writes run in waves: the writes of one wave touch no key another of
/// the wave touches (its record, its entries old and new, the records
/// holding its unique values), so they run together and end as they would
/// one after the other; a write that touches a key of the wave starts the
/// next one. A write that reads again runs alone.
///
/// `Err` when a shared read fails: nothing was written. Otherwise one
/// outcome per write, in order; every write is attempted, whatever became
/// of the others.
///
/// `claims` holds each write's strict claims (see [`write`]), in the order
/// of `plans`.
///
/// `store` bounds the operations in flight: the caller gives a
/// [`Bounded`] store, whose coordinator the claims are made on too.
pub(crate) async fn write_many<S: KvStore>(
    store: &S,
    plans: Vec<Plan>,
    stored: &dyn Stored,
    claims: Vec<Option<Claims<'_>>>,
) -> Result<Vec<Result<()>>> {
    let now = store.now();
    let prepared: Vec<Result<Prepared>> = plans.into_iter().map(|p| prepare(now, p)).collect();
    let mut touched: HashSet<&str> = HashSet::new();
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

    // Each write with what it found, in waves of writes that touch no key
    // of another write of their wave.
    let mut waves: Vec<Vec<Pending>> = vec![Vec::new()];
    let mut wave_keys: HashSet<String> = HashSet::new();
    let mut out: Vec<Option<Result<()>>> = Vec::with_capacity(prepared.len());
    for (i, (p, shared)) in prepared.into_iter().zip(shared).enumerate() {
        out.push(None);
        let p = match p {
            Err(e) => {
                out[i] = Some(Err(e));
                continue;
            }
            Ok(p) => p,
        };
        let found = if shared { Some(got.by_ref().take(p.keys().len()).collect::<Vec<_>>()) } else { None };
        let alone = found.is_none();
        let mine = match &found {
            Some(found) => plan::touches(&p, found, stored),
            None => Vec::new(),
        };
        let clash = alone || mine.iter().any(|k| wave_keys.contains(k));
        if clash && !waves.last().is_some_and(Vec::is_empty) {
            waves.push(Vec::new());
            wave_keys.clear();
        }
        wave_keys.extend(mine);
        waves.last_mut().expect("a wave").push(Pending { at: i, prepared: p, found });
        if alone {
            // A write that reads again runs alone: nothing joins its wave.
            waves.push(Vec::new());
            wave_keys.clear();
        }
    }
    for wave in waves {
        let runs = wave.into_iter().map(|w| {
            let claim = claims.get(w.at).and_then(Option::as_ref);
            async move {
                let outcome = match w.found {
                    Some(found) => apply(store, w.prepared, found, stored, claim).await,
                    None => match read_entries(store, w.prepared.keys()).await {
                        Ok(found) => apply(store, w.prepared, found, stored, claim).await,
                        Err(e) => Err(e),
                    },
                };
                (w.at, outcome)
            }
        });
        for (at, outcome) in together(runs).await {
            out[at] = Some(outcome);
        }
    }
    Ok(out.into_iter().map(|o| o.unwrap_or(Ok(()))).collect())
}

/// A write of a batch, waiting for its wave: where it is in the batch, and
/// what the shared read found for it (`None`: it reads again).
struct Pending {
    at: usize,
    prepared: Prepared,
    found: Option<Vec<Option<Entry>>>,
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

/// Applies the steps of a write in the protocol's order (see [`Steps`] and
/// [`write`]).
async fn execute<S: KvStore>(store: &S, steps: Steps, claims: Option<&Claims<'_>>, stored: &dyn Stored) -> Result<()> {
    if let Some(claims) = claims {
        claims.claim(store, stored).await?;
    }
    let check = || claims.map_or(Ok(()), |c| c.check());
    check()?;
    // Each write refused by KV's rate limit is tried again after a wait (the
    // lease checked again after it); `after`, once the record is committed,
    // without the check.
    let writes = &Retrying::new(store, Some(&check));
    let after = &Retrying::new(store, None);
    // The entries the record needs, together; beside them, the read of the
    // dropped unique entries, whose answer only the last step uses.
    let puts = together(steps.before.iter().map(|p| writes.put(&p.key, &p.value, &p.opts)));
    let (put, ours) =
        futures_util::future::join(puts, entries_pointing_to(store, steps.indexes, steps.dropped.clone(), &steps.id))
            .await;
    first_error(put)?;
    check()?;
    writes.put(&steps.record.key, &steps.record.value, &steps.record.opts).await?;
    let committed = match claims {
        Some(c) => c.commit().await,
        None => Ok(()),
    };
    // The record is committed: the rest is best effort.
    if let (Some(c), Ok(()), false) = (claims, &committed, steps.dropped.is_empty()) {
        c.release_dropped(&steps.dropped).await;
    }
    let ours = ours.unwrap_or_default();
    let puts = steps.after.iter().map(|p| futures_util::future::Either::Left(after.put(&p.key, &p.value, &p.opts)));
    let deletes = ours.iter().map(|e| futures_util::future::Either::Right(after.delete(&e.key)));
    let _ = together(puts.chain(deletes)).await;
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
        return Retrying::new(store, None).delete(rec_key).await;
    };
    let store = &Bounded::new(store, store.max_in_flight());
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
/// reads of up to 100 keys, made before the first delete), the records'
/// deletes together. The records must be distinct. `Err` when the shared
/// read fails: nothing was deleted. Otherwise one outcome per record, in
/// order; every record is attempted.
pub(crate) async fn delete_many<S: KvStore>(
    store: &S,
    binding: &'static str,
    indexes: &'static [IndexDef],
    doomed: Vec<Doomed>,
) -> Result<Vec<Result<()>>> {
    let store = &Bounded::new(store, store.max_in_flight());
    let is_unique = |e: &&IndexEntry| indexes[e.index].kind == IndexKind::Unique;
    let keys: Vec<String> =
        doomed.iter().flat_map(|d| d.entries.iter().flatten().filter(is_unique).map(|e| e.key.clone())).collect();
    let mut held = read_keys(store, &keys).await?.into_iter();
    // The records are distinct, and each unique entry points to one of them
    // at most: their deletes touch no key in common, and run together.
    let runs: Vec<_> = doomed
        .into_iter()
        .map(|d| {
            let entries = d.entries.map(|entries| {
                let n = entries.iter().filter(is_unique).count();
                let mine: Vec<Option<String>> = held.by_ref().take(n).collect();
                (strict_entries(indexes, &entries), pointing_to(indexes, entries, &d.id, &mine))
            });
            async move {
                match entries {
                    None => Retrying::new(store, None).delete(&d.rec_key).await,
                    Some((strict, ours)) => {
                        delete_then(store, binding, indexes, &d.rec_key, &d.id, &strict, ours).await
                    }
                }
            }
        })
        .collect();
    Ok(together(runs).await)
}

/// The record first, then its strict values released (`strict`), then its
/// entries that point to it (`ours`), together.
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
    // Each delete refused by KV's rate limit is tried again after a wait.
    let deletes = &Retrying::new(store, None);
    deletes.delete(rec_key).await?;
    if let (Some(coord), Some(since)) = (store.coordinator(), since) {
        crate::index::strict::release_all(coord, binding, indexes, id, strict, since).await;
    }
    // The entries, together.
    first_error(together(ours.iter().map(|e| deletes.delete(&e.key))).await)
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
