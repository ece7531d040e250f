//! Test support: the references, Python `veltix==1.6.3` (the 1.6.3 wire)
//! and `veltix==3.3.0` (the VX wire, see `python_vx.rs`), each in a venv
//! of its own that the tests provision themselves.
//!
//! A test crate reaches it as `common::python` (see `tests/common/mod.rs`).
//! Every path below is derived from `CARGO_MANIFEST_DIR`, never from the
//! including file.
//!
//! A [`Reference`] names one release and its venv,
//! `<target dir>/veltix-py-venv` for 1.6.3 ([`V1_6_3`]) and
//! `<target dir>/veltix-py-venv-3.3.0` for 3.3.0 ([`V3_3_0`]). Each is
//! built once per target dir: an in-process [`OnceLock`] serialises the
//! test threads, an exclusive `flock` on `<venv dir>.lock` serialises test
//! processes (cargo runs test binaries one after another, nextest runs
//! them side by side), and a marker file written last tells a complete venv
//! from one whose build was interrupted (which is then rebuilt).
//!
//! The base interpreter is `python3` from `PATH`, or `$VELTIX_PYTHON`
//! (3.3.0 needs Python 3.11 or later).
//! Provisioning needs PyPI (or a pip mirror/wheel dir that pip is configured
//! with); when that fails the tests fail with pip's own output. They are
//! never skipped: the interop tests are how wire compatibility is proven.
//!
//! Scripts live in `tests/py/`; a bare script name such as
//! `"make_frame.py"` is looked up there. The functions without a
//! [`Reference`] ([`python`], [`py_command`], [`run_py`], ...) use 1.6.3.
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;

/// One release of the Python reference, installed in a venv of its own.
pub struct Reference {
    /// The version `import veltix` must report.
    pub version: &'static str,
    /// What `pip install` is given.
    requirement: &'static str,
    /// Name of the venv directory inside the target dir.
    venv_dir_name: &'static str,
    /// The oldest Python it runs on, for the hint when the venv fails.
    min_python: &'static str,
    /// The provisioned interpreter, or why there is none (once per process).
    provisioned: OnceLock<Result<PathBuf, String>>,
}

/// The reference of the 1.6.3 wire.
pub static V1_6_3: Reference = Reference {
    version: "1.6.3",
    requirement: "veltix==1.6.3",
    venv_dir_name: "veltix-py-venv",
    min_python: "3",
    provisioned: OnceLock::new(),
};

/// The reference of the VX wire (2.0.3 to 3.3.x).
pub static V3_3_0: Reference = Reference {
    version: "3.3.0",
    requirement: "veltix==3.3.0",
    venv_dir_name: "veltix-py-venv-3.3.0",
    min_python: "3.11",
    provisioned: OnceLock::new(),
};

/// The reference version the 1.6.3 venv holds.
pub const VELTIX_VERSION: &str = "1.6.3";

/// Written into the venv when, and only when, it is complete.
const MARKER_NAME: &str = ".veltix-provisioned";

/// The crate root (where Cargo.toml is).
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Cargo's target dir: `$CARGO_TARGET_DIR` (at run time, then at build
/// time), else `<crate root>/target`.
pub fn target_dir() -> PathBuf {
    let configured = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(Into::into));
    match configured {
        // Cargo resolves a relative target dir against the directory it was
        // started in, which for this single-package repo is the crate root.
        Some(dir) => manifest_dir().join(dir),
        None => manifest_dir().join("target"),
    }
}

/// Where the 1.6.3 venv lives.
pub fn venv_dir() -> PathBuf {
    V1_6_3.venv_dir()
}

/// The directory holding the test scripts (`tests/py`).
pub fn scripts_dir() -> PathBuf {
    manifest_dir().join("tests").join("py")
}

/// A script path: bare names are resolved in `tests/py/`.
pub fn script_path(script: impl AsRef<Path>) -> PathBuf {
    let script = script.as_ref();
    if script.is_absolute() {
        script.to_path_buf()
    } else {
        scripts_dir().join(script)
    }
}

/// The 1.6.3 venv's interpreter, provisioning the venv on first use.
///
/// # Panics
/// When the venv cannot be built (see [`Reference::python`]).
pub fn python() -> PathBuf {
    V1_6_3.python()
}

/// A command that runs `script` (bare names resolve in `tests/py/`) with
/// the 1.6.3 venv's Python (see [`Reference::command`]).
pub fn py_command<S: AsRef<OsStr>>(script: impl AsRef<Path>, args: &[S]) -> Command {
    V1_6_3.command(script, args)
}

impl Reference {
    /// Where this reference's venv lives.
    pub fn venv_dir(&self) -> PathBuf {
        target_dir().join(self.venv_dir_name)
    }

    /// The venv's interpreter, provisioning the venv on first use.
    ///
    /// # Panics
    /// When the venv cannot be built (no Python, no venv module, pip cannot
    /// reach PyPI, ...), with a message saying what failed and how to fix it.
    pub fn python(&self) -> PathBuf {
        match self.provisioned.get_or_init(|| self.provision()) {
            Ok(python) => python.clone(),
            // Every test that needs Python fails with the same explanation,
            // not just the first one to ask.
            Err(why) => {
                panic!("cannot provision the reference Python venv ({}):\n{why}", self.requirement)
            }
        }
    }

    /// A command that runs `script` (bare names resolve in `tests/py/`)
    /// with the venv's Python and a clean Python environment. Stdio is left
    /// to the caller.
    pub fn command<S: AsRef<OsStr>>(&self, script: impl AsRef<Path>, args: &[S]) -> Command {
        let mut cmd = Command::new(self.python());
        cmd.arg(script_path(script)).args(args);
        cmd.env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME")
            .env_remove("PYTHONSTARTUP")
            // No __pycache__ in the source tree; flush stdout line by line so a
            // test can wait for a readiness line from a long-running script.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONIOENCODING", "utf-8");
        cmd
    }
}

/// Runs a script to completion with empty stdin and returns its output
/// (whatever the exit status).
pub fn run_py<S: AsRef<OsStr>>(script: impl AsRef<Path>, args: &[S]) -> Output {
    run_py_input(script, args, b"")
}

/// Runs a script to completion, feeding `input` on its stdin (from a
/// separate thread, so large inputs and outputs cannot deadlock).
pub fn run_py_input<S: AsRef<OsStr>>(script: impl AsRef<Path>, args: &[S], input: &[u8]) -> Output {
    let script = script.as_ref();
    let mut child = py_command(script, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    thread::scope(|s| {
        let writer = s.spawn(move || {
            // A script that exits without reading all of stdin is the
            // script's business (its status tells); ignore EPIPE.
            match stdin.write_all(input) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            }
        });
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("cannot wait for {}: {e}", script.display()));
        writer.join().expect("stdin writer panicked").expect("cannot write the script's stdin");
        output
    })
}

/// Runs a script that must succeed and returns its stdout as text.
///
/// # Panics
/// When the script exits non-zero (the message carries its stderr).
pub fn run_py_ok<S: AsRef<OsStr>>(script: impl AsRef<Path>, args: &[S], input: &[u8]) -> String {
    let output = run_py_input(script.as_ref(), args, input);
    expect_success(&output, &script.as_ref().display().to_string())
}

/// Returns stdout of a successful run, or panics with status and stderr.
pub fn expect_success(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stderr ---\n{}--- stdout ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout),
    );
    String::from_utf8(output.stdout.clone()).expect("script stdout is UTF-8")
}

/// Starts a long-running script (a server or client) with stdout piped for
/// readiness lines and results, stdin piped and stderr inherited.
///
/// Scripts may treat end of stdin as "the test is gone, exit": dropping the
/// `Child` (or its `stdin`) closes it even when the test panics.
pub fn spawn_py<S: AsRef<OsStr>>(script: impl AsRef<Path>, args: &[S]) -> Child {
    let script = script.as_ref();
    py_command(script, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()))
}

/// Kills and reaps a child when dropped, so a failing test leaves no
/// stray Python process behind.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------
// Provisioning

/// The interpreter the venv is made from.
fn base_python() -> String {
    std::env::var("VELTIX_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

impl Reference {
    /// What the marker records: a venv built for anything else is rebuilt.
    fn marker_contents(&self, base: &str) -> String {
        format!("{}\nbase python: {base}\n", self.requirement)
    }

    fn is_ready(&self, venv: &Path, base: &str) -> bool {
        venv_python(venv).exists()
            && fs::read_to_string(venv.join(MARKER_NAME))
                .is_ok_and(|m| m == self.marker_contents(base))
    }

    fn provision(&self) -> Result<PathBuf, String> {
        let requirement = self.requirement;
        let base = base_python();
        let venv = self.venv_dir();
        if self.is_ready(&venv, &base) {
            return Ok(venv_python(&venv));
        }
        let target = target_dir();
        fs::create_dir_all(&target)
            .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
        let _lock = LockFile::acquire(&target.join(format!("{}.lock", self.venv_dir_name)))?;
        // Another process may have finished the venv while we waited.
        if self.is_ready(&venv, &base) {
            return Ok(venv_python(&venv));
        }
        eprintln!("provisioning {requirement} in {} (base interpreter: {base})", venv.display());
        if venv.exists() {
            fs::remove_dir_all(&venv).map_err(|e| {
                format!("cannot remove the incomplete venv {}: {e}", venv.display())
            })?;
        }

        let mut cmd = Command::new(&base);
        cmd.arg("-m").arg("venv").arg(&venv);
        run_step(&mut cmd, &format!("`{base} -m venv {}`", venv.display())).map_err(|e| {
            format!(
                "{e}\nhint: python {} or later with the venv module is needed \
                 (Debian/Ubuntu: apt-get install python3-venv); set VELTIX_PYTHON to use \
                 another interpreter",
                self.min_python
            )
        })?;

        let python = venv_python(&venv);
        let mut cmd = Command::new(&python);
        cmd.args([
            "-m",
            "pip",
            "install",
            "--no-input",
            "--disable-pip-version-check",
            requirement,
        ])
        .env_remove("PIP_USER")
        .env_remove("PIP_REQUIRE_VIRTUALENV");
        run_step(&mut cmd, &format!("`pip install {requirement}`")).map_err(|e| {
            format!("{e}\nhint: is PyPI reachable? (pip honours PIP_INDEX_URL and PIP_FIND_LINKS)")
        })?;

        let mut cmd = Command::new(&python);
        cmd.args(["-c", "import sys, veltix; sys.stdout.write(veltix.__version__)"]);
        let version = run_step(&mut cmd, "`import veltix`")?;
        if version.trim() != self.version {
            return Err(format!(
                "the venv holds veltix {}, expected {}",
                version.trim(),
                self.version
            ));
        }

        // The marker goes in last, atomically: a venv without it is incomplete.
        let marker = venv.join(MARKER_NAME);
        let tmp = venv.join(format!("{MARKER_NAME}.tmp"));
        fs::write(&tmp, self.marker_contents(&base))
            .and_then(|()| fs::rename(&tmp, &marker))
            .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
        Ok(python)
    }
}

/// Runs one provisioning step; its stdout on success, else a message with
/// its output.
fn run_step(cmd: &mut Command, what: &str) -> Result<String, String> {
    let output = cmd
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// An exclusive advisory lock, held until dropped. The kernel drops it when
/// the process dies, so a killed test run cannot leave it stuck.
struct LockFile(File);

impl LockFile {
    fn acquire(path: &Path) -> Result<LockFile, String> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
        lock_exclusive(&file).map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
        Ok(LockFile(file))
    }
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> io::Result<()> {
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
fn lock_exclusive(_file: &File) -> io::Result<()> {
    // Only the in-process OnceLock serialises provisioning here.
    Ok(())
}
