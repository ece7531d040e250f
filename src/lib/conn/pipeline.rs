//! [`Pipeline`]: many sends, one write.

use std::sync::Arc;

use super::Conn;
use crate::codec::frame::RequestId;
use crate::error::Result;

/// Sends many messages on one connection with few system calls: each
/// [`send`](Pipeline::send) only appends the encoded frame to the
/// connection's outbound queue, which is written in one go once about
/// 128 KiB have gathered, at [`flush`](Pipeline::flush), or when the
/// pipeline is dropped. Frames keep their order, also with sends made
/// elsewhere on the same connection meanwhile (those go out behind what
/// the pipeline queued). Back-pressure is that of a plain send: on a
/// client, `send` waits while `max_outbound_bytes` are queued.
///
/// On the 1.6.3 wire, a pipelined frame's timestamp comes from the kernel's
/// coarse clock (a scheduler tick, 1–4 ms, behind the precise one): reading
/// the precise clock would cost more than the rest of queueing the frame.
///
/// For a stream of messages (a file piped in, a load generator); a lone
/// message is better sent with [`Peer::send`](super::Peer::send), which
/// writes it at once.
///
/// ```no_run
/// # fn demo(client: &veltix::Client) -> veltix::Result<()> {
/// let mut batch = client.pipeline()?;
/// for i in 0..10_000u32 {
///     batch.send(200, &i.to_be_bytes())?;
/// }
/// batch.flush()?; // or let it drop
/// # Ok(()) }
/// ```
pub struct Pipeline {
    conn: Arc<Conn>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("conn", &self.conn.id).finish()
    }
}

impl Pipeline {
    pub(crate) fn new(conn: Arc<Conn>) -> Pipeline {
        Pipeline { conn }
    }

    /// Queues a message with a fresh request id; returns the id. Refuses a
    /// message over `max_message_size` like a plain send.
    pub fn send(&mut self, type_code: u16, payload: &[u8]) -> Result<RequestId> {
        self.conn.check_size(payload.len())?;
        let id = self.conn.pending.fresh_id();
        self.conn.queue_parts(type_code, id, payload)?;
        Ok(id)
    }

    /// Queues a message with the given request id.
    pub fn send_with_id(&mut self, type_code: u16, id: RequestId, payload: &[u8]) -> Result<()> {
        self.conn.check_size(payload.len())?;
        self.conn.queue_parts(type_code, id, payload)
    }

    /// Writes everything queued now (without waiting for the kernel to
    /// take all of it: what it does not take, the connection's core
    /// writes as soon as it can, as for any send).
    pub fn flush(&mut self) -> Result<()> {
        self.conn.flush_queued()
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        let _ = self.conn.flush_queued();
    }
}
