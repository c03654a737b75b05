//! The library's files import downwards: no file reaches, through its `use crate::` lines, a file
//! that reaches it back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each file's imports of other files, from the code before its `#[cfg(test)]` part, as module
/// paths (`registration::credentials`). An import naming an item through a folder's re-exports
/// counts as an import of the folder's `mod.rs`, which imports every file of the folder: so a file
/// reaching its own folder's re-exports is a loop, and files import each other by their own path.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut folders = vec![src.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                // The crate docs' long references are Markdown files beside the code.
                files.push(path);
            }
        }
    }
    let module_of = |path: &Path| -> String {
        let relative = path.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = relative
            .iter()
            .map(|part| part.to_str().unwrap().to_owned())
            .collect();
        if parts
            .last()
            .is_some_and(|last| last == "mod" || last == "lib")
        {
            parts.pop();
        }
        parts.join("::")
    };
    let modules: BTreeSet<String> = files.iter().map(|path| module_of(path)).collect();
    let mut graph = BTreeMap::new();
    for path in &files {
        let module = module_of(path);
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let mut used = BTreeSet::new();
        for line in code.lines().map(str::trim_start) {
            let Some(rest) = line
                .strip_prefix("use crate::")
                .or_else(|| line.strip_prefix("pub use crate::"))
            else {
                continue;
            };
            let words: Vec<&str> = rest
                .split("::")
                .take_while(|word| word.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                .collect();
            // The longest prefix of the path that is a file of the library.
            let target = (1..=words.len())
                .rev()
                .map(|n| words[..n].join("::"))
                .find(|candidate| modules.contains(candidate));
            if let Some(target) = target.filter(|target| *target != module) {
                used.insert(target);
            }
        }
        // A folder's `mod.rs` holds its files.
        for child in modules.iter().filter(|other| {
            !module.is_empty()
                && other
                    .strip_prefix(&format!("{module}::"))
                    .is_some_and(|rest| !rest.contains("::"))
        }) {
            used.insert(child.clone());
        }
        graph.insert(module, used);
    }
    graph.remove("");
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
    assert!(
        graph["oauth::encoding"].is_empty(),
        "{:?}",
        graph["oauth::encoding"]
    );
    assert!(
        graph["registration::credentials"].contains("registration::client_id_url"),
        "{:?}",
        graph["registration::credentials"]
    );
    let mut loops = Vec::new();
    for module in graph.keys() {
        for other in reach(&graph, module) {
            if &other != module && reach(&graph, &other).contains(module) {
                loops.push(format!("{module} <-> {other}"));
            }
        }
    }
    assert!(
        loops.is_empty(),
        "modules that import each other: {loops:?}"
    );
}

/// The layer a module belongs to, from the bottom: generic OAuth 2.0 (`oauth/`: identifiers,
/// endpoints and their URL rules, client IDs, credentials and tokens, PKCE, secrets, challenges, the
/// request types), JOSE above it (`jose/`: JWS, key sets, the key cache, thumbprints, claim
/// readers), the AuthKit wing (`authkit/`: the client, the domain, the pending login, userinfo, ID
/// token checks), and the jobs on top. `None` for a module in no layer: a new file must be placed.
fn layer(module: &str) -> Option<(u8, &'static str)> {
    const JOBS: &[&str] = &[
        "device",
        "discovery",
        "dpop",
        "mcp",
        "registration",
        "resource_server",
        "token_exchange",
    ];
    match module.split("::").next().unwrap_or(module) {
        "oauth" => Some((0, "generic OAuth")),
        "jose" => Some((1, "JOSE")),
        "authkit" => Some((2, "the AuthKit wing")),
        job if JOBS.contains(&job) => Some((3, "the jobs")),
        _ => None,
    }
}

#[test]
fn no_layer_imports_a_higher_one() {
    let graph = imports();
    let unplaced: Vec<&String> = graph.keys().filter(|m| layer(m).is_none()).collect();
    assert!(unplaced.is_empty(), "modules in no layer: {unplaced:?}");
    let mut upward = Vec::new();
    for (module, used) in &graph {
        let (rank, name) = layer(module).unwrap();
        for other in used {
            let (other_rank, other_name) = layer(other).unwrap();
            if other_rank > rank {
                upward.push(format!("{module} ({name}) -> {other} ({other_name})"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a lower layer to a higher one: {upward:#?}"
    );
    // The check sees the imports it guards.
    assert!(
        graph["mcp::login"].contains("oauth::token"),
        "{:?}",
        graph["mcp::login"]
    );
}

/// The README's recipes for the companion crates are their crate docs' recipes, word for word, so
/// that crates.io and docs.rs readers get the programs this README shows.
#[test]
fn the_readme_recipes_are_the_companion_crates_docs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut checked = 0;
    for block in readme.split("```rust,ignore\n").skip(1) {
        let code = block.split("```").next().unwrap();
        let docs = if code.contains("workos_connect_axum") {
            "workos-connect-axum/src/lib.rs"
        } else if code.contains("workos_connect_reqwest") {
            "workos-connect-reqwest/src/lib.rs"
        } else {
            continue;
        };
        let lib = std::fs::read_to_string(root.join(docs)).unwrap();
        let as_docs: String = code
            .lines()
            .map(|line| {
                if line.is_empty() {
                    "//!\n".to_owned()
                } else {
                    format!("//! {line}\n")
                }
            })
            .collect();
        assert!(
            lib.contains(&as_docs),
            "README.md's recipe differs from the one in {docs}:\n{code}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "{checked} recipes checked");
}

/// The `.rs` files under `dir`, build output and installed packages left out.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            if path.is_dir() {
                if !matches!(name, "target" | "node_modules") {
                    folders.push(path);
                }
            } else if name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The code of a file that is built outside tests: its `#[cfg(test)] mod tests` part and every
/// other `#[cfg(test)]` item left out, and comments too.
fn code_outside_tests(text: &str) -> Vec<(usize, &str)> {
    let mut code = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // Skip the item the attribute is on: up to its `;`, or through its balanced braces.
            let mut depth = 0usize;
            let mut opened = false;
            for (_, item) in lines.by_ref() {
                for c in item.chars() {
                    match c {
                        '{' => {
                            depth += 1;
                            opened = true;
                        }
                        '}' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                let attribute = item.trim_start().starts_with("#[");
                if !attribute
                    && ((opened && depth == 0) || (!opened && item.trim_end().ends_with(';')))
                {
                    break;
                }
            }
            continue;
        }
        if !trimmed.starts_with("//") {
            code.push((number + 1, line));
        }
    }
    code
}

/// `src/oauth/clock.rs` is the one door to the time: no other file built outside tests, in the
/// library, its companions or the examples, reads the system clock. Everything else takes `now`
/// from its caller or from the `Clock` it was given, so that tests can fix the time everywhere.
#[test]
fn only_the_clock_module_reads_the_system_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let door = root.join("src").join("oauth").join("clock.rs");
    const READS: [&str; 3] = ["SystemTime::now", "Instant::now", "unix_now"];
    let mut scanned = 0;
    let mut readers = Vec::new();
    for dir in [
        "src",
        "workos-connect-axum/src",
        "workos-connect-reqwest/src",
        "examples",
    ] {
        for path in rust_files(&root.join(dir)) {
            if path == door || path.file_name().is_some_and(|name| name == "tests.rs") {
                continue;
            }
            scanned += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            for (number, line) in code_outside_tests(code) {
                if READS.iter().any(|read| line.contains(read)) {
                    let shown = path.strip_prefix(root).unwrap().display().to_string();
                    readers.push(format!("{shown}:{number}: {}", line.trim()));
                }
            }
        }
    }
    assert!(scanned > 100, "scanned {scanned} files");
    assert!(
        readers.is_empty(),
        "read the system clock outside src/oauth/clock.rs (take `now` from the caller, or an \
         `oauth::Clock`): {readers:#?}"
    );
    // The check sees the read it guards, and skips test code.
    let clock = std::fs::read_to_string(&door).unwrap();
    assert!(clock.contains("SystemTime::now()"));
    let sample = "fn f() {}\n// Instant::now()\n#[cfg(test)]\nfn g() {\n    Instant::now();\n}\nfn h() { Instant::now() }\n";
    let kept: Vec<usize> = code_outside_tests(sample).iter().map(|(n, _)| *n).collect();
    assert_eq!(kept, [1, 7]);
}

/// The lines of a recipe beyond its imports: the non-blank lines after its last `use` statement,
/// comments included, the rule README.md states.
fn lines_beyond_imports(code: &str) -> usize {
    let lines: Vec<&str> = code.lines().collect();
    let mut start = 0;
    let mut in_use = false;
    for (index, line) in lines.iter().enumerate() {
        if line.starts_with("use ") {
            in_use = true;
        }
        if in_use && line.trim_end().ends_with(';') {
            in_use = false;
            start = index + 1;
        }
    }
    lines
        .iter()
        .skip(start)
        .filter(|line| !line.trim().is_empty())
        .count()
}

/// Every length a README states for a recipe ("N lines beyond imports" just before it, or "in N
/// lines" in the heading above it) is the recipe's length, counted by the stated rule.
#[test]
fn stated_recipe_lengths_are_counted_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for readme in ["README.md", "workos-connect-axum/README.md"] {
        let text = std::fs::read_to_string(root.join(readme)).unwrap();
        let mut rest = text.as_str();
        while let Some(open) = rest.find("```rust") {
            let before = &rest[..open];
            let code_start = open + rest[open..].find('\n').unwrap() + 1;
            let code_end = code_start + rest[code_start..].find("```").unwrap();
            let code = &rest[code_start..code_end];
            // The paragraph or heading just before the recipe.
            let lead = before.trim_end().rsplit("\n\n").next().unwrap_or_default();
            let stated = lead
                .split(" lines beyond imports")
                .next()
                .filter(|head| head.len() < lead.len())
                .or_else(|| {
                    lead.rsplit_once(" lines")
                        .filter(|_| lead.starts_with('#'))
                        .map(|(head, _)| head)
                })
                .and_then(|head| head.rsplit(['(', ' ', ';', '\n']).next())
                .and_then(|number| number.parse::<usize>().ok());
            if let Some(stated) = stated {
                assert_eq!(
                    lines_beyond_imports(code),
                    stated,
                    "{readme}: the recipe after \"{lead}\" is not {stated} lines beyond imports"
                );
                checked += 1;
            }
            rest = &rest[code_end + 3..];
        }
    }
    assert!(checked >= 4, "{checked} stated lengths checked");
}
