//! An event log: events appended per stream (an account, an order), read
//! newest first, from a point in time, and folded into a state with the
//! help of snapshots. Here, an account ledger whose state is its balance.
//!
//! Each event's key in the stream's index is `{stream}:{at desc}:{id}`, so a
//! listing is newest first and can start at any time (`list_by_stream_from_at`).
//! KV's listings lag its writes (up to a minute elsewhere in the world), so
//! a snapshot only folds events older than [`SETTLE_MS`]: a late-listed
//! event is never behind a snapshot, and every read folds the snapshot with
//! the events since its cut. Folding reads the `(at, cents)` the index
//! entries carry as metadata: listings, no record reads.

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
/// An event back-dated behind the stream's snapshot cut is not in its
/// balance, nor is one written less than a minute before a snapshot taken
/// where KV's listings lag: import a minute or more before the first
/// snapshot, or move the snapshot back.
pub async fn append_at<S: KvStore>(
    log: &EventRepo<'_, S>,
    stream: &str,
    at: u64,
    cents: i64,
    memo: &str,
) -> Result<Event> {
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

/// The `(at, cents)` of a stream's events with `since <= at < until`,
/// newest first, from the metadata of its index entries: 1 list per 1,000
/// events from the newest down to `since`, and no record read.
async fn folded<S: KvStore>(log: &EventRepo<'_, S>, stream: &str, since: u64, until: u64) -> Result<(i64, u64)> {
    let (mut cents, mut count) = (0i64, 0u64);
    let mut page = Page::first(1000);
    loop {
        let got = log.list_by_stream_meta(stream, page).await?;
        for meta in got.items.iter().filter_map(|l| l.meta.as_ref()) {
            if meta.at < since {
                return Ok((cents, count));
            }
            if meta.at < until {
                cents += meta.cents;
                count += 1;
            }
        }
        match got.cursor {
            Some(cursor) => page = Page::after(cursor, 1000),
            None => return Ok((cents, count)),
        }
    }
}

/// The stream's balance: its snapshot plus the events since the snapshot's
/// cut. Costs 1 read + 1 list per 1,000 events since the cut.
pub async fn balance<S: KvStore>(log: &EventRepo<'_, S>, snaps: &SnapshotRepo<'_, S>, stream: &str) -> Result<i64> {
    let snap = snaps.get(&stream.to_string()).await?.unwrap_or_default();
    let (cents, _) = folded(log, stream, snap.upto, u64::MAX).await?;
    Ok(snap.cents + cents)
}

/// Moves the stream's snapshot up to `now_ms - SETTLE_MS`, folding the
/// events between its cut and the new one. Costs 1 read + 1 list per 1,000
/// events since the old cut + 1 write.
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
