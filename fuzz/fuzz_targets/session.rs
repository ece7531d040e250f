//! The protocol session fed arbitrary bytes and clock ticks, on both
//! sides: see veltix_fuzz::session.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| veltix_fuzz::session(data));
