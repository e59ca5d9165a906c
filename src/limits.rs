//! The Workers KV limits, checked by [`MemoryStore`](crate::MemoryStore) and by
//! the repositories before the first write of an operation.

use crate::error::{Error, Result};

/// Longest key, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;
/// Largest metadata, in bytes of serialized JSON.
pub const MAX_METADATA_BYTES: usize = 1024;
/// Shortest `expiration_ttl`, and the least distance of an absolute expiration from now, in seconds.
pub const MIN_TTL_SECS: u64 = 60;
/// Longest ttl kvgen accepts, in seconds: a ttl is turned into an absolute
/// expiration (now + ttl), which must stay at or below [`MAX_EXPIRATION`].
pub const MAX_TTL_SECS: u64 = 315_360_000_000;
/// Latest absolute expiration kvgen accepts, seconds since the epoch.
pub const MAX_EXPIRATION: u64 = 8_640_000_000_000;
/// Most keys one list page returns.
pub const MAX_LIST_LIMIT: u32 = 1000;
/// Most keys one bulk read takes.
pub const MAX_BULK_KEYS: usize = 100;

/// Checks a key: 1..=512 bytes, not `.` or `..`.
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
pub fn check_value(key: &str, value: &str) -> Result<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::ValueTooLarge { key: key.into(), size: value.len() });
    }
    Ok(())
}

/// Checks serialized metadata's size.
pub fn check_metadata(key: &str, metadata: &serde_json::Value) -> Result<()> {
    /// Counts bytes instead of keeping them.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let size = serde_json::to_writer(&mut count, metadata).map(|_| count.0).unwrap_or(usize::MAX);
    if size > MAX_METADATA_BYTES {
        return Err(Error::MetadataTooLarge { key: key.into(), size });
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
