pub struct Helper;

impl Helper {
    pub fn run(&self) {
        super::outer_fn();
    }
}
