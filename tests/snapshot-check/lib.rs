//! Compiles the checked-in snapshots of generated code (tests/snapshots)
//! under `#![deny(warnings)]`: a snapshot that would warn or not compile
//! fails the build. Kept apart from the snapshot tests, so that a broken
//! snapshot can still be regenerated.
#![deny(warnings)]

/// The blog models as `kvgen-codegen` expands them.
pub mod blog_expanded {
    #![allow(missing_docs)]
    include!("../snapshots/blog.expanded.rs");
}
