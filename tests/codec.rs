//! Property tests of the key codec: round trip, injectivity, no forged
//! separator, and integer order equal to key order.

use kvgen::key::{decode, decode_str, encode, encode_desc};
use proptest::prelude::*;

fn clean(s: &str) -> bool {
    !s.contains(':') && !s.bytes().any(|b| b < 0x20 || b == 0x7f)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn desc_i64_key_order_is_reverse_value_order(a in any::<i64>(), b in any::<i64>()) {
        prop_assert_eq!(b.cmp(&a), encode_desc(&a).cmp(&encode_desc(&b)));
        prop_assert_eq!(encode_desc(&a).len(), encode(&a).len());
    }

    #[test]
    fn desc_u64_and_i128_key_order_is_reverse_value_order(a in any::<u64>(), b in any::<u64>(), c in any::<i128>(), d in any::<i128>()) {
        prop_assert_eq!(b.cmp(&a), encode_desc(&a).cmp(&encode_desc(&b)));
        prop_assert_eq!(d.cmp(&c), encode_desc(&c).cmp(&encode_desc(&d)));
    }

    #[test]
    fn desc_keys_are_injective_and_compound_order_holds(a in any::<i32>(), b in any::<i32>(), x in any::<u32>(), y in any::<u32>()) {
        // (actor's group, at desc, id): the key order is (at descending, then id ascending).
        let k1 = format!("{}:{}", encode_desc(&a), encode(&x));
        let k2 = format!("{}:{}", encode_desc(&b), encode(&y));
        prop_assert_eq!(b.cmp(&a).then(x.cmp(&y)), k1.cmp(&k2));
    }

    #[test]
    fn strings_round_trip(s in any::<String>()) {
        let e = encode(&s);
        prop_assert_eq!(decode::<String>(&e), Some(s));
    }

    #[test]
    fn strings_are_injective(a in any::<String>(), b in any::<String>()) {
        prop_assume!(a != b);
        prop_assert_ne!(encode(&a), encode(&b));
    }

    #[test]
    fn no_value_forges_a_separator(s in any::<String>()) {
        prop_assert!(clean(&encode(&s)));
    }

    #[test]
    fn compound_keys_are_injective(a in "[a-z:%]{0,4}", b in "[a-z:%]{0,4}", c in "[a-z:%]{0,4}", d in "[a-z:%]{0,4}") {
        prop_assume!((&a, &b) != (&c, &d));
        let k1 = format!("{}:{}", encode(&a), encode(&b));
        let k2 = format!("{}:{}", encode(&c), encode(&d));
        prop_assert_ne!(k1, k2);
    }

    #[test]
    fn decoding_accepts_only_canonical_forms(s in "[a-zA-Z0-9%:]{0,8}") {
        if let Some(v) = decode_str(&s) {
            prop_assert_eq!(encode(&v), s);
        }
    }

    #[test]
    fn u64_order_is_key_order(a in any::<u64>(), b in any::<u64>()) {
        prop_assert_eq!(a.cmp(&b), encode(&a).cmp(&encode(&b)));
        prop_assert_eq!(decode::<u64>(&encode(&a)), Some(a));
    }

    #[test]
    fn i64_order_is_key_order(a in any::<i64>(), b in any::<i64>()) {
        prop_assert_eq!(a.cmp(&b), encode(&a).cmp(&encode(&b)));
        prop_assert_eq!(decode::<i64>(&encode(&a)), Some(a));
    }

    #[test]
    fn i32_and_u16_order_is_key_order(a in any::<i32>(), b in any::<i32>(), c in any::<u16>(), d in any::<u16>()) {
        prop_assert_eq!(a.cmp(&b), encode(&a).cmp(&encode(&b)));
        prop_assert_eq!(c.cmp(&d), encode(&c).cmp(&encode(&d)));
        prop_assert_eq!(decode::<i32>(&encode(&a)), Some(a));
    }

    #[test]
    fn i128_and_u128_round_trip_in_order(a in any::<i128>(), b in any::<i128>(), c in any::<u128>()) {
        prop_assert_eq!(a.cmp(&b), encode(&a).cmp(&encode(&b)));
        prop_assert_eq!(decode::<i128>(&encode(&a)), Some(a));
        prop_assert_eq!(decode::<u128>(&encode(&c)), Some(c));
    }

    #[test]
    fn integer_decoding_rejects_other_widths(s in "[0-9]{0,25}") {
        if let Some(v) = decode::<u64>(&s) {
            prop_assert_eq!(encode(&v), s);
        }
    }
}

#[test]
fn bools_and_unit_enums() {
    assert_eq!(encode(&false), "0");
    assert_eq!(encode(&true), "1");
    assert_eq!(decode::<bool>("2"), None);
    assert_eq!(encode(&blog::PostStatus::Published), "published");
    assert_eq!(decode::<blog::PostStatus>("draft"), Some(blog::PostStatus::Draft));
    assert_eq!(decode::<blog::PostStatus>("Draft"), None);
}

#[derive(kvgen::KeyPart, serde::Serialize, serde::Deserialize, Debug, PartialEq)]
enum Odd {
    #[serde(rename = "a:b")]
    Colon,
    #[serde(untagged)]
    Nothing,
}

#[test]
fn unit_enum_keys_never_panic() {
    // A serde name with a separator is escaped; an untagged variant keys as its JSON text.
    assert_eq!(encode(&Odd::Colon), "a%3Ab");
    assert_eq!(decode::<Odd>("a%3Ab"), Some(Odd::Colon));
    assert_eq!(encode(&Odd::Nothing), "null");
    assert_eq!(decode::<Odd>("null"), Some(Odd::Nothing));
}

/// Every value of the 8-bit types, and the extremes of the wider ones: the
/// descending form reverses the order, and `MIN` and `MAX` swap ends.
#[test]
fn desc_order_is_reverse_for_every_8_bit_value_and_the_extremes() {
    let i8s: Vec<String> = (i8::MIN..=i8::MAX).map(|v| encode_desc(&v)).collect();
    assert!(i8s.windows(2).all(|w| w[0] > w[1]), "i8");
    let u8s: Vec<String> = (u8::MIN..=u8::MAX).map(|v| encode_desc(&v)).collect();
    assert!(u8s.windows(2).all(|w| w[0] > w[1]), "u8");
    assert_eq!(encode_desc(&i8::MAX), "000");
    assert_eq!(encode_desc(&i8::MIN), "255");
    assert_eq!(encode_desc(&-1i8), "128");
    assert_eq!(encode_desc(&0i8), "127");
    assert_eq!(encode_desc(&u64::MAX), "00000000000000000000");
    assert_eq!(encode_desc(&0u64), "18446744073709551615");
    assert_eq!(encode_desc(&i64::MIN), encode(&u64::MAX));
    assert_eq!(encode_desc(&i64::MAX), encode(&0u64));
    assert_eq!(encode_desc(&Some(5u32)), encode_desc(&5u32));
    assert_eq!(encode_desc(&i128::MIN).len(), 39);
    // README's example of the layout.
    assert_eq!(encode(&-1i64), "09223372036854775807");
    assert_eq!(encode_desc(&-1i64), "09223372036854775808");
}
