//! Read-modify-write helpers that session, configuration and cache code is
//! written with: [`Repo::modify`], [`Repo::touch`] and
//! [`Repo::get_many_or_fetch`]. Each is a composition of the repository's
//! own calls, so it keeps every guarantee of the calls it makes, and no more:
//! KV has no compare-and-set, so a read-modify-write is last-writer-wins.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::repo::{Repo, WriteOptions};
use crate::store::KvStore;

impl<M: Model, S: KvStore> Repo<'_, M, S> {
    /// Reads the record with this id, lets `change` edit it, and writes it
    /// back as [`update`](Repo::update) does, moving index entries whose
    /// values changed. `None` when there is no such record (nothing is
    /// written). Costs 1 read plus the cost of `update`.
    ///
    /// Not atomic: a write by someone else between the read and the write
    /// is overwritten (last writer wins). A delete that lands before the
    /// update's own read gives `None` and nothing is written; one that lands
    /// after that read and before the update writes the record is undone:
    /// the record is written back (KV has no compare-and-set to refuse it),
    /// its strict values claimed again, and without the index entries the
    /// delete removed and the update found in place, until
    /// [`repair`](Repo::repair) puts them back. A delete after the record's
    /// write wins. (`tests/strict.rs` pins each position.)
    /// `change` may not change the id ([`Error::InvalidKey`]).
    pub async fn modify(&self, id: &M::Id, change: impl FnOnce(&mut M)) -> Result<Option<M>> {
        self.modify_with(id, WriteOptions::default(), change).await
    }

    /// [`modify`](Repo::modify) with a ttl or expiration for the write.
    pub async fn modify_with(&self, id: &M::Id, opts: WriteOptions, change: impl FnOnce(&mut M)) -> Result<Option<M>> {
        // A read the write builds on: never from the cache.
        let Some(mut rec) = self.uncached().get(id).await? else { return Ok(None) };
        let key = self.record_key(id);
        change(&mut rec);
        if self.record_key(rec.id()) != key {
            return Err(Error::InvalidKey { key, reason: "the change passed to `modify` changed the record's id" });
        }
        match self.update_with(&rec, opts).await {
            Ok(()) => Ok(Some(rec)),
            // Deleted between this read and the update's: as if it had been
            // first. (A delete after the update's read is undone: no CAS.)
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sliding expiry: writes the record again, unchanged, to expire `ttl`
    /// seconds from now, with its index entries. KV cannot change an
    /// expiry without writing the value, so this costs what
    /// [`modify`](Repo::modify) costs. `None` when there is no such record.
    pub async fn touch(&self, id: &M::Id, ttl: u64) -> Result<Option<M>> {
        self.modify_with(id, WriteOptions::ttl(ttl), |_| {}).await
    }

    /// Cache warming: the records with these ids, in the same order, where
    /// the ones not stored are asked of `fetch` in one call (given the
    /// missing ids) and written with [`put_many_with`](Repo::put_many_with)
    /// and `opts`. `fetch` returns the records it could find, in any order;
    /// an id it does not return stays `None`, and a record it returns twice
    /// is written once (the first). A stored record that does not read as
    /// the model (its shape changed since) counts as missing. Costs ceil(n/100) bulk reads, then the
    /// puts of the fetched records (1 write each for a model with
    /// no index and a decided expiry). A fetched record whose put fails is
    /// still returned, and the first failure is the error only when every
    /// put failed.
    pub async fn get_many_or_fetch<F, Fut>(&self, ids: &[M::Id], opts: WriteOptions, fetch: F) -> Result<Vec<Option<M>>>
    where
        M: Clone,
        F: FnOnce(Vec<&M::Id>) -> Fut,
        Fut: Future<Output = Result<Vec<M>>>,
    {
        // A cached record that no longer reads as the model (it changed in a
        // deploy) is fetched again and overwritten, as a missing one.
        let keys: Vec<String> = ids.iter().map(|id| self.record_key(id)).collect();
        let mut found = self.read_records_or_none(&keys).await?;
        let missing: Vec<&M::Id> = ids.iter().zip(&found).filter(|(_, f)| f.is_none()).map(|(id, _)| id).collect();
        if missing.is_empty() {
            return Ok(found);
        }
        // The record keys asked for, computed once above.
        let mut asked: HashSet<&str> =
            keys.iter().zip(&found).filter(|(_, f)| f.is_none()).map(|(k, _)| k.as_str()).collect();
        let fetched = fetch(missing).await?;
        // Only records that were asked for, each once (the first fetched
        // for its id): anything else would be a write the caller did not
        // ask for, or the same record written twice.
        let mut fetched_keys: Vec<String> = Vec::new();
        let mut recs: Vec<M> = Vec::new();
        for rec in fetched {
            let key = self.record_key(rec.id());
            if asked.remove(key.as_str()) {
                fetched_keys.push(key);
                recs.push(rec);
            }
        }
        if recs.is_empty() {
            return Ok(found);
        }
        let results = self.put_many_with(&recs, opts).await?;
        if results.iter().all(|r| r.is_err()) {
            // Every put failed: say why rather than hide it.
            return Err(results.into_iter().find_map(|r| r.err()).expect("fetched is not empty"));
        }
        let by_key: HashMap<&str, &M> = fetched_keys.iter().map(String::as_str).zip(&recs).collect();
        for (slot, key) in found.iter_mut().zip(&keys) {
            if slot.is_none() {
                *slot = by_key.get(key.as_str()).map(|rec| (*rec).clone());
            }
        }
        Ok(found)
    }
}
