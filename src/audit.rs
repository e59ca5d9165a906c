//! `verify` and `repair`: compare a model's index entries with its records,
//! and make them match. Both page through any number of records and entries,
//! holding one page at a time.

use crate::error::{Error, Result};
use crate::key::KeySpace;
use crate::limits::{MAX_BULK_KEYS, MAX_LIST_LIMIT};
use crate::model::{IndexKind, Model};
use crate::repo::{Page, Repo};
use crate::store::{KvStore, ListKey, PutOptions};
use serde_json::Value;
use std::collections::HashSet;

/// What kind of disagreement between an index and the records a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum FindingKind {
    /// A record lacks an entry it needs (a write died before it).
    Missing,
    /// An entry whose record is gone, no longer carries the value, or belongs
    /// to an index the model no longer has.
    Dangling,
    /// A unique entry pointing at another record than the one carrying the
    /// value, or a secondary entry whose metadata is out of date.
    Mismatched,
    /// Two live records carry one unique value (writers raced across
    /// locations). Repair leaves it for you to settle: it cannot know which
    /// record to keep.
    Conflict,
    /// A record whose value is not valid JSON for the model. Left as it is.
    Unreadable,
}

/// One finding: what, and which key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// The kind of disagreement.
    pub kind: FindingKind,
    /// The index entry (or, for `Unreadable`, record) key.
    pub key: String,
}

/// What [`Repo::verify`] or [`Repo::repair`] found (and, for repair, fixed).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IndexReport {
    /// The model's key prefix.
    pub model: &'static str,
    /// Records examined.
    pub records: u64,
    /// Index entries examined.
    pub entries: u64,
    /// Entries missing.
    pub missing: u64,
    /// Entries dangling.
    pub dangling: u64,
    /// Entries mismatched.
    pub mismatched: u64,
    /// Unique values held by more than one record.
    pub conflicts: u64,
    /// Records that could not be read as the model.
    pub unreadable: u64,
    /// The first findings, at most [`IndexReport::SAMPLES`].
    pub findings: Vec<Finding>,
    /// Whether missing, dangling and mismatched entries were fixed.
    pub repaired: bool,
}

impl IndexReport {
    /// How many findings a report lists by key.
    pub const SAMPLES: usize = 100;

    /// No disagreement of any kind.
    pub fn is_clean(&self) -> bool {
        self.missing + self.dangling + self.mismatched + self.conflicts + self.unreadable == 0
    }

    fn add(&mut self, kind: FindingKind, key: &str) {
        let n = match kind {
            FindingKind::Missing => &mut self.missing,
            FindingKind::Dangling => &mut self.dangling,
            FindingKind::Mismatched => &mut self.mismatched,
            FindingKind::Conflict => &mut self.conflicts,
            FindingKind::Unreadable => &mut self.unreadable,
        };
        *n += 1;
        if self.findings.len() < Self::SAMPLES {
            self.findings.push(Finding { kind, key: key.to_string() });
        }
    }
}

impl std::fmt::Display for IndexReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} records, {} entries; {} missing, {} dangling, {} mismatched, {} conflicts, {} unreadable{}",
            self.model,
            self.records,
            self.entries,
            self.missing,
            self.dangling,
            self.mismatched,
            self.conflicts,
            self.unreadable,
            if self.repaired { " (repaired)" } else { "" }
        )
    }
}

impl<M: Model, S: KvStore> Repo<'_, M, S> {
    /// Compares every index entry of the model with its records and reports
    /// each disagreement; writes nothing.
    pub async fn verify(&self) -> Result<IndexReport> {
        self.audit(false).await
    }

    /// Like [`verify`](Repo::verify), and fixes what it finds: writes missing
    /// entries, deletes dangling ones, rewrites mismatched ones. Conflicts
    /// (two records with one unique value) are reported, not touched.
    pub async fn repair(&self) -> Result<IndexReport> {
        self.audit(true).await
    }

    async fn audit(&self, fix: bool) -> Result<IndexReport> {
        let mut report = IndexReport { model: M::MODEL, repaired: fix, ..Default::default() };
        let space = KeySpace::new(self.scope(), M::MODEL);
        // Unique entries settled while walking the records, skipped while walking the entries.
        let mut settled: HashSet<String> = HashSet::new();

        // Records -> the entries they need.
        let mut page = Some(Page::first(MAX_LIST_LIMIT));
        while let Some(p) = page.take() {
            let listed = crate::protocol::list_page(self.store(), space.record_prefix(), p).await?;
            page = listed.cursor.clone().map(|c| Page::after(c, MAX_LIST_LIMIT));
            for chunk in listed.keys.chunks(MAX_BULK_KEYS) {
                self.audit_records(chunk, fix, &mut report, &mut settled).await?;
            }
        }

        // Entries -> the records they point to.
        let entry_prefix = format!("{}.", space.head());
        let mut page = Some(Page::first(MAX_LIST_LIMIT));
        while let Some(p) = page.take() {
            let listed = crate::protocol::list_page(self.store(), entry_prefix.clone(), p).await?;
            page = listed.cursor.clone().map(|c| Page::after(c, MAX_LIST_LIMIT));
            for chunk in listed.keys.chunks(MAX_BULK_KEYS) {
                self.audit_entries(chunk, &entry_prefix, fix, &mut report, &settled).await?;
            }
        }
        Ok(report)
    }

    async fn audit_records(
        &self,
        chunk: &[ListKey],
        fix: bool,
        report: &mut IndexReport,
        settled: &mut HashSet<String>,
    ) -> Result<()> {
        let names: Vec<String> = chunk.iter().map(|k| k.name.clone()).collect();
        let values = self.raw_read(&names).await?;
        let prefix_len = KeySpace::new(self.scope(), M::MODEL).record_prefix().len();
        // (record, its encoded id, its expiry), for the records still there.
        let mut recs: Vec<(M, String, Option<u64>)> = Vec::new();
        for (k, v) in chunk.iter().zip(values) {
            let Some(v) = v else { continue };
            report.records += 1;
            match serde_json::from_str::<M>(&v) {
                Ok(rec) => recs.push((rec, k.name.get(prefix_len..).unwrap_or("").to_string(), k.expiration)),
                Err(_) => report.add(FindingKind::Unreadable, &k.name),
            }
        }
        // Every entry the records need: (record, index, key).
        let needed: Vec<(usize, usize, String)> = recs
            .iter()
            .enumerate()
            .flat_map(|(r, (rec, _, _))| {
                (0..M::INDEXES.len()).filter_map(move |i| self.index_key(rec, i).map(|key| (r, i, key)))
            })
            .collect();
        let keys: Vec<String> = needed.iter().map(|(_, _, k)| k.clone()).collect();
        let held = self.raw_read(&keys).await?;
        // Unique entries pointing elsewhere: does that record carry the value too?
        let others: Vec<String> = needed
            .iter()
            .zip(&held)
            .filter(|((r, i, _), h)| {
                M::INDEXES[*i].kind == IndexKind::Unique && h.as_deref().is_some_and(|h| h != recs[*r].1)
            })
            .map(|(_, h)| KeySpace::new(self.scope(), M::MODEL).record_key(h.as_deref().unwrap_or("")))
            .collect();
        let other_recs = self.raw_read(&others).await?;
        let mut other_recs = other_recs.into_iter();
        for ((r, i, key), h) in needed.iter().zip(&held) {
            let (rec, id, expiration) = &recs[*r];
            let unique = M::INDEXES[*i].kind == IndexKind::Unique;
            let kind = match h {
                None => FindingKind::Missing,
                Some(h) if unique && h != id => {
                    let other = other_recs.next().flatten().and_then(|v| serde_json::from_str::<M>(&v).ok());
                    settled.insert(key.clone());
                    if other.is_some_and(|o| self.index_key(&o, *i).as_deref() == Some(key.as_str())) {
                        report.add(FindingKind::Conflict, key);
                        continue;
                    }
                    FindingKind::Mismatched
                }
                Some(_) => continue,
            };
            report.add(kind, key);
            if fix {
                let (value, metadata) = if unique { (id.clone(), None) } else { (String::new(), self.meta_of(rec)?) };
                self.fix_put(key, &value, PutOptions { expiration: *expiration, expiration_ttl: None, metadata })
                    .await?;
            }
        }
        Ok(())
    }

    async fn audit_entries(
        &self,
        chunk: &[ListKey],
        entry_prefix: &str,
        fix: bool,
        report: &mut IndexReport,
        settled: &HashSet<String>,
    ) -> Result<()> {
        report.entries += chunk.len() as u64;
        // Which index each entry belongs to, if the model still has it.
        let index_of = |name: &str| -> Option<usize> {
            let rest = name.get(entry_prefix.len()..)?;
            let index = rest.split(':').next()?;
            M::INDEXES.iter().position(|d| d.name == index)
        };
        let unique_keys: Vec<String> = chunk
            .iter()
            .filter(|k| index_of(&k.name).is_some_and(|i| M::INDEXES[i].kind == IndexKind::Unique))
            .map(|k| k.name.clone())
            .collect();
        let unique_ids = self.raw_read(&unique_keys).await?;
        let mut unique_ids = unique_ids.into_iter();
        let space = KeySpace::new(self.scope(), M::MODEL);
        // (entry, index, the record key it points to)
        let mut pointing: Vec<(&ListKey, Option<usize>, Option<String>)> = Vec::new();
        for k in chunk {
            let index = index_of(&k.name);
            let target = match index.map(|i| M::INDEXES[i].kind) {
                Some(IndexKind::Unique) => unique_ids.next().flatten().map(|id| space.record_key(&id)),
                Some(IndexKind::Secondary) => k.name.rsplit(':').next().map(|id| space.record_key(id)),
                None => None,
            };
            pointing.push((k, index, target));
        }
        let targets: Vec<String> = pointing.iter().filter_map(|(_, _, t)| t.clone()).collect();
        let recs = self.raw_read(&targets).await?;
        let mut recs = recs.into_iter();
        for (k, index, target) in pointing {
            let rec = target.and_then(|_| recs.next().flatten()).and_then(|v| serde_json::from_str::<M>(&v).ok());
            if settled.contains(&k.name) {
                continue;
            }
            let carried = match (index, &rec) {
                (Some(i), Some(r)) => self.index_key(r, i).as_deref() == Some(k.name.as_str()),
                _ => false,
            };
            if !carried {
                report.add(FindingKind::Dangling, &k.name);
                if fix {
                    self.store().delete(&k.name).await?;
                }
                continue;
            }
            if let (Some(i), Some(r)) = (index, &rec) {
                if M::INDEXES[i].kind == IndexKind::Secondary {
                    let meta = self.meta_of(r)?;
                    if meta != k.metadata {
                        report.add(FindingKind::Mismatched, &k.name);
                        if fix {
                            let opts = PutOptions { expiration: k.expiration, expiration_ttl: None, metadata: meta };
                            self.fix_put(&k.name, "", opts).await?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn meta_of(&self, rec: &M) -> Result<Option<Value>> {
        rec.meta()
            .map(|m| {
                serde_json::to_value(m)
                    .map_err(|e| Error::Serialization { key: M::MODEL.into(), message: e.to_string() })
            })
            .transpose()
    }

    /// A repair write; one for a key about to expire (KV refuses an expiry
    /// under a minute away) is skipped: the key is going anyway.
    async fn fix_put(&self, key: &str, value: &str, opts: PutOptions) -> Result<()> {
        match self.store().put(key, value, &opts).await {
            Err(Error::ExpirationTooSoon { .. }) => Ok(()),
            other => other,
        }
    }
}
