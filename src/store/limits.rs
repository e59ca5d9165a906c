//! The Workers KV limits, checked by [`MemoryStore`](crate::MemoryStore) and by
//! the repositories before the first write of an operation.
//!
//! A violation is the [`Error`](crate::Error) variant that names it, the same
//! whichever backend caught it:
//!
//! ```
//! use kvgen::limits::{self, MAX_KEY_BYTES};
//! use kvgen::Error;
//!
//! assert!(limits::check_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
//! let err = limits::check_key(&"k".repeat(513)).unwrap_err();
//! assert!(matches!(err, Error::KeyTooLong { len: 513, .. }));
//! assert!(err.is_limit());
//! assert!(matches!(limits::check_key(".."), Err(Error::InvalidKey { .. })));
//! assert!(matches!(limits::check_list_limit(1001), Err(Error::ListLimit { limit: 1001 })));
//! assert!(matches!(limits::check_bulk(101), Err(Error::BulkLimit { count: 101 })));
//! ```

use crate::error::{Error, Result};

/// Longest key, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;
/// Largest metadata, in bytes of its JSON as JavaScript writes it (see [`metadata_json`]).
pub const MAX_METADATA_BYTES: usize = 1024;
/// Shortest `expiration_ttl`, and the least distance of an absolute expiration from now, in seconds.
pub const MIN_TTL_SECS: u64 = 60;
/// Longest `expiration_ttl` Workers KV accepts, in seconds: the binding takes
/// it as a 32-bit signed integer (2^31 - 1, about 68 years). A raw put may
/// give an expiration past [`MAX_EXPIRATION`] this way (KV keeps now + ttl);
/// repositories turn a ttl into an absolute expiration (now + ttl), which must
/// stay at or below [`MAX_EXPIRATION`].
pub const MAX_TTL_SECS: u64 = i32::MAX as u64;
/// Latest absolute `expiration` Workers KV accepts, seconds since the epoch:
/// also a 32-bit signed integer (2038-01-19T03:14:07Z).
pub const MAX_EXPIRATION: u64 = i32::MAX as u64;
/// Shortest `cacheTtl` of a cached read, in seconds: Workers KV lowered it from
/// 60 to 30 in January 2026 (Cloudflare's changelog "KV reduced minimum
/// cacheTtl"); local workerd (Miniflare's `MIN_CACHE_TTL_SECONDS`) refuses less
/// with "Invalid cache_ttl of N. Cache TTL must be at least 30.". KV sets no
/// maximum.
pub const MIN_CACHE_TTL_SECS: u64 = 30;
/// Most keys one list page returns.
pub const MAX_LIST_LIMIT: u32 = 1000;
/// Most a bulk read may return: the values' total length in UTF-16 code units.
pub const MAX_BULK_VALUE_UNITS: usize = 25 * 1024 * 1024;
/// Most keys one bulk read takes.
pub const MAX_BULK_KEYS: usize = 100;
/// The least time between two writes (`put` or `delete`) of one key, in
/// milliseconds: Workers KV takes one write per second per key and refuses a
/// faster one with 429 ([`Error::RateLimited`](crate::Error::RateLimited)).
pub const WRITE_INTERVAL_MS: u64 = 1000;

/// Checks a key: 1..=512 bytes, not `.` or `..`.
///
/// ```
/// use kvgen::{limits::check_key, Error};
///
/// assert!(check_key("user:u1").is_ok());
/// assert!(matches!(check_key(&"é".repeat(257)), Err(Error::KeyTooLong { len: 514, .. })), "bytes, not characters");
/// assert!(matches!(check_key(""), Err(Error::InvalidKey { .. })));
/// ```
pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidKey { key: key.into(), reason: "keys cannot be empty" });
    }
    if key == "." || key == ".." {
        return Err(Error::InvalidKey { key: key.into(), reason: "`.` and `..` are not allowed" });
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::KeyTooLong { key: key.into(), len: key.len() });
    }
    Ok(())
}

/// Checks a value's size.
pub fn check_value(key: &str, value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::ValueTooLarge { key: key.into(), size: value.len() });
    }
    Ok(())
}

/// Metadata as JavaScript's `JSON.stringify` writes it, which is what Workers
/// KV measures and stores: every number is a double written the shortest way
/// (`1.0` is `1`, `1e21` is `1e+21`, `-0` is `0`), and strings are escaped as
/// serde_json escapes them.
///
/// ```
/// use serde_json::json;
///
/// assert_eq!(kvgen::limits::metadata_json(&json!({ "n": [1.0, 1e21, -0.0] })), r#"{"n":[1,1e+21,0]}"#);
/// ```
pub fn metadata_json(metadata: &serde_json::Value) -> String {
    let mut out = String::new();
    write_js_json(&mut out, metadata);
    out
}

/// Metadata as Workers KV gives it back: the value of its JavaScript JSON.
pub fn metadata_as_stored(metadata: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(&metadata_json(metadata)).unwrap_or_else(|_| metadata.clone())
}

fn write_js_json(out: &mut String, v: &serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&js_number(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_js_json(out, x);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_js_json(out, x);
            }
            out.push('}');
        }
    }
}

/// A finite double as JavaScript's `Number.prototype.toString` writes it.
///
/// ```
/// use kvgen::limits::js_number;
///
/// assert_eq!([js_number(1.0), js_number(0.1), js_number(1e21), js_number(1e-7)], ["1", "0.1", "1e+21", "1e-7"]);
/// ```
pub fn js_number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as JavaScript does.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    // x = 0.digits * 10^n
    let n = exp.parse::<i32>().unwrap_or(0) + 1;
    let mut s = String::from(if x < 0.0 { "-" } else { "" });
    if k <= n && n <= 21 {
        s.push_str(&digits);
        s.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-n) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if n > 0 { '+' } else { '-' });
        s.push_str(&(n - 1).abs().to_string());
    }
    s
}

/// Checks metadata's size, measured on [`metadata_json`] as Workers KV does.
pub fn check_metadata(key: &str, metadata: &serde_json::Value) -> Result<()> {
    let size = metadata_json(metadata).len();
    if size > MAX_METADATA_BYTES {
        return Err(Error::MetadataTooLarge { key: key.into(), size });
    }
    Ok(())
}

/// Checks a raw put as Workers KV does, in its order, and gives the
/// expiration the key gets: an expiration or ttl outside the 32-bit range
/// (expiration first), the key (empty, `.`/`..`, then length), the ttl (which
/// wins over an expiration given with it, whatever that one is), else the
/// expiration, then the metadata, then the value.
///
/// ```
/// use kvgen::{limits::check_put, Error, PutOptions};
///
/// let now = 1_000;
/// let ttl = PutOptions { expiration_ttl: Some(60), ..PutOptions::default() };
/// assert_eq!(check_put("k", b"v", &ttl, now)?, Some(1_060));
/// assert_eq!(check_put("k", b"v", &PutOptions::default(), now)?, None);
/// let soon = PutOptions { expiration: Some(now + 59), ..PutOptions::default() };
/// assert!(matches!(check_put("k", b"v", &soon, now), Err(Error::ExpirationTooSoon { .. })));
/// # Ok::<(), kvgen::Error>(())
/// ```
pub fn check_put(key: &str, value: &[u8], options: &crate::store::PutOptions, now: u64) -> Result<Option<u64>> {
    if let Some(at) = options.expiration.filter(|at| *at > MAX_EXPIRATION) {
        return Err(Error::ExpirationTooLate { key: key.into(), expiration: at });
    }
    if let Some(ttl) = options.expiration_ttl.filter(|ttl| *ttl > MAX_TTL_SECS) {
        return Err(Error::TtlTooLong { key: key.into(), ttl });
    }
    check_key(key)?;
    let expiration = match (options.expiration_ttl, options.expiration) {
        (Some(ttl), _) => {
            if ttl < MIN_TTL_SECS {
                return Err(Error::TtlTooShort { key: key.into(), ttl });
            }
            Some(now + ttl)
        }
        (None, Some(at)) => {
            check_expiration(key, at, now)?;
            Some(at)
        }
        (None, None) => None,
    };
    if let Some(metadata) = &options.metadata {
        check_metadata(key, metadata)?;
    }
    check_value(key, value)?;
    Ok(expiration)
}

/// Checks a list prefix: Workers KV refuses one over 512 bytes as it refuses
/// such a key.
pub fn check_prefix(prefix: &str) -> Result<()> {
    if prefix.len() > MAX_KEY_BYTES {
        return Err(Error::KeyTooLong { key: prefix.into(), len: prefix.len() });
    }
    Ok(())
}

/// Checks a relative ttl: at least [`MIN_TTL_SECS`], at most [`MAX_TTL_SECS`].
pub fn check_ttl(key: &str, ttl: u64) -> Result<()> {
    if ttl < MIN_TTL_SECS {
        return Err(Error::TtlTooShort { key: key.into(), ttl });
    }
    if ttl > MAX_TTL_SECS {
        return Err(Error::TtlTooLong { key: key.into(), ttl });
    }
    Ok(())
}

/// Checks an absolute expiration against the clock: at least now + 60 s, at
/// most [`MAX_EXPIRATION`].
pub fn check_expiration(key: &str, expiration: u64, now: u64) -> Result<()> {
    if expiration < now.saturating_add(MIN_TTL_SECS) {
        return Err(Error::ExpirationTooSoon { key: key.into(), expiration, now });
    }
    if expiration > MAX_EXPIRATION {
        return Err(Error::ExpirationTooLate { key: key.into(), expiration });
    }
    Ok(())
}

/// The absolute expiration `ttl` seconds after `now`, checked.
pub fn ttl_to_expiration(key: &str, ttl: u64, now: u64) -> Result<u64> {
    check_ttl(key, ttl)?;
    let at = now.checked_add(ttl).ok_or_else(|| Error::TtlTooLong { key: key.into(), ttl })?;
    if at > MAX_EXPIRATION {
        return Err(Error::TtlTooLong { key: key.into(), ttl });
    }
    Ok(at)
}

/// Checks a cached read's `cacheTtl`: at least [`MIN_CACHE_TTL_SECS`].
pub fn check_cache_ttl(cache_ttl: u64) -> Result<()> {
    if cache_ttl < MIN_CACHE_TTL_SECS {
        return Err(Error::InvalidCacheTtl { cache_ttl, min: MIN_CACHE_TTL_SECS });
    }
    Ok(())
}

/// Checks a list page size.
pub fn check_list_limit(limit: u32) -> Result<()> {
    if limit == 0 || limit > MAX_LIST_LIMIT {
        return Err(Error::ListLimit { limit });
    }
    Ok(())
}

/// Checks a bulk read's key count.
pub fn check_bulk(count: usize) -> Result<()> {
    if count == 0 || count > MAX_BULK_KEYS {
        return Err(Error::BulkLimit { count });
    }
    Ok(())
}

/// Checks a bulk read's answer: its values' total length, in UTF-16 code
/// units, at most [`MAX_BULK_VALUE_UNITS`] (values are read as text: see
/// [`KvStore::get_many`](crate::KvStore::get_many)).
pub fn check_bulk_size<'a>(count: usize, values: impl IntoIterator<Item = &'a [u8]>) -> Result<()> {
    let size = values.into_iter().map(|v| String::from_utf8_lossy(v).encode_utf16().count()).sum();
    if size > MAX_BULK_VALUE_UNITS {
        return Err(Error::BulkTooLarge { count, size });
    }
    Ok(())
}
