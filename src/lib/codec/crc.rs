//! CRC32 (IEEE, as zlib computes it): the one place a received payload's
//! CRC is compared with the one its header states, for both profiles.

/// CRC32 of a payload.
pub fn crc32(payload: &[u8]) -> u32 {
    crc32fast::hash(payload)
}

/// Checks `payload` against the `stated` CRC; the computed one when they
/// differ.
pub(crate) fn check(stated: u32, payload: &[u8]) -> Result<(), u32> {
    let computed = crc32(payload);
    if computed == stated {
        Ok(())
    } else {
        Err(computed)
    }
}
