//! One test per check of a model: each lowers a tiny struct with exactly one
//! mistake and asserts the one error it gives, its message and the token it
//! points at. The `valid::check_*` functions are also run alone on IR broken
//! by hand, so each is shown to find its mistake by itself.

use kvgen_codegen_core::attr;
use kvgen_codegen_core::ctxt::Ctxt;
use kvgen_codegen_core::ir::{Model, Spanned};
use kvgen_codegen_core::valid;
use proc_macro2::Span;

/// The errors lowering `src` gives: each message with the text its span
/// covers and the column it starts at. `src` is one line.
fn errors(src: &str) -> Vec<(String, String, usize)> {
    let input: syn::DeriveInput = syn::parse_str(src).unwrap();
    let err = match attr::lower(&input) {
        Ok(_) => panic!("no error for {src}"),
        Err(e) => e,
    };
    err.into_iter()
        .map(|e| {
            let (start, end) = (e.span().start(), e.span().end());
            assert_eq!((start.line, end.line), (1, 1), "{src}");
            (e.to_string(), src[start.column..end.column].to_string(), start.column)
        })
        .collect()
}

/// Asserts `src` gives exactly one error, whose message starts with
/// `message`, at the `nth` (from 1) occurrence of `at` in `src`.
fn one_error(src: &str, message: &str, at: &str, nth: usize) {
    let errs = errors(src);
    assert_eq!(errs.len(), 1, "{src}: {errs:?}");
    let (msg, text, column) = &errs[0];
    assert!(msg.starts_with(message), "{src}: got `{msg}`, expected `{message}..`");
    let want = src.match_indices(at).nth(nth - 1).unwrap_or_else(|| panic!("no {nth}th `{at}` in {src}")).0;
    assert_eq!((text.as_str(), *column), (at, want), "{src}: `{msg}` points elsewhere");
}

const FIELDS: &str = "{ #[kv(id)] id: String, a: String, b: u64 }";

fn model(container: &str) -> String {
    format!("{container} struct M {FIELDS}")
}

/// A valid model, for breaking by hand.
fn good() -> Model {
    attr::lower(&syn::parse_str(&model("#[kv(unique(a), index(b))]")).unwrap()).unwrap()
}

/// The errors one check gives on `m`, by message.
fn run(check: impl FnOnce(&Ctxt, &Model), m: &Model) -> Vec<String> {
    let cx = Ctxt::new();
    check(&cx, m);
    cx.check().err().map(|e| e.into_iter().map(|e| e.to_string()).collect()).unwrap_or_default()
}

#[test]
fn the_good_model_passes_every_check() {
    let m = good();
    for check in [
        valid::check_prefix,
        valid::check_binding,
        valid::check_ttl,
        valid::check_model_name,
        valid::check_id_type,
        valid::check_method_names,
    ] {
        assert_eq!(run(check, &m), Vec::<String>::new());
    }
    assert_eq!(run(|cx, m| assert!(valid::check_index_names(cx, m)), &m), Vec::<String>::new());
}

// ---- valid::check_*: alone on IR, and through lowering

#[test]
fn check_prefix() {
    let mut m = good();
    m.prefix = Spanned::new("A:b".into(), Span::call_site());
    assert_eq!(run(valid::check_prefix, &m), ["invalid prefix `A:b`: use lowercase letters, digits, `_` and `-`"]);
    one_error(&model(r#"#[kv(prefix = "Bad")]"#), "invalid prefix `Bad`", r#""Bad""#, 1);
}

#[test]
fn check_binding() {
    let mut m = good();
    m.binding = Spanned::new("a-b".into(), Span::call_site());
    assert_eq!(
        run(valid::check_binding, &m),
        ["invalid binding `a-b`: use letters, digits and `_`, not starting with a digit"]
    );
    one_error(&model(r#"#[kv(binding = "1X")]"#), "invalid binding `1X`", r#""1X""#, 1);
}

#[test]
fn check_ttl() {
    let mut m = good();
    m.ttl = Some(Spanned::new(59, Span::call_site()));
    assert_eq!(run(valid::check_ttl, &m), ["ttl must be at least 60 seconds (the Workers KV minimum), not 59"]);
    m.ttl = Some(Spanned::new(valid::MAX_TTL_SECS, Span::call_site()));
    assert_eq!(run(valid::check_ttl, &m), Vec::<String>::new());
    m.ttl = Some(Spanned::new(valid::MAX_TTL_SECS + 1, Span::call_site()));
    assert_eq!(run(valid::check_ttl, &m), ["ttl must be at most 2147483647 seconds, not 2147483648"]);
    one_error(&model("#[kv(ttl = 10)]"), "ttl must be at least 60", "10", 1);
    one_error(&model("#[kv(ttl = 2147483648)]"), "ttl must be at most", "2147483648", 1);
}

#[test]
fn check_model_name() {
    let mut m = good();
    m.ident = syn::parse_str("_1").unwrap();
    assert_eq!(run(valid::check_model_name, &m).len(), 1);
    one_error(
        "#[kv(prefix = \"one\")] struct _1 { #[kv(id)] id: String }",
        "kvgen names generated items after the model in snake_case, and `_1` gives `1`",
        "_1",
        1,
    );
}

#[test]
fn check_id_type() {
    let mut m = good();
    m.fields[m.id].ty = syn::parse_str("Vec<u8>").unwrap();
    assert_eq!(run(valid::check_id_type, &m).len(), 1);
    one_error("struct M { #[kv(id)] id: f64 }", "unsupported id type `f64`: floating-point", "f64", 1);
    one_error(
        "struct M { #[kv(id)] id: Option<u64> }",
        "unsupported id type `Option<u64>`: an id cannot be optional",
        "Option<u64>",
        1,
    );
    one_error(
        "struct M { #[kv(id)] id: &'static str }",
        "unsupported id type `&'staticstr`: a model owns its id",
        "&'static str",
        1,
    );
}

#[test]
fn check_index_names() {
    let mut m = good();
    m.indexes[1].name = m.indexes[0].name.clone();
    assert_eq!(
        run(|cx, m| assert!(!valid::check_index_names(cx, m)), &m),
        ["duplicate index name `a`: give one of them `name = \"...\"`"]
    );
    one_error(&model(r#"#[kv(index(a, name = "Bad"))]"#), "invalid index name `Bad`", r#""Bad""#, 1);
    one_error(
        &model(r#"#[kv(index(a, b, name = "x"), unique(b, a, name = "x"))]"#),
        "duplicate index name `x`",
        r#""x""#,
        2,
    );
}

#[test]
fn check_method_names() {
    let src = r#"#[kv(has_one(Q, by = m_id, name = "p"))] struct M { #[kv(id)] id: String, #[kv(belongs_to = P)] p_id: String }"#;
    one_error(src, "two indexes or relations would both generate `load_p`", r#""p""#, 1);
    // Alone: the same model lowered without the relation, then given it back.
    let m = good();
    let mut broken = attr::lower(&syn::parse_str(src.replace(r#""p""#, r#""q""#).as_str()).unwrap()).unwrap();
    broken.has[0].name = syn::parse_str("p").unwrap();
    assert_eq!(run(valid::check_method_names, &m), Vec::<String>::new());
    assert_eq!(
        run(valid::check_method_names, &broken),
        ["two indexes or relations would both generate `load_p`; rename one with `name = \"...\"`"],
        "one error for the relation, though load_ps clashes too"
    );
}

// ---- checks made while attributes are read (attr)

#[test]
fn only_structs_with_named_fields() {
    one_error("enum M { A }", "KvModel can only be derived for a struct; derive KeyPart", "enum", 1);
    one_error("union M { a: u8 }", "KvModel can only be derived for a struct", "union", 1);
    one_error("struct M(String);", "KvModel needs a struct with named fields", "(String)", 1);
    one_error("struct M<T> { #[kv(id)] id: T }", "KvModel does not support generic structs", "<T>", 1);
}

#[test]
fn unknown_keys() {
    one_error(&model(r#"#[kv(bindng = "X")]"#), "unknown kvgen container attribute `bindng`", "bindng", 1);
    one_error(
        "struct M { #[kv(id)] id: String, #[kv(uniqe)] a: String }",
        "unknown kvgen field attribute `uniqe`",
        "uniqe",
        1,
    );
    one_error(&model("#[kv(has_many(P, by = a, foo = 1))]"), "unknown kvgen relation key `foo`", "foo", 1);
    // A typo of `unique` next to `strict` is one error, not also "strict applies to a unique field".
    one_error(
        "struct M { #[kv(id)] id: String, #[kv(uniqe, strict)] a: String }",
        "unknown kvgen field attribute `uniqe`",
        "uniqe",
        1,
    );
}

#[test]
fn duplicate_keys() {
    one_error(&model(r#"#[kv(binding = "A", binding = "B")]"#), "duplicate kvgen attribute `binding`", "binding", 2);
    one_error(
        "struct M { #[kv(id)] id: String, #[kv(meta, meta)] a: String }",
        "duplicate kvgen attribute `meta`",
        "meta",
        2,
    );
    one_error("struct M { #[kv(id, id)] id: String }", "duplicate kvgen attribute `id`", "id", 2);
}

#[test]
fn ttl_is_an_integer() {
    one_error(&model(r#"#[kv(ttl = "x")]"#), "expected integer literal", r#""x""#, 1);
}

#[test]
fn index_attributes() {
    one_error(&model("#[kv(unique())]"), "an index needs at least one field: `unique(a, b)`", "unique", 1);
    one_error(&model(r#"#[kv(unique(name = "x"))]"#), "an index needs at least one field: `unique(a, b)`", "unique", 1);
    one_error(&model("#[kv(index(a, strict))]"), "only a unique index can be `strict`", "strict", 1);
    // A path is no field name; the index it leaves empty is not reported again.
    one_error(&model("#[kv(index(a::b))]"), "expected a field name", "a::b", 1);
    one_error(&model("#[kv(index(a, a))]"), "field `a` is listed twice in this index", "a", 2);
    one_error(&model("#[kv(index(zz))]"), "no field `zz` in `M`", "zz", 1);
}

#[test]
fn the_id() {
    one_error("struct M { a: String }", "`M` has no id: mark the field", "M", 1);
    one_error(
        "struct M { #[kv(id)] id: String, #[kv(id)] b: String }",
        "a model has exactly one `#[kv(id)]` field; this is the second",
        "id",
        3,
    );
    one_error("struct M { #[kv(id, unique)] id: String }", "the id is unique already; remove `unique`", "unique", 1);
    one_error("struct M { #[kv(id, index)] id: String }", "the id is unique already; remove `index`", "index", 1);
    one_error("struct M { #[kv(id, belongs_to = P)] id: String }", "the id cannot be a foreign key", "P", 1);
}

#[test]
fn generated_ids() {
    one_error(
        r#"struct M { #[kv(id)] id: String, #[kv(generate = "ulid")] a: String }"#,
        "`generate` fills the id: put it on the `#[kv(id)]` field",
        r#""ulid""#,
        1,
    );
    one_error(r#"struct M { #[kv(id, generate = "x")] id: String }"#, "unknown id generator `x`", r#""x""#, 1);
    one_error(
        r#"struct M { #[kv(id, generate = "ulid")] id: u64 }"#,
        "a generated id is a `String`; this id is `u64`",
        "u64",
        1,
    );
}

#[test]
fn field_keys_that_conflict() {
    one_error(
        "struct M { #[kv(id)] id: String, #[kv(unique, index)] a: String }",
        "a field is either `unique` or `index`, not both",
        "index",
        1,
    );
    one_error(
        "struct M { #[kv(id)] id: String, #[kv(strict)] a: String }",
        "`strict` applies to a unique field",
        "strict",
        1,
    );
    one_error(
        &model("#[kv(strict)]"),
        "`strict` makes the model's unique indexes strict, and it has none",
        "strict",
        1,
    );
}

#[test]
fn relations() {
    one_error(
        &model("#[kv(has_many())]"),
        "name the child model and its foreign key: `has_many(Post, by = author_id)`",
        "has_many",
        1,
    );
    one_error(
        &model("#[kv(has_many(by = a))]"),
        "name the child model: `has_many(Post, by = author_id)`",
        "has_many",
        1,
    );
    one_error(&model("#[kv(has_one(P))]"), "name the child's foreign-key field: `by = field`", "P", 1);
    one_error(&model("#[kv(has_many(P, Q, by = a))]"), "a relation names one model", "Q", 1);
    one_error(
        &model(r#"#[kv(has_many(P, by = a, name = "1x"))]"#),
        "a relation name must be a Rust identifier",
        r#""1x""#,
        1,
    );
    one_error(
        &model("#[kv(has_many(_1, by = a))]"),
        "`1s`, the default name of this relation, is not a Rust identifier",
        "_1",
        1,
    );
}

#[test]
fn descending_positions() {
    one_error(
        "struct M { #[kv(id)] id: String, #[kv(desc)] b: u64 }",
        "`desc` orders an index: `#[kv(index, desc)]` or `#[kv(unique, desc)]`",
        "desc",
        1,
    );
    one_error(
        "struct M { #[kv(id)] id: String, #[kv(index, desc)] a: String }",
        "`desc` takes an integer field (a timestamp, a sequence number); `String` has no key form in reverse order",
        "desc",
        1,
    );
    one_error(
        &model("#[kv(index(a, b desc))]").replace("b: u64", "b: f64"),
        "`desc` takes an integer field",
        "desc",
        1,
    );
    one_error(&model("#[kv(index(a, b down))]"), "unknown order `down` after `b`; expected `desc` or `asc`", "down", 1);
    one_error(
        "struct M { #[kv(id)] id: String, #[kv(belongs_to = P, desc)] p: u64 }",
        "a foreign key's index is read by its parent's loaders: it cannot be `desc`",
        "desc",
        1,
    );
    // Both ways of writing it lower to a descending position.
    let m = attr::lower(&syn::parse_str(&model("#[kv(index(a, b desc))]")).unwrap()).unwrap();
    assert!(!m.indexes[0].is_desc(0) && m.indexes[0].is_desc(1));
    let m =
        attr::lower(&syn::parse_str("struct M { #[kv(id)] id: String, #[kv(unique, desc)] b: i64 }").unwrap()).unwrap();
    assert!(m.indexes[0].is_desc(0));
}

#[test]
fn raw_values() {
    let with = |field: &str| format!("struct M {{ #[kv(id)] id: String, {field} }}");
    one_error(
        &with("#[kv(raw)] a: String, #[kv(raw)] b: Vec<u8>"),
        "a model has at most one `#[kv(raw)]` field; this is the second",
        "raw",
        2,
    );
    one_error(
        "struct M { #[kv(id, raw)] id: String }",
        "the id is the key; `raw` marks another field, whose bytes are the value",
        "raw",
        1,
    );
    one_error(
        &with("#[kv(raw, meta)] a: String"),
        "a `raw` field is the value itself; it cannot also be `meta`",
        "raw",
        1,
    );
    one_error(
        &with("#[kv(raw, unique)] a: String"),
        "a `raw` field is the value itself; it cannot also be `unique`",
        "raw",
        1,
    );
    one_error(&with("#[kv(raw)] a: u64"), "a `raw` field is a `String` or a `Vec<u8>`; this one is `u64`", "u64", 1);
    one_error(
        &with("#[kv(raw)] a: String, #[kv(index)] b: u64"),
        "a model with a `raw` value has no indexes (this one has `b`)",
        "raw",
        1,
    );
    let m = attr::lower(&syn::parse_str(&with("#[kv(raw)] a: Vec<u8>, b: u64")).unwrap()).unwrap();
    assert_eq!(m.raw.map(|r| (r.field, r.kind)), Some((1, kvgen_codegen_core::ir::RawKind::Bytes)));
}

// ---- across models (valid::check_model_names and the others the CLI runs)

/// Lowers each one-line source into a model.
fn lowered(srcs: &[&str]) -> Vec<Model> {
    srcs.iter().map(|s| attr::lower(&syn::parse_str(s).unwrap()).unwrap()).collect()
}

/// Each error as (model, the text its span covers in that model's source or
/// `None` for the model as a whole, its kvgen.toml key joined by `.`, message).
fn cross(
    srcs: &[&str],
    check: impl Fn(&[&Model], &dyn Fn(usize) -> String) -> Vec<valid::CrossError>,
) -> Vec<(usize, Option<String>, String, String)> {
    let models = lowered(srcs);
    let refs: Vec<&Model> = models.iter().collect();
    check(&refs, &|i| format!("model #{i}"))
        .into_iter()
        .map(|e| {
            let text = e.span.map(|s| srcs[e.model][s.start().column..s.end().column].to_string());
            (e.model, text, e.key.join("."), e.message)
        })
        .collect()
}

const A: &str = "struct A { #[kv(id)] id: String }";

#[test]
fn check_model_names() {
    assert_eq!(
        cross(&[A, "struct B { #[kv(id)] id: u64 }", A], valid::check_model_names),
        [(2, None, String::new(), "a second model named `A` (the first: model #0)".to_string())]
    );
    assert!(cross(&[A, "struct B { #[kv(id)] id: u64 }"], valid::check_model_names).is_empty());
}

#[test]
fn check_key_prefixes() {
    let b = r#"#[kv(prefix = "a")] struct B { #[kv(id)] id: String }"#;
    assert_eq!(
        cross(&[A, b], valid::check_key_prefixes),
        [(
            1,
            Some(r#""a""#.to_string()),
            "prefix".to_string(),
            "model `B` uses key prefix `a` in binding `KV`, as does `A` (model #0); give one a different `prefix`"
                .to_string()
        )]
    );
    let elsewhere = r#"#[kv(prefix = "a", binding = "OTHER")] struct B { #[kv(id)] id: String }"#;
    assert!(cross(&[A, elsewhere], valid::check_key_prefixes).is_empty());
}

#[test]
fn check_relation_targets() {
    let child = "struct C { #[kv(id)] id: String, #[kv(belongs_to = Org)] org_id: String }";
    assert_eq!(
        cross(&[A, child], |m, d| valid::check_relation_targets(m, d)),
        [(
            1,
            Some("org_id".to_string()),
            "fields.org_id.belongs_to".to_string(),
            "`belongs_to = Org`: no model named `Org`".to_string()
        )]
    );
    let parent = "#[kv(has_many(C, by = a_id), has_one(Nope, by = x))] struct A { #[kv(id)] id: String }";
    let c = "struct C { #[kv(id)] id: String, a_id: String }";
    assert_eq!(
        cross(&[parent, c], |m, d| valid::check_relation_targets(m, d)),
        [
            (
                0,
                Some("a_id".to_string()),
                "has_many.0.by".to_string(),
                "`has_many(C, by = a_id)`: `C` has no index on `a_id`; add `#[kv(index)]` or `#[kv(belongs_to = A)]` to it (model #1)".to_string()
            ),
            (0, Some("Nope".to_string()), "has_one.0.model".to_string(), "`has_one(Nope, ..)`: no model named `Nope`".to_string()),
        ]
    );
    let indexed = "struct C { #[kv(id)] id: String, #[kv(belongs_to = A)] a_id: String }";
    let parent = "#[kv(has_many(C, by = a_id))] struct A { #[kv(id)] id: String }";
    assert!(cross(&[parent, indexed], |m, d| valid::check_relation_targets(m, d)).is_empty());
    // A descending index keys the field reversed: it cannot back the lookup.
    let desc_only = "struct C { #[kv(id)] id: String, #[kv(index, desc)] a_id: u64 }";
    let parent = "#[kv(has_many(C, by = a_id))] struct A { #[kv(id)] id: u64 }";
    let errs = cross(&[parent, desc_only], |m, d| valid::check_relation_targets(m, d));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].3.starts_with("`has_many(C, by = a_id)`: `C` has no index on `a_id`"), "{errs:?}");
}

#[test]
fn check_relation_bindings() {
    let child = r#"#[kv(binding = "OTHER")] struct C { #[kv(id)] id: String, #[kv(belongs_to = A)] a_id: String }"#;
    assert_eq!(
        cross(&[A, child], |m, _| valid::check_relation_bindings(m)),
        [(
            1,
            Some("a_id".to_string()),
            "belongs_to".to_string(),
            "`C` (OTHER) and `A` (KV) are related but live in different bindings; relation loaders read one binding: put both in one".to_string()
        )]
    );
    let same = "struct C { #[kv(id)] id: String, #[kv(belongs_to = A)] a_id: String }";
    assert!(cross(&[A, same], |m, _| valid::check_relation_bindings(m)).is_empty());
}
