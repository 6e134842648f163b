//! Demo policies for the acme tenant: an acceptable-use policy Alice has signed and Bob and
//! Vera still have to, and an overdue data-protection policy for all of Globex. Inserts only
//! what is missing, so every start shows the same picture.

use super::store::{self, NewPolicy, Seen, Signing};
use super::{DAY_MS, Step, content_hash};
use crate::db::{Db, DbResult, Row, now_ms};
use crate::tenancy::TenantScope;

const AUP_BODY: &str = "## 1. Purpose\n\nThis policy explains how Globex staff may use the computers, accounts and networks \
that Acme Managed IT looks after for Globex.\n\n## 2. Accounts and passwords\n\n- Keep your password to yourself; \
Acme staff will never ask for it.\n- Use the company password manager and turn on two-step sign-in.\n- Lock your screen \
when you leave your desk.\n\n## 3. Email and the web\n\n- Report suspicious email with the *Report phishing* button.\n- \
Do not install software that the service desk has not approved.\n\n## 4. Devices\n\n- Laptops must stay encrypted and \
up to date.\n- Report a lost or stolen device to the service desk within one hour.\n\n## 5. Monitoring\n\nSecurity \
tools record sign-ins and malware alerts to protect Globex data. They do not read the content of your email.\n\n## 6. \
Breaches\n\nBreaking this policy may lead to your access being suspended while the matter is reviewed.";

const DPA_BODY: &str = "## Handling client data\n\nGlobex holds personal data about its customers. Everyone who \
can reach that data must:\n\n1. keep it only in the approved systems (the CRM and the shared drive);\n2. never send it \
to personal email accounts or storage;\n3. share it with a third party only under a signed agreement;\n4. delete \
exports when the task they were made for is done.\n\n## Retention\n\nCustomer records are kept for six years after \
the last order, then deleted.\n\n## Questions\n\nRaise a ticket in the portal under *Security* if you are unsure.";

/// Seeds the demo policies unless they exist.
pub async fn seed(db: &Db, scope: &TenantScope) -> DbResult<()> {
    super::shared_demo::seed(db, scope).await?;
    let t = db.tenant(scope);
    let have = sqlx::query(
        "SELECT COUNT(*) FROM doc_policies WHERE tenant_id = $1 AND external_id LIKE 'demo-%'",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_one(t.reader())
    .await?
    .try_get::<i64, _>(0)?;
    if have > 0 {
        return Ok(());
    }
    let globex: Option<String> =
        sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND name = 'Globex'")
            .bind(scope.tenant_id().as_str())
            .fetch_optional(t.reader())
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?;
    let Some(globex) = globex else {
        return Ok(());
    };
    let now = now_ms();
    let mut tx = t.begin().await?;
    let aup = store::insert_policy(
        &mut tx,
        &NewPolicy {
            title: "Acceptable Use Policy",
            body: AUP_BODY,
            version: "2026.1",
            due_at: Some(now + 10 * DAY_MS),
            reminder_days: &[7, 1],
            include_future: true,
            external_id: Some("demo-aup"),
            callback_url: None,
            supersedes_id: None,
            created_by: None,
        },
        now - 6 * DAY_MS,
    )
    .await?;
    let dpa = store::insert_policy(
        &mut tx,
        &NewPolicy {
            title: "Client Data Protection Standard",
            body: DPA_BODY,
            version: "1.2",
            due_at: Some(now - 3 * DAY_MS),
            reminder_days: &[3],
            include_future: false,
            external_id: Some("demo-dpa"),
            callback_url: None,
            supersedes_id: None,
            created_by: None,
        },
        now - 20 * DAY_MS,
    )
    .await?;
    for p in [&aup, &dpa] {
        store::add_company(&mut tx, p, &globex).await?;
        for u in store::company_users(&mut tx, &globex).await? {
            store::add_request(&mut tx, p, &u, now - 6 * DAY_MS).await?;
        }
    }
    // Alice signed the acceptable-use policy two days ago, one step after the other.
    let alice = sqlx::query(
        "SELECT s.id, u.id AS user_id, u.name, u.email FROM doc_signatures s JOIN users u ON u.tenant_id = s.tenant_id \
         AND u.id = s.user_id WHERE s.tenant_id = $1 AND s.policy_id = $2 AND u.email = 'alice@globex.example'",
    )
    .bind(scope.tenant_id().as_str())
    .bind(&aup)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(r) = alice {
        let (id, user, name, email): (String, String, String, String) = (
            r.try_get("id")?,
            r.try_get("user_id")?,
            r.try_get("name")?,
            r.try_get("email")?,
        );
        let at = now - 2 * DAY_MS;
        let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        let seen = |ms: i64| Seen {
            at: at + ms,
            ip: "203.0.113.24",
            ua,
        };
        store::advance(&mut tx, &id, &user, Step::Pending, Step::Read, &seen(0)).await?;
        store::advance(
            &mut tx,
            &id,
            &user,
            Step::Read,
            Step::Acknowledged,
            &seen(41_000),
        )
        .await?;
        let hash = content_hash("Acceptable Use Policy", "2026.1", AUP_BODY);
        store::sign(
            &mut tx,
            &id,
            &user,
            &seen(58_000),
            &Signing {
                typed_name: &name,
                signer_name: &name,
                signer_email: &email,
                version: "2026.1",
                content_hash: &hash,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
