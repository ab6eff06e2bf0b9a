//! The core's top-level modules import each other one way: no circles.
//!
//! Reads `src/**/*.rs`, maps each file to its top-level module
//! (`https/call.rs` → `https`, `mode/run.rs` → `mode`), collects the
//! `crate::X` (and `super::X` reaching the crate root) paths outside
//! comments, string literals and `#[cfg(test)]` items, and fails on any
//! cycle between top-level modules, printing each with one place per edge.
//! `lib.rs` is the root (it declares the modules and re-exports the
//! public API); a `crate::Name` that `lib.rs` re-exports counts as its
//! module.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Source text with comments (doc comments included), string and char
/// literals blanked out, so that only code is left. Lines are kept.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_lines = |s: &[char], out: &mut String| {
        for ch in s {
            out.push(if *ch == '\n' { '\n' } else { ' ' });
        }
    };
    while i < c.len() {
        let rest = &c[i..];
        if rest.starts_with(&['/', '/']) {
            let end = rest.iter().position(|&x| x == '\n').unwrap_or(rest.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            let mut j = 0;
            while j < rest.len() {
                if rest[j..].starts_with(&['/', '*']) {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(&['*', '/']) {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            keep_lines(&rest[..j.min(rest.len())], &mut out);
            i += j.min(rest.len());
        } else if (rest[0] == 'r' || (rest[0] == 'b' && rest.get(1) == Some(&'r')))
            && !c[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
            && {
                let s = if rest[0] == 'b' { 2 } else { 1 };
                let hashes = rest[s..].iter().take_while(|&&x| x == '#').count();
                rest.get(s + hashes) == Some(&'"')
            }
        {
            // Raw string: r"…", r#"…"#, br"…".
            let s = if rest[0] == 'b' { 2 } else { 1 };
            let hashes = rest[s..].iter().take_while(|&&x| x == '#').count();
            let mut close = vec!['"'];
            close.extend(std::iter::repeat_n('#', hashes));
            let body = s + hashes + 1;
            let end = (body..rest.len())
                .find(|&j| rest[j..].starts_with(&close))
                .map_or(rest.len(), |j| j + close.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == '"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != '"' {
                j += if rest[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let end = if rest.get(1) == Some(&'\\') {
                (2..rest.len()).find(|&j| rest[j] == '\'').map(|j| j + 1)
            } else if rest.get(2) == Some(&'\'') {
                Some(3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    keep_lines(&rest[..end], &mut out);
                    i += end;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    out
}

/// `code` without the items under `#[cfg(test)]` (a `mod tests { … }`, a
/// test-only `use`, `fn` or `impl`). Lines are kept.
fn without_test_items(code: &str) -> String {
    test_items(code).0
}

/// The names of the test-only modules a file declares in files of their
/// own (`#[cfg(test)] mod flows;`).
fn test_only_children(code: &str) -> Vec<String> {
    test_items(code).1
}

fn test_items(code: &str) -> (String, Vec<String>) {
    let mut children = Vec::new();
    let c: Vec<char> = code.chars().collect();
    let mut out: Vec<char> = c.clone();
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i < c.len() {
        if !c[i..].starts_with(&marker) {
            i += 1;
            continue;
        }
        // Blank from the attribute to the end of its item: the first `;`
        // outside brackets, or the `}` closing the item's first `{`.
        let start = i;
        let mut j = i + marker.len();
        let mut depth = 0i32;
        let mut in_attr = false;
        while j < c.len() {
            match c[j] {
                '#' if depth == 0 && c.get(j + 1) == Some(&'[') => in_attr = true,
                '[' | '(' => depth += 1,
                ']' | ')' => {
                    depth -= 1;
                    if depth == 0 && in_attr {
                        in_attr = false;
                    }
                }
                ';' if depth == 0 => {
                    j += 1;
                    break;
                }
                '{' if depth == 0 => {
                    let mut braces = 0;
                    while j < c.len() {
                        match c[j] {
                            '{' => braces += 1,
                            '}' => {
                                braces -= 1;
                                if braces == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let item: String = c[start..j.min(c.len())].iter().collect();
        let words: Vec<&str> = item
            .split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == ';'))
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(pos) = words.iter().position(|w| *w == "mod") {
            if let Some(name) = words.get(pos + 1).and_then(|w| w.strip_suffix(';')) {
                children.push(name.to_string());
            }
        }
        for ch in out.iter_mut().take(j.min(c.len())).skip(start) {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = j;
    }
    (out.into_iter().collect(), children)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn ident_at(c: &[char], mut i: usize) -> (String, usize) {
    while i < c.len() && c[i].is_whitespace() {
        i += 1;
    }
    let start = i;
    while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
        i += 1;
    }
    (c[start..i].iter().collect(), i)
}

/// The first segments of the paths a `crate::` (or a root-reaching
/// `super::`) starts at `i`: one for `crate::x::…`, each group member's for
/// `crate::{x::…, y}`.
fn first_segments(c: &[char], mut i: usize) -> Vec<String> {
    while i < c.len() && c[i].is_whitespace() {
        i += 1;
    }
    if c.get(i) != Some(&'{') {
        return vec![ident_at(c, i).0];
    }
    let mut names = Vec::new();
    let mut depth = 0;
    let mut expect = true;
    while i < c.len() {
        match c[i] {
            '{' => {
                depth += 1;
                expect = depth == 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expect = true,
            ch if expect && (ch.is_alphanumeric() || ch == '_') => {
                let (name, end) = ident_at(c, i);
                names.push(name);
                expect = false;
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

struct Graph {
    /// module → module → one place (file:line) that imports it.
    edges: BTreeMap<String, BTreeMap<String, String>>,
}

fn build() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = without_test_items(&code_only(&fs::read_to_string(src.join("lib.rs")).unwrap()));

    // The modules `lib.rs` declares (outside tests), and the names it
    // re-exports from them.
    let mut modules = BTreeSet::new();
    let mut reexported = BTreeMap::new();
    for stmt in lib.split(';') {
        let words: Vec<&str> = stmt.split_whitespace().collect();
        if let Some(pos) = words.iter().position(|w| *w == "mod") {
            if let Some(name) = words.get(pos + 1) {
                modules.insert(name.to_string());
            }
        }
        if let Some(pos) = words.iter().position(|w| *w == "use") {
            let path: String = words[pos + 1..].concat();
            let (module, names) = path.split_once("::").unwrap_or((&path, ""));
            for name in names
                .trim_start_matches('{')
                .trim_end_matches('}')
                .split(',')
            {
                let name = name.rsplit("::").next().unwrap_or(name).trim();
                if !name.is_empty() {
                    reexported.insert(name.to_string(), module.to_string());
                }
            }
        }
    }

    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // Files of test-only modules, and everything under them.
    let mut test_only: Vec<PathBuf> = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let dir = match file.file_stem().unwrap().to_str().unwrap() {
            "lib" | "mod" => file.parent().unwrap().to_path_buf(),
            stem => file.parent().unwrap().join(stem),
        };
        for name in test_only_children(&code_only(&text)) {
            test_only.push(dir.join(format!("{name}.rs")));
            test_only.push(dir.join(name));
        }
    }
    files.retain(|f| !test_only.iter().any(|t| f.starts_with(t)));
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if parts == ["lib"] {
            continue;
        }
        let top = parts[0].clone();
        if !modules.contains(&top) {
            continue; // test-only (`test_support`) or not a module
        }
        // How many `super::` reach the crate root from this file.
        let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod"));
        let code = without_test_items(&code_only(&fs::read_to_string(&file).unwrap()));
        let c: Vec<char> = code.chars().collect();
        let mut line = 1;
        let mut i = 0;
        while i < c.len() {
            if c[i] == '\n' {
                line += 1;
            }
            let boundary =
                i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_' || c[i - 1] == '$');
            let mut after = None;
            if boundary && c[i..].starts_with(&['c', 'r', 'a', 't', 'e', ':', ':']) {
                after = Some(i + 7);
            } else if boundary && c[i..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
                let mut j = i;
                let mut n = 0;
                while c[j..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
                    n += 1;
                    j += 7;
                }
                if n >= depth {
                    after = Some(j);
                }
                i = j - 1;
            }
            if let Some(at) = after {
                for name in first_segments(&c, at) {
                    let target = if modules.contains(&name) {
                        name
                    } else if let Some(module) = reexported.get(&name) {
                        module.clone()
                    } else {
                        continue;
                    };
                    if target != top {
                        edges
                            .entry(top.clone())
                            .or_default()
                            .entry(target)
                            .or_insert_with(|| format!("{}:{line}", rel.display()));
                    }
                }
            }
            i += 1;
        }
    }
    Graph { edges }
}

/// The strongly connected components with more than one module (Tarjan).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(next) = s.graph.edges.get(v) {
            for w in next.keys() {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v, low);
                } else if s.on_stack.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v, low);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

/// A shortest cycle through `from` inside `component`, as its modules.
fn cycle_through(graph: &Graph, component: &[String], from: &str) -> Vec<String> {
    let mut paths = vec![vec![from.to_string()]];
    let mut seen = BTreeSet::new();
    while !paths.is_empty() {
        let mut next = Vec::new();
        for path in paths {
            let last = path.last().unwrap();
            for to in graph.edges.get(last).into_iter().flat_map(|e| e.keys()) {
                if to == from {
                    return path;
                }
                if component.contains(to) && seen.insert(to.clone()) {
                    let mut longer = path.clone();
                    longer.push(to.clone());
                    next.push(longer);
                }
            }
        }
        paths = next;
    }
    vec![from.to_string()]
}

#[test]
fn no_import_circles_between_top_level_modules() {
    let graph = build();
    let found = circles(&graph);
    if std::env::var_os("MODULE_GRAPH").is_some() {
        for (from, to) in &graph.edges {
            let to: Vec<&str> = to.keys().map(String::as_str).collect();
            println!("{from} -> {}", to.join(", "));
        }
    }
    if found.is_empty() {
        return;
    }
    let mut report = String::new();
    for component in &found {
        report.push_str(&format!(
            "\nmodules in a circle: {}\n",
            component.join(", ")
        ));
        let mut pairs = BTreeSet::new();
        for module in component {
            let cycle = cycle_through(&graph, component, module);
            let mut key: Vec<String> = cycle.clone();
            key.sort();
            if !pairs.insert(key) {
                continue;
            }
            report.push_str(&format!("  {} -> {}\n", cycle.join(" -> "), cycle[0]));
            for (k, from) in cycle.iter().enumerate() {
                let to = &cycle[(k + 1) % cycle.len()];
                report.push_str(&format!(
                    "      {from} -> {to}  ({})\n",
                    graph.edges[from][to]
                ));
            }
        }
    }
    let mut all = String::new();
    for (from, to) in &graph.edges {
        let to: Vec<&str> = to.keys().map(String::as_str).collect();
        all.push_str(&format!("  {from} -> {}\n", to.join(", ")));
    }
    panic!("import circles between the core's top-level modules:{report}\nall edges:\n{all}");
}

#[test]
fn the_reader_sees_code_only() {
    let text = "// crate::a\n/// crate::b\nconst S: &str = \"crate::c\";\nuse crate::{d::x, e};\n#[cfg(test)]\nmod tests { use crate::f; }\nfn g<'a>(c: char) -> bool { c == '{' }\n";
    let code = without_test_items(&code_only(text));
    assert_eq!(
        test_only_children(&code_only("#[cfg(test)]\nmod flows;\nmod other;")),
        ["flows"]
    );
    assert!(!code.contains("crate::a") && !code.contains("crate::b") && !code.contains("crate::c"));
    assert!(!code.contains("crate::f"));
    assert!(code.contains("fn g<'a>"));
    let c: Vec<char> = code.chars().collect();
    let at = code.find("crate::{").unwrap() + 7;
    assert_eq!(first_segments(&c, at), ["d", "e"]);
}

/// The layers of `docs/architecture.md`'s picture, top to bottom: a module
/// imports only modules of the layers below its own.
const LAYERS: &[&[&str]] = &[
    &["client", "bindings", "wire"],
    &["mode"],
    &["token"],
    &["platform"],
    &["cloud", "https"],
    &["call"],
    &["settings"],
    &["options", "env"],
    &["http"],
    &["connector"],
    &["error", "redact", "case", "json_text", "lock", "tls"],
    &["codes", "json_deep", "lone_surrogates", "utc"],
];

#[test]
fn each_module_imports_only_the_layers_below_it() {
    let graph = build();
    let layer = |m: &str| LAYERS.iter().position(|l| l.contains(&m));
    let mut wrong = Vec::new();
    for (from, to) in &graph.edges {
        for (to, place) in to {
            match (layer(from), layer(to)) {
                (Some(a), Some(b)) if a < b => {}
                (Some(_), Some(_)) => wrong.push(format!("{from} -> {to} ({place})")),
                _ => wrong.push(format!("{from} -> {to}: add the module to LAYERS")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that do not go down the layers (tests/module_graph.rs LAYERS, docs/architecture.md):\n  {}",
        wrong.join("\n  ")
    );
}
