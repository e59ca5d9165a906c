//! MemoryStore rejects what Workers KV rejects: one test per limit, plus
//! byte-order listing, cursors and expiry on an injectable clock.

use kvgen::{Error, KvStore, ListOptions, ManualClock, MemoryStore, PutOptions};
use pollster::block_on;
use serde_json::json;

const NOW: u64 = 1_800_000_000;

fn store() -> (MemoryStore, ManualClock) {
    let clock = ManualClock::new(NOW);
    (MemoryStore::with_clock(clock.clone()), clock)
}

fn put(s: &MemoryStore, key: &str, opts: PutOptions) -> kvgen::Result<()> {
    block_on(s.put(key, "v", &opts))
}

fn list(s: &MemoryStore, prefix: &str, cursor: Option<String>, limit: u32) -> kvgen::Result<kvgen::ListResult> {
    block_on(s.list(&ListOptions { prefix: prefix.into(), cursor, limit }))
}

#[test]
fn key_over_512_bytes_is_rejected() {
    let (s, _) = store();
    assert!(put(&s, &"k".repeat(512), PutOptions::default()).is_ok());
    let err = put(&s, &"k".repeat(513), PutOptions::default()).unwrap_err();
    assert!(matches!(err, Error::KeyTooLong { len: 513, .. }), "{err}");
    // Bytes, not characters: 257 two-byte characters are 514 bytes.
    let err = put(&s, &"é".repeat(257), PutOptions::default()).unwrap_err();
    assert!(matches!(err, Error::KeyTooLong { len: 514, .. }), "{err}");
    assert!(matches!(block_on(s.get(&"k".repeat(513))), Err(Error::KeyTooLong { .. })));
    assert!(matches!(block_on(s.delete(&"k".repeat(513))), Err(Error::KeyTooLong { .. })));
}

#[test]
fn empty_dot_and_dotdot_keys_are_rejected() {
    let (s, _) = store();
    for key in ["", ".", ".."] {
        assert!(matches!(put(&s, key, PutOptions::default()), Err(Error::InvalidKey { .. })), "{key:?}");
    }
    assert!(put(&s, "...", PutOptions::default()).is_ok());
}

#[test]
fn value_over_25_mib_is_rejected() {
    let (s, _) = store();
    let max = "x".repeat(25 * 1024 * 1024);
    assert!(block_on(s.put("k", &max, &PutOptions::default())).is_ok());
    let over = "x".repeat(25 * 1024 * 1024 + 1);
    assert!(matches!(block_on(s.put("k", &over, &PutOptions::default())), Err(Error::ValueTooLarge { .. })));
}

#[test]
fn metadata_over_1024_bytes_is_rejected() {
    let (s, _) = store();
    // {"m":"..."} is 8 bytes of framing.
    let ok = json!({ "m": "x".repeat(1024 - 8) });
    assert_eq!(ok.to_string().len(), 1024);
    assert!(put(&s, "k", PutOptions { metadata: Some(ok), ..Default::default() }).is_ok());
    let over = json!({ "m": "x".repeat(1024 - 7) });
    let err = put(&s, "k", PutOptions { metadata: Some(over), ..Default::default() }).unwrap_err();
    assert!(matches!(err, Error::MetadataTooLarge { size: 1025, .. }), "{err}");
}

#[test]
fn ttl_under_60_seconds_is_rejected() {
    let (s, _) = store();
    let err = put(&s, "k", PutOptions { expiration_ttl: Some(59), ..Default::default() }).unwrap_err();
    assert!(matches!(err, Error::TtlTooShort { ttl: 59, .. }), "{err}");
    assert!(put(&s, "k", PutOptions { expiration_ttl: Some(60), ..Default::default() }).is_ok());
    assert_eq!(s.expiration("k"), Some(NOW + 60));
}

#[test]
fn expiration_sooner_than_60_seconds_is_rejected() {
    let (s, _) = store();
    let err = put(&s, "k", PutOptions { expiration: Some(NOW + 59), ..Default::default() }).unwrap_err();
    assert!(matches!(err, Error::ExpirationTooSoon { .. }), "{err}");
    assert!(put(&s, "k", PutOptions { expiration: Some(NOW + 60), ..Default::default() }).is_ok());
}

#[test]
fn list_limit_over_1000_is_rejected() {
    let (s, _) = store();
    assert!(matches!(list(&s, "", None, 1001), Err(Error::ListLimit { limit: 1001 })));
    assert!(matches!(list(&s, "", None, 0), Err(Error::ListLimit { limit: 0 })));
    assert!(list(&s, "", None, 1000).is_ok());
}

#[test]
fn bulk_read_over_100_keys_is_rejected() {
    let (s, _) = store();
    let keys: Vec<String> = (0..101).map(|i| format!("k{i}")).collect();
    assert!(matches!(block_on(s.get_many(&keys)), Err(Error::BulkLimit { count: 101 })));
    assert!(matches!(block_on(s.get_many(&[])), Err(Error::BulkLimit { count: 0 })));
    assert_eq!(block_on(s.get_many(&keys[..100])).unwrap().len(), 100);
}

#[test]
fn expired_keys_vanish_from_reads_and_listings() {
    let (s, clock) = store();
    put(&s, "a", PutOptions { expiration_ttl: Some(60), ..Default::default() }).unwrap();
    put(&s, "b", PutOptions::default()).unwrap();
    clock.advance(59);
    assert!(block_on(s.get("a")).unwrap().is_some());
    clock.advance(1);
    assert!(block_on(s.get("a")).unwrap().is_none());
    let names: Vec<_> = list(&s, "", None, 10).unwrap().keys.into_iter().map(|k| k.name).collect();
    assert_eq!(names, ["b"]);
}

#[test]
fn listing_is_byte_ordered_and_pages_with_cursors() {
    let (s, _) = store();
    for key in ["p:b", "p:a", "p:B", "p:é", "p:aa", "q:a", "o:z"] {
        put(&s, key, PutOptions { metadata: Some(json!({ "k": key })), ..Default::default() }).unwrap();
    }
    let mut names = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = list(&s, "p:", cursor, 2).unwrap();
        pages += 1;
        assert!(page.keys.iter().all(|k| k.metadata == Some(json!({ "k": k.name }))));
        names.extend(page.keys.into_iter().map(|k| k.name));
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(names, ["p:B", "p:a", "p:aa", "p:b", "p:é"]);
    assert_eq!(pages, 3);
    assert!(matches!(list(&s, "p:", Some("forged".into()), 2), Err(Error::InvalidCursor { .. })));
}

#[test]
fn metadata_round_trips_through_get_and_list() {
    let (s, _) = store();
    put(&s, "k", PutOptions { metadata: Some(json!({ "n": 1, "s": "x" })), ..Default::default() }).unwrap();
    assert_eq!(block_on(s.get("k")).unwrap().unwrap().metadata, Some(json!({ "n": 1, "s": "x" })));
    assert_eq!(list(&s, "", None, 1).unwrap().keys[0].metadata, Some(json!({ "n": 1, "s": "x" })));
}
