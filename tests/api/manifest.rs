//! `manifest.yml` as Slack reads it when a new user pastes it: valid against Slack's own
//! manifest schema (vendored under `tests/fixtures/slack-manifest-schema`, MIT), and asking for
//! every scope the Web API calls hereby makes need.

use serde_json::Value;

fn manifest() -> Value {
    let yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(include_str!("../../manifest.yml")).expect("manifest.yml is YAML");
    serde_json::to_value(yaml).expect("manifest.yml maps to JSON")
}

#[test]
fn the_manifest_passes_slacks_manifest_schema() {
    let schema: Value = serde_json::from_str(include_str!(
        "../fixtures/slack-manifest-schema/manifest.schema.1.0.0.json"
    ))
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("Slack's schema compiles");
    let manifest = manifest();
    let problems: Vec<String> = validator
        .iter_errors(&manifest)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "Slack would refuse to create the app: {problems:#?}"
    );
}

#[test]
fn the_schema_check_would_catch_a_shortcut_name_slack_refuses() {
    let schema: Value = serde_json::from_str(include_str!(
        "../fixtures/slack-manifest-schema/manifest.schema.1.0.0.json"
    ))
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let mut manifest = manifest();
    manifest["features"]["shortcuts"][0]["name"] = "Declare incident from this message".into();
    assert!(!validator.is_valid(&manifest));
}

#[test]
fn the_manifest_asks_for_the_scopes_of_public_posting_and_private_channels() {
    let scopes = crate::fake_slack::manifest_bot_scopes();
    for needed in [
        "chat:write",
        "chat:write.public",
        "channels:manage",
        "groups:write",
        "groups:read",
        "channels:history",
        "groups:history",
        "files:write",
        "files:read",
        "users:read",
    ] {
        assert!(scopes.contains(needed), "manifest.yml lacks {needed}");
    }
}
