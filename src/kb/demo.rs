//! Demo articles for the acme tenant: an MSP's self-help library in several categories, a few
//! public, one for Globex only, one draft. Inserts only what is missing.

use super::{ArticleInput, Visibility, store};
use crate::db::{Db, Row};
use crate::tenancy::TenantScope;

/// `(title, category, tags, visibility, body)`.
const ARTICLES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "Connect to the office VPN",
        "Remote work",
        "vpn, remote, globalprotect",
        "public",
        "## Before you start\n\nYou need your portal email and password and the **GlobalProtect** app.\n\n1. Open GlobalProtect from the system tray.\n2. Enter `vpn.acme-it.example` as the portal address.\n3. Sign in and approve the prompt on your phone.\n\nThe icon turns blue when you are connected. If it keeps spinning, restart the app and try again.",
    ),
    (
        "Reset your password",
        "Accounts",
        "password, login, mfa",
        "public",
        "Use **Forgot password** on the sign-in page. We email a link that works once, within an hour.\n\n- Choose at least 12 characters.\n- Do not reuse a password from another site.\n\nStill locked out? Raise a ticket or call the service desk.",
    ),
    (
        "Set up two-step sign-in",
        "Accounts",
        "mfa, authenticator, security",
        "public",
        "Two-step sign-in protects your account even if your password leaks.\n\n1. Install Microsoft Authenticator or any TOTP app.\n2. Go to **Profile → Security** and choose *Set up*.\n3. Scan the QR code and enter the six-digit code.\n\nKeep your recovery codes somewhere safe.",
    ),
    (
        "Outlook keeps asking for my password",
        "Email",
        "outlook, password, credentials",
        "clients",
        "This usually means cached credentials are stale after a password change.\n\n1. Close Outlook.\n2. Open **Credential Manager** and remove entries starting with `MicrosoftOffice`.\n3. Start Outlook and sign in once.\n\nIf the prompt returns within a day, raise a ticket and mention this article.",
    ),
    (
        "Add a shared mailbox in Outlook",
        "Email",
        "outlook, shared mailbox",
        "clients",
        "Shared mailboxes you have access to appear automatically within an hour.\n\nIf not: **File → Account settings → Change → More settings → Advanced → Add** and type the mailbox name.",
    ),
    (
        "Set an out-of-office reply",
        "Email",
        "outlook, autoreply, vacation",
        "public",
        "In Outlook choose **File → Automatic replies**. Set the dates, write one message for colleagues and one for external senders, and press OK.\n\nOn the web: **Settings → Mail → Automatic replies**.",
    ),
    (
        "Email arrives in Junk",
        "Email",
        "spam, junk, quarantine",
        "clients",
        "Mark the message **Not junk** so Outlook learns. For messages held in quarantine you receive a daily digest; choose *Release* for anything you expected.",
    ),
    (
        "Printer shows offline",
        "Hardware",
        "printer, offline, network",
        "clients",
        "1. Check the printer's display for errors or paper jams.\n2. Turn it off and on again.\n3. On your PC remove the printer and add it again from **Settings → Printers**.\n\n| Model | Address |\n|---|---|\n| Floor 2 HP | `10.0.2.40` |\n| Floor 3 Canon | `10.0.3.40` |",
    ),
    (
        "Clear a paper jam",
        "Hardware",
        "printer, jam",
        "clients",
        "Open every door the display points to and pull paper out **in the direction it travels**. Never use tools. Close the doors firmly; the printer resumes by itself.",
    ),
    (
        "Laptop battery drains quickly",
        "Hardware",
        "battery, laptop, power",
        "clients",
        "Lower the screen brightness, close browser tabs you do not need and choose the *Balanced* power mode. A battery older than three years may need replacing: raise a ticket and we check its health.",
    ),
    (
        "Request a new laptop",
        "Hardware",
        "laptop, purchase, onboarding",
        "clients",
        "Raise a ticket in the **Hardware** category with the user's name, start date and role. Standard laptops ship within five working days.",
    ),
    (
        "Share a file with someone outside the company",
        "Files",
        "onedrive, sharing, external",
        "clients",
        "In OneDrive or SharePoint select the file, choose **Share**, and enter the person's email. Links for external people expire after 30 days.",
    ),
    (
        "Restore a deleted file",
        "Files",
        "onedrive, recycle bin, restore",
        "public",
        "Open OneDrive on the web and choose **Recycle bin**. Select the file and press **Restore**. Files stay there for 93 days.",
    ),
    (
        "Map the shared drive",
        "Files",
        "network drive, s drive",
        "clients",
        "Open File Explorer, choose **This PC → Map network drive**, pick `S:` and enter `\\\\files\\shared`. Tick *Reconnect at sign-in*.",
    ),
    (
        "Join a Teams meeting from a phone",
        "Collaboration",
        "teams, meetings, mobile",
        "public",
        "Install Microsoft Teams from the app store, open the invitation and tap **Join**. No account? Choose *Join as a guest* and type your name.",
    ),
    (
        "Teams notifications do not show",
        "Collaboration",
        "teams, notifications",
        "clients",
        "In Teams go to **Settings → Notifications** and choose *Banner*. On Windows also check **Focus assist** is off.",
    ),
    (
        "Spot a phishing email",
        "Security",
        "phishing, scam, security",
        "clients",
        "Warning signs:\n\n- urgency (\"your account closes today\")\n- a sender address that does not match the name\n- links whose address differs when you hover\n\nUse **Report message** in Outlook. Never enter your password after clicking a link in an email.",
    ),
    (
        "What to do if you clicked a suspicious link",
        "Security",
        "phishing, incident, password",
        "clients",
        "Do not wait: **change your password now**, then call the service desk so we can check your sign-ins. Reporting quickly is what matters; nobody will blame you.",
    ),
    (
        "Globex: badge reader at the warehouse door",
        "Facilities",
        "badge, door, globex",
        "companies",
        "The warehouse reader accepts the blue Globex badges only. If yours is refused, hold it flat for two seconds. New badges are issued by reception on floor 1.",
    ),
    (
        "Windows 11 upgrade plan (draft)",
        "Remote work",
        "windows 11, upgrade",
        "draft",
        "Draft: schedule per company, checklist and rollback plan.",
    ),
];

/// Inserts the demo articles missing from the tenant.
pub async fn seed(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let globex: Option<String> =
        sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND name = $2")
            .bind(scope.tenant_id().as_str())
            .bind("Globex")
            .fetch_optional(db.tenant(scope).reader())
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?;
    for (title, category, tags, vis, body) in ARTICLES {
        let slug = super::slugify(title);
        let mut tx = db.tenant(scope).begin().await?;
        if store::slug_taken(&mut tx, &slug, "").await? {
            continue;
        }
        let (visibility, companies, published) = match *vis {
            "public" => (Visibility::Public, vec![], true),
            "companies" => match &globex {
                Some(g) => (Visibility::Companies, vec![g.clone()], true),
                None => continue,
            },
            "draft" => (Visibility::Clients, vec![], false),
            _ => (Visibility::Clients, vec![], true),
        };
        let input = ArticleInput {
            title: title.to_string(),
            category: category.to_string(),
            tags: super::normalise_tags(tags),
            body: body.to_string(),
            visibility,
            companies,
            published,
        };
        store::insert(&mut tx, &input, &slug, "").await?;
        tx.commit().await?;
    }
    Ok(())
}
