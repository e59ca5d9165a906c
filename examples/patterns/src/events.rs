//! An event log: events appended per stream (an account, an order), read
//! newest first, from a point in time, and folded into a state with the
//! help of snapshots. Here, an account ledger whose state is its balance.
//!
//! Each event's key in the stream's index is `{stream}:{at desc}:{id}`, so a
//! listing is newest first and can start at any time (`list_by_stream_from_at`).
//! KV's listings lag its writes (up to a minute elsewhere in the world), so
//! a snapshot only folds events older than [`SETTLE_MS`]: a late-listed
//! event is never behind a snapshot, and every read folds the snapshot with
//! the events since its cut.
//!
//! An append writes the event's index entry before its record, so an append
//! that failed part-way, or whose Worker was stopped there, can leave an
//! entry naming no record. Folding counts only events whose record exists:
//! it lists the entries and reads their records in bulk (1 bulk read per 100
//! events). A caller that retries an append with the same event
//! ([`new_event`] then [`commit`]) has it counted once.

use kvgen::{KvModel, KvStore, Page, Result};
use serde::{Deserialize, Serialize};

/// A snapshot folds only events at least this old, in milliseconds: KV's
/// listings may not show an event until up to 60 s after it was written.
pub const SETTLE_MS: u64 = 120_000;

/// One event of a stream.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "event", index(stream, at desc))]
pub struct Event {
    /// A ULID: the time it was appended, to the millisecond, then 80 random bits.
    #[kv(id, generate = "ulid")]
    pub id: String,
    /// The stream (aggregate) it belongs to.
    pub stream: String,
    /// When it happened, milliseconds since the epoch: the ULID's time when
    /// appended now. In the index entry's metadata too, with `cents`, so a
    /// balance is folded from listings without reading the events.
    #[kv(meta)]
    pub at: u64,
    /// The change to the balance, in cents (negative for a withdrawal).
    #[kv(meta)]
    pub cents: i64,
    /// Why.
    pub memo: String,
}

/// A stream's state at a cut: every event before `upto` folded.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kv(binding = "APP", prefix = "snapshot")]
pub struct Snapshot {
    /// The stream.
    #[kv(id)]
    pub stream: String,
    /// The balance of the events folded, in cents.
    pub cents: i64,
    /// Every event with `at < upto` is folded; none after.
    pub upto: u64,
    /// How many events are folded.
    pub events: u64,
}

/// A new event of `stream`, happening now: its id is a new ULID and `at`
/// the ULID's time. Nothing is written: [`commit`] it.
pub fn new_event(stream: &str, cents: i64, memo: &str) -> Result<Event> {
    let id = kvgen::id::new(kvgen::id::IdKind::Ulid)?;
    let at = kvgen::id::ulid_millis(&id).unwrap_or_default();
    Ok(Event { id, stream: stream.into(), at, cents, memo: memo.into() })
}

/// Writes `event` to its stream; committing the same event again (a retry
/// after an error) is `Ok` and counts it once. Costs 1 bulk read + 2 writes
/// (the index entry, then the record); a retry of an event already
/// committed, 1 bulk read + 1 read. `AlreadyExists` when another event has
/// its id.
pub async fn commit<S: KvStore>(log: &EventRepo<'_, S>, event: &Event) -> Result<()> {
    match log.create(event).await {
        Err(kvgen::Error::AlreadyExists { .. }) if log.get(&event.id).await?.as_ref() == Some(event) => Ok(()),
        other => other,
    }
}

/// Appends an event now ([`new_event`] and [`commit`]). Costs 1 bulk read
/// and 2 writes. An append that failed part-way is in no balance; to retry
/// without the risk of counting twice (the error came after the record was
/// written), commit the same event again rather than appending anew.
pub async fn append<S: KvStore>(log: &EventRepo<'_, S>, stream: &str, cents: i64, memo: &str) -> Result<Event> {
    let event = new_event(stream, cents, memo)?;
    commit(log, &event).await?;
    Ok(event)
}

/// Appends an event that happened at `at` (an import, a back-dated entry).
/// An event back-dated behind the stream's snapshot cut is not in its
/// balance, nor is one written less than a minute before a snapshot taken
/// where KV's listings lag: import a minute or more before the first
/// snapshot, or move the snapshot back. The same holds for a retry
/// ([`commit`]) of an event whose first attempt failed: retry within a
/// minute of its `at`.
pub async fn append_at<S: KvStore>(
    log: &EventRepo<'_, S>,
    stream: &str,
    at: u64,
    cents: i64,
    memo: &str,
) -> Result<Event> {
    let event = Event { at, ..new_event(stream, cents, memo)? };
    commit(log, &event).await?;
    Ok(event)
}

/// A page of a stream's events, newest first; from `at` and older when
/// given. Costs 1 list + 1 bulk read per 100 events returned.
pub async fn newest_first<S: KvStore>(
    log: &EventRepo<'_, S>,
    stream: &str,
    from: Option<u64>,
    page: Page,
) -> Result<kvgen::ListPage<Event>> {
    match from {
        None => log.list_by_stream(stream, page).await,
        Some(at) => log.list_by_stream_from_at(stream, at, page).await,
    }
}

/// The sum and count of a stream's committed events with
/// `since <= at < until`: the index entries listed newest first down to
/// `since` (1 list per 1,000), and their records read (1 bulk read per 100
/// entries in the range): an entry whose record is missing (an append that
/// failed or stopped after writing it) is not counted.
async fn folded<S: KvStore>(log: &EventRepo<'_, S>, stream: &str, since: u64, until: u64) -> Result<(i64, u64)> {
    let (mut cents, mut count) = (0i64, 0u64);
    let mut page = Page::first(1000);
    loop {
        let got = log.list_by_stream_meta(stream, page).await?;
        let mut done = got.cursor.is_none();
        let mut ids = Vec::new();
        for listed in &got.items {
            let Some(meta) = listed.meta.as_ref() else { continue };
            if meta.at < since {
                done = true;
                break;
            }
            if meta.at < until {
                ids.push(listed.id.clone());
            }
        }
        for event in log.get_many(&ids).await?.into_iter().flatten() {
            if event.stream == stream && since <= event.at && event.at < until {
                cents += event.cents;
                count += 1;
            }
        }
        match got.cursor {
            Some(cursor) if !done => page = Page::after(cursor, 1000),
            _ => return Ok((cents, count)),
        }
    }
}

/// The stream's balance: its snapshot plus the events since the snapshot's
/// cut, each counted once its record is written. Costs 1 read + 1 list per
/// 1,000 events since the cut + 1 bulk read per 100 of them.
pub async fn balance<S: KvStore>(log: &EventRepo<'_, S>, snaps: &SnapshotRepo<'_, S>, stream: &str) -> Result<i64> {
    let snap = snaps.get(&stream.to_string()).await?.unwrap_or_default();
    let (cents, _) = folded(log, stream, snap.upto, u64::MAX).await?;
    Ok(snap.cents + cents)
}

/// Moves the stream's snapshot up to `now_ms - SETTLE_MS`, folding the
/// committed events between its cut and the new one. Costs 1 read + 1 list
/// per 1,000 events since the old cut + 1 bulk read per 100 of them + 1 write.
pub async fn snapshot<S: KvStore>(
    log: &EventRepo<'_, S>,
    snaps: &SnapshotRepo<'_, S>,
    stream: &str,
    now_ms: u64,
) -> Result<Snapshot> {
    let id = stream.to_string();
    let mut snap = snaps.get(&id).await?.unwrap_or_else(|| Snapshot { stream: id, ..Snapshot::default() });
    let cut = now_ms.saturating_sub(SETTLE_MS);
    if cut <= snap.upto {
        return Ok(snap);
    }
    let (cents, count) = folded(log, stream, snap.upto, cut).await?;
    snap.cents += cents;
    snap.events += count;
    snap.upto = cut;
    snaps.put_with(&snap, kvgen::WriteOptions::permanent()).await?;
    Ok(snap)
}
