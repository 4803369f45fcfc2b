//! No two source files import each other, directly or around a circle: a circle means neither file
//! can be understood (or moved to another crate) without the other. Rust files are read for the
//! paths they name (`crate::…`, `super::…`, grouped `use` items included), resolved to the file of
//! the longest module they name; TypeScript files for their relative imports. A module and the
//! modules inside it are one room (a parent re-exports its children, a child uses its parent's
//! shared types), so edges along that line do not count; every other edge does. Test code
//! (`#[cfg(test)]` onwards, `tests.rs`, `*_tests.rs`) is left out: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{files, repo};

/// The library and binary roots whose modules are checked, each a crate of its own.
const RUST_ROOTS: &[&str] = &[
    "crates/domain/src/lib.rs",
    "crates/client/src/lib.rs",
    "crates/server/src/lib.rs",
    "crates/desktop/src/lib.rs",
    "src-tauri/src/main.rs",
    "tests/src/lib.rs",
];

type Graph = BTreeMap<String, BTreeSet<String>>;

/// `crate::a::b` → `a/b`: a file's module path within its crate.
fn module_of(src: &Path, file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(src).ok()?;
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    let last = parts.pop()?;
    if parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    match last.as_str() {
        "lib.rs" | "main.rs" if parts.is_empty() => {}
        "mod.rs" => {}
        l => parts.push(l.strip_suffix(".rs")?.to_owned()),
    }
    Some(parts)
}

/// The production code of a Rust file: what comes before its first `#[cfg(test)]`, without comment
/// lines (a doc link names a module without importing it).
fn production(text: &str) -> String {
    let code = text.find("#[cfg(test)]").map_or(text, |at| &text[..at]);
    code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The module paths a Rust text names after `prefix` (`crate::` or `super::`, repeated supers
/// counted): `(supers, segments)` for each, grouped items expanded one level.
fn named_paths(text: &str) -> Vec<(usize, bool, Vec<String>)> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let (is_crate, is_super) = (rest.starts_with("crate::"), rest.starts_with("super::"));
        let boundary = i == 0 || !ident(b[i - 1] as char) && b[i - 1] != b':' && b[i - 1] != b'$';
        if !(is_crate || is_super) || !boundary {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let mut j = i;
        let mut supers = 0;
        if is_crate {
            j += "crate::".len();
        }
        while text[j..].starts_with("super::") {
            supers += 1;
            j += "super::".len();
        }
        let (segs, end) = segments(text, j);
        if text[end..].starts_with('{') {
            let close = text[end..].find('}').map_or(text.len(), |c| end + c);
            for item in text[end + 1..close].split(',') {
                let item = item.trim_start();
                let (more, _) = segments(item, 0);
                let mut all = segs.clone();
                all.extend(more);
                out.push((supers, is_crate, all));
            }
            i = close;
        } else {
            out.push((supers, is_crate, segs));
            i = end.max(i + "super::".len());
        }
    }
    out
}

/// `a::b::c` from `at`: the segments and where they end (at a `{` or anything else).
fn segments(text: &str, mut at: usize) -> (Vec<String>, usize) {
    let mut segs = Vec::new();
    loop {
        let len = text[at..].chars().take_while(|c| ident(*c)).map(char::len_utf8).sum::<usize>();
        if len == 0 {
            return (segs, at);
        }
        segs.push(text[at..at + len].to_owned());
        at += len;
        if text[at..].starts_with("::") {
            at += 2;
        } else {
            return (segs, at);
        }
    }
}

/// One crate's files and the edges between them.
fn rust_edges(root: &Path, graph: &mut Graph) {
    let src = root.parent().expect("a crate root has a folder");
    let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for f in files(src, &[".rs"]) {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name == "tests.rs" || name.ends_with("_tests.rs") {
            continue;
        }
        if let Some(m) = module_of(src, &f) {
            modules.insert(m, f.strip_prefix(repo()).unwrap_or(&f).to_string_lossy().into_owned());
        }
    }
    for (module, file) in &modules {
        let text = std::fs::read_to_string(repo().join(file)).unwrap_or_default();
        for (supers, is_crate, segs) in named_paths(&production(&text)) {
            let mut base = if is_crate { Vec::new() } else { module.clone() };
            if !is_crate {
                // `super` is the parent of the module the file is (a folder's mod.rs is the folder).
                base.truncate(base.len().saturating_sub(supers));
            }
            base.extend(segs);
            let target = (0..=base.len()).rev().find_map(|n| modules.get(&base[..n]).map(|f| (n, f)));
            let Some((n, target_file)) = target else { continue };
            let target_module = &base[..n];
            let related = target_module.starts_with(module) || module.starts_with(target_module);
            if !related {
                graph.entry(file.clone()).or_default().insert(target_file.clone());
            }
        }
    }
}

/// The bell window's modules and their relative imports.
fn ts_edges(graph: &mut Graph) {
    let src = repo().join("ui/src");
    for f in files(&src, &[".ts"]) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let from = f.strip_prefix(repo()).unwrap_or(&f).to_string_lossy().into_owned();
        for line in text.lines().filter(|l| l.contains("from '.") || l.trim_start().starts_with("import '."))
        {
            let Some(spec) = line.split('\'').nth(1) else { continue };
            let Some(dir) = f.parent() else { continue };
            let target: PathBuf = dir.join(format!("{spec}.ts"));
            let target = normalize(&target);
            let to = target.strip_prefix(repo()).map(|p| p.to_string_lossy().into_owned());
            if let Ok(to) = to {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
}

/// `a/b/../c` as `a/c`, without asking the file system (whose answer may be a verbatim path).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Pairs of files that reach each other.
fn circles(graph: &Graph) -> Vec<(String, String)> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(f) = stack.pop() {
            for next in graph.get(&f).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> = graph.keys().map(|f| (f, reach(f))).collect();
    let mut out = Vec::new();
    for (a, from_a) in &reached {
        for b in from_a {
            if *a < b && reached.get(b).is_some_and(|from_b| from_b.contains(*a)) {
                out.push(((*a).clone(), b.clone()));
            }
        }
    }
    out
}

#[test]
fn no_two_source_files_import_each_other() {
    let mut graph = Graph::new();
    for root in RUST_ROOTS {
        rust_edges(&repo().join(root), &mut graph);
    }
    ts_edges(&mut graph);
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(edges > 100, "the import graph looks empty ({edges} edges): the reader is broken");
    let found = circles(&graph);
    let lines: Vec<String> = found.iter().map(|(a, b)| format!("{a} <-> {b}")).collect();
    assert!(
        lines.is_empty(),
        "files that import each other (directly or around a circle):\n{}",
        lines.join("\n")
    );
}

#[test]
fn the_reader_sees_grouped_relative_and_crate_paths() {
    let paths = named_paths(
        "use super::read_state::{mark, Y};\nuse crate::{model::Tab, store::Scope};\nfoo::crate::x",
    );
    let got: Vec<String> = paths.iter().map(|(s, c, p)| format!("{s}{c}{}", p.join("/"))).collect();
    assert_eq!(got, ["1falseread_state/mark", "1falseread_state/Y", "0truemodel/Tab", "0truestore/Scope"]);
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(circles(&graph).len(), 3, "a circle of three is three pairs");
}
