//! Python counterparts (MCP SDKs, authorization servers), each in a virtual environment this test
//! creates from a requirements file pinned with hashes, so that every run installs the same code.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Why Python counterparts cannot run here, if they cannot.
pub fn missing_python() -> Option<String> {
    let venv = Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output();
    match venv {
        Ok(output) if output.status.success() => None,
        Ok(_) => {
            Some("python3 has no venv or ensurepip (Debian: apt-get install python3-venv)".into())
        }
        Err(_) => Some("`python3` is not on the PATH".into()),
    }
}

/// The Python interpreter of the environment `tests/interop/python/<name>/`, made on first use
/// from its `requirements.txt` and made again when that file changes.
pub fn python_env(name: &str) -> Result<PathBuf, String> {
    static MADE: OnceLock<Mutex<HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let mut made = MADE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    made.entry(name.to_owned())
        .or_insert_with(|| make_env(name))
        .clone()
}

fn make_env(name: &str) -> Result<PathBuf, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name);
    let requirements = dir.join("requirements.txt");
    let pinned = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    let venv = dir.join(".venv");
    let python = venv.join("bin").join("python");
    // The stamp holds the requirements the environment was made from.
    let stamp = venv.join("installed-requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(pinned.as_str()) && python.exists() {
        return Ok(python);
    }
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args([
            "--require-hashes",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-r",
        ])
        .arg(&requirements))?;
    std::fs::write(&stamp, pinned).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(python)
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
