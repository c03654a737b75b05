//! The library's modules import downwards: no module reaches, through its `use crate::` lines, a module
//! that reaches it back, except the one pair `error.rs` explains.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module's imports of other modules, from the code before its `#[cfg(test)]` part.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut folders = vec![src];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut graph = BTreeMap::new();
    for path in files {
        // A folder's `mod.rs` is the module named after the folder.
        let named = if path.ends_with("mod.rs") {
            path.parent().unwrap()
        } else {
            path.as_path()
        };
        let module = named.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let mut used = BTreeSet::new();
        for line in code
            .lines()
            .filter(|line| line.trim_start().starts_with("use crate::"))
        {
            let rest = line.trim_start().trim_start_matches("use crate::");
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                used.insert(name);
            }
        }
        graph.insert(module, used);
    }
    graph
}

/// Every module `from` reaches through imports.
fn reach(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_owned()];
    while let Some(module) = todo.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn modules_import_downwards() {
    let graph = imports();
    assert!(graph.len() > 10, "read {} modules", graph.len());
    assert!(graph["encoding"].is_empty(), "{:?}", graph["encoding"]);
    let allowed = [("error", "scope"), ("scope", "error")];
    let mut loops = Vec::new();
    for module in graph.keys() {
        for other in reach(&graph, module) {
            if &other != module
                && reach(&graph, &other).contains(module)
                && !allowed.contains(&(module.as_str(), other.as_str()))
            {
                loops.push(format!("{module} <-> {other}"));
            }
        }
    }
    assert!(
        loops.is_empty(),
        "modules that import each other: {loops:?}"
    );
}

/// The README's axum recipe is the file CI builds, word for word.
#[test]
fn the_readme_recipe_is_the_built_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let recipe =
        std::fs::read_to_string(root.join("examples/axum-login/src/bin/recipe.rs")).unwrap();
    let block = format!("```rust,ignore\n{recipe}```");
    assert!(
        readme.contains(&block),
        "README.md's recipe differs from examples/axum-login/src/bin/recipe.rs"
    );
}
