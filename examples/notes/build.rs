// Generates the KvEnv binding struct for the models of src/models.rs into
// OUT_DIR; src/lib.rs includes it. Cargo reruns this when a model changes.
fn main() {
    if let Err(e) = kvgen_codegen::Builder::new().source("src/models.rs").generate() {
        // One line per problem, each naming file:line:col.
        for line in e.to_string().lines() {
            println!("cargo::error={line}");
        }
        std::process::exit(1);
    }
}
