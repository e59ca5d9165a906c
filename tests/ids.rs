//! Generated ids: `#[kv(id, generate = "..")]` and `create_new`, and the
//! formats of `kvgen::id`.

use kvgen::id::{self, IdKind};
use kvgen::{KvModel, MemoryStore, Metered};
use pollster::block_on;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Order {
    #[kv(id, generate = "ulid")]
    id: String,
    #[kv(unique)]
    reference: String,
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Event {
    #[kv(id, generate = "uuid_v7")]
    id: String,
    what: String,
}

#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Token {
    #[kv(id, generate = "uuid_v4")]
    id: String,
}

fn is_crockford(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b))
}

/// `xxxxxxxx-xxxx-Vxxx-Nxxx-xxxxxxxxxxxx`, lowercase hex, version `v`, variant 10.
fn is_uuid(s: &str, v: char) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        && parts[2].starts_with(v)
        && parts[3].starts_with(['8', '9', 'a', 'b'])
}

#[test]
fn create_new_fills_the_id_stores_the_record_and_returns_the_id() {
    let s = Metered::new(MemoryStore::new());
    let orders = Order::repo(&s);
    let mut draft = Order { id: String::new(), reference: "r1".into() };
    let id = block_on(orders.create_new(&mut draft)).unwrap();
    assert_eq!(draft.id, id);
    assert!(is_crockford(&id), "{id}");
    assert_eq!(block_on(orders.get(&id)).unwrap(), Some(draft.clone()));
    // It costs what create costs: 1 bulk read, the record and its unique entry.
    let o = s.reset();
    assert_eq!((o.bulk_reads, o.writes), (1, 2));
    // Its unique values are checked as create's are.
    let mut again = Order { id: String::new(), reference: "r1".into() };
    assert!(matches!(block_on(orders.create_new(&mut again)), Err(kvgen::Error::UniqueViolation { .. })));

    let mut e = Event { id: String::new(), what: "signup".into() };
    let id = block_on(Event::repo(&s).create_new(&mut e)).unwrap();
    assert!(is_uuid(&id, '7'), "{id}");
    let mut t = Token { id: String::new() };
    let id = block_on(Token::repo(&s).create_new(&mut t)).unwrap();
    assert!(is_uuid(&id, '4'), "{id}");
    assert_eq!(block_on(Token::repo(&s).count()).unwrap(), 1);
}

#[test]
fn create_new_with_writes_the_options_and_the_id() {
    let s = MemoryStore::with_clock(kvgen::ManualClock::new(1_800_000_000));
    let orders = Order::repo(&s);
    let mut draft = Order { id: String::new(), reference: "r2".into() };
    let id = block_on(orders.create_new_with(&mut draft, kvgen::WriteOptions::ttl(3600))).unwrap();
    assert_eq!(draft.id, id);
    // The record and its entry carry the ttl: both expire an hour from now.
    let at = 1_800_000_000 + 3600;
    assert_eq!(block_on(orders.expiration(&id)).unwrap(), Some(Some(at)));
    let entry = block_on(kvgen::KvStore::list(
        &s,
        &kvgen::ListOptions { prefix: "order.reference:".into(), cursor: None, limit: 10 },
    ))
    .unwrap();
    assert_eq!(entry.keys.iter().map(|k| k.expiration).collect::<Vec<_>>(), vec![Some(at)]);
    // The ttl is checked as create_with checks it: too short, nothing written.
    let mut short = Order { id: String::new(), reference: "r3".into() };
    let err = block_on(orders.create_new_with(&mut short, kvgen::WriteOptions::ttl(30))).unwrap_err();
    assert!(matches!(err, kvgen::Error::TtlTooShort { .. }), "{err:?}");
    assert!(block_on(orders.find_by_reference("r3")).unwrap().is_none());
}

#[test]
fn every_call_that_takes_one_id_takes_a_str_for_a_string_id() {
    let s = MemoryStore::new();
    let orders = Order::repo(&s);
    block_on(orders.create(&Order { id: "o1".into(), reference: "r1".into() })).unwrap();
    let id: &str = "o1";
    assert!(block_on(orders.get(id)).unwrap().is_some());
    assert!(block_on(orders.get_with_meta(id)).unwrap().is_some());
    assert!(block_on(orders.get_with_metadata::<serde_json::Value>(id)).unwrap().is_some());
    assert!(block_on(orders.exists(id)).unwrap());
    assert_eq!(block_on(orders.expiration(id)).unwrap(), Some(None));
    // A `&str` and its `String` name one key.
    assert_eq!(block_on(orders.get(&id.to_string())).unwrap(), block_on(orders.get(id)).unwrap());
    assert!(block_on(orders.delete(id)).unwrap());
    assert!(!block_on(orders.exists(id)).unwrap());
}

#[test]
fn ids_are_distinct() {
    for kind in [IdKind::Ulid, IdKind::UuidV7, IdKind::UuidV4] {
        let ids: HashSet<String> = (0..10_000).map(|_| id::new(kind).unwrap()).collect();
        assert_eq!(ids.len(), 10_000, "{kind:?}");
    }
}

#[test]
fn time_ordered_ids_sort_by_their_time() {
    // The encodings of given times and random bits: a later millisecond
    // sorts after, whatever the random bits.
    let (lo, hi) = ([0xFF; 10], [0x00; 10]);
    assert!(id::ulid_from(1_700_000_000_000, lo) < id::ulid_from(1_700_000_000_001, hi));
    assert!(id::uuid_v7_from(1_700_000_000_000, [0xFF; 16]) < id::uuid_v7_from(1_700_000_000_001, [0; 16]));
    // Known values: time 0 and all-zero randomness, the largest time and all ones.
    assert_eq!(id::ulid_from(0, [0; 10]), "00000000000000000000000000");
    assert_eq!(id::ulid_from(0xFFFF_FFFF_FFFF, [0xFF; 10]), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    assert_eq!(id::ulid_from(1, [0; 10]), "00000000010000000000000000");
    assert_eq!(id::uuid_v7_from(0x0123_4567_89AB, [0; 16]), "01234567-89ab-7000-8000-000000000000");
    assert_eq!(id::uuid_v4_from([0xFF; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    assert!(is_crockford(&id::new(IdKind::Ulid).unwrap()));
    assert!(is_uuid(&id::new(IdKind::UuidV7).unwrap(), '7'));
    assert!(is_uuid(&id::new(IdKind::UuidV4).unwrap(), '4'));
}

#[test]
fn schema_first_models_take_generate_too() {
    let path = std::path::Path::new("kvgen.toml");
    let toml = r#"
[models.Order]
binding = "APP"

[models.Order.fields]
id = { type = "String", id = true, generate = "uuid_v7" }
total = "u32"

[models.Bad]
binding = "APP"

[models.Bad.fields]
id = { type = "u64", id = true, generate = "ulid" }
"#;
    let config = kvgen_codegen::config::ConfigFile::parse(path, toml.into()).unwrap();
    let Err(err) = kvgen_codegen::project::Project::build(config, &[], &[]) else { panic!("Bad is refused") };
    let err = err.to_string();
    assert!(err.contains("model `Bad`: a generated id is a `String`; this id is `u64`"), "{err}");
    assert!(!err.contains("Order"), "{err}");
    let good = toml.split("[models.Bad]").next().unwrap();
    let config = kvgen_codegen::config::ConfigFile::parse(path, good.into()).unwrap();
    let project = kvgen_codegen::project::Project::build(config, &[], &[]).unwrap();
    let rust = kvgen_codegen::output::rust(&project).unwrap();
    assert!(rust.contains("generate = \"uuid_v7\""), "{rust}");
}
