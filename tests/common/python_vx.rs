//! Test support: the reference of the VX profile, Python `veltix==3.3.0`,
//! in a second venv that the tests provision themselves, beside the 1.6.3
//! one of `python.rs`.
//!
//! Include it from a test crate with
//! `#[path = "common/python_vx.rs"] mod python_vx;` (from `tests/X.rs`) or
//! `#[path = "../common/python_vx.rs"] mod python_vx;` (from
//! `tests/X/main.rs`). Paths derive from `CARGO_MANIFEST_DIR` only.
//!
//! Provisioning works as in `python.rs`: the venv lives in
//! `<target dir>/veltix-py-venv-3.3.0`, an in-process [`OnceLock`]
//! serialises test threads, an exclusive `flock` on
//! `<target dir>/veltix-py-venv-3.3.0.lock` serialises test processes, and
//! a marker written last tells a complete venv from an interrupted build
//! (which is rebuilt). The base interpreter is `$VELTIX_PYTHON` or
//! `python3`; 3.3.0 needs Python 3.11 or later. Failures panic with pip's
//! output: the interop tests are never skipped.
//!
//! The VX scripts are `tests/py/vx_server.py`, `vx_client.py` and
//! `make_vx_vectors.py`; a bare script name is looked up in `tests/py/`.
#![allow(dead_code)] // each test crate uses a different part of this module

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The reference version the venv holds.
pub const VELTIX_VX_VERSION: &str = "3.3.0";

/// What `pip install` is given.
const REQUIREMENT: &str = "veltix==3.3.0";

/// Name of the venv directory inside the target dir.
const VENV_DIR_NAME: &str = "veltix-py-venv-3.3.0";

/// Written into the venv when, and only when, it is complete.
const MARKER_NAME: &str = ".veltix-provisioned";

/// Cargo's target dir: `$CARGO_TARGET_DIR` (at run time, then at build
/// time, relative to the crate root), else `<crate root>/target`.
fn target_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(Into::into))
        .map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// Where the 3.3.0 venv lives.
pub fn venv_dir() -> PathBuf {
    target_dir().join(VENV_DIR_NAME)
}

/// The 3.3.0 venv's interpreter, provisioning the venv on first use.
///
/// # Panics
/// When the venv cannot be built, with a message saying what failed.
pub fn python_vx() -> PathBuf {
    static PROVISIONED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PROVISIONED.get_or_init(provision) {
        Ok(python) => python.clone(),
        Err(why) => panic!("cannot provision the VX reference Python venv ({REQUIREMENT}):\n{why}"),
    }
}

/// A command running `script` (bare names resolve in `tests/py/`) with the
/// 3.3.0 interpreter and a clean, unbuffered Python environment. Stdio is
/// left to the caller.
pub fn vx_command<S: AsRef<OsStr>>(script: impl AsRef<Path>, args: &[S]) -> Command {
    let script = script.as_ref();
    let script = if script.is_absolute() {
        script.to_path_buf()
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("py").join(script)
    };
    let mut cmd = Command::new(python_vx());
    cmd.arg(script).args(args);
    cmd.env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env_remove("PYTHONSTARTUP")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONIOENCODING", "utf-8");
    cmd
}

fn base_python() -> String {
    std::env::var("VELTIX_PYTHON").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into())
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn marker_contents(base: &str) -> String {
    format!("{REQUIREMENT}\nbase python: {base}\n")
}

fn is_ready(venv: &Path, base: &str) -> bool {
    venv_python(venv).exists()
        && fs::read_to_string(venv.join(MARKER_NAME)).is_ok_and(|m| m == marker_contents(base))
}

fn provision() -> Result<PathBuf, String> {
    let base = base_python();
    let venv = venv_dir();
    if is_ready(&venv, &base) {
        return Ok(venv_python(&venv));
    }
    let target = target_dir();
    fs::create_dir_all(&target).map_err(|e| format!("cannot create {}: {e}", target.display()))?;
    let _lock = lock_exclusive(&target.join(format!("{VENV_DIR_NAME}.lock")))?;
    if is_ready(&venv, &base) {
        return Ok(venv_python(&venv));
    }
    eprintln!("provisioning {REQUIREMENT} in {} (base interpreter: {base})", venv.display());
    if venv.exists() {
        fs::remove_dir_all(&venv)
            .map_err(|e| format!("cannot remove the incomplete venv {}: {e}", venv.display()))?;
    }
    run_step(Command::new(&base).arg("-m").arg("venv").arg(&venv), "python -m venv").map_err(
        |e| format!("{e}\nhint: python3 (3.11 or later) with the venv module is needed; set VELTIX_PYTHON to use another interpreter"),
    )?;
    let python = venv_python(&venv);
    run_step(
        Command::new(&python)
            .args(["-m", "pip", "install", "--no-input", "--disable-pip-version-check", REQUIREMENT])
            .env_remove("PIP_USER")
            .env_remove("PIP_REQUIRE_VIRTUALENV"),
        &format!("pip install {REQUIREMENT}"),
    )
    .map_err(|e| format!("{e}\nhint: is PyPI reachable? (pip honours PIP_INDEX_URL and PIP_FIND_LINKS)"))?;
    let version = run_step(
        Command::new(&python).args(["-c", "import sys, veltix; sys.stdout.write(veltix.__version__)"]),
        "import veltix",
    )?;
    if version.trim() != VELTIX_VX_VERSION {
        return Err(format!("the venv holds veltix {}, expected {VELTIX_VX_VERSION}", version.trim()));
    }
    let marker = venv.join(MARKER_NAME);
    let tmp = venv.join(format!("{MARKER_NAME}.tmp"));
    fs::write(&tmp, marker_contents(&base))
        .and_then(|()| fs::rename(&tmp, &marker))
        .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(python)
}

fn run_step(cmd: &mut Command, what: &str) -> Result<String, String> {
    let output = cmd
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{what}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{what}` failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Opens `path` and takes an exclusive advisory lock on it, held until the
/// returned file is dropped (the kernel drops it if the process dies).
fn lock_exclusive(path: &Path) -> Result<File, String> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    flock(&file).map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    Ok(file)
}

#[cfg(unix)]
fn flock(file: &File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock only reads the descriptor, which `file` keeps open.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(not(unix))]
fn flock(_file: &File) -> io::Result<()> {
    // Only the in-process OnceLock serialises provisioning here.
    Ok(())
}
