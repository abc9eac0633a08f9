//! The `tipline` command line.

fn main() {}
