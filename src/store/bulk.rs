//! Bulk reads of any number of keys: KV's bulk read takes at most 100 keys
//! and refuses values that add up to more than 25 MiB, so these split the
//! keys into reads KV accepts. Shared by the index protocol, listings and
//! the repository.

use crate::error::{Error, Result};
use crate::store::limits;
use crate::store::{Entry, KvStore};

/// Reads the entries of any number of keys, in bulk reads of at most 100.
///
/// KV refuses a bulk read whose values add up to more than 25 MiB
/// ([`Error::BulkTooLarge`]): such a batch is read again in halves, down to
/// single reads, so any records that can be stored can be read back.
pub(crate) async fn read_entries<S: KvStore>(store: &S, keys: &[String]) -> Result<Vec<Option<Entry>>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(limits::MAX_BULK_KEYS) {
        match store.get_many(chunk).await {
            Ok(found) => out.extend(found),
            Err(Error::BulkTooLarge { .. }) => out.extend(read_in_halves(store, chunk).await?),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
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
