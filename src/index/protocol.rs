//! The unique-index protocol, generic over the store only.
//!
//! Repositories are generic over the model; the protocol is the largest part
//! of them, so it lives here, instantiated once per store type rather than
//! once per model (that keeps Worker wasm small). The few steps that need the
//! model — parsing a stored record into its index entries — go through the
//! object-safe [`Stored`].

use crate::error::{Error, Result};
use crate::index::entry::{violation, IndexEntry, Stored};
use crate::index::strict::Claims;
use crate::model::{IndexDef, IndexKind};
use crate::store::limits;
use crate::store::{Entry, KvStore, PutOptions};
use serde_json::Value;

/// What a write must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Insert only.
    Create,
    /// Replace only.
    Update,
    /// Either.
    Put,
}

/// When the written record expires, as the call asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Keep the stored record's expiry (none for a new record).
    Keep,
    /// Never.
    Never,
    /// `ttl` seconds from now.
    Ttl(u64),
    /// At this time, seconds since the epoch.
    At(u64),
}

/// The metadata field of a record that carries its absolute expiration:
/// KV's reads return no expiration, and a write that keeps a record's expiry
/// (and its index entries' with it) must know it.
pub const EXPIRATION_FIELD: &str = "$exp";

/// The metadata field of a record that carries the free metadata its last
/// write gave (`*_with_metadata`), when it gave some.
pub const EXTRA_FIELD: &str = "$meta";

/// A record's metadata: its `#[kv(meta)]` projection (an object, or none),
/// with its expiration added (`null` for none), and the write's free
/// metadata, if any. `$exp` is always written, so that a record without it
/// was not written by this version of kvgen.
pub(crate) fn record_metadata(projection: Option<&Value>, extra: Option<&Value>, expiration: Option<u64>) -> Value {
    let mut m = match projection {
        Some(Value::Object(m)) => m.clone(),
        _ => serde_json::Map::with_capacity(1),
    };
    m.insert(EXPIRATION_FIELD.into(), expiration.map_or(Value::Null, Value::from));
    if let Some(extra) = extra {
        m.insert(EXTRA_FIELD.into(), extra.clone());
    }
    Value::Object(m)
}

/// The free metadata a record's stored metadata holds.
pub(crate) fn stored_extra(metadata: Option<&Value>) -> Option<&Value> {
    metadata?.as_object()?.get(EXTRA_FIELD)
}

/// What a record's stored metadata says of its expiration: `Some(None)` for
/// none, `None` when the metadata does not say (not written by kvgen, or
/// altered).
pub(crate) fn stored_expiration(metadata: Option<&Value>) -> Option<Option<u64>> {
    match metadata?.as_object()?.get(EXPIRATION_FIELD)? {
        Value::Null => Some(None),
        v => v.as_u64().map(Some),
    }
}

/// A key's expiration as a listing gives it: 1 list. `None` when it never
/// expires or is not there.
pub(crate) async fn listed_expiration<S: KvStore>(store: &S, key: &str) -> Result<Option<u64>> {
    let page = store.list(&crate::store::ListOptions { prefix: key.to_string(), cursor: None, limit: 1 }).await?;
    Ok(page.keys.into_iter().find(|k| k.name == key).and_then(|k| k.expiration))
}

/// A record's metadata less its expiration and free metadata: the
/// `#[kv(meta)]` projection.
pub(crate) fn projection(metadata: Option<Value>) -> Option<Value> {
    match metadata {
        Some(Value::Object(mut m)) if m.contains_key(EXPIRATION_FIELD) => {
            m.remove(EXPIRATION_FIELD);
            m.remove(EXTRA_FIELD);
            (!m.is_empty()).then_some(Value::Object(m))
        }
        other => other,
    }
}

/// One write, with everything model-specific worked out.
pub(crate) struct Plan {
    pub model: &'static str,
    pub indexes: &'static [IndexDef],
    pub mode: Mode,
    /// The encoded id.
    pub id: String,
    pub rec_key: String,
    /// The record's value: its JSON, or a raw model's raw value.
    pub value: Vec<u8>,
    pub entries: Vec<IndexEntry>,
    /// The `#[kv(meta)]` projection.
    pub projection: Option<Value>,
    /// Free metadata of this write, for the record only.
    pub extra: Option<Value>,
    pub expiry: Expiry,
}

/// Reads the entries of any number of keys, in bulk reads of at most 100.
///
/// KV refuses a bulk read whose values add up to more than 25 MiB
/// ([`Error::BulkTooLarge`]): such a batch is read again in halves, down to
/// single reads, so any records that can be stored can be read back.
pub(crate) async fn read_entries<S: KvStore>(store: &S, keys: &[String]) -> Result<Vec<Option<Entry>>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(limits::MAX_BULK_KEYS) {
        match store.get_many(chunk).await {
            Ok(found) => out.extend(found),
            Err(Error::BulkTooLarge { .. }) => out.extend(read_in_halves(store, chunk).await?),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Reads `keys` in ever smaller bulk reads until each is under KV's 25 MiB.
async fn read_in_halves<S: KvStore>(store: &S, keys: &[String]) -> Result<Vec<Option<Entry>>> {
    let mut found: Vec<Option<Entry>> = vec![None; keys.len()];
    // The whole batch was just refused: start with its halves.
    let mid = keys.len() / 2;
    let mut pending = vec![(mid, keys.len()), (0, mid)];
    while let Some((from, to)) = pending.pop() {
        if to == from {
            continue;
        }
        if to - from == 1 {
            found[from] = store.get(&keys[from]).await?;
            continue;
        }
        match store.get_many(&keys[from..to]).await {
            Ok(got) => {
                for (slot, entry) in found[from..to].iter_mut().zip(got) {
                    *slot = entry;
                }
            }
            Err(Error::BulkTooLarge { .. }) => {
                let mid = from + (to - from) / 2;
                pending.push((mid, to));
                pending.push((from, mid));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// [`read_entries`], values only.
pub(crate) async fn read_keys<S: KvStore>(store: &S, keys: &[String]) -> Result<Vec<Option<String>>> {
    Ok(read_entries(store, keys).await?.into_iter().map(|e| e.map(Entry::into_text)).collect())
}

/// Whether expiry `a` is no sooner than `b` (`None` is never).
fn lasts_as_long(a: Option<u64>, b: Option<u64>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a >= b,
    }
}

/// A write whose checks passed, its reads not yet made.
pub(crate) struct Prepared {
    plan: Plan,
    /// The expiration the call decided (`Some(None)`: never), or `None`
    /// when it keeps the stored one.
    fixed: Option<Option<u64>>,
    now: u64,
    /// What the write reads first: the record key, then its unique entries;
    /// empty for a blind write (see [`prepare`]).
    keys: Vec<String>,
}

impl Prepared {
    /// The record key.
    pub(crate) fn rec_key(&self) -> &str {
        &self.plan.rec_key
    }
}

/// Checks every limit of a write before its first KV operation, turns its
/// ttl into an expiration with the clock reading `now`, and works out what
/// it must read.
///
/// A put of a model with no index whose expiry the call decides (a ttl, an
/// expiration, `permanent`, or the model's ttl) is blind: it reads nothing.
/// With no index there is nothing to check or move, and the old record's
/// expiry is not needed; only keeping the stored expiry needs the old record
/// (and create's `AlreadyExists`, update's `NotFound` need to know whether
/// there is one).
pub(crate) fn prepare(now: u64, plan: Plan) -> Result<Prepared> {
    let rec_key = &plan.rec_key;
    // Every limit is checked before the first write of the operation.
    limits::check_key(rec_key)?;
    for e in &plan.entries {
        limits::check_key(&e.key)?;
    }
    limits::check_value(rec_key, &plan.value)?;
    let fixed = match plan.expiry {
        Expiry::Ttl(ttl) => Some(Some(limits::ttl_to_expiration(rec_key, ttl, now)?)),
        Expiry::At(at) => {
            limits::check_expiration(rec_key, at, now)?;
            Some(Some(at))
        }
        Expiry::Never => Some(None),
        Expiry::Keep => None,
    };
    // The metadata with the largest `$exp` it can have, so a write is never
    // refused for its metadata after its first KV operation.
    let widest = record_metadata(plan.projection.as_ref(), plan.extra.as_ref(), Some(limits::MAX_EXPIRATION));
    limits::check_metadata(rec_key, &widest)?;
    let blind = plan.indexes.is_empty() && plan.mode == Mode::Put && fixed.is_some();
    let keys = if blind {
        Vec::new()
    } else {
        let unique = plan.entries.iter().filter(|e| plan.indexes[e.index].kind == IndexKind::Unique);
        std::iter::once(rec_key.clone()).chain(unique.map(|e| e.key.clone())).collect()
    };
    Ok(Prepared { plan, fixed, now, keys })
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
    let got = read_entries(store, &prepared.keys).await?;
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
        let mine = p.keys.iter().map(String::as_str).chain(std::iter::once(p.rec_key()));
        let mine = mine.chain(p.plan.entries.iter().map(|e| e.key.as_str()));
        let mine: Vec<&str> = mine.collect();
        if !mine.iter().any(|k| touched.contains(k)) {
            shared[i] = true;
            keys.extend(p.keys.iter().cloned());
        }
        touched.extend(mine);
    }
    let mut got = read_entries(store, &keys).await?.into_iter();
    let mut out = Vec::with_capacity(prepared.len());
    for ((p, shared), claims) in prepared.into_iter().zip(shared).zip(claims) {
        let outcome = match p {
            Err(e) => Err(e),
            Ok(p) if shared => {
                let mine: Vec<Option<Entry>> = got.by_ref().take(p.keys.len()).collect();
                apply(store, p, mine, stored, claims.as_ref()).await
            }
            Ok(p) => match read_entries(store, &p.keys).await {
                Ok(mine) => apply(store, p, mine, stored, claims.as_ref()).await,
                Err(e) => Err(e),
            },
        };
        out.push(outcome);
    }
    Ok(out)
}

/// The rest of [`write`], given what its reads found (`got`, in the order
/// of `prepared.keys`).
async fn apply<S: KvStore>(
    store: &S,
    prepared: Prepared,
    got: Vec<Option<Entry>>,
    stored: &dyn Stored,
    claims: Option<&Claims<'_>>,
) -> Result<()> {
    let Prepared { plan, fixed, now, keys } = prepared;
    let Plan { model, indexes, mode, id, rec_key, value, entries, projection, extra, expiry: _ } = plan;
    let kind = |e: &IndexEntry| indexes[e.index].kind;
    if keys.is_empty() {
        // Blind: no index, the expiry decided by the call.
        let metadata = record_metadata(projection.as_ref(), extra.as_ref(), fixed.flatten());
        let opts = PutOptions { expiration: fixed.flatten(), expiration_ttl: None, metadata: Some(metadata) };
        return store.put(&rec_key, &value, &opts).await;
    }
    let unique: Vec<&IndexEntry> = entries.iter().filter(|e| kind(e) == IndexKind::Unique).collect();
    let mut got = got.into_iter();
    let old: Option<Entry> = got.next().flatten();
    let held: Vec<Option<String>> = got.map(|e| e.map(Entry::into_text)).collect();
    match (mode, &old) {
        (Mode::Create, Some(_)) => return Err(Error::AlreadyExists { model, key: rec_key }),
        (Mode::Update, None) => return Err(Error::NotFound { model, key: rec_key }),
        _ => {}
    }

    // The old record's expiry, from its metadata; a record whose metadata
    // does not say (written by other code, or an older kvgen) is listed to
    // learn it: 1 list, only then.
    let old_exp: Option<u64> = match &old {
        Some(e) => match stored_expiration(e.metadata.as_ref()) {
            Some(at) => at,
            None => listed_expiration(store, &rec_key).await?,
        },
        None => None,
    };
    let expiration = match fixed {
        Some(at) => at,
        // Kept, but at least KV's minimum from now: KV refuses a sooner one.
        None => old_exp.map(|at| at.max(now + limits::MIN_TTL_SECS)),
    };
    let metadata = record_metadata(projection.as_ref(), extra.as_ref(), expiration);

    // An entry held by another id is a conflict only if that record still
    // carries the value, or cannot be read (it may carry it).
    let contested: Vec<(&IndexEntry, String, &String)> = unique
        .iter()
        .zip(&held)
        .filter_map(|(e, h)| {
            let h = h.as_ref().filter(|h| **h != id)?;
            Some((*e, stored.holder_key(h)?, h))
        })
        .collect();
    if !contested.is_empty() {
        let holder_keys: Vec<String> = contested.iter().map(|(_, k, _)| k.clone()).collect();
        let holders = read_keys(store, &holder_keys).await?;
        for ((entry, holder_key, holder_id), holder) in contested.iter().zip(holders) {
            let Some(json) = holder else { continue };
            if stored.carries_entry(holder_key, &json, entry.index, &entry.key) != Some(false) {
                return Err(violation(model, indexes, &rec_key, &id, entry, &stored.display_id(holder_id)));
            }
        }
    }

    // What the old record needs; `None` when it is unreadable (its entries
    // are then unknown: every entry is written, none removed).
    let old_entries: Option<Vec<IndexEntry>> = match &old {
        Some(e) => stored.entries_of(&rec_key, &String::from_utf8_lossy(&e.value)),
        None => Some(Vec::new()),
    };
    // Secondary entries carry the metadata projection: rewritten when it changes.
    let old_projection = old.as_ref().and_then(|e| projection_of(e.metadata.as_ref()));
    let meta_changed = old.is_some() && old_projection != projection;
    // Whether a unique entry already holds this record's id.
    let points_here =
        |e: &IndexEntry| unique.iter().zip(&held).any(|(u, h)| u.key == e.key && h.as_deref() == Some(id.as_str()));
    // The expiry the old record's entries have: unknown counts as never, so
    // that entries are only ever written before the record when that makes
    // them last at least as long as they did.
    let same_expiry = old_exp == expiration;
    let growing = lasts_as_long(expiration, old_exp);

    let mut before: Vec<(&IndexEntry, Option<u64>)> = Vec::new();
    let mut after: Vec<&IndexEntry> = Vec::new();
    // An unreadable old record may carry any of the values: its entries
    // are treated as kept, and may be missing.
    let unknown = old.is_some() && old_entries.is_none();
    for e in &entries {
        let kept = old_entries.as_ref().is_some_and(|old| old.contains(e));
        if !kept && !unknown {
            before.push((e, expiration));
            continue;
        }
        let current = kept
            && match kind(e) {
                IndexKind::Unique => points_here(e),
                IndexKind::Secondary => !meta_changed,
            };
        if current && same_expiry {
            continue;
        }
        if growing {
            before.push((e, expiration));
            continue;
        }
        // The expiry shrinks: the entry keeps the old expiry until the
        // record is written. One that may not name this record yet is put
        // right first, with the old expiry.
        if !current && (unknown || kind(e) == IndexKind::Unique) {
            before.push((e, old_exp));
        }
        after.push(e);
    }

    let entry_put = |e: &IndexEntry, expiration: Option<u64>| {
        let (value, metadata) = match kind(e) {
            IndexKind::Unique => (id.as_str(), None),
            IndexKind::Secondary => ("", projection.clone()),
        };
        (value, PutOptions { expiration, expiration_ttl: None, metadata })
    };
    if let Some(claims) = claims {
        claims.claim(store, stored).await?;
    }
    let check = || claims.map_or(Ok(()), |c| c.check());
    for (e, at) in &before {
        check()?;
        let (value, opts) = entry_put(e, *at);
        store.put(&e.key, value.as_bytes(), &opts).await?;
    }
    check()?;
    store.put(&rec_key, &value, &PutOptions { expiration, expiration_ttl: None, metadata: Some(metadata) }).await?;
    let committed = match claims {
        Some(c) => c.commit().await,
        None => Ok(()),
    };

    // The record is committed. What follows is best-effort: an entry left
    // with a later expiry than its record, or an old entry left behind, is
    // stale — ignored by lookups, replaced by the next write of its value,
    // removed by repair.
    for e in after {
        let (value, opts) = entry_put(e, expiration);
        let _ = store.put(&e.key, value.as_bytes(), &opts).await;
    }
    if let Some(old_entries) = old_entries {
        let dropped: Vec<IndexEntry> = old_entries.into_iter().filter(|e| !entries.contains(e)).collect();
        if !dropped.is_empty() {
            if let (Some(c), Ok(())) = (claims, &committed) {
                c.release_dropped(&dropped).await;
            }
            if let Ok(ours) = entries_pointing_to(store, indexes, dropped, &id).await {
                for e in ours {
                    let _ = store.delete(&e.key).await;
                }
            }
        }
    }
    committed
}

/// A stored record's `#[kv(meta)]` projection, from its metadata.
fn projection_of(metadata: Option<&Value>) -> Option<Value> {
    projection(metadata.cloned())
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

/// The entries of strict indexes (none, and no allocation, for most models).
fn strict_entries(indexes: &[IndexDef], entries: &[IndexEntry]) -> Vec<IndexEntry> {
    entries.iter().filter(|e| indexes[e.index].strict).cloned().collect()
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

/// [`entries_pointing_to`], given what the unique entries of `entries` hold,
/// in order.
fn pointing_to(indexes: &[IndexDef], entries: Vec<IndexEntry>, id: &str, held: &[Option<String>]) -> Vec<IndexEntry> {
    let mut held = held.iter();
    entries
        .into_iter()
        .filter(|e| match indexes[e.index].kind {
            IndexKind::Unique => held.next().and_then(|h| h.as_deref()) == Some(id),
            IndexKind::Secondary => true,
        })
        .collect()
}

/// One page of a listing, after checking the page size and the cursor.
///
/// Every cursor handed out is the store's cursor behind a tag derived from
/// the full prefix (scope, model, index and value): `{16 hex digits}.{store
/// cursor}`. A cursor without the tag of this prefix (another scope, model or
/// index, a malformed or empty one) is refused with `InvalidCursor` before
/// any KV operation. The tag binds a cursor to its listing; it is not a
/// secret (the store's cursor is passed through as it is).
pub(crate) async fn list_page<S: KvStore>(
    store: &S,
    prefix: String,
    page: crate::store::Page,
) -> Result<crate::store::ListResult> {
    limits::check_list_limit(page.limit)?;
    let tag = cursor_tag(&prefix);
    let cursor = match page.cursor {
        None => None,
        Some(c) => match c.split_once('.') {
            Some((t, inner)) if t == tag && !inner.is_empty() => Some(inner.to_string()),
            _ => return Err(crate::error::Error::InvalidCursor { cursor: c }),
        },
    };
    let mut listed = store.list(&crate::store::ListOptions { prefix, cursor, limit: page.limit }).await?;
    listed.cursor = listed.cursor.map(|c| format!("{tag}.{c}"));
    Ok(listed)
}

/// The keys an internal page of a range listing reads: as many as one list
/// returns, so that the keys before the range's start are passed over 1,000
/// a list.
pub(crate) const RANGE_LIST_LIMIT: u32 = limits::MAX_LIST_LIMIT;

/// One page of the keys under `prefix` that are at or after `start` (a key
/// beginning with `prefix`), in byte order. KV lists by prefix only, so each
/// call makes exactly 1 list of up to 1,000 keys from where the previous page
/// stopped, and returns those at or after the bound: at most `page.limit` of
/// them. Keys before `start` are passed over, up to 1,000 a call: a page can
/// be empty while its cursor says there is more.
///
/// The cursor is `{tag}.{bound in hex}.{store cursor}`: the tag binds it to
/// `prefix` and `start`; the bound is the key after which the next page
/// begins (never before `start`); the store cursor is where the list of that
/// page starts (empty for the first), so that a page that ends inside one
/// list of 1,000 keys resumes inside it.
pub(crate) async fn list_page_from<S: KvStore>(
    store: &S,
    prefix: String,
    start: &str,
    page: crate::store::Page,
) -> Result<crate::store::ListResult> {
    limits::check_list_limit(page.limit)?;
    let tag = cursor_tag(&format!("{prefix}\n{start}"));
    let (bound, kv_cursor) = match &page.cursor {
        None => (start.to_string(), None),
        Some(c) => {
            let invalid = || crate::error::Error::InvalidCursor { cursor: c.clone() };
            let mut parts = c.splitn(3, '.');
            let (Some(t), Some(hex), Some(inner)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(invalid());
            };
            let bound = unhex(hex).ok_or_else(invalid)?;
            if t != tag || bound.as_str() < start || !bound.starts_with(&prefix) {
                return Err(invalid());
            }
            (bound, (!inner.is_empty()).then(|| inner.to_string()))
        }
    };
    let limit = page.limit as usize;
    let listed = store
        .list(&crate::store::ListOptions { prefix: prefix.clone(), cursor: kv_cursor.clone(), limit: RANGE_LIST_LIMIT })
        .await?;
    let mut keys: Vec<crate::store::ListKey> = Vec::new();
    let mut rest = listed.keys.into_iter().filter(|k| k.name.as_str() >= bound.as_str());
    for k in rest.by_ref() {
        keys.push(k);
        if keys.len() == limit {
            break;
        }
    }
    let after_last = |keys: &[crate::store::ListKey]| match keys.last() {
        // The smallest key after the last one returned.
        Some(k) => format!("{}\0", k.name),
        None => bound.clone(),
    };
    let next = if rest.next().is_some() {
        // The page ended inside this list: the next one lists it again, from after its last key.
        Some((after_last(&keys), kv_cursor.unwrap_or_default()))
    } else {
        listed.cursor.map(|c| (after_last(&keys), c))
    };
    let cursor = next.map(|(b, c)| format!("{tag}.{}.{c}", hex(&b)));
    Ok(crate::store::ListResult { keys, cursor })
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

/// The tag of cursors of listings under `prefix`: FNV-1a of its bytes, in hex.
fn cursor_tag(prefix: &str) -> String {
    let hash = prefix.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

/// Where the records of listed keys are.
pub(crate) enum Records<'a> {
    /// The listed keys are the records.
    Listed,
    /// The listed keys are secondary entries under `prefix`; each record is
    /// `{head}:{the entry's last component}`.
    Entries { prefix: &'a str, head: &'a str },
}

/// One page of keys under `prefix` and the stored JSON of their records, in
/// key order: `(listed key, record key, JSON)` for the records still there.
/// Costs 1 list + 1 bulk read per 100 keys.
pub(crate) async fn list_records<S: KvStore>(
    store: &S,
    prefix: String,
    page: crate::store::Page,
    records: Records<'_>,
) -> Result<(Vec<(String, String, String)>, Option<String>)> {
    let listed = list_page(store, prefix, page).await?;
    let names: Vec<String> = listed.keys.into_iter().map(|k| k.name).collect();
    let rec_keys: Vec<String> = match records {
        Records::Listed => names.clone(),
        Records::Entries { prefix, head } => {
            // The id is the entry's last component (a group of a leading subset
            // of the index's fields leaves the other values before it).
            names
                .iter()
                .map(|n| {
                    let rest = n.get(prefix.len()..).unwrap_or_default();
                    format!("{head}:{}", rest.rsplit(':').next().unwrap_or_default())
                })
                .collect()
        }
    };
    let values = read_keys(store, &rec_keys).await?;
    let found = names
        .into_iter()
        .zip(rec_keys)
        .zip(values)
        .filter_map(|((name, rec_key), v)| v.map(|v| (name, rec_key, v)))
        .collect();
    Ok((found, listed.cursor))
}

/// The record a unique entry at `key` names: `(record key, JSON)`, or `None`
/// when the entry or its record is missing, or the entry names no valid id.
/// Costs 2 reads.
pub(crate) async fn follow_unique<S: KvStore>(
    store: &S,
    key: &str,
    stored: &dyn Stored,
) -> Result<Option<(String, String)>> {
    limits::check_key(key)?;
    let Some(entry) = store.get(key).await? else { return Ok(None) };
    let Some(rec_key) = stored.holder_key(&String::from_utf8_lossy(&entry.value)) else { return Ok(None) };
    Ok(store.get(&rec_key).await?.map(|r| (rec_key, r.into_text())))
}

/// How many keys there are under `prefix`. Costs 1 list per 1000.
pub(crate) async fn count<S: KvStore>(store: &S, prefix: String) -> Result<u64> {
    let mut pages = Pages::new(store, prefix);
    let mut n = 0;
    while let Some(keys) = pages.next().await? {
        n += keys.len() as u64;
    }
    Ok(n)
}

/// Every key under a prefix, a page of up to 1000 at a time (1 list each),
/// through [`list_page`]: `while let Some(keys) = pages.next().await? { .. }`.
pub(crate) struct Pages<'s, S> {
    store: &'s S,
    prefix: String,
    page: Option<crate::store::Page>,
}

impl<'s, S: KvStore> Pages<'s, S> {
    /// The pages of keys under `prefix`, none read yet.
    pub(crate) fn new(store: &'s S, prefix: String) -> Self {
        Pages { store, prefix, page: Some(crate::store::Page::first(limits::MAX_LIST_LIMIT)) }
    }

    /// The next page's keys; `None` after the last page.
    pub(crate) async fn next(&mut self) -> Result<Option<Vec<crate::store::ListKey>>> {
        let Some(page) = self.page.take() else { return Ok(None) };
        let listed = list_page(self.store, self.prefix.clone(), page).await?;
        self.page = listed.cursor.map(|c| crate::store::Page::after(c, limits::MAX_LIST_LIMIT));
        Ok(Some(listed.keys))
    }
}
