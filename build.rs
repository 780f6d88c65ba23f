//! Build script: records the git commit the binary was built from.
//!
//! Reads: the git repository around `CARGO_MANIFEST_DIR` (via the `git` command, if present).
//! Writes: the compile-time variable `MYELOSIM_GIT_COMMIT` — `git rev-parse HEAD`, with
//! `-dirty` appended when `git status --porcelain` reports changes, or `unknown` when git or
//! the repository is unavailable (a source tarball must still build).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into()));
    // Editing what goes into the binary can make the tree dirty: rerun then too (two cheap git
    // calls). Once any rerun-if-changed is printed, cargo watches only the listed paths; a
    // missing path would count as changed on every build, so list only existing ones.
    for p in ["build.rs", "Cargo.toml", "Cargo.lock", "src", "scenarios"] {
        if dir.join(p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    let commit = match git(&dir, &["rev-parse", "HEAD"]) {
        Some(head) if !head.is_empty() => {
            watch_git_state(&dir);
            let dirty = git(&dir, &["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
            if dirty { format!("{head}-dirty") } else { head }
        }
        _ => "unknown".to_string(),
    };
    println!("cargo:rustc-env=MYELOSIM_GIT_COMMIT={commit}");
}

/// Output of a git command run in `dir`, trimmed; `None` if git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Reruns the build script when HEAD moves: HEAD and index of this worktree, the branch ref
/// HEAD points to, and packed refs. `.git` may be a file (worktrees), so ask git for the paths.
fn watch_git_state(dir: &Path) {
    let abs = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { dir.join(p) }
    };
    let Some(git_dir) = git(dir, &["rev-parse", "--git-dir"]).map(abs) else {
        return;
    };
    let common = git(dir, &["rev-parse", "--git-common-dir"])
        .map(abs)
        .unwrap_or(git_dir.clone());
    for p in [
        git_dir.join("HEAD"),
        git_dir.join("index"),
        common.join("packed-refs"),
    ] {
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    if let Some(r) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        let p = common.join(r);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
}
