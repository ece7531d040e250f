//! Arbitrary text as hex input: see veltix_fuzz::hex_input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| veltix_fuzz::hex_input(data));
