use crate::Error;

pub const HEADER: u8 = 1;

pub fn parse() -> Result<(), Error> {
    Err(Error)
}
