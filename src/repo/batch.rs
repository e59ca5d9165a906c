//! Batches: `create_many`, `put_many`, `delete_many`, each record with the
//! protocol of its single call, their first reads shared.

use crate::error::{Error, Result};
use crate::index::exec;
use crate::index::plan::Mode;
use crate::model::key;
use crate::model::Model;
use crate::repo::{Repo, WriteOptions};
use crate::store::flight::Bounded;
use crate::store::limits;
use crate::store::{bulk, KvStore};
use std::collections::HashMap;

impl<'a, M: Model, S: KvStore> Repo<'a, M, S> {
    pub(super) async fn write_many(&self, recs: &[M], mode: Mode, opts: &WriteOptions) -> Result<Vec<Result<()>>> {
        // The batch's operations, coordinator requests included, at most
        // `max_in_flight` at a time.
        let store = &Bounded::new(self.store, self.store.max_in_flight());
        let mut plans = Vec::with_capacity(recs.len());
        let mut refused: Vec<Option<Error>> = Vec::with_capacity(recs.len());
        let mut claims = Vec::with_capacity(recs.len());
        for rec in recs {
            match self.plan(rec, mode, opts).and_then(|plan| Ok((self.claims(store.coordinator(), &plan)?, plan))) {
                Ok((claim, plan)) => {
                    plans.push(plan);
                    claims.push(claim);
                    refused.push(None);
                }
                Err(e) => refused.push(Some(e)),
            }
        }
        let mut written = exec::write_many(store, plans, self, claims).await?.into_iter();
        Ok(refused.into_iter().map(|r| r.map_or_else(|| written.next().unwrap_or(Ok(())), Err)).collect())
    }

    /// [`create`](Repo::create) of each record, their first reads shared:
    /// ceil(n(1 + u)/100) bulk reads for n records with u unique indexes,
    /// then each record's writes, as `create` makes them.
    ///
    /// Not a transaction: each record is created with the protocol of
    /// `create` and has its guarantees; a record refused (`AlreadyExists`,
    /// `UniqueViolation`, a limit) or failed does not stop the others.
    /// Records that touch no key in common are written together (at most
    /// [`max_in_flight`](KvStore::max_in_flight) operations at a time); a
    /// record whose id or unique value an earlier record of the batch has
    /// waits for it and reads again, so it is refused as it would be one
    /// call after the other. `Err` when a shared read fails (nothing was
    /// written); otherwise one outcome per record, in order. A failed record
    /// leaves what a failed `create` leaves; every other record is attempted.
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
        let found = bulk::read_entries(self.store, &read).await?;
        let encoded: HashMap<&str, &str> = keys.iter().map(|(k, id)| (k.as_str(), id.as_str())).collect();
        let mut doomed = Vec::new();
        let mut at = vec![None; read.len()];
        for (i, (key, entry)) in read.iter().zip(&found).enumerate() {
            let Some(entry) = entry else { continue };
            let entries = self.decode_ref(key, entry).ok().map(|rec| self.entries(&rec));
            let id = encoded[key.as_str()].to_string();
            at[i] = Some(doomed.len());
            doomed.push(exec::Doomed { rec_key: key.clone(), id, entries });
        }
        let mut outcomes: Vec<Option<Result<()>>> =
            exec::delete_many(self.store, M::BINDING, M::INDEXES, doomed).await?.into_iter().map(Some).collect();
        Ok(slots
            .into_iter()
            .map(|slot| match slot?.and_then(|i| at[i]) {
                Some(d) => outcomes[d].take().unwrap_or(Ok(())).map(|()| true),
                None => Ok(false),
            })
            .collect())
    }
}
