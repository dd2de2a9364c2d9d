//! Access: users, API tokens and the audit log. Passwords are hashed with argon2id
//! (OWASP's parameters: 19 MiB, 2 passes, 1 lane); API tokens are 256 random bits,
//! shown once and stored as their SHA-256 (a fast hash suffices for a secret of
//! that strength). Every change is audited in the same transaction as the change.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tend_core::access::{parse_email, parse_handle, ApiToken, AuditEntry, Source, User};
use tend_core::Role;
use tend_store::{SessionRecord, Store, StoreError, Transaction};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// What every source's write key starts with.
pub const WRITE_KEY_PREFIX: &str = "tendwk_";
/// What every API token's secret starts with, so leaked secrets are recognisable.
pub const TOKEN_PREFIX: &str = "tend_";

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{0}")]
    Conflict(String),
    #[error("no {what} {id:?}")]
    NotFound { what: &'static str, id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> AccessError {
    AccessError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub handle: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Without one, the user cannot sign in until a password is set.
    pub password: Option<String>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP's argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id hash of `password` with a fresh random salt, in PHC string form.
pub fn hash_password(password: &str) -> Result<String, AccessError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(invalid(
            "password",
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| invalid("password", e.to_string()))
}

/// Whether `password` matches a stored hash (false for a malformed hash).
pub fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

pub(crate) fn audit_changes(fields: &[(&str, serde_json::Value)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// Adds a user, audited as `actor`'s action.
pub async fn add_user(
    store: &Store,
    actor: &str,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<User, AccessError> {
    let handle = parse_handle(&new.handle).map_err(|e| invalid("handle", e.0))?;
    let email = parse_email(&new.email).map_err(|e| invalid("email", e.0))?;
    let name = new.name.trim().to_string();
    if name.is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    let password_hash = match new.password {
        // Hashing is CPU work: off the async workers.
        Some(password) => Some(
            tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(|e| invalid("password", e.to_string()))??,
        ),
        None => None,
    };
    let user = User {
        handle,
        email,
        name,
        role: new.role,
        active: true,
        created_at: now,
    };
    let mut tx = store.begin().await?;
    if !tx.insert_user(&user, password_hash.as_deref()).await? {
        return Err(AccessError::Conflict(format!(
            "a user with handle {:?} or email {:?} exists already",
            user.handle, user.email
        )));
    }
    let changes = audit_changes(&[
        ("email", user.email.clone().into()),
        ("name", user.name.clone().into()),
        ("role", user.role.as_str().into()),
        ("password", password_hash.is_some().into()),
    ]);
    tx.append_audit(now, actor, "user.add", &user.handle, &changes)
        .await?;
    tx.commit().await?;
    Ok(user)
}

/// Disables a user (they can no longer sign in); audited.
pub async fn disable_user(
    store: &Store,
    actor: &str,
    handle: &str,
    now: DateTime<Utc>,
) -> Result<(), AccessError> {
    let handle = parse_handle(handle).map_err(|e| invalid("handle", e.0))?;
    let mut tx = store.begin().await?;
    match tx.set_user_active(&handle, false).await? {
        None => {
            return Err(AccessError::NotFound {
                what: "user",
                id: handle,
            })
        }
        Some(was_active) => {
            let ended = tx.delete_sessions_of(&handle).await?;
            let changes = audit_changes(&[
                ("active", serde_json::json!([was_active, false])),
                ("sessions_ended", ended.into()),
            ]);
            tx.append_audit(now, actor, "user.disable", &handle, &changes)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Puts a user in a team (for team lists, team leads and team pools), or in none
/// with `None`; audited.
pub async fn set_user_team(
    store: &Store,
    actor: &str,
    handle: &str,
    team: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AccessError> {
    let handle = parse_handle(handle).map_err(|e| invalid("handle", e.0))?;
    let team = team.map(str::trim).filter(|t| !t.is_empty());
    let mut tx = store.begin().await?;
    if !tx.set_user_team(&handle, team).await? {
        return Err(AccessError::NotFound {
            what: "user",
            id: handle,
        });
    }
    let changes = audit_changes(&[("team", serde_json::json!(team))]);
    tx.append_audit(now, actor, "user.team", &handle, &changes)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub book: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A created token and its secret, which is shown this once and never stored.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a token's secret.
fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Creates an API token with 256 random bits of secret; audited.
pub async fn create_token(
    store: &Store,
    actor: &str,
    new: NewToken,
    now: DateTime<Utc>,
) -> Result<CreatedToken, AccessError> {
    let name = new.name.trim().to_string();
    if name.is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    let book = new
        .book
        .as_deref()
        .map(parse_handle)
        .transpose()
        .map_err(|e| invalid("book", e.0))?;
    if new.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid("expires_at", "must be in the future"));
    }
    let id = random_hex(8);
    let secret = format!("{TOKEN_PREFIX}{id}_{}", random_hex(32));
    let token = ApiToken {
        id,
        name,
        role: new.role,
        book,
        created_by: actor.to_string(),
        created_at: now,
        expires_at: new.expires_at,
        revoked_at: None,
    };
    let mut tx = store.begin().await?;
    tx.insert_api_token(&token, &secret_hash(&secret)).await?;
    let changes = audit_changes(&[
        ("name", token.name.clone().into()),
        ("role", token.role.as_str().into()),
        ("book", token.book.clone().into()),
        (
            "expires_at",
            token.expires_at.map(|at| at.to_rfc3339()).into(),
        ),
    ]);
    tx.append_audit(now, actor, "token.create", &token.id, &changes)
        .await?;
    tx.commit().await?;
    Ok(CreatedToken { token, secret })
}

/// Revokes a token; audited. Revoking a revoked token changes nothing.
pub async fn revoke_token(
    store: &Store,
    actor: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), AccessError> {
    let mut tx = store.begin().await?;
    let outcome = tx.revoke_api_token(id, now).await?;
    finish_revocation(tx, outcome, "token", actor, id, now).await
}

/// After a revocation in `tx`: an unknown id is an error, an earlier revocation
/// changes nothing, a new one is audited and committed.
async fn finish_revocation(
    mut tx: Transaction,
    outcome: Option<bool>,
    what: &'static str,
    actor: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), AccessError> {
    match outcome {
        None => Err(AccessError::NotFound {
            what,
            id: id.to_string(),
        }),
        Some(true) => Ok(()),
        Some(false) => {
            tx.append_audit(now, actor, &format!("{what}.revoke"), id, "{}")
                .await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

/// A created source and its write key, which is shown this once and never stored.
#[derive(Debug, Clone)]
pub struct CreatedSource {
    pub source: Source,
    pub write_key: String,
}

/// Creates an event source with a write key of 256 random bits; audited.
pub async fn create_source(
    store: &Store,
    actor: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<CreatedSource, AccessError> {
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    let id = random_hex(8);
    let write_key = format!("{WRITE_KEY_PREFIX}{id}_{}", random_hex(32));
    let source = Source {
        id,
        name,
        created_by: actor.to_string(),
        created_at: now,
        revoked_at: None,
    };
    let mut tx = store.begin().await?;
    tx.insert_source(&source, &secret_hash(&write_key)).await?;
    let changes = audit_changes(&[("name", source.name.clone().into())]);
    tx.append_audit(now, actor, "source.create", &source.id, &changes)
        .await?;
    tx.commit().await?;
    Ok(CreatedSource { source, write_key })
}

/// Revokes a source's write key; audited. Revoking a revoked source changes nothing.
pub async fn revoke_source(
    store: &Store,
    actor: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), AccessError> {
    let mut tx = store.begin().await?;
    let outcome = tx.revoke_source(id, now).await?;
    finish_revocation(tx, outcome, "source", actor, id, now).await
}

/// The active source a write key belongs to, if any (unknown and revoked keys alike
/// give `None`).
pub async fn source_for_write_key(
    store: &Store,
    write_key: &str,
) -> Result<Option<Source>, AccessError> {
    if !write_key.starts_with(WRITE_KEY_PREFIX) {
        return Ok(None);
    }
    let source = store.source_by_key_hash(&secret_hash(write_key)).await?;
    Ok(source.filter(|s| s.revoked_at.is_none()))
}

/// The valid token a secret belongs to, if any (unknown, revoked and expired
/// secrets alike give `None`, so a caller cannot tell them apart).
pub async fn token_for_secret(
    store: &Store,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<ApiToken>, AccessError> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let token = store.api_token_by_hash(&secret_hash(secret)).await?;
    Ok(token.filter(|t| t.is_valid_at(now)))
}

/// The active user a password belongs to, if it matches (unknown, disabled and
/// wrong alike give `None`).
pub async fn user_for_password(
    store: &Store,
    email: &str,
    password: &str,
) -> Result<Option<User>, AccessError> {
    let Ok(email) = parse_email(email) else {
        return Ok(None);
    };
    let found = store.user_by_email(&email).await?;
    // An unknown email costs the same hash as a known one, so timing tells nothing.
    let hash = found
        .as_ref()
        .and_then(|(_, hash)| hash.clone())
        .unwrap_or_else(|| decoy_hash().to_string());
    let password = password.to_string();
    // Hashing is CPU work: off the async workers.
    let matches = tokio::task::spawn_blocking(move || password_matches(&password, &hash))
        .await
        .unwrap_or(false);
    Ok(found.and_then(|(user, hash)| (matches && hash.is_some() && user.active).then_some(user)))
}

/// A hash of a random password, to verify against when there is no user.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(&random_hex(32)).expect("a 64-character password is long enough")
    })
}

/// How long a session lasts without a request, and at most.
pub const SESSION_IDLE: chrono::TimeDelta = chrono::TimeDelta::minutes(30);
pub const SESSION_ABSOLUTE: chrono::TimeDelta = chrono::TimeDelta::hours(12);
/// How stale `last_seen_at` may get before a request refreshes it (saves a write
/// per request).
const SESSION_TOUCH: chrono::TimeDelta = chrono::TimeDelta::minutes(1);
/// What every session cookie's secret starts with.
pub const SESSION_PREFIX: &str = "tses_";

/// A session just started: the cookie's secret and the CSRF token, shown once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user: User,
    pub secret: String,
    pub csrf_token: String,
}

fn random_hex(bytes: usize) -> String {
    hex(&random_bytes(bytes))
}

/// `n` bytes from the operating system's secure generator.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut buffer = vec![0u8; n];
    OsRng.fill_bytes(&mut buffer);
    buffer
}

/// Starts a session for `user` (whose password was just checked); audited as a login.
pub async fn start_session(
    store: &Store,
    user: User,
    address: &str,
    now: DateTime<Utc>,
) -> Result<NewSession, AccessError> {
    let secret = format!("{SESSION_PREFIX}{}", random_hex(32));
    let csrf_token = random_hex(32);
    let mut tx = store.begin().await?;
    tx.insert_session(&secret_hash(&secret), &user.handle, &csrf_token, now)
        .await?;
    let changes = audit_changes(&[("address", address.into())]);
    tx.append_audit(
        now,
        &format!("user:{}", user.handle),
        "session.login",
        &user.handle,
        &changes,
    )
    .await?;
    tx.commit().await?;
    Ok(NewSession {
        user,
        secret,
        csrf_token,
    })
}

/// The live session of a cookie's secret: `None` when unknown, idle too long,
/// too old, or its user is disabled. Expired sessions are deleted.
pub async fn session_for_secret(
    store: &Store,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRecord>, AccessError> {
    if !secret.starts_with(SESSION_PREFIX) {
        return Ok(None);
    }
    let id_hash = secret_hash(secret);
    let Some(session) = store.session(&id_hash).await? else {
        return Ok(None);
    };
    let expired = now - session.last_seen_at > SESSION_IDLE
        || now - session.created_at > SESSION_ABSOLUTE
        || !session.user.active;
    if expired || now - session.last_seen_at > SESSION_TOUCH {
        let mut tx = store.begin().await?;
        if expired {
            tx.delete_session(&id_hash).await?;
        } else {
            tx.touch_session(&id_hash, now).await?;
        }
        tx.commit().await?;
    }
    Ok((!expired).then_some(session))
}

/// Ends the session of a cookie's secret; audited as a logout when it existed.
pub async fn end_session(
    store: &Store,
    secret: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, AccessError> {
    let mut tx = store.begin().await?;
    let ended = tx.delete_session(&secret_hash(secret)).await?;
    if ended {
        tx.append_audit(now, actor, "session.logout", actor, "{}")
            .await?;
    }
    tx.commit().await?;
    Ok(ended)
}

/// Records an authentication event that changes nothing else (a failed login, a
/// refused token, a token's use).
pub async fn audit_event(
    store: &Store,
    actor: &str,
    action: &str,
    target: &str,
    fields: &[(&str, serde_json::Value)],
    now: DateTime<Utc>,
) -> Result<(), AccessError> {
    let mut tx = store.begin().await?;
    tx.append_audit(now, actor, action, target, &audit_changes(fields))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Entries older than entry `before`, newest first, at most `limit`.
pub async fn audit_page(
    store: &Store,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<AuditEntry>, AccessError> {
    Ok(store.audit_page(before, limit as i64).await?)
}

/// The latest `limit` audit entries, newest first.
pub async fn audit_log(store: &Store, limit: usize) -> Result<Vec<AuditEntry>, AccessError> {
    Ok(store.audit_log(limit as i64).await?)
}
