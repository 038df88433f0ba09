//! Builds the KATA runtime guest (automations/runtime) for wasm32-wasip2 and
//! hands its path to the crate as `KATABOX_RUNTIME_WASM`, so the `katabox`
//! binary embeds it (one binary for operators).
//!
//! The nested `cargo build` uses its own target dir (`target/guest`): the
//! outer build holds the lock on `target/`, so sharing it would deadlock.
//! Variables of the outer build that would leak into the nested one (target
//! dir, rustflags for the host target, wrappers) are removed.
//!
//! While the runtime does not build (or exports no `run`), the small probe
//! guest in host/tests/guests/probe is embedded instead, with a warning, and
//! `KATABOX_RUNTIME_IS_FALLBACK` is `1`. `KATABOX_GUEST_WASM=/path.wasm`
//! embeds a prebuilt component instead of building one.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const RUN_EXPORT: &[u8] = b"katabox:automation/run@0.1.0";

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let root = manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.clone());
    for dir in [
        "automations/runtime",
        "automations/kata/src",
        "automations/kata/Cargo.toml",
        "automations/twig/src",
        "automations/twig/Cargo.toml",
        "automations/value/src",
        "automations/value/Cargo.toml",
        "guest-sdk/src",
        "guest-sdk/wit",
        "guest-sdk/Cargo.toml",
        "host/tests/guests/probe/src",
        "host/tests/guests/probe/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-env-changed=KATABOX_GUEST_WASM");

    let guest_target = root.join("target").join("guest");
    let (path, fallback) = match std::env::var("KATABOX_GUEST_WASM") {
        Ok(p) if !p.is_empty() => (PathBuf::from(p), false),
        _ => match build_runtime(&root, &guest_target) {
            Ok(p) => (p, false),
            Err(why) => {
                println!(
                    "cargo:warning=the KATA runtime guest did not build ({why}); embedding the probe guest instead"
                );
                match build_probe(&root, &guest_target) {
                    Ok(p) => (p, true),
                    Err(why2) => panic!(
                        "katabox: cannot build any guest component: runtime: {why}; probe: {why2}"
                    ),
                }
            }
        },
    };
    println!("cargo:rustc-env=KATABOX_RUNTIME_WASM={}", path.display());
    println!(
        "cargo:rustc-env=KATABOX_RUNTIME_IS_FALLBACK={}",
        if fallback { "1" } else { "0" }
    );
}

/// A `cargo` command without the outer build's leaking variables.
fn cargo(dir: &Path, target_dir: &Path) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let leaks = (key.starts_with("CARGO_") && key != "CARGO_HOME")
            || matches!(
                key,
                "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "RUSTFLAGS"
                    | "RUSTDOCFLAGS"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
                    | "NUM_JOBS"
                    | "RUSTC"
                    | "RUSTDOC"
                    | "MAKEFLAGS"
                    | "MFLAGS"
            );
        if leaks {
            cmd.env_remove(key);
        }
    }
    cmd.env("CARGO_TARGET_DIR", target_dir);
    cmd
}

fn target_installed() -> Result<(), String> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            if String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
            {
                Ok(())
            } else {
                Err(format!(
                    "the {TARGET} target is missing: run `rustup target add {TARGET}`"
                ))
            }
        }
        // No rustup: let cargo report a missing target itself.
        _ => Ok(()),
    }
}

fn run(mut cmd: Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("error"))
        .take(3)
        .collect();
    Err(if tail.is_empty() {
        "cargo failed".to_string()
    } else {
        tail.join(" | ")
    })
}

fn exports_run(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.windows(RUN_EXPORT.len()).any(|w| w == RUN_EXPORT) {
        Ok(())
    } else {
        Err("the component does not export katabox:automation/run".into())
    }
}

fn build_runtime(root: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    target_installed()?;
    let mut cmd = cargo(root, target_dir);
    cmd.args([
        "build",
        "--profile",
        "guest",
        "--target",
        TARGET,
        "-p",
        "katabox-runtime",
    ]);
    run(cmd)?;
    let path = target_dir
        .join(TARGET)
        .join("guest")
        .join("katabox_runtime.wasm");
    exports_run(&path)?;
    Ok(path)
}

fn build_probe(root: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    target_installed()?;
    let mut cmd = cargo(&root.join("host/tests/guests/probe"), target_dir);
    cmd.args(["build", "--release", "--target", TARGET]);
    run(cmd)?;
    let path = target_dir
        .join(TARGET)
        .join("release")
        .join("katabox_probe_guest.wasm");
    exports_run(&path)?;
    Ok(path)
}
