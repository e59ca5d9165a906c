//! Listings and index lookups: paged listing of records and of ids with
//! metadata, `count`, unique finders and upserts, and secondary-index
//! (group) listings and counts.

use crate::error::Result;
use crate::index::listing;
use crate::model::key::KeyPart;
use crate::model::{IndexKind, Model};
use crate::repo::codec::parse_meta;
use crate::repo::{ListPage, Listed, Repo};
use crate::store::{KvStore, Page};

impl<'a, M: Model, S: KvStore> Repo<'a, M, S> {
    /// One page of records in key order. Costs 1 list + ceil(n/100) bulk
    /// reads. Records that cannot be read are listed by key in
    /// [`ListPage::unreadable`]; the page may be short (see [`ListPage`]).
    pub async fn list(&self, page: Page) -> Result<ListPage<M>> {
        let view = self.stale_reads()?;
        self.over(&view).list_impl(page).await
    }

    /// [`list`](Self::list), reading through this repository's store.
    async fn list_impl(&self, page: Page) -> Result<ListPage<M>> {
        let prefix = self.space().record_prefix();
        if M::RAW.is_some() {
            return self.list_raw(prefix, page).await;
        }
        let (found, cursor) = listing::list_records(self.store, prefix, page, listing::Records::Listed).await?;
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
    pub(super) async fn listed(&self, prefix: String, page: Page, id_last: bool) -> Result<ListPage<Listed<M>>> {
        let listed = listing::list_page(self.store, prefix.clone(), page).await?;
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
    pub(super) async fn list_raw(&self, prefix: String, page: Page) -> Result<ListPage<M>> {
        let listed = listing::list_page(self.store, prefix, page).await?;
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
        listing::count(self.store, self.space().record_prefix()).await
    }

    /// The record holding `values` in unique index `index`, verified: a stale
    /// entry (its record gone or no longer carrying the value) gives `None`.
    /// Costs 2 reads.
    #[doc(hidden)]
    pub async fn find_unique(&self, index: usize, values: &[&dyn KeyPart]) -> Result<Option<M>> {
        let view = self.stale_reads()?;
        self.over(&view).find_unique_impl(index, values).await
    }

    /// [`find_unique`](Self::find_unique), reading through this repository's store.
    pub(super) async fn find_unique_impl(&self, index: usize, values: &[&dyn KeyPart]) -> Result<Option<M>> {
        let Some(key) = self.lookup_key(index, values) else { return Ok(None) };
        self.follow(index, &key).await
    }

    /// The record the unique entry `key` of index `index` names, if it still
    /// carries it. Reads through this repository's store: uncached for
    /// `upsert_unique`, which writes on what it finds.
    pub(super) async fn follow(&self, index: usize, key: &str) -> Result<Option<M>> {
        let Some((rec_key, json)) = listing::follow_unique(self.store, key, self).await? else { return Ok(None) };
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
        let view = self.stale_reads()?;
        self.over(&view).list_index_impl(index, values, page).await
    }

    /// [`list_index`](Self::list_index), reading through this repository's store.
    pub(super) async fn list_index_impl(
        &self,
        index: usize,
        values: &[&dyn KeyPart],
        page: Page,
    ) -> Result<ListPage<M>> {
        let Some(prefix) = self.lookup_key(index, values) else {
            return Ok(ListPage::empty());
        };
        let head = self.space().head();
        let records = listing::Records::Entries { prefix: &prefix, head: &head };
        let (found, cursor) = listing::list_records(self.store, prefix.clone(), page, records).await?;
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
    pub(super) fn group_prefix(&self, index: usize, values: &[&dyn KeyPart]) -> Option<String> {
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
            Some(prefix) => listing::count(self.store, prefix).await,
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
        let view = self.stale_reads()?;
        self.over(&view).list_group_impl(index, values, start, page).await
    }

    /// [`list_group`](Self::list_group), reading through this repository's store.
    async fn list_group_impl(
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
            None => listing::list_page(self.store, prefix.clone(), page).await?,
            Some((value, _)) if value.is_absent() => return Ok(ListPage::empty()),
            Some((value, after)) => {
                let mut from = prefix.clone();
                value.write_key(&mut from);
                if after {
                    // The smallest key past every entry of this value: `;` follows `:` and ends a fixed-width component.
                    from.push(';');
                }
                listing::list_page_from(self.store, prefix.clone(), &from, page).await?
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
}
