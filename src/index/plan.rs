//! The index protocol's decisions, without I/O: what a write is
//! ([`Plan`]), the checks made before its first KV operation
//! ([`prepare`]), and, given what its first read found, every put it makes
//! and in which order ([`decide`]). The executor (`exec`) makes the reads and
//! applies the steps; everything here is a pure function of its arguments,
//! unit-tested below without a store.
//!
//! Builds on `entry`, the model layer and the store's types (no store
//! call). Nothing here may depend on the executor.

use crate::error::{Error, Result};
use crate::index::entry::{violation, IndexEntry, Stored};
use crate::model::{IndexDef, IndexKind};
use crate::store::limits;
use crate::store::{Entry, PutOptions};
use serde_json::Value;

/// What a write must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Insert only.
    Create,
    /// Replace only.
    Update,
    /// Either.
    Put,
}

/// When the written record expires, as the call asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Keep the stored record's expiry (none for a new record).
    Keep,
    /// Never.
    Never,
    /// `ttl` seconds from now.
    Ttl(u64),
    /// At this time, seconds since the epoch.
    At(u64),
}

/// The metadata field of a record that carries its absolute expiration:
/// KV's reads return no expiration, and a write that keeps a record's expiry
/// (and its index entries' with it) must know it.
pub const EXPIRATION_FIELD: &str = "$exp";

/// The metadata field of a record that carries the free metadata its last
/// write gave (`*_with_metadata`), when it gave some.
pub const EXTRA_FIELD: &str = "$meta";

/// A record's metadata: its `#[kv(meta)]` projection (an object, or none),
/// with its expiration added (`null` for none), and the write's free
/// metadata, if any. `$exp` is always written, so that a record without it
/// was not written by this version of kvgen.
pub(crate) fn record_metadata(projection: Option<&Value>, extra: Option<&Value>, expiration: Option<u64>) -> Value {
    let mut m = match projection {
        Some(Value::Object(m)) => m.clone(),
        _ => serde_json::Map::with_capacity(1),
    };
    m.insert(EXPIRATION_FIELD.into(), expiration.map_or(Value::Null, Value::from));
    if let Some(extra) = extra {
        m.insert(EXTRA_FIELD.into(), extra.clone());
    }
    Value::Object(m)
}

/// The free metadata a record's stored metadata holds.
pub(crate) fn stored_extra(metadata: Option<&Value>) -> Option<&Value> {
    metadata?.as_object()?.get(EXTRA_FIELD)
}

/// What a record's stored metadata says of its expiration: `Some(None)` for
/// none, `None` when the metadata does not say (not written by kvgen, or
/// altered).
pub(crate) fn stored_expiration(metadata: Option<&Value>) -> Option<Option<u64>> {
    match metadata?.as_object()?.get(EXPIRATION_FIELD)? {
        Value::Null => Some(None),
        v => v.as_u64().map(Some),
    }
}

/// A record's metadata less its expiration and free metadata: the
/// `#[kv(meta)]` projection.
pub(crate) fn projection(metadata: Option<Value>) -> Option<Value> {
    match metadata {
        Some(Value::Object(mut m)) if m.contains_key(EXPIRATION_FIELD) => {
            m.remove(EXPIRATION_FIELD);
            m.remove(EXTRA_FIELD);
            (!m.is_empty()).then_some(Value::Object(m))
        }
        other => other,
    }
}

/// One write, with everything model-specific worked out.
pub(crate) struct Plan {
    pub model: &'static str,
    pub indexes: &'static [IndexDef],
    pub mode: Mode,
    /// The encoded id.
    pub id: String,
    pub rec_key: String,
    /// The record's value: its JSON, or a raw model's raw value.
    pub value: Vec<u8>,
    pub entries: Vec<IndexEntry>,
    /// The `#[kv(meta)]` projection.
    pub projection: Option<Value>,
    /// Free metadata of this write, for the record only.
    pub extra: Option<Value>,
    pub expiry: Expiry,
}

/// Whether expiry `a` is no sooner than `b` (`None` is never).
fn lasts_as_long(a: Option<u64>, b: Option<u64>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a >= b,
    }
}

/// A write whose checks passed, its reads not yet made.
pub(crate) struct Prepared {
    plan: Plan,
    /// The expiration the call decided (`Some(None)`: never), or `None`
    /// when it keeps the stored one.
    fixed: Option<Option<u64>>,
    now: u64,
    /// What the write reads first: the record key, then its unique entries;
    /// empty for a blind write (see [`prepare`]).
    keys: Vec<String>,
}

impl Prepared {
    /// The record key.
    pub(crate) fn rec_key(&self) -> &str {
        &self.plan.rec_key
    }
}

/// Checks every limit of a write before its first KV operation, turns its
/// ttl into an expiration with the clock reading `now`, and works out what
/// it must read.
///
/// A put of a model with no index whose expiry the call decides (a ttl, an
/// expiration, `permanent`, or the model's ttl) is blind: it reads nothing.
/// With no index there is nothing to check or move, and the old record's
/// expiry is not needed; only keeping the stored expiry needs the old record
/// (and create's `AlreadyExists`, update's `NotFound` need to know whether
/// there is one).
pub(crate) fn prepare(now: u64, plan: Plan) -> Result<Prepared> {
    let rec_key = &plan.rec_key;
    // Every limit is checked before the first write of the operation.
    limits::check_key(rec_key)?;
    for e in &plan.entries {
        limits::check_key(&e.key)?;
    }
    limits::check_value(rec_key, &plan.value)?;
    let fixed = match plan.expiry {
        Expiry::Ttl(ttl) => Some(Some(limits::ttl_to_expiration(rec_key, ttl, now)?)),
        Expiry::At(at) => {
            limits::check_expiration(rec_key, at, now)?;
            Some(Some(at))
        }
        Expiry::Never => Some(None),
        Expiry::Keep => None,
    };
    // The metadata with the largest `$exp` it can have, so a write is never
    // refused for its metadata after its first KV operation.
    let widest = record_metadata(plan.projection.as_ref(), plan.extra.as_ref(), Some(limits::MAX_EXPIRATION));
    limits::check_metadata(rec_key, &widest)?;
    let blind = plan.indexes.is_empty() && plan.mode == Mode::Put && fixed.is_some();
    let keys = if blind {
        Vec::new()
    } else {
        let unique = plan.entries.iter().filter(|e| plan.indexes[e.index].kind == IndexKind::Unique);
        std::iter::once(rec_key.clone()).chain(unique.map(|e| e.key.clone())).collect()
    };
    Ok(Prepared { plan, fixed, now, keys })
}

/// A stored record's `#[kv(meta)]` projection, from its metadata.
fn projection_of(metadata: Option<&Value>) -> Option<Value> {
    projection(metadata.cloned())
}

/// The entries of strict indexes (none, and no allocation, for most models).
pub(crate) fn strict_entries(indexes: &[IndexDef], entries: &[IndexEntry]) -> Vec<IndexEntry> {
    entries.iter().filter(|e| indexes[e.index].strict).cloned().collect()
}

/// [`entries_pointing_to`], given what the unique entries of `entries` hold,
/// in order.
pub(crate) fn pointing_to(
    indexes: &[IndexDef],
    entries: Vec<IndexEntry>,
    id: &str,
    held: &[Option<String>],
) -> Vec<IndexEntry> {
    let mut held = held.iter();
    entries
        .into_iter()
        .filter(|e| match indexes[e.index].kind {
            IndexKind::Unique => held.next().and_then(|h| h.as_deref()) == Some(id),
            IndexKind::Secondary => true,
        })
        .collect()
}

/// One put a write makes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Put {
    pub key: String,
    pub value: Vec<u8>,
    pub opts: PutOptions,
}

/// What a write does once its reads are in, in the protocol's order:
/// 1. `before`: entries the record will need that may not be in place, put
///    before the record (no order among them);
/// 2. `record`: the record;
/// 3. `after`: kept entries whose expiry shrinks (best effort);
/// 4. `dropped`: old entries the record no longer carries, released on the
///    coordinator when strict, and deleted where they still point to the
///    record (best effort).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Steps {
    pub indexes: &'static [IndexDef],
    /// The encoded id.
    pub id: String,
    pub before: Vec<Put>,
    pub record: Put,
    pub after: Vec<Put>,
    pub dropped: Vec<IndexEntry>,
}

/// A unique entry of the write held by another record: a conflict unless
/// that record, once read, no longer carries the value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Contest {
    pub entry: IndexEntry,
    /// The key of the record the entry names.
    pub holder_key: String,
    /// That record's encoded id.
    pub holder_id: String,
}

/// A write decided from its reads: the holders to check, then the steps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub model: &'static str,
    pub rec_key: String,
    pub contested: Vec<Contest>,
    pub steps: Steps,
}

/// What the first read of a write found, in the order of [`Prepared`]'s keys:
/// the stored record, then the values of the write's unique entries.
pub(crate) struct Found {
    pub old: Option<Entry>,
    pub held: Vec<Option<String>>,
}

impl Prepared {
    /// Whether the write reads nothing first (see [`prepare`]).
    pub(crate) fn is_blind(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys the write reads first.
    pub(crate) fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The index entries the record needs.
    pub(crate) fn entries(&self) -> &[IndexEntry] {
        &self.plan.entries
    }

    /// What the first read found, refused when the record's existence is not
    /// what the mode needs (create: none; update: one).
    pub(crate) fn found(&self, got: Vec<Option<Entry>>) -> Result<Found> {
        let mut got = got.into_iter();
        let old = got.next().flatten();
        let held = got.map(|e| e.map(Entry::into_text)).collect();
        match (self.plan.mode, &old) {
            (Mode::Create, Some(_)) => {
                Err(Error::AlreadyExists { model: self.plan.model, key: self.plan.rec_key.clone() })
            }
            (Mode::Update, None) => Err(Error::NotFound { model: self.plan.model, key: self.plan.rec_key.clone() }),
            _ => Ok(Found { old, held }),
        }
    }
}

/// Every key a write touches once its first read (`got`, in the order of
/// its keys) is in: what it reads and writes, the old record's entries it
/// may delete, and the records holding its unique values, which it reads.
/// Writes of a batch whose keys are disjoint can run together.
pub(crate) fn touches(prepared: &Prepared, got: &[Option<Entry>], stored: &dyn Stored) -> Vec<String> {
    let plan = &prepared.plan;
    let mut keys: Vec<String> = prepared.keys.clone();
    keys.push(plan.rec_key.clone());
    keys.extend(plan.entries.iter().map(|e| e.key.clone()));
    if let Some(Some(old)) = got.first() {
        if let Some(old) = stored.entries_of(&plan.rec_key, &String::from_utf8_lossy(&old.value)) {
            keys.extend(old.into_iter().map(|e| e.key));
        }
    }
    for held in got.iter().skip(1).flatten() {
        let held = String::from_utf8_lossy(&held.value);
        if held != plan.id {
            keys.extend(stored.holder_key(&held));
        }
    }
    keys
}

/// The steps of a write that reads nothing first: the record alone.
pub(crate) fn blind(prepared: Prepared) -> Steps {
    let Prepared { plan, fixed, .. } = prepared;
    let expiration = fixed.flatten();
    let metadata = record_metadata(plan.projection.as_ref(), plan.extra.as_ref(), expiration);
    Steps {
        indexes: plan.indexes,
        id: plan.id,
        before: Vec::new(),
        record: Put {
            key: plan.rec_key,
            value: plan.value,
            opts: PutOptions { expiration, expiration_ttl: None, metadata: Some(metadata) },
        },
        after: Vec::new(),
        dropped: Vec::new(),
    }
}

/// Decides a write from what its first read found and the old record's
/// expiry (`old_exp`, which the executor learns from the record's metadata
/// or, when that does not say, from a listing). Pure: no KV operation.
///
/// An entry held by another id is contested: a conflict only if that record
/// still carries the value, or cannot be read ([`check_contested`]). Entries
/// are put before the record when they may not be in place, or their expiry
/// grows (so no entry ever expires before its record); kept entries whose
/// expiry shrinks are put after it. An unreadable old record may carry any
/// of the values: its entries are treated as kept, and may be missing.
pub(crate) fn decide(prepared: Prepared, found: Found, old_exp: Option<u64>, stored: &dyn Stored) -> Decision {
    let Prepared { plan, fixed, now, keys: _ } = prepared;
    let Plan { model, indexes, mode: _, id, rec_key, value, entries, projection, extra, expiry: _ } = plan;
    let Found { old, held } = found;
    let kind = |e: &IndexEntry| indexes[e.index].kind;
    let unique: Vec<&IndexEntry> = entries.iter().filter(|e| kind(e) == IndexKind::Unique).collect();
    let expiration = match fixed {
        Some(at) => at,
        // Kept, but at least KV's minimum from now: KV refuses a sooner one.
        None => old_exp.map(|at| at.max(now + limits::MIN_TTL_SECS)),
    };
    let metadata = record_metadata(projection.as_ref(), extra.as_ref(), expiration);

    let contested: Vec<Contest> = unique
        .iter()
        .zip(&held)
        .filter_map(|(e, h)| {
            let h = h.as_ref().filter(|h| **h != id)?;
            Some(Contest { entry: (*e).clone(), holder_key: stored.holder_key(h)?, holder_id: h.clone() })
        })
        .collect();

    // What the old record needs; `None` when it is unreadable (its entries
    // are then unknown: every entry is written, none removed).
    let old_entries: Option<Vec<IndexEntry>> = match &old {
        Some(e) => stored.entries_of(&rec_key, &String::from_utf8_lossy(&e.value)),
        None => Some(Vec::new()),
    };
    // Secondary entries carry the metadata projection: rewritten when it changes.
    let old_projection = old.as_ref().and_then(|e| projection_of(e.metadata.as_ref()));
    let meta_changed = old.is_some() && old_projection != projection;
    // Whether a unique entry already holds this record's id.
    let points_here =
        |e: &IndexEntry| unique.iter().zip(&held).any(|(u, h)| u.key == e.key && h.as_deref() == Some(id.as_str()));
    // The expiry the old record's entries have: unknown counts as never, so
    // that entries are only ever written before the record when that makes
    // them last at least as long as they did.
    let same_expiry = old_exp == expiration;
    let growing = lasts_as_long(expiration, old_exp);
    let unknown = old.is_some() && old_entries.is_none();

    let entry_put = |e: &IndexEntry, expiration: Option<u64>| {
        let (value, metadata) = match kind(e) {
            IndexKind::Unique => (id.as_bytes().to_vec(), None),
            IndexKind::Secondary => (Vec::new(), projection.clone()),
        };
        Put { key: e.key.clone(), value, opts: PutOptions { expiration, expiration_ttl: None, metadata } }
    };
    let mut before = Vec::new();
    let mut after = Vec::new();
    for e in &entries {
        let kept = old_entries.as_ref().is_some_and(|old| old.contains(e));
        if !kept && !unknown {
            before.push(entry_put(e, expiration));
            continue;
        }
        let current = kept
            && match kind(e) {
                IndexKind::Unique => points_here(e),
                IndexKind::Secondary => !meta_changed,
            };
        if current && same_expiry {
            continue;
        }
        if growing {
            before.push(entry_put(e, expiration));
            continue;
        }
        // The expiry shrinks: the entry keeps the old expiry until the
        // record is written. One that may not name this record yet is put
        // right first, with the old expiry.
        if !current && (unknown || kind(e) == IndexKind::Unique) {
            before.push(entry_put(e, old_exp));
        }
        after.push(entry_put(e, expiration));
    }
    let dropped = match old_entries {
        Some(old) => old.into_iter().filter(|e| !entries.contains(e)).collect(),
        None => Vec::new(),
    };
    let record = Put {
        key: rec_key.clone(),
        value,
        opts: PutOptions { expiration, expiration_ttl: None, metadata: Some(metadata) },
    };
    Decision { model, rec_key, contested, steps: Steps { indexes, id, before, record, after, dropped } }
}

/// Checks the contested entries of `decision` against their holders as read
/// (`holders`, in the order of `decision.contested`; `None`: the holder is
/// gone). A holder that still carries the value, or cannot be read, is a
/// [`Error::UniqueViolation`].
pub(crate) fn check_contested(decision: &Decision, holders: &[Option<String>], stored: &dyn Stored) -> Result<()> {
    for (c, holder) in decision.contested.iter().zip(holders) {
        let Some(json) = holder else { continue };
        if stored.carries_entry(&c.holder_key, json, c.entry.index, &c.entry.key) != Some(false) {
            let steps = &decision.steps;
            let holder = stored.display_id(&c.holder_id);
            return Err(violation(decision.model, steps.indexes, &decision.rec_key, &steps.id, &c.entry, &holder));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The decisions of the write protocol, on a model `user` with a unique
    //! index `email` and a secondary index `org`, its stored records written
    //! as `email,org`.

    use super::*;

    const INDEXES: &[IndexDef] = &[
        IndexDef { name: "email", kind: IndexKind::Unique, fields: &["email"], strict: false },
        IndexDef { name: "org", kind: IndexKind::Secondary, fields: &["org"], strict: false },
    ];
    const NOW: u64 = 1_000_000;

    struct Users;

    fn entries(id: &str, email: &str, org: &str) -> Vec<IndexEntry> {
        vec![
            IndexEntry { index: 0, key: format!("user.email:{email}") },
            IndexEntry { index: 1, key: format!("user.org:{org}:{id}") },
        ]
    }

    impl Stored for Users {
        fn entries_of(&self, key: &str, json: &str) -> Option<Vec<IndexEntry>> {
            let (email, org) = json.split_once(',')?;
            Some(entries(key.strip_prefix("user:")?, email, org))
        }
        fn carries_entry(&self, key: &str, json: &str, index: usize, entry: &str) -> Option<bool> {
            Some(self.entries_of(key, json)?.iter().any(|e| e.index == index && e.key == entry))
        }
        fn holder_key(&self, encoded_id: &str) -> Option<String> {
            Some(format!("user:{encoded_id}"))
        }
        fn display_id(&self, encoded_id: &str) -> String {
            encoded_id.to_string()
        }
    }

    fn prepared(mode: Mode, id: &str, email: &str, org: &str, expiry: Expiry) -> Prepared {
        let plan = Plan {
            model: "User",
            indexes: INDEXES,
            mode,
            id: id.into(),
            rec_key: format!("user:{id}"),
            value: format!("{email},{org}").into_bytes(),
            entries: entries(id, email, org),
            projection: None,
            extra: None,
            expiry,
        };
        prepare(NOW, plan).unwrap()
    }

    fn stored(email: &str, org: &str, exp: Option<u64>) -> Option<Entry> {
        Some(Entry { value: format!("{email},{org}").into_bytes(), metadata: Some(record_metadata(None, None, exp)) })
    }

    fn text(s: &str) -> Option<Entry> {
        Some(Entry { value: s.as_bytes().to_vec(), metadata: None })
    }

    fn keys(puts: &[Put]) -> Vec<&str> {
        puts.iter().map(|p| p.key.as_str()).collect()
    }

    #[test]
    fn a_create_puts_every_entry_before_the_record_and_drops_nothing() {
        let p = prepared(Mode::Create, "u1", "a@x", "o1", Expiry::Keep);
        assert_eq!(p.keys(), ["user:u1", "user.email:a@x"]);
        let found = p.found(vec![None, None]).unwrap();
        let d = decide(p, found, None, &Users);
        assert!(d.contested.is_empty());
        assert_eq!(keys(&d.steps.before), ["user.email:a@x", "user.org:o1:u1"]);
        assert_eq!(d.steps.before[0].value, b"u1");
        assert_eq!(d.steps.record.key, "user:u1");
        assert!(d.steps.after.is_empty() && d.steps.dropped.is_empty());
    }

    #[test]
    fn a_create_over_a_record_is_refused_and_an_update_of_none_too() {
        let p = prepared(Mode::Create, "u1", "a@x", "o1", Expiry::Keep);
        assert!(matches!(p.found(vec![stored("a@x", "o1", None), None]), Err(Error::AlreadyExists { .. })));
        let p = prepared(Mode::Update, "u1", "a@x", "o1", Expiry::Keep);
        assert!(matches!(p.found(vec![None, None]), Err(Error::NotFound { .. })));
    }

    #[test]
    fn an_update_of_the_email_puts_the_new_entry_first_and_drops_the_old_one() {
        let p = prepared(Mode::Update, "u1", "b@x", "o1", Expiry::Keep);
        let found = p.found(vec![stored("a@x", "o1", None), None]).unwrap();
        let d = decide(p, found, None, &Users);
        // The org entry is in place with the same expiry: not written again.
        assert_eq!(keys(&d.steps.before), ["user.email:b@x"]);
        assert!(d.steps.after.is_empty());
        assert_eq!(d.steps.dropped, vec![IndexEntry { index: 0, key: "user.email:a@x".into() }]);
    }

    #[test]
    fn an_entry_held_by_another_record_is_contested_and_a_violation_while_it_carries_the_value() {
        let p = prepared(Mode::Create, "u2", "a@x", "o1", Expiry::Keep);
        let found = p.found(vec![None, text("u1")]).unwrap();
        let d = decide(p, found, None, &Users);
        assert_eq!(d.contested.len(), 1);
        assert_eq!(d.contested[0].holder_key, "user:u1");
        let carries = check_contested(&d, &[Some("a@x,o9".into())], &Users);
        assert!(matches!(carries, Err(Error::UniqueViolation { ref holder, .. }) if holder == "u1"), "{carries:?}");
        // A holder that moved to another value, or is gone, is no conflict.
        assert!(check_contested(&d, &[Some("c@x,o9".into())], &Users).is_ok());
        assert!(check_contested(&d, &[None], &Users).is_ok());
    }

    #[test]
    fn a_shrinking_expiry_rewrites_kept_entries_after_the_record() {
        let old_exp = NOW + 10_000;
        let p = prepared(Mode::Put, "u1", "a@x", "o1", Expiry::At(NOW + 600));
        let found = p.found(vec![stored("a@x", "o1", Some(old_exp)), text("u1")]).unwrap();
        let d = decide(p, found, Some(old_exp), &Users);
        assert!(d.steps.before.is_empty(), "{:?}", keys(&d.steps.before));
        assert_eq!(keys(&d.steps.after), ["user.email:a@x", "user.org:o1:u1"]);
        assert!(d.steps.after.iter().all(|p| p.opts.expiration == Some(NOW + 600)));
        assert_eq!(d.steps.record.opts.expiration, Some(NOW + 600));
    }

    #[test]
    fn a_growing_expiry_rewrites_kept_entries_before_the_record() {
        let p = prepared(Mode::Put, "u1", "a@x", "o1", Expiry::Never);
        let found = p.found(vec![stored("a@x", "o1", Some(NOW + 600)), text("u1")]).unwrap();
        let d = decide(p, found, Some(NOW + 600), &Users);
        assert_eq!(keys(&d.steps.before), ["user.email:a@x", "user.org:o1:u1"]);
        assert!(d.steps.after.is_empty());
        assert_eq!(d.steps.record.opts.expiration, None);
    }

    #[test]
    fn an_unreadable_old_record_gets_every_entry_and_drops_none() {
        let p = prepared(Mode::Put, "u1", "a@x", "o1", Expiry::Keep);
        let garbage = Some(Entry { value: b"not a record".to_vec(), metadata: None });
        let found = p.found(vec![garbage, None]).unwrap();
        let d = decide(p, found, None, &Users);
        assert_eq!(keys(&d.steps.before), ["user.email:a@x", "user.org:o1:u1"]);
        assert!(d.steps.dropped.is_empty());
    }

    #[test]
    fn a_put_of_a_model_with_no_index_and_a_decided_expiry_reads_nothing() {
        let plan = Plan {
            model: "Setting",
            indexes: &[],
            mode: Mode::Put,
            id: "s1".into(),
            rec_key: "setting:s1".into(),
            value: b"{}".to_vec(),
            entries: Vec::new(),
            projection: None,
            extra: None,
            expiry: Expiry::Ttl(120),
        };
        let p = prepare(NOW, plan).unwrap();
        assert!(p.is_blind());
        let steps = blind(p);
        assert!(steps.before.is_empty() && steps.after.is_empty());
        assert_eq!(steps.record.opts.expiration, Some(NOW + 120));
    }
}
