//! How a record is stored and read back: its JSON or raw value, its
//! metadata projection, and the checks that refuse what would not read back
//! as written (non-finite floats, numbers KV would round, a record whose id
//! is not its key's).

use crate::error::{Error, Result};
use crate::index::plan;
use crate::model::key::{self, KeyPart};
use crate::model::Model;
use crate::repo::Repo;
use crate::store::limits;
use crate::store::{Entry, KvStore};
use serde_json::Value;

pub(super) fn parse<T: serde::de::DeserializeOwned>(key: &str, value: &str) -> Result<T> {
    serde_json::from_str(value).map_err(|e| Error::serialization(key, e))
}

pub(super) fn to_json<T: serde::Serialize>(key: &str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::serialization(key, e))
}

/// Refuses a record that would not read back as written: serde_json stores
/// a NaN or infinite float as `null`, which then fails to parse (or parses
/// as `None`).
pub(super) fn check_finite<M: Model>(key: &str, rec: &M) -> Result<()> {
    crate::model::finite::check(rec).map_err(|e| Error::Serialization {
        key: key.to_string(),
        message: format!("{e}: a NaN or infinite float is stored as null and would not read back"),
        source: None,
    })
}

pub(super) fn meta_value<M: Model>(key: &str, rec: &M) -> Result<Option<Value>> {
    rec.meta().map(|m| serde_json::to_value(m).map_err(|e| Error::serialization(key, e))).transpose()
}

/// The record's `#[kv(meta)]` projection as Workers KV stores it (numbers
/// as JavaScript doubles: `10.0` is `10`), refused when it would not read
/// back as the model's metadata (an integer beyond 2^53, say).
pub(super) fn stored_projection<M: Model>(key: &str, rec: &M) -> Result<Option<Value>> {
    let Some(meta) = meta_value(key, rec)? else { return Ok(None) };
    let stored = limits::metadata_as_stored(&meta);
    if serde_json::from_value::<M::Meta>(stored.clone()).is_err() {
        return Err(Error::Serialization {
            key: key.to_string(),
            message:
                "the metadata would not read back: KV stores its numbers as doubles (integers beyond 2^53 lose digits)"
                    .into(),
            source: None,
        });
    }
    Ok(Some(stored))
}

/// A raw model's metadata: its fields other than the id and the raw one, as
/// Workers KV stores them, refused when they would not read back.
pub(crate) fn raw_projection<M: Model>(key: &str, rec: &M) -> Result<Value> {
    let bad = |message: String| Error::Serialization { key: key.to_string(), message, source: None };
    let fields = rec.raw_fields().map_err(|e| bad(e.to_string()))?;
    let stored = limits::metadata_as_stored(&Value::Object(fields));
    let Value::Object(back) = &stored else { return Err(bad("the metadata is not an object".into())) };
    let id =
        M::Id::read_key(&key::encode(rec.id())).ok_or_else(|| bad("the id does not read back from its key".into()))?;
    if let Err(e) = M::from_raw(id, Vec::new(), back.clone()) {
        return Err(bad(format!("the metadata would not read back ({e}): KV stores its numbers as doubles")));
    }
    Ok(stored)
}

/// Whether `stored` (a value as KV stores it) reads back as `given`: the
/// same shape, and each number the same (an integer as that integer, a
/// float as that float; `10.0` stored as `10` reads back as `10.0`).
pub(super) fn reads_back(given: &Value, stored: &Value) -> bool {
    match (given, stored) {
        (Value::Number(g), Value::Number(s)) => match (g.as_u64(), g.as_i64()) {
            (Some(u), _) => s.as_u64() == Some(u),
            (None, Some(i)) => s.as_i64() == Some(i),
            _ => g.as_f64() == s.as_f64(),
        },
        (Value::Array(g), Value::Array(s)) => g.len() == s.len() && g.iter().zip(s).all(|(g, s)| reads_back(g, s)),
        (Value::Object(g), Value::Object(s)) => {
            g.len() == s.len() && g.iter().all(|(k, g)| s.get(k).is_some_and(|s| reads_back(g, s)))
        }
        (g, s) => g == s,
    }
}

pub(super) fn parse_meta<M: Model>(key: &str, meta: Option<Value>) -> Result<Option<M::Meta>> {
    if M::RAW.is_some() {
        // A raw record's metadata holds every field but the id and the value:
        // the projection is the part `Meta` names (none without `meta` fields).
        return Ok(plan::projection(meta).and_then(|m| serde_json::from_value(m).ok()));
    }
    plan::projection(meta).map(|m| serde_json::from_value(m).map_err(|e| Error::serialization(key, e))).transpose()
}

impl<'a, M: Model, S: KvStore> Repo<'a, M, S> {
    /// Parses the stored record at `key`: it must be valid JSON for the
    /// model, and carry the id its key names. Anything else is unreadable.
    pub(crate) fn parse_record(&self, key: &str, json: &str) -> Result<M> {
        thread_local! {
            // The id is encoded once per record read: into one reused buffer.
            static ID: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        let rec: M = parse(key, json)?;
        let head = crate::model::key::scope_head_len(self.scope) + M::MODEL.len();
        ID.with_borrow_mut(|id| {
            id.clear();
            rec.id().write_key(id);
            if key.len() == head + 1 + id.len() && key.ends_with(id.as_str()) {
                Ok(())
            } else {
                let message = format!("the record's id `{id}` is not its key's");
                Err(Error::Serialization { key: key.to_string(), message, source: None })
            }
        })?;
        Ok(rec)
    }

    /// The record key a unique entry's value names, when it is an id of `M`.
    pub(crate) fn holder_key(&self, encoded_id: &str) -> Option<String> {
        M::Id::read_key(encoded_id)?;
        let key = self.space().record_key(encoded_id);
        limits::check_key(&key).ok()?;
        Some(key)
    }

    /// The record stored at `key` as `entry`: the model's JSON, or a raw
    /// model's value and metadata (the id from the key). Anything else is
    /// unreadable ([`Error::Serialization`]).
    pub(crate) fn decode(&self, key: &str, entry: Entry) -> Result<M> {
        if M::RAW.is_none() {
            return self.parse_record(key, &entry.into_text());
        }
        let bad = |message: String| Error::Serialization { key: key.to_string(), message, source: None };
        let head = self.space().record_prefix();
        let id = key.strip_prefix(head.as_str()).and_then(M::Id::read_key);
        let id = id.ok_or_else(|| bad("the key names no id of the model".into()))?;
        let fields = match plan::projection(entry.metadata) {
            Some(serde_json::Value::Object(m)) => m,
            None => serde_json::Map::new(),
            Some(_) => return Err(bad("the metadata is not an object".into())),
        };
        M::from_raw(id, entry.value, fields).map_err(bad)
    }

    /// [`decode`](Self::decode) of a borrowed entry (a raw value is copied).
    pub(crate) fn decode_ref(&self, key: &str, entry: &Entry) -> Result<M> {
        match M::RAW {
            None => self.parse_record(key, &String::from_utf8_lossy(&entry.value)),
            Some(_) => self.decode(key, entry.clone()),
        }
    }
}
