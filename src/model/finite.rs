//! Finds NaN and infinite floats in a value before it is written.
//!
//! serde_json writes a non-finite float as `null`: a record holding one would
//! be stored as something that does not read back (a parse error for an
//! `f64` field, `None` for an `Option<f64>`). [`check`] walks the value with
//! a serializer that produces nothing and stops at the first such float.

use serde::ser::{self, Serialize};

/// Why a value cannot be written: the path to its first non-finite float.
#[derive(Debug)]
pub(crate) struct NonFinite(pub String);

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NonFinite {}

impl ser::Error for NonFinite {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        NonFinite(msg.to_string())
    }
}

/// `Ok` when every float in `value` is finite; otherwise where the first
/// non-finite one is (a field name, or `[n]` for an element).
pub(crate) fn check<T: Serialize + ?Sized>(value: &T) -> Result<(), NonFinite> {
    value.serialize(&mut Walk { path: Vec::new() })
}

/// Where the walk is: a field or variant name, or an element's position.
/// Written out only for the error, so the walk allocates nothing.
#[derive(Clone, Copy)]
enum Step {
    Name(&'static str),
    Index(usize),
}

struct Walk {
    path: Vec<Step>,
}

impl Walk {
    fn float(&self, finite: bool, v: impl std::fmt::Display) -> Result<(), NonFinite> {
        if finite {
            return Ok(());
        }
        let path: Vec<String> = self
            .path
            .iter()
            .map(|s| match s {
                Step::Name(n) => n.to_string(),
                Step::Index(i) => format!("[{i}]"),
            })
            .collect();
        let at = if path.is_empty() { "the value".to_string() } else { format!("`{}`", path.join(".")) };
        Err(NonFinite(format!("{at} is {v}")))
    }

    fn nested<T: Serialize + ?Sized>(&mut self, step: Step, value: &T) -> Result<(), NonFinite> {
        self.path.push(step);
        value.serialize(&mut *self)?;
        self.path.pop();
        Ok(())
    }
}

type Done = Result<(), NonFinite>;

impl<'a> ser::Serializer for &'a mut Walk {
    type Ok = ();
    type Error = NonFinite;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Seq<'a>;
    type SerializeStruct = Seq<'a>;
    type SerializeStructVariant = Seq<'a>;

    fn serialize_f32(self, v: f32) -> Done {
        self.float(v.is_finite(), v)
    }
    fn serialize_f64(self, v: f64) -> Done {
        self.float(v.is_finite(), v)
    }
    fn serialize_bool(self, _: bool) -> Done {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Done {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Done {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Done {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Done {
        Ok(())
    }
    fn serialize_i128(self, _: i128) -> Done {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Done {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Done {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Done {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Done {
        Ok(())
    }
    fn serialize_u128(self, _: u128) -> Done {
        Ok(())
    }
    fn serialize_char(self, _: char) -> Done {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Done {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Done {
        Ok(())
    }
    fn serialize_none(self) -> Done {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Done {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Done {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Done {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Done {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Done {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Done {
        self.nested(Step::Name(variant), value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, NonFinite> {
        Ok(Seq { walk: self, n: 0 })
    }
    fn serialize_tuple(self, _: usize) -> Result<Seq<'a>, NonFinite> {
        Ok(Seq { walk: self, n: 0 })
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Seq<'a>, NonFinite> {
        Ok(Seq { walk: self, n: 0 })
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Seq<'a>, NonFinite> {
        Ok(Seq { walk: self, n: 0 })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Seq<'a>, NonFinite> {
        Ok(Seq { walk: self, n: 0 })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Seq<'a>, NonFinite> {
        Ok(Seq { walk: self, n: 0 })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Seq<'a>, NonFinite> {
        Ok(Seq { walk: self, n: 0 })
    }
}

/// Any compound value: elements are named by position, fields by name.
struct Seq<'a> {
    walk: &'a mut Walk,
    n: usize,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.n += 1;
        self.walk.nested(Step::Index(self.n - 1), value)
    }
}

macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Seq<'_> {
            type Ok = ();
            type Error = NonFinite;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
                self.element(value)
            }
            fn end(self) -> Done {
                Ok(())
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Seq<'_> {
            type Ok = ();
            type Error = NonFinite;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Done {
                self.walk.nested(Step::Name(key), value)
            }
            fn end(self) -> Done {
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Seq<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Done {
        key.serialize(&mut *self.walk)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.element(value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use std::collections::BTreeMap;

    #[test]
    fn finds_non_finite_floats_anywhere() {
        assert!(check(&1.5f64).is_ok());
        assert_eq!(check(&f64::NAN).unwrap_err().0, "the value is NaN");
        assert!(check(&Some(f32::INFINITY)).is_err());
        assert!(check(&vec![1.0, 2.0, f64::NEG_INFINITY]).unwrap_err().0.contains("[2]"));
        let mut m = BTreeMap::new();
        m.insert("a", vec![(1u8, f64::NAN)]);
        assert!(check(&m).is_err());
        assert!(check(&("x", 3u64, None::<f64>)).is_ok());
    }
}
