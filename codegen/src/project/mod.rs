//! A crate's models, from its Rust sources and its `kvgen.toml`, lowered by
//! the same code the derive uses and checked against each other.
//!
//! The parts, each building only on those listed before it:
//!
//! - `found`: one model and where it came from ([`Found`], [`Origin`]).
//! - `scan`: the Rust sources and the `#[derive(KvModel)]` structs in them.
//! - `toml_model`: the `[models.NAME]` tables of kvgen.toml, as structs.
//!
//! This file holds [`Project`]: loading (sources and kvgen.toml together),
//! the checks that need every model at once (keys that collide, the names
//! the binding struct takes), and what the emitters ask of a project. It
//! builds on [`crate::config`] and [`crate::diag`]; the emitters
//! ([`crate::env`], [`crate::keys`], [`crate::ts`], [`crate::wrangler`],
//! [`crate::output`]) build on it, so it must not depend on any of them.

pub(crate) mod found;
mod scan;
mod toml_model;

pub use found::{Found, Origin};
pub use scan::module_path;

use crate::config::ConfigFile;
use crate::diag::{Diagnostic, Error, Result};
use crate::ir::Model;
use crate::project::scan::{collect_rs, scan_items};
use crate::project::toml_model::toml_model;
use crate::valid;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The coordinator's binding name (the runtime's `kvgen::coord::COORDINATOR_BINDING`).
pub const COORDINATOR_BINDING: &str = "KVGEN_COORDINATOR";

/// Everything kvgen knows about a crate.
#[derive(Debug, Clone)]
pub struct Project {
    /// The configuration (possibly empty, for build.rs without a `kvgen.toml`).
    pub config: ConfigFile,
    /// Every model, Rust ones first in file order, then the `kvgen.toml` ones.
    pub models: Vec<Found>,
    /// Every file read, for `cargo:rerun-if-changed`.
    pub files_read: Vec<PathBuf>,
}

impl Project {
    /// Loads the project described by the `kvgen.toml` at `path`.
    pub fn load(path: &Path) -> Result<Project> {
        Self::load_planned(ConfigFile::load(path)?, &[])
    }

    /// Loads the project of `config` as it will be once the `planned` files
    /// (path, contents) are written: each is read from the list, not the disk.
    /// `kvgen init` checks what it would write this way before writing it.
    pub fn load_planned(config: ConfigFile, planned: &[(PathBuf, String)]) -> Result<Project> {
        let mut sources = Vec::new();
        let mut problems = Vec::new();
        for (i, s) in config.config.sources.iter().enumerate() {
            let p = config.dir().join(s);
            if p.exists() || planned.iter().any(|(f, _)| *f == p) {
                sources.push(p);
            } else {
                let idx = i.to_string();
                problems.push(config.diag(&["sources", &idx], format!("source `{s}` does not exist")));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        Self::build_planned(config, &sources, &[], planned)
    }

    /// Loads a project from a config (possibly [`ConfigFile::empty`]), source
    /// paths (files or folders), and extra Rust files the builder was given.
    pub fn build(config: ConfigFile, sources: &[PathBuf], extra: &[PathBuf]) -> Result<Project> {
        Self::build_planned(config, sources, extra, &[])
    }

    fn build_planned(
        config: ConfigFile,
        sources: &[PathBuf],
        extra: &[PathBuf],
        planned: &[(PathBuf, String)],
    ) -> Result<Project> {
        let crate_src = config.dir().join(config.config.crate_src.as_deref().unwrap_or("src"));
        let mut files = Vec::new();
        for s in sources.iter().chain(extra) {
            collect_rs(s, &mut files).map_err(|e| Error::io(s, e))?;
        }
        files.dedup();
        let mut problems = Vec::new();
        let mut models = Vec::new();
        // Models reported already: relations to them are not reported again.
        let mut broken: Vec<String> = Vec::new();
        let mut files_read = vec![config.path.clone()];
        files_read.retain(|p| p.exists());
        for file in &files {
            files_read.push(file.clone());
            let text = match planned.iter().find(|(f, _)| f == file) {
                Some((_, text)) => text.clone(),
                None => crate::diag::read(file)?,
            };
            let parsed = match crate::parse_file(&text) {
                Ok(f) => f,
                Err(e) => {
                    problems.push(Diagnostic::at_span(file, e.span(), e.to_string()));
                    continue;
                }
            };
            let module = module_path(&crate_src, file);
            scan_items(&parsed.items, file, &module, &mut models, &mut problems, &mut broken);
        }
        for (name, spec) in &config.config.models {
            match toml_model(&config, name, spec) {
                Ok(found) => models.push(found),
                Err(d) => {
                    broken.push(name.clone());
                    problems.extend(d)
                }
            }
        }
        let project = Project { config, models, files_read };
        problems.extend(project.cross_check(&broken));
        if problems.is_empty() {
            Ok(project)
        } else {
            // In the order a reader meets them.
            problems.sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
            Err(Error::Invalid(problems))
        }
    }

    /// A diagnostic at model `found`'s definition.
    pub fn at_model(&self, found: &Found, message: impl Into<String>) -> Diagnostic {
        match &found.origin {
            Origin::Rust { file, pos, .. } => Diagnostic::at(file, *pos, message),
            Origin::Toml { .. } => self.config.diag(&["models", &found.model.ident.to_string()], message),
        }
    }

    fn at_span(&self, found: &Found, span: proc_macro2::Span, toml_path: &[&str], message: String) -> Diagnostic {
        match &found.origin {
            Origin::Rust { file, .. } => Diagnostic::at_span(file, span, message),
            Origin::Toml { .. } => {
                let name = found.model.ident.to_string();
                let mut path = vec!["models", name.as_str()];
                path.extend_from_slice(toml_path);
                self.config.diag(&path, message)
            }
        }
    }

    /// The model named `name` (by its type's last path segment).
    pub fn model(&self, name: &str) -> Option<&Found> {
        self.models.iter().find(|f| f.model.ident == name)
    }

    /// Binding name -> the models in it, in order.
    pub fn bindings(&self) -> BTreeMap<String, Vec<&Found>> {
        let mut out: BTreeMap<String, Vec<&Found>> = BTreeMap::new();
        for f in &self.models {
            out.entry(f.model.binding.value.clone()).or_default().push(f);
        }
        out
    }

    /// Every wrangler environment named in `[namespaces.*.env]`, sorted.
    pub fn environments(&self) -> Vec<String> {
        let mut envs: Vec<String> =
            self.config.config.namespaces.values().flat_map(|n| n.env.keys().cloned()).collect();
        envs.sort();
        envs.dedup();
        envs
    }

    /// The checks that need every model at once.
    fn cross_check(&self, broken: &[String]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        // The checks across models are kvgen-codegen-core's; here they get their file positions.
        let models: Vec<&Model> = self.models.iter().map(|f| &f.model).collect();
        let describe = |i: usize| self.describe(&self.models[i]);
        let report = |e: valid::CrossError| {
            let f = &self.models[e.model];
            match e.span {
                None => self.at_model(f, e.message),
                Some(span) => {
                    let key: Vec<&str> = e.key.iter().map(String::as_str).collect();
                    self.at_span(f, span, &key, e.message)
                }
            }
        };
        out.extend(valid::check_model_names(&models, &describe).into_iter().map(report));
        out.extend(valid::check_key_prefixes(&models, &describe).into_iter().map(report));
        out.extend(self.env_names());
        // A relation to a model whose own error is reported already: one mistake, one error.
        let unknown_broken =
            |e: &valid::CrossError| broken.iter().any(|b| e.message.ends_with(&format!("no model named `{b}`")));
        out.extend(
            valid::check_relation_targets(&models, &describe).into_iter().filter(|e| !unknown_broken(e)).map(report),
        );
        out.extend(valid::check_relation_bindings(&models).into_iter().map(report));
        // Namespaces: valid binding names, and every binding in every environment.
        let namespaces = &self.config.config.namespaces;
        for name in namespaces.keys() {
            if !valid::valid_binding(name) {
                out.push(self.config.diag(
                    &["namespaces", name],
                    format!("invalid binding name `{name}`: use letters, digits and `_`, not starting with a digit"),
                ));
            }
        }
        let managed = !namespaces.is_empty() || self.config.config.output.wrangler.is_some();
        if managed {
            let envs = self.environments();
            for (binding, models) in self.bindings() {
                match namespaces.get(&binding) {
                    None => out.push(self.at_model(
                        models[0],
                        format!(
                            "binding `{binding}` of model `{}` has no `[namespaces.{binding}]` in {}",
                            models[0].model.ident,
                            self.config.path.display()
                        ),
                    )),
                    Some(ns) => {
                        for env in envs.iter().filter(|e| !ns.env.contains_key(*e)) {
                            out.push(self.config.diag(
                                &["namespaces", &binding],
                                format!("binding `{binding}` is missing from environment `{env}`: add `[namespaces.{binding}.env.{env}]` with its id (wrangler does not inherit bindings into environments)"),
                            ));
                        }
                    }
                }
            }
        }
        // The coordinator's Durable Object binding takes its name: no KV binding may have it too.
        if self.needs_coordinator() {
            let name = COORDINATOR_BINDING;
            let message = format!(
                "binding `{name}` is the name of kvgen's coordinator Durable Object binding, which this Worker needs (a strict unique index or `coordinator = true`); wrangler refuses two bindings of one name: rename the KV binding"
            );
            match self.bindings().get(name) {
                Some(models) => {
                    let first = models[0];
                    out.push(self.at_span(first, first.model.binding.span, &["binding"], message));
                }
                None if namespaces.contains_key(name) => out.push(self.config.diag(&["namespaces", name], message)),
                None => {}
            }
        }
        // Strict indexes claim their values on the coordinator: it cannot be switched off under them.
        if self.config.config.coordinator == Some(false) {
            if let Some(f) = self.strict_model() {
                out.push(self.config.diag(
                    &["coordinator"],
                    format!(
                        "`coordinator = false`, but model `{}` ({}) has a strict unique index, claimed on the coordinator Durable Object: remove `coordinator = false` or the `strict`",
                        f.model.ident,
                        self.describe(f)
                    ),
                ));
            }
        }
        out
    }

    /// The first model with a strict unique index.
    pub fn strict_model(&self) -> Option<&Found> {
        self.models.iter().find(|f| f.model.indexes.iter().any(|ix| ix.strict))
    }

    /// Whether the Worker needs the coordinator Durable Object: `coordinator = true`
    /// in kvgen.toml, or (unless it says `false`) a model with a strict unique index.
    pub fn needs_coordinator(&self) -> bool {
        match self.config.config.coordinator {
            Some(set) => set,
            None => self.strict_model().is_some(),
        }
    }

    /// The names the generated binding struct (`KvEnv`, or `env_struct`) gives
    /// itself, its binding fields and accessors: each an identifier, none taken
    /// twice. The messages name the struct by the name it will have.
    fn env_names(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let env_struct = self.config.config.output.env_struct.as_deref();
        if let Some(why) = env_struct.and_then(crate::names::invalid_env_struct) {
            out.push(self.config.diag(&["output", "env_struct"], format!("env_struct {why}")));
        }
        // The generated file holds the `[models]` structs beside `Env`.
        let env_name = env_struct.unwrap_or(crate::names::DEFAULT_NAME);
        for f in self.models.iter().filter(|f| matches!(f.origin, Origin::Toml { .. })) {
            let m = &f.model;
            let taken =
                [m.ident.to_string(), crate::names::repo_ident(m).to_string(), crate::names::meta_ident(m).to_string()];
            if taken.iter().any(|t| t == env_name) {
                out.push(self.at_model(
                    f,
                    format!("model `{}` and the binding struct would both define `{env_name}`; rename the model or set `env_struct`", m.ident),
                ));
            }
        }
        let mut fields: Vec<(String, &str)> = Vec::new();
        for (binding, models) in self.bindings() {
            let first = models[0];
            let field = crate::names::binding_field_name(&binding);
            let at = |message: String| self.at_span(first, first.model.binding.span, &["binding"], message);
            if crate::names::binding_field(&binding).is_none() {
                out.push(at(format!(
                    "binding `{binding}` gives the `{env_name}` field `{field}`, which is not a Rust identifier; rename the binding"
                )));
            } else if crate::names::RESERVED_FIELDS.contains(&field.as_str()) {
                out.push(at(format!(
                    "binding `{binding}` gives the `{env_name}` field `{field}`, which `{env_name}` has already; rename the binding"
                )));
            } else if let Some((_, other)) = fields.iter().find(|(f, _)| *f == field) {
                out.push(at(format!(
                    "bindings `{other}` and `{binding}` both give the `{env_name}` field `{field}`; rename one"
                )));
            }
            fields.push((field, models[0].model.binding.value.as_str()));
        }
        let mut accessors: Vec<(String, &Found)> = Vec::new();
        for f in &self.models {
            let name = crate::names::accessor_name(&f.model.ident);
            // A name that is no identifier is reported by the model's own checks.
            if crate::names::accessor(&f.model.ident).is_none() {
                continue;
            }
            if crate::names::RESERVED_METHODS.contains(&name.as_str()) {
                out.push(self.at_model(
                    f,
                    format!(
                        "model `{}` gives the `{env_name}` accessor `{name}`, a method `{env_name}` has already; rename the model",
                        f.model.ident
                    ),
                ));
            } else if let Some((_, other)) = accessors.iter().find(|(a, _)| *a == name) {
                out.push(self.at_model(
                    f,
                    format!(
                        "models `{}` ({}) and `{}` both give the `{env_name}` accessor `{name}`; rename one",
                        other.model.ident,
                        self.describe(other),
                        f.model.ident
                    ),
                ));
            }
            accessors.push((name, f));
        }
        out
    }

    fn describe(&self, f: &Found) -> String {
        match &f.origin {
            Origin::Rust { file, pos, .. } => format!("{}:{}:{}", file.display(), pos.0, pos.1),
            Origin::Toml { .. } => {
                let d = self.config.diag(&["models", &f.model.ident.to_string()], "");
                match d.pos {
                    Some((l, c)) => format!("{}:{l}:{c}", d.file.display()),
                    None => d.file.display().to_string(),
                }
            }
        }
    }
}
