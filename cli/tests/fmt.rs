//! `cargo fmt` on a crate with checked-in outputs is not drift: `kvgen check`
//! compares Rust outputs by tokens, and `kvgen generate` leaves them as they are.

use assert_cmd::Command;
use std::fs;
use support::{copy_dir, repo};

mod support;

/// Copies an example as a crate of its own (no workspace, no dependencies:
/// `cargo fmt` needs neither), runs `cargo fmt` there with `rustfmt_toml`
/// (or rustfmt's defaults), and expects `kvgen check` to pass.
fn fmt_then_check(example: &str, generated: &str, rustfmt_toml: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("examples").join(example), dir.path());
    fs::write(
        dir.path().join("Cargo.toml"),
        format!("[package]\nname = \"{example}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n"),
    )
    .unwrap();
    if let Some(toml) = rustfmt_toml {
        fs::write(dir.path().join("rustfmt.toml"), toml).unwrap();
    }
    let kvgen = || {
        let mut c = Command::cargo_bin("kvgen").unwrap();
        c.current_dir(dir.path());
        c
    };
    // As `kvgen generate` writes it.
    fs::remove_file(dir.path().join(generated)).unwrap();
    kvgen().arg("generate").assert().success();
    let before = fs::read_to_string(dir.path().join(generated)).unwrap();
    let fmt = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .arg("fmt")
        .current_dir(dir.path())
        .output()
        .expect("cargo fmt runs");
    assert!(fmt.status.success(), "cargo fmt: {}", String::from_utf8_lossy(&fmt.stderr));
    let after = fs::read_to_string(dir.path().join(generated)).unwrap();
    assert_ne!(before, after, "cargo fmt should have reformatted {generated}, or this test proves nothing");

    kvgen().arg("check").assert().code(0);
    let out = kvgen().arg("generate").assert().success().get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains(&format!("unchanged {generated}")), "{out}");
    assert_eq!(fs::read_to_string(dir.path().join(generated)).unwrap(), after, "generate rewrote a formatted file");

    // A real change is still drift.
    let edited = after.replacen("pub fn ", "pub fn renamed_", 1);
    fs::write(dir.path().join(generated), edited).unwrap();
    kvgen().arg("check").assert().code(1);
}

#[test]
fn cargo_fmt_of_blog_with_the_repo_settings_is_not_drift() {
    let toml = fs::read_to_string(repo().join("rustfmt.toml")).unwrap();
    fmt_then_check("blog", "src/env.rs", Some(&toml));
}

#[test]
fn cargo_fmt_of_blog_with_rustfmt_defaults_is_not_drift() {
    fmt_then_check("blog", "src/env.rs", None);
}

#[test]
fn cargo_fmt_of_inventory_is_not_drift() {
    fmt_then_check("inventory", "src/generated.rs", None);
}
