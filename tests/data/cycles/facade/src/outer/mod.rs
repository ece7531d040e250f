mod inner;

pub use inner::Helper;

pub fn outer_fn() {}
