//! Listings under a prefix: pages with cursors bound to their listing, range
//! listings from a start key, the records of listed keys, unique-entry
//! lookups, counts, and a walk over every page.
//!
//! Builds on the stores and `entry`. Nothing here may depend on the
//! executor or the repository.

use crate::error::Result;
use crate::index::entry::Stored;
use crate::store::bulk::read_keys;
use crate::store::limits;
use crate::store::KvStore;

/// One page of a listing, after checking the page size and the cursor.
///
/// Every cursor handed out is the store's cursor behind a tag derived from
/// the full prefix (scope, model, index and value): `{16 hex digits}.{store
/// cursor}`. A cursor without the tag of this prefix (another scope, model or
/// index, a malformed or empty one) is refused with `InvalidCursor` before
/// any KV operation. The tag binds a cursor to its listing; it is not a
/// secret (the store's cursor is passed through as it is).
pub(crate) async fn list_page<S: KvStore>(
    store: &S,
    prefix: String,
    page: crate::store::Page,
) -> Result<crate::store::ListResult> {
    limits::check_list_limit(page.limit)?;
    let tag = cursor_tag(&prefix);
    let cursor = match page.cursor {
        None => None,
        Some(c) => match c.split_once('.') {
            Some((t, inner)) if t == tag && !inner.is_empty() => Some(inner.to_string()),
            _ => return Err(crate::error::Error::InvalidCursor { cursor: c }),
        },
    };
    let mut listed = store.list(&crate::store::ListOptions { prefix, cursor, limit: page.limit }).await?;
    listed.cursor = listed.cursor.map(|c| format!("{tag}.{c}"));
    Ok(listed)
}

/// The keys an internal page of a range listing reads: as many as one list
/// returns, so that the keys before the range's start are passed over 1,000
/// a list.
pub(crate) const RANGE_LIST_LIMIT: u32 = limits::MAX_LIST_LIMIT;

/// One page of the keys under `prefix` that are at or after `start` (a key
/// beginning with `prefix`), in byte order. KV lists by prefix only, so each
/// call makes exactly 1 list of up to 1,000 keys from where the previous page
/// stopped, and returns those at or after the bound: at most `page.limit` of
/// them. Keys before `start` are passed over, up to 1,000 a call: a page can
/// be empty while its cursor says there is more.
///
/// The cursor is `{tag}.{bound in hex}.{store cursor}`: the tag binds it to
/// `prefix` and `start`; the bound is the key after which the next page
/// begins (never before `start`); the store cursor is where the list of that
/// page starts (empty for the first), so that a page that ends inside one
/// list of 1,000 keys resumes inside it.
pub(crate) async fn list_page_from<S: KvStore>(
    store: &S,
    prefix: String,
    start: &str,
    page: crate::store::Page,
) -> Result<crate::store::ListResult> {
    limits::check_list_limit(page.limit)?;
    let tag = cursor_tag(&format!("{prefix}\n{start}"));
    let (bound, kv_cursor) = match &page.cursor {
        None => (start.to_string(), None),
        Some(c) => {
            let invalid = || crate::error::Error::InvalidCursor { cursor: c.clone() };
            let mut parts = c.splitn(3, '.');
            let (Some(t), Some(hex), Some(inner)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(invalid());
            };
            let bound = unhex(hex).ok_or_else(invalid)?;
            if t != tag || bound.as_str() < start || !bound.starts_with(&prefix) {
                return Err(invalid());
            }
            (bound, (!inner.is_empty()).then(|| inner.to_string()))
        }
    };
    let limit = page.limit as usize;
    let listed = store
        .list(&crate::store::ListOptions { prefix: prefix.clone(), cursor: kv_cursor.clone(), limit: RANGE_LIST_LIMIT })
        .await?;
    let mut keys: Vec<crate::store::ListKey> = Vec::new();
    let mut rest = listed.keys.into_iter().filter(|k| k.name.as_str() >= bound.as_str());
    for k in rest.by_ref() {
        keys.push(k);
        if keys.len() == limit {
            break;
        }
    }
    let after_last = |keys: &[crate::store::ListKey]| match keys.last() {
        // The smallest key after the last one returned.
        Some(k) => format!("{}\0", k.name),
        None => bound.clone(),
    };
    let next = if rest.next().is_some() {
        // The page ended inside this list: the next one lists it again, from after its last key.
        Some((after_last(&keys), kv_cursor.unwrap_or_default()))
    } else {
        listed.cursor.map(|c| (after_last(&keys), c))
    };
    let cursor = next.map(|(b, c)| format!("{tag}.{}.{c}", hex(&b)));
    Ok(crate::store::ListResult { keys, cursor })
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

/// The tag of cursors of listings under `prefix`: FNV-1a of its bytes, in hex.
fn cursor_tag(prefix: &str) -> String {
    let hash = prefix.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

/// Where the records of listed keys are.
pub(crate) enum Records<'a> {
    /// The listed keys are the records.
    Listed,
    /// The listed keys are secondary entries under `prefix`; each record is
    /// `{head}:{the entry's last component}`.
    Entries { prefix: &'a str, head: &'a str },
}

/// One page of keys under `prefix` and the stored JSON of their records, in
/// key order: `(listed key, record key, JSON)` for the records still there.
/// Costs 1 list + 1 bulk read per 100 keys.
pub(crate) async fn list_records<S: KvStore>(
    store: &S,
    prefix: String,
    page: crate::store::Page,
    records: Records<'_>,
) -> Result<(Vec<(String, String, String)>, Option<String>)> {
    let listed = list_page(store, prefix, page).await?;
    let names: Vec<String> = listed.keys.into_iter().map(|k| k.name).collect();
    let rec_keys: Vec<String> = match records {
        Records::Listed => names.clone(),
        Records::Entries { prefix, head } => {
            // The id is the entry's last component (a group of a leading subset
            // of the index's fields leaves the other values before it).
            names
                .iter()
                .map(|n| {
                    let rest = n.get(prefix.len()..).unwrap_or_default();
                    format!("{head}:{}", rest.rsplit(':').next().unwrap_or_default())
                })
                .collect()
        }
    };
    let values = read_keys(store, &rec_keys).await?;
    let found = names
        .into_iter()
        .zip(rec_keys)
        .zip(values)
        .filter_map(|((name, rec_key), v)| v.map(|v| (name, rec_key, v)))
        .collect();
    Ok((found, listed.cursor))
}

/// The record a unique entry at `key` names: `(record key, JSON)`, or `None`
/// when the entry or its record is missing, or the entry names no valid id.
/// Costs 2 reads.
pub(crate) async fn follow_unique<S: KvStore>(
    store: &S,
    key: &str,
    stored: &dyn Stored,
) -> Result<Option<(String, String)>> {
    limits::check_key(key)?;
    let Some(entry) = store.get(key).await? else { return Ok(None) };
    let Some(rec_key) = stored.holder_key(&String::from_utf8_lossy(&entry.value)) else { return Ok(None) };
    Ok(store.get(&rec_key).await?.map(|r| (rec_key, r.into_text())))
}

/// How many keys there are under `prefix`. Costs 1 list per 1000.
pub(crate) async fn count<S: KvStore>(store: &S, prefix: String) -> Result<u64> {
    let mut pages = Pages::new(store, prefix);
    let mut n = 0;
    while let Some(keys) = pages.next().await? {
        n += keys.len() as u64;
    }
    Ok(n)
}

/// Every key under a prefix, a page of up to 1000 at a time (1 list each),
/// through [`list_page`]: `while let Some(keys) = pages.next().await? { .. }`.
pub(crate) struct Pages<'s, S> {
    store: &'s S,
    prefix: String,
    page: Option<crate::store::Page>,
}

impl<'s, S: KvStore> Pages<'s, S> {
    /// The pages of keys under `prefix`, none read yet.
    pub(crate) fn new(store: &'s S, prefix: String) -> Self {
        Pages { store, prefix, page: Some(crate::store::Page::first(limits::MAX_LIST_LIMIT)) }
    }

    /// The next page's keys; `None` after the last page.
    pub(crate) async fn next(&mut self) -> Result<Option<Vec<crate::store::ListKey>>> {
        let Some(page) = self.page.take() else { return Ok(None) };
        let listed = list_page(self.store, self.prefix.clone(), page).await?;
        self.page = listed.cursor.map(|c| crate::store::Page::after(c, limits::MAX_LIST_LIMIT));
        Ok(Some(listed.keys))
    }
}
