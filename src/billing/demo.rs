//! Demo subscriptions for Globex and Initech (monthly and annual, one paused), in the tenant's
//! billing currency. Billing dates count from today so they are always upcoming. Inserts
//! nothing when the tenant has subscriptions already or lacks those companies (Northwind).

use super::{Checked, Cycle, SubStatus};
use crate::db::{Db, Row};
use crate::tenancy::TenantScope;

/// (company, name, quantity in thousandths, unit price in cents, cycle, days ahead, status, PSA id)
type DemoSub = (
    &'static str,
    &'static str,
    i64,
    i64,
    Cycle,
    u64,
    SubStatus,
    &'static str,
);

const SUBS: &[DemoSub] = &[
    (
        "Globex",
        "Managed workstation support",
        24_000,
        4_500,
        Cycle::Monthly,
        12,
        SubStatus::Active,
        "PSA-AGR-GLO-1",
    ),
    (
        "Globex",
        "Microsoft 365 Business Premium",
        24_000,
        2_200,
        Cycle::Monthly,
        12,
        SubStatus::Active,
        "PSA-AGR-GLO-2",
    ),
    (
        "Globex",
        "Firewall security licence",
        1_000,
        119_900,
        Cycle::Annual,
        47,
        SubStatus::Active,
        "PSA-AGR-GLO-3",
    ),
    (
        "Globex",
        "Cloud backup storage (TB)",
        1_500,
        8_000,
        Cycle::Monthly,
        5,
        SubStatus::Paused,
        "PSA-AGR-GLO-4",
    ),
    (
        "Initech",
        "Managed server monitoring",
        6_000,
        9_500,
        Cycle::Monthly,
        20,
        SubStatus::Active,
        "PSA-AGR-INI-1",
    ),
    (
        "Initech",
        "Offsite backup (annual plan)",
        1_000,
        240_000,
        Cycle::Annual,
        150,
        SubStatus::Active,
        "PSA-AGR-INI-2",
    ),
];

/// Seeds the demo subscriptions of `scope`.
pub async fn seed(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let tenant = scope.tenant_id().as_str();
    let any = sqlx::query("SELECT id FROM subscriptions WHERE tenant_id = $1 LIMIT 1")
        .bind(tenant)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    if any.is_some() {
        return Ok(());
    }
    let today = chrono::Utc::now().date_naive();
    let mut tx = db.tenant(scope).begin().await?;
    let currency = crate::invoices::store::settings_in(&mut tx).await?.currency;
    for (company, name, q, price, cycle, days, status, external) in SUBS {
        let Some(row) = sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND name = $2")
            .bind(tenant)
            .bind(*company)
            .fetch_optional(tx.conn())
            .await?
        else {
            continue;
        };
        let company_id: String = row.try_get("id")?;
        let next = today + chrono::Days::new(*days);
        super::store::create(
            &mut tx,
            &company_id,
            &currency,
            &Checked {
                name: (*name).into(),
                quantity_milli: *q,
                unit_price: *price,
                cycle: *cycle,
                next_billing_date: next.format("%Y-%m-%d").to_string(),
                status: *status,
                external_id: Some((*external).into()),
            },
            None,
        )
        .await?;
    }
    // Globex keeps a card at the provider (its customer is stored; the card itself lives at
    // the provider) with autopay off; Initech has none.
    if let Some(row) =
        sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND name = 'Globex'")
            .bind(scope.tenant_id().as_str())
            .fetch_optional(tx.conn())
            .await?
    {
        let company_id: String = row.try_get("id")?;
        sqlx::query(
            "INSERT INTO billing_accounts (tenant_id, company_id, customer_id, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, company_id) DO NOTHING",
        )
        .bind(scope.tenant_id().as_str())
        .bind(&company_id)
        .bind(DEMO_GLOBEX_CUSTOMER)
        .bind(crate::db::now_ms())
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The provider customer of Globex in the demo (a test-mode customer with one saved Visa).
pub const DEMO_GLOBEX_CUSTOMER: &str = "cus_demo_globex";
