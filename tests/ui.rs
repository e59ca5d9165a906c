//! Compile-fail cases: every mistake a user can make in a model is a compile
//! error at the offending token (tests/ui/*.rs with their .stderr).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
