//! The typed repository: every call a generated repository makes, written once,
//! generic over [`Model`] and [`KvStore`].
//!
//! - this file: [`Repo`] and its reads, writes, batches, listings and relation loaders;
//! - `audit`: `verify` and `repair`, which walk a model's records and indexes;
//! - `recipes`: read-modify-write helpers (`modify`, `touch`, `get_many_or_fetch`).
//!
//! Builds on the model layer (keys), the stores, and the index protocol,
//! which decides and applies each write. The patterns are built on this
//! layer's public API; nothing here may depend on them.
//!
//! `Repo`: every repository operation, written once, generic over [`Model`].
//!
//! Generated repositories (`UserRepo`, ...) dereference to a `Repo` and add only
//! the model-specific finders and loaders, each a call into this file.

pub(crate) mod audit;
mod recipes;

use crate::error::{Error, Result};
use crate::index::entry::{IndexEntry, Stored};
use crate::index::protocol::{self, Expiry, Mode};
use crate::index::strict::Claims;
use crate::model::key::{self, IdArg, KeyPart, KeySpace};
use crate::model::{IndexKind, Model, RawKind};
use crate::store::limits;
use crate::store::{Entry, KvStore, Page};
use serde_json::Value;
use std::collections::HashMap;
use std::marker::PhantomData;

/// One page of results; serializes as `{"items": [...], "cursor": ...}`, with
/// `"unreadable": [...]` when the page met records it could not read.
///
/// A page can hold fewer items than its limit, or none, while `cursor` says
/// there is more: a listing reads one page of keys, and skips what it finds
/// there that is not a live record (an index entry whose record no longer
/// carries the value, a record that expired between the list and the read).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListPage<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass to [`Page::after`] for the next page; `None` when there is no more.
    pub cursor: Option<String>,
    /// The keys of records on this page that could not be read as the model
    /// (stored by an older struct, or written by other code), left out of
    /// `items`. They can still be deleted, or overwritten with `put`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

impl<T> ListPage<T> {
    fn empty() -> Self {
        ListPage { items: Vec::new(), cursor: None, unreadable: Vec::new() }
    }

    /// The page after this one, if there is one.
    pub fn next(&self, limit: u32) -> Option<Page> {
        self.cursor.as_ref().map(|c| Page::after(c.clone(), limit))
    }
}

/// Every page of a listing, for code that wants everything (an export, a
/// migration): calls `page` from the first page of `limit` on, following
/// cursors until there is none, and returns the items (and unreadable keys)
/// of all pages in order, with no cursor. Costs what its pages cost, one
/// call per page; the 1,000 operations of a Worker invocation bound how
/// much one request can gather.
///
/// ```rust,ignore
/// let all = kvgen::all_pages(1000, |p| log.list_by_actor("ada", p)).await?;
/// ```
pub async fn all_pages<T, F, Fut>(limit: u32, mut page: F) -> Result<ListPage<T>>
where
    F: FnMut(Page) -> Fut,
    Fut: std::future::Future<Output = Result<ListPage<T>>>,
{
    let mut out = ListPage::empty();
    let mut next = Some(Page::first(limit));
    while let Some(p) = next {
        let got = page(p).await?;
        next = got.next(limit);
        out.items.extend(got.items);
        out.unreadable.extend(got.unreadable);
    }
    Ok(out)
}

/// What a listing says of a record or index entry without reading the record.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<M: Model> {
    /// The record's id.
    pub id: M::Id,
    /// The record's metadata projection (`#[kv(meta)]` fields).
    pub meta: Option<M::Meta>,
    /// When the key expires, seconds since the epoch.
    pub expiration: Option<u64>,
}

/// Per-call write options: when the written record expires.
///
/// The first that is set wins: `ttl`, `expiration`, `permanent`, the model's
/// default `ttl`. With none of them, a write keeps the record's stored
/// expiry (a new record never expires); a kept expiry less than 60 s away is
/// moved to 60 s from now, the soonest KV accepts. Every index entry of the
/// record is written with exactly the record's expiration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WriteOptions {
    /// Expire this many seconds after the write (at least 60).
    pub ttl: Option<u64>,
    /// Expire at this time, seconds since the epoch (at least now + 60).
    pub expiration: Option<u64>,
    /// Never expire, dropping any stored expiry and the model's default ttl.
    #[serde(default)]
    pub permanent: bool,
}

impl WriteOptions {
    /// Expire `secs` after the write.
    pub fn ttl(secs: u64) -> Self {
        WriteOptions { ttl: Some(secs), ..Self::default() }
    }
    /// Expire at `at`, seconds since the epoch.
    pub fn expire_at(at: u64) -> Self {
        WriteOptions { expiration: Some(at), ..Self::default() }
    }
    /// Never expire.
    pub fn permanent() -> Self {
        WriteOptions { permanent: true, ..Self::default() }
    }
}

/// The repository of model `M` over store `S`, optionally under a scope.
pub struct Repo<'a, M, S> {
    store: &'a S,
    scope: &'a str,
    model: PhantomData<fn() -> M>,
}

impl<M, S> Clone for Repo<'_, M, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, S> Copy for Repo<'_, M, S> {}

impl<M, S> std::fmt::Debug for Repo<'_, M, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo").field("model", &std::any::type_name::<M>()).field("scope", &self.scope).finish()
    }
}

/// Checks a runtime scope: 1..=64 characters of `[A-Za-z0-9_-]`, then
/// optionally a `:`. Keys are `{scope}/{model}:..`, or `{scope}{model}:..`
/// when the scope ends in `:` (`prod:user:u1`, for a layout that exists
/// already). A `:` scope must not be the prefix of a model kept in the same
/// namespace without a scope: that model's listings would take in the
/// scope's keys. Generated binding structs refuse such a scope; this check
/// and [`Repo::scoped`] cannot know the other models, and do not.
pub fn check_scope(scope: &str) -> Result<()> {
    let name = scope.strip_suffix(':').unwrap_or(scope);
    let ok =
        (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidScope {
            scope: scope.to_string(),
            reason: "use 1..=64 characters of [A-Za-z0-9_-], then optionally `:`",
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(key: &str, value: &str) -> Result<T> {
    serde_json::from_str(value).map_err(|e| Error::serialization(key, e))
}

fn to_json<T: serde::Serialize>(key: &str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::serialization(key, e))
}

/// Refuses a record that would not read back as written: serde_json stores
/// a NaN or infinite float as `null`, which then fails to parse (or parses
/// as `None`).
fn check_finite<M: Model>(key: &str, rec: &M) -> Result<()> {
    crate::model::finite::check(rec).map_err(|e| Error::Serialization {
        key: key.to_string(),
        message: format!("{e}: a NaN or infinite float is stored as null and would not read back"),
        source: None,
    })
}

fn meta_value<M: Model>(key: &str, rec: &M) -> Result<Option<Value>> {
    rec.meta().map(|m| serde_json::to_value(m).map_err(|e| Error::serialization(key, e))).transpose()
}

/// The record's `#[kv(meta)]` projection as Workers KV stores it (numbers
/// as JavaScript doubles: `10.0` is `10`), refused when it would not read
/// back as the model's metadata (an integer beyond 2^53, say).
fn stored_projection<M: Model>(key: &str, rec: &M) -> Result<Option<Value>> {
    let Some(meta) = meta_value(key, rec)? else { return Ok(None) };
    let stored = limits::metadata_as_stored(&meta);
    if serde_json::from_value::<M::Meta>(stored.clone()).is_err() {
        return Err(Error::Serialization {
            key: key.to_string(),
            message:
                "the metadata would not read back: KV stores its numbers as doubles (integers beyond 2^53 lose digits)"
                    .into(),
            source: None,
        });
    }
    Ok(Some(stored))
}

/// A raw model's metadata: its fields other than the id and the raw one, as
/// Workers KV stores them, refused when they would not read back.
pub(crate) fn raw_projection<M: Model>(key: &str, rec: &M) -> Result<Value> {
    let bad = |message: String| Error::Serialization { key: key.to_string(), message, source: None };
    let fields = rec.raw_fields().map_err(|e| bad(e.to_string()))?;
    let stored = limits::metadata_as_stored(&Value::Object(fields));
    let Value::Object(back) = &stored else { return Err(bad("the metadata is not an object".into())) };
    let id =
        M::Id::read_key(&key::encode(rec.id())).ok_or_else(|| bad("the id does not read back from its key".into()))?;
    if let Err(e) = M::from_raw(id, Vec::new(), back.clone()) {
        return Err(bad(format!("the metadata would not read back ({e}): KV stores its numbers as doubles")));
    }
    Ok(stored)
}

/// Whether `stored` (a value as KV stores it) reads back as `given`: the
/// same shape, and each number the same (an integer as that integer, a
/// float as that float; `10.0` stored as `10` reads back as `10.0`).
fn reads_back(given: &Value, stored: &Value) -> bool {
    match (given, stored) {
        (Value::Number(g), Value::Number(s)) => match (g.as_u64(), g.as_i64()) {
            (Some(u), _) => s.as_u64() == Some(u),
            (None, Some(i)) => s.as_i64() == Some(i),
            _ => g.as_f64() == s.as_f64(),
        },
        (Value::Array(g), Value::Array(s)) => g.len() == s.len() && g.iter().zip(s).all(|(g, s)| reads_back(g, s)),
        (Value::Object(g), Value::Object(s)) => {
            g.len() == s.len() && g.iter().all(|(k, g)| s.get(k).is_some_and(|s| reads_back(g, s)))
        }
        (g, s) => g == s,
    }
}

fn parse_meta<M: Model>(key: &str, meta: Option<Value>) -> Result<Option<M::Meta>> {
    if M::RAW.is_some() {
        // A raw record's metadata holds every field but the id and the value:
        // the projection is the part `Meta` names (none without `meta` fields).
        return Ok(protocol::projection(meta).and_then(|m| serde_json::from_value(m).ok()));
    }
    protocol::projection(meta).map(|m| serde_json::from_value(m).map_err(|e| Error::serialization(key, e))).transpose()
}

impl<'a, M: Model, S: KvStore> Repo<'a, M, S> {
    /// The repository of `M` in `store`, unscoped.
    pub fn new(store: &'a S) -> Self {
        Repo { store, scope: "", model: PhantomData }
    }

    /// The repository of `M` in `store`, every key under `{scope}/` (a
    /// stage or tenant; 1..=64 characters of `[A-Za-z0-9_-]`), or under
    /// `{scope}` for a scope ending in `:` (see [`check_scope`]).
    pub fn scoped(store: &'a S, scope: &'a str) -> Result<Self> {
        check_scope(scope)?;
        Ok(Repo { store, scope, model: PhantomData })
    }

    /// A repository under a scope that was checked with [`check_scope`]
    /// already (or is empty); used by generated binding structs.
    #[doc(hidden)]
    pub fn with_checked_scope(store: &'a S, scope: &'a str) -> Self {
        debug_assert!(scope.is_empty() || check_scope(scope).is_ok());
        Repo { store, scope, model: PhantomData }
    }

    /// The store this repository reads and writes.
    pub fn store(&self) -> &'a S {
        self.store
    }

    /// The scope, `""` for none.
    pub fn scope(&self) -> &'a str {
        self.scope
    }

    /// The repository of another model in the same store and scope.
    pub fn related<C: Model>(&self) -> Repo<'a, C, S> {
        Repo { store: self.store, scope: self.scope, model: PhantomData }
    }

    fn space(&self) -> KeySpace<'a> {
        KeySpace::new(self.scope, M::MODEL)
    }

    /// The record key of `id`: `{scope/}{model}:{id}`.
    pub fn record_key(&self, id: &M::Id) -> String {
        self.space().record_key_of(id)
    }

    /// The key of `rec`'s entry in index `index`, or `None` when an indexed
    /// field is absent (`None`).
    pub fn index_key(&self, rec: &M, index: usize) -> Option<String> {
        let mut buf = String::new();
        self.write_entry_key(rec, index, &mut buf).then_some(buf)
    }

    /// Whether `rec`'s entry in index `index` is `key`, reusing `buf` for the
    /// comparison (verification runs once per record read through an index).
    fn carries(&self, rec: &M, index: usize, key: &str, buf: &mut String) -> bool {
        self.write_entry_key(rec, index, buf) && buf == key
    }

    /// Writes the key of `rec`'s entry in index `index` into `buf` (cleared);
    /// `false` when an indexed field is absent and the record has no entry.
    fn write_entry_key(&self, rec: &M, index: usize, buf: &mut String) -> bool {
        let def = &M::INDEXES[index];
        // Room for the prefix and typical components, so writing them does not reallocate.
        buf.reserve(self.scope.len() + M::MODEL.len() + def.name.len() + 64);
        let mut w = self.space().index_writer_in(def.name, std::mem::take(buf));
        rec.index_parts(index, &mut w);
        if def.kind == IndexKind::Secondary {
            w.part(rec.id());
        }
        let (written, absent) = w.into_parts();
        *buf = written;
        !absent
    }

    /// The key (unique) or key prefix (secondary, without the id) looked up
    /// for the given values of index `index`.
    fn lookup_key(&self, index: usize, values: &[&dyn KeyPart]) -> Option<String> {
        let def = &M::INDEXES[index];
        let mut w = self.space().index_writer(def.name);
        for v in values {
            w.part(*v);
        }
        let mut key = w.finish()?;
        if def.kind == IndexKind::Secondary {
            key.push(':');
        }
        Some(key)
    }

    fn entries(&self, rec: &M) -> Vec<IndexEntry> {
        (0..M::INDEXES.len())
            .filter_map(|index| self.index_key(rec, index).map(|key| IndexEntry { index, key }))
            .collect()
    }

    fn expiry(&self, opts: &WriteOptions) -> Expiry {
        match (opts.ttl, opts.expiration, opts.permanent, M::DEFAULT_TTL) {
            (Some(ttl), ..) => Expiry::Ttl(ttl),
            (None, Some(at), ..) => Expiry::At(at),
            (None, None, true, _) => Expiry::Never,
            (None, None, false, Some(ttl)) => Expiry::Ttl(ttl),
            (None, None, false, None) => Expiry::Keep,
        }
    }

    /// Parses the stored record at `key`: it must be valid JSON for the
    /// model, and carry the id its key names. Anything else is unreadable.
    pub(crate) fn parse_record(&self, key: &str, json: &str) -> Result<M> {
        thread_local! {
            // The id is encoded once per record read: into one reused buffer.
            static ID: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        let rec: M = parse(key, json)?;
        let head = crate::model::key::scope_head_len(self.scope) + M::MODEL.len();
        ID.with_borrow_mut(|id| {
            id.clear();
            rec.id().write_key(id);
            if key.len() == head + 1 + id.len() && key.ends_with(id.as_str()) {
                Ok(())
            } else {
                let message = format!("the record's id `{id}` is not its key's");
                Err(Error::Serialization { key: key.to_string(), message, source: None })
            }
        })?;
        Ok(rec)
    }

    /// The record key a unique entry's value names, when it is an id of `M`.
    pub(crate) fn holder_key(&self, encoded_id: &str) -> Option<String> {
        M::Id::read_key(encoded_id)?;
        let key = self.space().record_key(encoded_id);
        limits::check_key(&key).ok()?;
        Some(key)
    }

    /// The record stored at `key` as `entry`: the model's JSON, or a raw
    /// model's value and metadata (the id from the key). Anything else is
    /// unreadable ([`Error::Serialization`]).
    pub(crate) fn decode(&self, key: &str, entry: Entry) -> Result<M> {
        if M::RAW.is_none() {
            return self.parse_record(key, &entry.into_text());
        }
        let bad = |message: String| Error::Serialization { key: key.to_string(), message, source: None };
        let head = self.space().record_prefix();
        let id = key.strip_prefix(head.as_str()).and_then(M::Id::read_key);
        let id = id.ok_or_else(|| bad("the key names no id of the model".into()))?;
        let fields = match protocol::projection(entry.metadata) {
            Some(serde_json::Value::Object(m)) => m,
            None => serde_json::Map::new(),
            Some(_) => return Err(bad("the metadata is not an object".into())),
        };
        M::from_raw(id, entry.value, fields).map_err(bad)
    }

    /// [`decode`](Self::decode) of a borrowed entry (a raw value is copied).
    pub(crate) fn decode_ref(&self, key: &str, entry: &Entry) -> Result<M> {
        match M::RAW {
            None => self.parse_record(key, &String::from_utf8_lossy(&entry.value)),
            Some(_) => self.decode(key, entry.clone()),
        }
    }

    /// Reads the entries of records, in order: in bulk reads of at most 100,
    /// but one read per key for a model with a raw bytes value, since KV's
    /// bulk read reads text only.
    async fn read_record_entries(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        if M::RAW != Some(RawKind::Bytes) {
            return protocol::read_entries(self.store, keys).await;
        }
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.store.get(key).await?);
        }
        Ok(out)
    }

    /// Reads the values of any number of keys, in bulk reads of at most 100.
    async fn read_keys(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        protocol::read_keys(self.store, keys).await
    }

    /// [`read_keys`](Self::read_keys) for lists that may repeat keys: each
    /// distinct key is asked for once (KV bills bulk reads per key).
    async fn read_distinct_keys(&self, keys: &[String]) -> Result<Vec<Option<crate::store::Entry>>> {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
        let mut distinct: Vec<String> = Vec::new();
        let slots: Vec<usize> = keys
            .iter()
            .map(|k| {
                *seen.entry(k.as_str()).or_insert_with(|| {
                    distinct.push(k.clone());
                    distinct.len() - 1
                })
            })
            .collect();
        let values = protocol::read_entries(self.store, &distinct).await?;
        if distinct.len() == keys.len() {
            return Ok(values);
        }
        Ok(slots.into_iter().map(|i| values[i].clone()).collect())
    }

    /// Reads records by key, keeping the order and skipping none; an
    /// unreadable record is an error.
    async fn read_records(&self, keys: &[String]) -> Result<Vec<Option<M>>> {
        let entries = self.read_record_entries(keys).await?;
        keys.iter().zip(entries).map(|(k, v)| v.map(|v| self.decode(k, v)).transpose()).collect()
    }

    /// Reads records by key, keeping the order; an unreadable record is
    /// `None`, as a missing one (for caches, which fetch it again).
    pub(crate) async fn read_records_or_none(&self, keys: &[String]) -> Result<Vec<Option<M>>> {
        let entries = self.read_record_entries(keys).await?;
        Ok(keys.iter().zip(entries).map(|(k, v)| v.and_then(|v| self.decode(k, v).ok())).collect())
    }

    // ---- reads -------------------------------------------------------------

    /// The record with this id. Costs 1 read. A record that cannot be read
    /// as the model is [`Error::Serialization`]. Like every call that takes
    /// one id, it takes a `&str` for a `String` id (see [`IdArg`]).
    pub async fn get<Q: IdArg<M::Id> + ?Sized>(&self, id: &Q) -> Result<Option<M>> {
        let key = self.space().record_key_of(id);
        match self.store.get(&key).await? {
            None => Ok(None),
            Some(e) => Ok(Some(self.decode(&key, e)?)),
        }
    }

    /// The record with this id and its stored metadata. Costs 1 read.
    pub async fn get_with_meta<Q: IdArg<M::Id> + ?Sized>(&self, id: &Q) -> Result<Option<(M, Option<M::Meta>)>> {
        let key = self.space().record_key_of(id);
        match self.store.get(&key).await? {
            None => Ok(None),
            Some(e) => {
                let meta = parse_meta::<M>(&key, e.metadata.clone())?;
                Ok(Some((self.decode(&key, e)?, meta)))
            }
        }
    }

    /// When the record with this id expires (seconds since the epoch), as
    /// its metadata records it: `Some(None)` when it never does, `None` when
    /// there is no such record. Costs 1 read.
    pub async fn expiration<Q: IdArg<M::Id> + ?Sized>(&self, id: &Q) -> Result<Option<Option<u64>>> {
        let key = self.space().record_key_of(id);
        let Some(e) = self.store.get(&key).await? else { return Ok(None) };
        match protocol::stored_expiration(e.metadata.as_ref()) {
            Some(at) => Ok(Some(at)),
            // Not recorded by kvgen: as a listing gives it (1 list more).
            None => Ok(Some(protocol::listed_expiration(self.store, &key).await?)),
        }
    }

    /// The records with these ids, in the same order. Costs ceil(n/100) bulk reads.
    pub async fn get_many(&self, ids: &[M::Id]) -> Result<Vec<Option<M>>> {
        let keys: Vec<String> = ids.iter().map(|id| self.record_key(id)).collect();
        self.read_records(&keys).await
    }

    /// Whether a record with this id exists. Costs 1 read.
    pub async fn exists<Q: IdArg<M::Id> + ?Sized>(&self, id: &Q) -> Result<bool> {
        Ok(self.store.get(&self.space().record_key_of(id)).await?.is_some())
    }

    /// One page of records in key order. Costs 1 list + ceil(n/100) bulk
    /// reads. Records that cannot be read are listed by key in
    /// [`ListPage::unreadable`]; the page may be short (see [`ListPage`]).
    pub async fn list(&self, page: Page) -> Result<ListPage<M>> {
        let prefix = self.space().record_prefix();
        if M::RAW.is_some() {
            return self.list_raw(prefix, page).await;
        }
        let (found, cursor) = protocol::list_records(self.store, prefix, page, protocol::Records::Listed).await?;
        let mut out = ListPage { cursor, ..ListPage::empty() };
        for (_, key, json) in found {
            match self.parse_record(&key, &json) {
                Ok(rec) => out.items.push(rec),
                Err(_) => out.unreadable.push(key),
            }
        }
        Ok(out)
    }

    /// One page of ids with their metadata, without reading records. Costs 1 list.
    pub async fn list_meta(&self, page: Page) -> Result<ListPage<Listed<M>>> {
        self.listed(self.space().record_prefix(), page, false).await
    }

    /// One page of keys under `prefix`, each ending in a record id, with their metadata.
    /// With `id_last`, the keys hold more components after the prefix (a
    /// group of leading index values), and the id is the last of them.
    async fn listed(&self, prefix: String, page: Page, id_last: bool) -> Result<ListPage<Listed<M>>> {
        let listed = protocol::list_page(self.store, prefix.clone(), page).await?;
        let mut out = ListPage { cursor: listed.cursor, ..ListPage::empty() };
        for k in listed.keys {
            let rest = k.name.get(prefix.len()..);
            let rest = if id_last { rest.and_then(|r| r.rsplit(':').next()) } else { rest };
            // A key whose id does not decode (written by other code) is named
            // apart, as `list` names it, and `count` counts it.
            let Some(id) = rest.and_then(M::Id::read_key) else {
                out.unreadable.push(k.name);
                continue;
            };
            // Metadata that does not read as the model's (written by other
            // code) is named apart, as unreadable records are in `list`.
            match parse_meta::<M>(&k.name, k.metadata) {
                Ok(meta) => out.items.push(Listed { id, meta, expiration: k.expiration }),
                Err(_) => out.unreadable.push(k.name),
            }
        }
        Ok(out)
    }

    /// [`list`](Self::list) of a raw model: the values read with their
    /// metadata (one read per record for raw bytes).
    async fn list_raw(&self, prefix: String, page: Page) -> Result<ListPage<M>> {
        let listed = protocol::list_page(self.store, prefix, page).await?;
        let keys: Vec<String> = listed.keys.into_iter().map(|k| k.name).collect();
        let entries = self.read_record_entries(&keys).await?;
        let mut out = ListPage { cursor: listed.cursor, ..ListPage::empty() };
        for (key, entry) in keys.into_iter().zip(entries) {
            let Some(entry) = entry else { continue };
            match self.decode(&key, entry) {
                Ok(rec) => out.items.push(rec),
                Err(_) => out.unreadable.push(key),
            }
        }
        Ok(out)
    }

    /// How many records there are. Costs ceil(n/1000) lists.
    pub async fn count(&self) -> Result<u64> {
        protocol::count(self.store, self.space().record_prefix()).await
    }

    pub(crate) async fn read_distinct_entries(&self, keys: &[String]) -> Result<Vec<Option<crate::store::Entry>>> {
        if M::RAW == Some(RawKind::Bytes) {
            return self.read_record_entries(keys).await;
        }
        self.read_distinct_keys(keys).await
    }

    pub(crate) async fn raw_read(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        Ok(self.read_distinct_keys(keys).await?.into_iter().map(|e| e.map(Entry::into_text)).collect())
    }

    // ---- writes ------------------------------------------------------------

    /// Inserts a new record: fails with [`Error::AlreadyExists`] when the id is
    /// taken, [`Error::UniqueViolation`] when a live record holds one of its
    /// unique values. Costs 1 bulk read + (1 + indexes) writes.
    pub async fn create(&self, rec: &M) -> Result<()> {
        self.write(rec, Mode::Create, &WriteOptions::default()).await
    }

    /// [`create`](Repo::create) with a ttl or expiration.
    pub async fn create_with(&self, rec: &M, opts: WriteOptions) -> Result<()> {
        self.write(rec, Mode::Create, &opts).await
    }

    /// Writes the record whether or not it exists (upsert by id), moving its
    /// index entries when indexed values changed. Costs 1 bulk read and the
    /// writes of the README's cost table; for a model with no index whose
    /// expiry is decided (the model's ttl, or [`put_with`](Repo::put_with)
    /// a ttl, an expiration or `permanent`), exactly 1 write and no read.
    pub async fn put(&self, rec: &M) -> Result<()> {
        self.write(rec, Mode::Put, &WriteOptions::default()).await
    }

    /// [`put`](Repo::put) with a ttl or expiration.
    pub async fn put_with(&self, rec: &M, opts: WriteOptions) -> Result<()> {
        self.write(rec, Mode::Put, &opts).await
    }

    /// Replaces an existing record: fails with [`Error::NotFound`] when there is none.
    pub async fn update(&self, rec: &M) -> Result<()> {
        self.write(rec, Mode::Update, &WriteOptions::default()).await
    }

    /// [`update`](Repo::update) with a ttl or expiration.
    pub async fn update_with(&self, rec: &M, opts: WriteOptions) -> Result<()> {
        self.write(rec, Mode::Update, &opts).await
    }

    /// [`create_with`](Repo::create_with), storing `metadata` beside the
    /// record: see [`put_with_metadata`](Repo::put_with_metadata).
    pub async fn create_with_metadata<T: serde::Serialize + ?Sized>(
        &self,
        rec: &M,
        metadata: &T,
        opts: WriteOptions,
    ) -> Result<()> {
        let extra = self.extra_metadata(rec, metadata)?;
        self.write_extra(rec, Mode::Create, &opts, Some(extra)).await
    }

    /// [`put_with`](Repo::put_with), storing `metadata` (any `Serialize`
    /// value, such as `{"version": 1}`) in the record's KV metadata, field
    /// `$meta`; [`get_with_metadata`](Repo::get_with_metadata) reads it back.
    /// It belongs to this write: a later write without it drops it. With the
    /// record's other metadata it must fit KV's 1024 bytes, else
    /// [`Error::MetadataTooLarge`] before any KV operation. Costs what
    /// `put_with` costs.
    pub async fn put_with_metadata<T: serde::Serialize + ?Sized>(
        &self,
        rec: &M,
        metadata: &T,
        opts: WriteOptions,
    ) -> Result<()> {
        let extra = self.extra_metadata(rec, metadata)?;
        self.write_extra(rec, Mode::Put, &opts, Some(extra)).await
    }

    /// [`update_with`](Repo::update_with), storing `metadata` beside the
    /// record: see [`put_with_metadata`](Repo::put_with_metadata).
    pub async fn update_with_metadata<T: serde::Serialize + ?Sized>(
        &self,
        rec: &M,
        metadata: &T,
        opts: WriteOptions,
    ) -> Result<()> {
        let extra = self.extra_metadata(rec, metadata)?;
        self.write_extra(rec, Mode::Update, &opts, Some(extra)).await
    }

    /// The record with this id and the free metadata its last write stored
    /// (`None` when that write gave none). Costs 1 read. Metadata that does
    /// not read as `T` is [`Error::Serialization`].
    pub async fn get_with_metadata<T: serde::de::DeserializeOwned>(
        &self,
        id: &(impl IdArg<M::Id> + ?Sized),
    ) -> Result<Option<(M, Option<T>)>> {
        let key = self.space().record_key_of(id);
        let Some(e) = self.store.get(&key).await? else { return Ok(None) };
        let extra = protocol::stored_extra(e.metadata.as_ref())
            .map(|m| serde_json::from_value(m.clone()).map_err(|err| Error::serialization(&key, err)))
            .transpose()?;
        Ok(Some((self.decode(&key, e)?, extra)))
    }

    /// Free metadata as KV stores it (numbers as doubles), refused when it
    /// would not read back as given: a NaN or infinite float (stored as
    /// `null`), an integer a double does not hold exactly (beyond 2^53).
    fn extra_metadata<T: serde::Serialize + ?Sized>(&self, rec: &M, metadata: &T) -> Result<Value> {
        let key = || self.record_key(rec.id());
        let bad = |message: String| Error::Serialization { key: key(), message, source: None };
        crate::model::finite::check(metadata).map_err(|e| {
            bad(format!("free metadata: {e}: a NaN or infinite float is stored as null and would not read back"))
        })?;
        let value = serde_json::to_value(metadata).map_err(|e| Error::Serialization {
            key: key(),
            message: format!("free metadata: {e}"),
            source: Some(Box::new(e)),
        })?;
        let stored = limits::metadata_as_stored(&value);
        if !reads_back(&value, &stored) {
            return Err(bad(
                "free metadata would not read back: KV stores its numbers as doubles (integers beyond 2^53 lose digits)"
                    .into(),
            ));
        }
        Ok(stored)
    }

    /// Deletes the record and its index entries; `false` when there was none.
    /// The record goes first, so a failure part-way leaves only stale entries,
    /// which lookups ignore and later writes replace. A record that cannot be
    /// read is deleted too; its entries, naming no record, are removed by
    /// [`repair`](Repo::repair).
    pub async fn delete<Q: IdArg<M::Id> + ?Sized>(&self, id: &Q) -> Result<bool> {
        let key = self.space().record_key_of(id);
        limits::check_key(&key)?;
        let Some(entry) = self.store.get(&key).await? else {
            return Ok(false);
        };
        let entries = self.decode(&key, entry).ok().map(|rec| self.entries(&rec));
        protocol::delete(self.store, M::BINDING, M::INDEXES, &key, &key::encode(id), entries).await?;
        Ok(true)
    }

    /// The write of `rec`, checked as far as it can be without the store.
    fn plan(&self, rec: &M, mode: Mode, opts: &WriteOptions) -> Result<protocol::Plan> {
        self.plan_with_extra(rec, mode, opts, None)
    }

    /// [`plan`](Self::plan) with the write's free metadata.
    fn plan_with_extra(
        &self,
        rec: &M,
        mode: Mode,
        opts: &WriteOptions,
        extra: Option<Value>,
    ) -> Result<protocol::Plan> {
        let id = key::encode(rec.id());
        let rec_key = self.space().record_key(&id);
        if id.starts_with('\u{feff}') && M::INDEXES.iter().any(|d| d.kind == IndexKind::Unique) {
            // A unique entry's value is the id, and KV's bulk read, which reads
            // entries, drops a leading byte-order mark: the entry would name another id.
            let reason = "an id starting with U+FEFF (a byte-order mark) cannot be held by a unique index: KV's bulk read drops it";
            return Err(Error::InvalidKey { key: rec_key, reason });
        }
        check_finite(&rec_key, rec)?;
        let (value, projection) = match M::RAW {
            None => (to_json(&rec_key, rec)?.into_bytes(), stored_projection::<M>(&rec_key, rec)?),
            Some(kind) => {
                let value = rec.raw_value();
                if kind == RawKind::Text && value.starts_with("\u{feff}".as_bytes()) {
                    // KV's bulk read (get_many, listings) drops a leading
                    // byte-order mark: the value would not read back on every path.
                    return Err(Error::Serialization {
                        key: rec_key,
                        message: "a raw text value starting with U+FEFF (a byte-order mark) would not read back: KV's bulk read drops it".into(),
                        source: None,
                    });
                }
                (value.to_vec(), Some(raw_projection(&rec_key, rec)?))
            }
        };
        let entries = self.entries(rec);
        Ok(protocol::Plan {
            model: M::MODEL,
            indexes: M::INDEXES,
            mode,
            entries,
            projection,
            extra,
            expiry: self.expiry(opts),
            id,
            rec_key,
            value,
        })
    }

    /// The strict claims of the write of `plan`: `None` for a model without
    /// strict indexes; refused when the store has no coordinator and the
    /// record has a strict value.
    fn claims(&self, plan: &protocol::Plan) -> Result<Option<Claims<'a>>> {
        if !M::INDEXES.iter().any(|d| d.strict) {
            return Ok(None);
        }
        match self.store.coordinator() {
            Some(coord) => Ok(Some(Claims::new(
                coord,
                M::BINDING,
                M::MODEL,
                M::INDEXES,
                plan.id.clone(),
                plan.rec_key.clone(),
                &plan.entries,
            ))),
            None if plan.entries.iter().any(|e| M::INDEXES[e.index].strict) => {
                Err(Error::NoCoordinator { model: M::MODEL })
            }
            None => Ok(None),
        }
    }

    async fn write(&self, rec: &M, mode: Mode, opts: &WriteOptions) -> Result<()> {
        self.write_extra(rec, mode, opts, None).await
    }

    async fn write_extra(&self, rec: &M, mode: Mode, opts: &WriteOptions, extra: Option<Value>) -> Result<()> {
        let plan = self.plan_with_extra(rec, mode, opts, extra)?;
        let claims = self.claims(&plan)?;
        protocol::write(self.store, plan, self, claims.as_ref()).await
    }

    async fn write_many(&self, recs: &[M], mode: Mode, opts: &WriteOptions) -> Result<Vec<Result<()>>> {
        let mut plans = Vec::with_capacity(recs.len());
        let mut refused: Vec<Option<Error>> = Vec::with_capacity(recs.len());
        let mut claims = Vec::with_capacity(recs.len());
        for rec in recs {
            match self.plan(rec, mode, opts).and_then(|plan| Ok((self.claims(&plan)?, plan))) {
                Ok((claim, plan)) => {
                    plans.push(plan);
                    claims.push(claim);
                    refused.push(None);
                }
                Err(e) => refused.push(Some(e)),
            }
        }
        let mut written = protocol::write_many(self.store, plans, self, claims).await?.into_iter();
        Ok(refused.into_iter().map(|r| r.map_or_else(|| written.next().unwrap_or(Ok(())), Err)).collect())
    }

    // ---- batches -------------------------------------------------------------

    /// [`create`](Repo::create) of each record, their first reads shared:
    /// ceil(n(1 + u)/100) bulk reads for n records with u unique indexes,
    /// then each record's writes, as `create` makes them.
    ///
    /// Not a transaction: each record is created with the protocol of
    /// `create`, in order, and has its guarantees; a record refused
    /// (`AlreadyExists`, `UniqueViolation`, a limit) or failed does not stop
    /// the others. A record whose id or unique value an earlier record of
    /// the batch has reads again before it is written, so it is refused as
    /// it would be one call after the other. `Err` when a shared read fails
    /// (nothing was written); otherwise one outcome per record, in order.
    /// A failure mid-batch leaves the records before it written, the ones
    /// after it attempted, and the failed one as a failed `create` leaves it.
    pub async fn create_many(&self, recs: &[M]) -> Result<Vec<Result<()>>> {
        self.write_many(recs, Mode::Create, &WriteOptions::default()).await
    }

    /// [`create_many`](Repo::create_many) with a ttl or expiration.
    pub async fn create_many_with(&self, recs: &[M], opts: WriteOptions) -> Result<Vec<Result<()>>> {
        self.write_many(recs, Mode::Create, &opts).await
    }

    /// [`put`](Repo::put) of each record, their first reads shared, as
    /// [`create_many`](Repo::create_many) describes (the same guarantees,
    /// per record). A model with no index whose expiry the call decides
    /// reads nothing: n writes.
    pub async fn put_many(&self, recs: &[M]) -> Result<Vec<Result<()>>> {
        self.write_many(recs, Mode::Put, &WriteOptions::default()).await
    }

    /// [`put_many`](Repo::put_many) with a ttl or expiration.
    pub async fn put_many_with(&self, recs: &[M], opts: WriteOptions) -> Result<Vec<Result<()>>> {
        self.write_many(recs, Mode::Put, &opts).await
    }

    /// [`delete`](Repo::delete) of each id, the reads shared: ceil(n/100)
    /// bulk reads of the records, ceil(n·u/100) of their unique entries,
    /// then each record's deletes, as `delete` makes them. One outcome per
    /// id, in order (`Ok(false)`: there was none; an id given twice is
    /// deleted once, and is `false` the second time). Not a transaction:
    /// every record is attempted, each with the guarantees of `delete`.
    /// `Err` when a shared read fails: nothing was deleted.
    pub async fn delete_many(&self, ids: &[M::Id]) -> Result<Vec<Result<bool>>> {
        let keys: Vec<(String, String)> = ids
            .iter()
            .map(|id| {
                let id = key::encode(id);
                (self.space().record_key(&id), id)
            })
            .collect();
        // The first of each distinct valid key is read; the rest are answered from it.
        let mut first: std::collections::HashSet<&str> = std::collections::HashSet::with_capacity(keys.len());
        let mut read: Vec<String> = Vec::new();
        let slots: Vec<Result<Option<usize>>> = keys
            .iter()
            .map(|(k, _)| {
                limits::check_key(k)?;
                if !first.insert(k.as_str()) {
                    return Ok(None);
                }
                read.push(k.clone());
                Ok(Some(read.len() - 1))
            })
            .collect();
        let found = protocol::read_entries(self.store, &read).await?;
        let encoded: HashMap<&str, &str> = keys.iter().map(|(k, id)| (k.as_str(), id.as_str())).collect();
        let mut doomed = Vec::new();
        let mut at = vec![None; read.len()];
        for (i, (key, entry)) in read.iter().zip(&found).enumerate() {
            let Some(entry) = entry else { continue };
            let entries = self.decode_ref(key, entry).ok().map(|rec| self.entries(&rec));
            let id = encoded[key.as_str()].to_string();
            at[i] = Some(doomed.len());
            doomed.push(protocol::Doomed { rec_key: key.clone(), id, entries });
        }
        let mut outcomes: Vec<Option<Result<()>>> =
            protocol::delete_many(self.store, M::BINDING, M::INDEXES, doomed).await?.into_iter().map(Some).collect();
        Ok(slots
            .into_iter()
            .map(|slot| match slot?.and_then(|i| at[i]) {
                Some(d) => outcomes[d].take().unwrap_or(Ok(())).map(|()| true),
                None => Ok(false),
            })
            .collect())
    }

    // ---- indexes (called by generated finders) -------------------------------

    /// The record holding `values` in unique index `index`, verified: a stale
    /// entry (its record gone or no longer carrying the value) gives `None`.
    /// Costs 2 reads.
    #[doc(hidden)]
    pub async fn find_unique(&self, index: usize, values: &[&dyn KeyPart]) -> Result<Option<M>> {
        let Some(key) = self.lookup_key(index, values) else { return Ok(None) };
        self.follow(index, &key).await
    }

    /// The record the unique entry `key` of index `index` names, if it still carries it.
    async fn follow(&self, index: usize, key: &str) -> Result<Option<M>> {
        let Some((rec_key, json)) = protocol::follow_unique(self.store, key, self).await? else { return Ok(None) };
        let rec: M = self.parse_record(&rec_key, &json)?;
        Ok(self.carries(&rec, index, key, &mut String::new()).then_some(rec))
    }

    /// Creates `rec`, or, when a record already holds its value of unique
    /// index `index`, replaces that record keeping its id. Returns what was stored.
    #[doc(hidden)]
    pub async fn upsert_unique(&self, index: usize, mut rec: M) -> Result<M>
    where
        M::Id: Clone,
    {
        let Some(key) = self.index_key(&rec, index) else {
            self.create(&rec).await?;
            return Ok(rec);
        };
        match self.follow(index, &key).await? {
            Some(found) => {
                rec.set_id(found.id().clone());
                self.update(&rec).await?;
            }
            None => self.create(&rec).await?,
        }
        Ok(rec)
    }

    /// One page of the records holding `values` in secondary index `index`,
    /// verified against the records. Costs 1 list + ceil(n/100) bulk reads.
    /// The page may be short (see [`ListPage`]).
    #[doc(hidden)]
    pub async fn list_index(&self, index: usize, values: &[&dyn KeyPart], page: Page) -> Result<ListPage<M>> {
        let Some(prefix) = self.lookup_key(index, values) else {
            return Ok(ListPage::empty());
        };
        let head = self.space().head();
        let records = protocol::Records::Entries { prefix: &prefix, head: &head };
        let (found, cursor) = protocol::list_records(self.store, prefix.clone(), page, records).await?;
        let mut buf = String::new();
        let mut out = ListPage { items: Vec::with_capacity(found.len()), cursor, unreadable: Vec::new() };
        for (name, rec_key, json) in found {
            match self.parse_record(&rec_key, &json) {
                Ok(rec) if self.carries(&rec, index, &name, &mut buf) => out.items.push(rec),
                Ok(_) => {}
                Err(_) => out.unreadable.push(rec_key),
            }
        }
        Ok(out)
    }

    /// One page of ids and metadata holding `values` in secondary index
    /// `index`, without reading records. Costs 1 list. Entries are not
    /// verified against records: use it where a stale hint is acceptable.
    #[doc(hidden)]
    pub async fn list_index_meta(
        &self,
        index: usize,
        values: &[&dyn KeyPart],
        page: Page,
    ) -> Result<ListPage<Listed<M>>> {
        let Some(prefix) = self.lookup_key(index, values) else {
            return Ok(ListPage::empty());
        };
        // The id is the entry's last component.
        self.listed(prefix, page, false).await
    }

    /// The key prefix of the group of entries of index `index` holding
    /// `values` in its leading fields (all of them, or fewer): the values'
    /// components each followed by `:`, so that a group of `"x"` never holds
    /// an entry of `"xy"`. `None` when a value is absent.
    fn group_prefix(&self, index: usize, values: &[&dyn KeyPart]) -> Option<String> {
        let mut w = self.space().index_writer(M::INDEXES[index].name);
        for v in values {
            w.part(*v);
        }
        let mut key = w.finish()?;
        if !values.is_empty() {
            key.push(':');
        }
        Some(key)
    }

    /// How many entries of index `index` hold `values` in its leading fields
    /// (all of them, or fewer), without reading records: a stale entry counts
    /// until `repair()` removes it. Costs ceil(n/1000) lists (1 when n = 0).
    #[doc(hidden)]
    pub async fn count_group(&self, index: usize, values: &[&dyn KeyPart]) -> Result<u64> {
        match self.group_prefix(index, values) {
            Some(prefix) => protocol::count(self.store, prefix).await,
            None => Ok(0),
        }
    }

    /// One page of the records of index `index` (unique or secondary) whose
    /// leading fields hold `values`, in key order; with `start`, only those
    /// whose next field is at (`after`: after) the start value in key order.
    /// Every record is verified against its entry. Costs 1 list + 1 bulk
    /// read per 100 records, and through a unique index 1 bulk read per 100
    /// entries more (its entries hold the ids). A start value is supported
    /// for fixed-width components only (integers, ascending or `Desc`):
    /// generated code offers it for those.
    #[doc(hidden)]
    pub async fn list_group(
        &self,
        index: usize,
        values: &[&dyn KeyPart],
        start: Option<(&dyn KeyPart, bool)>,
        page: Page,
    ) -> Result<ListPage<M>> {
        let Some(prefix) = self.group_prefix(index, values) else {
            return Ok(ListPage::empty());
        };
        let listed = match start {
            None => protocol::list_page(self.store, prefix.clone(), page).await?,
            Some((value, _)) if value.is_absent() => return Ok(ListPage::empty()),
            Some((value, after)) => {
                let mut from = prefix.clone();
                value.write_key(&mut from);
                if after {
                    // The smallest key past every entry of this value: `;` follows `:` and ends a fixed-width component.
                    from.push(';');
                }
                protocol::list_page_from(self.store, prefix.clone(), &from, page).await?
            }
        };
        let names: Vec<String> = listed.keys.into_iter().map(|k| k.name).collect();
        let head = self.space().head();
        let rec_keys: Vec<Option<String>> = match M::INDEXES[index].kind {
            // The id is a secondary entry's last component.
            IndexKind::Secondary => {
                names.iter().map(|n| n.rsplit(':').next().map(|id| format!("{head}:{id}"))).collect()
            }
            // A unique entry's value is the id.
            IndexKind::Unique => {
                let held = self.read_keys(&names).await?;
                held.iter().map(|h| h.as_deref().and_then(|id| self.holder_key(id))).collect()
            }
        };
        let wanted: Vec<String> = rec_keys.iter().flatten().cloned().collect();
        let mut values = self.read_keys(&wanted).await?.into_iter();
        let mut buf = String::new();
        let mut out =
            ListPage { items: Vec::with_capacity(names.len()), cursor: listed.cursor, unreadable: Vec::new() };
        for (name, rec_key) in names.iter().zip(rec_keys) {
            let Some(rec_key) = rec_key else { continue };
            let Some(json) = values.next().flatten() else { continue };
            match self.parse_record(&rec_key, &json) {
                Ok(rec) if self.carries(&rec, index, name, &mut buf) => out.items.push(rec),
                Ok(_) => {}
                Err(_) => out.unreadable.push(rec_key),
            }
        }
        Ok(out)
    }

    /// One page of the ids and metadata of the entries of secondary index
    /// `index` whose leading fields hold `values`, in key order, without
    /// reading records. Costs 1 list. Entries are not verified against
    /// records: use it where a stale hint is acceptable.
    #[doc(hidden)]
    pub async fn list_group_meta(
        &self,
        index: usize,
        values: &[&dyn KeyPart],
        page: Page,
    ) -> Result<ListPage<Listed<M>>> {
        let Some(prefix) = self.group_prefix(index, values) else {
            return Ok(ListPage::empty());
        };
        // The id is a secondary entry's last component, after the index's other values.
        self.listed(prefix, page, true).await
    }

    // ---- relations (called by generated loaders) -----------------------------

    /// Belongs-to, batched: for each foreign key, the parent it names, with one
    /// bulk read per 100 distinct parents. Absent keys give `None`.
    #[doc(hidden)]
    pub async fn load_by_ids<'k, K>(&self, fks: impl IntoIterator<Item = &'k K>) -> Result<Vec<Option<M>>>
    where
        K: KeyPart + ?Sized + 'k,
    {
        let mut slots: Vec<Option<usize>> = Vec::new();
        let mut distinct: Vec<String> = Vec::new();
        let fks = fks.into_iter();
        let mut seen: HashMap<String, usize> = HashMap::with_capacity(fks.size_hint().0);
        for fk in fks {
            if fk.is_absent() {
                slots.push(None);
                continue;
            }
            let key = self.space().record_key_of(fk);
            let at = match seen.get(&key) {
                Some(&at) => at,
                None => {
                    limits::check_key(&key)?;
                    seen.insert(key.clone(), distinct.len());
                    distinct.push(key);
                    distinct.len() - 1
                }
            };
            slots.push(Some(at));
        }
        let values = self.read_record_entries(&distinct).await?;
        // A parent named by several children is read once and parsed once per child.
        slots
            .into_iter()
            .map(|slot| match slot.and_then(|i| values[i].as_ref().map(|v| (i, v))) {
                Some((i, v)) => self.decode_ref(&distinct[i], v).map(Some),
                None => Ok(None),
            })
            .collect()
    }

    /// Belongs-to for one child: the parent `fk` names. Costs 1 read.
    #[doc(hidden)]
    pub async fn load_by_id<K: KeyPart + ?Sized>(&self, fk: &K) -> Result<Option<M>> {
        if fk.is_absent() {
            return Ok(None);
        }
        let key = self.space().record_key_of(fk);
        limits::check_key(&key)?;
        match self.store.get(&key).await? {
            Some(e) => Ok(Some(self.decode(&key, e)?)),
            None => Ok(None),
        }
    }

    /// Has-many, batched: for each parent key, every record holding it in
    /// index `index` (a secondary index of `M`). Costs one list per parent (per
    /// 1000 children) and one bulk read per 100 children in all.
    #[doc(hidden)]
    pub async fn load_groups<'k, K>(
        &self,
        index: usize,
        parents: impl IntoIterator<Item = &'k K>,
    ) -> Result<Vec<Vec<M>>>
    where
        K: KeyPart + ?Sized + 'k,
    {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for parent in parents {
            let Some(prefix) = self.lookup_key(index, &[&parent]) else {
                groups.push((String::new(), Vec::new()));
                continue;
            };
            let mut names = Vec::new();
            let mut pages = protocol::Pages::new(self.store, prefix.clone());
            while let Some(keys) = pages.next().await? {
                names.extend(keys.into_iter().map(|k| k.name));
            }
            groups.push((prefix, names));
        }
        let keys: Vec<String> = groups
            .iter()
            .flat_map(|(prefix, names)| names.iter().map(|n| self.space().record_key(&n[prefix.len()..])))
            .collect();
        let mut recs = self.read_records(&keys).await?.into_iter();
        let mut buf = String::new();
        Ok(groups
            .iter()
            .map(|(_, names)| {
                names
                    .iter()
                    .zip(recs.by_ref())
                    .filter_map(|(name, rec)| rec.filter(|r| self.carries(r, index, name, &mut buf)))
                    .collect()
            })
            .collect())
    }

    /// Has-one: the record holding `parent` in index `index` of `M`. Through a
    /// unique index it costs 2 reads; through a secondary one, 1 list + 1 bulk
    /// read per 10 entries until one names a record that carries the value
    /// (stale entries are passed over).
    #[doc(hidden)]
    pub async fn load_one<K: KeyPart + ?Sized>(&self, index: usize, parent: &K) -> Result<Option<M>> {
        if M::INDEXES[index].kind == IndexKind::Unique {
            return self.find_unique(index, &[&parent]).await;
        }
        let mut page = Page::first(10);
        loop {
            let mut found = self.list_index(index, &[&parent], page).await?;
            if !found.items.is_empty() {
                return Ok(Some(found.items.swap_remove(0)));
            }
            match found.cursor {
                Some(c) => page = Page::after(c, 10),
                None => return Ok(None),
            }
        }
    }

    /// Has-one, batched over many parents through a unique index: one bulk
    /// read per 100 parents for the entries, one per 100 found for the records.
    #[doc(hidden)]
    pub async fn load_ones<'k, K>(
        &self,
        index: usize,
        parents: impl IntoIterator<Item = &'k K>,
    ) -> Result<Vec<Option<M>>>
    where
        K: KeyPart + ?Sized + 'k,
    {
        if M::INDEXES[index].kind == IndexKind::Secondary {
            let mut out = Vec::new();
            for p in parents {
                out.push(self.load_one(index, p).await?);
            }
            return Ok(out);
        }
        let lookups: Vec<Option<String>> = parents.into_iter().map(|p| self.lookup_key(index, &[&p])).collect();
        let keys: Vec<String> = lookups.iter().flatten().cloned().collect();
        for k in &keys {
            limits::check_key(k)?;
        }
        let held = self.read_keys(&keys).await?;
        // An entry naming no id of `M` is garbage: no record.
        let targets: Vec<Option<String>> =
            held.iter().map(|h| h.as_deref().and_then(|id| self.holder_key(id))).collect();
        let rec_keys: Vec<String> = targets.iter().flatten().cloned().collect();
        let mut recs = self.read_records(&rec_keys).await?.into_iter();
        let mut targets = targets.into_iter();
        Ok(lookups
            .into_iter()
            .map(|lookup| {
                let key = lookup?;
                targets.next().flatten()?;
                let rec = recs.next().flatten()?;
                (self.index_key(&rec, index).as_deref() == Some(key.as_str())).then_some(rec)
            })
            .collect())
    }
}

impl<M: Model, S: KvStore> Stored for Repo<'_, M, S> {
    fn entries_of(&self, key: &str, json: &str) -> Option<Vec<IndexEntry>> {
        if M::RAW.is_some() {
            // A raw model has no index (the derive refuses one).
            return Some(Vec::new());
        }
        self.parse_record(key, json).ok().map(|rec| self.entries(&rec))
    }

    fn carries_entry(&self, key: &str, json: &str, index: usize, entry: &str) -> Option<bool> {
        let rec = self.parse_record(key, json).ok()?;
        Some(self.carries(&rec, index, entry, &mut String::new()))
    }

    fn display_id(&self, encoded_id: &str) -> String {
        M::Id::display_key(encoded_id)
    }
    fn holder_key(&self, encoded_id: &str) -> Option<String> {
        Repo::holder_key(self, encoded_id)
    }
}
