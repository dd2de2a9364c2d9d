//! Signed-in sessions (keyed by the hash of the cookie's secret) and the stored
//! responses of POSTs sent with an `Idempotency-Key`.

use chrono::{DateTime, Utc};
use tend_core::access::User;

use crate::{on_backend, on_tx, Result, Store, Transaction};

/// A session with its user.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub user: User,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A response kept for replay under its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// Hash of the method, path and body of the request that made it.
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

type SessionRow = (
    String,
    String,
    String,
    String,
    bool,
    DateTime<Utc>,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
);

impl Store {
    /// The session whose secret hashes to `id_hash`, with its user.
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let row: Option<SessionRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT u.handle, u.email, u.name, u.role, u.active, u.created_at, \
                 s.csrf_token, s.created_at, s.last_seen_at \
                 FROM sessions s JOIN users u ON u.handle = s.user_handle WHERE s.id_hash = $1",
            )
            .bind(id_hash)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(h, e, n, r, a, c, csrf_token, created_at, last_seen_at)| {
            Ok(SessionRecord {
                user: crate::access::user((h, e, n, r, a, c))?,
                csrf_token,
                created_at,
                last_seen_at,
            })
        })
        .transpose()
    }

    /// The response stored for `actor`'s `key`.
    pub async fn stored_response(&self, actor: &str, key: &str) -> Result<Option<StoredResponse>> {
        let row: Option<(String, i32, String)> = on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT request_hash, status, body FROM idempotency_keys \
                 WHERE actor = $1 AND idem_key = $2",
            )
            .bind(actor)
            .bind(key)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(request_hash, status, body)| StoredResponse {
            request_hash,
            status: u16::try_from(status).unwrap_or(500),
            body,
        }))
    }
}

impl Transaction {
    pub async fn insert_session(
        &mut self,
        id_hash: &str,
        user_handle: &str,
        csrf_token: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_handle, csrf_token, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(id_hash)
            .bind(user_handle)
            .bind(csrf_token)
            .bind(at)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Marks the session as used at `at`.
    pub async fn touch_session(&mut self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        on_tx!(&mut self.tx, conn => {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
                .bind(id_hash)
                .bind(at)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    /// Ends one session; whether it existed.
    pub async fn delete_session(&mut self, id_hash: &str) -> Result<bool> {
        let done = on_tx!(&mut self.tx, conn => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Ends every session of a user (when they are disabled).
    pub async fn delete_sessions_of(&mut self, user_handle: &str) -> Result<u64> {
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query("DELETE FROM sessions WHERE user_handle = $1")
                .bind(user_handle)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        }))
    }

    /// Keeps a response for replay; `false` if the key was stored meanwhile.
    pub async fn store_response(
        &mut self,
        actor: &str,
        key: &str,
        response: &StoredResponse,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let done = on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO idempotency_keys (actor, idem_key, request_hash, status, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(actor)
            .bind(key)
            .bind(&response.request_hash)
            .bind(i32::from(response.status))
            .bind(&response.body)
            .bind(at)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        Ok(done > 0)
    }
}
