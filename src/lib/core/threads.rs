//! The `threads` socket core: one reader thread per connection.
//!
//! The reader owns the decoder and the protocol state; it answers PINGs and
//! wakes `send_and_wait` callers itself, and hands application frames to the
//! callback pool. Writes happen on the sender's thread (see `conn`), with a
//! writer thread started only for a connection whose kernel buffer fills.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::{fault, finish, local_end, peer_closed, process, read_failed, Flow, Proto, Session};
use crate::conn::Conn;
use crate::decoder::Decoder;

/// Starts the reader thread of `conn`.
pub(crate) fn spawn_reader(
    conn: Arc<Conn>,
    decoder: Decoder,
    proto: Proto,
    session: Arc<dyn Session>,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("veltix-r{}", conn.id))
        .spawn(move || run(&conn, decoder, proto, &*session))
}

pub(crate) fn run(conn: &Arc<Conn>, mut decoder: Decoder, mut proto: Proto, session: &dyn Session) {
    let mut tick = proto.tick_interval(conn);
    let _ = conn.stream.set_read_timeout(Some(tick));
    let end = loop {
        // Frames already buffered first (the client's handshake may have
        // read past the HELLO).
        if let Some(end) = process(conn, &mut decoder, &mut proto, session) {
            break fault(conn, end);
        }
        if conn.is_closed() {
            break local_end(conn);
        }
        match decoder.read_from(&mut &conn.stream, conn.cfg.buffer_size) {
            Ok(0) => break peer_closed(conn),
            Ok(n) => conn.count_read(n),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break read_failed(conn, &e),
        }
        if let Flow::Close(end) = proto.on_tick(conn) {
            break fault(conn, end);
        }
        let next = proto.tick_interval(conn);
        if next != tick {
            tick = next;
            let _ = conn.stream.set_read_timeout(Some(tick));
        }
    };
    finish(conn, end, session);
}
