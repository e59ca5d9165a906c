//! The typed repository: every call a generated repository makes, written
//! once, generic over [`Model`] and [`KvStore`]. Generated repositories
//! (`UserRepo`, ...) dereference to a [`Repo`] and add only the
//! model-specific finders and loaders, each a call into this folder.
//!
//! The folder is split by what a call does:
//! - this file: [`Repo`] itself, its constructors and key helpers, the
//!   page and option types, and the model-specific steps the index protocol
//!   calls back ([`Stored`]);
//! - `codec`: how a record is stored and read back, and what is refused
//!   because it would not read back;
//! - `read`: reads by id; `write`: writes and deletes of one record;
//!   `batch`: `create_many`, `put_many`, `delete_many`;
//! - `list`: listings, counts, unique finders and group listings;
//! - `relations`: the batched relation loaders;
//! - `audit`: `verify` and `repair`; `recipes`: read-modify-write helpers
//!   (`modify`, `touch`, `get_many_or_fetch`).
//!
//! Builds on the model layer (keys), the stores, and the index protocol,
//! which applies each write. The patterns are built on this layer's public
//! API; nothing here may depend on them.

pub(crate) mod audit;
mod batch;
mod codec;
mod list;
mod read;
mod recipes;
mod relations;
mod write;

use crate::error::{Error, Result};
use crate::index::entry::{IndexEntry, Stored};
use crate::index::plan::Expiry;
use crate::model::key::{KeyPart, KeySpace};
use crate::model::{IndexKind, Model};
use crate::store::cached::CachedReads;
use crate::store::{KvStore, Page};
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
    /// The per-call cache ttl of stale-accepting reads: `None` for the
    /// model's (`M::CACHE_TTL`), `Some(None)` for none, `Some(Some(s))`.
    cache: Option<Option<u64>>,
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
        f.debug_struct("Repo")
            .field("model", &std::any::type_name::<M>())
            .field("scope", &self.scope)
            .field("cache", &self.cache)
            .finish()
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

impl<'a, M: Model, S: KvStore> Repo<'a, M, S> {
    /// The repository of `M` in `store`, unscoped.
    pub fn new(store: &'a S) -> Self {
        Repo { store, scope: "", cache: None, model: PhantomData }
    }

    /// The repository of `M` in `store`, every key under `{scope}/` (a
    /// stage or tenant; 1..=64 characters of `[A-Za-z0-9_-]`), or under
    /// `{scope}` for a scope ending in `:` (see [`check_scope`]).
    pub fn scoped(store: &'a S, scope: &'a str) -> Result<Self> {
        check_scope(scope)?;
        Ok(Repo { store, scope, cache: None, model: PhantomData })
    }

    /// A repository under a scope that was checked with [`check_scope`]
    /// already (or is empty); used by generated binding structs.
    #[doc(hidden)]
    pub fn with_checked_scope(store: &'a S, scope: &'a str) -> Self {
        debug_assert!(scope.is_empty() || check_scope(scope).is_ok());
        Repo { store, scope, cache: None, model: PhantomData }
    }

    /// The store this repository reads and writes.
    pub fn store(&self) -> &'a S {
        self.store
    }

    /// The scope, `""` for none.
    pub fn scope(&self) -> &'a str {
        self.scope
    }

    /// The repository of another model in the same store and scope, with
    /// this one's per-call cache setting ([`cached`](Self::cached),
    /// [`uncached`](Self::uncached)) if it has one, else `C`'s own.
    pub fn related<C: Model>(&self) -> Repo<'a, C, S> {
        Repo { store: self.store, scope: self.scope, cache: self.cache, model: PhantomData }
    }

    /// This repository with its stale-accepting reads served from KV's edge
    /// cache up to `secs` seconds old (`get(key, {cacheTtl})`): `get`,
    /// `get_many`, `exists`, the finders, the listings' record reads and the
    /// relation loaders. Writes, the reads they make, and `verify`/`repair`
    /// never read cached. At least 30 s: a read through a repository with
    /// less is refused ([`Error::InvalidCacheTtl`]) before any KV operation.
    ///
    /// ```
    /// # use kvgen::{KvModel, MemoryStore};
    /// # #[derive(KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
    /// # pub struct Note { #[kv(id)] pub id: String }
    /// # pollster::block_on(async {
    /// let store = MemoryStore::new();
    /// let notes = Note::repo(&store);
    /// assert_eq!(notes.cached(300).get("n1").await?, None);
    /// assert!(matches!(notes.cached(10).get("n1").await, Err(kvgen::Error::InvalidCacheTtl { cache_ttl: 10, min: 30 })));
    /// # Ok::<(), kvgen::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn cached(&self, secs: u64) -> Self {
        Repo { cache: Some(Some(secs)), ..*self }
    }

    /// This repository with every read uncached, whatever the model's
    /// `#[kv(cache_ttl = ..)]`.
    pub fn uncached(&self) -> Self {
        Repo { cache: Some(None), ..*self }
    }

    /// The cache ttl of this repository's stale-accepting reads, in seconds:
    /// the per-call one, else the model's; `None` when they read uncached.
    pub fn cache_ttl(&self) -> Option<u64> {
        self.cache.unwrap_or(M::CACHE_TTL)
    }

    /// The store view the stale-accepting reads go through, its cache ttl
    /// checked (refused before any KV operation when under 30 s). The write
    /// protocol and `verify`/`repair` read `self.store`, never this view.
    fn stale_reads(&self) -> Result<CachedReads<'a, S>> {
        CachedReads::new(self.store, self.cache_ttl())
    }

    /// This repository over `store` (a [`CachedReads`] view of its own store).
    fn over<'v, T: KvStore>(&self, store: &'v T) -> Repo<'v, M, T>
    where
        'a: 'v,
    {
        Repo { store, scope: self.scope, cache: self.cache, model: PhantomData }
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
