//! The demo catalog of an MSP tenant: a dozen services in four categories with believable
//! forms and SLAs, one offered to Initech only, and the request behind the demo ticket "New
//! starter laptop for Monday". Inserts only what is missing (matched by name).

use serde_json::{Value, json};

use super::store::{self, ItemRow};
use super::{Answers, FieldKind, FormField, Hours};
use crate::db::{Db, Row, now_ms};
use crate::tenancy::TenantScope;

use FieldKind::*;

/// A demo question: key, label, kind, required, choices, help.
type Q = (
    &'static str,
    &'static str,
    FieldKind,
    bool,
    &'static [&'static str],
    &'static str,
);

struct DemoItem {
    category: &'static str,
    name: &'static str,
    icon: &'static str,
    description: &'static str,
    first: i64,
    resolution: i64,
    hours: Hours,
    price: Option<&'static str>,
    /// Only this company sees it.
    only: Option<&'static str>,
    form: &'static [Q],
}

const CATEGORIES: [&str; 4] = [
    "Accounts & Access",
    "Hardware",
    "Software",
    "Network & Security",
];

const ITEMS: &[DemoItem] = &[
    DemoItem {
        category: "Accounts & Access",
        name: "New user account",
        icon: "person",
        description: "Everything a new colleague needs on day one: a Microsoft 365 account, email, \
            and access to the shares and applications you tick below.\n\nTell us **at least two \
            business days** before the start date.",
        first: 240,
        resolution: 960,
        hours: Hours::Business,
        price: None,
        only: None,
        form: &[
            ("full_name", "Full name", ShortText, true, &[], ""),
            ("start_date", "Start date", Date, true, &[], ""),
            ("job_title", "Job title", ShortText, false, &[], ""),
            (
                "manager_email",
                "Manager's email",
                Email,
                true,
                &[],
                "We send the welcome pack here.",
            ),
            (
                "access",
                "Access needed",
                MultipleChoice,
                false,
                &["Email", "VPN", "Finance share", "CRM"],
                "",
            ),
            (
                "laptop",
                "Also needs a laptop",
                Checkbox,
                false,
                &[],
                "We will open a laptop request for you.",
            ),
        ],
    },
    DemoItem {
        category: "Accounts & Access",
        name: "Password or MFA reset",
        icon: "key",
        description: "Locked out, forgot a password or replaced your phone? We verify who you are \
            by phone before resetting anything.",
        first: 30,
        resolution: 240,
        hours: Hours::Always,
        price: None,
        only: None,
        form: &[
            (
                "account",
                "Which account?",
                SingleChoice,
                true,
                &["Microsoft 365", "VPN", "CRM", "Other"],
                "",
            ),
            (
                "phone",
                "Phone number we can call you on",
                ShortText,
                true,
                &[],
                "We call to confirm it is you.",
            ),
        ],
    },
    DemoItem {
        category: "Accounts & Access",
        name: "Leaver: close an account",
        icon: "person",
        description: "When someone leaves we block sign-in on their last day, keep their files and \
            forward their email if you wish.",
        first: 240,
        resolution: 480,
        hours: Hours::Business,
        price: None,
        only: None,
        form: &[
            ("person", "Who is leaving?", ShortText, true, &[], ""),
            ("last_day", "Last working day", Date, true, &[], ""),
            (
                "forward_to",
                "Forward their email to",
                Email,
                false,
                &[],
                "",
            ),
            (
                "keep_mailbox",
                "Keep the mailbox for 90 days",
                Checkbox,
                false,
                &[],
                "",
            ),
        ],
    },
    DemoItem {
        category: "Accounts & Access",
        name: "Initech ERP access",
        icon: "key",
        description: "Access to Initech's ERP system. Approver roles need the finance director's \
            consent, which we ask for.",
        first: 240,
        resolution: 960,
        hours: Hours::Business,
        price: None,
        only: Some("Initech"),
        form: &[
            ("user_email", "User's email", Email, true, &[], ""),
            (
                "role",
                "ERP role",
                SingleChoice,
                true,
                &["Viewer", "Clerk", "Approver"],
                "",
            ),
            (
                "cost_centre",
                "Cost centre",
                Number,
                true,
                &[],
                "The four-digit number on your payslip.",
            ),
            ("why", "Why is it needed?", LongText, false, &[], ""),
        ],
    },
    DemoItem {
        category: "Hardware",
        name: "New laptop",
        icon: "laptop",
        description: "A laptop with the standard setup (Windows 11, Microsoft 365, security agent), \
            enrolled and ready to sign in.\n\n- **Standard 14\"** for office work\n- **Performance \
            16\"** for design and data work",
        first: 240,
        resolution: 2400,
        hours: Hours::Business,
        price: Some("€1,190 (standard) or €1,890 (performance), setup included"),
        only: None,
        form: &[
            ("for_whom", "Who is it for?", ShortText, true, &[], ""),
            (
                "model",
                "Model",
                SingleChoice,
                true,
                &["Standard 14\"", "Performance 16\""],
                "",
            ),
            (
                "needed_by",
                "Needed by",
                Date,
                false,
                &[],
                "We need five business days.",
            ),
            (
                "accessories",
                "Accessories",
                MultipleChoice,
                false,
                &["Dock", "Headset", "Second monitor", "Backpack"],
                "",
            ),
        ],
    },
    DemoItem {
        category: "Hardware",
        name: "Monitor or accessory",
        icon: "monitor",
        description: "Monitors, keyboards, mice, headsets and webcams from our standard range, \
            delivered to the desk.",
        first: 480,
        resolution: 1440,
        hours: Hours::Business,
        price: Some("From €25 (mouse) to €320 (27\" monitor)"),
        only: None,
        form: &[
            (
                "item",
                "What do you need?",
                SingleChoice,
                true,
                &["27\" monitor", "Keyboard and mouse", "Headset", "Webcam"],
                "",
            ),
            ("quantity", "Quantity", Number, true, &[], ""),
            (
                "desk",
                "Deliver to (desk or room)",
                ShortText,
                false,
                &[],
                "",
            ),
        ],
    },
    DemoItem {
        category: "Hardware",
        name: "Printer problem",
        icon: "printer",
        description: "Jams, streaks, offline printers or empty toner. Tell us which printer (the \
            label on its front) and what happens.",
        first: 240,
        resolution: 960,
        hours: Hours::Business,
        price: None,
        only: None,
        form: &[
            (
                "printer",
                "Printer (label on the front)",
                ShortText,
                true,
                &[],
                "",
            ),
            (
                "problem",
                "What happens?",
                SingleChoice,
                true,
                &["Paper jam", "Poor print quality", "Offline", "Other"],
                "",
            ),
            ("details", "Details", LongText, false, &[], ""),
        ],
    },
    DemoItem {
        category: "Software",
        name: "Software installation",
        icon: "app",
        description: "Any software beyond the standard setup. We check the licence and its security \
            before installing.",
        first: 480,
        resolution: 1440,
        hours: Hours::Business,
        price: Some("Depends on the licence: we quote before buying"),
        only: None,
        form: &[
            (
                "software",
                "Software name and version",
                ShortText,
                true,
                &[],
                "",
            ),
            (
                "licence",
                "Do you have a licence?",
                SingleChoice,
                true,
                &["Yes", "No, please quote", "Not sure"],
                "",
            ),
            (
                "computer",
                "Computer name",
                ShortText,
                false,
                &[],
                "On the sticker under the laptop, e.g. GLX-LT-042.",
            ),
            ("why", "What is it for?", LongText, false, &[], ""),
        ],
    },
    DemoItem {
        category: "Software",
        name: "Microsoft 365 licence",
        icon: "cloud",
        description: "Add or change a Microsoft 365 licence. Changes show on your next invoice.",
        first: 240,
        resolution: 480,
        hours: Hours::Business,
        price: Some("From €5.60 per user per month"),
        only: None,
        form: &[
            ("user_email", "User's email", Email, true, &[], ""),
            (
                "plan",
                "Licence",
                SingleChoice,
                true,
                &["Business Basic", "Business Standard", "Business Premium"],
                "",
            ),
            ("from", "From", Date, false, &[], ""),
        ],
    },
    DemoItem {
        category: "Software",
        name: "Shared mailbox",
        icon: "mail",
        description: "A mailbox a team shares, such as sales@ or support@, with the members you name.",
        first: 480,
        resolution: 960,
        hours: Hours::Business,
        price: None,
        only: None,
        form: &[
            ("name", "Mailbox name", ShortText, true, &[], ""),
            ("address", "Address wanted", Email, true, &[], ""),
            ("members", "Members (one per line)", LongText, true, &[], ""),
        ],
    },
    DemoItem {
        category: "Network & Security",
        name: "VPN access",
        icon: "network",
        description: "Secure access to the office network from home or on the road.",
        first: 240,
        resolution: 480,
        hours: Hours::Business,
        price: None,
        only: None,
        form: &[
            ("user_email", "User's email", Email, true, &[], ""),
            (
                "device",
                "Device",
                SingleChoice,
                true,
                &["Company laptop", "Personal device"],
                "",
            ),
            (
                "policy",
                "I have read the acceptable use policy",
                Checkbox,
                true,
                &[],
                "",
            ),
        ],
    },
    DemoItem {
        category: "Network & Security",
        name: "Firewall change",
        icon: "shield",
        description: "Open a port, allow a new service or block a site. We review every change \
            for risk before making it.",
        first: 480,
        resolution: 1440,
        hours: Hours::Business,
        price: None,
        only: None,
        form: &[
            ("change", "What needs to change?", LongText, true, &[], ""),
            ("needed_by", "Needed by", Date, false, &[], ""),
            (
                "approved",
                "My manager approved this change",
                Checkbox,
                true,
                &[],
                "",
            ),
        ],
    },
    DemoItem {
        category: "Network & Security",
        name: "Report a security incident",
        icon: "shield",
        description: "A suspicious email you clicked, a lost laptop, or anything that looks like an \
            attack. **Report it at once**, even at night: our on-call engineer answers.",
        first: 15,
        resolution: 1440,
        hours: Hours::Always,
        price: None,
        only: None,
        form: &[
            ("what", "What happened?", LongText, true, &[], ""),
            ("when", "When did it happen?", Date, true, &[], ""),
            (
                "systems",
                "What is affected?",
                MultipleChoice,
                false,
                &["Email", "Laptop", "Phone", "Server", "Other"],
                "",
            ),
            (
                "phone",
                "Phone number we can call you on",
                ShortText,
                true,
                &[],
                "",
            ),
        ],
    },
];

fn fields_of(form: &[Q]) -> Vec<FormField> {
    form.iter()
        .map(|(key, label, kind, required, choices, help)| FormField {
            key: (*key).into(),
            label: (*label).into(),
            kind: *kind,
            help: (*help).into(),
            required: *required,
            choices: choices.iter().map(|c| (*c).to_string()).collect(),
        })
        .collect()
}

async fn id_by_name(
    db: &Db,
    scope: &TenantScope,
    table: &str,
    name: &str,
) -> anyhow::Result<Option<String>> {
    let sql = match table {
        "catalog_categories" => {
            "SELECT id FROM catalog_categories WHERE tenant_id = $1 AND name = $2"
        }
        "companies" => "SELECT id FROM companies WHERE tenant_id = $1 AND name = $2",
        _ => "SELECT id FROM catalog_items WHERE tenant_id = $1 AND name = $2",
    };
    let row = sqlx::query(sql)
        .bind(scope.tenant_id().as_str())
        .bind(name)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

/// Creates the demo catalog pieces that do not exist yet.
pub async fn seed(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    for name in CATEGORIES {
        if id_by_name(db, scope, "catalog_categories", name)
            .await?
            .is_none()
        {
            let mut tx = db.tenant(scope).begin().await?;
            store::insert_category(&mut tx, name).await?;
            tx.commit().await?;
        }
    }
    for d in ITEMS {
        if id_by_name(db, scope, "catalog_items", d.name)
            .await?
            .is_some()
        {
            continue;
        }
        let Some(category) = id_by_name(db, scope, "catalog_categories", d.category).await? else {
            continue;
        };
        let companies = match d.only {
            Some(c) => match id_by_name(db, scope, "companies", c).await? {
                Some(id) => vec![id],
                // The company is not there: leave the restricted item out rather than show it to all.
                None => continue,
            },
            None => Vec::new(),
        };
        let html = crate::tickets::render_markdown(d.description);
        let mut tx = db.tenant(scope).begin().await?;
        let id = store::insert_item(
            &mut tx,
            &ItemRow {
                category_id: &category,
                name: d.name,
                description: d.description,
                description_html: &html,
                icon: d.icon,
                first_response_minutes: d.first,
                resolution_minutes: d.resolution,
                hours: d.hours,
                price: d.price,
                visibility: if d.only.is_some() { "companies" } else { "all" },
                active: true,
            },
        )
        .await?;
        store::insert_form_version(&mut tx, &id, 1, &fields_of(d.form), None).await?;
        store::set_companies(&mut tx, &id, &companies).await?;
        tx.commit().await?;
    }
    seed_request(db, scope).await
}

/// Links the demo ticket "New starter laptop for Monday" to the laptop item with answers.
async fn seed_request(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let Some(item) = id_by_name(db, scope, "catalog_items", "New laptop").await? else {
        return Ok(());
    };
    let row = sqlx::query(
        "SELECT t.id FROM tickets t WHERE t.tenant_id = $1 AND t.subject = $2 \
         AND NOT EXISTS (SELECT 1 FROM catalog_requests r WHERE r.tenant_id = t.tenant_id AND r.ticket_id = t.id)",
    )
    .bind(scope.tenant_id().as_str())
    .bind("New starter laptop for Monday")
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(row) = row else { return Ok(()) };
    let ticket: String = row.try_get("id")?;
    let answers: Answers = [
        ("for_whom", json!("Dana Whitfield (Sales)")),
        ("model", json!("Standard 14\"")),
        ("accessories", json!(["Dock", "Headset"])),
    ]
    .into_iter()
    .map(|(k, v): (&str, Value)| (k.to_string(), v))
    .collect();
    let mut tx = db.tenant(scope).begin().await?;
    store::insert_request(&mut tx, &ticket, &item, 1, &answers, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}
