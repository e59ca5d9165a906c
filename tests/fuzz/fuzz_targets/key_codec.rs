//! Any text given to the key decoders: no panic, and what decodes encodes
//! back to the same text.
#![no_main]

use kvgen::key::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Some(v) = decode::<String>(s) {
        assert_eq!(encode(&v), s);
    }
    if let Some(v) = decode::<u64>(s) {
        assert_eq!(encode(&v), s);
    }
    if let Some(v) = decode::<i64>(s) {
        assert_eq!(encode(&v), s);
    }
    if let Some(v) = decode::<i128>(s) {
        assert_eq!(encode(&v), s);
    }
    if let Some(v) = decode::<bool>(s) {
        assert_eq!(encode(&v), s);
    }
    if let Some(v) = decode::<char>(s) {
        assert_eq!(encode(&v), s);
    }
    // Encoding any text never yields a separator or a control byte.
    let e = encode(s);
    assert!(!e.contains(':') && !e.bytes().any(|b| b < 0x20 || b == 0x7f));
});
