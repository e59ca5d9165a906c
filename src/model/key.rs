//! The key codec: how values become key components, and how keys are laid out.
//!
//! ```text
//! record            {scope/}{model}:{id}
//! unique index      {scope/}{model}.{index}:{v1}[:{v2}...]         value = record id
//! secondary index   {scope/}{model}.{index}:{v1}[:{v2}...]:{id}     value empty
//! ```
//!
//! Components are encoded so that no value can forge a separator and distinct
//! values always give distinct keys:
//! - strings keep their case; `%`, `:` and control bytes become `%XX`;
//! - unsigned integers are zero-padded to the type's width, signed ones are
//!   offset by 2^(bits-1) first, so byte order of keys is numeric order;
//! - `bool` is `0` / `1`; unit enums use their serde name (derive [`KeyPart`](derive@crate::KeyPart));
//! - an integer at a `desc` index position is written as `MAX - v` (of the
//!   offset value for signed types), same width: key order is reverse numeric
//!   order ([`DescKeyPart`]).
//!
//! Decoding accepts only the canonical form, so `encode(decode(s)) == s`.

/// A type that can be one component of a key.
///
/// Implemented for strings, integers, `bool`, `char` and `Option` (where `None`
/// means "no index entry"); derive it for unit enums, or implement it for your
/// own id types. An implementation must be injective (distinct values, distinct
/// components) and must not write `:` or control bytes; [`encode_str`] does both
/// for any string form.
///
/// An id type of your own, written as its string form:
///
/// ```
/// use kvgen::key::{self, decode_str, encode_str};
/// use kvgen::KeyPart;
///
/// #[derive(Debug, PartialEq)]
/// struct Sku(String);
///
/// impl KeyPart for Sku {
///     fn write_key(&self, out: &mut String) {
///         encode_str(&self.0, out)
///     }
///     fn read_key(part: &str) -> Option<Self> {
///         decode_str(part).map(Sku)
///     }
/// }
///
/// assert_eq!(key::encode(&Sku("tea:green".into())), "tea%3Agreen");
/// assert_eq!(key::decode::<Sku>("tea%3Agreen"), Some(Sku("tea:green".into())));
/// // `Option::None` is the one absent value: no index entry.
/// assert!(None::<u8>.is_absent() && !Some(1u8).is_absent());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of a KV key",
    label = "used in a key here",
    note = "keys are built from strings, integers, bool, char, unit enums that derive `kvgen::KeyPart`, and types that implement it"
)]
pub trait KeyPart {
    /// Appends this value's component to `out`.
    fn write_key(&self, out: &mut String);

    /// Parses a component written by [`write_key`](KeyPart::write_key); `None`
    /// for anything it would not have written.
    fn read_key(part: &str) -> Option<Self>
    where
        Self: Sized;

    /// `true` when the value stands for "absent": the record gets no entry in
    /// an index over this field. Only `Option::None` says so.
    fn is_absent(&self) -> bool {
        false
    }

    /// A component as a person wrote the value, for error fields: an integer
    /// without its padding or sign offset, text without its escapes. The
    /// default undoes [`encode_str`]'s escapes.
    fn display_key(part: &str) -> String
    where
        Self: Sized,
    {
        decode_str(part).unwrap_or_else(|| part.to_string())
    }
}

/// [`KeyPart::display_key`] of types that print as they parse.
macro_rules! display_as_parsed {
    () => {
        fn display_key(part: &str) -> String {
            Self::read_key(part).map_or_else(|| part.to_string(), |v| v.to_string())
        }
    };
}

/// Percent-encodes `%`, `:` and control bytes of `s` onto `out`.
///
/// ```
/// let mut out = String::from("tag:");
/// kvgen::key::encode_str("50%:off\n", &mut out);
/// assert_eq!(out, "tag:50%25%3Aoff%0A");
/// assert_eq!(kvgen::key::decode_str("50%25%3Aoff%0A").as_deref(), Some("50%:off\n"));
/// ```
pub fn encode_str(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // Most values need no escape: copy them whole.
    if !s.bytes().any(|b| needs_escape(b as u32)) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if needs_escape(c as u32) {
            let b = c as u8;
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        } else {
            out.push(c);
        }
    }
}

fn needs_escape(c: u32) -> bool {
    c == '%' as u32 || c == ':' as u32 || c < 0x20 || c == 0x7f
}

/// Decodes what [`encode_str`] wrote; `None` for a non-canonical form (a bare
/// `:` or control byte, a `%XX` that did not need escaping, lowercase hex).
pub fn decode_str(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            };
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            let v = hi << 4 | lo;
            if !needs_escape(v as u32) {
                return None;
            }
            out.push(v);
            i += 3;
        } else if needs_escape(b as u32) {
            return None;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl KeyPart for str {
    fn write_key(&self, out: &mut String) {
        encode_str(self, out)
    }
}

impl KeyPart for String {
    fn write_key(&self, out: &mut String) {
        encode_str(self, out)
    }
    fn read_key(part: &str) -> Option<Self> {
        decode_str(part)
    }
}

/// What a repository's id argument may be for a model whose id is `I`: the
/// id type itself, and `str` for a `String` id, so `get("u1")` needs no
/// `to_string()` (as the finders take `&str`). Both write one key.
///
/// ```
/// use kvgen::{key, IdArg};
///
/// fn user_key<A: IdArg<String> + ?Sized>(id: &A) -> String {
///     format!("user:{}", key::encode(id))
/// }
///
/// assert_eq!(user_key("u1"), "user:u1");
/// assert_eq!(user_key(&String::from("u1")), user_key("u1"));
/// ```
pub trait IdArg<I>: KeyPart {}

impl<I: KeyPart> IdArg<I> for I {}

impl IdArg<String> for str {}

impl<T: KeyPart + ?Sized> KeyPart for &T {
    fn write_key(&self, out: &mut String) {
        (**self).write_key(out)
    }
    fn read_key(_: &str) -> Option<Self> {
        None
    }
    fn is_absent(&self) -> bool {
        (**self).is_absent()
    }
}

impl<T: KeyPart> KeyPart for Option<T> {
    fn write_key(&self, out: &mut String) {
        if let Some(v) = self {
            v.write_key(out)
        }
    }
    fn read_key(part: &str) -> Option<Self> {
        T::read_key(part).map(Some)
    }
    fn is_absent(&self) -> bool {
        match self {
            Some(v) => v.is_absent(),
            None => true,
        }
    }
}

fn write_padded(mut v: u128, width: usize, out: &mut String) {
    // Digits from the right into a stack buffer: no formatter on this hot path.
    let mut buf = [b'0'; 39];
    let mut i = buf.len();
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let digits = &buf[(buf.len() - width).min(i)..];
    out.push_str(std::str::from_utf8(digits).expect("ASCII digits"));
}

fn read_padded(part: &str, width: usize) -> Option<u128> {
    if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

macro_rules! unsigned_key_part {
    ($($t:ty => $width:expr),*) => {$(
        impl KeyPart for $t {
            fn write_key(&self, out: &mut String) {
                write_padded(*self as u128, $width, out)
            }
            fn read_key(part: &str) -> Option<Self> {
                read_padded(part, $width).and_then(|v| <$t>::try_from(v).ok())
            }
            display_as_parsed!();
        }
    )*};
}

macro_rules! signed_key_part {
    ($($t:ty, $u:ty => $width:expr),*) => {$(
        impl KeyPart for $t {
            fn write_key(&self, out: &mut String) {
                // Offset by 2^(bits-1): flipping the sign bit maps MIN..=MAX onto 0..=uMAX in order.
                let shifted = (*self as $u) ^ (1 << (<$u>::BITS - 1));
                write_padded(shifted as u128, $width, out)
            }
            fn read_key(part: &str) -> Option<Self> {
                let shifted = <$u>::try_from(read_padded(part, $width)?).ok()?;
                Some((shifted ^ (1 << (<$u>::BITS - 1))) as $t)
            }
            display_as_parsed!();
        }
    )*};
}

unsigned_key_part!(u8 => 3, u16 => 5, u32 => 10, u64 => 20, u128 => 39);
signed_key_part!(i8, u8 => 3, i16, u16 => 5, i32, u32 => 10, i64, u64 => 20, i128, u128 => 39);

/// A key component that can also be written in reverse order: the
/// descending form of a `#[kv(index, desc)]` field. Implemented for the
/// integer types (and `Option` and references of them), whose fixed-width
/// form makes reversal exact: the descending component of `v` is the
/// ascending component of `MAX - v` (of the offset value, for signed types),
/// so byte order of keys is reverse numeric order, the same width.
pub trait DescKeyPart: KeyPart {
    /// Appends this value's descending component to `out`.
    fn write_desc_key(&self, out: &mut String);
}

macro_rules! desc_unsigned {
    ($($t:ty => $width:expr),*) => {$(
        impl DescKeyPart for $t {
            fn write_desc_key(&self, out: &mut String) {
                write_padded((<$t>::MAX - *self) as u128, $width, out)
            }
        }
    )*};
}

macro_rules! desc_signed {
    ($($t:ty, $u:ty => $width:expr),*) => {$(
        impl DescKeyPart for $t {
            fn write_desc_key(&self, out: &mut String) {
                // The ascending form is the value with its sign bit flipped; its complement reverses the order.
                let shifted = (*self as $u) ^ (1 << (<$u>::BITS - 1));
                write_padded((!shifted) as u128, $width, out)
            }
        }
    )*};
}

desc_unsigned!(u8 => 3, u16 => 5, u32 => 10, u64 => 20, u128 => 39);
desc_signed!(i8, u8 => 3, i16, u16 => 5, i32, u32 => 10, i64, u64 => 20, i128, u128 => 39);

impl DescKeyPart for usize {
    fn write_desc_key(&self, out: &mut String) {
        (*self as u64).write_desc_key(out)
    }
}

impl DescKeyPart for isize {
    fn write_desc_key(&self, out: &mut String) {
        (*self as i64).write_desc_key(out)
    }
}

impl<T: DescKeyPart + ?Sized> DescKeyPart for &T {
    fn write_desc_key(&self, out: &mut String) {
        (**self).write_desc_key(out)
    }
}

impl<T: DescKeyPart> DescKeyPart for Option<T> {
    fn write_desc_key(&self, out: &mut String) {
        if let Some(v) = self {
            v.write_desc_key(out)
        }
    }
}

/// A value written in its descending form ([`DescKeyPart`]): generated code
/// wraps the fields of `desc` index positions in it.
#[derive(Debug, Clone, Copy)]
pub struct Desc<T>(pub T);

impl<T: DescKeyPart> KeyPart for Desc<T> {
    fn write_key(&self, out: &mut String) {
        self.0.write_desc_key(out)
    }
    fn read_key(_: &str) -> Option<Self> {
        None
    }
    fn is_absent(&self) -> bool {
        self.0.is_absent()
    }
}

/// The descending component of one value.
///
/// ```
/// use kvgen::key::{encode, encode_desc};
///
/// assert_eq!(encode_desc(&0u8), "255");
/// assert!(encode_desc(&2u32) < encode_desc(&1u32), "reverse order, same width");
/// assert_eq!(encode_desc(&7u64).len(), encode(&7u64).len());
/// ```
pub fn encode_desc<T: DescKeyPart + ?Sized>(value: &T) -> String {
    let mut out = String::new();
    value.write_desc_key(&mut out);
    out
}

impl KeyPart for usize {
    fn write_key(&self, out: &mut String) {
        (*self as u64).write_key(out)
    }
    fn read_key(part: &str) -> Option<Self> {
        u64::read_key(part).and_then(|v| usize::try_from(v).ok())
    }
    display_as_parsed!();
}

impl KeyPart for isize {
    fn write_key(&self, out: &mut String) {
        (*self as i64).write_key(out)
    }
    fn read_key(part: &str) -> Option<Self> {
        i64::read_key(part).and_then(|v| isize::try_from(v).ok())
    }
    display_as_parsed!();
}

impl KeyPart for bool {
    fn write_key(&self, out: &mut String) {
        out.push(if *self { '1' } else { '0' })
    }
    fn read_key(part: &str) -> Option<Self> {
        match part {
            "0" => Some(false),
            "1" => Some(true),
            _ => None,
        }
    }
    display_as_parsed!();
}

impl KeyPart for char {
    fn write_key(&self, out: &mut String) {
        encode_str(self.encode_utf8(&mut [0; 4]), out)
    }
    fn read_key(part: &str) -> Option<Self> {
        let s = decode_str(part)?;
        let mut chars = s.chars();
        let c = chars.next()?;
        chars.next().is_none().then_some(c)
    }
}

/// Encodes one value as a key component: byte order of the components is
/// the values' order.
///
/// ```
/// use kvgen::key::encode;
///
/// assert_eq!(encode(&42u32), "0000000042");
/// assert_eq!(encode(&-1i8), "127", "signed values are offset by 2^(bits-1)");
/// assert!(encode(&-1i8) < encode(&0i8));
/// assert_eq!(encode("a:b"), "a%3Ab");
/// assert_eq!(encode(&true), "1");
/// ```
pub fn encode<T: KeyPart + ?Sized>(value: &T) -> String {
    let mut out = String::new();
    value.write_key(&mut out);
    out
}

/// Decodes one key component: `None` for anything but the canonical form
/// [`encode`] writes.
///
/// ```
/// use kvgen::key::{decode, encode};
///
/// assert_eq!(decode::<u32>("0000000042"), Some(42));
/// assert_eq!(decode::<u32>("42"), None, "not zero-padded");
/// assert_eq!(decode::<String>("a%3Ab").as_deref(), Some("a:b"));
/// assert_eq!(encode(&decode::<i64>(&encode(&-7i64)).unwrap()), encode(&-7i64));
/// ```
pub fn decode<T: KeyPart>(part: &str) -> Option<T> {
    T::read_key(part)
}

/// Support for `#[derive(KeyPart)]` on unit enums: the component is the
/// variant's serde name.
#[doc(hidden)]
pub fn write_serde_unit<T: serde::Serialize>(value: &T, out: &mut String) {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => encode_str(&s, out),
        // A variant whose serde form is not a string (`#[serde(untagged)]` gives
        // `null`): its JSON text, so that the key is still written.
        Ok(other) => encode_str(&other.to_string(), out),
        Err(e) => encode_str(&e.to_string(), out),
    }
}

#[doc(hidden)]
pub fn read_serde_unit<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    let text = decode_str(part)?;
    serde_json::from_value(serde_json::Value::String(text.clone())).ok().or_else(|| serde_json::from_str(&text).ok())
}

/// Builds the components of one index key; generated code calls
/// [`part`](KeyWriter::part) once per indexed field.
#[derive(Debug)]
pub struct KeyWriter {
    buf: String,
    parts: usize,
    absent: bool,
}

impl KeyWriter {
    pub(crate) fn new(prefix: String) -> Self {
        KeyWriter { buf: prefix, parts: 0, absent: false }
    }

    /// Appends one component (`:`-separated).
    pub fn part<T: KeyPart + ?Sized>(&mut self, value: &T) {
        if value.is_absent() {
            self.absent = true;
        }
        if self.parts > 0 {
            self.buf.push(':');
        }
        self.parts += 1;
        value.write_key(&mut self.buf);
    }

    /// The key, or `None` when a component was absent.
    pub(crate) fn finish(self) -> Option<String> {
        (!self.absent).then_some(self.buf)
    }

    /// The buffer, whether or not a component was absent, and whether one was.
    pub(crate) fn into_parts(self) -> (String, bool) {
        (self.buf, self.absent)
    }
}

/// The separator after a scope: its own trailing `:` when it has one
/// (`prod:` gives `prod:user:u1`, a layout many projects already have), `/`
/// otherwise (`prod` gives `prod/user:u1`). None for no scope.
///
/// ```
/// use kvgen::key::{scope_head, scope_head_len};
///
/// assert_eq!(scope_head("prod"), ("prod", "/"));
/// assert_eq!(scope_head("prod:"), ("prod:", ""));
/// assert_eq!(scope_head_len("prod"), 5);
/// ```
pub fn scope_head(scope: &str) -> (&str, &'static str) {
    match scope {
        "" => ("", ""),
        s if s.ends_with(':') => (s, ""),
        s => (s, "/"),
    }
}

/// How many bytes the scope and its separator take at the head of a key.
pub fn scope_head_len(scope: &str) -> usize {
    let (s, sep) = scope_head(scope);
    s.len() + sep.len()
}

fn push_scope(buf: &mut String, scope: &str) {
    let (s, sep) = scope_head(scope);
    buf.push_str(s);
    buf.push_str(sep);
}

/// Where one model's keys live: `{scope/}{model}`.
///
/// ```
/// use kvgen::key::KeySpace;
///
/// assert_eq!(KeySpace::new("", "user").record_key_of(&7u8), "user:007");
/// assert_eq!(KeySpace::new("prod", "user").record_key("u1"), "prod/user:u1");
/// assert_eq!(KeySpace::new("prod:", "user").index_prefix("email"), "prod:user.email:");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct KeySpace<'a> {
    scope: &'a str,
    model: &'static str,
}

impl<'a> KeySpace<'a> {
    /// The key space of `model` under `scope` (`""` for none).
    pub fn new(scope: &'a str, model: &'static str) -> Self {
        KeySpace { scope, model }
    }

    fn head_with(&self, cap: usize) -> String {
        // Room for the components too, so that writing them does not reallocate.
        let mut s = String::with_capacity(self.scope.len() + self.model.len() + cap + 48);
        push_scope(&mut s, self.scope);
        s.push_str(self.model);
        s
    }

    /// `{scope/}{model}`: what every key of the model starts with.
    pub fn head(&self) -> String {
        self.head_with(0)
    }

    /// `{scope/}{model}:` — the prefix every record key starts with.
    pub fn record_prefix(&self) -> String {
        let mut s = self.head_with(1);
        s.push(':');
        s
    }

    /// `{scope/}{model}:{id}` for an already encoded id.
    pub fn record_key(&self, encoded_id: &str) -> String {
        let mut s = self.head_with(encoded_id.len() + 1);
        s.push(':');
        s.push_str(encoded_id);
        s
    }

    /// `{scope/}{model}:{id}`, encoding `id` in place.
    pub fn record_key_of<T: KeyPart + ?Sized>(&self, id: &T) -> String {
        let mut s = self.head_with(1);
        s.push(':');
        id.write_key(&mut s);
        s
    }

    /// `{scope/}{model}.{index}:` — the prefix of every entry of an index.
    pub fn index_prefix(&self, index: &str) -> String {
        let mut s = self.head_with(index.len() + 2);
        s.push('.');
        s.push_str(index);
        s.push(':');
        s
    }

    pub(crate) fn index_writer(&self, index: &str) -> KeyWriter {
        KeyWriter::new(self.index_prefix(index))
    }

    /// A writer that reuses `buf` (cleared) for the key of an entry of `index`.
    pub(crate) fn index_writer_in(&self, index: &str, mut buf: String) -> KeyWriter {
        buf.clear();
        push_scope(&mut buf, self.scope);
        buf.push_str(self.model);
        buf.push('.');
        buf.push_str(index);
        buf.push(':');
        KeyWriter::new(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_only_separators_and_controls() {
        assert_eq!(encode("Ada:Lovelace%\n é/x"), "Ada%3ALovelace%25%0A é/x");
        assert_eq!(decode::<String>("Ada%3ALovelace%25%0A é/x").unwrap(), "Ada:Lovelace%\n é/x");
        assert_eq!(decode::<String>("a%3a"), None, "lowercase hex is not canonical");
        assert_eq!(decode::<String>("%41"), None, "an escape that was not needed is not canonical");
        assert_eq!(decode::<String>("a:b"), None);
    }

    #[test]
    fn integers_are_fixed_width_and_offset() {
        assert_eq!(encode(&7u32), "0000000007");
        assert_eq!(encode(&u64::MAX), "18446744073709551615");
        assert_eq!(encode(&i8::MIN), "000");
        assert_eq!(encode(&-1i8), "127");
        assert_eq!(encode(&0i8), "128");
        assert_eq!(decode::<u32>("7"), None);
        assert_eq!(decode::<i8>("127"), Some(-1));
        assert_eq!(decode::<u8>("256"), None);
    }
}
