//! The unique-index protocol, generic over the store only.
//!
//! Repositories are generic over the model; the protocol is the largest part
//! of them, so it lives here, instantiated once per store type rather than
//! once per model (that keeps Worker wasm small). The few steps that need the
//! model — parsing a stored record into its index entries — go through the
//! object-safe [`Stored`].

use crate::error::{Error, Result};
use crate::limits;
use crate::model::{IndexDef, IndexKind};
use crate::store::{KvStore, PutOptions};
use serde_json::Value;

/// An index entry a record needs: which index, and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub index: usize,
    pub key: String,
}

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

/// The model-specific steps of the protocol, on stored JSON.
pub(crate) trait Stored {
    /// The index entries of the stored record `json` (at `key`).
    fn entries_of(&self, key: &str, json: &str) -> Result<Vec<IndexEntry>>;
    /// The key of the stored record's entry in index `index`, if it has one.
    fn entry_of(&self, key: &str, json: &str, index: usize) -> Result<Option<String>>;
    /// The stored record's metadata projection.
    fn meta_of(&self, key: &str, json: &str) -> Result<Option<Value>>;
}

/// One write, with everything model-specific worked out.
pub(crate) struct Plan {
    pub model: &'static str,
    pub indexes: &'static [IndexDef],
    pub mode: Mode,
    /// The encoded id.
    pub id: String,
    pub rec_key: String,
    pub value: String,
    pub entries: Vec<IndexEntry>,
    pub put: PutOptions,
}

/// Reads the values of any number of keys, in bulk reads of at most 100.
pub(crate) async fn read_keys<S: KvStore>(store: &S, keys: &[String]) -> Result<Vec<Option<String>>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(limits::MAX_BULK_KEYS) {
        out.extend(store.get_many(chunk).await?);
    }
    Ok(out)
}

/// Create, update or put, as DESIGN.md lays out: one bulk read of the
/// record and its unique entries; a conflict only when another live record
/// carries the value; new entries, then the record, then the old entries it
/// no longer needs; on a failed write, undo what this call wrote.
pub(crate) async fn write<S: KvStore>(store: &S, plan: Plan, stored: &dyn Stored) -> Result<()> {
    let Plan { model, indexes, mode, id, rec_key, value, entries, put } = plan;
    let kind = |e: &IndexEntry| indexes[e.index].kind;

    // Every limit is checked before the first write of the operation.
    limits::check_key(&rec_key)?;
    for e in &entries {
        limits::check_key(&e.key)?;
    }
    limits::check_value(&rec_key, &value)?;
    if let Some(m) = &put.metadata {
        limits::check_metadata(&rec_key, m)?;
    }
    if let Some(ttl) = put.expiration_ttl {
        limits::check_ttl(&rec_key, ttl)?;
    }

    // One bulk read: the record and every unique entry it needs.
    let unique: Vec<&IndexEntry> = entries.iter().filter(|e| kind(e) == IndexKind::Unique).collect();
    let mut keys = Vec::with_capacity(1 + unique.len());
    keys.push(rec_key.clone());
    keys.extend(unique.iter().map(|e| e.key.clone()));
    let mut got = read_keys(store, &keys).await?.into_iter();
    let old: Option<String> = got.next().flatten();
    let held: Vec<Option<String>> = got.collect();
    match (mode, &old) {
        (Mode::Create, Some(_)) => return Err(Error::AlreadyExists { model, key: rec_key }),
        (Mode::Update, None) => return Err(Error::NotFound { model, key: rec_key }),
        _ => {}
    }

    // An entry held by another id is a conflict only if that record still carries the value.
    let contested: Vec<(&IndexEntry, &String)> =
        unique.iter().zip(&held).filter_map(|(e, h)| h.as_ref().filter(|h| **h != id).map(|h| (*e, h))).collect();
    if !contested.is_empty() {
        // `{scope/}{model}`: the record key less `:{id}`.
        let head = &rec_key[..rec_key.len() - id.len() - 1];
        let holder_keys: Vec<String> = contested.iter().map(|(_, h)| format!("{head}:{h}")).collect();
        for key in &holder_keys {
            limits::check_key(key)?;
        }
        let holders = read_keys(store, &holder_keys).await?;
        for (((entry, holder_id), holder), holder_key) in contested.iter().zip(holders).zip(&holder_keys) {
            let Some(json) = holder else { continue };
            if stored.entry_of(holder_key, &json, entry.index)?.as_deref() == Some(entry.key.as_str()) {
                let def = &indexes[entry.index];
                let prefix = head.len() + 1 + def.name.len() + 1;
                return Err(Error::UniqueViolation {
                    model,
                    index: def.name,
                    value: entry.key.get(prefix..).unwrap_or_default().to_string(),
                    holder: holder_id.to_string(),
                });
            }
        }
    }

    let old_entries = match &old {
        Some(json) => stored.entries_of(&rec_key, json)?,
        None => Vec::new(),
    };
    // Secondary entries carry the metadata projection: rewritten when it changes.
    let has_secondary = entries.iter().any(|e| kind(e) == IndexKind::Secondary);
    let meta_changed = match &old {
        Some(json) if has_secondary && put.metadata.is_some() => stored.meta_of(&rec_key, json)? != put.metadata,
        _ => false,
    };
    // Entries of an expiring record are rewritten with it, so they expire together.
    let expiring = put.expiration_ttl.is_some() || put.expiration.is_some();
    // Whether a unique entry already holds this record's id.
    let points_here =
        |e: &IndexEntry| unique.iter().zip(&held).any(|(u, h)| u.key == e.key && h.as_deref() == Some(id.as_str()));
    let to_write: Vec<&IndexEntry> = entries
        .iter()
        .filter(|e| {
            let kept = old_entries.contains(e);
            match kind(e) {
                IndexKind::Unique => !kept || !points_here(e) || expiring,
                IndexKind::Secondary => !kept || meta_changed || expiring,
            }
        })
        .collect();

    let mut written: Vec<&str> = Vec::with_capacity(to_write.len() + 1);
    for e in &to_write {
        let (value, metadata) = match kind(e) {
            IndexKind::Unique => (id.as_str(), None),
            IndexKind::Secondary => ("", put.metadata.clone()),
        };
        let entry_opts = PutOptions { expiration: put.expiration, expiration_ttl: put.expiration_ttl, metadata };
        // Recorded before the call: a write can land and still report failure.
        written.push(&e.key);
        if let Err(err) = store.put(&e.key, value, &entry_opts).await {
            compensate(store, &written, &old_entries).await;
            return Err(err);
        }
    }
    if let Err(err) = store.put(&rec_key, &value, &put).await {
        if old.is_none() {
            // The record may have landed although the call failed: undo it too.
            written.push(&rec_key);
        }
        compensate(store, &written, &old_entries).await;
        return Err(err);
    }

    // The record is committed. Old entries it no longer needs are removed
    // best-effort: one left behind is stale, ignored by lookups and
    // replaced by the next write of its value.
    let dropped: Vec<IndexEntry> = old_entries.into_iter().filter(|e| !entries.contains(e)).collect();
    if !dropped.is_empty() {
        if let Ok(ours) = entries_pointing_to(store, indexes, dropped, &id).await {
            for e in ours {
                let _ = store.delete(&e.key).await;
            }
        }
    }
    Ok(())
}

/// Deletes a record, then those of its entries that point to it.
pub(crate) async fn delete<S: KvStore>(
    store: &S,
    indexes: &'static [IndexDef],
    rec_key: &str,
    id: &str,
    entries: Vec<IndexEntry>,
) -> Result<()> {
    let ours = entries_pointing_to(store, indexes, entries, id).await?;
    store.delete(rec_key).await?;
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
    Ok(entries
        .into_iter()
        .filter(|e| match unique.iter().position(|k| *k == e.key) {
            Some(i) => held[i].as_deref() == Some(id),
            None => true,
        })
        .collect())
}

/// Undoes the writes of a failed call, keeping entries the old record still needs.
async fn compensate<S: KvStore>(store: &S, written: &[&str], keep: &[IndexEntry]) {
    for key in written {
        if !keep.iter().any(|e| e.key == *key) {
            let _ = store.delete(key).await;
        }
    }
}

/// One page of a listing, after checking the page size.
pub(crate) async fn list_page<S: KvStore>(
    store: &S,
    prefix: String,
    page: crate::repo::Page,
) -> Result<crate::store::ListResult> {
    limits::check_list_limit(page.limit)?;
    store.list(&crate::store::ListOptions { prefix, cursor: page.cursor, limit: page.limit }).await
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
    page: crate::repo::Page,
    records: Records<'_>,
) -> Result<(Vec<(String, String, String)>, Option<String>)> {
    let listed = list_page(store, prefix, page).await?;
    let names: Vec<String> = listed.keys.into_iter().map(|k| k.name).collect();
    let rec_keys: Vec<String> = match records {
        Records::Listed => names.clone(),
        Records::Entries { prefix, head } => {
            names.iter().map(|n| format!("{head}:{}", n.get(prefix.len()..).unwrap_or_default())).collect()
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
/// when the entry or its record is missing. Costs 2 reads.
pub(crate) async fn follow_unique<S: KvStore>(store: &S, key: &str, head: &str) -> Result<Option<(String, String)>> {
    limits::check_key(key)?;
    let Some(entry) = store.get(key).await? else { return Ok(None) };
    let rec_key = format!("{head}:{}", entry.value);
    if limits::check_key(&rec_key).is_err() {
        return Ok(None);
    }
    Ok(store.get(&rec_key).await?.map(|r| (rec_key, r.value)))
}

/// How many keys there are under `prefix`. Costs 1 list per 1000.
pub(crate) async fn count<S: KvStore>(store: &S, prefix: String) -> Result<u64> {
    let mut page = crate::repo::Page::first(limits::MAX_LIST_LIMIT);
    let mut n = 0;
    loop {
        let listed = list_page(store, prefix.clone(), page).await?;
        n += listed.keys.len() as u64;
        match listed.cursor {
            Some(c) => page = crate::repo::Page::after(c, limits::MAX_LIST_LIMIT),
            None => return Ok(n),
        }
    }
}
