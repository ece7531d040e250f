//! `crate::a::make()` in a doc comment is not an edge.
mod a;
mod b;
pub mod outer;

pub use a::Thing;
pub use b::*;

pub fn root_item() -> u32 {
    1
}
