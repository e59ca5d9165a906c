//! Any text as kvgen.toml: parsed, checked and generated from, or refused
//! with an error naming the file; never a panic.
#![no_main]

use kvgen_codegen::config::ConfigFile;
use kvgen_codegen::project::Project;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("kvgen.toml");
    match ConfigFile::parse(path, text.to_string()) {
        Ok(config) => match Project::build(config, &[], &[]) {
            Ok(project) => {
                kvgen_codegen::output::rust(&project).expect("what parses, generates");
                let _ = kvgen_codegen::keys::markdown(&project);
                let _ = kvgen_codegen::keys::mermaid(&project);
                let _ = kvgen_codegen::wrangler::toml_fragment(&project);
                let _ = kvgen_codegen::wrangler::jsonc_fragment(&project);
            }
            Err(e) => assert!(e.to_string().starts_with("kvgen.toml"), "{e}"),
        },
        Err(e) => assert!(e.to_string().starts_with("kvgen.toml"), "{e}"),
    }
});
