//! A cell's vocabulary: the [`Request`]s a cell answers, its [`Response`]s
//! and its state ([`Cell`]), as they travel to a Durable Object and are
//! stored there (JSON, tagged by `op`, `answer` and `cell`: changing a
//! spelling breaks cells stored by earlier versions).
//!
//! Builds on serde only. The state machine (`machine`), the coordinators
//! and everything that sends a request build on these types; nothing here
//! may depend on them.

use serde::{Deserialize, Serialize};

/// A request to one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Claims a strict value for `holder` (an encoded record id), pending
    /// for `lease_ms`.
    Claim {
        /// The claiming record's encoded id.
        holder: String,
        /// How long the pending claim lasts.
        lease_ms: u64,
    },
    /// Marks `holder`'s claim committed: its record is written.
    Commit {
        /// The holder.
        holder: String,
    },
    /// Gives up `holder`'s claim: its record no longer carries the value.
    /// The value is not freed by this alone (another writer of the same
    /// record may have written it back, which only KV shows): the claim
    /// becomes uncommitted, and the next claimant takes it over once it has
    /// settled and KV shows the record without the value.
    ///
    /// With `since`, the time (the caller's clock, ms) the write or delete
    /// that dropped the value began: when that is at least [`MARGIN_MS`](crate::coord::MARGIN_MS)
    /// after the latest lease of any writer of the holder ended, every
    /// write that carried the value landed before it, so nothing can write
    /// the value back and the value is freed at once (the cell is deleted).
    Release {
        /// The holder.
        holder: String,
        /// When the write or delete dropping the value began (caller's clock, ms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// Frees a claim the caller was granted fresh at generation `gen` and
    /// wrote nothing with; a no-op if anything happened to it since.
    Abandon {
        /// The holder.
        holder: String,
        /// The generation of the fresh grant.
        gen: u64,
    },
    /// Claims for `holder` a value that record `from` held at generation
    /// `gen`, after checking on KV that `from` does not carry it.
    TakeOver {
        /// The new holder.
        holder: String,
        /// The holder that was checked.
        from: String,
        /// The generation of the claim that was checked.
        gen: u64,
        /// How long the new pending claim lasts.
        lease_ms: u64,
    },
    /// Commits `from`'s pending claim at generation `gen` on its behalf,
    /// after checking on KV that its record carries the value.
    Confirm {
        /// The holder whose record was found.
        from: String,
        /// The generation of the claim that was checked.
        gen: u64,
    },
    /// Takes a lock for `token` until `lease_ms` from now.
    Acquire {
        /// The taker's token.
        token: String,
        /// How long the lock lasts unless released.
        lease_ms: u64,
    },
    /// Releases the lock, if `token` holds it.
    Unlock {
        /// The holder's token.
        token: String,
    },
    /// Counts `cost` hits against a limit of `limit` per `window_ms`.
    Hit {
        /// Hits admitted per window.
        limit: u32,
        /// The window's length.
        window_ms: u64,
        /// A sliding window (the last `window_ms`), or fixed windows aligned
        /// to multiples of `window_ms`.
        sliding: bool,
        /// How many hits this request counts (0 only reads the state).
        cost: u32,
    },
}

/// A cell's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Response {
    /// The claim is the caller's, pending until `until` (ms).
    Granted {
        /// The claim's generation.
        gen: u64,
        /// When the pending claim lapses, ms since the epoch.
        until: u64,
        /// Whether the value was free (not a claim the same record held).
        fresh: bool,
    },
    /// The caller's record holds the value already, committed; the caller
    /// writes within `until` (ms).
    Held {
        /// Until when the reaffirmed claim covers the caller's write.
        until: u64,
    },
    /// Another record holds the value.
    Denied {
        /// Its encoded id.
        holder: String,
        /// The claim's generation, for [`Request::TakeOver`] and [`Request::Confirm`].
        gen: u64,
        /// Whether the claim has settled: the caller may check the holder's
        /// record on KV and take over or confirm.
        verify: bool,
        /// When the claim settles, ms (`None` once it has): from then the
        /// next claimant checks the holder's record on KV and takes the
        /// value over if the record no longer carries it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settles: Option<u64>,
    },
    /// The change was made.
    Done,
    /// The caller does not hold what it tried to change (nothing changed).
    NotHolder,
    /// The lock is the caller's until `until` (ms).
    Acquired {
        /// When the lock lapses unless released, ms since the epoch.
        until: u64,
    },
    /// Another token holds the lock until `until` (ms).
    Busy {
        /// When the lock lapses unless released, ms since the epoch.
        until: u64,
    },
    /// A rate limit's answer.
    Rate {
        /// Whether the hits were admitted.
        allowed: bool,
        /// Hits still admitted in the current window.
        remaining: u32,
        /// When the next hit is admitted again (fixed: the window's end;
        /// sliding: when the oldest counted hit leaves the window), ms.
        reset_at: u64,
    },
    /// The request does not fit the cell (a claim sent to a lock's name, a
    /// zero window): nothing changed.
    Refused {
        /// Why.
        message: String,
    },
}

/// The state of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cell", rename_all = "snake_case")]
pub enum Cell {
    /// A strict value nobody holds; the generation survives release, so a
    /// take-over checked against an older claim cannot succeed.
    Free {
        /// The generation.
        gen: u64,
    },
    /// A strict value held by a record.
    Claim {
        /// The record's encoded id.
        holder: String,
        /// Bumped by every change.
        gen: u64,
        /// Whether a writer committed it (its record was written) and no
        /// release came since; an uncommitted claim is pending or releasing.
        committed: bool,
        /// The latest lease end granted to any writer of the holder, ms:
        /// every KV write carrying the value by the holder's writers lands
        /// before it. A commit does not shorten it.
        until: u64,
    },
    /// A lock.
    Lock {
        /// The holder's token.
        token: String,
        /// When it lapses, ms.
        until: u64,
    },
    /// A fixed-window rate limit.
    Window {
        /// The current window's start, ms.
        start: u64,
        /// Hits admitted in it.
        count: u32,
    },
    /// A sliding-window rate limit: when each admitted hit was made, oldest first.
    Sliding {
        /// Timestamps, ms.
        hits: Vec<u64>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_cells_round_trip_through_json() {
        let r = Request::TakeOver { holder: "a".into(), from: "b".into(), gen: 3, lease_ms: 5 };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"op":"take_over","holder":"a","from":"b","gen":3,"lease_ms":5}"#);
        assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), r);
        let cell = Cell::Claim { holder: "a".into(), gen: 2, committed: true, until: 9 };
        let json = serde_json::to_string(&cell).unwrap();
        assert_eq!(serde_json::from_str::<Cell>(&json).unwrap(), cell);
    }
}
