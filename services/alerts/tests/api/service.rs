//! Health, docs, and running as a role that owns only schema `alerts`.

use sqlx::Row;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = app.get_json("/health/ready").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
}

#[tokio::test]
async fn the_openapi_document_and_an_offline_docs_page_are_served() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/alerts/openapi.json").await;
    assert_eq!(status, 200);
    for (path, method) in [
        ("/api/alerts", "get"),
        ("/api/alerts/rules", "get"),
        ("/api/alerts/rules", "post"),
        ("/api/alerts/rules/{id}", "get"),
        ("/api/alerts/rules/{id}", "put"),
        ("/api/alerts/rules/{id}", "delete"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path}: {doc}"
        );
    }
    for schema in [
        "AlertsView",
        "AlertEvent",
        "ActiveAlert",
        "Rule",
        "RuleInput",
        "Problem",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    let params = doc["paths"]["/api/alerts"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["limit", "before"]);

    let page = app
        .client
        .get(format!("{}/api/alerts/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        let response = app
            .client
            .get(format!("{}/api/alerts/docs/{asset}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
    }
    let initializer = app
        .client
        .get(format!(
            "{}/api/alerts/docs/swagger-initializer.js",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert!(initializer
        .text()
        .await
        .unwrap()
        .contains("/api/alerts/openapi.json"));
}

#[tokio::test]
async fn alerts_keeps_its_tables_and_migration_history_in_its_own_schema() {
    let app = spawn_app().await;
    let mut admin = app.db.admin_connection().await;
    let rows = sqlx::query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'alerts' ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    let tables: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        tables,
        [
            "_sqlx_migrations",
            "bootstrap",
            "cloudwatch_cursor",
            "deliveries",
            "events",
            "feed_position",
            "hits_by_second",
            "rule_state",
            "rules"
        ]
    );
}
