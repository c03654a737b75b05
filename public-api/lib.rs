//! The public API of the workspace's published crates, as checked-in snapshots: see
//! `tests/snapshots.rs`.
