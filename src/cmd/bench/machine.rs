//! What machine ran the benchmark, and the process's resident memory,
//! threads and open-file limit.

use std::collections::HashSet;

use super::model::Machine;
use super::units::group;

/// Reads the CPU, memory, OS and kernel. Missing sources leave a field
/// empty (or "unknown") rather than failing the run.
pub fn probe() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let uts = uname();
    // The machine's, not this process's (`available_parallelism` follows
    // the affinity mask, which `taskset` narrows: see `cpus_allowed`).
    // SAFETY: sysconf has no preconditions.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let logical = if online > 0 {
        online as u32
    } else {
        std::thread::available_parallelism().map_or(0, |n| n.get() as u32)
    };
    Machine {
        cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| uts.machine.clone()),
        logical_cores: logical,
        physical_cores: physical_cores(&cpuinfo),
        memory_bytes: mem_total(&meminfo).unwrap_or(0),
        os: pretty_name(&os_release).unwrap_or_else(|| uts.sysname.clone()),
        kernel: format!("{} {}", uts.sysname, uts.release).trim().to_string(),
        arch: uts.machine,
    }
}

/// The CPUs this process may run on (its affinity mask), if known.
pub fn cpus_allowed() -> Option<Vec<u32>> {
    // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity fills it
    // for this process (pid 0) within the size given.
    let set = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        set
    };
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: CPU_ISSET reads the set within its size.
    Some((0..max).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) }).map(|c| c as u32).collect())
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (k, v) = line.split_once(':')?;
    (k.trim() == key).then(|| v.trim())
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    // x86 says "model name"; some ARM kernels only "Hardware" or "CPU part".
    ["model name", "Hardware", "cpu model", "Processor"].iter().find_map(|key| {
        cpuinfo.lines().find_map(|l| field(l, key)).filter(|v| !v.is_empty()).map(str::to_string)
    })
}

fn physical_cores(cpuinfo: &str) -> Option<u32> {
    let mut cores = HashSet::new();
    let mut package = None;
    for line in cpuinfo.lines() {
        if let Some(v) = field(line, "physical id") {
            package = Some(v.to_string());
        } else if let Some(v) = field(line, "core id") {
            cores.insert((package.clone(), v.to_string()));
        }
    }
    (!cores.is_empty()).then_some(cores.len() as u32)
}

fn mem_total(meminfo: &str) -> Option<u64> {
    let v = meminfo.lines().find_map(|l| field(l, "MemTotal"))?;
    let kib: u64 = v.trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

fn pretty_name(os_release: &str) -> Option<String> {
    let v = os_release.lines().find_map(|l| l.strip_prefix("PRETTY_NAME="))?;
    Some(v.trim_matches('"').to_string())
}

struct Uts {
    sysname: String,
    release: String,
    machine: String,
}

fn uname() -> Uts {
    // SAFETY: utsname is plain old data; uname fills it with NUL-terminated
    // strings, and a zeroed struct is valid if it fails.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::uname(&mut u) } == 0;
    let s = |f: &[libc::c_char]| -> String {
        let bytes: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    if !ok {
        return Uts {
            sysname: "unknown".into(),
            release: String::new(),
            machine: std::env::consts::ARCH.into(),
        };
    }
    Uts { sysname: s(&u.sysname), release: s(&u.release), machine: s(&u.machine) }
}

/// Resident set size of this process, from /proc/self/statm.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// Threads of this process (`Threads:` of /proc/self/status; 0 if unknown).
pub fn thread_count() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| field(l, "Threads")).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// This process's soft and hard limits on open files (RLIMIT_NOFILE;
/// `u64::MAX` for unlimited).
pub fn open_file_limits() -> Option<(u64, u64)> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into a valid pointer to a local struct.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    let v = |x: libc::rlim_t| if x == libc::RLIM_INFINITY { u64::MAX } else { x };
    ok.then(|| (v(lim.rlim_cur), v(lim.rlim_max)))
}

/// Files this process has open (entries of /proc/self/fd).
pub fn open_files() -> Option<u64> {
    // The directory handle itself is one of the entries.
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count().saturating_sub(1) as u64)
}

/// Open files kept free besides the connections (pipes, epoll instances,
/// log files).
const FD_MARGIN: u64 = 32;

/// Fails unless `process` (this one) may open `n` more files, with a margin.
/// veltix raises its soft limit to the hard limit at start, so only the
/// hard limit can be short.
pub fn ensure_open_files(process: &str, n: u32) -> anyhow::Result<()> {
    let Some((soft, hard)) = open_file_limits() else { return Ok(()) };
    let open = open_files().unwrap_or(0);
    let need = open + u64::from(n) + FD_MARGIN;
    let shown = |v: u64| if v == u64::MAX { "unlimited".to_string() } else { group(v) };
    anyhow::ensure!(
        soft >= need,
        "--conn-count {} needs {} open files in {process}: {} connections, {open} files \
         already open and a margin of {FD_MARGIN}; but its limit is {} (RLIMIT_NOFILE soft \
         limit; hard limit {}). Raise the hard limit (ulimit -Hn, LimitNOFILE= of a systemd \
         unit, /etc/security/limits.conf) or lower --conn-count",
        group(u64::from(n)),
        group(need),
        group(u64::from(n)),
        shown(soft),
        shown(hard)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let cpu = "processor\t: 0\nphysical id\t: 0\ncore id\t\t: 0\nmodel name\t: Test CPU 9000\n\n\
                   processor\t: 1\nphysical id\t: 0\ncore id\t\t: 0\n\nprocessor\t: 2\nphysical id\t: 0\ncore id\t\t: 1\n";
        assert_eq!(cpu_model(cpu).as_deref(), Some("Test CPU 9000"));
        assert_eq!(physical_cores(cpu), Some(2));
        assert_eq!(mem_total("MemTotal:       1024 kB\nMemFree: 1 kB\n"), Some(1024 * 1024));
        assert_eq!(pretty_name("ID=x\nPRETTY_NAME=\"Some OS 1\"\n").as_deref(), Some("Some OS 1"));
    }

    #[test]
    fn probes_this_machine() {
        let m = probe();
        assert!(m.logical_cores >= 1);
        let allowed = cpus_allowed().expect("the affinity mask of this process");
        assert!(!allowed.is_empty() && allowed.len() <= m.logical_cores as usize);
        assert!(!m.kernel.is_empty());
        assert!(rss_bytes() > 0);
        assert!(thread_count() >= 1);
        let (soft, hard) = open_file_limits().unwrap();
        assert!(soft <= hard);
        assert!(open_files().is_some());
    }
}
