//! `kvgen.toml`: where the models are, where outputs go, the KV namespace ids
//! of every wrangler environment, and (for schema-first users) the models
//! themselves.

use crate::diag::{line_col, Diagnostic, Error, Result};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole `kvgen.toml`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Rust files or folders (searched for `.rs` files) holding `#[derive(KvModel)]`
    /// structs, relative to this file.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The crate's source folder, relative to this file, from which model
    /// module paths are worked out (`src/models.rs` -> `crate::models`). Default `src`.
    #[serde(default)]
    pub crate_src: Option<String>,
    /// Where generated files go.
    #[serde(default)]
    pub output: Output,
    /// KV namespaces by binding name: the ids wrangler binds them to.
    #[serde(default)]
    pub namespaces: IndexMap<String, Namespace>,
    /// Models declared here rather than in Rust (schema-first), by type name.
    #[serde(default)]
    pub models: IndexMap<String, ModelSpec>,
    /// Whether the Worker binds the coordinator Durable Object (`KVGEN_COORDINATOR`,
    /// class `KvgenCoordinator`) that strict unique indexes claim their values on:
    /// kvgen then writes its binding and migration into the wrangler config.
    /// Default: when a model has a strict index. `false` with a strict model is an error.
    pub coordinator: Option<bool>,
}

/// Output paths, relative to `kvgen.toml`. Each is optional.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// The generated Rust file: the models declared in `[models]`, and the binding struct (`KvEnv`).
    pub rust: Option<String>,
    /// The name of the generated binding struct. Default `KvEnv`.
    pub env_struct: Option<String>,
    /// A Markdown file documenting the key layout of every model.
    pub keys: Option<String>,
    /// The wrangler config (`wrangler.toml` or `wrangler.jsonc`) whose KV entries kvgen keeps current.
    pub wrangler: Option<String>,
    /// A TypeScript file (`.ts`) for TypeScript Workers: the models' and metadata's interfaces, key
    /// builders that encode as the Rust codec, typed bindings, and read helpers.
    pub typescript: Option<String>,
}

/// One KV namespace.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Namespace {
    /// The namespace id at the top level of the wrangler config.
    pub id: String,
    /// The id `wrangler dev --remote` uses. When unset, a hand-set one is kept.
    pub preview_id: Option<String>,
    /// Wrangler's `remote` at the top level: `wrangler dev` binds the real namespace. When unset, a hand-set one is kept.
    pub remote: Option<bool>,
    /// Ids per wrangler environment (`[env.NAME]`), which do not inherit bindings.
    #[serde(default)]
    pub env: IndexMap<String, EnvNamespace>,
}

/// A namespace's ids in one wrangler environment.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvNamespace {
    /// The namespace id in this environment.
    pub id: String,
    /// The preview id in this environment. When unset, a hand-set one is kept.
    pub preview_id: Option<String>,
    /// Wrangler's `remote` in this environment (not inherited from the namespace). When unset, a hand-set one is kept.
    pub remote: Option<bool>,
}

/// A model declared in `kvgen.toml`; kvgen generates its struct.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// A doc comment for the struct.
    pub doc: Option<String>,
    /// The KV binding. Default `KV`.
    pub binding: Option<String>,
    /// The key prefix. Default: snake_case of the name.
    pub prefix: Option<String>,
    /// Default ttl of every write, seconds (at least 60).
    pub ttl: Option<u64>,
    /// Every unique index of the model is strict: its values are claimed on
    /// the coordinator (a Durable Object), so racing writers never share one.
    #[serde(default)]
    pub strict: bool,
    /// Compound unique indexes: `[["org_id", "handle"]]` or `[{ fields = [...], name = "..." }]`.
    #[serde(default)]
    pub unique: Vec<IndexSpec>,
    /// Compound secondary indexes, written like `unique`.
    #[serde(default)]
    pub index: Vec<IndexSpec>,
    /// Parent-side loaders of many children.
    #[serde(default)]
    pub has_many: Vec<RelationSpec>,
    /// Parent-side loaders of one child.
    #[serde(default)]
    pub has_one: Vec<RelationSpec>,
    /// The fields, in order: `name = "Type"` or `name = { type = "Type", unique = true, ... }`.
    pub fields: IndexMap<String, FieldSpec>,
}

/// A compound index: a list of fields, or fields with a name.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum IndexSpec {
    /// `["org_id", "handle"]`
    Fields(Vec<String>),
    /// `{ fields = ["org_id", "handle"], name = "handle_in_org", strict = true }`
    Named(NamedIndex),
}

/// A compound index with options.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedIndex {
    /// The fields, in key order; `"at desc"` keys an integer in reverse order.
    pub fields: Vec<String>,
    /// The index name. Default: the field names joined with `_`.
    pub name: Option<String>,
    /// A strict unique index (unique indexes only).
    #[serde(default)]
    pub strict: bool,
}

/// `{ model = "Post", by = "author_id" }`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationSpec {
    /// The child model.
    pub model: String,
    /// The child's foreign-key field (indexed on the child).
    pub by: String,
    /// The loader's name. Default: the child's name in snake_case (plural for has_many).
    pub name: Option<String>,
}

/// A field: its type alone, or its type with attributes.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum FieldSpec {
    /// `"String"`
    Type(String),
    /// `{ type = "String", unique = true }`
    Full(FieldOptions),
}

/// A field with attributes.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldOptions {
    /// The Rust type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The record id.
    #[serde(default)]
    pub id: bool,
    /// With `id`: the generator `create_new` fills a `String` id with: `ulid`, `uuid_v7` or `uuid_v4`.
    pub generate: Option<String>,
    /// A unique index.
    #[serde(default)]
    pub unique: bool,
    /// A strict unique index (with `unique`).
    #[serde(default)]
    pub strict: bool,
    /// A secondary index.
    #[serde(default)]
    pub index: bool,
    /// With `index` or `unique` on an integer: keyed in reverse order (newest first).
    #[serde(default)]
    pub desc: bool,
    /// The parent model this foreign key names.
    pub belongs_to: Option<String>,
    /// Copied into KV metadata.
    #[serde(default)]
    pub meta: bool,
    /// The KV value itself, a `String` or `Vec<u8>` stored as text or bytes (not JSON); the other fields but the id go to metadata.
    #[serde(default)]
    pub raw: bool,
    /// A doc comment for the field.
    pub doc: Option<String>,
}

impl FieldSpec {
    /// The field with its attributes, whichever way it was written.
    pub fn options(&self) -> FieldOptions {
        match self {
            FieldSpec::Type(ty) => FieldOptions { ty: ty.clone(), ..Default::default() },
            FieldSpec::Full(o) => o.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for FieldSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = FieldSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"a type name ("String") or a table ({ type = "String", unique = true })"#)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<FieldSpec, E> {
                Ok(FieldSpec::Type(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<FieldSpec, A::Error> {
                FieldOptions::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(FieldSpec::Full)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for IndexSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = IndexSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"a list of fields (["a", "b"]) or a table ({ fields = ["a", "b"], name = "x" })"#)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> std::result::Result<IndexSpec, A::Error> {
                Vec::<String>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(IndexSpec::Fields)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<IndexSpec, A::Error> {
                NamedIndex::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(IndexSpec::Named)
            }
        }
        d.deserialize_any(V)
    }
}

impl IndexSpec {
    /// `(fields, name, strict)`.
    pub fn parts(&self) -> (&[String], Option<&str>, bool) {
        match self {
            IndexSpec::Fields(f) => (f, None, false),
            IndexSpec::Named(n) => (&n.fields, n.name.as_deref(), n.strict),
        }
    }
}

/// A loaded `kvgen.toml`, with what is needed to point at its lines.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The file's path.
    pub path: PathBuf,
    /// Its contents.
    pub text: String,
    /// Its parsed contents.
    pub config: Config,
    doc: Option<toml_edit::Document<String>>,
}

impl ConfigFile {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::diag::read(path)?;
        Self::parse(path, text)
    }

    /// Parses `text` as the contents of `path`.
    pub fn parse(path: &Path, text: String) -> Result<Self> {
        let config: Config = toml::from_str(&text).map_err(|e| {
            let message = e.message().trim().to_string();
            match e.span() {
                Some(span) => Error::one(Diagnostic::at_offset(path, &text, span.start, message)),
                None => Error::one(Diagnostic::file(path, message)),
            }
        })?;
        let doc = toml_edit::Document::parse(text.clone()).ok();
        Ok(ConfigFile { path: path.to_path_buf(), text, config, doc })
    }

    /// A config with nothing in it, standing for `path` (used by build.rs without a `kvgen.toml`).
    pub fn empty(path: &Path) -> Self {
        ConfigFile { path: path.to_path_buf(), text: String::new(), config: Config::default(), doc: None }
    }

    /// The folder paths in the config are relative to.
    pub fn dir(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// Line and column of the key at `path` (`["namespaces", "APP", "env"]`),
    /// or of the nearest table above it that exists.
    pub fn locate(&self, path: &[&str]) -> Option<(usize, usize)> {
        /// Where the walk is: a table item, or a value inside an array or inline table.
        enum Node<'a> {
            Item(&'a toml_edit::Item),
            Value(&'a toml_edit::Value),
        }
        let doc = self.doc.as_ref()?;
        let mut best = None;
        let mut node = Node::Item(doc.as_item());
        for key in path {
            let array = match &node {
                Node::Item(item) => item.as_array(),
                Node::Value(value) => value.as_array(),
            };
            // An index into an array: the element's own span, then into it.
            if let (Some(array), Ok(i)) = (array, key.parse::<usize>()) {
                let Some(element) = array.get(i) else { break };
                if let Some(span) = element.span() {
                    best = Some(line_col(&self.text, span.start));
                }
                node = Node::Value(element);
                continue;
            }
            let next = match &node {
                Node::Item(item) => {
                    let Some(table) = item.as_table_like() else { break };
                    if let Some(span) = table.get_key_value(key).and_then(|(k, _)| k.span()) {
                        best = Some(line_col(&self.text, span.start));
                    }
                    table.get(key).map(Node::Item)
                }
                Node::Value(value) => {
                    let Some(table) = value.as_inline_table() else { break };
                    if let Some(span) = table.get_key_value(key).and_then(|(k, _)| k.span()) {
                        best = Some(line_col(&self.text, span.start));
                    }
                    table.get(key).map(Node::Value)
                }
            };
            match next {
                Some(next) => node = next,
                None => break,
            }
        }
        best
    }

    /// A diagnostic at the key at `path`.
    pub fn diag(&self, path: &[&str], message: impl Into<String>) -> Diagnostic {
        match self.locate(path) {
            Some(pos) => Diagnostic::at(&self.path, pos, message),
            None => Diagnostic::file(&self.path, message),
        }
    }
}

/// The JSON Schema of `kvgen.toml`, for editors.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Config);
    serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
}
