//! The Rust example in the crate's README.md is examples/client.rs
//! (which `cargo test` builds), word for word.
use std::path::Path;

#[test]
fn the_readme_shows_examples_client_rs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[..];
    let start = section.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let block = &section[start..start + section[start..].find("```\n").unwrap()];
    let example = std::fs::read_to_string(root.join("examples/client.rs")).unwrap();
    assert_eq!(block, example, "README.md's Rust block differs from examples/client.rs");
}
