//! Outgoing email: SMTP when configured, otherwise `.eml` files under `data_dir/mail`.

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::i18n::{Locale, Translator};
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
    /// Where a reply goes (a ticket's inbound address), when replies are read.
    pub reply_to: Option<&'a str>,
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

    /// Sends a branded message from `from`; `base_url` makes the tenant's uploaded logo an
    /// absolute address.
    pub async fn send(
        &self,
        from: &str,
        base_url: &str,
        tenant: &Tenant,
        email: Email<'_>,
    ) -> anyhow::Result<()> {
        self.send_with(from, base_url, tenant, email, &[]).await
    }

    /// Like [`Mailer::send`], with files attached (a giving statement).
    pub async fn send_with(
        &self,
        from: &str,
        base_url: &str,
        tenant: &Tenant,
        email: Email<'_>,
        attachments: &[Attachment],
    ) -> anyhow::Result<()> {
        let from: Mailbox = from.parse()?;
        let from = Mailbox::new(Some(tenant.branding.portal_name.clone()), from.email);
        let m = compose(tenant, &email, base_url)?;
        let mut builder = Message::builder().from(from).to(email.to.parse()?);
        if let Some(r) = email.reply_to {
            builder = builder.reply_to(r.parse()?);
        }
        let body = MultiPart::alternative_plain_html(m.text, m.html);
        let msg = if attachments.is_empty() {
            builder.subject(m.subject).multipart(body)?
        } else {
            let mut mixed = MultiPart::mixed().multipart(body);
            for a in attachments {
                let kind = lettre::message::header::ContentType::parse(&a.content_type)?;
                mixed = mixed.singlepart(
                    lettre::message::Attachment::new(a.filename.clone())
                        .body(a.bytes.clone(), kind),
                );
            }
            builder.subject(m.subject).multipart(mixed)?
        };
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

/// A file attached to a message.
#[derive(Clone, Debug)]
pub struct Attachment {
    /// File name shown to the recipient.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// A message as it is sent: subject, plain-text part and the equivalent HTML part.
#[derive(Clone, Debug)]
pub struct Composed {
    /// Subject, prefixed with the portal name.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

#[derive(askama::Template)]
#[template(path = "mail/templates/email.html")]
struct HtmlPart<'a> {
    lang: &'a str,
    subject: &'a str,
    portal_name: &'a str,
    logo_url: Option<String>,
    primary: &'a str,
    on_primary: &'a str,
    link: &'a str,
    lines: &'a [String],
    action: Option<(&'a str, &'a str)>,
    support_email: Option<&'a str>,
    help: String,
    reason: String,
}

/// An image address usable from a mail client: uploaded assets (site paths) become absolute
/// under `base_url`; anything else is an https address already.
pub fn absolute(base_url: &str, url: &str) -> String {
    if url.starts_with('/') {
        format!("{}{url}", base_url.trim_end_matches('/'))
    } else {
        url.to_string()
    }
}

/// Renders a message in the tenant's branding: its logo (or name), colours and a footer with
/// the portal name, support address and why the recipient got it, as HTML and as plain text.
pub fn compose(tenant: &Tenant, email: &Email<'_>, base_url: &str) -> anyhow::Result<Composed> {
    use askama::Template;
    let t = Translator::new(Locale::from_tag(email.lang).unwrap_or_default());
    let b = &tenant.branding;
    let colours = crate::branding::email_colours(tenant);
    let subject = format!("{}: {}", b.portal_name, email.subject);
    let help = t.get("email-footer-help");
    let reason = t.arg("email-footer-reason", "portal", &b.portal_name);
    let mut text = format!("{}\n\n{}", b.portal_name, email.lines.join("\n\n"));
    if let Some((url, label)) = email.action {
        text.push_str(&format!("\n\n{label}: {url}"));
    }
    text.push_str(&format!("\n\n-- \n{}", b.portal_name));
    if let Some(s) = &b.support_email {
        text.push_str(&format!("\n{help} {s}"));
    }
    text.push_str(&format!("\n{reason}\n"));
    let html = HtmlPart {
        lang: email.lang,
        subject: &subject,
        portal_name: &b.portal_name,
        logo_url: b.logo_url.as_deref().map(|u| absolute(base_url, u)),
        primary: &colours.primary,
        on_primary: colours.on_primary,
        link: &colours.link,
        lines: &email.lines,
        action: email.action,
        support_email: b.support_email.as_deref(),
        help,
        reason,
    }
    .render()?;
    Ok(Composed {
        subject,
        text,
        html,
    })
}
