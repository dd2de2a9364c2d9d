//! The real server on port 0 against a fresh store, spoken to over HTTP by a real
//! client, on SQLite and PostgreSQL.

use chrono::Utc;
use tend_core::Role;
use tend_engine::access::{create_token, revoke_token, NewToken};
use tend_ingest::Entity;
use tend_server::ServerState;
use tend_store::{test_support, Store};

/// A running server and the address it listens on; it stops when dropped.
struct Running {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn spawn(store: Store) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(tend_server::serve(
        listener,
        ServerState { store },
        async move {
            let _ = stopped.await;
        },
    ));
    Running {
        base,
        stop: Some(stop),
    }
}

async fn token(store: &Store, role: Role) -> (String, String) {
    let new = NewToken {
        name: "test".into(),
        role,
        book: None,
        expires_at: None,
    };
    let created = create_token(store, "test", new, Utc::now()).await.unwrap();
    (created.token.id, created.secret)
}

#[tokio::test]
async fn health_needs_no_token_and_the_api_needs_a_valid_one() {
    test_support::on_every_backend("health_and_tokens", |store, _| async move {
        let accounts = tempfile::tempdir().unwrap();
        let file = accounts.path().join("accounts.csv");
        std::fs::write(
            &file,
            "id,name,created_on,segment\nacme,Acme,2025-01-01,smb\n",
        )
        .unwrap();
        let options = tend_engine::ImportOptions::default();
        tend_engine::import_file(&store, Entity::Accounts, &file, &options, &|_| {})
            .await
            .unwrap();
        let (id, secret) = token(&store, Role::Viewer).await;
        let server = spawn(store.clone()).await;
        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("{}{path}", server.base));

        let health = get("/healthz").send().await.unwrap();
        assert_eq!(health.status(), 200);
        assert!(health.headers().contains_key("x-request-id"));
        assert_eq!(get("/readyz").send().await.unwrap().status(), 200);

        let anonymous = get("/api/v1/accounts/acme").send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        assert_eq!(
            anonymous.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
        let problem: serde_json::Value = anonymous.json().await.unwrap();
        assert_eq!(problem["status"], 401);

        let bearer = format!("Bearer {secret}");
        let me: serde_json::Value = get("/api/v1/me")
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], "viewer");
        assert_eq!(me["actor"], format!("token:{id}"));

        let account = get("/api/v1/accounts/acme")
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(account.status(), 200);
        let body: serde_json::Value = account.json().await.unwrap();
        assert_eq!(
            (body["name"].as_str(), body["segment"].as_str()),
            (Some("Acme"), Some("smb"))
        );
        let missing = get("/api/v1/accounts/nope")
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        let problem: serde_json::Value = missing.json().await.unwrap();
        assert_eq!(problem["detail"], "no account with id \"nope\"");

        let wrong = get("/api/v1/me")
            .header("authorization", "Bearer tend_0_0")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        revoke_token(&store, "test", &id, Utc::now()).await.unwrap();
        let revoked = get("/api/v1/me")
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 401, "a revoked token is refused at once");
    })
    .await;
}
