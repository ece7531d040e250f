use crate::Other;

pub struct Thing(pub Other);

pub fn make() -> Thing {
    Thing(Other)
}
