//! Whether a generated Rust file on disk still says what kvgen would write,
//! however it is laid out: `cargo fmt` on a checked-in output is not drift.
//!
//! Two Rust texts are the same when their token trees are, ignoring
//! whitespace, comments other than doc comments, the spacing of punctuation,
//! and a trailing comma before a closing delimiter (rustfmt adds or drops it
//! as it breaks or joins lines). Doc comments are tokens (`#[doc = ".."]`),
//! so their text must match.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::path::Path;
use std::str::FromStr;

/// Whether `old` (on disk) and `new` (generated) are the same output: equal
/// text, or, for a `.rs` file, equal tokens.
pub fn same_output(path: &Path, old: &str, new: &str) -> bool {
    old == new || (path.extension().is_some_and(|e| e == "rs") && same_tokens(old, new))
}

/// Whether two Rust texts have the same tokens (see the module docs).
/// Text that does not tokenize is never the same as anything.
pub fn same_tokens(a: &str, b: &str) -> bool {
    match (TokenStream::from_str(a), TokenStream::from_str(b)) {
        (Ok(a), Ok(b)) => flat(a) == flat(b),
        _ => false,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Tok {
    Open(char),
    Close(char),
    Ident(String),
    Punct(char),
    Literal(String),
}

fn flat(stream: TokenStream) -> Vec<Tok> {
    let mut out = Vec::new();
    push(stream, &mut out);
    out
}

fn push(stream: TokenStream, out: &mut Vec<Tok>) {
    for tree in stream {
        match tree {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::None => (' ', ' '),
                };
                out.push(Tok::Open(open));
                push(g.stream(), out);
                if out.last() == Some(&Tok::Punct(',')) {
                    out.pop();
                }
                out.push(Tok::Close(close));
            }
            TokenTree::Ident(i) => out.push(Tok::Ident(i.to_string())),
            TokenTree::Punct(p) => out.push(Tok::Punct(p.as_char())),
            TokenTree::Literal(l) => out.push(Tok::Literal(l.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_comments_and_trailing_commas_do_not_count() {
        let a = "// header\n///Doc.\npub struct E<S> {\n    pub app: S,\n    scope: String,\n}\nfn f(a: u8, b: u8,) -> Self { E { a, b } }\n";
        let b = "///Doc.\npub struct E<S> { pub app: S, scope: String }\n\nfn f(\n    a: u8,\n    b: u8,\n) -> Self {\n    E { a, b, }\n}\n";
        assert!(same_tokens(a, b));
    }

    #[test]
    fn tokens_and_doc_text_count() {
        assert!(!same_tokens("struct A;", "struct B;"));
        assert!(!same_tokens("///One.\nstruct A;", "///Two.\nstruct A;"));
        assert!(!same_tokens("fn f(a: u8, b: u8) {}", "fn f(a: u8) {}"));
        assert!(!same_tokens("struct A;", "struct A; \""));
    }

    #[test]
    fn only_rust_files_compare_by_tokens() {
        assert!(same_output(Path::new("src/env.rs"), "struct A;", "struct  A ;"));
        assert!(!same_output(Path::new("KEYS.md"), "struct A;", "struct  A ;"));
    }
}
