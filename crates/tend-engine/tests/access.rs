//! Users, API tokens and the audit log against real stores.

use chrono::{DateTime, Duration, Utc};
use tend_core::Role;
use tend_engine::access::{
    add_user, audit_log, create_token, disable_user, revoke_token, token_for_secret,
    user_for_password, AccessError, NewToken, NewUser,
};
use tend_store::test_support;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn dana(password: Option<&str>) -> NewUser {
    NewUser {
        handle: "Dana.Lee".into(),
        email: "Dana@Vendor.Example".into(),
        name: "Dana Lee".into(),
        role: Role::Csm,
        password: password.map(str::to_string),
    }
}

#[tokio::test]
async fn users_sign_in_with_a_hashed_password_until_disabled() {
    test_support::on_every_backend("users_sign_in", |store, _| async move {
        let user = add_user(&store, "cli", dana(Some("correct horse battery")), now())
            .await
            .unwrap();
        assert_eq!(
            (user.handle.as_str(), user.email.as_str()),
            ("dana.lee", "dana@vendor.example")
        );
        let again = add_user(&store, "cli", dana(None), now())
            .await
            .unwrap_err();
        assert!(matches!(again, AccessError::Conflict(_)), "{again}");
        let short = add_user(
            &store,
            "cli",
            NewUser {
                handle: "x".into(),
                email: "x@y.io".into(),
                ..dana(Some("short"))
            },
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            short.to_string(),
            "password: must have at least 12 characters"
        );
        let bad = add_user(
            &store,
            "cli",
            NewUser {
                email: "dana".into(),
                ..dana(None)
            },
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(bad.to_string(), "email: \"dana\" is not an email address");

        let signed_in = user_for_password(&store, "DANA@vendor.example", "correct horse battery")
            .await
            .unwrap();
        assert_eq!(signed_in.map(|u| u.handle), Some("dana.lee".to_string()));
        assert!(
            user_for_password(&store, "dana@vendor.example", "wrong horse battery")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            user_for_password(&store, "nobody@vendor.example", "correct horse battery")
                .await
                .unwrap()
                .is_none()
        );

        disable_user(&store, "cli", "dana.lee", now())
            .await
            .unwrap();
        assert!(
            user_for_password(&store, "dana@vendor.example", "correct horse battery")
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            disable_user(&store, "cli", "nobody", now()).await,
            Err(AccessError::NotFound { what: "user", .. })
        ));
        assert!(!store.users().await.unwrap()[0].active);
    })
    .await;
}

#[tokio::test]
async fn tokens_work_until_revoked_or_expired_and_every_change_is_audited() {
    test_support::on_every_backend("tokens_and_audit", |store, _| async move {
        let created = create_token(
            &store,
            "admin",
            NewToken {
                name: "renewal agent".into(),
                role: Role::Am,
                book: Some("Kim.Ortiz".into()),
                expires_at: Some(now() + Duration::days(30)),
            },
            now(),
        )
        .await
        .unwrap();
        let secret = created.secret.clone();
        assert!(secret.starts_with(&format!("tend_{}_", created.token.id)));
        assert_eq!(
            secret.len(),
            "tend_".len() + 16 + 1 + 64,
            "a 256-bit secret"
        );
        assert_eq!(created.token.book.as_deref(), Some("kim.ortiz"));
        assert!(
            store.api_token_by_hash(&secret).await.unwrap().is_none(),
            "the secret itself is not stored"
        );

        let found = token_for_secret(&store, &secret, now()).await.unwrap();
        assert_eq!(found.as_ref().map(|t| t.role), Some(Role::Am));
        assert!(
            token_for_secret(&store, &secret, now() + Duration::days(31))
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        assert!(token_for_secret(&store, "tend_nope", now())
            .await
            .unwrap()
            .is_none());
        assert!(
            token_for_secret(&store, &secret.replace("tend_", "x"), now())
                .await
                .unwrap()
                .is_none()
        );

        revoke_token(&store, "admin", &created.token.id, now())
            .await
            .unwrap();
        assert!(
            token_for_secret(&store, &secret, now())
                .await
                .unwrap()
                .is_none(),
            "revoked"
        );
        revoke_token(&store, "admin", &created.token.id, now())
            .await
            .unwrap();
        assert!(matches!(
            revoke_token(&store, "admin", "nope", now()).await,
            Err(AccessError::NotFound { what: "token", .. })
        ));

        add_user(&store, "admin", dana(None), now()).await.unwrap();
        let entries = audit_log(&store, 10).await.unwrap();
        let actions: Vec<(&str, &str, &str)> = entries
            .iter()
            .map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str()))
            .collect();
        let id = created.token.id.as_str();
        assert_eq!(
            actions,
            vec![
                ("admin", "user.add", "dana.lee"),
                ("admin", "token.revoke", id),
                ("admin", "token.create", id)
            ],
            "newest first; revoking twice is one change"
        );
        assert!(
            entries[2].changes.contains("\"role\":\"am\"") && !entries[2].changes.contains(&secret)
        );
        assert!(entries[0].changes.contains("\"password\":false"));
    })
    .await;
}
