//! Relation loaders: belongs-to (`load_by_ids`), has-many (`load_groups`)
//! and has-one (`load_one`, `load_ones`), each batching its reads.

use crate::error::Result;
use crate::index::listing;
use crate::model::key::KeyPart;
use crate::model::{IndexKind, Model};
use crate::repo::Repo;
use crate::store::limits;
use crate::store::{KvStore, Page};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::HashMap;

impl<'a, M: Model, S: KvStore> Repo<'a, M, S> {
    /// Belongs-to, batched: for each foreign key, the parent it names, with one
    /// bulk read per 100 distinct parents. Absent keys give `None`.
    #[doc(hidden)]
    pub async fn load_by_ids<'k, K>(&self, fks: impl IntoIterator<Item = &'k K>) -> Result<Vec<Option<M>>>
    where
        K: KeyPart + ?Sized + 'k,
    {
        let view = self.stale_reads()?;
        self.over(&view).load_by_ids_impl(fks).await
    }

    /// [`load_by_ids`](Self::load_by_ids), reading through this repository's store.
    async fn load_by_ids_impl<'k, K>(&self, fks: impl IntoIterator<Item = &'k K>) -> Result<Vec<Option<M>>>
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
        match self.stale_reads()?.get(&key).await? {
            Some(e) => Ok(Some(self.decode(&key, e)?)),
            None => Ok(None),
        }
    }

    /// Has-many, batched: for each parent key, every record holding it in
    /// index `index` (a secondary index of `M`). Costs one list per parent (per
    /// 1000 children) and one bulk read per 100 children in all; the parents'
    /// listings run together, then the bulk reads together.
    #[doc(hidden)]
    pub async fn load_groups<'k, K>(
        &self,
        index: usize,
        parents: impl IntoIterator<Item = &'k K>,
    ) -> Result<Vec<Vec<M>>>
    where
        K: KeyPart + ?Sized + 'k,
    {
        let view = self.stale_reads()?;
        self.over(&view).load_groups_impl(index, parents).await
    }

    /// [`load_groups`](Self::load_groups), reading through this repository's store.
    async fn load_groups_impl<'k, K>(
        &self,
        index: usize,
        parents: impl IntoIterator<Item = &'k K>,
    ) -> Result<Vec<Vec<M>>>
    where
        K: KeyPart + ?Sized + 'k,
    {
        // Each parent's listing, the parents' listings together.
        let prefixes: Vec<Option<String>> = parents.into_iter().map(|p| self.lookup_key(index, &[&p])).collect();
        let listings = prefixes.into_iter().map(|prefix| async move {
            let Some(prefix) = prefix else { return Ok((String::new(), Vec::new())) };
            let mut names = Vec::new();
            let mut pages = listing::Pages::new(self.store, prefix.clone());
            while let Some(keys) = pages.next().await? {
                names.extend(keys.into_iter().map(|k| k.name));
            }
            Ok::<_, crate::error::Error>((prefix, names))
        });
        let groups: Vec<(String, Vec<String>)> =
            stream::iter(listings).buffered(self.store.max_in_flight().max(1)).try_collect().await?;
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
        let view = self.stale_reads()?;
        self.over(&view).load_one_impl(index, parent).await
    }

    /// [`load_one`](Self::load_one), reading through this repository's store.
    async fn load_one_impl<K: KeyPart + ?Sized>(&self, index: usize, parent: &K) -> Result<Option<M>> {
        if M::INDEXES[index].kind == IndexKind::Unique {
            return self.find_unique_impl(index, &[&parent]).await;
        }
        let mut page = Page::first(10);
        loop {
            let mut found = self.list_index_impl(index, &[&parent], page).await?;
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
        let view = self.stale_reads()?;
        self.over(&view).load_ones_impl(index, parents).await
    }

    /// [`load_ones`](Self::load_ones), reading through this repository's store.
    async fn load_ones_impl<'k, K>(
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
                out.push(self.load_one_impl(index, p).await?);
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
