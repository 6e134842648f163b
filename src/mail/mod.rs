//! Outgoing email: SMTP when configured, otherwise `.eml` files under `data_dir/mail`.

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::tenancy::Tenant;

/// Where mail goes.
pub enum Mailer {
    /// Writes each message as an `.eml` file into a directory.
    Files(AsyncFileTransport<Tokio1Executor>, std::path::PathBuf),
    /// Sends through an SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// A message to send on behalf of a tenant.
pub struct Email<'a> {
    /// Recipient address.
    pub to: &'a str,
    /// Subject (the portal name is prefixed).
    pub subject: &'a str,
    /// Plain-text lines.
    pub lines: Vec<String>,
    /// Optional call-to-action link and its label.
    pub action: Option<(&'a str, &'a str)>,
    /// Language of the text (BCP 47), marked on the HTML part for screen readers.
    pub lang: &'a str,
}

impl Mailer {
    /// Builds the transport from configuration.
    pub fn from_config(config: &Config) -> anyhow::Result<Mailer> {
        if let Some(url) = &config.smtp_url {
            // lettre reads plain `smtp://` as "never encrypt": credentials would travel in clear.
            if url.starts_with("smtp://") && url.contains('@') && !url.contains("tls=") {
                tracing::warn!(
                    "PORTICO_SMTP_URL has credentials but no TLS; add ?tls=required or use smtps://"
                );
            }
            let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| anyhow::anyhow!("PORTICO_SMTP_URL: {e}"))?
                .build();
            return Ok(Mailer::Smtp(t));
        }
        let dir = config.data_dir.join("mail");
        std::fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        Ok(Mailer::Files(AsyncFileTransport::new(&dir), dir))
    }

    /// Sends a branded message from `from`.
    pub async fn send(&self, from: &str, tenant: &Tenant, email: Email<'_>) -> anyhow::Result<()> {
        let from: Mailbox = from.parse()?;
        let from = Mailbox::new(Some(tenant.branding.portal_name.clone()), from.email);
        let (primary, _) = crate::branding::colors(tenant);
        let mut text = email.lines.join("\n\n");
        let mut html = String::new();
        for l in &email.lines {
            html.push_str(&format!("<p>{}</p>", escape(l)));
        }
        if let Some((url, label)) = email.action {
            text.push_str(&format!("\n\n{label}: {url}"));
            html.push_str(&format!(
                "<p><a href=\"{}\" style=\"display:inline-block;background:{primary};color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none\">{}</a></p><p style=\"color:#666;font-size:12px\">{}</p>",
                escape(url),
                escape(label),
                escape(url)
            ));
        }
        let name = escape(&tenant.branding.portal_name);
        let html = format!(
            "<div lang=\"{}\" style=\"font-family:sans-serif;max-width:560px\"><h2 style=\"color:{primary}\">{name}</h2>{html}</div>",
            escape(email.lang)
        );
        let msg = Message::builder()
            .from(from)
            .to(email.to.parse()?)
            .subject(format!(
                "{}: {}",
                tenant.branding.portal_name, email.subject
            ))
            .multipart(MultiPart::alternative_plain_html(text, html))?;
        match self {
            Mailer::Files(t, _) => {
                t.send(msg).await?;
            }
            Mailer::Smtp(t) => {
                t.send(msg).await?;
            }
        }
        Ok(())
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
