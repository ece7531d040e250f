//! Release builds of the `veltix` binary lay out its code in the order
//! `build/text-order.txt` lists: first the functions that `veltix serve`
//! runs to start, serve a client and stop (written by `scripts/text-order`,
//! most executed first), then everything else.
//!
//! Why: the kernel maps a program's code 64 KiB or more at a time around
//! each page it runs, and an idle server runs code spread over the whole
//! 5.3 MiB text (argument parsing, the server, the allocator): 49 of those
//! windows, 3.1 MiB resident. Grouped, the same code fits in about 14.
//!
//! The list names symbols as the linker sees them, hashes included; after
//! a change of the compiler, the lock file or the features, names that no
//! longer exist are skipped (silently: `--no-warn-symbol-ordering`), which
//! only loses the grouping. Rerun `scripts/text-order` then.
//!
//! Where the host's glibc is 2.36 or later and the binary is built for the
//! host, the relative relocations are packed too (`-z pack-relative-relocs`,
//! DT_RELR): 171 KiB of `.rela.dyn` that the loader reads at every start
//! become a few KiB. The binary then needs glibc 2.36 where it runs (it
//! needs 2.34 anyway, once linked against 2.34 or later).
//!
//! Only where the linker is known to be LLD (which reads such a list): the
//! x86_64 GNU/Linux target with Rust 1.90 or later, whose default linker it
//! is, and no linker chosen by the user. `VELTIX_TEXT_ORDER=0` turns both
//! off.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/text-order.txt");
    println!("cargo:rerun-if-env-changed=VELTIX_TEXT_ORDER");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    // Other targets build as they always did: the list is for this one.
    if env::var("PROFILE").as_deref() != Ok("release")
        || env::var("TARGET").as_deref() != Ok("x86_64-unknown-linux-gnu")
    {
        return;
    }
    if let Some(why) = skip_reason() {
        println!("cargo:warning=veltix: code layout order not applied: {why}");
        return;
    }
    let dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let list = format!("{dir}/build/text-order.txt");
    println!("cargo:rustc-link-arg-bin=veltix=-Wl,--symbol-ordering-file={list}");
    println!("cargo:rustc-link-arg-bin=veltix=-Wl,--no-warn-symbol-ordering");
    if env::var("HOST") == env::var("TARGET") && host_glibc().is_some_and(|v| v >= (2, 36)) {
        println!("cargo:rustc-link-arg-bin=veltix=-Wl,-z,pack-relative-relocs");
    }
}

/// The host's glibc version, as `getconf GNU_LIBC_VERSION` says it
/// ("glibc 2.36"), or None.
fn host_glibc() -> Option<(u32, u32)> {
    let out = Command::new("getconf").arg("GNU_LIBC_VERSION").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let (major, minor) = text.split_whitespace().nth(1)?.split_once('.')?;
    Some((major.parse().ok()?, minor.split('.').next()?.parse().ok()?))
}

/// Why a release build does not pass the list to the linker, or None.
fn skip_reason() -> Option<String> {
    if env::var("VELTIX_TEXT_ORDER").as_deref() == Ok("0") {
        return Some("VELTIX_TEXT_ORDER=0".into());
    }
    if env::var_os("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_some() {
        return Some("a linker is chosen (CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER)".into());
    }
    // `-C linker=`, `-C linker-flavor=`, `-C link-self-contained=`, or a
    // `-fuse-ld=` passed through (not `-C linker-plugin-lto`, which keeps
    // the linker).
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let chooses = ["linker=", "linker-flavor=", "link-self-contained=", "-fuse-ld="];
    if chooses.iter().any(|f| flags.contains(f)) {
        return Some("RUSTFLAGS choose the linker".into());
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let minor = Command::new(&rustc)
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.split_whitespace().nth(1)?.split('.').nth(1)?.parse::<u32>().ok());
    match minor {
        Some(m) if m >= 90 => None,
        Some(m) => Some(format!("Rust 1.{m} links with the system linker (LLD from 1.90)")),
        None => Some(format!("cannot read the version of {rustc}")),
    }
}
