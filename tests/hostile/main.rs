//! Hostile peers. Every server-side case runs against `veltix serve` (a
//! child process: its RSS from /proc, its log from stderr) and against the
//! library's `Server` in this process, on both socket cores; each checks
//! that (a) a well-behaved client's ping succeeds during and after the
//! attack, (b) the server's RSS stays bounded (child processes only), and
//! (c) a log line names the peer's ip:port and the fault.
//!
//! Also here: the client side (`request`, `ping`, `connect` against a fake
//! server that misbehaves), and delivery (nothing lost, nothing
//! reordered, through `serve --mode echo` and `--mode broadcast`).
//!
//! `cargo test --test hostile` runs it all; `cargo test --test hostile
//! slow_consumer` one case on every target.

#[path = "../common/mod.rs"]
mod common;

mod attacks;
mod client_side;
mod delivery;
mod peer;
mod target;
mod tls;
mod vx;

/// Runs each listed case of `attacks` on the four targets: `serve` and
/// the library, each on the threads and the poll core. Attributes before
/// a case (`#[ignore = "..."]`) apply to its four tests.
macro_rules! on_every_target {
    ($($(#[$attr:meta])* $case:ident),* $(,)?) => {
        on_every_target!(attacks: $($(#[$attr])* $case),*);
    };
    ($module:ident: $($(#[$attr:meta])* $case:ident),* $(,)?) => {$(
        mod $case {
            use crate::target::Kind::{Bin, Lib};
            use veltix::CoreKind::{Poll, Threads};
            $(#[$attr])* #[test] fn serve_threads() { crate::$module::$case(Bin, Threads) }
            $(#[$attr])* #[test] fn serve_poll() { crate::$module::$case(Bin, Poll) }
            $(#[$attr])* #[test] fn lib_threads() { crate::$module::$case(Lib, Threads) }
            $(#[$attr])* #[test] fn lib_poll() { crate::$module::$case(Lib, Poll) }
        }
    )*};
}

/// As [`on_every_target`], for cases only a child process allows.
macro_rules! on_serve {
    ($($(#[$attr:meta])* $case:ident),* $(,)?) => {$(
        mod $case {
            use crate::target::Kind::Bin;
            use veltix::CoreKind::{Poll, Threads};
            $(#[$attr])* #[test] fn serve_threads() { crate::attacks::$case(Bin, Threads) }
            $(#[$attr])* #[test] fn serve_poll() { crate::attacks::$case(Bin, Poll) }
        }
    )*};
}

on_every_target!(
    crc_mismatch,
    truncated_frame_then_close,
    truncated_frame_is_named_in_the_log,
    random_garbage,
    header_declaring_4_gib,
    header_declaring_4_gib_under_a_4_gib_limit,
    just_over_max_message_size,
    unknown_type_code,
    zero_length_payload,
    hello_ack_with_a_wrong_version,
    application_frames_before_the_handshake,
    silent_past_the_handshake_timeout,
    one_byte_per_second,
    ten_times_max_connections_at_once,
    slow_consumer_of_a_broadcast,
    client_killed_mid_frame,
);

on_every_target!(vx: vx_bad_handshakes, vx_slow_handshakes, vx_bad_frames);

on_serve!(
    server_killed_while_clients_wait,
    slow_callbacks_hold_bounded_bytes,
    idle_after_a_large_message,
);

on_every_target!(tls: tls_slowloris_client_hello, tls_garbage);
