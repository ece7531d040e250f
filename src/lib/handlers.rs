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
    /// The handler for a message: its type's route first, else on_message.
    pub(crate) fn for_message(&self, type_code: u16) -> Option<MessageFn> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = routes.get(&type_code) {
            return Some(f.clone());
        }
        drop(routes);
        read(&self.on_message)
    }

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
        frames: Vec<Frame>,
    ) {
        let mut bytes = 0;
        let mut calls: Vec<(MessageFn, Frame)> = Vec::with_capacity(frames.len());
        for frame in frames {
            match self.for_message(frame.type_code) {
                Some(f) => {
                    bytes += frame.payload.len();
                    calls.push((f, frame));
                }
                None => log::debug!(
                    "no handler for a type {} message from {}; dropped",
                    frame.type_code,
                    peer.addr()
                ),
            }
        }
        match calls.len() {
            0 => {}
            1 => {
                let (f, frame) = calls.pop().expect("one call");
                pool.submit_sized(mailbox, bytes, move || f(&peer, frame));
            }
            _ => {
                pool.submit_sized(mailbox, bytes, move || {
                    for (f, frame) in calls {
                        run_job(|| f(&peer, frame));
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
