//! Building a contract crate to `wasm32-unknown-unknown` (`i8o8icoin contract build <dir>`).
//!
//! Uses rustup's wasm32 target when it is installed; otherwise Debian's second Rust toolchain
//! (`rustc-web`, `rust-web-src`, `cargo-web`, `lld`), which builds `core` and `alloc` for
//! wasm32 from source with `-Zbuild-std`; otherwise says what to install. Either way the
//! crate is built with the workspace's `contract` profile (size-optimised, `panic = "abort"`)
//! and a 64 KiB stack, so modules start with a small memory.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-unknown-unknown";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const RUSTFLAGS: &str = "-C link-arg=-zstack-size=65536";

/// What went wrong building a contract.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The directory has no readable `Cargo.toml` with a package name.
    #[error("{0}: not a contract crate (no Cargo.toml with [package] name)")]
    NotACrate(PathBuf),
    /// No toolchain can target wasm32.
    #[error(
        "no Rust toolchain that can build wasm32-unknown-unknown: run `rustup target add wasm32-unknown-unknown`, \
         or on Debian/Ubuntu `apt-get install rustc-web rust-web-src cargo-web lld` (scripts/setup.sh does this)"
    )]
    NoToolchain,
    /// cargo could not be run.
    #[error("running {0}: {1}")]
    Spawn(String, std::io::Error),
    /// cargo failed; its output was printed.
    #[error("cargo build failed for {0}")]
    Failed(PathBuf),
    /// cargo succeeded but the module is not where expected.
    #[error("built, but {0} is missing")]
    Missing(PathBuf),
}

/// Which toolchain builds wasm32 here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toolchain {
    /// rustup with the wasm32-unknown-unknown target.
    Rustup,
    /// Debian's `rustc-web` with `-Zbuild-std`.
    Debian,
}

fn rustup_has_target() -> bool {
    Command::new("rustc")
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .is_some_and(|dir| has_core(dir.trim()))
}

fn has_core(dir: &str) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
    })
}

fn debian_available() -> bool {
    Path::new(DEBIAN_RUSTC).exists()
        && Path::new(DEBIAN_CARGO).exists()
        && Command::new("wasm-ld").arg("--version").output().is_ok()
}

/// The toolchain that would build contracts here, if any.
pub fn detect() -> Option<Toolchain> {
    if rustup_has_target() {
        Some(Toolchain::Rustup)
    } else if debian_available() {
        Some(Toolchain::Debian)
    } else {
        None
    }
}

fn package_name(dir: &Path) -> Result<String, BuildError> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .map_err(|_| BuildError::NotACrate(dir.to_owned()))?;
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package
            && let Some(rest) = line.strip_prefix("name")
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            return Ok(value.trim().trim_matches('"').to_owned());
        }
    }
    Err(BuildError::NotACrate(dir.to_owned()))
}

/// Builds the contract crate in `dir` into `target_dir` and returns the module's path.
///
/// # Errors
/// [`BuildError`]; cargo's own output goes to this process's stderr.
pub fn build(dir: &Path, target_dir: &Path) -> Result<PathBuf, BuildError> {
    let name = package_name(dir)?;
    let toolchain = detect().ok_or(BuildError::NoToolchain)?;
    let manifest = dir.join("Cargo.toml");
    let mut cmd = match toolchain {
        Toolchain::Rustup => Command::new("cargo"),
        Toolchain::Debian => {
            let mut c = Command::new(DEBIAN_CARGO);
            c.env("RUSTC", DEBIAN_RUSTC)
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["-Zbuild-std=core,alloc"]);
            c
        }
    };
    let flags = match toolchain {
        Toolchain::Rustup => RUSTFLAGS.to_owned(),
        Toolchain::Debian => format!("{RUSTFLAGS} -C linker=wasm-ld"),
    };
    // Settings of an enclosing cargo invocation (tests run under `cargo test`) must not leak
    // into the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_PROFILE_DEV_OPT_LEVEL",
    ] {
        cmd.env_remove(var);
    }
    if toolchain == Toolchain::Rustup {
        cmd.env_remove("RUSTC");
    }
    let status = cmd
        .env("CARGO_ENCODED_RUSTFLAGS", flags.replace(' ', "\x1f"))
        .args(["build", "--quiet", "--locked", "--profile", "contract"])
        .args(["--target", TARGET])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .status()
        .map_err(|e| BuildError::Spawn(format!("{cmd:?}"), e))?;
    if !status.success() {
        return Err(BuildError::Failed(dir.to_owned()));
    }
    let wasm = target_dir
        .join(TARGET)
        .join("contract")
        .join(format!("{}.wasm", name.replace('-', "_")));
    if !wasm.exists() {
        return Err(BuildError::Missing(wasm));
    }
    Ok(wasm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_name_reads_the_package_section() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nname = \"no\"\n[package]\nname = \"my-token\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        assert_eq!(package_name(dir.path()).unwrap(), "my-token");
        assert!(matches!(
            package_name(&dir.path().join("missing")),
            Err(BuildError::NotACrate(_))
        ));
    }
}
