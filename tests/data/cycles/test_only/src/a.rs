pub struct X;

pub fn f() -> u32 {
    crate::b::g()
}
