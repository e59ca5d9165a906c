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
    /// When it happened, milliseconds since the epoch: the ULID's time when appended now.
    pub at: u64,
    /// The change to the balance, in cents (negative for a withdrawal).
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

/// Appends an event now: its id is a new ULID and `at` is the ULID's time.
/// Costs 1 bulk read + 2 writes (the event and its index entry).
pub async fn append<S: KvStore>(log: &EventRepo<'_, S>, stream: &str, cents: i64, memo: &str) -> Result<Event> {
    let mut event = Event { id: String::new(), stream: stream.into(), at: 0, cents, memo: memo.into() };
    let id = kvgen::id::new(kvgen::id::IdKind::Ulid)?;
    event.at = kvgen::id::ulid_millis(&id).unwrap_or_default();
    event.id = id;
    log.create(&event).await?;
    Ok(event)
}

/// Appends an event that happened at `at` (an import, a back-dated entry).
pub async fn append_at<S: KvStore>(log: &EventRepo<'_, S>, stream: &str, at: u64, cents: i64, memo: &str) -> Result<Event> {
    let mut event = Event { id: String::new(), stream: stream.into(), at, cents, memo: memo.into() };
    log.create_new(&mut event).await?;
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

/// The events of a stream with `at >= since`, newest first, every page.
async fn since<S: KvStore>(log: &EventRepo<'_, S>, stream: &str, from: Option<u64>, since: u64) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    let mut page = Page::first(100);
    loop {
        let got = newest_first(log, stream, from, page).await?;
        let older = got.items.iter().any(|e| e.at < since);
        out.extend(got.items.into_iter().filter(|e| e.at >= since));
        match got.cursor {
            Some(cursor) if !older => page = Page::after(cursor, 100),
            _ => return Ok(out),
        }
    }
}

/// The stream's balance: its snapshot plus the events since the snapshot's
/// cut. Costs 1 read + (1 list + 1 bulk read) per 100 events since the cut.
pub async fn balance<S: KvStore>(log: &EventRepo<'_, S>, snaps: &SnapshotRepo<'_, S>, stream: &str) -> Result<i64> {
    let snap = snaps.get(&stream.to_string()).await?.unwrap_or_default();
    let recent = since(log, stream, None, snap.upto).await?;
    Ok(snap.cents + recent.iter().map(|e| e.cents).sum::<i64>())
}

/// Moves the stream's snapshot up to `now_ms - SETTLE_MS`, folding the
/// events between its cut and the new one. Costs 1 read + the listing of
/// those events + 1 write.
pub async fn snapshot<S: KvStore>(
    log: &EventRepo<'_, S>,
    snaps: &SnapshotRepo<'_, S>,
    stream: &str,
    now_ms: u64,
) -> Result<Snapshot> {
    let mut snap = snaps.get(&stream.to_string()).await?.unwrap_or_else(|| Snapshot { stream: stream.into(), ..Snapshot::default() });
    let cut = now_ms.saturating_sub(SETTLE_MS);
    if cut <= snap.upto {
        return Ok(snap);
    }
    let folded = since(log, stream, Some(cut - 1), snap.upto).await?;
    snap.cents += folded.iter().map(|e| e.cents).sum::<i64>();
    snap.events += folded.len() as u64;
    snap.upto = cut;
    snaps.put_with(&snap, kvgen::WriteOptions::permanent()).await?;
    Ok(snap)
}
