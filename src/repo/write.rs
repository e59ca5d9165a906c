//! Writes of one record (`create`, `put`, `update`, with options or free
//! metadata) and `delete`: the record is turned into a
//! [`Plan`](crate::index::plan::Plan) with every key, entry and claim
//! decided, which the index protocol applies.

use crate::coord::Coordinate;
use crate::error::{Error, Result};
use crate::index::exec;
use crate::index::plan::{self, Mode};
use crate::index::strict::Claims;
use crate::model::key::{self, IdArg};
use crate::model::{IndexKind, Model, RawKind};
use crate::repo::codec::{check_finite, raw_projection, reads_back, stored_projection, to_json};
use crate::repo::{Repo, WriteOptions};
use crate::store::flight::Bounded;
use crate::store::limits;
use crate::store::KvStore;
use serde_json::Value;

impl<'a, M: Model, S: KvStore> Repo<'a, M, S> {
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

    /// Free metadata as KV stores it (numbers as doubles), refused when it
    /// would not read back as given: a NaN or infinite float (stored as
    /// `null`), an integer a double does not hold exactly (beyond 2^53).
    pub(super) fn extra_metadata<T: serde::Serialize + ?Sized>(&self, rec: &M, metadata: &T) -> Result<Value> {
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
        exec::delete(self.store, M::BINDING, M::INDEXES, &key, &key::encode(id), entries).await?;
        Ok(true)
    }

    /// The write of `rec`, checked as far as it can be without the store.
    pub(super) fn plan(&self, rec: &M, mode: Mode, opts: &WriteOptions) -> Result<plan::Plan> {
        self.plan_with_extra(rec, mode, opts, None)
    }

    /// [`plan`](Self::plan) with the write's free metadata.
    pub(super) fn plan_with_extra(
        &self,
        rec: &M,
        mode: Mode,
        opts: &WriteOptions,
        extra: Option<Value>,
    ) -> Result<plan::Plan> {
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
        Ok(plan::Plan {
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

    /// The strict claims of the write of `plan`, made on `coord` (the
    /// coordinator of the call's bounded store): `None` for a model without
    /// strict indexes; refused when there is no coordinator and the record
    /// has a strict value.
    pub(super) fn claims<'c>(
        &self,
        coord: Option<&'c dyn Coordinate>,
        plan: &plan::Plan,
    ) -> Result<Option<Claims<'c>>> {
        if !M::INDEXES.iter().any(|d| d.strict) {
            return Ok(None);
        }
        match coord {
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

    pub(super) async fn write(&self, rec: &M, mode: Mode, opts: &WriteOptions) -> Result<()> {
        self.write_extra(rec, mode, opts, None).await
    }

    pub(super) async fn write_extra(
        &self,
        rec: &M,
        mode: Mode,
        opts: &WriteOptions,
        extra: Option<Value>,
    ) -> Result<()> {
        let plan = self.plan_with_extra(rec, mode, opts, extra)?;
        // The call's operations, coordinator requests included, at most
        // `max_in_flight` at a time.
        let store = &Bounded::new(self.store, self.store.max_in_flight());
        let claims = self.claims(store.coordinator(), &plan)?;
        exec::write(store, plan, self, claims.as_ref()).await
    }
}
