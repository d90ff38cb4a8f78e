//! The crate's layering, checked on its own source: imports run one way, from the top down
//! (`lib.rs`'s `# Layout`), and no module's parts import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer; a module may import only from lower layers (and itself).
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("metrics", 0),
    ("telemetry", 0),
    ("secret", 0),
    ("store", 1),
    ("slack", 1),
    ("app", 2),
    ("jobs", 3),
    ("inbound", 4),
    ("server", 1),
    ("web", 4),
    ("config", 5),
    ("startup", 6),
];

/// `src/a/b.rs` → `a::b`, `src/a/mod.rs` → `a`, `src/lib.rs` → `` (the crate root).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

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

/// Every module of the crate and the modules it names (`crate::a::b`, `super::b`), unit tests
/// aside.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = BTreeMap::new();
    for file in files {
        let module = module_of(&src, &file);
        if module.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let is_mod_rs = file.file_name().is_some_and(|n| n == "mod.rs");
        let mut named = BTreeSet::new();
        for (root, rest) in paths(code) {
            let target = if root == "crate" {
                rest.iter().take(2).copied().collect::<Vec<_>>().join("::")
            } else {
                // `super` from `a/b.rs` is `a`; from `a/mod.rs` it is the crate root.
                let mut base: Vec<&str> = module.split("::").collect();
                base.pop();
                if is_mod_rs {
                    base.clear();
                }
                base.push(rest[0]);
                base.join("::")
            };
            named.insert(target);
        }
        graph.insert(module, named);
    }
    graph
}

/// Every `crate::a::b…` and `super::a…` path in `code`: its root and its segments.
fn paths(code: &str) -> Vec<(&'static str, Vec<&str>)> {
    let mut found = Vec::new();
    for root in ["crate", "super"] {
        let needle = format!("{root}::");
        let mut from = 0;
        while let Some(at) = code[from..].find(&needle) {
            let start = from + at;
            from = start + needle.len();
            let before = code[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let tail = &code[from..];
            let end = tail
                .find(|c: char| {
                    !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':')
                })
                .unwrap_or(tail.len());
            let segments: Vec<&str> = tail[..end]
                .split("::")
                .filter(|s| !s.is_empty() && s.starts_with(|c: char| c.is_ascii_lowercase()))
                .collect();
            // `crate::app::{ingest, App}`: one path per item of the group.
            let group = tail[end..]
                .strip_prefix('{')
                .and_then(|g| g.split_once('}'))
                .map(|(items, _)| items);
            match group {
                Some(items) => {
                    for item in items.split(',') {
                        let first = item.trim().split("::").next().unwrap_or_default();
                        let mut path = segments.clone();
                        if first.starts_with(|c: char| c.is_ascii_lowercase()) && first != "self" {
                            path.push(first);
                        }
                        if !path.is_empty() {
                            found.push((root, path));
                        }
                    }
                }
                None if !segments.is_empty() => found.push((root, segments)),
                None => {}
            }
        }
    }
    found
}

fn layer(module: &str) -> Option<u8> {
    let top = module.split("::").next()?;
    LAYERS.iter().find(|(m, _)| *m == top).map(|(_, l)| *l)
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let mut wrong = Vec::new();
    for (module, named) in imports() {
        let Some(own) = layer(&module) else {
            wrong.push(format!("{module} is in no layer: add it to LAYERS"));
            continue;
        };
        for target in named {
            let top = |m: &str| m.split("::").next().unwrap_or_default().to_string();
            if top(&target) == top(&module) {
                continue;
            }
            match layer(&target) {
                Some(l) if l < own => {}
                _ => wrong.push(format!("{module} imports {target}")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_parts_of_a_module_import_each_other_in_a_circle() {
    let graph = imports();
    // Edges between sibling files (a parent's `mod.rs` declares its children, so it is left
    // out: the question is whether the children depend on each other in a circle).
    let edges: BTreeMap<&str, Vec<&str>> = graph
        .iter()
        .map(|(m, named)| {
            let targets = named
                .iter()
                .map(String::as_str)
                .filter(|t| *t != m && graph.contains_key(*t))
                .filter(|t| {
                    let parent = |x: &str| x.rsplit_once("::").map(|(p, _)| p.to_string());
                    parent(t) == parent(m) && parent(m).is_some()
                })
                .collect();
            (m.as_str(), targets)
        })
        .collect();
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    let mut circles = Vec::new();
    fn visit<'a>(
        m: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        circles: &mut Vec<String>,
    ) {
        state.insert(m, 1);
        stack.push(m);
        for &next in edges.get(m).map(Vec::as_slice).unwrap_or_default() {
            match state.get(next) {
                Some(1) => {
                    let from = stack.iter().position(|s| *s == next).unwrap_or(0);
                    circles.push(format!("{} -> {next}", stack[from..].join(" -> ")));
                }
                None => visit(next, edges, state, stack, circles),
                _ => {}
            }
        }
        stack.pop();
        state.insert(m, 2);
    }
    for &m in edges.keys() {
        if !state.contains_key(m) {
            visit(m, &edges, &mut state, &mut Vec::new(), &mut circles);
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_layer_table_names_every_top_level_module() {
    let graph = imports();
    let tops: BTreeSet<&str> = graph.keys().filter_map(|m| m.split("::").next()).collect();
    for top in tops {
        assert!(layer(top).is_some(), "{top} is in no layer");
    }
}
