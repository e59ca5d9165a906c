//! Strict unique values: the claims a write makes on the coordinator around
//! its KV writes (the protocol is described in [`coord`](crate::coord)).

use crate::coord::{self, Coordinate, Request, Response};
use crate::error::{Error, Result};
use crate::index::entry::{IndexEntry, Stored};
use crate::model::IndexDef;
use crate::store::KvStore;
use std::cell::{Cell, RefCell};

/// The strict values one write claims, and what it was granted.
pub(crate) struct Claims<'a> {
    coord: &'a dyn Coordinate,
    binding: &'static str,
    model: &'static str,
    indexes: &'static [IndexDef],
    /// The record's encoded id: the holder of its claims.
    holder: String,
    /// The record key, for errors.
    rec_key: String,
    /// The strict entries of the record being written.
    wanted: Vec<IndexEntry>,
    /// Cells this call was granted (pending), to commit after the write,
    /// with the generation of those it was granted fresh (which it may
    /// abandon if it writes nothing).
    granted: RefCell<Vec<(String, Option<u64>)>>,
    /// When the earliest claim (granted or reaffirmed) lapses, ms.
    until: Cell<Option<u64>>,
    /// When the last KV write began (the record's, once written), ms.
    wrote_at: Cell<Option<u64>>,
}

/// The coordinator cell of a strict entry: the binding and the entry's key,
/// so values of unrelated models, indexes, scopes and namespaces never share one.
pub(crate) fn cell_name(binding: &str, entry_key: &str) -> String {
    format!("{binding}/{entry_key}")
}

impl<'a> Claims<'a> {
    pub(crate) fn new(
        coord: &'a dyn Coordinate,
        binding: &'static str,
        model: &'static str,
        indexes: &'static [IndexDef],
        holder: String,
        rec_key: String,
        entries: &[IndexEntry],
    ) -> Self {
        let wanted = entries.iter().filter(|e| indexes[e.index].strict).cloned().collect();
        Claims {
            coord,
            binding,
            model,
            indexes,
            holder,
            rec_key,
            wanted,
            granted: RefCell::default(),
            until: Cell::new(None),
            wrote_at: Cell::new(None),
        }
    }

    fn name(&self, e: &IndexEntry) -> String {
        cell_name(self.binding, &e.key)
    }

    fn lapses(&self, until: u64) {
        self.until.set(Some(self.until.get().map_or(until, |u| u.min(until))));
    }

    /// Claims every strict value of the record, before its first KV write.
    /// A value another record holds is a [`Error::UniqueViolation`]; the
    /// claims granted so far are then given back.
    pub(crate) async fn claim<S: KvStore>(&self, store: &S, stored: &dyn Stored) -> Result<()> {
        for e in &self.wanted {
            if let Err(err) = self.claim_one(store, stored, e).await {
                self.give_back().await;
                return Err(err);
            }
        }
        Ok(())
    }

    async fn claim_one<S: KvStore>(&self, store: &S, stored: &dyn Stored, e: &IndexEntry) -> Result<()> {
        let name = self.name(e);
        let mut request = Request::Claim { holder: self.holder.clone(), lease_ms: coord::LEASE_MS };
        // A take-over can meet a claim that changed since it was checked: it
        // is then decided again, a bounded number of times.
        for _ in 0..3 {
            match self.coord.call(&name, &request).await? {
                Response::Granted { until, gen, fresh } => {
                    self.granted.borrow_mut().push((name, fresh.then_some(gen)));
                    self.lapses(until);
                    return Ok(());
                }
                Response::Held { until } => {
                    self.lapses(until);
                    return Ok(());
                }
                Response::Denied { holder, gen, verify, settles } => {
                    if !verify {
                        let mut err = self.violation(e, &stored.display_id(&holder));
                        if let Error::UniqueViolation { retry_after, .. } = &mut err {
                            // Whole seconds, rounded up: asking again then finds it settled.
                            let now = self.coord.now_ms();
                            *retry_after = settles.map(|at| at.saturating_sub(now).div_ceil(1000).max(1));
                        }
                        return Err(err);
                    }
                    // The claim has settled: KV shows its record as it is.
                    if holder_carries(store, stored, &holder, e).await? {
                        // Its writer may have died after writing the record:
                        // the claim is committed on its behalf.
                        let _ = self.coord.call(&name, &Request::Confirm { from: holder.clone(), gen }).await;
                        return Err(self.violation(e, &stored.display_id(&holder)));
                    }
                    request =
                        Request::TakeOver { holder: self.holder.clone(), from: holder, gen, lease_ms: coord::LEASE_MS };
                }
                other => return Err(coord::unexpected(&name, &other)),
            }
        }
        Err(Error::Store { op: "coordinate", key: name, message: "the claim kept changing".into(), source: None })
    }

    /// Gives back the claims this call was granted fresh, when it writes
    /// nothing (one another writer of the record reaffirmed since stays).
    async fn give_back(&self) {
        let granted = std::mem::take(&mut *self.granted.borrow_mut());
        for (name, fresh) in granted {
            if let Some(gen) = fresh {
                let _ = self.coord.call(&name, &Request::Abandon { holder: self.holder.clone(), gen }).await;
            }
        }
    }

    /// Refuses the next KV write when the earliest claim has less than
    /// [`coord::MARGIN_MS`] left (the claims are then left to lapse).
    /// Notes the time, as the start of the KV write that follows.
    pub(crate) fn check(&self) -> Result<()> {
        let now = self.coord.now_ms();
        self.wrote_at.set(Some(now));
        match self.until.get() {
            Some(until) if now.saturating_add(coord::MARGIN_MS) > until => {
                Err(Error::LeaseExpired { model: self.model, key: self.rec_key.clone(), stage: "before writing" })
            }
            _ => Ok(()),
        }
    }

    /// Commits the granted claims, once the record is written.
    pub(crate) async fn commit(&self) -> Result<()> {
        let granted = std::mem::take(&mut *self.granted.borrow_mut());
        let mut outcome = Ok(());
        for (name, _) in granted {
            let answer = self.coord.call(&name, &Request::Commit { holder: self.holder.clone() }).await;
            match answer {
                Ok(Response::Done) => {}
                Ok(Response::NotHolder) => {
                    outcome = Err(Error::LeaseExpired {
                        model: self.model,
                        key: self.rec_key.clone(),
                        stage: "after writing",
                    })
                }
                Ok(other) => outcome = Err(coord::unexpected(&name, &other)),
                Err(e) => outcome = Err(e),
            }
        }
        outcome
    }

    /// Releases the strict values of `old` (the record's previous entries)
    /// that the record no longer carries, once the record is written (the
    /// release says when that write began, so the coordinator can free a
    /// value whose writers all stopped before it). Best effort: a claim
    /// left behind settles and is taken over once KV shows the record
    /// without it.
    pub(crate) async fn release_dropped(&self, old: &[IndexEntry]) {
        let since = self.wrote_at.get();
        for e in old.iter().filter(|e| self.indexes[e.index].strict && !self.wanted.contains(e)) {
            let _ = self.coord.call(&self.name(e), &Request::Release { holder: self.holder.clone(), since }).await;
        }
    }

    fn violation(&self, e: &IndexEntry, holder: &str) -> Error {
        crate::index::entry::violation(self.model, self.indexes, &self.rec_key, &self.holder, e, holder)
    }
}

/// Releases every strict value of a record deleted by a delete that began
/// at `since` (the coordinator's clock as the caller reads it, ms). Best
/// effort, as in [`Claims::release_dropped`].
pub(crate) async fn release_all(
    coord: &dyn Coordinate,
    binding: &str,
    indexes: &[IndexDef],
    holder: &str,
    entries: &[IndexEntry],
    since: u64,
) {
    for e in entries.iter().filter(|e| indexes[e.index].strict) {
        let release = Request::Release { holder: holder.to_string(), since: Some(since) };
        let _ = coord.call(&cell_name(binding, &e.key), &release).await;
    }
}

/// Whether the record `holder` (an encoded id) carries entry `e`, as KV
/// shows it: 1 read. A record that cannot be read may carry it.
async fn holder_carries<S: KvStore>(store: &S, stored: &dyn Stored, holder: &str, e: &IndexEntry) -> Result<bool> {
    let Some(key) = stored.holder_key(holder) else { return Ok(false) };
    Ok(match store.get(&key).await? {
        None => false,
        Some(found) => {
            stored.carries_entry(&key, &String::from_utf8_lossy(&found.value), e.index, &e.key) != Some(false)
        }
    })
}
