//! The shape of the code (ARCHITECTURE.md), checked: crates depend only downwards
//! (web → app → store → core, cli → app), no two files of a crate import each other
//! through a cycle, and the CLI reaches the web crate only to build the router and serve.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The workspace crates a crate depends on (normal dependencies only).
fn dependencies(krate: &str) -> BTreeSet<String> {
    let toml = std::fs::read_to_string(crates_dir().join(krate).join("Cargo.toml")).unwrap();
    let normal = toml.split("[dev-dependencies]").next().unwrap();
    [
        "tongban-core",
        "tongban-store",
        "tongban-app",
        "tongban-web",
    ]
    .iter()
    .filter(|d| **d != krate && normal.contains(&format!("\n{d}")))
    .map(|d| d.to_string())
    .collect()
}

#[test]
fn crates_depend_only_downwards() {
    let allowed: BTreeMap<&str, &[&str]> = [
        ("tongban-core", &[][..]),
        ("tongban-store", &["tongban-core"][..]),
        ("tongban-app", &["tongban-core", "tongban-store"][..]),
        (
            "tongban-web",
            &["tongban-core", "tongban-store", "tongban-app"][..],
        ),
        (
            "tongban",
            &[
                "tongban-core",
                "tongban-store",
                "tongban-app",
                "tongban-web",
            ][..],
        ),
    ]
    .into_iter()
    .collect();
    for (krate, ok) in &allowed {
        for d in dependencies(krate) {
            assert!(ok.contains(&d.as_str()), "{krate} must not depend on {d}");
        }
    }
}

/// Modules of a crate and the sibling modules each names through `crate::…`.
fn module_graph(krate: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = crates_dir().join(krate).join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let module = |p: &Path| {
        let rel = p.strip_prefix(&src).unwrap().with_extension("");
        rel.components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string()
    };
    let names: BTreeSet<String> = files.iter().map(|p| module(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let m = module(f);
        let full = std::fs::read_to_string(f).unwrap();
        // What the code uses: comments and the unit tests at the end of a file do not count.
        let code = full.split("#[cfg(test)]").next().unwrap_or("");
        let text: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let deps = graph.entry(m.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != m && names.contains(&name) {
                deps.insert(name);
            }
        }
    }
    graph
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        n: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut cycle = path[at..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(g, d, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        if let Some(c) = visit(graph, n, &mut vec![], &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_file_imports_itself_through_a_cycle() {
    for krate in [
        "tongban-core",
        "tongban-store",
        "tongban-app",
        "tongban-web",
        "tongban",
    ] {
        if let Some(c) = find_cycle(&module_graph(krate)) {
            panic!(
                "{krate}: modules import each other in a cycle: {}",
                c.join(" → ")
            );
        }
    }
}

#[test]
fn the_cli_uses_the_web_crate_only_to_build_and_serve() {
    let mut files = vec![];
    rust_files(&crates_dir().join("tongban").join("src"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("tongban_web::") {
            let what: String = text[i + 13..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // Building, configuring and serving the web adapter is the CLI's job.
            assert!(
                ["Application", "new_state", "Timeouts", "state"].contains(&what.as_str()),
                "{}: the CLI calls tongban_web::{what}; service work belongs in tongban-app",
                f.display()
            );
        }
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), ["b".to_string()].into()),
        ("b".to_string(), ["c".to_string()].into()),
        ("c".to_string(), ["a".to_string()].into()),
    ]
    .into_iter()
    .collect();
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
    let acyclic: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), ["b".to_string()].into()),
        ("b".to_string(), BTreeSet::new()),
    ]
    .into_iter()
    .collect();
    assert!(find_cycle(&acyclic).is_none());
}
