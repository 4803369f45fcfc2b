//! Every rule id of `../shared/PRODUCT.md` is tagged twice: in the code that implements it and in a
//! test that proves it (`git grep -i "nc[-_]r9"` finds both). Ids whose issue has not landed yet
//! are listed in [`NOT_BUILT`]; each leaves the list when its issue lands, and an id listed there
//! that is tagged already fails too (the list must not go stale).

use std::collections::BTreeSet;
use std::path::Path;

use super::{files, repo};

/// ORG-1…7 (PRODUCT.md §8) belong to the issues that build them: sign-in and devices (ORG-1, ORG-2;
/// ORG-3, the policy, is built), the admin console (ORG-4), the working day (ORG-5, ORG-6, ORG-7).
const NOT_BUILT: &[&str] = &[];

/// The rule ids the specification defines, in its text order.
fn spec_ids(spec: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for word in spec.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        let id = word.trim_end_matches('-');
        let known = ["NC-R", "MW-", "ORG-"].iter().any(|p| {
            id.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        if known {
            ids.insert(id.to_owned());
        }
    }
    ids
}

/// Whether `text` carries `id` as a tag: `NC-R1` or `nc_r1` (in a test's name), any case, and not
/// as the start of a longer id (`NC-R1` is not in `NC-R10`).
fn tagged(text: &str, id: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let (dash, under) = (id.to_ascii_lowercase(), id.to_ascii_lowercase().replace('-', "_"));
    [dash, under].iter().any(|tag| {
        lower.match_indices(tag.as_str()).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + tag.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric()) && !after.is_some_and(|c| c.is_ascii_digit())
        })
    })
}

/// A source file's text split into what ships and what tests it: a test file is all test; in a Rust
/// file, what follows `#[cfg(test)]` is test.
fn split(path: &Path, text: &str) -> (String, String) {
    let p = path.strip_prefix(repo()).unwrap_or(path).to_string_lossy().replace('\\', "/");
    let p = format!("/{p}");
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let test_file = p.contains("/tests/")
        || p.contains("/benches/")
        || name == "tests.rs"
        || name.ends_with("_tests.rs")
        || name.contains(".test.");
    if test_file {
        return (String::new(), text.to_owned());
    }
    match text.find("#[cfg(test)]") {
        Some(at) => (text[..at].to_owned(), text[at..].to_owned()),
        None => (text.to_owned(), String::new()),
    }
}

#[test]
fn every_rule_id_is_tagged_in_code_and_in_a_test() {
    let root = repo();
    let spec = std::fs::read_to_string(root.parent().unwrap_or(&root).join("shared/PRODUCT.md"))
        .expect("../shared/PRODUCT.md");
    let ids = spec_ids(&spec);
    assert!(ids.len() >= 27, "PRODUCT.md's ids were not found: {ids:?}");
    let mut sources = Vec::new();
    for dir in ["crates", "src-tauri/src", "tests", "ui/src", "ui/tests", "fuzz/fuzz_targets"] {
        sources.extend(files(&root.join(dir), &[".rs", ".ts", ".mjs"]));
    }
    let texts: Vec<(String, String)> = sources
        .iter()
        .filter(|p| !p.ends_with("house/rule_ids.rs"))
        .map(|p| split(p, &std::fs::read_to_string(p).unwrap_or_default()))
        .collect();
    let mut missing = Vec::new();
    for id in &ids {
        let in_code = texts.iter().any(|(code, _)| tagged(code, id));
        let in_test = texts.iter().any(|(_, test)| tagged(test, id));
        let listed = NOT_BUILT.contains(&id.as_str());
        match (in_code, in_test, listed) {
            (true, true, false) | (false, false, true) => {}
            (_, _, true) => missing.push(format!("{id} is tagged now: take it off NOT_BUILT")),
            (false, _, false) => missing.push(format!("{id} is tagged in no code")),
            (true, false, false) => missing.push(format!("{id} is tagged in no test")),
        }
    }
    for id in NOT_BUILT {
        assert!(ids.contains(*id), "{id} is listed as not built but PRODUCT.md has no such id");
    }
    assert!(missing.is_empty(), "rule ids not enforced:\n{}", missing.join("\n"));
}

#[test]
fn a_tag_is_the_id_itself_in_either_spelling() {
    assert!(tagged("// NC-R1: self-assignment", "NC-R1"));
    assert!(tagged("fn nc_r1_self_assignment_is_silent()", "NC-R1"));
    assert!(!tagged("// NC-R10 only", "NC-R1"), "a longer id is another rule");
    assert!(!tagged("// XNC-R1", "NC-R1"));
    assert!(tagged("MW-6.", "MW-6"));
    let ids = spec_ids("- **NC-R1 Silent.** … (NC-R13, MW-2) ORG-7.");
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["MW-2", "NC-R1", "NC-R13", "ORG-7"]);
}
