//! HELLO payloads and version strings: see veltix_fuzz::handshake.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| veltix_fuzz::handshake(data));
