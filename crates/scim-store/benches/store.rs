//! Benchmark of the diesel store (filled in later).
fn main() {}
