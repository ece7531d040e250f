//! Arbitrary bytes pushed at once into a Decoder: see veltix_fuzz::decoder_whole.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| veltix_fuzz::decoder_whole(data));
