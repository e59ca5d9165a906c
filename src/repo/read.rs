//! Reads by id: `get`, `get_many`, `exists`, `expiration` and the metadata
//! reads, and the bulk-read helpers the other calls share.

use crate::error::{Error, Result};
use crate::index::{exec, plan};
use crate::model::key::IdArg;
use crate::model::{Model, RawKind};
use crate::repo::codec::parse_meta;
use crate::repo::Repo;
use crate::store::bulk;
use crate::store::{Entry, KvStore};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::HashMap;

impl<'a, M: Model, S: KvStore> Repo<'a, M, S> {
    /// Reads the entries of records, in order: in bulk reads of at most 100,
    /// but one read per key for a model with a raw bytes value, since KV's
    /// bulk read reads text only.
    pub(super) async fn read_record_entries(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        if M::RAW != Some(RawKind::Bytes) {
            return bulk::read_entries(self.store, keys).await;
        }
        // One read per key (bulk reads read text only), together.
        stream::iter(keys)
            .map(|key| self.store.get(key))
            .buffered(self.store.max_in_flight().max(1))
            .try_collect()
            .await
    }

    /// Reads the values of any number of keys, in bulk reads of at most 100.
    pub(super) async fn read_keys(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        bulk::read_keys(self.store, keys).await
    }

    /// [`read_keys`](Self::read_keys) for lists that may repeat keys: each
    /// distinct key is asked for once (KV bills bulk reads per key).
    pub(super) async fn read_distinct_keys(&self, keys: &[String]) -> Result<Vec<Option<crate::store::Entry>>> {
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
        let values = bulk::read_entries(self.store, &distinct).await?;
        if distinct.len() == keys.len() {
            return Ok(values);
        }
        Ok(slots.into_iter().map(|i| values[i].clone()).collect())
    }

    /// Reads records by key, keeping the order and skipping none; an
    /// unreadable record is an error.
    pub(super) async fn read_records(&self, keys: &[String]) -> Result<Vec<Option<M>>> {
        let entries = self.read_record_entries(keys).await?;
        keys.iter().zip(entries).map(|(k, v)| v.map(|v| self.decode(k, v)).transpose()).collect()
    }

    /// Reads records by key, keeping the order; an unreadable record is
    /// `None`, as a missing one (for caches, which fetch it again).
    pub(crate) async fn read_records_or_none(&self, keys: &[String]) -> Result<Vec<Option<M>>> {
        let entries = self.read_record_entries(keys).await?;
        Ok(keys.iter().zip(entries).map(|(k, v)| v.and_then(|v| self.decode(k, v).ok())).collect())
    }

    /// The record with this id. Costs 1 read (cached with the repository's
    /// [`cache_ttl`](Repo::cache_ttl), as every read here but `expiration`). A record that cannot be read
    /// as the model is [`Error::Serialization`]. Like every call that takes
    /// one id, it takes a `&str` for a `String` id (see [`IdArg`]).
    pub async fn get<Q: IdArg<M::Id> + ?Sized>(&self, id: &Q) -> Result<Option<M>> {
        let key = self.space().record_key_of(id);
        match self.stale_reads()?.get(&key).await? {
            None => Ok(None),
            Some(e) => Ok(Some(self.decode(&key, e)?)),
        }
    }

    /// The record with this id and its stored metadata. Costs 1 read.
    pub async fn get_with_meta<Q: IdArg<M::Id> + ?Sized>(&self, id: &Q) -> Result<Option<(M, Option<M::Meta>)>> {
        let key = self.space().record_key_of(id);
        match self.stale_reads()?.get(&key).await? {
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
        match plan::stored_expiration(e.metadata.as_ref()) {
            Some(at) => Ok(Some(at)),
            // Not recorded by kvgen: as a listing gives it (1 list more).
            None => Ok(Some(exec::listed_expiration(self.store, &key).await?)),
        }
    }

    /// The records with these ids, in the same order. Costs ceil(n/100) bulk reads.
    pub async fn get_many(&self, ids: &[M::Id]) -> Result<Vec<Option<M>>> {
        let keys: Vec<String> = ids.iter().map(|id| self.record_key(id)).collect();
        let view = self.stale_reads()?;
        self.over(&view).read_records(&keys).await
    }

    /// Whether a record with this id exists. Costs 1 read.
    pub async fn exists<Q: IdArg<M::Id> + ?Sized>(&self, id: &Q) -> Result<bool> {
        Ok(self.stale_reads()?.get(&self.space().record_key_of(id)).await?.is_some())
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

    /// The record with this id and the free metadata its last write stored
    /// (`None` when that write gave none). Costs 1 read. Metadata that does
    /// not read as `T` is [`Error::Serialization`].
    pub async fn get_with_metadata<T: serde::de::DeserializeOwned>(
        &self,
        id: &(impl IdArg<M::Id> + ?Sized),
    ) -> Result<Option<(M, Option<T>)>> {
        let key = self.space().record_key_of(id);
        let Some(e) = self.stale_reads()?.get(&key).await? else { return Ok(None) };
        let extra = plan::stored_extra(e.metadata.as_ref())
            .map(|m| serde_json::from_value(m.clone()).map_err(|err| Error::serialization(&key, err)))
            .transpose()?;
        Ok(Some((self.decode(&key, e)?, extra)))
    }
}
