//! The `threads` socket core: one reader thread per connection.
//!
//! On a server connection the reader thread reads alone, blocking in
//! `read`. On a client connection the protocol session sits in a
//! [`ReadSide`], so that a thread blocked in `send_and_wait` reads its reply
//! itself; the reader thread waits in an epoll instance behind the
//! requesters' (see `read_side`).
//!
//! Writes happen on the sender's thread (see `conn`), with a writer thread
//! started only for a connection whose kernel buffer fills.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::read_side::ReadSide;
use super::{fault, finish, local_end, peer_closed, process, read_failed, tick, Owner};
use crate::conn::{Conn, Role};
use crate::error::{EndKind, EndReason};
use crate::net::{add_exclusive, new_epoll, wait_readable};
use crate::session::{Flow, Session};

/// Starts the reader thread of `conn`.
pub(crate) fn spawn_reader(
    conn: Arc<Conn>,
    session: Session,
    owner: Arc<dyn Owner>,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("veltix-r{}", conn.id))
        .spawn(move || run(&conn, session, owner))
}

/// The reader thread of one connection.
pub(crate) fn run(conn: &Arc<Conn>, session: Session, owner: Arc<dyn Owner>) {
    match conn.role {
        // A client mostly waits for replies: let requesters read them.
        Role::Client => run_shared(conn, session, owner),
        // A server mostly answers: the reader thread reads alone, with one
        // blocking read per arrival and no extra system call.
        Role::Server => run_alone(conn, session, &*owner),
    }
}

fn run_alone(conn: &Arc<Conn>, mut session: Session, owner: &dyn Owner) {
    let mut interval = session.tick_interval();
    let _ = conn.stream.set_read_timeout(Some(interval));
    let end = loop {
        if let Some(end) = process(conn, &mut session, owner) {
            break fault(conn, end);
        }
        if conn.is_closed() {
            break local_end(conn);
        }
        match conn.read_into(session.decoder_mut(), &mut &conn.stream) {
            Ok(0) => break peer_closed(conn, &session),
            Ok(n) => conn.count_read(n),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break read_failed(conn, &e),
        }
        if let Flow::Close(end) = tick(conn, &mut session, owner) {
            break fault(conn, end);
        }
        let next = session.tick_interval();
        if next != interval {
            interval = next;
            let _ = conn.stream.set_read_timeout(Some(interval));
        }
    };
    finish(conn, end, owner);
}

fn run_shared(conn: &Arc<Conn>, session: Session, owner: Arc<dyn Owner>) {
    // The requesters' instance (inside the read side) first, then ours.
    let watched = ReadSide::new(conn, session, &owner, true).and_then(|side| {
        let epoll = new_epoll()?;
        add_exclusive(epoll.as_raw_fd(), conn.stream.as_raw_fd(), libc::EPOLLIN as u32, 0)?;
        Ok((Arc::new(side), epoll))
    });
    let (side, epoll) = match watched {
        Ok(w) => w,
        Err(e) => {
            let end = EndReason::new(EndKind::Error, format!("cannot watch the socket: {e}"));
            finish(conn, end, &*owner);
            return;
        }
    };
    conn.set_read_side(side.clone());
    // Kept from the last time we held the state: taking the lock only for
    // this would make a requester that leaves wait for our wake-up.
    let mut interval = side.lock().session.tick_interval();
    let end = loop {
        let ready = wait_readable(epoll.as_raw_fd(), interval);
        // While requesters are active they read what comes (the bytes are
        // on their instance's ready list too).
        let mut st = match side.take_or_leave(true) {
            Some(st) => st,
            // The end (a requester saw it, or we were closed): finish once
            // the requesters are out.
            None if conn.is_closed() => side.lock(),
            None => {
                side.park_while_busy();
                continue;
            }
        };
        if let Some(end) = st.end.clone() {
            break end;
        }
        if ready {
            if let Some(end) = side.pump(conn, &mut st) {
                break end;
            }
        } else if conn.is_closed() {
            break local_end(conn);
        }
        if let Flow::Close(end) = tick(conn, &mut st.session, &*owner) {
            break fault(conn, end);
        }
        interval = st.session.tick_interval();
    };
    finish(conn, end, &*owner);
}
