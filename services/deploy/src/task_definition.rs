//! A new revision of a task definition with its image pinned by digest: `pin-image` turns what
//! `aws ecs describe-task-definition --query taskDefinition` printed into the input of
//! `aws ecs register-task-definition --cli-input-json`, so every other setting the stack gave
//! the family (roles, secrets, environment, logs) carries over unchanged.

use anyhow::{bail, Context};
use serde_json::{json, Map, Value};

/// The fields RegisterTaskDefinition accepts; everything else describe prints (ARN, revision,
/// status, registration times, computed attributes) is the service's own bookkeeping.
const REGISTERABLE: &[&str] = &[
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
];

/// The tag that remembers which revision a deploy replaced, for `deploy.sh --rollback`.
pub const PREVIOUS_TAG: &str = "httpmon:previous";

/// `described` with `image` in its container named `container`, tagged with the ARN of the
/// revision it replaces.
pub fn pin_image(described: &str, container: &str, image: &str) -> anyhow::Result<String> {
    let described: Value =
        serde_json::from_str(described).context("task definition is not JSON")?;
    let described = described
        .as_object()
        .context("task definition is not a JSON object")?;
    let mut input: Map<String, Value> = described
        .iter()
        .filter(|(key, _)| REGISTERABLE.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let containers = input
        .get_mut("containerDefinitions")
        .and_then(Value::as_array_mut)
        .context("task definition has no containerDefinitions")?;
    let mut pinned = 0;
    for definition in containers.iter_mut() {
        if definition.get("name").and_then(Value::as_str) == Some(container) {
            definition["image"] = json!(image);
            pinned += 1;
        }
    }
    if pinned == 0 {
        bail!("task definition has no container named {container}");
    }
    if let Some(arn) = described.get("taskDefinitionArn").and_then(Value::as_str) {
        input.insert("tags".into(), json!([{"key": PREVIOUS_TAG, "value": arn}]));
    }
    Ok(serde_json::to_string_pretty(&Value::Object(input))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESCRIBED: &str = r#"{
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:1:task-definition/s-ingest:3",
        "family": "s-ingest", "revision": 3, "status": "ACTIVE",
        "requiresAttributes": [{"name": "ecs.capability.secrets.asm.environment-variables"}],
        "compatibilities": ["EC2", "FARGATE"], "registeredAt": "2026-01-01T00:00:00Z",
        "cpu": "256", "memory": "512", "networkMode": "awsvpc",
        "containerDefinitions": [
            {"name": "ingest", "image": "repo:none", "secrets": [{"name": "PGPASSWORD", "valueFrom": "arn"}]},
            {"name": "sidecar", "image": "other:1"}
        ]
    }"#;

    #[test]
    fn pins_the_named_container_and_keeps_the_rest() {
        let input: Value =
            serde_json::from_str(&pin_image(DESCRIBED, "ingest", "repo@sha256:ab").unwrap())
                .unwrap();
        assert_eq!(input["containerDefinitions"][0]["image"], "repo@sha256:ab");
        assert_eq!(
            input["containerDefinitions"][0]["secrets"][0]["name"],
            "PGPASSWORD"
        );
        assert_eq!(input["containerDefinitions"][1]["image"], "other:1");
        assert_eq!(input["cpu"], "256");
        for bookkeeping in [
            "taskDefinitionArn",
            "revision",
            "status",
            "requiresAttributes",
            "compatibilities",
            "registeredAt",
        ] {
            assert!(input.get(bookkeeping).is_none(), "{bookkeeping} kept");
        }
        assert_eq!(input["tags"][0]["key"], PREVIOUS_TAG);
        assert_eq!(
            input["tags"][0]["value"],
            "arn:aws:ecs:eu-west-1:1:task-definition/s-ingest:3"
        );
    }

    #[test]
    fn a_missing_container_is_an_error() {
        assert!(pin_image(DESCRIBED, "stats", "repo@sha256:ab").is_err());
        assert!(pin_image("[]", "ingest", "x").is_err());
    }
}
