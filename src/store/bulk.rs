//! Bulk reads of any number of keys: KV's bulk read takes at most 100 keys
//! and refuses values that add up to more than 25 MiB, so these split the
//! keys into reads KV accepts. Shared by the index protocol, listings and
//! the repository. Many bulk reads of one call run together, as many in
//! flight as the store allows ([`KvStore::max_in_flight`]).

use crate::error::{Error, Result};
use crate::store::limits;
use crate::store::{Entry, KvStore};
use futures_util::stream::{self, StreamExt};

/// Reads the entries of any number of keys, in bulk reads of at most 100.
///
/// KV refuses a bulk read whose values add up to more than 25 MiB
/// ([`Error::BulkTooLarge`]): such a batch is read again in halves, down to
/// single reads, so any records that can be stored can be read back.
pub(crate) async fn read_entries<S: KvStore>(store: &S, keys: &[String]) -> Result<Vec<Option<Entry>>> {
    if keys.len() <= limits::MAX_BULK_KEYS {
        return match keys {
            [] => Ok(Vec::new()),
            keys => read_chunk(store, keys).await,
        };
    }
    // Many bulk reads: together, as many in flight as the store allows.
    let mut reads = stream::iter(keys.chunks(limits::MAX_BULK_KEYS))
        .map(|chunk| read_chunk(store, chunk))
        .buffered(store.max_in_flight().max(1));
    let mut out = Vec::with_capacity(keys.len());
    while let Some(found) = reads.next().await {
        out.extend(found?);
    }
    Ok(out)
}

/// One bulk read of at most 100 keys, in halves when KV refuses it as too large.
async fn read_chunk<S: KvStore>(store: &S, chunk: &[String]) -> Result<Vec<Option<Entry>>> {
    match store.get_many(chunk).await {
        Ok(found) => Ok(found),
        Err(Error::BulkTooLarge { .. }) => read_in_halves(store, chunk).await,
        Err(e) => Err(e),
    }
}

/// Reads `keys` in ever smaller bulk reads until each is under KV's 25 MiB.
async fn read_in_halves<S: KvStore>(store: &S, keys: &[String]) -> Result<Vec<Option<Entry>>> {
    let mut found: Vec<Option<Entry>> = vec![None; keys.len()];
    // The whole batch was just refused: start with its halves.
    let mid = keys.len() / 2;
    let mut pending = vec![(mid, keys.len()), (0, mid)];
    while let Some((from, to)) = pending.pop() {
        if to == from {
            continue;
        }
        if to - from == 1 {
            found[from] = store.get(&keys[from]).await?;
            continue;
        }
        match store.get_many(&keys[from..to]).await {
            Ok(got) => {
                for (slot, entry) in found[from..to].iter_mut().zip(got) {
                    *slot = entry;
                }
            }
            Err(Error::BulkTooLarge { .. }) => {
                let mid = from + (to - from) / 2;
                pending.push((mid, to));
                pending.push((from, mid));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// [`read_entries`], values only.
pub(crate) async fn read_keys<S: KvStore>(store: &S, keys: &[String]) -> Result<Vec<Option<String>>> {
    Ok(read_entries(store, keys).await?.into_iter().map(|e| e.map(Entry::into_text)).collect())
}
