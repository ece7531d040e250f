pub struct Error;

pub fn code() -> u8 {
    crate::frame::HEADER
}
