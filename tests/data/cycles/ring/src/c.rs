/* crate::b::Bee /* nested crate::b */ still a comment: crate::b */
pub fn h() -> char {
    let _raw = r#"crate::b::make() "quoted""#;
    let _ = crate::a::A;
    '"'
}
