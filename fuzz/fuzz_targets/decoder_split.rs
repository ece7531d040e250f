//! The bytes of decoder_whole arriving in pieces the fuzzer picks: see
//! veltix_fuzz::decoder_split.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    /// Use the small size limit rather than the default one.
    small_limit: bool,
    /// Read with `Decoder::read_from` in reads of up to this many bytes,
    /// rather than pushing.
    chunk: Option<u16>,
    /// Sizes of the pieces, in order; the rest arrives at once.
    sizes: Vec<u16>,
    /// The stream (the last field takes the rest of the fuzzer's bytes).
    data: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let sizes: Vec<usize> = input.sizes.iter().map(|&s| usize::from(s)).collect();
    veltix_fuzz::decoder_split(
        &input.data,
        &sizes,
        input.small_limit,
        input.chunk.map(usize::from),
    );
});
