//! Building a contract crate to `wasm32-unknown-unknown` (`i8o8icoin contract build <dir>`).
//!
//! Uses rustup's wasm32 target when it is installed; otherwise Debian's second Rust toolchain
//! (`rustc-web`, `rust-web-src`, `cargo-web`, `lld`), which builds `core` and `alloc` for
//! wasm32 from source with `-Zbuild-std`; otherwise says what to install. Either way the
//! crate is built with the workspace's `contract` profile (fully optimised, `panic = "abort"`)
//! and a 64 KiB stack, so modules start with a small memory.
//!
//! # Verifiable builds
//! The module written is cargo's with a [`BuildRecord`] appended in its `i8o8i_build` custom
//! section: the package, the compiler (`rustc -V`), target, profile and a SHA-256 over the
//! sources — every file of the local packages the crate is built from (itself and path
//! dependencies such as the SDK, found with `cargo metadata`), with paths relative to the
//! workspace root, plus the workspace's `Cargo.toml` and `Cargo.lock`. The cargo home is
//! remapped to `/cargo` in file names the code embeds, so the same sources and compiler give
//! the same bytes in any directory on any machine. `contract verify` rebuilds a crate and
//! compares the code hash with a deployed contract's, and when they differ says which of
//! these differs.

use std::path::{Path, PathBuf};
use std::process::Command;

use i8o8i_primitives::contract::{BUILD_SECTION, BuildRecord};
use i8o8i_primitives::{ContractAddress, Hash256};
use sha2::{Digest, Sha256};

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
    /// Reading the sources or writing the module failed.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// `cargo metadata` or `rustc -V` gave something unexpected.
    #[error("reading the build's inputs: {0}")]
    Inputs(String),
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

/// A cargo command of `toolchain`, without the settings of an enclosing cargo invocation
/// (tests run under `cargo test`), which must not leak into the wasm build.
fn cargo(toolchain: Toolchain) -> Command {
    let mut cmd = match toolchain {
        Toolchain::Rustup => Command::new("cargo"),
        Toolchain::Debian => {
            let mut c = Command::new(DEBIAN_CARGO);
            c.env("RUSTC", DEBIAN_RUSTC).env("RUSTC_BOOTSTRAP", "1");
            c
        }
    };
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
    cmd
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// Builds the contract crate in `dir` into `target_dir` and returns the path of the module
/// with its build record (`<target_dir>/<crate name>.wasm`).
///
/// # Errors
/// [`BuildError`]; cargo's own output goes to this process's stderr.
pub fn build(dir: &Path, target_dir: &Path) -> Result<PathBuf, BuildError> {
    let name = package_name(dir)?;
    let toolchain = detect().ok_or(BuildError::NoToolchain)?;
    let manifest = dir.join("Cargo.toml");
    let mut flags = RUSTFLAGS.to_owned();
    if toolchain == Toolchain::Debian {
        flags.push_str(" -C linker=wasm-ld");
    }
    // Registry sources are under the cargo home, whose path differs between machines; the
    // file names a panic message carries must not.
    if let Some(home) = cargo_home().and_then(|h| h.to_str().map(str::to_owned))
        && !home.contains(' ')
    {
        flags.push_str(&format!(" --remap-path-prefix={home}=/cargo"));
    }
    let mut cmd = cargo(toolchain);
    if toolchain == Toolchain::Debian {
        cmd.arg("-Zbuild-std=core,alloc");
    }
    let status = cmd
        .env("CARGO_ENCODED_RUSTFLAGS", flags.replace(' ', "\x1f"))
        .args(["build", "--quiet", "--locked", "--profile", PROFILE])
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
    let file = format!("{}.wasm", name.replace('-', "_"));
    let built = target_dir.join(TARGET).join(PROFILE).join(&file);
    let code = std::fs::read(&built).map_err(|_| BuildError::Missing(built.clone()))?;
    let record = record(toolchain, &manifest)?;
    let out = target_dir.join(file);
    std::fs::write(&out, with_record(&code, &record))
        .map_err(|e| BuildError::Io(out.clone(), e))?;
    Ok(out)
}

const PROFILE: &str = "contract";

/// `code` with `record` appended as its [`BUILD_SECTION`] custom section.
pub fn with_record(code: &[u8], record: &BuildRecord) -> Vec<u8> {
    let mut out = code.to_vec();
    let text = record.to_text();
    let section = wasm_encoder::CustomSection {
        name: BUILD_SECTION.into(),
        data: text.as_bytes().into(),
    };
    out.push(wasm_encoder::Section::id(&section));
    wasm_encoder::Encode::encode(&section, &mut out);
    out
}

/// The build record of the crate at `manifest` built by `toolchain`.
fn record(toolchain: Toolchain, manifest: &Path) -> Result<BuildRecord, BuildError> {
    let rustc = match toolchain {
        Toolchain::Rustup => Command::new("rustc"),
        Toolchain::Debian => Command::new(DEBIAN_RUSTC),
    }
    .arg("-V")
    .output()
    .map_err(|e| BuildError::Spawn("rustc -V".into(), e))?;
    let rustc = String::from_utf8_lossy(&rustc.stdout).trim().to_owned();
    let output = cargo(toolchain)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", TARGET])
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .map_err(|e| BuildError::Spawn("cargo metadata".into(), e))?;
    if !output.status.success() {
        return Err(BuildError::Inputs(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| BuildError::Inputs(format!("cargo metadata: {e}")))?;
    let sources = Sources::of(&metadata)?;
    let (hash, files) = sources.hash()?;
    Ok(BuildRecord {
        package: sources.package,
        version: sources.version,
        rustc,
        target: TARGET.into(),
        profile: PROFILE.into(),
        sources: hash,
        files,
    })
}

/// What a build reads: the root package and the directories of the local packages it is
/// built from.
struct Sources {
    package: String,
    version: String,
    root: PathBuf,
    package_dirs: Vec<PathBuf>,
}

impl Sources {
    fn of(metadata: &serde_json::Value) -> Result<Sources, BuildError> {
        let bad = |what: &str| BuildError::Inputs(format!("cargo metadata: no {what}"));
        let root = metadata["workspace_root"]
            .as_str()
            .ok_or_else(|| bad("workspace_root"))?;
        let root_id = metadata["resolve"]["root"]
            .as_str()
            .ok_or_else(|| bad("root package"))?;
        let packages = metadata["packages"]
            .as_array()
            .ok_or_else(|| bad("packages"))?;
        let nodes = metadata["resolve"]["nodes"]
            .as_array()
            .ok_or_else(|| bad("resolve nodes"))?;
        // The packages the build reaches through normal and build dependencies.
        let mut reached = vec![root_id.to_owned()];
        let mut next = 0;
        while let Some(id) = reached.get(next).cloned() {
            next += 1;
            let Some(node) = nodes.iter().find(|n| n["id"] == id.as_str()) else {
                continue;
            };
            for dep in node["deps"].as_array().into_iter().flatten() {
                let for_build = dep["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null() || k["kind"] == "build");
                if let Some(pkg) = dep["pkg"].as_str()
                    && for_build
                    && !reached.iter().any(|r| r == pkg)
                {
                    reached.push(pkg.to_owned());
                }
            }
        }
        let mut package_dirs = Vec::new();
        let (mut package, mut version) = (String::new(), String::new());
        for p in packages {
            let Some(id) = p["id"].as_str() else { continue };
            if id == root_id {
                package = p["name"].as_str().unwrap_or_default().to_owned();
                version = p["version"].as_str().unwrap_or_default().to_owned();
            }
            // Registry and git packages are pinned by Cargo.lock; local ones are read here.
            if p["source"].is_null()
                && reached.iter().any(|r| r == id)
                && let Some(dir) = p["manifest_path"]
                    .as_str()
                    .and_then(|m| Path::new(m).parent())
            {
                package_dirs.push(dir.to_owned());
            }
        }
        Ok(Sources {
            package,
            version,
            root: PathBuf::from(root),
            package_dirs,
        })
    }

    /// SHA-256 over (relative path, NUL, SHA-256 of the content) of every file, sorted by path.
    fn hash(&self) -> Result<(Hash256, u32), BuildError> {
        let mut files = Vec::new();
        for dir in &self.package_dirs {
            collect(dir, true, &mut files)?;
        }
        for name in ["Cargo.toml", "Cargo.lock"] {
            let path = self.root.join(name);
            if path.is_file() {
                files.push(path);
            }
        }
        let mut named: Vec<(String, PathBuf)> = files
            .into_iter()
            .map(|f| {
                let rel = f.strip_prefix(&self.root).unwrap_or(&f);
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                (rel, f)
            })
            .collect();
        named.sort();
        named.dedup_by(|a, b| a.0 == b.0);
        let mut all = Sha256::new();
        for (rel, path) in &named {
            let content = std::fs::read(path).map_err(|e| BuildError::Io(path.clone(), e))?;
            all.update(rel.as_bytes());
            all.update([0]);
            all.update(Sha256::digest(&content));
        }
        let digest: [u8; 32] = all.finalize().into();
        Ok((Hash256::from_byte_array(digest), named.len() as u32))
    }
}

/// Files under `dir`, skipping build output, hidden entries and other packages nested in it.
fn collect(dir: &Path, top: bool, out: &mut Vec<PathBuf>) -> Result<(), BuildError> {
    if !top && dir.join("Cargo.toml").is_file() {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| BuildError::Io(dir.to_owned(), e))?;
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| BuildError::Io(path.clone(), e))?;
        // Directories are walked only when they are real ones: a symlink cycle must not
        // make the walk endless. A symlink to a file counts as that file.
        if kind.is_dir() {
            collect(&path, false, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

/// What `contract verify` found: the deployed code hash against a rebuild's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// The rebuild's code is the deployed code, byte for byte.
    pub verified: bool,
    /// The contract.
    pub address: ContractAddress,
    /// Its code hash on chain.
    pub code_hash: Hash256,
    /// The rebuild's code hash.
    pub built_code_hash: Hash256,
    /// The rebuilt module.
    pub module: PathBuf,
    /// How the deployed code says it was built (absent when it has no build record).
    pub deployed: Option<BuildRecord>,
    /// How the rebuild was made.
    pub built: Option<BuildRecord>,
    /// What differs, in words (empty when verified).
    pub differences: Vec<String>,
}

impl Verification {
    /// Compares the deployed contract (`code_hash`, its `deployed` record) with `code`, the
    /// rebuild written to `module`.
    pub fn new(
        address: ContractAddress,
        code_hash: Hash256,
        deployed: Option<BuildRecord>,
        code: &[u8],
        module: PathBuf,
    ) -> Verification {
        let built_code_hash = i8o8i_primitives::contract::code_hash(code);
        let built = i8o8i_contract_engine::build_record_of(code);
        let verified = built_code_hash == code_hash;
        let differences = if verified {
            Vec::new()
        } else {
            differences(deployed.as_ref(), built.as_ref())
        };
        Verification {
            verified,
            address,
            code_hash,
            built_code_hash,
            module,
            deployed,
            built,
            differences,
        }
    }
}

/// Why two builds' code differs, from their records.
fn differences(deployed: Option<&BuildRecord>, built: Option<&BuildRecord>) -> Vec<String> {
    let (Some(d), Some(b)) = (deployed, built) else {
        return vec![
            "the deployed code has no build record: it was not built by \
             `i8o8icoin contract build`, so there is nothing to rebuild it from"
                .into(),
        ];
    };
    let mut out = Vec::new();
    if (&d.package, &d.version) != (&b.package, &b.version) {
        out.push(format!(
            "package: deployed {} {}, this crate is {} {}",
            d.package, d.version, b.package, b.version
        ));
    }
    if d.rustc != b.rustc {
        out.push(format!(
            "compiler: deployed built with `{}`, this machine has `{}`",
            d.rustc, b.rustc
        ));
    }
    if (&d.target, &d.profile) != (&b.target, &b.profile) {
        out.push(format!(
            "build settings: deployed {} / profile {}, here {} / profile {}",
            d.target, d.profile, b.target, b.profile
        ));
    }
    if (d.sources, d.files) != (b.sources, b.files) {
        out.push(format!(
            "sources: deployed {} ({} files), here {} ({} files): the crate, a path \
             dependency, Cargo.toml or Cargo.lock is not the one deployed",
            d.sources, d.files, b.sources, b.files
        ));
    }
    if out.is_empty() {
        out.push(
            "same sources, compiler and settings but different code: the build is not \
             reproducible here (linker, environment or a non-deterministic build script)"
                .into(),
        );
    }
    out
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

    fn record() -> BuildRecord {
        BuildRecord {
            package: "i8o8i-token".into(),
            version: "0.1.0".into(),
            rustc: "rustc 1.95.0 (abc 2026-01-01)".into(),
            target: TARGET.into(),
            profile: PROFILE.into(),
            sources: Hash256::from_byte_array([1; 32]),
            files: 10,
        }
    }

    #[test]
    fn a_record_survives_the_section_and_differences_are_named() {
        let code = wat::parse_str(r#"(module (func (export "call")))"#).unwrap();
        let recorded = with_record(&code, &record());
        wasmparser::Validator::new()
            .validate_all(&recorded)
            .unwrap();
        assert_eq!(
            i8o8i_contract_engine::build_record_of(&recorded),
            Some(record())
        );
        assert_eq!(i8o8i_contract_engine::build_record_of(&code), None);

        let mut other = record();
        other.rustc = "rustc 1.96.0 (def 2026-02-01)".into();
        other.sources = Hash256::from_byte_array([2; 32]);
        let found = differences(Some(&record()), Some(&other));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("compiler: deployed built with `rustc 1.95.0"));
        assert!(found[1].starts_with("sources: deployed 0101"));
        assert!(differences(None, Some(&record()))[0].contains("no build record"));
        assert!(differences(Some(&record()), Some(&record()))[0].contains("not reproducible"));
    }
}
