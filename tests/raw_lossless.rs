//! Raw values and free metadata read back as written, on every path:
//! a raw text value starting with U+FEFF (which KV's bulk read drops) is
//! refused before any KV operation, `repair` never rewrites a value from a
//! bulk read, `get_many_or_fetch` reads raw records as raw, and free
//! metadata that would not read back is refused before any KV operation.

use kvgen::{Error, KvModel, KvStore, MemoryStore, Metered, Page, PutOptions, WriteOptions};
use pollster::block_on;
use serde::{Deserialize, Serialize};

/// A raw text value, the other fields in metadata.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "note")]
struct Note {
    #[kv(id)]
    id: String,
    #[kv(raw)]
    body: String,
    title: String,
}

/// The same records after the model gained an `Option` field.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "note")]
struct NoteV2 {
    #[kv(id)]
    id: String,
    #[kv(raw)]
    body: String,
    title: String,
    tag: Option<String>,
}

/// A raw bytes value.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "blob")]
struct Blob {
    #[kv(id)]
    id: String,
    #[kv(raw)]
    data: Vec<u8>,
}

/// A JSON record.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", prefix = "item")]
struct Item {
    #[kv(id)]
    id: String,
    n: u32,
}

const BOM_TEXT: &str = "\u{feff}starts with a byte-order mark";

#[test]
fn a_raw_text_value_starting_with_a_byte_order_mark_is_refused_before_any_kv_operation() {
    let s = Metered::new(MemoryStore::new());
    let notes = Note::repo(&s);
    let bom = Note { id: "n1".into(), body: BOM_TEXT.into(), title: "t".into() };
    for (what, got) in [
        ("put", block_on(notes.put(&bom))),
        ("create", block_on(notes.create(&bom))),
        ("put_with", block_on(notes.put_with(&bom, WriteOptions::ttl(3600)))),
        ("put_with_metadata", block_on(notes.put_with_metadata(&bom, &1, WriteOptions::default()))),
    ] {
        assert!(matches!(got, Err(Error::Serialization { .. })), "{what}: {got:?}");
    }
    let many = block_on(notes.put_many(std::slice::from_ref(&bom))).unwrap();
    assert!(matches!(many[..], [Err(Error::Serialization { .. })]), "put_many: {many:?}");
    assert_eq!(s.ops().total(), 0, "refused before any KV operation: {}", s.ops());
    // A U+FEFF elsewhere, and raw bytes starting with its bytes, are stored and read back on every path.
    let inner = Note { id: "n2".into(), body: "a\u{feff}b".into(), title: "t".into() };
    block_on(notes.put(&inner)).unwrap();
    assert_eq!(block_on(notes.get_many(&["n2".to_string()])).unwrap(), vec![Some(inner.clone())]);
    assert_eq!(block_on(notes.list(Page::first(10))).unwrap().items, vec![inner]);
    let blobs = Blob::repo(&s);
    let b = Blob { id: "b".into(), data: BOM_TEXT.as_bytes().to_vec() };
    block_on(blobs.put(&b)).unwrap();
    assert_eq!(block_on(blobs.get_many(&["b".to_string()])).unwrap(), vec![Some(b.clone())]);
    assert_eq!(block_on(blobs.list(Page::first(10))).unwrap().items, vec![b]);
}

#[test]
fn repair_never_rewrites_a_value_from_a_bulk_read() {
    let s = MemoryStore::new();
    // Written by other code (or before kvgen refused it): a value that KV's bulk read shortens.
    let meta = serde_json::json!({"title": "t"});
    let opts = PutOptions { metadata: Some(meta), ..PutOptions::default() };
    block_on(s.put("note:n1", BOM_TEXT.as_bytes(), &opts)).unwrap();
    // The model gained an `Option` field: the record's metadata is out of date, repair rewrites it.
    let report = block_on(NoteV2::repo(&s).repair()).unwrap();
    assert_eq!(report.mismatched, 1, "{report}");
    let stored = block_on(s.get("note:n1")).unwrap().unwrap();
    assert_eq!(stored.value, BOM_TEXT.as_bytes(), "repair kept the stored bytes: {:?}", stored.as_str());
    assert_eq!(stored.metadata.as_ref().map(|m| m["tag"].is_null()), Some(true), "{:?}", stored.metadata);
    assert!(block_on(NoteV2::repo(&s).verify()).unwrap().is_clean());
    // A JSON record written by other code, with a byte that is not UTF-8 (the bulk read gives U+FFFD), and no metadata.
    let json: &[u8] = b"{\"id\":\"i1\",\"n\":1,\"other\":\"\xff\"}";
    block_on(s.put("item:i1", json, &PutOptions::default())).unwrap();
    let report = block_on(Item::repo(&s).repair()).unwrap();
    assert_eq!(report.mismatched, 1, "{report}");
    let stored = block_on(s.get("item:i1")).unwrap().unwrap();
    assert_eq!(stored.value, json, "repair kept the stored bytes: {:?}", String::from_utf8_lossy(&stored.value));
    assert!(stored.metadata.is_some_and(|m| m["$exp"].is_null()));
    assert!(block_on(Item::repo(&s).verify()).unwrap().is_clean());
}

#[test]
fn get_many_or_fetch_reads_cached_raw_records_as_raw() {
    let s = Metered::new(MemoryStore::new());
    let notes = Note::repo(&s);
    let cached = Note { id: "n1".into(), body: "cached, not JSON".into(), title: "t".into() };
    block_on(notes.put(&cached)).unwrap();
    let blobs = Blob::repo(&s);
    let blob = Blob { id: "b1".into(), data: vec![0xff, 0, 0x80] };
    block_on(blobs.put(&blob)).unwrap();
    s.reset();
    let mut asked = Vec::new();
    let got = block_on(notes.get_many_or_fetch(&["n1".to_string()], WriteOptions::default(), |ids| {
        asked.extend(ids.into_iter().cloned());
        async { Ok(vec![Note { id: "n1".into(), body: "from the origin".into(), title: "o".into() }]) }
    }))
    .unwrap();
    assert!(asked.is_empty(), "the origin was asked for {asked:?}");
    assert_eq!(got, vec![Some(cached.clone())]);
    let got = block_on(blobs.get_many_or_fetch(&["b1".to_string()], WriteOptions::default(), |ids| {
        asked.extend(ids.into_iter().cloned());
        async { Ok(Vec::new()) }
    }))
    .unwrap();
    assert!(asked.is_empty(), "the origin was asked for {asked:?}");
    assert_eq!(got, vec![Some(blob)]);
    assert_eq!(s.ops().writes, 0, "nothing overwritten: {}", s.ops());
    assert_eq!(block_on(notes.get(&cached.id)).unwrap(), Some(cached));
}

#[test]
fn free_metadata_that_would_not_read_back_is_refused_before_any_kv_operation() {
    let s = Metered::new(MemoryStore::new());
    let items = Item::repo(&s);
    let notes = Note::repo(&s);
    let item = Item { id: "i1".into(), n: 1 };
    let note = Note { id: "n1".into(), body: "b".into(), title: "t".into() };
    let beyond = serde_json::json!({"n": 9_007_199_254_740_993u64});
    let negative = serde_json::json!({"deep": [{"n": -9_007_199_254_740_993i64}]});
    #[derive(Serialize)]
    struct Float {
        x: f64,
    }
    for (what, got) in [
        ("2^53 + 1", block_on(items.put_with_metadata(&item, &beyond, WriteOptions::default()))),
        ("-(2^53 + 1)", block_on(items.create_with_metadata(&item, &negative, WriteOptions::default()))),
        ("NaN", block_on(items.put_with_metadata(&item, &Float { x: f64::NAN }, WriteOptions::default()))),
        ("inf", block_on(items.update_with_metadata(&item, &[f64::INFINITY], WriteOptions::default()))),
        ("raw NaN", block_on(notes.put_with_metadata(&note, &Float { x: f64::NAN }, WriteOptions::default()))),
        // A double holds 2^60 exactly, but JavaScript writes it as 1152921504606847000.
        ("2^60", block_on(items.put_with_metadata(&item, &[1u64 << 60], WriteOptions::default()))),
        ("raw 2^53 + 1", block_on(notes.put_with_metadata(&note, &beyond, WriteOptions::default()))),
    ] {
        assert!(matches!(got, Err(Error::Serialization { .. })), "{what}: {got:?}");
    }
    assert_eq!(s.ops().total(), 0, "refused before any KV operation: {}", s.ops());
    // What reads back exactly is stored: 2^53, 10.0 (stored as 10), -0.5.
    let fine = serde_json::json!({"a": 9_007_199_254_740_992u64, "c": 10.0, "d": -0.5, "e": 1e300});
    block_on(items.put_with_metadata(&item, &fine, WriteOptions::default())).unwrap();
    let (_, back) = block_on(items.get_with_metadata::<serde_json::Value>(&item.id)).unwrap().unwrap();
    let back = back.unwrap();
    assert_eq!(back["a"].as_u64(), Some(9_007_199_254_740_992));
    assert_eq!(back["c"].as_f64(), Some(10.0));
    assert_eq!(back["d"].as_f64(), Some(-0.5));
    assert_eq!(back["e"].as_f64(), Some(1e300));
    block_on(items.put_with_metadata(&item, &Float { x: 0.1 }, WriteOptions::default())).unwrap();
    let (_, back) = block_on(items.get_with_metadata::<serde_json::Value>(&item.id)).unwrap().unwrap();
    assert_eq!(back.unwrap()["x"].as_f64(), Some(0.1));
}
