//! How a waiting thread is woken for a loopback round trip: a blocking
//! `read` against `epoll_wait` (what veltix requesters wait in), and
//! `spec`, a non-blocking read tried before `epoll_wait` (it prints how
//! often the echo was already there). A 1-byte echo server on its own
//! thread; the client sends one byte and waits for the echo, N times, and
//! prints p50/p99 of the round trip.
//!
//!   cargo run --release --example wake_probe -- [read|epoll|spec] [N]
//!
//! Used to check issue #13's lead (README, "Ping latency").

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "read".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        s.set_nodelay(true).expect("nodelay");
        let mut b = [0u8; 1];
        while let Ok(1) = s.read(&mut b) {
            if s.write_all(&b).is_err() {
                break;
            }
        }
    });
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_nodelay(true).expect("nodelay");
    let fd = c.as_raw_fd();
    // SAFETY: plain epoll calls on valid fds.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLET | libc::EPOLLEXCLUSIVE) as u32,
        u64: 0,
    };
    // SAFETY: valid fds, `ev` outlives the call.
    unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) };
    let mut rtts = Vec::with_capacity(n);
    let mut b = [0u8; 1];
    let mut spec_hits = 0u64;
    for i in 0..n + 1000 {
        let t = Instant::now();
        c.write_all(&[1]).expect("write");
        // SAFETY: a valid buffer of one byte.
        if mode == "spec"
            && unsafe { libc::recv(fd, b.as_mut_ptr().cast(), 1, libc::MSG_DONTWAIT) } == 1
        {
            spec_hits += 1;
        } else if mode == "epoll" || mode == "spec" {
            // As a veltix requester: wait first (the socket is empty and
            // the registration edge-triggered), then read without blocking.
            loop {
                let mut out = libc::epoll_event { events: 0, u64: 0 };
                // SAFETY: a valid epoll fd and one event of room.
                unsafe { libc::epoll_wait(ep, &mut out, 1, 1000) };
                // SAFETY: a valid buffer of one byte.
                let r = unsafe { libc::recv(fd, b.as_mut_ptr().cast(), 1, libc::MSG_DONTWAIT) };
                if r == 1 {
                    break;
                }
            }
        } else {
            c.read_exact(&mut b).expect("read");
        }
        if i >= 1000 {
            rtts.push(t.elapsed().as_nanos() as u64);
        }
    }
    rtts.sort_unstable();
    let q = |p: f64| rtts[((rtts.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    println!("{mode}: n={n} p50={:.1}us p99={:.1}us spec_hits={spec_hits}", q(0.5), q(0.99));
}
