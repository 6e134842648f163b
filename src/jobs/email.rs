//! The email outbox: requests enqueue a message, a worker sends it with retries.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Job, JobError, JobKind};
use crate::i18n::{Locale, Translator};
use crate::mail::Email;
use crate::state::AppState;
use crate::tenancy::TenantId;

/// Payload of an `email` job.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EmailJob {
    /// Recipient address.
    pub to: String,
    /// Subject (the portal name is prefixed when sent).
    pub subject: String,
    /// Plain-text paragraphs.
    pub lines: Vec<String>,
    /// Call-to-action link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_url: Option<String>,
    /// Label of the call-to-action button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_label: Option<String>,
    /// Language the text was written in (the recipient's); English when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Reply-To address (a ticket's signed inbound address), when replies by email are on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

impl JobKind for EmailJob {
    const KIND: &'static str = "email";

    /// Sends one queued email.
    async fn run(self, app: &AppState, job: &Job) -> Result<(), JobError> {
        let email = self;
        if email.to.parse::<lettre::Address>().is_err() {
            return Err(JobError::permanent(format!(
                "'{}' is not an email address",
                email.to
            )));
        }
        let tenant_id = job
            .tenant_id
            .clone()
            .ok_or_else(|| JobError::permanent("the email job names no tenant"))?;
        let tenant = crate::tenancy::store::by_id(&app.db, &TenantId(tenant_id))
            .await
            .map_err(JobError::retry)?
            .ok_or_else(|| JobError::permanent("the tenant no longer exists"))?;
        let t = Translator::new(
            email
                .lang
                .as_deref()
                .and_then(Locale::from_tag)
                .unwrap_or_default(),
        );
        let open = t.get("email-open");
        let action = match (&email.action_url, &email.action_label) {
            (Some(u), Some(l)) => Some((u.as_str(), l.as_str())),
            (Some(u), None) => Some((u.as_str(), open.as_str())),
            _ => None,
        };
        app.mailer
            .send(
                &app.config.mail_from,
                &app.config.base_url,
                &tenant,
                Email {
                    to: &email.to,
                    subject: &email.subject,
                    lines: email.lines.clone(),
                    action,
                    lang: t.lang(),
                    reply_to: email.reply_to.as_deref(),
                },
            )
            .await
            .map_err(|e| JobError::Retry(e.context(format!("sending to {}", email.to))))
    }
}

/// The payload without its link (which may hold a one-time token).
pub(super) fn redact(payload: &Value) -> Value {
    let mut p = payload.clone();
    if let Some(o) = p.as_object_mut()
        && o.contains_key("action_url")
    {
        o.insert("action_url".into(), Value::String("(sent)".into()));
    }
    p
}

/// "Subject → recipient" for the staff list.
pub(super) fn summary(payload: &Value) -> String {
    let to = payload["to"].as_str().unwrap_or("?");
    let subject = payload["subject"].as_str().unwrap_or("");
    format!("{subject} → {to}")
}
