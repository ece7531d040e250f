//! The FPS scenario's floor on this machine, without veltix: one thread
//! sends each "player's" frame on its own loopback TCP connection, 1,000
//! connections, 64 ticks a second (a PLAYER_MOVE of 54 bytes each, a
//! PLAYER_SHOOT of 38 bytes for every tenth), exactly as `bench --only
//! fps` does, to one thread that reads every connection with epoll and
//! drops the bytes. Prints the share of ticks whose sends took less than
//! the tick. What veltix's FPS figure can be compared with: the send
//! system calls and the wake-ups of the reader are the same.
//!
//! ```sh
//! cargo run --release --example fps_floor -- [PLAYERS] [HZ] [SECONDS]
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream as MioStream;
use mio::{Events, Interest, Poll, Token};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().unwrap_or(0));
    let players = args.next().filter(|&n| n > 0).unwrap_or(1000) as usize;
    let hz = args.next().filter(|&n| n > 0).unwrap_or(64);
    let secs = args.next().filter(|&n| n > 0).unwrap_or(5);

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut clients = Vec::with_capacity(players);
    let mut accepted = Vec::with_capacity(players);
    for _ in 0..players {
        let c = TcpStream::connect(addr)?;
        c.set_nodelay(true)?;
        clients.push(c);
        let (s, _) = listener.accept()?;
        s.set_nonblocking(true)?;
        accepted.push(MioStream::from_std(s));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || -> std::io::Result<u64> {
            let mut poll = Poll::new()?;
            for (i, s) in accepted.iter_mut().enumerate() {
                poll.registry().register(s, Token(i), Interest::READABLE)?;
            }
            let mut events = Events::with_capacity(1024);
            let mut buf = vec![0u8; 64 * 1024];
            let mut bytes = 0u64;
            while !stop.load(Ordering::Relaxed) {
                poll.poll(&mut events, Some(Duration::from_millis(50)))?;
                for ev in &events {
                    let s = &mut accepted[ev.token().0];
                    loop {
                        match s.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => bytes += n as u64,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) => return Err(e),
                        }
                    }
                }
            }
            Ok(bytes)
        })
    };

    let mv = [7u8; 22 + 32];
    let shoot = [9u8; 22 + 16];
    let interval = Duration::from_secs_f64(1.0 / hz as f64);
    let start = Instant::now();
    let mut next = start;
    let mut ticks = Vec::new();
    let mut tick_no = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        let t = Instant::now();
        for (i, c) in clients.iter_mut().enumerate() {
            c.write_all(&mv)?;
            if (i as u64 + tick_no).is_multiple_of(10) {
                c.write_all(&shoot)?;
            }
        }
        ticks.push(t.elapsed());
        tick_no += 1;
        next += interval;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let bytes = reader.join().map_err(|_| std::io::Error::other("reader panicked"))??;
    let within = ticks.iter().filter(|t| **t <= interval).count();
    let avg = ticks.iter().sum::<Duration>() / ticks.len().max(1) as u32;
    let max = ticks.iter().max().copied().unwrap_or_default();
    println!(
        "{players} players @ {hz} Hz, {} ticks: {:.1} % within {:.1} ms; tick avg {:.2} ms, max {:.2} ms; {bytes} bytes read",
        ticks.len(),
        100.0 * within as f64 / ticks.len().max(1) as f64,
        interval.as_secs_f64() * 1e3,
        avg.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
    );
    Ok(())
}
