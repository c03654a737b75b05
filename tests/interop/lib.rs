//! Nothing: this package holds the interop suite (`interop.rs`) and the provider it starts
//! (`provider.mjs`, pinned by `package-lock.json`). Run it with `cargo test -p workos-connect-interop`
//! after `npm ci` in this directory.
