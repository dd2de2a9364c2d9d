//! Users, API tokens and the audit log. Secrets are stored only as hashes, which the
//! engine computes; the store never sees a password or a token's secret.

use chrono::{DateTime, Utc};
use tend_core::access::{ApiToken, AuditEntry, User};
use tend_core::Role;

use crate::{on_backend, on_tx, Result, Store, StoreError, Transaction};

pub(crate) type UserRow = (String, String, String, String, bool, DateTime<Utc>);
type TokenRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);
type AuditRow = (i64, DateTime<Utc>, String, String, String, String);

const USER_COLUMNS: &str = "handle, email, name, role, active, created_at";
const TOKEN_COLUMNS: &str = "id, name, role, book, created_by, created_at, expires_at, revoked_at";

fn role(table: &'static str, id: &str, text: &str) -> Result<Role> {
    Role::parse(text).map_err(|e| StoreError::Corrupt {
        table,
        id: id.to_string(),
        reason: e.0,
    })
}

pub(crate) fn user((handle, email, name, role_text, active, created_at): UserRow) -> Result<User> {
    let role = role("users", &handle, &role_text)?;
    Ok(User {
        handle,
        email,
        name,
        role,
        active,
        created_at,
    })
}

fn token(row: TokenRow) -> Result<ApiToken> {
    let (id, name, role_text, book, created_by, created_at, expires_at, revoked_at) = row;
    let role = role("api_tokens", &id, &role_text)?;
    Ok(ApiToken {
        id,
        name,
        role,
        book,
        created_by,
        created_at,
        expires_at,
        revoked_at,
    })
}

impl Store {
    /// Every user, by handle.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY handle");
        let rows: Vec<UserRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter().map(user).collect()
    }

    /// The user with `email`, with their password hash (if they have a password).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        type Row = (
            String,
            String,
            String,
            String,
            bool,
            DateTime<Utc>,
            Option<String>,
        );
        let row: Option<Row> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(email).fetch_optional(pool).await?
        });
        row.map(|(h, e, n, r, a, c, hash)| Ok((user((h, e, n, r, a, c))?, hash)))
            .transpose()
    }

    /// Every API token (revoked and expired ones too), newest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id");
        let rows: Vec<TokenRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter().map(token).collect()
    }

    /// The token whose secret hashes to `secret_hash`.
    pub async fn api_token_by_hash(&self, secret_hash: &str) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1");
        let row: Option<TokenRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(secret_hash).fetch_optional(pool).await?
        });
        row.map(token).transpose()
    }

    /// Audit entries older than `before` (an entry id; all when `None`), newest
    /// first, at most `limit`.
    pub async fn audit_page(&self, before: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT id, at, actor, action, target, changes FROM audit_log \
                 WHERE id < $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(audit_entry).collect())
    }

    /// The latest `limit` audit entries, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT id, at, actor, action, target, changes FROM audit_log \
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(audit_entry).collect())
    }
}

fn audit_entry((id, at, actor, action, target, changes): AuditRow) -> AuditEntry {
    AuditEntry {
        id,
        at,
        actor,
        action,
        target,
        changes,
    }
}

impl Transaction {
    /// Adds a user; `false` when the handle or email is taken.
    pub async fn insert_user(&mut self, user: &User, password_hash: Option<&str>) -> Result<bool> {
        let inserted = on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO users (handle, email, name, role, active, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(&user.handle)
            .bind(&user.email)
            .bind(&user.name)
            .bind(user.role.as_str())
            .bind(user.active)
            .bind(password_hash)
            .bind(user.created_at)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// Sets whether a user may sign in; `None` for an unknown handle, else whether
    /// it was active before.
    pub async fn set_user_active(&mut self, handle: &str, active: bool) -> Result<Option<bool>> {
        let before: Option<bool> = on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar("SELECT active FROM users WHERE handle = $1")
                .bind(handle)
                .fetch_optional(&mut **conn)
                .await?
        });
        if before.is_some() {
            on_tx!(&mut self.tx, conn => {
                sqlx::query("UPDATE users SET active = $1 WHERE handle = $2")
                    .bind(active)
                    .bind(handle)
                    .execute(&mut **conn)
                    .await?;
            });
        }
        Ok(before)
    }

    pub async fn insert_api_token(&mut self, token: &ApiToken, secret_hash: &str) -> Result<()> {
        on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO api_tokens (id, secret_hash, name, role, book, created_by, \
                 created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&token.id)
            .bind(secret_hash)
            .bind(&token.name)
            .bind(token.role.as_str())
            .bind(token.book.as_deref())
            .bind(&token.created_by)
            .bind(token.created_at)
            .bind(token.expires_at)
            .bind(token.revoked_at)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Revokes a token at `at`; `None` for an unknown id, else whether it was
    /// already revoked.
    pub async fn revoke_api_token(&mut self, id: &str, at: DateTime<Utc>) -> Result<Option<bool>> {
        self.revoke_row("api_tokens", id, at).await
    }

    /// Sets `revoked_at` of the row `id` of `table` (tokens or sources) unless set;
    /// `None` for an unknown id, else whether it was set already.
    pub(crate) async fn revoke_row(
        &mut self,
        table: &'static str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<bool>> {
        let select = format!("SELECT revoked_at FROM {table} WHERE id = $1");
        let revoked: Option<Option<DateTime<Utc>>> = on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(&select)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?
        });
        let Some(revoked) = revoked else {
            return Ok(None);
        };
        if revoked.is_none() {
            let update = format!("UPDATE {table} SET revoked_at = $1 WHERE id = $2");
            on_tx!(&mut self.tx, conn => {
                sqlx::query(&update)
                    .bind(at)
                    .bind(id)
                    .execute(&mut **conn)
                    .await?;
            });
        }
        Ok(Some(revoked.is_some()))
    }

    /// Appends an audit entry; `changes` is a JSON object.
    pub async fn append_audit(
        &mut self,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
        target: &str,
        changes: &str,
    ) -> Result<()> {
        if changes_customer_data(action) {
            self.changes_data();
        }
        on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, target, changes) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(at)
            .bind(actor)
            .bind(action)
            .bind(target)
            .bind(changes)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }
}

/// Whether an audited action may change what is computed from the customer data:
/// sign-ins, tokens, users, event sources and webhooks do not (and happen often:
/// every sign-in would have every kept figure computed again).
fn changes_customer_data(action: &str) -> bool {
    let area = action.split_once('.').map_or(action, |(area, _)| area);
    !matches!(
        area,
        "session" | "token" | "auth" | "user" | "source" | "webhook"
    )
}
