//! The binary's allocator: mimalloc below [`LARGE`], the C library's
//! malloc from there on.
//!
//! mimalloc, because callbacks free each message's payload on another
//! thread than the one that read it: glibc's arenas pay for that with lock
//! contention and fastbin consolidation on the reading thread (a poll-core
//! burst of 5 M frames: 5.0-5.2 M msg/s with mimalloc, 3.4-4.3 M with
//! glibc, in alternated runs). It is built without transparent huge pages,
//! which would keep 6 MiB of an idle server resident.
//!
//! glibc for large blocks, because mimalloc keeps a large block freed by
//! another thread until the thread that allocated it runs again: twelve
//! idle connections that each passed one 8 MiB message held 140 MiB. With
//! [`veltix::limits::release_large_buffers`], glibc maps every block of
//! 256 KiB or more on its own and unmaps it when it is freed.
//!
//! Both are chosen by the block's size, which Rust passes to `dealloc` and
//! `realloc` as it was at allocation, so a block always goes back to the
//! allocator it came from.

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks of this many bytes or more come from the C library's malloc
/// (glibc's mmap threshold as `release_large_buffers` sets it).
pub const LARGE: usize = 256 * 1024;

/// mimalloc's option `mi_option_arena_reserve` (its number in `mi_option_e`
/// of mimalloc.h, the same in v2 and v3; libmimalloc-sys names no constant
/// for it). The value is in KiB.
const MI_OPTION_ARENA_RESERVE: libmimalloc_sys::mi_option_t = 23;

/// The address space mimalloc reserves for its first arena (KiB), instead
/// of its 1 GiB. The arena's bitmaps cover the whole reservation, and
/// touching them at the first allocation kept about 140 KiB of an idle server
/// resident; later arenas grow by themselves (mimalloc doubles their size
/// every eight), so a busy process loses nothing.
const ARENA_RESERVE_KIB: i64 = 64 * 1024;

/// Sets mimalloc's options before the first Rust allocation: the Rust
/// runtime allocates before `main`, and that first allocation reserves the
/// first arena. An environment variable (`MIMALLOC_ARENA_RESERVE`) still
/// wins. Runs from `.init_array`, as a C constructor does; `getenv` reads
/// the environment without allocating. (`.init_array` is ELF's; elsewhere
/// mimalloc keeps its default.)
#[cfg(target_os = "linux")]
extern "C" fn configure() {
    // SAFETY: the name is a NUL-terminated C string; getenv only reads.
    let set = unsafe { !libc::getenv(c"MIMALLOC_ARENA_RESERVE".as_ptr()).is_null() };
    if !set {
        // SAFETY: mi_option_set has no preconditions; the option exists.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_RESERVE, ARENA_RESERVE_KIB as _) };
    }
}

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static CONFIGURE: extern "C" fn() = configure;

/// Hands the allocators' free memory back to the OS (mimalloc's
/// `mi_collect`, and glibc's `malloc_trim` for what it serves: large blocks
/// and C code). mimalloc gives back what a thread freed only when that
/// thread allocates again, so a thread that then blocks for good (the
/// server's main thread once it is up) would keep it otherwise.
pub fn trim() {
    // SAFETY: mi_collect has no preconditions.
    unsafe { libmimalloc_sys::mi_collect(true) };
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions.
    unsafe {
        libc::malloc_trim(0)
    };
}

/// mimalloc for small blocks, the system allocator for large ones.
pub struct Hybrid;

fn is_large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: every block is allocated and freed by the same allocator (chosen
// by its size, which the caller passes back unchanged); both allocators
// uphold GlobalAlloc's contract, and the cross-over realloc below only
// copies the bytes both blocks hold.
unsafe impl GlobalAlloc for Hybrid {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if is_large(layout.size()) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if is_large(layout.size()) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the block came from the allocator its size selects.
        unsafe {
            if is_large(layout.size()) {
                System.dealloc(ptr, layout)
            } else {
                MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same-side reallocs are forwarded with the caller's
        // guarantees; a cross-over allocates from the other side with the
        // same alignment (a valid layout: the caller guarantees new_size
        // rounded to it does not overflow), copies the bytes both blocks
        // hold, and frees the old block where it came from.
        unsafe {
            match (is_large(layout.size()), is_large(new_size)) {
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                (true, true) => System.realloc(ptr, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn vectors_keep_their_bytes_growing_and_shrinking_across_the_threshold() {
        // The global allocator of this test binary is Hybrid too.
        let mut v = filled(LARGE - 1);
        v.extend_from_slice(&filled(3 * LARGE));
        assert_eq!(&v[..LARGE - 1], &filled(LARGE - 1)[..]);
        assert_eq!(&v[LARGE - 1..], &filled(3 * LARGE)[..]);
        v.truncate(100);
        v.shrink_to_fit();
        assert_eq!(v, filled(100));
    }

    #[test]
    fn both_sides_honour_alignment_and_zeroing() {
        for size in [64, LARGE - 8, LARGE, 4 * LARGE] {
            for align in [8, 64, 4096] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size; the block is freed with its layout.
                unsafe {
                    let p = Hybrid.alloc_zeroed(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    assert!(std::slice::from_raw_parts(p, size).iter().all(|&b| b == 0));
                    let q = Hybrid.realloc(p, layout, size * 2 + 1);
                    assert!(!q.is_null());
                    assert_eq!(q as usize % align, 0, "realloc: size {size} align {align}");
                    Hybrid.dealloc(q, Layout::from_size_align(size * 2 + 1, align).unwrap());
                }
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_arena_option_holds_our_reservation() {
        // The constructor ran (this test binary holds it too), and the
        // number names the option we mean: its value is ours, not
        // mimalloc's 1 GiB default. That it runs before the first arena is
        // reserved, tests/cli/serve.rs checks from what mimalloc reports.
        if std::env::var_os("MIMALLOC_ARENA_RESERVE").is_none() {
            // SAFETY: mi_option_get has no preconditions.
            let kib = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_RESERVE) };
            assert_eq!(kib as i64, ARENA_RESERVE_KIB);
        }
    }

    #[test]
    fn a_large_block_goes_back_to_the_system_when_freed() {
        // glibc maps it on its own: freeing it unmaps it, so the RSS does
        // not keep it (what mimalloc alone did for a block freed on
        // another thread than its own).
        assert!(veltix::limits::release_large_buffers());
        let rss = || {
            let s = std::fs::read_to_string("/proc/self/statm").unwrap();
            s.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 4096
        };
        let block = std::thread::spawn(|| vec![1u8; 64 << 20]).join().unwrap();
        let held = rss();
        drop(block);
        assert!(rss() + (48 << 20) < held, "64 MiB freed, RSS {} -> {}", held, rss());
    }
}
