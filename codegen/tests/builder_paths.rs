//! The build.rs front end writes only inside OUT_DIR or the crate's manifest
//! folder: any other out_dir or typescript path is refused with a typed
//! error, and nothing is written.

const MODEL: &str = "#[derive(KvModel)]\n#[kv(binding = \"APP\")]\npub struct User {\n  #[kv(id)]\n  pub id: u32,\n}\n";

#[test]
fn an_out_dir_outside_out_dir_and_the_manifest_folder_is_refused() {
    let src_dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
    let src = src_dir.path().join("models.rs");
    std::fs::write(&src, MODEL).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let err = kvgen_codegen::Builder::new()
        .source(&src)
        .out_dir(outside.path())
        .emit_rerun_if_changed(false)
        .generate()
        .unwrap_err();
    assert!(matches!(err, kvgen_codegen::diag::Error::Outside { .. }), "{err:?}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);

    // A TypeScript path outside: refused before the Rust output is written.
    let inside = src_dir.path().join("out");
    let err = kvgen_codegen::Builder::new()
        .source(&src)
        .out_dir(&inside)
        .typescript(outside.path().join("kv.ts"))
        .emit_rerun_if_changed(false)
        .generate()
        .unwrap_err();
    assert!(matches!(err, kvgen_codegen::diag::Error::Outside { .. }), "{err:?}");
    assert!(!inside.exists());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}
