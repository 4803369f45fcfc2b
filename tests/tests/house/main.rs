//! The house's rules, checked on the source itself so that they cannot drift: every rule id of the
//! specification is tagged in code and in a test, and no two source files import each other.
//! One binary, one module per rule.

mod imports;
mod rule_ids;

use std::path::{Path, PathBuf};

/// The repository's root.
fn repo() -> PathBuf {
    // The parent, not `…/..`: paths are compared by prefix, and a verbatim Windows path (Wine) would
    // keep the `..` as a name.
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests.parent().unwrap_or(tests).to_path_buf()
}

/// Every file under `dir` whose name ends with one of `exts`, skipping build output and packages.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if !matches!(
                    name.as_str(),
                    "target" | "node_modules" | "dist" | ".git" | "artifacts" | "corpus"
                ) {
                    stack.push(p);
                }
            } else if exts.iter().any(|x| name.ends_with(x)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
