//! Every change to a published crate's public API shows as a diff of its snapshot in this folder,
//! `<crate>.txt`, so that it is reviewed. The test builds each crate's rustdoc JSON (all features)
//! with the toolchain in use, lists its public items, and compares them with the snapshot; with
//! `UPDATE_PUBLIC_API=1` it writes the snapshots instead.
//!
//! Rustdoc's JSON output is unstable: `RUSTC_BOOTSTRAP=1` lets the stable toolchain write it, and
//! its format changes between Rust releases, so the test reads only the format of the toolchain
//! CI uses (Rust 1.95). It is ignored by a plain `cargo test`; `.ci/run` runs it with
//! `cargo test -p workos-connect-public-api -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

const CRATES: [(&str, &str); 3] = [
    ("workos-connect", "workos_connect"),
    ("workos-connect-axum", "workos_connect_axum"),
    ("workos-connect-reqwest", "workos_connect_reqwest"),
];

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Builds `package`'s rustdoc JSON into a target directory of this test's own, so that it takes
/// no lock another build holds, and returns its path.
fn rustdoc_json(package: &str, krate: &str) -> PathBuf {
    let workspace = folder().join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("public-api");
    let status = Command::new(env!("CARGO"))
        .current_dir(&workspace)
        .env("RUSTC_BOOTSTRAP", "1")
        .args([
            "rustdoc",
            "--locked",
            "--quiet",
            "--lib",
            "--all-features",
            "-p",
            package,
        ])
        .arg("--target-dir")
        .arg(&target)
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo rustdoc -p {package} failed");
    target.join("doc").join(format!("{krate}.json"))
}

#[test]
#[ignore = "needs the rustdoc JSON format of Rust 1.95; .ci/run runs it"]
fn the_public_apis_are_their_snapshots() {
    let update = std::env::var_os("UPDATE_PUBLIC_API").is_some();
    let mut differ = Vec::new();
    for (package, krate) in CRATES {
        let api = public_api::Builder::from_rustdoc_json(rustdoc_json(package, krate))
            .build()
            .expect("the rustdoc JSON reads");
        let listed: String = api.items().map(|item| format!("{item}\n")).collect();
        assert!(listed.lines().count() > 20, "{package}: {listed}");
        let snapshot = folder().join(format!("{package}.txt"));
        if update {
            std::fs::write(&snapshot, &listed).expect("the snapshot is written");
            continue;
        }
        let kept = std::fs::read_to_string(&snapshot).unwrap_or_default();
        if kept != listed {
            let kept: Vec<&str> = kept.lines().collect();
            let now: Vec<&str> = listed.lines().collect();
            let added: Vec<&&str> = now.iter().filter(|line| !kept.contains(line)).collect();
            let removed: Vec<&&str> = kept.iter().filter(|line| !now.contains(line)).collect();
            differ.push(format!(
                "{package}: {} added, {} removed\n+ {}\n- {}",
                added.len(),
                removed.len(),
                added.iter().map(|l| **l).collect::<Vec<_>>().join("\n+ "),
                removed.iter().map(|l| **l).collect::<Vec<_>>().join("\n- "),
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "the public API differs from its snapshot in public-api/ (review the change, then run \
         `UPDATE_PUBLIC_API=1 cargo test -p workos-connect-public-api -- --ignored`):\n{}",
        differ.join("\n\n")
    );
}
