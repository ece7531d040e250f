//! `veltix completions` and `veltix man`, and the committed copies of
//! their output (completions/, doc/), which must not go stale.
//!
//! After changing the CLI, refresh the copies with
//! `VELTIX_REGENERATE=1 cargo test --test cli completions`.

use std::path::PathBuf;

use crate::util::{code, run, stdout, veltix};

const SHELLS: &[(&str, &str)] = &[
    ("bash", "veltix.bash"),
    ("zsh", "_veltix"),
    ("fish", "veltix.fish"),
    ("powershell", "_veltix.ps1"),
    ("elvish", "veltix.elv"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `generated` with the committed file, or rewrites it when
/// VELTIX_REGENERATE is set.
fn check_committed(path: PathBuf, generated: &[u8]) {
    if std::env::var_os("VELTIX_REGENERATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale; run: VELTIX_REGENERATE=1 cargo test --test cli completions",
        path.display()
    );
}

#[test]
fn every_shell_gets_a_script_and_the_committed_ones_are_current() {
    for (shell, file) in SHELLS {
        let out = run(veltix(["completions", shell]));
        assert_eq!(code(&out), 0, "{shell}");
        assert!(stdout(&out).contains("veltix"), "{shell}");
        for sub in ["serve", "connect", "request", "ping", "bench", "decode", "encode"] {
            assert!(stdout(&out).contains(sub), "{shell} lacks {sub}");
        }
        check_committed(root().join("completions").join(file), &out.stdout);
    }
}

#[test]
fn man_page_is_roff_and_the_committed_one_is_current() {
    let out = run(veltix(["man"]));
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.starts_with(".ie") || text.contains(".TH veltix"),
        "{}",
        &text[..80.min(text.len())]
    );
    check_committed(root().join("doc").join("veltix.1"), &out.stdout);
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = run(veltix(["completions", "tcsh"]));
    assert_eq!(code(&out), 2);
}

#[test]
fn every_subcommand_help_has_examples() {
    for sub in
        ["serve", "connect", "request", "ping", "bench", "decode", "encode", "completions", "man"]
    {
        let out = run(veltix([sub, "--help"]));
        assert_eq!(code(&out), 0, "{sub}");
        assert!(stdout(&out).contains("Examples:"), "veltix {sub} --help has no examples");
    }
    let out = run(veltix(["--help"]));
    assert!(stdout(&out).contains("Exit codes:"));
}
