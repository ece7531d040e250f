//! The library's client and server on loopback: every behaviour of the
//! handshake, correlation, dispatch, helpers, reconnect and shutdown, run
//! once per socket core (`threads::NAME` and `poll::NAME`).

#[path = "../common/mod.rs"]
mod common;

mod cases;
mod tls;
mod vx;

/// Makes a test of each listed case of `cases` in `mod threads` and in
/// `mod poll`, run on that socket core.
macro_rules! on_both_cores {
    ($($case:ident),* $(,)?) => {
        on_both_cores!(cases, threads, poll: $($case),*);
    };
    ($module:ident, $threads:ident, $poll:ident: $($case:ident),* $(,)?) => {
        mod $threads {
            $(#[test] fn $case() { crate::$module::$case(veltix::CoreKind::Threads) })*
        }
        mod $poll {
            $(#[test] fn $case() { crate::$module::$case(veltix::CoreKind::Poll) })*
        }
    };
}

on_both_cores!(
    handshake_then_on_connect_and_real_port,
    on_connect_fires_only_after_the_ack,
    ping_both_ways,
    send_and_wait_both_ways,
    concurrent_requests_get_their_own_replies,
    timeout_then_late_reply_is_dropped_not_delivered,
    routes_take_priority_and_can_be_removed,
    slow_callback_does_not_delay_pings,
    ten_thousand_messages_in_order_on_one_connection,
    ten_thousand_messages_in_order_on_each_of_fifty_connections,
    broadcast_reaches_all_but_the_excepted,
    tags_from_callbacks,
    over_max_connections_gets_an_error_frame_others_unaffected,
    silent_peer_is_dropped_after_the_handshake_timeout,
    application_frame_before_handshake_closes,
    wrong_ack_version_closes,
    client_rejects_a_server_of_another_version,
    client_connect_errors_are_typed,
    crc_mismatch_is_reported_to_the_sender_and_the_stream_goes_on,
    oversized_frame_closes_with_an_error_naming_the_limit,
    reconnects_after_a_server_restart,
    retries_run_out_with_a_permanent_state,
    manual_disconnect_is_permanent_and_does_not_retry,
    server_killed_while_waiting_gives_an_error_not_a_hang,
    a_reply_followed_at_once_by_the_close_ends_the_client_at_once,
    messages_pushed_while_a_request_waits_are_delivered_at_once,
    without_workers_callbacks_run_in_order_and_refuse_to_wait,
    shutdown_returns_and_the_port_is_reusable_at_once,
    high_performance_mode_detects_a_dead_peer_and_low_does_not,
    larger_buffers_take_a_burst_in_fewer_reads,
    a_client_sending_faster_than_the_server_reads_waits_and_loses_nothing,
    callbacks_start_while_a_stream_is_still_being_read,
    a_message_over_max_message_size_is_refused_before_sending,
    settings_that_cannot_work_and_a_port_in_use_are_refused_at_start,
    a_pipeline_sends_in_order_in_few_writes_and_plain_sends_queue_behind_it,
    a_pipeline_writes_once_enough_is_queued_and_the_rest_at_flush,
    a_pipeline_over_a_small_outbound_limit_waits_for_room_and_loses_nothing,
    concurrent_senders_on_one_connection_keep_each_order_and_share_writes,
    concurrent_senders_keep_order_once_the_core_has_drained_a_full_buffer,
    a_relay_sees_local_broadcasts_and_injects_without_echo,
    metrics_count_what_happened,
    messages_of_one_read_go_to_callbacks_in_order_and_a_panic_loses_no_other,
);

on_both_cores!(vx, vx_threads, vx_poll:
    vx_detected_and_echo_of_every_size,
    vx_ping_and_requests_both_ways_with_ids_in_each_half,
    vx_routes_callbacks_and_tags,
    vx_broadcast_reaches_all_but_the_excepted,
    vx_a_full_server_says_server_full,
    vx_a_client_of_the_wrong_profile_is_told,
    vx_reconnects_after_a_server_restart,
    vx_messages_over_the_limit_are_refused_both_ways,
);

on_both_cores!(tls, tls_threads, tls_poll:
    tls_send_route_request_ping_and_broadcast_on_both_wires,
    tls_a_mebibyte_each_way,
    tls_mutual_accepted_and_refused,
    tls_pin_right_and_wrong,
    tls_untrusted_self_signed_is_refused_with_its_fingerprint,
    tls_and_plain_peers_are_told_apart,
    tls_a_server_that_stops_reading_past_the_handshake_timeout,
    tls_a_close_notify_alone_ends_the_connection_at_once,
    tls_a_pipeline_and_concurrent_senders_arrive_whole_and_in_order,
);
