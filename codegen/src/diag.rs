//! Errors of the generator's file-based front ends (CLI and build.rs): each
//! names the file, and the line and column where known.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line and column, where known.
    pub pos: Option<(usize, usize)>,
    /// What is wrong, and where possible what to do.
    pub message: String,
}

impl Diagnostic {
    /// A problem with a whole file.
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic { file: file.into(), pos: None, message: message.into() }
    }

    /// A problem at a line and column.
    pub fn at(file: impl Into<PathBuf>, pos: (usize, usize), message: impl Into<String>) -> Self {
        Diagnostic { file: file.into(), pos: Some(pos), message: message.into() }
    }

    /// A problem at a byte offset of `text`, the contents of `file`.
    pub fn at_offset(file: impl Into<PathBuf>, text: &str, offset: usize, message: impl Into<String>) -> Self {
        Self::at(file, line_col(text, offset), message)
    }

    /// A problem at a span of Rust source parsed with span locations.
    pub fn at_span(file: impl Into<PathBuf>, span: proc_macro2::Span, message: impl Into<String>) -> Self {
        let start = span.start();
        let pos = (start.line > 0).then_some((start.line, start.column + 1));
        Diagnostic { file: file.into(), pos, message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.pos {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary_compat(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// What generation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong: every problem found, each in its place.
    #[error("{}", join(.0))]
    Invalid(Vec<Diagnostic>),
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A write was asked for outside every folder kvgen may write in.
    #[error("{}: is outside {}; kvgen writes only inside it", .path.display(), .root.display())]
    Outside {
        /// The file asked for.
        path: PathBuf,
        /// The folder it had to be in (the first, when there are several).
        root: PathBuf,
    },
}

fn join(d: &[Diagnostic]) -> String {
    d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
}

impl Error {
    /// One problem.
    pub fn one(d: Diagnostic) -> Self {
        Error::Invalid(vec![d])
    }

    /// `Ok` when there are no `problems`; else all of them, in the order of where they are.
    pub fn if_any(mut problems: Vec<Diagnostic>) -> Result<()> {
        if problems.is_empty() {
            return Ok(());
        }
        problems.sort_by_key(|d| d.pos);
        Err(Error::Invalid(problems))
    }

    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::one(d)
    }
}

/// `Result` with the generator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::one(Diagnostic::file(path, "no such file"))
        } else {
            Error::io(path, e)
        }
    })
}
