//! The activity log in words: "Alice Admin changed Bob User's role from User to Company admin",
//! with the object named and linked. Pages use it; the CSV export keeps the raw codes.

use askama::filters::Safe;
use serde_json::Value;

use super::AuditRow;
use crate::auth::Role;
use crate::i18n::{Arg, Translator, key_for};

/// Stands in for the object in the formatted sentence, so its link can be put in after the
/// text is escaped (a private-use character no message or name contains).
const OBJECT: &str = "\u{E000}";

/// The catalog key of an action's sentence (`user.role_changed` → `audit-say-user-role-changed`).
pub fn key_of(action: &str) -> String {
    format!("audit-say-{}", action.replace(['.', '_'], "-"))
}

impl AuditRow {
    /// The entry as one sentence in the viewer's language, its object linked where the viewer
    /// has a page for it (`staff` picks admin or portal links).
    pub fn sentence(&self, t: &Translator, staff: bool) -> Safe<String> {
        let detail: Value = serde_json::from_str(&self.detail).unwrap_or(Value::Null);
        let text = |k: &str| detail.get(k).and_then(Value::as_str).map(str::to_string);
        let actor = self
            .actor_name
            .clone()
            .or_else(|| self.actor_email.as_deref().map(|e| t.msg(e)))
            .unwrap_or_else(|| t.get("audit-system"));
        let number = detail.get("number").and_then(Value::as_i64);
        let object = match (self.target_type.as_deref(), number) {
            (Some("ticket"), Some(n)) => Some(format!("#{n}")),
            _ => self
                .target_name
                .clone()
                .or_else(|| text("email"))
                .or_else(|| text("name")),
        };
        let link = match (self.target_type.as_deref(), number, staff) {
            (Some("ticket"), Some(n), true) => Some(format!("/admin/tickets/{n}")),
            (Some("ticket"), Some(n), false) => Some(format!("/portal/tickets/{n}")),
            (Some("user"), _, true) => Some("/admin/users".to_string()),
            (Some("user"), _, false) => Some("/portal/team".to_string()),
            (Some("company"), _, true) => Some("/admin/companies".to_string()),
            _ => None,
        };
        // `from`/`to` are role keys, statuses or plain values depending on the action.
        let value = |k: &str| -> Arg {
            let raw = text(k).unwrap_or_default();
            if self.action.ends_with("role_changed") {
                if let Some(r) = Role::from_key(&raw) {
                    return Arg::key(&key_for("role", r.label()));
                }
            } else if self.action.ends_with("status_changed")
                && let Some(s) = crate::tickets::Status::parse(&raw)
            {
                return Arg::key(s.label_key_for(staff));
            }
            Arg::Str(raw)
        };
        let role = text("role")
            .and_then(|r| Role::from_key(&r))
            .map(|r| Arg::key(&key_for("role", r.label())))
            .unwrap_or(Arg::Str(String::new()));
        let args = [
            ("actor", Arg::Str(actor)),
            ("object", Arg::Str(OBJECT.into())),
            ("from", value("from")),
            ("to", value("to")),
            ("role", role),
            ("subject", Arg::Str(text("subject").unwrap_or_default())),
            ("action", Arg::Str(self.action.clone())),
        ];
        let key = key_of(&self.action);
        let key = if t.has(&key) {
            key
        } else {
            "audit-say-other".into()
        };
        let sentence = escape(&t.args(&key, &args));
        let named = match (object, link) {
            (Some(name), Some(href)) => {
                format!("<a href=\"{}\">{}</a>", escape(&href), escape(&name))
            }
            (Some(name), None) => format!("<strong>{}</strong>", escape(&name)),
            (None, _) => t.get("audit-object-unknown"),
        };
        Safe(sentence.replace(OBJECT, &named))
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    fn row(action: &str, target: &str, detail: Value) -> AuditRow {
        AuditRow {
            seq: 1,
            at: 0,
            actor_email: Some("alice@globex.example".into()),
            company_id: None,
            action: action.into(),
            target_type: Some(target.into()),
            target_id: Some("u1".into()),
            ip: None,
            detail: detail.to_string(),
            actor_name: Some("Alice Admin".into()),
            target_name: Some("Bob <User>".into()),
        }
    }

    #[test]
    fn entries_read_as_sentences_with_their_object_linked() {
        let en = Translator::new(Locale::En);
        let r = row(
            "user.role_changed",
            "user",
            serde_json::json!({ "from": "client_user", "to": "client_admin" }),
        );
        assert_eq!(
            r.sentence(&en, false).0,
            "Alice Admin changed the role of <a href=\"/portal/team\">Bob &lt;User&gt;</a> from User to Company admin."
        );
        let r = row(
            "ticket.status_changed",
            "ticket",
            serde_json::json!({ "number": 1004, "from": "open", "to": "pending" }),
        );
        assert_eq!(
            r.sentence(&en, true).0,
            "Alice Admin moved <a href=\"/admin/tickets/1004\">#1004</a> from Open to Waiting on client."
        );
        // An action without a sentence of its own still reads, with its code.
        let r = row("x.unknown", "thing", Value::Null);
        assert!(
            r.sentence(&en, true)
                .0
                .starts_with("Alice Admin: x.unknown")
        );
    }
}
