//! The signed-in user's own profile: contact details, time zone and language, notification
//! preferences, and active sessions. `prefs_for` is what other features ask before notifying.

pub mod routes;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::UserId;
use crate::db::{Db, DbResult, Row, TenantTx, flag, now_ms};
use crate::error::{AppError, FieldError};
use crate::tenancy::TenantScope;

/// Time zones offered in the form; anything else is refused (keeps stored values sane
/// without a time-zone database).
pub const TIME_ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Brussels",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Buenos_Aires",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Mexico_City",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
];

/// Interface languages: (code, name in that language).
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("nl", "Nederlands"),
];

/// A user's own profile.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Profile {
    /// Display name.
    pub name: String,
    /// Email (not editable here).
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Job title.
    pub job_title: String,
    /// IANA time zone, empty when unset.
    pub time_zone: String,
    /// Language code, empty when unset.
    pub language: String,
    /// Two-step sign-in is on.
    pub mfa_enabled: bool,
}

/// Loads the profile of `user`.
pub async fn get(db: &Db, scope: &TenantScope, user: &UserId) -> DbResult<Option<Profile>> {
    let row = sqlx::query(
        "SELECT name, email, phone, job_title, time_zone, language, mfa_enabled_at FROM users \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user.as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let opt = |c: &str| -> Result<String, sqlx::Error> {
        Ok(r.try_get::<Option<String>, _>(c)?.unwrap_or_default())
    };
    Ok(Some(Profile {
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        phone: opt("phone")?,
        job_title: opt("job_title")?,
        time_zone: opt("time_zone")?,
        language: opt("language")?,
        mfa_enabled: r.try_get::<Option<i64>, _>("mfa_enabled_at")?.is_some(),
    }))
}

/// Editable profile fields as submitted.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProfileInput {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Job title.
    pub job_title: String,
    /// Time zone.
    pub time_zone: String,
    /// Language.
    pub language: String,
}

/// Validates and normalises profile input.
pub fn check(input: &ProfileInput) -> Result<ProfileInput, AppError> {
    let mut errs = Vec::new();
    let mut err = |field: &str, message: &str| {
        errs.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    let name = input.name.trim().to_string();
    if name.is_empty() {
        err("name", "Enter your name (at most 120 characters).");
    } else if let Err(e) = crate::text::single_line("name", &name, crate::text::NAME_MAX) {
        err("name", &e.message);
    }
    let phone = input.phone.trim().to_string();
    if phone.chars().count() > 40
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +()-./".contains(c))
        || (!phone.is_empty() && !phone.chars().any(|c| c.is_ascii_digit()))
    {
        err(
            "phone",
            "Enter a phone number with digits, spaces and + ( ) - . / only, e.g. +44 20 7946 0000.",
        );
    }
    let job_title = input.job_title.trim().to_string();
    if let Err(e) = crate::text::single_line("job_title", &job_title, crate::text::NAME_MAX) {
        err("job_title", &e.message);
    }
    let time_zone = input.time_zone.trim().to_string();
    if !time_zone.is_empty() && !TIME_ZONES.contains(&time_zone.as_str()) {
        err(
            "time_zone",
            "Choose a time zone from the list, e.g. Europe/Berlin.",
        );
    }
    let language = input.language.trim().to_string();
    if !language.is_empty() && !LANGUAGES.iter().any(|(c, _)| *c == language) {
        err("language", "Choose one of the listed languages.");
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    Ok(ProfileInput {
        name,
        phone,
        job_title,
        time_zone,
        language,
    })
}

/// Stores checked profile fields.
pub async fn update(tx: &mut TenantTx, user: &UserId, p: &ProfileInput) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    let none_if_empty = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    sqlx::query(
        "UPDATE users SET name = $3, phone = $4, job_title = $5, time_zone = $6, language = $7, \
         updated_at = $8 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(&p.name)
    .bind(none_if_empty(&p.phone))
    .bind(none_if_empty(&p.job_title))
    .bind(none_if_empty(&p.time_zone))
    .bind(none_if_empty(&p.language))
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::user(user)).await
}

/// Which notifications a user wants; everything is on until they say otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationPrefs {
    /// Replies on tickets they raised or follow.
    pub ticket_replies: bool,
    /// Status changes of those tickets.
    pub status_changes: bool,
    /// Announcements.
    pub announcements: bool,
    /// Documents waiting for their signature.
    pub signature_requests: bool,
    /// Staff: new tickets for them (assigned, or unassigned in their tenant).
    pub new_tickets: bool,
    /// Staff: tickets about to miss a deadline.
    pub sla_warnings: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        NotificationPrefs {
            ticket_replies: true,
            status_changes: true,
            announcements: true,
            signature_requests: true,
            new_tickets: true,
            sla_warnings: true,
        }
    }
}

/// The notification preferences of `user` (all on when never changed).
pub async fn prefs_for(db: &Db, scope: &TenantScope, user: &UserId) -> DbResult<NotificationPrefs> {
    let row = sqlx::query(
        "SELECT ticket_replies, status_changes, announcements, signature_requests, new_tickets, \
         sla_warnings FROM notification_prefs WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user.as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else {
        return Ok(NotificationPrefs::default());
    };
    Ok(NotificationPrefs {
        ticket_replies: flag(&r, "ticket_replies")?,
        status_changes: flag(&r, "status_changes")?,
        announcements: flag(&r, "announcements")?,
        signature_requests: flag(&r, "signature_requests")?,
        new_tickets: flag(&r, "new_tickets")?,
        sla_warnings: flag(&r, "sla_warnings")?,
    })
}

/// Stores the notification preferences of `user`.
pub async fn set_prefs(tx: &mut TenantTx, user: &UserId, p: NotificationPrefs) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO notification_prefs (tenant_id, user_id, ticket_replies, status_changes, \
         announcements, signature_requests, updated_at, new_tickets, sla_warnings) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET ticket_replies = $3, status_changes = $4, \
         announcements = $5, signature_requests = $6, updated_at = $7, new_tickets = $8, \
         sla_warnings = $9",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(i64::from(p.ticket_replies))
    .bind(i64::from(p.status_changes))
    .bind(i64::from(p.announcements))
    .bind(i64::from(p.signature_requests))
    .bind(now_ms())
    .bind(i64::from(p.new_tickets))
    .bind(i64::from(p.sla_warnings))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One of the user's sessions as the profile lists it.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    /// Public id (derived from the stored hash; reveals nothing about the token).
    pub id: String,
    /// Portal or admin.
    pub audience: String,
    /// Signed in (Unix ms).
    pub created_at: i64,
    /// Last used (Unix ms).
    pub last_seen_at: i64,
    /// The session of this request.
    pub current: bool,
    #[serde(skip)]
    hash: String,
}

fn public_session_id(hash: &str) -> String {
    hex::encode(Sha256::digest(format!("session-id:{hash}").as_bytes()))[..20].to_string()
}

/// The user's sessions that have not expired, most recently used first.
pub async fn sessions(
    db: &Db,
    scope: &TenantScope,
    user: &UserId,
    current_hash: &str,
) -> DbResult<Vec<SessionInfo>> {
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT token_hash, audience, created_at, last_seen_at FROM sessions \
         WHERE tenant_id = $1 AND user_id = $2 AND expires_at > $3 AND last_seen_at > $4 \
         ORDER BY last_seen_at DESC",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user.as_str())
    .bind(now)
    .bind(now - crate::auth::sessions::IDLE_MS)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            let hash: String = r.try_get("token_hash")?;
            Ok(SessionInfo {
                id: public_session_id(&hash),
                audience: r.try_get("audience")?,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
                current: hash == current_hash,
                hash,
            })
        })
        .collect()
}

/// Ends one of the user's own sessions by its public id; false when there is none.
pub async fn end_session(db: &Db, tx: &mut TenantTx, user: &UserId, id: &str) -> DbResult<bool> {
    let scope = tx.scope().clone();
    let all = sessions(db, &scope, user, "").await?;
    let Some(s) = all.into_iter().find(|s| s.id == id) else {
        return Ok(false);
    };
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND token_hash = $3",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(&s.hash)
    .execute(tx.conn())
    .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::Session(s.hash.clone())).await?;
    Ok(r.rows_affected() > 0)
}
