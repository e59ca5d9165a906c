//! `verify` and `repair`: compare a model's index entries with its records,
//! and make them match. Both page through any number of records and entries,
//! holding one page at a time.

use crate::error::{Error, Result};
use crate::index::{listing, plan};
use crate::model::key::KeySpace;
use crate::model::{IndexKind, Model, RawKind};
use crate::repo::Repo;
use crate::store::limits::{MAX_BULK_KEYS, MIN_TTL_SECS};
use crate::store::retry::retried;
use crate::store::{Entry, KvStore, ListKey, PutOptions};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

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
    /// A record that cannot be read as the model (not valid JSON for it, or
    /// its id is not its key's). Left as it is, and so are the entries that
    /// name it: a record that cannot be read may carry their values.
    Unreadable,
    /// An entry of an index the model does not declare (an index since
    /// removed, or another model's that shares the key prefix). Kept unless
    /// repair is asked to drop such entries.
    UnknownIndex,
}

/// One finding: what, and which key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// The kind of disagreement.
    pub kind: FindingKind,
    /// The index entry (or, for `Unreadable`, record) key.
    pub key: String,
}

/// What [`Repo::repair_with`] may do beyond fixing entries of the model's own indexes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepairOptions {
    /// Delete entries of indexes the model does not declare. Only safe when
    /// no other model shares this model's key prefix in the namespace.
    pub drop_unknown_indexes: bool,
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
    /// Entries of indexes the model does not declare.
    pub unknown_index: u64,
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
        self.missing + self.dangling + self.mismatched + self.conflicts + self.unreadable + self.unknown_index == 0
    }

    fn add(&mut self, kind: FindingKind, key: &str) {
        let n = match kind {
            FindingKind::Missing => &mut self.missing,
            FindingKind::Dangling => &mut self.dangling,
            FindingKind::Mismatched => &mut self.mismatched,
            FindingKind::Conflict => &mut self.conflicts,
            FindingKind::Unreadable => &mut self.unreadable,
            FindingKind::UnknownIndex => &mut self.unknown_index,
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
            "{}: {} records, {} entries; {} missing, {} dangling, {} mismatched, {} conflicts, {} unreadable, {} of unknown indexes{}",
            self.model,
            self.records,
            self.entries,
            self.missing,
            self.dangling,
            self.mismatched,
            self.conflicts,
            self.unreadable,
            self.unknown_index,
            if self.repaired { " (repaired)" } else { "" }
        )
    }
}

impl<M: Model, S: KvStore> Repo<'_, M, S> {
    /// Compares every index entry of the model with its records and reports
    /// each disagreement; writes nothing.
    pub async fn verify(&self) -> Result<IndexReport> {
        self.audit(None).await
    }

    /// Like [`verify`](Repo::verify), and fixes what it finds: writes missing
    /// entries, deletes dangling ones, rewrites mismatched ones (a wrong
    /// target, stale metadata, or an expiry other than the record's).
    /// Conflicts (two records with one unique value), unreadable records and
    /// the entries naming them, and entries of unknown indexes are reported,
    /// not touched.
    pub async fn repair(&self) -> Result<IndexReport> {
        self.audit(Some(RepairOptions::default())).await
    }

    /// [`repair`](Repo::repair) with options.
    pub async fn repair_with(&self, options: RepairOptions) -> Result<IndexReport> {
        self.audit(Some(options)).await
    }

    async fn audit(&self, fix: Option<RepairOptions>) -> Result<IndexReport> {
        let mut state = Audit {
            report: IndexReport { model: M::MODEL, repaired: fix.is_some(), ..Default::default() },
            fix,
            settled: HashSet::new(),
            holders: HashMap::new(),
            conflicts: HashSet::new(),
            expirations: HashMap::new(),
        };
        let space = KeySpace::new(self.scope(), M::MODEL);

        // Records -> the entries they need.
        let mut pages = listing::Pages::new(self.store(), space.record_prefix());
        while let Some(keys) = pages.next().await? {
            for chunk in keys.chunks(MAX_BULK_KEYS) {
                self.audit_records(chunk, &mut state).await?;
            }
        }

        // Entries -> the records they point to.
        let entry_prefix = format!("{}.", space.head());
        let mut pages = listing::Pages::new(self.store(), entry_prefix.clone());
        while let Some(keys) = pages.next().await? {
            // Every entry is `{index}:{values}`: a key with no `:` after the
            // index name is none of this model's (under a scope ending in
            // `:`, the record of a model named like the scope: `prod:user.x`
            // is model `prod`'s record `user.x`), and is left alone.
            let keys: Vec<ListKey> = keys
                .into_iter()
                .filter(|k| k.name.get(entry_prefix.len()..).is_some_and(|rest| rest.contains(':')))
                .collect();
            for chunk in keys.chunks(MAX_BULK_KEYS) {
                self.audit_entries(chunk, &entry_prefix, &mut state).await?;
            }
        }
        Ok(state.report)
    }

    async fn audit_records(&self, chunk: &[ListKey], state: &mut Audit) -> Result<()> {
        let names: Vec<String> = chunk.iter().map(|k| k.name.clone()).collect();
        let values = self.read_distinct_entries(&names).await?;
        let prefix_len = KeySpace::new(self.scope(), M::MODEL).record_prefix().len();
        // (record, its encoded id, its expiry), for the readable records still there.
        let mut recs: Vec<(M, String, Option<u64>)> = Vec::new();
        for (k, v) in chunk.iter().zip(values) {
            let Some(v) = v else { continue };
            state.report.records += 1;
            // Its real expiry, as the listing gives it: what its entries must have.
            state.expirations.insert(k.name.clone(), k.expiration);
            let rec = match self.decode_ref(&k.name, &v) {
                Ok(rec) => rec,
                Err(_) => {
                    state.report.add(FindingKind::Unreadable, &k.name);
                    continue;
                }
            };
            // Its metadata: the projection as KV stores it, and its real expiry.
            let meta = self.meta_of(&rec)?;
            let want = plan::record_metadata(meta.as_ref(), plan::stored_extra(v.metadata.as_ref()), k.expiration);
            if v.metadata.as_ref() != Some(&want) {
                state.report.add(FindingKind::Mismatched, &k.name);
                if state.fix.is_some() && k.expiration.is_none_or(|at| at >= self.store().now() + MIN_TTL_SECS) {
                    self.rewrite_record(&k.name, v, k.expiration).await?;
                }
            }
            recs.push((rec, k.name.get(prefix_len..).unwrap_or("").to_string(), k.expiration));
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
        let others: Vec<Option<String>> = needed
            .iter()
            .zip(&held)
            .map(|((r, i, _), h)| match h {
                Some(h) if M::INDEXES[*i].kind == IndexKind::Unique && *h != recs[*r].1 => self.holder_key(h),
                _ => None,
            })
            .collect();
        let other_keys: Vec<String> = others.iter().flatten().cloned().collect();
        let mut other_recs = self.raw_read(&other_keys).await?.into_iter();
        for (((r, i, key), h), other) in needed.iter().zip(&held).zip(&others) {
            let (rec, id, _) = &recs[*r];
            let unique = M::INDEXES[*i].kind == IndexKind::Unique;
            // Whether the other record a unique entry names carries the value
            // too, or cannot be read (and may).
            let other_carries = other.as_ref().is_some_and(|other_key| {
                other_recs.next().flatten().is_some_and(|v| match self.parse_record(other_key, &v) {
                    Ok(o) => self.index_key(&o, *i).as_deref() == Some(key.as_str()),
                    Err(_) => true,
                })
            });
            if unique {
                // The first readable record walked that carries a value holds
                // it; any other carrying it is a conflict, also when its
                // entry is missing.
                let first = state.holders.entry(key.clone()).or_insert_with(|| id.clone());
                if first != id || (h.as_ref().is_some_and(|h| h != id) && other_carries) {
                    state.settled.insert(key.clone());
                    if state.conflicts.insert(key.clone()) {
                        state.report.add(FindingKind::Conflict, key);
                    }
                    continue;
                }
            }
            let kind = match h {
                None => FindingKind::Missing,
                Some(h) if unique && h != id => {
                    state.settled.insert(key.clone());
                    FindingKind::Mismatched
                }
                Some(_) => continue,
            };
            let expiration = &recs[*r].2;
            state.report.add(kind, key);
            if state.fix.is_some() {
                let (value, metadata) = if unique { (id.clone(), None) } else { (String::new(), self.meta_of(rec)?) };
                self.fix_put(key, &value, PutOptions { expiration: *expiration, expiration_ttl: None, metadata })
                    .await?;
            }
        }
        Ok(())
    }

    async fn audit_entries(&self, chunk: &[ListKey], entry_prefix: &str, state: &mut Audit) -> Result<()> {
        state.report.entries += chunk.len() as u64;
        // Which index each entry belongs to, if the model has it.
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
        let mut unique_ids = self.raw_read(&unique_keys).await?.into_iter();
        // (entry, index, the record key it names: `None` for garbage)
        let mut pointing: Vec<(&ListKey, Option<usize>, Option<String>)> = Vec::new();
        for k in chunk {
            let index = index_of(&k.name);
            let target = match index.map(|i| M::INDEXES[i].kind) {
                Some(IndexKind::Unique) => unique_ids.next().flatten().and_then(|id| self.holder_key(&id)),
                Some(IndexKind::Secondary) => k.name.rsplit(':').next().and_then(|id| self.holder_key(id)),
                None => None,
            };
            pointing.push((k, index, target));
        }
        let targets: Vec<String> = pointing.iter().filter_map(|(_, _, t)| t.clone()).collect();
        let mut recs = self.read_distinct_entries(&targets).await?.into_iter();
        for (k, index, target) in pointing {
            let stored = target.as_ref().and_then(|_| recs.next().flatten());
            if state.settled.contains(&k.name) {
                continue;
            }
            let Some(i) = index else {
                state.report.add(FindingKind::UnknownIndex, &k.name);
                if state.fix.is_some_and(|o| o.drop_unknown_indexes) {
                    retried(self.store(), None, || self.store().delete(&k.name)).await?;
                }
                continue;
            };
            let rec = match (&target, &stored) {
                (Some(target), Some(e)) => match self.decode_ref(target, e) {
                    Ok(rec) => Some(rec),
                    // The record it names cannot be read: it may carry the value.
                    Err(_) => continue,
                },
                _ => None,
            };
            let carried = rec.as_ref().is_some_and(|r| self.index_key(r, i).as_deref() == Some(k.name.as_str()));
            if !carried {
                state.report.add(FindingKind::Dangling, &k.name);
                if state.fix.is_some() {
                    retried(self.store(), None, || self.store().delete(&k.name)).await?;
                }
                continue;
            }
            let (Some(r), Some(e)) = (&rec, &stored) else { continue };
            let secondary = M::INDEXES[i].kind == IndexKind::Secondary;
            let meta = if secondary { self.meta_of(r)? } else { None };
            // An entry expires with its record (or as soon after it as KV
            // allows: no sooner than a minute from now); its metadata is the
            // record's projection. The record's expiry is the one its listing
            // gave (or, for a record written since, the one it records).
            let record_expiration = match (&target, state.expirations.get(target.as_deref().unwrap_or(""))) {
                (Some(_), Some(at)) => Some(*at),
                _ => plan::stored_expiration(e.metadata.as_ref()),
            };
            let now = self.store().now();
            let expiry_off = record_expiration.is_some_and(|want| match (k.expiration, want) {
                (None, None) => false,
                (Some(got), Some(want)) => got < want || got > want.max(now + MIN_TTL_SECS),
                _ => true,
            });
            if expiry_off || (secondary && meta != k.metadata) {
                state.report.add(FindingKind::Mismatched, &k.name);
                if state.fix.is_some() {
                    let expiration = record_expiration.unwrap_or(k.expiration);
                    let value = if secondary { String::new() } else { self.encoded_id(r) };
                    let opts = PutOptions { expiration, expiration_ttl: None, metadata: meta };
                    self.fix_put(&k.name, &value, opts).await?;
                }
            }
        }
        Ok(())
    }

    /// Rewrites the record at `key` with the metadata it should have,
    /// keeping its value. The value written is never one a bulk read gave
    /// (text as `TextDecoder` gives it: a leading byte-order mark dropped,
    /// invalid UTF-8 replaced) but the exact bytes `get` gives, read again
    /// here (1 read per rewritten record); raw bytes were read so already.
    /// Nothing is written when the record is gone, cannot be read, or has
    /// the metadata it should have by now.
    async fn rewrite_record(&self, key: &str, read: Entry, expiration: Option<u64>) -> Result<()> {
        let exact = match M::RAW {
            Some(RawKind::Bytes) => read,
            _ => match self.store().get(key).await? {
                Some(e) => e,
                None => return Ok(()),
            },
        };
        let Ok(rec) = self.decode_ref(key, &exact) else { return Ok(()) };
        let meta = self.meta_of(&rec)?;
        let want = plan::record_metadata(meta.as_ref(), plan::stored_extra(exact.metadata.as_ref()), expiration);
        if exact.metadata.as_ref() == Some(&want) {
            return Ok(());
        }
        let opts = PutOptions { expiration, expiration_ttl: None, metadata: Some(want) };
        retried(self.store(), None, || self.store().put(key, &exact.value, &opts)).await
    }

    /// The record's projection as KV stores it (numbers as JavaScript writes them).
    fn meta_of(&self, rec: &M) -> Result<Option<Value>> {
        if M::RAW.is_some() {
            return crate::repo::codec::raw_projection(M::MODEL, rec).map(Some);
        }
        rec.meta()
            .map(|m| {
                serde_json::to_value(m)
                    .map(|v| crate::store::limits::metadata_as_stored(&v))
                    .map_err(|e| Error::serialization(M::MODEL, e))
            })
            .transpose()
    }

    fn encoded_id(&self, rec: &M) -> String {
        crate::model::key::encode(rec.id())
    }

    /// A repair write (tried again when KV's rate limit refuses it, as every
    /// write is). An entry of a record that expires within a minute
    /// gets an expiry a minute from now, the soonest KV accepts: a little
    /// longer than its record, never shorter.
    async fn fix_put(&self, key: &str, value: &str, mut opts: PutOptions) -> Result<()> {
        let soonest = self.store().now() + MIN_TTL_SECS;
        opts.expiration = opts.expiration.map(|at| at.max(soonest));
        retried(self.store(), None, || self.store().put(key, value.as_bytes(), &opts)).await
    }
}

/// The state of one audit.
struct Audit {
    report: IndexReport,
    /// `Some` for a repair.
    fix: Option<RepairOptions>,
    /// Unique entries settled while walking the records, skipped while walking the entries.
    settled: HashSet<String>,
    /// For each unique entry key, the first readable record found carrying it.
    holders: HashMap<String, String>,
    /// Unique entry keys reported as conflicts.
    conflicts: HashSet<String>,
    /// Each record's expiry, as the walk over the records listed it.
    expirations: HashMap<String, Option<u64>>,
}
