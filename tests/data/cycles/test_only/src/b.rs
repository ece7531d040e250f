pub fn g() -> u32 {
    let _ = "crate::a::X";
    let _ = 'x';
    // crate::a::f()
    2
}

#[cfg(test)]
use crate::a::X;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t() {
        let _ = crate::a::f();
    }
}
