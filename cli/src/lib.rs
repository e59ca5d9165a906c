//! The `kvgen` command as a library: arguments, and one function per
//! subcommand returning a `Result`. `main.rs` only maps outcomes to exit codes.
#![deny(missing_docs)]

use clap::{Parser, Subcommand, ValueEnum};
use kvgen_codegen::diag::{Diagnostic, Error, Result};
use kvgen_codegen::project::Project;
use kvgen_codegen::{config, keys, output, ts, wrangler};
use std::io::Write;
use std::path::PathBuf;

pub mod init;

/// Typed Cloudflare Workers KV for Rust: generate the KvEnv binding struct,
/// schema-first models, key-layout docs and wrangler KV entries, and check
/// in CI that none has drifted.
#[derive(Debug, Parser)]
#[command(name = "kvgen", version)]
pub struct Cli {
    /// The kvgen.toml to read; paths in it are relative to it.
    #[arg(long, global = true, default_value = "kvgen.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold kvgen into a Worker crate: kvgen.toml, a models file, wrangler.jsonc if none; keeps existing files.
    Init(init::InitArgs),
    /// Write every output of kvgen.toml (only files that changed).
    Generate,
    /// Compare every output with the disk: exit 0 when current, 1 with a diff when stale, 2 on bad input.
    Check,
    /// Print the [[kv_namespaces]] entries for wrangler, or update a wrangler config in place.
    Wrangler {
        /// The fragment's format (default: that of the configured wrangler file, else toml).
        #[arg(long, value_enum)]
        format: Option<WranglerFormat>,
        /// Update the KV entries of this wrangler.toml / wrangler.jsonc in place, leaving the rest as it is (created if missing).
        #[arg(long, value_name = "FILE")]
        write: Option<PathBuf>,
    },
    /// Print the key layout of every model and index.
    Keys {
        /// Markdown table or Mermaid diagram.
        #[arg(long, value_enum, default_value = "markdown")]
        format: KeysFormat,
    },
    /// Print the TypeScript output: interfaces, key builders, bindings and read helpers for TypeScript Workers.
    ///
    /// Named after `[output] typescript`, as `wrangler` and `keys` are after theirs; `ts` is its
    /// older name, kept as an alias.
    #[command(visible_alias = "ts")]
    Typescript,
    /// Print the JSON Schema of kvgen.toml, for editors.
    Schema,
    /// Print the code #[derive(KvModel)] generates for the models of a Rust file.
    Expand {
        /// The Rust file.
        file: PathBuf,
    },
}

/// Formats of `kvgen wrangler`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WranglerFormat {
    /// wrangler.toml
    Toml,
    /// wrangler.jsonc
    Jsonc,
}

/// Formats of `kvgen keys`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeysFormat {
    /// A Markdown table.
    Markdown,
    /// A Mermaid flowchart.
    Mermaid,
}

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; everything current.
    Clean,
    /// `check` found stale files.
    Drift,
}

/// Runs the command, writing what it prints to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Result<Outcome> {
    let io = |e: std::io::Error| Error::Io { path: "<stdout>".into(), source: e };
    match &cli.command {
        Command::Init(args) => init::run(args, out).map(|()| Outcome::Clean),
        Command::Schema => {
            out.write_all(config::json_schema().as_bytes()).map_err(io)?;
            Ok(Outcome::Clean)
        }
        Command::Expand { file } => {
            let text = kvgen_codegen::diag::read(file)?;
            let expanded = kvgen_codegen::expand_file(&text).map_err(|e| {
                Error::Invalid(e.into_iter().map(|e| Diagnostic::at_span(file, e.span(), e.to_string())).collect())
            })?;
            out.write_all(expanded.as_bytes()).map_err(io)?;
            Ok(Outcome::Clean)
        }
        Command::Generate => {
            let project = load(cli)?;
            let outputs = output::outputs(&project)?;
            // Everything is computed before the first write: bad input writes nothing.
            let (m, b) = (project.models.len(), project.bindings().len());
            writeln!(out, "kvgen: {m} {} in {b} {}", plural(m, "model", "models"), plural(b, "binding", "bindings"))
                .map_err(io)?;
            if let Some(d) = output::durable_feature(&project) {
                writeln!(out, "  {:<9} {d}", "warning").map_err(io)?;
            }
            let writer = output::Writer::for_project(&project)?;
            for o in &outputs {
                let changed = writer.write(&o.path, &o.contents)?;
                let state = if changed { "wrote" } else { "unchanged" };
                writeln!(out, "  {state:<9} {} ({} lines)", o.path.display(), o.contents.lines().count())
                    .map_err(io)?;
                for note in &o.notes {
                    writeln!(out, "  {:<9} {}: {note}", "note", o.path.display()).map_err(io)?;
                }
            }
            if outputs.is_empty() {
                writeln!(
                    out,
                    "  nothing to write: set [output] rust, keys, typescript or wrangler in {}",
                    cli.config.display()
                )
                .map_err(io)?;
            }
            Ok(Outcome::Clean)
        }
        Command::Check => {
            let project = load(cli)?;
            let outputs = output::outputs(&project)?;
            if let Some(d) = output::durable_feature(&project) {
                return Err(Error::one(d));
            }
            let drift = output::check(&outputs);
            for d in &drift {
                writeln!(out, "kvgen: stale: {}", d.path.display()).map_err(io)?;
            }
            for d in &drift {
                write!(out, "{}", d.diff).map_err(io)?;
            }
            // What the diff of a stale wrangler config leaves as it is, and why.
            for o in outputs.iter().filter(|o| drift.iter().any(|d| d.path == o.path)) {
                for note in &o.notes {
                    writeln!(out, "kvgen: note: {}: {note}", o.path.display()).map_err(io)?;
                }
            }
            if drift.is_empty() {
                let n = outputs.len();
                writeln!(out, "kvgen: {n} generated {} current", plural(n, "file is", "files are")).map_err(io)?;
                Ok(Outcome::Clean)
            } else {
                writeln!(out, "kvgen: {} of {} files are stale: run `kvgen generate`", drift.len(), outputs.len())
                    .map_err(io)?;
                Ok(Outcome::Drift)
            }
        }
        Command::Wrangler { format, write } => {
            let project = load(cli)?;
            if let Some(path) = write {
                output::check_wrangler_write(&project, path)?;
                let (updated, exists) = output::wrangler_output(&project, path)?;
                let changed = output::Writer::for_project(&project)?.write(path, &updated.text)?;
                let state = match (exists, changed) {
                    (false, _) => "created",
                    (true, true) => "updated",
                    (true, false) => "unchanged",
                };
                writeln!(out, "kvgen: {state} {}", path.display()).map_err(io)?;
                for note in &updated.kept {
                    writeln!(out, "kvgen: note: {}: {note}", path.display()).map_err(io)?;
                }
                return Ok(Outcome::Clean);
            }
            let configured = project
                .config
                .config
                .output
                .wrangler
                .as_deref()
                .map(std::path::Path::new)
                .and_then(wrangler::Format::of);
            let text = match (format, configured) {
                (Some(WranglerFormat::Jsonc), _) | (None, Some(wrangler::Format::Jsonc)) => {
                    wrangler::jsonc_fragment(&project)
                }
                _ => wrangler::toml_fragment(&project),
            };
            out.write_all(text.as_bytes()).map_err(io)?;
            Ok(Outcome::Clean)
        }
        Command::Typescript => {
            let project = load(cli)?;
            out.write_all(ts::typescript(&project).as_bytes()).map_err(io)?;
            Ok(Outcome::Clean)
        }
        Command::Keys { format } => {
            let project = load(cli)?;
            let text = match format {
                KeysFormat::Markdown => keys::markdown(&project),
                KeysFormat::Mermaid => keys::mermaid(&project),
            };
            out.write_all(text.as_bytes()).map_err(io)?;
            Ok(Outcome::Clean)
        }
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn load(cli: &Cli) -> Result<Project> {
    if !cli.config.exists() {
        return Err(Error::one(Diagnostic::file(
            &cli.config,
            "no such file: run kvgen where kvgen.toml is, or pass --config",
        )));
    }
    Project::load(&cli.config)
}
