//! The TypeScript output through the build.rs front end.

#[test]
fn the_builder_writes_the_typescript_output_when_asked() {
    let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
    let src = dir.path().join("models.rs");
    std::fs::write(
        &src,
        "#[derive(KvModel)]\n#[kv(binding = \"APP\")]\npub struct User {\n  #[kv(id)]\n  pub id: u32,\n  #[kv(unique)]\n  pub r#type: String,\n}\n",
    )
    .unwrap();
    let ts = dir.path().join("ts/kv.ts");
    kvgen_codegen::Builder::new()
        .source(&src)
        .typescript(&ts)
        .out_dir(dir.path())
        .emit_rerun_if_changed(false)
        .generate()
        .unwrap();
    let text = std::fs::read_to_string(&ts).unwrap();
    assert!(text.starts_with(kvgen_codegen::ts::TS_HEADER), "{text}");
    assert!(text.contains("export function userKey(id: KvInt, scope?: string): string {\n  return userPrefix(scope) + kvEncodeUint(id, 32, 10);\n}"), "{text}");
    // A raw identifier is its name in JSON and in keys.
    assert!(text.contains("  type: string;"), "{text}");
    assert!(text.contains("kvHead(\"user\", scope) + \".type:\" + kvEncodeStr(type)"), "{text}");
    assert!(text.contains("export interface KvBindings {\n  APP: KVNamespace;\n}"), "{text}");
}
