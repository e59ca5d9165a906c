//! The build.rs front end, in the style of prost-build.

use crate::config::ConfigFile;
use crate::diag::{Error, Result};
use crate::output;
use crate::project::Project;
use std::path::{Path, PathBuf};

/// Generates kvgen's Rust output from a build script.
///
/// ```no_run
/// // in build.rs's main:
/// kvgen_codegen::Builder::new()
///     .source("src/models.rs")
///     .generate()
///     .unwrap_or_else(|e| panic!("kvgen: {e}"));
/// ```
///
/// and in `src/lib.rs` (at the crate root, so the generated paths resolve):
///
/// ```ignore
/// include!(concat!(env!("OUT_DIR"), "/kvgen.rs"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    config: Option<PathBuf>,
    sources: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    out_file: Option<String>,
    env_struct: Option<String>,
    typescript: Option<PathBuf>,
    emit_rerun: bool,
}

impl Builder {
    /// A builder with nothing configured; it prints `cargo:rerun-if-changed` lines.
    pub fn new() -> Self {
        Builder { emit_rerun: true, ..Default::default() }
    }

    /// Reads models, namespaces and the struct name from this `kvgen.toml`
    /// (relative to the crate's manifest folder).
    ///
    /// ```no_run
    /// kvgen_codegen::Builder::new().config("kvgen.toml").generate().unwrap();
    /// ```
    pub fn config(mut self, path: impl Into<PathBuf>) -> Self {
        self.config = Some(path.into());
        self
    }

    /// Adds a Rust file, or a folder of them, holding `#[derive(KvModel)]` structs.
    ///
    /// ```no_run
    /// kvgen_codegen::Builder::new().source("src/models").generate().unwrap();
    /// ```
    pub fn source(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(path.into());
        self
    }

    /// The name of the generated binding struct (default `KvEnv`).
    ///
    /// ```no_run
    /// kvgen_codegen::Builder::new().source("src/models.rs").env_struct("Bindings").generate().unwrap();
    /// ```
    pub fn env_struct(mut self, name: impl Into<String>) -> Self {
        self.env_struct = Some(name.into());
        self
    }

    /// The output file's name in the output folder (default `kvgen.rs`).
    ///
    /// ```no_run
    /// kvgen_codegen::Builder::new().source("src/models.rs").out_file("models_env.rs").generate().unwrap();
    /// ```
    pub fn out_file(mut self, name: impl Into<String>) -> Self {
        self.out_file = Some(name.into());
        self
    }

    /// The output folder (default `$OUT_DIR`). It must be inside `$OUT_DIR` or the
    /// crate's manifest folder: [`generate`](Self::generate) refuses any other with
    /// [`Error::Outside`] and writes nothing.
    ///
    /// ```no_run
    /// kvgen_codegen::Builder::new().source("src/models.rs").out_dir("target/kvgen").generate().unwrap();
    /// ```
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Also writes the TypeScript output (interfaces, key builders, bindings, read helpers for
    /// TypeScript Workers) to this `.ts` file, relative to the crate's manifest folder, when it changed.
    ///
    /// ```no_run
    /// kvgen_codegen::Builder::new().source("src/models.rs").typescript("worker-ts/kv.ts").generate().unwrap();
    /// ```
    pub fn typescript(mut self, path: impl Into<PathBuf>) -> Self {
        self.typescript = Some(path.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for every file read (default on).
    pub fn emit_rerun_if_changed(mut self, on: bool) -> Self {
        self.emit_rerun = on;
        self
    }

    /// Reads the models, generates, and writes the output file if it changed.
    /// Returns the output file's path.
    pub fn generate(self) -> Result<PathBuf> {
        // A large stack: deeply nested sources are refused with an error, never a crash.
        crate::with_large_stack(|| self.generate_here()).unwrap_or_else(|| {
            Err(Error::one(crate::diag::Diagnostic::file("build.rs", "kvgen could not run its work thread")))
        })
    }

    fn generate_here(self) -> Result<PathBuf> {
        let root = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
        let abs = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { root.join(p) };
        let config = match &self.config {
            Some(p) => ConfigFile::load(&abs(p))?,
            None => ConfigFile::empty(&root.join("kvgen.toml")),
        };
        let mut sources: Vec<PathBuf> = config.config.sources.iter().map(|s| config.dir().join(s)).collect();
        sources.extend(self.sources.iter().map(|s| abs(s)));
        let mut project = Project::build(config, &sources, &[])?;
        if let Some(name) = self.env_struct {
            project.config.config.output.env_struct = Some(name);
        }
        if self.emit_rerun {
            for f in project.files_read.iter().chain(&sources) {
                println!("cargo:rerun-if-changed={}", f.display());
            }
        }
        let dir = match self.out_dir {
            Some(d) => abs(&d),
            None => std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or_else(|| {
                Error::one(crate::diag::Diagnostic::file(
                    "build.rs",
                    "OUT_DIR is not set: run from a build script, or call out_dir()",
                ))
            })?,
        };
        let path = dir.join(self.out_file.as_deref().unwrap_or("kvgen.rs"));
        // The build script writes only inside OUT_DIR or the crate's manifest folder.
        let out_dir = std::env::var_os("OUT_DIR").map(PathBuf::from);
        let manifest = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root.clone() };
        let writer = output::Writer::new(out_dir.iter().map(PathBuf::as_path).chain([manifest.as_path()]))?;
        writer.allow(&path)?;
        let ts = self.typescript.as_deref().map(abs);
        if let Some(ts) = &ts {
            writer.allow(ts)?;
        }
        writer.write(&path, &output::rust(&project)?)?;
        if let Some(ts) = &ts {
            writer.write(ts, &crate::ts::typescript(&project))?;
        }
        Ok(path)
    }
}
