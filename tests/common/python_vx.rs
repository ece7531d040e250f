//! Test support: the reference of the VX profile, Python `veltix==3.3.0`,
//! in a second venv beside the 1.6.3 one, `<target dir>/veltix-py-venv-3.3.0`.
//! Provisioning is [`python::V3_3_0`]'s (see `python.rs`: same locking,
//! marker and failure rules); 3.3.0 needs Python 3.11 or later.
//!
//! A test crate reaches it as `common::python_vx`. The VX scripts are
//! `tests/py/vx_server.py`, `vx_client.py`, `vx_raw_probe.py` and
//! `make_vx_vectors.py`; a bare script name is looked up in `tests/py/`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::python;

/// The reference version the venv holds.
pub const VELTIX_VX_VERSION: &str = "3.3.0";

/// Where the 3.3.0 venv lives.
pub fn venv_dir() -> PathBuf {
    python::V3_3_0.venv_dir()
}

/// The 3.3.0 venv's interpreter, provisioning the venv on first use.
///
/// # Panics
/// When the venv cannot be built, with a message saying what failed.
pub fn python_vx() -> PathBuf {
    python::V3_3_0.python()
}

/// A command running `script` (bare names resolve in `tests/py/`) with the
/// 3.3.0 interpreter and a clean, unbuffered Python environment. Stdio is
/// left to the caller.
pub fn vx_command<S: AsRef<OsStr>>(script: impl AsRef<Path>, args: &[S]) -> Command {
    python::V3_3_0.command(script, args)
}
