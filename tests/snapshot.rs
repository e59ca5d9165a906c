//! Snapshot of the code generated for the blog models. The snapshot is
//! compiled by this crate's library under `#![deny(warnings)]`; this test
//! fails when the generator's output drifts from it (run with
//! `EXPECTORATE=overwrite` to accept a change, then review the diff).

#[test]
fn blog_models_expand_to_the_snapshot() {
    let source = include_str!("../examples/blog/src/lib.rs");
    let expanded = kvgen_codegen::expand_file(source).expect("the blog models are valid");
    expectorate::assert_contents("snapshots/blog.expanded.rs", &expanded);
}
