//! `docs/layout.md` kept true: the crates depend on each other exactly as its table says, and
//! no crate has import circles between its top-level modules (Cargo already refuses circles
//! between crates, not inside one).
//!
//! A module's imports are the `crate::<module>` paths in its code (comments are not code; its
//! submodules' files count as its own). Test files may look anywhere and are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::x` module names used in `code`, including those inside `crate::{x::.., y}` lists.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let list = &list[..list.find('}').unwrap_or(list.len())];
            for item in list.split(',') {
                let item = item.trim();
                if item.contains("::") {
                    out.insert(ident(item));
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

/// The module graph of the crate whose sources are in `src`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let is_test = parts.last().is_some_and(|f| f == "tests.rs")
            || parts[..parts.len() - 1].iter().any(|p| p == "tests");
        let top = parts[0].trim_end_matches(".rs").to_owned();
        if is_test || top == "lib" || top == "main" {
            continue;
        }
        let code: String = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let uses = graph.entry(top.clone()).or_default();
        uses.extend(crate_paths(&code).into_iter().filter(|m| *m != top));
    }
    let names: BTreeSet<String> = graph.keys().cloned().collect();
    for uses in graph.values_mut() {
        uses.retain(|m| names.contains(m));
    }
    graph
}

/// A circle in `graph`, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut circle = path[i..].to_vec();
            circle.push(m.to_owned());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_owned());
        for next in &graph[m] {
            if let Some(c) = visit(next, graph, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut done, &mut Vec::new()))
}

#[test]
fn the_circle_finder_finds_a_planted_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(find_circle(&graph).unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(
        crate_paths("use crate::{store::X, view};\nlet y = crate::chain::f();"),
        ["chain", "store"].into_iter().map(str::to_owned).collect()
    );
}

#[test]
fn no_crate_has_import_circles_between_its_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut crates = Vec::new();
    for dir in std::fs::read_dir(root).unwrap() {
        let dir = dir.unwrap().path();
        for candidate in [dir.clone(), dir.join("sdk")] {
            if candidate.join("Cargo.toml").is_file() && candidate.join("src").is_dir() {
                crates.push(candidate);
            }
        }
    }
    assert!(crates.len() >= 10, "found only {crates:?}");
    for krate in crates {
        let graph = module_graph(&krate.join("src"));
        assert_eq!(find_circle(&graph), None, "in {}", krate.display());
    }
}

/// The "may import" table of `docs/layout.md`: crate → workspace crates it may depend on.
fn documented_dependencies(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root.join("docs/layout.md")).unwrap();
    let names = |cell: &str| -> Vec<String> {
        cell.split(',')
            .map(|s| s.trim().trim_matches('`').to_owned())
            .filter(|s| s.starts_with("i8o8i-"))
            .collect()
    };
    let mut table = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `i8o8i-")) {
        let cells: Vec<&str> = line.split('|').collect();
        let allowed: BTreeSet<String> = names(cells[2]).into_iter().collect();
        for krate in names(cells[1]) {
            table.insert(krate, allowed.clone());
        }
    }
    table
}

#[test]
fn the_crate_dependencies_are_the_documented_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let workspace: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    let actual: BTreeMap<String, BTreeSet<String>> = packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|n| workspace.contains(n))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect();
    let documented = documented_dependencies(root);
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "docs/layout.md should list every workspace crate"
    );
    for (krate, deps) in &actual {
        assert_eq!(
            deps, &documented[krate],
            "{krate}'s workspace dependencies differ from docs/layout.md"
        );
    }
}
