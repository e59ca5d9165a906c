//! Generated ids: ULID, UUID v7 and UUID v4, as strings.
//!
//! `#[kv(id, generate = "ulid")]` (or `"uuid_v7"`, `"uuid_v4"`) on a `String`
//! id gives the repository `create_new`, which fills the id with one of these.
//! Randomness comes from the platform (`getrandom`: the OS natively,
//! `crypto.getRandomValues` on wasm32 in a Worker), time from the system
//! clock (`Date.now()` on wasm32).

use crate::error::{Error, Result};

/// Which generator fills an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// A ULID: 26 characters of Crockford base32, sorted by creation time (to the millisecond).
    Ulid,
    /// A UUID v7 (RFC 9562): sorted by creation time (to the millisecond).
    UuidV7,
    /// A UUID v4 (RFC 9562): random.
    UuidV4,
}

/// A new id of `kind`; [`Error::Store`] when the platform has no randomness to give.
///
/// ```
/// use kvgen::id::{self, IdKind};
///
/// let ulid = id::new(IdKind::Ulid)?;
/// assert_eq!(ulid.len(), 26);
/// assert!(id::ulid_millis(&ulid).is_some_and(|ms| ms > 1_700_000_000_000));
/// let uuid = id::new(IdKind::UuidV4)?;
/// assert_eq!((uuid.len(), &uuid[14..15]), (36, "4"));
/// assert_ne!(id::new(IdKind::UuidV7)?, id::new(IdKind::UuidV7)?);
/// # Ok::<(), kvgen::Error>(())
/// ```
pub fn new(kind: IdKind) -> Result<String> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| Error::Store {
        op: "generate id",
        key: String::new(),
        message: format!("no randomness from the platform: {e}"),
        source: Some(Box::new(e)),
    })?;
    Ok(match kind {
        IdKind::Ulid => {
            let mut r = [0u8; 10];
            r.copy_from_slice(&random[..10]);
            ulid_from(now_ms(), r)
        }
        IdKind::UuidV7 => uuid_v7_from(now_ms(), random),
        IdKind::UuidV4 => uuid_v4_from(random),
    })
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        js_sys::Date::now() as u64
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The ULID of time `ms` (its low 48 bits) and 80 random bits.
///
/// ```
/// use kvgen::id::{ulid_from, ulid_millis};
///
/// let id = ulid_from(1_700_000_000_000, [0; 10]);
/// assert_eq!(id, "01HF7YAT000000000000000000");
/// assert_eq!(ulid_millis(&id), Some(1_700_000_000_000));
/// assert!(ulid_from(1, [0xff; 10]) < ulid_from(2, [0; 10]), "sorted by time");
/// ```
pub fn ulid_from(ms: u64, random: [u8; 10]) -> String {
    let mut value = u128::from(ms & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (72 - 8 * i);
    }
    (0..26).map(|i| CROCKFORD[((value >> (125 - 5 * i)) & 31) as usize] as char).collect()
}

/// The time a ULID was made, milliseconds since the epoch (its first 10
/// characters); `None` for a string that is not a ULID.
pub fn ulid_millis(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    if b.len() != 26 || !matches!(b[0], b'0'..=b'7') {
        return None;
    }
    let mut value: u128 = 0;
    for &c in b {
        let digit = CROCKFORD.iter().position(|&d| d == c.to_ascii_uppercase())?;
        value = value << 5 | digit as u128;
    }
    Some((value >> 80) as u64)
}

/// The UUID v7 of time `ms` (its low 48 bits), its other bits from `random`.
///
/// ```
/// let id = kvgen::id::uuid_v7_from(0x0123_4567_89ab, [0; 16]);
/// assert_eq!(id, "01234567-89ab-7000-8000-000000000000");
/// ```
pub fn uuid_v7_from(ms: u64, random: [u8; 16]) -> String {
    let mut b = random;
    b[..6].copy_from_slice(&(ms & 0xFFFF_FFFF_FFFF).to_be_bytes()[2..]);
    b[6] = 0x70 | (b[6] & 0x0F);
    b[8] = 0x80 | (b[8] & 0x3F);
    hyphenated(b)
}

/// The UUID v4 of `random` (less its version and variant bits).
///
/// ```
/// assert_eq!(kvgen::id::uuid_v4_from([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
/// ```
pub fn uuid_v4_from(random: [u8; 16]) -> String {
    let mut b = random;
    b[6] = 0x40 | (b[6] & 0x0F);
    b[8] = 0x80 | (b[8] & 0x3F);
    hyphenated(b)
}

fn hyphenated(b: [u8; 16]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}
