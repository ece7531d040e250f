//! Process limits a busy server or load generator runs into.

/// Raises the soft limit on open files to the hard limit (so a process can
/// hold thousands of connections without tuning the shell) and returns the
/// soft limit in force afterwards, or `None` where it cannot be read.
pub fn raise_open_file_limit() -> Option<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    Some(lim.rlim_cur)
}

/// Has the allocator serve every allocation of 256 KiB or more with its own
/// memory mapping, unmapped when freed, so a large frame's buffers go back
/// to the system once handled (a long-running server that passed one large
/// message per connection must not keep them resident). Without it, glibc
/// raises that threshold after the first large free and keeps later large
/// buffers in per-thread arenas. The `veltix` binary calls this at start
/// (its small blocks come from mimalloc, its large ones from glibc); a
/// program embedding the library may too. Returns whether the setting took
/// (only on glibc).
pub fn release_large_buffers() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt takes two integers and changes a malloc setting.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
