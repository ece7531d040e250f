pub struct Bee;

pub fn make() -> Bee {
    self::inner::g();
    Bee
}

mod inner {
    pub fn g() {
        super::super::c::h();
    }
}
