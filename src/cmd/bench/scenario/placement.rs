//! Where a ping's two threads ran: on one vCPU, or on two.
//!
//! On a small virtual machine a round trip between two threads costs about
//! 15 µs when both share a vCPU and about 55 µs when they do not (the
//! second vCPU halts between pings and each wake-up goes through the
//! hypervisor). The scheduler keeps a sleeping thread on the vCPU it last
//! ran on, so a run tends to stay in the placement it started in, for
//! veltix and the raw-TCP baseline independently. A p50 ratio between two
//! series in different placements measures the scheduler, not the code;
//! this module finds, for each block of pings, which placement it ran in,
//! so that the report can compare like with like.
//!
//! The echoing thread is found by what it does: during the warm-up it is
//! the thread of this process (other than the pinger and the bench
//! client's own threads, which may wake for a pong too) whose context
//! switches grew by about one per ping. Its vCPU is the one it last ran on
//! (`/proc/self/task/TID/stat`, field 39), read before and after each
//! block, as is the pinger's. Linux only; elsewhere, and against a
//! `--target` (whose echoing thread is in another process), nothing is
//! classified.

use std::collections::HashMap;

/// A block's placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// The echoing thread ran on the pinger's vCPU, before and after.
    Shared,
    /// It ran on another vCPU, before and after.
    Apart,
    /// One of the two moved during the block, or a reading failed.
    Moved,
}

/// Context switches of each thread of this process, by thread id.
pub type Switches = HashMap<i32, u64>;

/// The context switches (voluntary and not) of every thread of this
/// process but the bench client's own; None where /proc is not readable.
pub fn switches() -> Option<Switches> {
    #[cfg(target_os = "linux")]
    {
        let mut out = HashMap::new();
        for entry in std::fs::read_dir("/proc/self/task").ok()? {
            let Ok(entry) = entry else { continue };
            let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            // A thread may end between the listing and the read.
            let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
                continue;
            };
            if !client_side(&status) {
                out.insert(tid, count_switches(&status));
            }
        }
        Some(out)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

fn count_switches(status: &str) -> u64 {
    status
        .lines()
        .filter(|l| {
            l.starts_with("voluntary_ctxt_switches:")
                || l.starts_with("nonvoluntary_ctxt_switches:")
        })
        .filter_map(|l| l.split(':').nth(1)?.trim().parse::<u64>().ok())
        .sum()
}

/// Whether a thread is the library client's (its reader or I/O thread,
/// "veltix-client…", or a callback worker, "veltix-cli-cb…"): a pong the
/// requester did not take itself wakes one of these, which echoes nothing.
fn client_side(status: &str) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Name:"))
        .is_some_and(|name| name.trim().starts_with("veltix-cli"))
}

/// The thread (other than `me`) that echoed `pings` round trips between
/// the two snapshots: the one whose switches grew by at least half as many
/// as there were pings, and by at least twice as much as any other's.
pub fn echoer(before: &Switches, after: &Switches, me: i32, pings: u64) -> Option<i32> {
    let mut grew: Vec<(u64, i32)> = after
        .iter()
        .filter(|(tid, _)| **tid != me)
        .map(|(tid, n)| (n.saturating_sub(before.get(tid).copied().unwrap_or(0)), *tid))
        .collect();
    grew.sort_unstable_by(|a, b| b.cmp(a));
    let (top, tid) = *grew.first()?;
    let second = grew.get(1).map_or(0, |g| g.0);
    (pings > 0 && top * 2 >= pings && top >= second * 2).then_some(tid)
}

/// The calling thread's id.
pub fn me() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions.
        unsafe { libc::gettid() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// The vCPU the calling thread runs on.
pub fn my_cpu() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_getcpu has no preconditions.
        let cpu = unsafe { libc::sched_getcpu() };
        (cpu >= 0).then_some(cpu)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// The vCPU thread `tid` of this process last ran on.
pub fn cpu_of(tid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    last_cpu(&stat)
}

/// Field 39 (`processor`) of a stat line. The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last ')'.
fn last_cpu(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name come fields 3, 4, ...: field 39 is the 37th.
    rest.split_whitespace().nth(36)?.parse().ok()
}

/// Both threads' vCPUs at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Where {
    pinger: Option<i32>,
    echoer: Option<i32>,
}

/// Where the pinger (the calling thread) and `echoer` are now.
pub fn now(echoer: i32) -> Where {
    Where { pinger: my_cpu(), echoer: cpu_of(echoer) }
}

/// The placement of a block that started at `start` and ended at `end`.
pub fn classify(start: Where, end: Where) -> Placed {
    match (start, end) {
        (
            Where { pinger: Some(p0), echoer: Some(e0) },
            Where { pinger: Some(p1), echoer: Some(e1) },
        ) if p0 == p1 && e0 == e1 => {
            if p0 == e0 {
                Placed::Shared
            } else {
                Placed::Apart
            }
        }
        _ => Placed::Moved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processor_is_field_39_even_with_a_strange_name() {
        // A real line of /proc/self/task/TID/stat with its name made hostile.
        let mut fields: Vec<String> = (3..=52).map(|i| i.to_string()).collect();
        fields[39 - 3] = "1".into();
        let line = format!("4242 (a) b (c)) {}\n", fields.join(" "));
        assert_eq!(last_cpu(&line), Some(1));
        assert_eq!(last_cpu("4242 (cut) S 1 2"), None);
        assert_eq!(last_cpu("no name at all"), None);
    }

    #[test]
    fn switches_add_voluntary_and_not() {
        let status = "Name:\tx\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(count_switches(status), 123);
    }

    #[test]
    fn the_clients_threads_are_no_echoers() {
        // Names as /proc shows them: cut to 15 bytes.
        for name in ["veltix-client", "veltix-client-i", "veltix-cli-cb0"] {
            assert!(client_side(&format!("Name:\t{name}\nState:\tS\n")), "{name}");
        }
        for name in ["veltix-srv-io0", "veltix-r1", "veltix-accept", "raw-echo", "veltix"] {
            assert!(!client_side(&format!("Name:\t{name}\nState:\tS\n")), "{name}");
        }
        assert!(!client_side("State:\tS\n"));
    }

    /// The filter matches the names the library gives its client threads
    /// (a rename there would make it a no-op), and switches() leaves them out.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_library_clients_threads_are_left_out() {
        use std::collections::HashSet;
        use veltix::{Client, ClientConfig, CoreKind, Server, ServerConfig};
        let tids = || -> HashSet<i32> {
            let dir = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
            dir.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
        };
        for core in [CoreKind::Threads, CoreKind::Poll] {
            let server = Server::start(ServerConfig::default().port(0)).expect("server");
            let before = tids();
            let addr = server.local_addr().to_string();
            let client = Client::connect(ClientConfig::new(addr).core(core)).expect("client");
            // A new thread names itself once it runs: until then /proc shows
            // the name of the thread that started it.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            let clients: Vec<i32> = loop {
                let clients: Vec<i32> = (tids().difference(&before).copied())
                    .filter(|tid| {
                        std::fs::read_to_string(format!("/proc/self/task/{tid}/status"))
                            .is_ok_and(|status| client_side(&status))
                    })
                    .collect();
                if !clients.is_empty() || std::time::Instant::now() >= deadline {
                    break clients;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            };
            assert!(!clients.is_empty(), "{core:?}: no new thread is the client's");
            let listed = switches().expect("switches");
            assert!(clients.iter().all(|tid| !listed.contains_key(tid)), "{core:?}: {clients:?}");
            drop(client);
        }
    }

    #[test]
    fn the_echoer_is_the_thread_that_woke_once_per_ping() {
        let before: Switches = [(1, 10), (2, 5), (3, 7)].into();
        // 1 is the pinger; 2 woke 20 times for 20 pings, 3 twice.
        let after: Switches = [(1, 40), (2, 25), (3, 9), (4, 1)].into();
        assert_eq!(echoer(&before, &after, 1, 20), Some(2));
        // Too few wake-ups for the pings: not an echoer (another process's).
        assert_eq!(echoer(&before, &after, 1, 100), None);
        // Two threads as busy: no telling which.
        let after: Switches = [(1, 40), (2, 25), (3, 20)].into();
        assert_eq!(echoer(&before, &after, 1, 20), None);
    }

    #[test]
    fn placement_of_a_block() {
        let at = |p, e| Where { pinger: Some(p), echoer: Some(e) };
        assert_eq!(classify(at(0, 0), at(0, 0)), Placed::Shared);
        assert_eq!(classify(at(0, 1), at(0, 1)), Placed::Apart);
        assert_eq!(classify(at(0, 1), at(0, 0)), Placed::Moved);
        assert_eq!(classify(at(1, 1), at(0, 0)), Placed::Moved);
        let unknown = Where { pinger: Some(0), echoer: None };
        assert_eq!(classify(unknown, unknown), Placed::Moved);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_thread_is_found_where_it_runs() {
        let cpu = my_cpu().expect("sched_getcpu");
        // A thread that has just run (this one) last ran where it is, unless
        // it migrated in between: allow one retry.
        let found = (0..3).any(|_| cpu_of(me()) == my_cpu());
        assert!(found, "cpu {cpu}, /proc says {:?}", cpu_of(me()));
        assert!(switches().expect("/proc/self/task").contains_key(&me()));
    }
}
