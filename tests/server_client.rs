//! The library's client and server on loopback: every behaviour of the
//! handshake, correlation, dispatch, helpers, reconnect and shutdown, run
//! once per socket core.

mod threads {
    const CORE: veltix::CoreKind = veltix::CoreKind::Threads;
    include!("server_client/cases.rs");
}

mod poll {
    const CORE: veltix::CoreKind = veltix::CoreKind::Poll;
    include!("server_client/cases.rs");
}
