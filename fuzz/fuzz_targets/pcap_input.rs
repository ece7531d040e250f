//! Arbitrary bytes as a pcap/pcapng capture: see veltix_fuzz::pcap_input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| veltix_fuzz::pcap_input(data));
