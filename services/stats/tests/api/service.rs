//! Health, docs, and running as a role that owns only schema `stats`.

use sqlx::Row;

use crate::helpers::spawn;

#[tokio::test]
async fn health_and_an_empty_read_model_answer() {
    let app = spawn().await;
    let (status, body) = app.get("/health/ready").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    let (status, report) = app.get("/api/stats").await;
    assert_eq!(status, 200);
    assert_eq!(report["hits"], 0);
    assert_eq!(report["hits_per_second"], 0.0);
    assert_eq!(report["top_sections"], serde_json::json!([]));
    assert_eq!(report["status"]["2xx"], 0);
    let (status, report) = app.get("/api/stats?window=all").await;
    assert_eq!(
        (status, report["window"]["seconds"].as_i64()),
        (200, Some(0))
    );
    let (status, series) = app.get("/api/stats/timeseries?window=all").await;
    assert_eq!(
        (status, series["buckets"].as_array().map(Vec::len)),
        (200, Some(0))
    );
}

#[tokio::test]
async fn the_openapi_document_and_an_offline_docs_page_are_served() {
    let app = spawn().await;
    let (status, doc) = app.get("/api/stats/openapi.json").await;
    assert_eq!(status, 200);
    for path in ["/api/stats", "/api/stats/timeseries"] {
        let get = &doc["paths"][path]["get"];
        assert!(get.is_object(), "{path}: {doc}");
        let params: Vec<&str> = get["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(
            params.contains(&"window") && params.contains(&"to"),
            "{params:?}"
        );
    }
    for schema in [
        "StatsReport",
        "Timeseries",
        "FeedView",
        "StatusCounts",
        "Problem",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }

    let page = app
        .client
        .get(format!("{}/api/stats/docs/", app.stats.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    let initializer = app
        .client
        .get(format!(
            "{}/api/stats/docs/swagger-initializer.js",
            app.stats.address
        ))
        .send()
        .await
        .unwrap();
    assert!(initializer
        .text()
        .await
        .unwrap()
        .contains("/api/stats/openapi.json"));
}

#[tokio::test]
async fn stats_keeps_its_tables_and_migration_history_in_its_own_schema() {
    let app = spawn().await;
    let mut admin = app.db.admin_connection().await;
    let rows = sqlx::query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'stats' ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    let tables: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        tables.contains(&"_sqlx_migrations".to_string()),
        "{tables:?}"
    );
    assert!(tables.contains(&"feed_position".to_string()));
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT tableowner::text FROM pg_tables WHERE schemaname = 'stats'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(owners.len(), 1);
    assert!(owners[0].starts_with("stats_"), "{owners:?}");
}
