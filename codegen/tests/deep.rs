//! The build.rs front end refuses deeply nested sources with an error, and
//! never overflows its stack.

#[test]
fn builder_refuses_deep_nesting() {
    for depth in [5_000, 100_000] {
        let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let src = dir.path().join("models.rs");
        std::fs::write(&src, format!("const X: u8 = {}5{};\n", "(".repeat(depth), ")".repeat(depth))).unwrap();
        let err = kvgen_codegen::Builder::new()
            .source(&src)
            .out_dir(dir.path())
            .emit_rerun_if_changed(false)
            .generate()
            .expect_err("deep nesting is refused");
        assert!(err.to_string().contains(":1:271: brackets nest more than 256 deep here"), "{err}");
        assert!(!dir.path().join("kvgen.rs").exists());
    }
}
