//! The published tool list (names, schemas, annotations) is part of our
//! contract with every client. This snapshot makes changes to it deliberate:
//! regenerate with `UPDATE_SNAPSHOTS=1 cargo test -p gs-mcp --test tool_list_snapshot`
//! and review the diff.

use std::path::PathBuf;

#[test]
fn tool_list_matches_snapshot() {
    let tools: Vec<serde_json::Value> = gs_mcp::tools()
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "server": e.server,
                "tool": serde_json::to_value(&e.tool).unwrap(),
            })
        })
        .collect();
    let actual = serde_json::to_string_pretty(&tools).unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tools.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    assert!(
        actual == expected,
        "the tool list changed; if intended, regenerate with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}

#[test]
fn every_tool_is_documented_and_annotated() {
    for entry in gs_mcp::tools() {
        let t = &entry.tool;
        assert!(
            gs_auth::SERVERS.contains(&entry.server),
            "{}: unknown server {}",
            t.name,
            entry.server
        );
        assert!(
            t.description.as_ref().is_some_and(|d| d.len() > 40),
            "{}: description",
            t.name
        );
        let annotations = t.annotations.as_ref().expect("annotations");
        assert!(
            annotations.read_only_hint.is_some(),
            "{}: readOnlyHint",
            t.name
        );
        assert!(t.output_schema.is_some(), "{}: output schema", t.name);
        // Every input field carries a description a model can read.
        let props = t
            .input_schema
            .get("properties")
            .and_then(|p| p.as_object())
            .expect("properties");
        for (field, schema) in props {
            assert!(
                schema.get("description").is_some(),
                "{}: input field {field} has no description",
                t.name
            );
        }
    }
}
