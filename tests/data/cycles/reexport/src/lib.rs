mod error;
mod frame;

pub use error::Error;
