//! The black-box test harness shared by every service's tests: a fresh database per test and
//! a login role per service that owns only its schema, exactly as in production.
//!
//! The cluster is the one `DATABASE_URL` points at, as a role allowed to create databases
//! and roles (`./scripts/test` starts a private throwaway cluster when none is given).

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};

pub struct TestDatabase {
    /// The service roles made so far, for [`monolith_role`](Self::monolith_role).
    roles: std::sync::Mutex<Vec<String>>,
    admin_url: String,
    admin: PgConnectOptions,
    pub name: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name.
    pub async fn create() -> Self {
        let url = std::env::var("DATABASE_URL").expect(
            "DATABASE_URL must point at a Postgres cluster for the tests (see ./scripts/test)",
        );
        let admin: PgConnectOptions = url.parse().expect("DATABASE_URL is not a Postgres URL");
        let name = format!("httpmon_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .expect("connect as admin");
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("create test database");
        conn.execute(format!(r#"REVOKE ALL ON DATABASE "{name}" FROM PUBLIC"#).as_str())
            .await
            .expect("revoke public access");
        Self {
            roles: Default::default(),
            admin_url: url,
            admin,
            name,
        }
    }

    /// A superuser connection to this database, for assertions a role could not make.
    pub async fn admin_connection(&self) -> PgConnection {
        PgConnection::connect_with(&self.admin.clone().database(&self.name))
            .await
            .expect("connect to test database")
    }

    /// The admin URL pointed at this database (the monolith's setup).
    pub fn admin_url(&self) -> String {
        // Swap the database name in place so credentials and parameters are kept.
        let (base, query) = match self.admin_url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (self.admin_url.as_str(), None),
        };
        let authority_end = base.find("://").map_or(0, |i| i + 3);
        let host_part = match base[authority_end..].find('/') {
            Some(i) => &base[..authority_end + i],
            None => base,
        };
        match query {
            Some(q) => format!("{host_part}/{}?{q}", self.name),
            None => format!("{host_part}/{}", self.name),
        }
    }

    /// Creates a login role that owns `schema` (created empty) and may do nothing else, and
    /// returns the URL to connect as it.
    pub async fn service_role(&self, schema: &str) -> String {
        let role = format!(
            "{schema}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let password = uuid::Uuid::new_v4().simple().to_string();
        let mut conn = self.admin_connection().await;
        for statement in [
            format!(r#"CREATE ROLE "{role}" LOGIN PASSWORD '{password}'"#),
            format!(r#"GRANT CONNECT ON DATABASE "{}" TO "{role}""#, self.name),
            format!(r#"CREATE SCHEMA IF NOT EXISTS "{schema}""#),
            format!(r#"ALTER SCHEMA "{schema}" OWNER TO "{role}""#),
            "REVOKE ALL ON SCHEMA public FROM PUBLIC".to_string(),
        ] {
            conn.execute(statement.as_str())
                .await
                .expect("create service role");
        }
        self.roles.lock().expect("roles").push(role.clone());
        self.url_for(&role, &password)
    }

    /// A login role that is a member of every service role made so far and owns nothing, as
    /// the monolith connects in production; returns the URL to connect as it.
    pub async fn monolith_role(&self) -> String {
        let role = format!(
            "monolith_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let members: Vec<String> = self
            .roles
            .lock()
            .expect("roles")
            .iter()
            .map(|r| format!(r#""{r}""#))
            .collect();
        let mut conn = self.admin_connection().await;
        for statement in [
            format!(
                r#"CREATE ROLE "{role}" LOGIN PASSWORD 'monolith' IN ROLE {}"#,
                members.join(", ")
            ),
            format!(r#"GRANT CONNECT ON DATABASE "{}" TO "{role}""#, self.name),
        ] {
            conn.execute(statement.as_str())
                .await
                .expect("create monolith role");
        }
        self.url_for(&role, "monolith")
    }

    fn url_for(&self, user: &str, password: &str) -> String {
        let credentials = format!("{user}:{password}");
        let host = self.admin.get_host();
        let port = self.admin.get_port();
        if host.starts_with('/') {
            format!(
                "postgres://{credentials}@/{}?host={host}&port={port}",
                self.name
            )
        } else {
            format!("postgres://{credentials}@{host}:{port}/{}", self.name)
        }
    }
}
