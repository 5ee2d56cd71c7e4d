//! Health, docs, and running as a role that owns only schema `ingest`.

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
    let (status, doc) = app.get_json("/api/logs/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["paths"]["/api/logs"]["post"].is_object(), "{doc}");
    assert!(doc["paths"]["/api/logs/feed"]["get"].is_object());

    let page = app
        .client
        .get(format!("{}/api/logs/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // The page's script and styles come from this server, not a CDN.
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        let response = app
            .client
            .get(format!("{}/api/logs/docs/{asset}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
    }
    let initializer = app
        .client
        .get(format!(
            "{}/api/logs/docs/swagger-initializer.js",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert!(initializer
        .text()
        .await
        .unwrap()
        .contains("/api/logs/openapi.json"));
}

#[tokio::test]
async fn ingest_keeps_its_tables_and_migration_history_in_its_own_schema() {
    let app = spawn_app().await;
    let mut admin = app.db.admin_connection().await;
    let rows = sqlx::query(
        "SELECT table_schema, table_name FROM information_schema.tables
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    let tables: Vec<String> = rows
        .iter()
        .map(|r| format!("{}.{}", r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect();
    assert_eq!(
        tables,
        [
            "ingest._sqlx_migrations",
            "ingest.batches",
            "ingest.entries",
            "ingest.feed_head",
            "ingest.idempotency_keys",
            "ingest.texts"
        ]
    );
}
