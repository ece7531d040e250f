pub struct Other;

pub fn count() -> u32 {
    crate::root_item()
}

#[cfg(test)]
mod tests {
    use crate::a::make;
}
