use crate::b::{self, Bee};

pub struct A;

pub fn f() -> Bee {
    b::make()
}
