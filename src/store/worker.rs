//! `WorkerKv`: the real thing — a Workers KV binding, through the `worker` crate.

use crate::coord::cell::{Request, Response};
use crate::coord::{BoxFuture, Coordinate};
use crate::error::{Error, Result};
use crate::store::{Entry, KvStore, ListKey, ListOptions, ListResult, PutOptions};
use serde_json::Value;
use worker::js_sys::{self, Reflect};
use worker::kv::KvError;
use worker::wasm_bindgen::{JsCast, JsValue};

/// A Workers KV namespace binding as a kvgen [`KvStore`].
///
/// KV's own errors are mapped to kvgen's [`Error`], limit violations
/// included, so code sees the same variants as on [`MemoryStore`](crate::MemoryStore):
/// a `put` or `delete` KV answers with 429 (a second write of the key within
/// a second) is [`Error::RateLimited`].
///
/// It runs in a Worker only (wasm32), so this example is compiled, not run:
///
/// ```no_run
/// use kvgen::{KvStore, PutOptions, WorkerKv};
///
/// async fn greet(env: &worker::Env) -> kvgen::Result<Option<String>> {
///     let kv = WorkerKv::from_env(env, "APP")?;
///     kv.put("greeting", b"hello", &PutOptions::default()).await?;
///     Ok(kv.get("greeting").await?.map(|entry| entry.into_text()))
/// }
/// ```
#[derive(Clone, Debug)]
pub struct WorkerKv {
    kv: worker::kv::KvStore,
    /// The namespace object itself, for the bulk read with metadata, which
    /// the `worker` crate's wrapper cannot make when a key is missing. `None`
    /// for a store made from a `worker::kv::KvStore`, which does not expose it.
    ns: Option<JsValue>,
    /// The coordinator of strict unique values, when the Worker binds one.
    coord: Option<DurableCoordinator>,
    /// Operations one call may have in flight ([`KvStore::max_in_flight`]).
    in_flight: usize,
}

impl WorkerKv {
    /// The binding `binding` of a Worker's environment, with the
    /// coordinator bound as [`COORDINATOR_BINDING`](crate::coord::COORDINATOR_BINDING)
    /// when the Worker has that binding.
    pub fn from_env(env: &worker::Env, binding: &str) -> Result<Self> {
        let bind_error = |message: String| Error::Store { op: "bind", key: binding.to_string(), message, source: None };
        let kv = env.kv(binding).map_err(|e| bind_error(e.to_string()))?;
        let ns = Reflect::get(env, &JsValue::from_str(binding)).map_err(|e| bind_error(format!("{e:?}")))?;
        let coord = env.durable_object(crate::coord::COORDINATOR_BINDING).ok().map(|ns| DurableCoordinator { ns });
        Ok(WorkerKv { kv, ns: Some(ns), coord, in_flight: crate::store::flight::DEFAULT_MAX_IN_FLIGHT })
    }

    /// This store with the coordinator of Durable Object namespace `ns`.
    pub fn with_coordinator(mut self, ns: worker::ObjectNamespace) -> Self {
        self.coord = Some(DurableCoordinator { ns });
        self
    }

    /// The wrapped binding.
    pub fn inner(&self) -> &worker::kv::KvStore {
        &self.kv
    }
}

/// A `worker::kv::KvStore` the Worker already holds (from `env.kv(..)` or a
/// router's context), with no coordinator (add one with
/// [`with_coordinator`](WorkerKv::with_coordinator)).
///
/// Every operation costs what it costs through [`WorkerKv::from_env`] but one:
/// a bulk read (`get_many`, listings, relation loaders) is 2 bulk reads instead
/// of 1 when any asked key exists, because the `worker` crate's `KvStore` does
/// not expose the namespace object that kvgen's one-call bulk read with
/// metadata needs. Prefer `from_env` where the `Env` is at hand.
impl From<worker::kv::KvStore> for WorkerKv {
    fn from(kv: worker::kv::KvStore) -> Self {
        WorkerKv { kv, ns: None, coord: None, in_flight: crate::store::flight::DEFAULT_MAX_IN_FLIGHT }
    }
}

impl WorkerKv {
    /// This store with at most `n` operations of one call in flight (at
    /// least 1; the default is 6, the connections a Workers invocation may
    /// have waiting for response headers at a time).
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.in_flight = n.max(1);
        self
    }

    /// One bulk read with metadata (two without the namespace object), with
    /// KV's `cacheTtl` when `cache_ttl` is given.
    async fn bulk_get(&self, keys: &[String], cache_ttl: Option<u64>) -> Result<Vec<Option<Entry>>> {
        let Some(ns) = &self.ns else { return self.bulk_get_held(keys, cache_ttl).await };
        let fail = |e: JsValue| bulk_error(keys, KvError::JavaScript(e));
        // `getWithMetadata(keys, {type: "text"})` answers with a Map whose
        // missing keys hold `null`. The `worker` crate's `text_with_metadata`
        // reads `.value` of that `null` and throws, so the call is made here.
        let array = js_sys::Array::new();
        for k in keys {
            array.push(&JsValue::from_str(k));
        }
        let options = js_sys::Object::new();
        Reflect::set(&options, &JsValue::from_str("type"), &JsValue::from_str("text")).map_err(fail)?;
        if let Some(ttl) = cache_ttl {
            Reflect::set(&options, &JsValue::from_str("cacheTtl"), &JsValue::from_f64(ttl as f64)).map_err(fail)?;
        }
        let function: js_sys::Function =
            Reflect::get(ns, &JsValue::from_str("getWithMetadata")).map_err(fail)?.dyn_into().map_err(fail)?;
        let promise: js_sys::Promise = function.call2(ns, &array, &options).map_err(fail)?.dyn_into().map_err(fail)?;
        let map: js_sys::Map =
            worker::wasm_bindgen_futures::JsFuture::from(promise).await.map_err(fail)?.dyn_into().map_err(fail)?;
        // A key asked for twice gets one answer, given at each place.
        keys.iter()
            .map(|k| {
                let found = map.get(&JsValue::from_str(k));
                if found.is_null() || found.is_undefined() {
                    return Ok(None);
                }
                let Some(value) = Reflect::get(&found, &JsValue::from_str("value")).map_err(fail)?.as_string() else {
                    return Ok(None);
                };
                let metadata = Reflect::get(&found, &JsValue::from_str("metadata")).map_err(fail)?;
                Ok(Some(Entry::text(value, js_metadata(k, metadata)?)))
            })
            .collect()
    }

    /// The bulk read with metadata through the `worker` crate's wrapper, which
    /// throws on a missing key: one bulk read of the values finds the keys
    /// that exist, a second reads those with their metadata. A key deleted
    /// between the two makes the second throw; the pair is tried again, three
    /// times at most.
    async fn bulk_get_held(&self, keys: &[String], cache_ttl: Option<u64>) -> Result<Vec<Option<Entry>>> {
        let fail = |e| bulk_error(keys, e);
        let bulk = |keys: &[&String]| {
            let b = self.kv.get_bulk(keys);
            match cache_ttl {
                Some(ttl) => b.cache_ttl(ttl),
                None => b,
            }
        };
        let keys_ref: Vec<&String> = keys.iter().collect();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let values = bulk(&keys_ref).text().await.map_err(fail)?;
            let present: Vec<&String> = keys.iter().filter(|k| matches!(values.get(*k), Some(Some(_)))).collect();
            if present.is_empty() {
                return Ok(vec![None; keys.len()]);
            }
            match bulk(&present).text_with_metadata::<Value>().await {
                Ok(found) => {
                    return Ok(keys
                        .iter()
                        .map(|k| match found.get(k) {
                            Some((Some(value), metadata)) => Some(Entry::text(value.clone(), metadata.clone())),
                            _ => None,
                        })
                        .collect())
                }
                Err(_) if attempts < 3 => continue,
                Err(e) => return Err(fail(e)),
            }
        }
    }
}

/// Maps an error of a bulk read of `keys` to kvgen's error: KV's limits on
/// the count and the total size by the wording KV reports them with.
fn bulk_error(keys: &[String], e: KvError) -> Error {
    let first = keys.first().map(String::as_str).unwrap_or("");
    let msg = message(&e);
    let lower = msg.to_ascii_lowercase();
    if lower.contains("total size of request") {
        Error::BulkTooLarge { count: keys.len(), size: 0 }
    } else if lower.contains("maximum of 100 keys") || lower.contains("minimum of 1 key") || lower.contains("too many")
    {
        Error::BulkLimit { count: keys.len() }
    } else {
        map_error("get_many", first, None, e)
    }
}

/// Whether JavaScript treats `key` as an array index: a canonical decimal
/// integer below 2^32 - 1.
fn is_array_index(key: &str) -> bool {
    let canonical = !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) && (key == "0" || !key.starts_with('0'));
    canonical && key.len() <= 10 && key.parse::<u64>().is_ok_and(|n| n < u32::MAX as u64)
}

/// The text of a KV error, without the JavaScript wrapping.
fn message(e: &KvError) -> String {
    match e {
        KvError::JavaScript(v) => {
            if let Some(err) = worker::wasm_bindgen::JsCast::dyn_ref::<worker::js_sys::Error>(v) {
                String::from(err.message())
            } else {
                v.as_string().unwrap_or_else(|| format!("{v:?}"))
            }
        }
        other => other.to_string(),
    }
}

/// Whether `message` holds the HTTP status `code` as a word of its own: the
/// `414` of "KV PUT failed: 414 ...", not the digits of a number in the
/// message (an expiration of 1796664414 holds "414" too).
fn has_status(message: &str, code: &str) -> bool {
    message.match_indices(code).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric()) && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Maps an error of KV operation `op` on `key` to kvgen's error: limit
/// violations by the status code and wording KV reports them with.
fn map_error(op: &'static str, key: &str, opts: Option<&PutOptions>, e: KvError) -> Error {
    let msg = message(&e);
    let lower = msg.to_ascii_lowercase();
    let has = |s: &str| lower.contains(s);
    // A second write of a key within a second: `KV PUT failed: 429 Too Many
    // Requests` (`KV DELETE failed: ..` for a delete). KV does not say when
    // the key takes a write again: a second after the last one, at most.
    if matches!(op, "put" | "delete") && (has("429") || has("too many requests")) {
        return Error::RateLimited { key: key.to_string(), retry_after: crate::store::limits::WRITE_INTERVAL_MS };
    }
    // The binding takes ttl and expiration as 32-bit integers and checks
    // them before anything else, in a message naming neither.
    if has("out of range") {
        if let Some(at) = opts.and_then(|o| o.expiration).filter(|at| *at > crate::store::limits::MAX_EXPIRATION) {
            return Error::ExpirationTooLate { key: key.to_string(), expiration: at };
        }
        if let Some(ttl) = opts.and_then(|o| o.expiration_ttl) {
            return Error::TtlTooLong { key: key.to_string(), ttl };
        }
    }
    if has_status(&lower, "414") || (has("key") && has("length") && (has("exceed") || has("limit"))) {
        return Error::KeyTooLong { key: key.to_string(), len: key.len() };
    }
    if has("metadata") && (has_status(&lower, "413") || has("exceed") || has("length")) {
        let size = opts.and_then(|o| o.metadata.as_ref()).map_or(0, |m| crate::store::limits::metadata_json(m).len());
        return Error::MetadataTooLarge { key: key.to_string(), size };
    }
    if has("expiration_ttl") || has("expiration ttl") {
        let ttl = opts.and_then(|o| o.expiration_ttl).unwrap_or(0);
        return Error::TtlTooShort { key: key.to_string(), ttl };
    }
    if has("expiration") && has("400") {
        let expiration = opts.and_then(|o| o.expiration).unwrap_or(0);
        return Error::ExpirationTooSoon { key: key.to_string(), expiration, now: 0 };
    }
    if has("413") || (has("value") && has("too large")) {
        return Error::ValueTooLarge { key: key.to_string(), size: 0 };
    }
    if has("illegal") || has("invalid key") || (has("key") && has("empty")) {
        return Error::InvalidKey { key: key.to_string(), reason: "refused by Workers KV" };
    }
    Error::Store { op, key: key.to_string(), message: msg, source: None }
}

impl WorkerKv {
    /// One read of `key`, with KV's `cacheTtl` when `cache_ttl` is given.
    async fn read_one(&self, key: &str, cache_ttl: Option<u64>) -> Result<Option<Entry>> {
        let mut get = self.kv.get(key);
        if let Some(ttl) = cache_ttl {
            get = get.cache_ttl(ttl);
        }
        // The exact bytes (`arrayBuffer`): a raw value need not be UTF-8.
        let (value, metadata) = get.bytes_with_metadata::<Value>().await.map_err(|e| map_error("get", key, None, e))?;
        Ok(value.map(|value| Entry { value, metadata }))
    }

    /// The bulk read of `keys`, with KV's `cacheTtl` when `cache_ttl` is given.
    async fn read_many(&self, keys: &[String], cache_ttl: Option<u64>) -> Result<Vec<Option<Entry>>> {
        // KV's bulk read leaves keys that are array indices ("0", "1", not
        // "01") out of the map it answers with, as if missing: those are read
        // one by one, the others in one bulk read.
        if !keys.iter().any(|k| is_array_index(k)) {
            return self.bulk_get(keys, cache_ttl).await;
        }
        crate::store::limits::check_bulk(keys.len())?;
        let rest: Vec<String> = keys.iter().filter(|k| !is_array_index(k)).cloned().collect();
        let mut bulk = if rest.is_empty() { Vec::new() } else { self.bulk_get(&rest, cache_ttl).await? }.into_iter();
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(if is_array_index(k) { self.read_one(k, cache_ttl).await? } else { bulk.next().flatten() });
        }
        Ok(out)
    }
}

impl KvStore for WorkerKv {
    async fn get(&self, key: &str) -> Result<Option<Entry>> {
        self.read_one(key, None).await
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>> {
        self.read_many(keys, None).await
    }

    /// `get(key, {cacheTtl})`; a cache ttl under 30 s is refused before the read.
    async fn get_cached(&self, key: &str, cache_ttl: u64) -> Result<Option<Entry>> {
        crate::store::limits::check_cache_ttl(cache_ttl)?;
        self.read_one(key, Some(cache_ttl)).await
    }

    /// `getWithMetadata(keys, {type: "text", cacheTtl})`; a cache ttl under 30 s is refused before the read.
    async fn get_many_cached(&self, keys: &[String], cache_ttl: u64) -> Result<Vec<Option<Entry>>> {
        crate::store::limits::check_cache_ttl(cache_ttl)?;
        self.read_many(keys, Some(cache_ttl)).await
    }

    async fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<()> {
        let fail = |e| map_error("put", key, Some(options), e);
        // A Uint8Array of the bytes: KV stores them as they are (a string's
        // UTF-8 is what KV stores for the string, so JSON reads as before).
        let mut put = self.kv.put_bytes(key, value).map_err(fail)?;
        if let Some(ttl) = options.expiration_ttl {
            put = put.expiration_ttl(ttl);
        }
        if let Some(at) = options.expiration {
            put = put.expiration(at);
        }
        if let Some(m) = &options.metadata {
            put = put.metadata(m).map_err(fail)?;
        }
        put.execute().await.map_err(fail)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.kv.delete(key).await.map_err(|e| map_error("delete", key, None, e))
    }

    async fn list(&self, options: &ListOptions) -> Result<ListResult> {
        let mut list = self.kv.list().prefix(options.prefix.clone()).limit(options.limit as u64);
        if let Some(c) = &options.cursor {
            list = list.cursor(c.clone());
        }
        let page = list.execute().await.map_err(|e| {
            let msg = message(&e);
            if has_status(&msg, "414") {
                // A prefix over 512 bytes, refused as such a key is.
                Error::KeyTooLong { key: options.prefix.clone(), len: options.prefix.len() }
            } else if msg.to_ascii_lowercase().contains("limit") {
                Error::ListLimit { limit: options.limit }
            } else if msg.to_ascii_lowercase().contains("cursor") {
                Error::InvalidCursor { cursor: options.cursor.clone().unwrap_or_default() }
            } else {
                Error::Store { op: "list", key: options.prefix.clone(), message: msg, source: None }
            }
        })?;
        let keys = page
            .keys
            .into_iter()
            .map(|k| ListKey { name: k.name, expiration: k.expiration, metadata: k.metadata })
            .collect();
        let cursor = if page.list_complete { None } else { page.cursor.filter(|c| !c.is_empty()) };
        Ok(ListResult { keys, cursor })
    }

    fn now(&self) -> u64 {
        worker::Date::now().as_millis() / 1000
    }

    fn max_in_flight(&self) -> usize {
        self.in_flight
    }

    fn coordinator(&self) -> Option<&dyn Coordinate> {
        self.coord.as_ref().map(|c| c as &dyn Coordinate)
    }

    /// Waits on the Workers timer (`setTimeout`, through `worker::Delay`):
    /// wall time, which a Worker's CPU limit does not count.
    async fn pause(&self, ms: u64) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await
    }
}

/// The client of the coordinator Durable Object class
/// ([`KvgenCoordinator`](crate::KvgenCoordinator), feature `durable`): one
/// object per cell name, each request a `POST` of the JSON request.
///
/// [`WorkerKv::from_env`] attaches one when the Worker binds
/// [`COORDINATOR_BINDING`](crate::coord::COORDINATOR_BINDING); a lock on it,
/// compiled, not run (it needs a Worker):
///
/// ```no_run
/// use kvgen::{DurableCoordinator, Lock};
///
/// async fn nightly(env: &worker::Env) -> worker::Result<bool> {
///     let coord = DurableCoordinator::new(env.durable_object(kvgen::coord::COORDINATOR_BINDING)?);
///     let lock = Lock::new(&coord, "nightly", "run-1", 60_000);
///     Ok(lock.try_acquire().await?.is_some())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct DurableCoordinator {
    ns: worker::ObjectNamespace,
}

impl DurableCoordinator {
    /// The coordinator of Durable Object namespace `ns`.
    pub fn new(ns: worker::ObjectNamespace) -> Self {
        DurableCoordinator { ns }
    }

    async fn send(&self, name: &str, request: &Request) -> worker::Result<String> {
        let stub = self.ns.id_from_name(name)?.get_stub()?;
        let body = serde_json::to_string(request).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::Post).with_body(Some(JsValue::from_str(&body)));
        let req = worker::Request::new_with_init("https://kvgen-coordinator/", &init)?;
        let mut resp = stub.fetch_with_request(req).await?;
        let text = resp.text().await?;
        if resp.status_code() != 200 {
            return Err(worker::Error::RustError(format!("status {}: {text}", resp.status_code())));
        }
        Ok(text)
    }
}

impl Coordinate for DurableCoordinator {
    fn call<'a>(&'a self, name: &'a str, request: &'a Request) -> BoxFuture<'a, Result<Response>> {
        Box::pin(async move {
            let fail =
                |message: String| Error::Store { op: "coordinate", key: name.to_string(), message, source: None };
            let text = self.send(name, request).await.map_err(|e| fail(e.to_string()))?;
            serde_json::from_str(&text).map_err(|e| fail(format!("{e}: {text}")))
        })
    }
    fn now_ms(&self) -> u64 {
        worker::Date::now().as_millis()
    }
}

/// Metadata as KV returned it (a JavaScript value, `null` for none) as JSON.
fn js_metadata(key: &str, metadata: JsValue) -> Result<Option<Value>> {
    if metadata.is_null() || metadata.is_undefined() {
        return Ok(None);
    }
    let bad = |message: String| Error::Serialization { key: key.to_string(), message, source: None };
    let text = js_sys::JSON::stringify(&metadata).map_err(|e| bad(format!("{e:?}")))?;
    let text = text.as_string().ok_or_else(|| bad("metadata is not JSON".into()))?;
    serde_json::from_str(&text).map(Some).map_err(|e| Error::serialization(key, e))
}

#[cfg(test)]
mod tests {
    use super::has_status;

    #[test]
    fn a_status_is_a_word_of_its_own_not_digits_of_a_number() {
        assert!(has_status("kv put failed: 414 utf-8 encoded length of 513 exceeds key length limit of 512.", "414"));
        assert!(has_status("414", "414"));
        let expiration = "kv put failed: 400 invalid expiration of 1796664414. please specify integer greater than the current number of seconds since the unix epoch.";
        assert!(!has_status(expiration, "414"));
        assert!(!has_status("key n/4140", "414"));
    }
}
