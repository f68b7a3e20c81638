//! Nothing here: the crate holds the interop tests (tests/).
