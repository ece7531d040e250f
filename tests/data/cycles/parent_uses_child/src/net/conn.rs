use super::Limits;

pub struct Conn;

impl Conn {
    pub fn new() -> Conn {
        let _ = Limits;
        Conn
    }
}
