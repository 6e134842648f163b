//! Argon2id password hashing, off the async threads.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::rngs::OsRng;
use std::sync::LazyLock;

use crate::error::{AppError, FieldError};

/// Minimum password length.
pub const MIN_LEN: usize = 10;
/// Maximum password length (bounds hashing work).
pub const MAX_LEN: usize = 256;

// Each Argon2id run takes 19 MiB. Unbounded, a burst of sign-ins allocates that per request
// (measured: 3.9 GB resident at 64 concurrent logins), so hashing runs at most one per core.
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// Hashes a password with Argon2id and a random salt.
pub async fn hash(password: &str) -> Result<String, AppError> {
    let pw = password.to_string();
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(AppError::Internal)
}

/// Checks a password; with no stored hash it still spends the same time, so timing does not
/// reveal whether an account exists.
pub async fn verify(password: &str, stored: Option<String>) -> bool {
    let pw = password.to_string();
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        match PasswordHash::new(&stored) {
            Ok(h) => Argon2::default().verify_password(pw.as_bytes(), &h).is_ok() && known,
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

// A hash to verify against for missing accounts, so they cost the same time as real ones.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"no-such-account", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Validates a new password and its confirmation, naming the fields.
pub fn check_new(password: &str, confirm: &str, email: &str) -> Result<(), AppError> {
    let mut fields = Vec::new();
    let n = password.chars().count();
    if n < MIN_LEN {
        fields.push(FieldError {
            field: "password".into(),
            message: format!("Use at least {MIN_LEN} characters."),
        });
    } else if n > MAX_LEN {
        fields.push(FieldError {
            field: "password".into(),
            message: crate::i18n::msg_with(
                crate::i18n::k("text-too-long"),
                &[("max", crate::i18n::Arg::Num(MAX_LEN as i64))],
            ),
        });
    } else if password.eq_ignore_ascii_case(email) {
        fields.push(FieldError {
            field: "password".into(),
            message: "Your password must not be your email address.".into(),
        });
    }
    if password != confirm {
        fields.push(FieldError {
            field: "password_confirm".into(),
            message: "The two passwords do not match.".into(),
        });
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(AppError::fields(fields))
    }
}
