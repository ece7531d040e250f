//! Callbacks and routes shared by servers and clients.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::codec::frame::Frame;
use crate::conn::Peer;
use crate::dispatch::{run_job, Mailbox, Pool};

/// Called when a connection is established (after the handshake).
pub type ConnectFn = Arc<dyn Fn(&Peer) + Send + Sync>;
/// Called with each application message (or with the messages of one type,
/// for a route).
pub type MessageFn = Arc<dyn Fn(&Peer, Frame) + Send + Sync>;

/// The callbacks of one server or client. Readable from callbacks; changed
/// at run time through the owner's methods.
pub(crate) struct Handlers<D: ?Sized> {
    pub on_connect: RwLock<Option<ConnectFn>>,
    pub on_message: RwLock<Option<MessageFn>>,
    pub on_disconnect: RwLock<Option<Arc<D>>>,
    pub routes: RwLock<HashMap<u16, MessageFn>>,
}

impl<D: ?Sized> Default for Handlers<D> {
    fn default() -> Self {
        Handlers {
            on_connect: RwLock::new(None),
            on_message: RwLock::new(None),
            on_disconnect: RwLock::new(None),
            routes: RwLock::new(HashMap::new()),
        }
    }
}

pub(crate) fn read<T: Clone>(l: &RwLock<T>) -> T {
    l.read().unwrap_or_else(|e| e.into_inner()).clone()
}

pub(crate) fn write<T>(l: &RwLock<T>, v: T) {
    *l.write().unwrap_or_else(|e| e.into_inner()) = v;
}

impl<D: ?Sized> Handlers<D> {
    pub(crate) fn set_on_connect(&self, f: impl Fn(&Peer) + Send + Sync + 'static) {
        write(&self.on_connect, Some(Arc::new(f) as ConnectFn));
    }

    pub(crate) fn set_on_message(&self, f: impl Fn(&Peer, Frame) + Send + Sync + 'static) {
        write(&self.on_message, Some(Arc::new(f) as MessageFn));
    }

    pub(crate) fn set_on_disconnect(&self, f: Arc<D>) {
        write(&self.on_disconnect, Some(f));
    }

    /// Hands a read's worth of messages to their handlers as one job on
    /// the connection's mailbox (one hand-off, not one per message), in
    /// order; each handler call is isolated, so a panic in one loses no
    /// other. Messages without a handler are dropped (debug log).
    pub(crate) fn deliver(
        &self,
        pool: &Pool,
        mailbox: &Arc<Mailbox>,
        peer: Peer,
        mut frames: Vec<Frame>,
    ) {
        // The handlers are looked up once per batch (one lock). Frames stay
        // in the batch's vector (those without a handler are dropped in
        // place) and runs of frames for the same handler name it by index:
        // no lock, no reference count and no second vector per message.
        let mut fns: Vec<(u16, Option<MessageFn>)> = Vec::new();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut bytes = 0;
        {
            let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
            let mut fallback: Option<Option<MessageFn>> = None;
            frames.retain(|frame| {
                let tc = frame.type_code;
                let i = match fns.iter().position(|(t, _)| *t == tc) {
                    Some(i) => i,
                    None => {
                        let f = routes.get(&tc).cloned().or_else(|| {
                            fallback.get_or_insert_with(|| read(&self.on_message)).clone()
                        });
                        fns.push((tc, f));
                        fns.len() - 1
                    }
                };
                if fns[i].1.is_none() {
                    log::debug!("no handler for a type {tc} message from {}; dropped", peer.addr());
                    return false;
                }
                bytes += frame.payload.len();
                match runs.last_mut() {
                    Some((last, n)) if *last == i => *n += 1,
                    _ => runs.push((i, 1)),
                }
                true
            });
        }
        let call = move |i: usize, frame: Frame, peer: &Peer| {
            if let Some(f) = &fns[i].1 {
                f(peer, frame);
            }
        };
        match frames.len() {
            0 => {}
            1 => {
                let i = runs.first().map_or(0, |r| r.0);
                if let Some(frame) = frames.pop() {
                    pool.submit_sized(mailbox, bytes, move || call(i, frame, &peer));
                }
            }
            _ => {
                pool.submit_sized(mailbox, bytes, move || {
                    let mut frames = frames.into_iter();
                    for (i, n) in runs {
                        for frame in frames.by_ref().take(n) {
                            run_job(|| call(i, frame, &peer));
                        }
                    }
                });
            }
        }
    }

    pub(crate) fn route(&self, type_code: u16, f: MessageFn) -> bool {
        self.routes.write().unwrap_or_else(|e| e.into_inner()).insert(type_code, f).is_none()
    }

    pub(crate) fn unroute(&self, type_code: u16) -> bool {
        self.routes.write().unwrap_or_else(|e| e.into_inner()).remove(&type_code).is_some()
    }
}
