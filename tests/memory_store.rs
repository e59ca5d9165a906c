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
    block_on(s.put(key, b"v", &opts))
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
    assert!(block_on(s.put("k", max.as_bytes(), &PutOptions::default())).is_ok());
    let over = "x".repeat(25 * 1024 * 1024 + 1);
    assert!(matches!(block_on(s.put("k", over.as_bytes(), &PutOptions::default())), Err(Error::ValueTooLarge { .. })));
}

/// Bytes that are not UTF-8: a byte-order mark, a lone continuation byte,
/// `0xff`, a truncated three-byte sequence, a surrogate's encoding, a
/// truncated two-byte sequence at the end.
const NOT_UTF8: &[u8] = &[0xef, 0xbb, 0xbf, b'a', 0x80, 0xff, 0xe4, 0xb8, b'z', 0xed, 0xa0, 0x80, 0xc3];

#[test]
fn values_are_bytes_read_back_exactly() {
    let (s, _) = store();
    block_on(s.put("bin", NOT_UTF8, &PutOptions::default())).unwrap();
    let got = block_on(s.get("bin")).unwrap().unwrap();
    assert_eq!(got.value, NOT_UTF8);
    assert_eq!(got.as_str(), None);
    assert_eq!(s.raw_bytes("bin").as_deref(), Some(NOT_UTF8));
    // Every byte value, and the empty value.
    let all: Vec<u8> = (0..=255).collect();
    block_on(s.put("all", &all, &PutOptions::default())).unwrap();
    assert_eq!(block_on(s.get("all")).unwrap().unwrap().value, all);
    block_on(s.put("empty", b"", &PutOptions::default())).unwrap();
    assert_eq!(block_on(s.get("empty")).unwrap().unwrap().value, b"");
    // Text is its UTF-8.
    block_on(s.put("text", "héllo 😀".as_bytes(), &PutOptions::default())).unwrap();
    assert_eq!(block_on(s.get("text")).unwrap().unwrap().as_str(), Some("héllo 😀"));
}

#[test]
fn bulk_reads_read_text_replacing_invalid_utf8() {
    let (s, _) = store();
    block_on(s.put("bin", NOT_UTF8, &PutOptions::default())).unwrap();
    block_on(s.put("text", "héllo".as_bytes(), &PutOptions::default())).unwrap();
    let got = block_on(s.get_many(&["bin".into(), "text".into()])).unwrap();
    // As JavaScript's TextDecoder gives it: the leading byte-order mark
    // dropped, each maximal invalid sequence one U+FFFD.
    let text = got[0].as_ref().unwrap().as_str().unwrap().to_string();
    assert_eq!(text, "a\u{fffd}\u{fffd}\u{fffd}z\u{fffd}\u{fffd}\u{fffd}\u{fffd}");
    assert_eq!(got[1].as_ref().unwrap().value, "héllo".as_bytes());
    // The single read still gives the exact bytes.
    assert_eq!(block_on(s.get("bin")).unwrap().unwrap().value, NOT_UTF8);
}

#[test]
fn value_limit_counts_bytes_of_any_value() {
    let (s, _) = store();
    let max = vec![0xffu8; 25 * 1024 * 1024];
    assert!(block_on(s.put("k", &max, &PutOptions::default())).is_ok());
    assert_eq!(block_on(s.get("k")).unwrap().unwrap().value.len(), max.len());
    let over = vec![0xffu8; 25 * 1024 * 1024 + 1];
    let err = block_on(s.put("k", &over, &PutOptions::default())).unwrap_err();
    assert!(matches!(err, Error::ValueTooLarge { size, .. } if size == over.len()), "{err}");
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
fn list_limit_over_1000_is_rejected_and_0_lists_1000() {
    let (s, _) = store();
    assert!(matches!(list(&s, "", None, 1001), Err(Error::ListLimit { limit: 1001 })));
    assert!(list(&s, "", None, 1000).is_ok());
    // Workers KV lists a page of its default size, 1000, when asked for 0.
    for i in 0..1001 {
        put(&s, &format!("k{i:04}"), PutOptions::default()).unwrap();
    }
    let page = list(&s, "", None, 0).unwrap();
    assert_eq!(page.keys.len(), 1000);
    assert!(page.cursor.is_some());
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

#[test]
fn metadata_is_measured_and_stored_as_javascript_writes_it() {
    use kvgen::limits::{js_number, metadata_json};
    for (x, js) in [
        (1.0, "1"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (100.0, "100"),
        (-12.5, "-12.5"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123456789012345680000.0, "123456789012345680000"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (u64::MAX as f64, "18446744073709552000"),
    ] {
        assert_eq!(js_number(x), js, "{x:e}");
    }
    // {"p":"…","n":[1.0 × 40]}: 1104 bytes to serde_json, 1024 to KV.
    let near = json!({"p": "p".repeat(1024 - 94), "n": vec![1.0; 40]});
    assert_eq!(near.to_string().len(), 1104);
    assert_eq!(metadata_json(&near).len(), 1024);
    let (s, _) = store();
    put(&s, "k", PutOptions { metadata: Some(near), ..Default::default() }).unwrap();
    // Read back as KV gives it: 1.0 is the integer 1.
    let got = block_on(s.get("k")).unwrap().unwrap().metadata.unwrap();
    assert_eq!(got["n"][0], json!(1));
    let over = json!({"p": "p".repeat(1025 - 94), "n": vec![1.0; 40]});
    let err = put(&s, "k", PutOptions { metadata: Some(over), ..Default::default() }).unwrap_err();
    assert!(matches!(err, Error::MetadataTooLarge { size: 1025, .. }), "{err}");
    // Escapes count as written, UTF-8 by its bytes; `null` is no metadata.
    assert_eq!(metadata_json(&json!("\n\u{1}é\u{2028}")).len(), 2 + 2 + 6 + 2 + 3);
    put(&s, "n", PutOptions { metadata: Some(json!(null)), ..Default::default() }).unwrap();
    assert_eq!(block_on(s.get("n")).unwrap().unwrap().metadata, None);
}

#[test]
fn ttl_and_expiration_bounds_are_32_bit_as_in_workers_kv() {
    let (s, _) = store();
    let max = kvgen::limits::MAX_TTL_SECS;
    assert_eq!(max, (1 << 31) - 1);
    assert_eq!(kvgen::limits::MAX_EXPIRATION, (1 << 31) - 1);
    // The largest ttl is taken, and KV keeps now + ttl, past 2^31.
    put(&s, "t", PutOptions { expiration_ttl: Some(max), ..Default::default() }).unwrap();
    assert_eq!(s.expiration("t"), Some(NOW + max));
    let err = put(&s, "t", PutOptions { expiration_ttl: Some(max + 1), ..Default::default() }).unwrap_err();
    assert!(matches!(err, Error::TtlTooLong { .. }), "{err}");
    put(&s, "e", PutOptions { expiration: Some(max), ..Default::default() }).unwrap();
    for at in [max + 1, 10_000_000_000, 1 << 53, u64::MAX] {
        let err = put(&s, "e", PutOptions { expiration: Some(at), ..Default::default() }).unwrap_err();
        assert!(matches!(err, Error::ExpirationTooLate { .. }), "{at}: {err}");
    }
    // A ttl wins over an expiration given with it, too soon or not, but an
    // expiration outside 32 bits is refused first.
    put(&s, "b", PutOptions { expiration_ttl: Some(600), expiration: Some(1), ..Default::default() }).unwrap();
    assert_eq!(s.expiration("b"), Some(NOW + 600));
    let both = PutOptions { expiration_ttl: Some(600), expiration: Some(max + 1), ..Default::default() };
    assert!(matches!(put(&s, "b", both), Err(Error::ExpirationTooLate { .. })));
}

#[test]
fn faults_are_reported_in_workers_kv_order() {
    let (s, _) = store();
    let big_meta = json!({ "m": "x".repeat(2000) });
    let big_value = "v".repeat(25 * 1024 * 1024 + 1);
    let long_key = "k".repeat(513);
    let check = |key: &str, value: &str, opts: PutOptions, kind: &str| {
        let err = block_on(s.put(key, value.as_bytes(), &opts)).unwrap_err();
        assert_eq!(err.kind(), kind, "{key:.8} {opts:?}");
    };
    let meta = || Some(big_meta.clone());
    // Out-of-range numbers (expiration first), then the key, the ttl, the
    // expiration, the metadata, the value.
    let both_late = PutOptions { expiration_ttl: Some(1 << 31), expiration: Some(1 << 31), ..Default::default() };
    check("", "v", both_late, "ExpirationTooLate");
    check("", "v", PutOptions { expiration_ttl: Some(1 << 31), ..Default::default() }, "TtlTooLong");
    check(&long_key, "v", PutOptions { expiration_ttl: Some(u64::MAX), ..Default::default() }, "TtlTooLong");
    check("", "v", PutOptions { expiration_ttl: Some(59), metadata: meta(), ..Default::default() }, "InvalidKey");
    check(".", &big_value, PutOptions { metadata: meta(), ..Default::default() }, "InvalidKey");
    check(&long_key, &big_value, PutOptions { expiration_ttl: Some(59), ..Default::default() }, "KeyTooLong");
    check(
        "k",
        &big_value,
        PutOptions { expiration_ttl: Some(59), metadata: meta(), ..Default::default() },
        "TtlTooShort",
    );
    check("k", "v", PutOptions { expiration_ttl: Some(0), expiration: Some(1), ..Default::default() }, "TtlTooShort");
    check(
        "k",
        &big_value,
        PutOptions { expiration: Some(NOW), metadata: meta(), ..Default::default() },
        "ExpirationTooSoon",
    );
    check("k", &big_value, PutOptions { metadata: meta(), ..Default::default() }, "MetadataTooLarge");
    check("k", &big_value, PutOptions::default(), "ValueTooLarge");
    // Bulk reads: the count, then each key in order, fully.
    let keys = [long_key.clone(), String::new()];
    assert_eq!(block_on(s.get_many(&keys)).unwrap_err().kind(), "KeyTooLong");
    let keys = [String::new(), long_key.clone()];
    assert_eq!(block_on(s.get_many(&keys)).unwrap_err().kind(), "InvalidKey");
    // Lists: the limit, then the prefix, then the cursor.
    let err = block_on(s.list(&ListOptions { prefix: long_key.clone(), cursor: Some("x".into()), limit: 1001 }));
    assert_eq!(err.unwrap_err().kind(), "ListLimit");
    let err = block_on(s.list(&ListOptions { prefix: long_key.clone(), cursor: Some("x".into()), limit: 10 }));
    assert_eq!(err.unwrap_err().kind(), "KeyTooLong");
}

#[test]
fn list_prefix_over_512_bytes_is_refused() {
    let (s, _) = store();
    put(&s, &"k".repeat(512), PutOptions::default()).unwrap();
    assert_eq!(list(&s, &"k".repeat(512), None, 10).unwrap().keys.len(), 1);
    let err = list(&s, &"k".repeat(513), None, 10).unwrap_err();
    assert!(matches!(err, Error::KeyTooLong { len: 513, .. }), "{err}");
}

#[test]
fn cursors_are_opaque_and_bound_to_their_prefix() {
    let (s, _) = store();
    for k in ["tenant-a/user:secret-1", "tenant-a/user:secret-2", "tenant-a/user:secret-3", "tenant-b/user:x"] {
        put(&s, k, PutOptions::default()).unwrap();
    }
    let page = list(&s, "tenant-a/", None, 1).unwrap();
    let cursor = page.cursor.unwrap();
    // Nothing of the key shows: not the text, not its hex, not its length.
    let hex: String = "tenant-a/user:secret-1".bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!cursor.contains("secret") && !cursor.contains("tenant") && !cursor.contains(&hex), "{cursor}");
    let other = list(&s, "tenant-a/user:secret-", None, 1).unwrap().cursor.unwrap();
    assert_eq!(cursor.len(), other.len());
    // Two cursors of the same position differ.
    assert_ne!(list(&s, "tenant-a/", None, 1).unwrap().cursor.unwrap(), cursor);
    // It continues its own listing ...
    let next = list(&s, "tenant-a/", Some(cursor.clone()), 1).unwrap();
    assert_eq!(next.keys[0].name, "tenant-a/user:secret-2");
    // ... and no other: another prefix, another store, a fork, an altered one.
    assert!(matches!(list(&s, "tenant-b/", Some(cursor.clone()), 1), Err(Error::InvalidCursor { .. })));
    assert!(matches!(list(&s, "", Some(cursor.clone()), 1), Err(Error::InvalidCursor { .. })));
    let (s2, _) = store();
    put(&s2, "tenant-a/user:secret-1", PutOptions::default()).unwrap();
    assert!(matches!(list(&s2, "tenant-a/", Some(cursor.clone()), 1), Err(Error::InvalidCursor { .. })));
    assert!(matches!(list(&s.fork(), "tenant-a/", Some(cursor.clone()), 1), Err(Error::InvalidCursor { .. })));
    let mut altered = cursor.clone().into_bytes();
    altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    assert!(matches!(list(&s, "tenant-a/", Some(altered), 1), Err(Error::InvalidCursor { .. })));
    // A lagging view of the same namespace takes it.
    assert!(list(&s.lagging(0), "tenant-a/", Some(cursor), 1).is_ok());
    // Cursors it did not issue: garbage, empty, the old hex form.
    for bad in ["garbage", "", "mc1.74656e616e742d61", "MA=="] {
        assert!(matches!(list(&s, "tenant-a/", Some(bad.into()), 1), Err(Error::InvalidCursor { .. })), "{bad:?}");
    }
}

#[test]
fn repositories_refuse_foreign_cursors_before_any_kv_operation() {
    use blog::User;
    use kvgen::{Metered, Page};
    let s = Metered::new(MemoryStore::new());
    let a = User::repo_scoped(&s, "a").unwrap();
    let b = User::repo_scoped(&s, "b").unwrap();
    for n in 0..3 {
        let u = kvgen_tests::scenarios::user(n, "acme");
        block_on(a.create(&u)).unwrap();
        block_on(b.create(&u)).unwrap();
    }
    let cursor = block_on(a.list(Page::first(1))).unwrap().cursor.unwrap();
    let before = s.ops();
    for (what, r) in [
        ("other scope", block_on(b.list(Page::after(cursor.clone(), 1))).map(|p| p.items.len())),
        ("other index", block_on(a.list_by_org_id("acme", Page::after(cursor.clone(), 1))).map(|p| p.items.len())),
        ("empty", block_on(a.list(Page::after("", 1))).map(|p| p.items.len())),
        ("garbage", block_on(a.list_meta(Page::after("garbage", 1))).map(|p| p.items.len())),
    ] {
        assert!(matches!(r, Err(Error::InvalidCursor { .. })), "{what}: {r:?}");
    }
    assert_eq!(s.ops().since(&before).total(), 0, "no KV operation for a refused cursor");
}

#[test]
fn bulk_read_of_values_over_25_mib_in_utf16_units_is_refused() {
    let (s, _) = store();
    let limit = kvgen::limits::MAX_BULK_VALUE_UNITS;
    block_on(s.put("big", "x".repeat(limit - 10).as_bytes(), &PutOptions::default())).unwrap();
    block_on(s.put("s", "é".repeat(10).as_bytes(), &PutOptions::default())).unwrap();
    // 10 é are 20 bytes but 10 units: exactly the limit.
    let keys = |k: &[&str]| k.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    assert!(block_on(s.get_many(&keys(&["big", "s", "missing"]))).is_ok());
    block_on(s.put("s", "😀".repeat(6).as_bytes(), &PutOptions::default())).unwrap();
    let err = block_on(s.get_many(&keys(&["big", "s"]))).unwrap_err();
    assert!(matches!(err, Error::BulkTooLarge { count: 2, size } if size == limit + 2), "{err}");
    // A key asked twice counts twice.
    assert!(matches!(block_on(s.get_many(&keys(&["big", "big"]))), Err(Error::BulkTooLarge { .. })));
    assert!(block_on(s.get("big")).is_ok());
}
