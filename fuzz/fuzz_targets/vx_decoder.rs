//! See veltix_fuzz::vx_decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| veltix_fuzz::vx_decoder(data));
