//! The crate's modules depend on each other without cycles: the agent traits
//! know no concrete agent, the agents know no registry, and the timeframe
//! analysis knows no agent. Every module names the module it takes an item
//! from (`crate::agent::Action`), never the crate root's re-exports
//! (`crate::Action`), so the `use` lines are the whole dependency graph
//! (every `crate::` in a file counts, comments included).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// module -> the modules it uses. A file `src/x.rs` is module `x`; the files
/// under `src/agents/` together are module `agents`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let module = path.file_name().unwrap().to_string_lossy().into_owned();
            for inner in fs::read_dir(&path).unwrap() {
                files.push((module.clone(), inner.unwrap().path()));
            }
        } else if path.file_stem().is_some_and(|s| s != "lib") {
            let module = path.file_stem().unwrap().to_string_lossy().into_owned();
            files.push((module, path));
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in files {
        let text = fs::read_to_string(&path).unwrap();
        let uses = graph.entry(module.clone()).or_default();
        for (offset, _) in text.match_indices("crate::") {
            let rest = &text[offset + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                !name.is_empty() && name.chars().all(|c| !c.is_ascii_uppercase()),
                "{} reaches `crate::{}` through the crate root; name the defining module",
                path.display(),
                rest.chars().take(30).collect::<String>()
            );
            if name != module {
                uses.insert(name);
            }
        }
    }
    graph
}

/// Some cycle of `graph`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut found = path[i..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn module_dependencies_form_a_dag() {
    let graph = graph();
    assert!(graph.len() >= 10, "modules found: {graph:?}");
    if let Some(found) = cycle(&graph) {
        panic!("module cycle: {}", found.join(" -> "));
    }
}

/// The order in the crate docs' module map: each module uses only modules
/// listed before it.
const LAYERS: [&str; 10] = [
    "error",
    "series",
    "market",
    "agent",
    "timeframes",
    "agents",
    "registry",
    "consensus",
    "generate",
    "backtest",
];

#[test]
fn every_module_uses_only_those_listed_before_it() {
    let graph = graph();
    let mut modules: Vec<&str> = graph.keys().map(String::as_str).collect();
    modules.sort_by_key(|m| LAYERS.iter().position(|l| l == m));
    assert_eq!(
        modules, LAYERS,
        "a module was added or removed; update LAYERS and lib.rs"
    );
    for (i, module) in LAYERS.iter().enumerate() {
        for used in &graph[*module] {
            assert!(
                LAYERS[..i].contains(&used.as_str()),
                "{module} uses {used}, which is not listed before it"
            );
        }
    }
}

#[test]
fn the_layers_point_one_way() {
    let graph = graph();
    let uses = |a: &str, b: &str| graph.get(a).is_some_and(|deps| deps.contains(b));
    for leaf in ["error", "series"] {
        assert!(graph[leaf].is_empty(), "{leaf} uses {:?}", graph[leaf]);
    }
    assert!(!uses("agent", "agents") && !uses("agent", "registry"));
    assert!(!uses("agents", "registry"));
    assert!(!uses("timeframes", "agents") && !uses("timeframes", "agent"));
    assert!(!uses("consensus", "registry") && !uses("backtest", "generate"));
    assert!(uses("registry", "agents") && uses("agents", "agent"));
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let g = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert_eq!(cycle(&g(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(
        cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(["a", "b", "c", "a"].map(String::from).to_vec())
    );
}
