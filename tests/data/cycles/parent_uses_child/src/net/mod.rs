mod conn;

pub use conn::Conn;

pub struct Limits;

pub fn open() -> Conn {
    Conn::new()
}
