//! How the TypeScript spells what comes from Rust: identifiers and case,
//! property names (bare or quoted), parameter names kept clear of reserved
//! words and of the names the helpers use, doc comments, and the names of a
//! model's interfaces.
//!
//! Builds on nothing in `ts`; every other part builds on it.

use crate::ir::Model;
use std::fmt::Write;

pub(super) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// `org_id` -> `OrgId`.
pub(super) fn pascal(snake: &str) -> String {
    snake.split('_').map(capitalize).collect()
}

pub(super) fn uncapitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
}

/// A Rust identifier's name, without `r#`.
pub(super) fn plain(ident: &proc_macro2::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}

/// `org_id` -> `orgId`, kept clear of TypeScript's reserved words and of `scope`.
pub(super) fn param_name(field: &str) -> String {
    let camel = uncapitalize(&pascal(field));
    let camel = if camel.is_empty() { "value".to_string() } else { camel };
    const RESERVED: &[&str] = &[
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "let",
        "static",
        "yield",
        "await",
        "implements",
        "interface",
        "package",
        "private",
        "protected",
        "public",
        "scope",
        "kv",
        "page",
        "arguments",
        "eval",
        "entry",
        "rec",
        "prefix",
        "listed",
        "items",
        "got",
        "k",
    ];
    if RESERVED.contains(&camel.as_str()) {
        format!("{camel}_")
    } else {
        camel
    }
}

/// A property name: bare when it is an identifier, quoted otherwise.
pub(super) fn prop(name: &str) -> String {
    let ident = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident {
        name.to_string()
    } else {
        serde_json::to_string(name).expect("a string serializes")
    }
}

/// `rec.name` or `rec["na-me"]`.
pub(super) fn access(obj: &str, name: &str) -> String {
    let p = prop(name);
    if p.starts_with('"') {
        format!("{obj}[{p}]")
    } else {
        format!("{obj}.{p}")
    }
}

pub(super) fn doc_block(out: &mut String, indent: &str, lines: &[String]) {
    let lines: Vec<&String> = lines.iter().filter(|l| !l.is_empty()).collect();
    match lines.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(out, "{indent}/** {one} */");
        }
        many => {
            let _ = writeln!(out, "{indent}/**");
            for l in many {
                let _ = writeln!(out, "{indent} * {l}");
            }
            let _ = writeln!(out, "{indent} */");
        }
    }
}

/// A model's names in the TypeScript, shared by its interfaces, key builders and read helpers.
pub(super) struct ModelNames {
    /// `Post`: the record's interface, and the stem of its read helpers (`getPost`).
    pub(super) name: String,
    /// `post`: the stem of its key builders (`postKey`).
    pub(super) lower: String,
    /// The model's key prefix as a TypeScript string literal.
    pub(super) prefix_lit: String,
    /// `PostRecordMeta`: the metadata of a record.
    pub(super) record_meta: String,
    /// `PostMeta` (the `#[kv(meta)]` projection), or `unknown` for a model without one: the metadata of an index entry.
    pub(super) entry_meta: String,
}

impl ModelNames {
    pub(super) fn of(m: &Model) -> ModelNames {
        let name = m.ident.to_string();
        let entry_meta = if m.fields.iter().any(|f| f.meta) { format!("{name}Meta") } else { "unknown".to_string() };
        ModelNames {
            lower: uncapitalize(&name),
            prefix_lit: serde_json::to_string(&m.prefix.value).expect("a string serializes"),
            record_meta: format!("{name}RecordMeta"),
            entry_meta,
            name,
        }
    }
}
