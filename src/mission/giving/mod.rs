//! Giving: funds and gifts (store and one-transaction actions), statements and the CSV import.

pub mod give;
mod give_routes;
pub mod recurring;
pub mod routes;
pub mod statement;

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{AnyRow, Db, DbResult, Row, TenantTx, flag, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::tenancy::TenantScope;

/// How a gift was given.
pub const METHODS: [&str; 6] = ["cash", "check", "card", "bank", "online", "other"];

/// Page size of gift lists.
pub const PAGE_SIZE: i64 = 50;

/// A fund gifts are given to.
#[derive(Clone, Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Fund {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Accepts new gifts.
    pub active: bool,
}

/// One gift.
#[derive(Clone, Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Gift {
    /// Id.
    pub id: String,
    /// The giver's user id.
    pub member_id: String,
    /// The giver's name.
    pub member_name: String,
    /// Fund id.
    pub fund_id: String,
    /// Fund name.
    pub fund_name: String,
    /// Day given, `YYYY-MM-DD` in the tenant's time zone.
    pub given_on: String,
    /// Amount in minor units (cents).
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// `cash`, `check`, `card`, `bank`, `online` or `other`.
    pub method: String,
    /// Part of a recurring gift.
    pub recurring: bool,
}

/// A total for one year or one fund.
#[derive(Clone, Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Total {
    /// The year (`2026`) or the fund name.
    pub label: String,
    /// Sum in minor units.
    pub amount_minor: i64,
    /// Number of gifts.
    pub count: i64,
}

/// Which gifts to list.
#[derive(Clone, Debug, Default)]
pub struct GiftFilter {
    /// Only this member's gifts (always set for members).
    pub member_id: Option<String>,
    /// Only this calendar year.
    pub year: Option<i32>,
    /// Only this fund.
    pub fund_id: Option<String>,
    /// Continue after this cursor (`given_on|id`).
    pub cursor: Option<String>,
    /// Page size.
    pub limit: i64,
}

fn gift_from(r: &AnyRow) -> Result<Gift, sqlx::Error> {
    Ok(Gift {
        id: r.try_get("id")?,
        member_id: r.try_get("member_id")?,
        member_name: r.try_get("member_name")?,
        fund_id: r.try_get("fund_id")?,
        fund_name: r.try_get("fund_name")?,
        given_on: r.try_get("given_on")?,
        amount_minor: r.try_get("amount_minor")?,
        currency: r.try_get("currency")?,
        method: r.try_get("method")?,
        recurring: flag(r, "recurring")?,
    })
}

/// The funds of the tenant, by name.
pub async fn funds(db: &Db, scope: &TenantScope) -> DbResult<Vec<Fund>> {
    let rows = sqlx::query(
        "SELECT id, name, active FROM mission_funds WHERE tenant_id = $1 ORDER BY name",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Fund {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                active: flag(r, "active")?,
            })
        })
        .collect()
}

/// A page of gifts, newest first, and the cursor of the next page.
pub async fn gifts(
    db: &Db,
    scope: &TenantScope,
    f: &GiftFilter,
) -> DbResult<(Vec<Gift>, Option<String>)> {
    let (from, to) = match f.year {
        Some(y) => (format!("{y:04}-01-01"), format!("{:04}-01-01", y + 1)),
        None => ("0000-00-00".into(), "9999-99-99".into()),
    };
    let (c_day, c_id) = f
        .cursor
        .as_deref()
        .and_then(|c| c.split_once('|'))
        .map(|(d, i)| (d.to_string(), i.to_string()))
        .unwrap_or_else(|| ("9999-99-99".into(), String::new()));
    let limit = f.limit.clamp(1, 5000);
    let rows = sqlx::query(
        "SELECT g.id, g.member_id, u.name AS member_name, g.fund_id, f.name AS fund_name, g.given_on, \
         g.amount_minor, g.currency, g.method, g.recurring \
         FROM mission_gifts g \
         JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.member_id \
         JOIN mission_funds f ON f.tenant_id = g.tenant_id AND f.id = g.fund_id \
         WHERE g.tenant_id = $1 AND ($2 = '' OR g.member_id = $2) AND ($3 = '' OR g.fund_id = $3) \
         AND g.given_on >= $4 AND g.given_on < $5 \
         AND (g.given_on < $6 OR (g.given_on = $6 AND ($7 = '' OR g.id < $7))) \
         ORDER BY g.given_on DESC, g.id DESC LIMIT $8",
    )
    .bind(scope.tenant_id().as_str())
    .bind(f.member_id.as_deref().unwrap_or(""))
    .bind(f.fund_id.as_deref().unwrap_or(""))
    .bind(&from)
    .bind(&to)
    .bind(&c_day)
    .bind(&c_id)
    .bind(limit)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let items: Vec<Gift> = rows.iter().map(gift_from).collect::<Result<_, _>>()?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|g| format!("{}|{}", g.given_on, g.id)))
        .flatten();
    Ok((items, next))
}

/// A member's totals per year (newest first), and per fund within `year` when given.
pub async fn totals(
    db: &Db,
    scope: &TenantScope,
    member_id: &str,
    year: Option<i32>,
) -> DbResult<(Vec<Total>, Vec<Total>)> {
    let t = db.tenant(scope);
    let by_year = sqlx::query(
        "SELECT SUBSTR(given_on, 1, 4) AS label, CAST(SUM(amount_minor) AS BIGINT) AS amount, \
         CAST(COUNT(*) AS BIGINT) AS n FROM mission_gifts WHERE tenant_id = $1 AND member_id = $2 \
         GROUP BY SUBSTR(given_on, 1, 4) ORDER BY label DESC",
    )
    .bind(scope.tenant_id().as_str())
    .bind(member_id)
    .fetch_all(t.reader())
    .await?;
    let (from, to) = match year {
        Some(y) => (format!("{y:04}-01-01"), format!("{:04}-01-01", y + 1)),
        None => ("0000-00-00".into(), "9999-99-99".into()),
    };
    let by_fund = sqlx::query(
        "SELECT f.name AS label, CAST(SUM(g.amount_minor) AS BIGINT) AS amount, CAST(COUNT(*) AS BIGINT) AS n \
         FROM mission_gifts g JOIN mission_funds f ON f.tenant_id = g.tenant_id AND f.id = g.fund_id \
         WHERE g.tenant_id = $1 AND g.member_id = $2 AND g.given_on >= $3 AND g.given_on < $4 \
         GROUP BY f.name ORDER BY f.name",
    )
    .bind(scope.tenant_id().as_str())
    .bind(member_id)
    .bind(&from)
    .bind(&to)
    .fetch_all(t.reader())
    .await?;
    let read = |rows: Vec<AnyRow>| -> Result<Vec<Total>, sqlx::Error> {
        rows.iter()
            .map(|r| {
                Ok(Total {
                    label: r.try_get("label")?,
                    amount_minor: r.try_get("amount")?,
                    count: r.try_get("n")?,
                })
            })
            .collect()
    };
    Ok((read(by_year)?, read(by_fund)?))
}

/// A gift to record, already checked.
#[derive(Clone, Debug)]
pub struct NewGift {
    /// Giver.
    pub member_id: String,
    /// Fund.
    pub fund_id: String,
    /// `YYYY-MM-DD` in the tenant's zone.
    pub given_on: String,
    /// Minor units.
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// One of [`METHODS`].
    pub method: String,
    /// Part of a recurring gift.
    pub recurring: bool,
}

/// Inserts a gift; returns its id.
pub async fn insert(tx: &mut TenantTx, g: &NewGift, by: Option<&str>) -> DbResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO mission_gifts (id, tenant_id, member_id, fund_id, given_on, amount_minor, currency, method, recurring, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(tx.tenant_id().to_string())
    .bind(&g.member_id)
    .bind(&g.fund_id)
    .bind(&g.given_on)
    .bind(g.amount_minor)
    .bind(&g.currency)
    .bind(&g.method)
    .bind(i64::from(g.recurring))
    .bind(by)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Inserts a fund; a name already used is a conflict.
pub async fn insert_fund(tx: &mut TenantTx, name: &str) -> DbResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO mission_funds (id, tenant_id, name, active, created_at) VALUES ($1, $2, $3, 1, $4)",
    )
    .bind(&id)
    .bind(tx.tenant_id().to_string())
    .bind(name)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Members of the tenant by email (lowercase) → (id, name), for gift entry and import.
pub async fn members_by_email(
    db: &Db,
    scope: &TenantScope,
) -> DbResult<Vec<(String, String, String)>> {
    let rows = sqlx::query(
        "SELECT id, email, name FROM users WHERE tenant_id = $1 AND kind = 'member' ORDER BY name",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("email")?, r.try_get("name")?)))
        .collect()
}

/// A gift as typed by staff (form, JSON or one CSV row).
#[derive(Clone, Debug, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct GiftInput {
    /// The giver's email.
    #[serde(default)]
    pub email: String,
    /// `YYYY-MM-DD` (the day in the tenant's zone), or an RFC 3339 timestamp, which counts on
    /// the day it was in the tenant's zone.
    #[serde(default)]
    pub date: String,
    /// Fund name (or id).
    #[serde(default)]
    pub fund: String,
    /// Amount as a decimal (`25.00`).
    #[serde(default)]
    pub amount: String,
    /// Method (`cash`, `check`, `card`, `bank`, `online`, `other`).
    #[serde(default)]
    pub method: String,
    /// Part of a recurring gift.
    #[serde(default)]
    pub recurring: bool,
}

/// What the checks need to know about the tenant.
pub struct Lookup {
    members: Vec<(String, String, String)>,
    funds: Vec<Fund>,
    currency: String,
    tz: chrono_tz::Tz,
}

impl Lookup {
    /// Loads members, funds and currency.
    pub async fn load(db: &Db, scope: &TenantScope) -> DbResult<Lookup> {
        Ok(Lookup {
            members: members_by_email(db, scope).await?,
            funds: funds(db, scope).await?,
            currency: super::settings::load(db, scope).await?.currency,
            tz: super::tenant_zone(
                &sqlx::query("SELECT time_zone FROM tenants WHERE id = $1")
                    .bind(scope.tenant_id().as_str())
                    .fetch_one(db.tenant(scope).reader())
                    .await?
                    .try_get::<String, _>("time_zone")?,
            ),
        })
    }

    /// Checks one gift; the errors name their fields.
    pub fn check(&self, g: &GiftInput) -> Result<NewGift, Vec<FieldError>> {
        let mut errs = Vec::new();
        let err = |f: &str, m: &str| FieldError {
            field: f.into(),
            message: m.into(),
        };
        let email = crate::users::normalize_email(&g.email);
        let member = self.members.iter().find(|(_, e, _)| *e == email);
        if member.is_none() {
            errs.push(err("email", "mission-error-member"));
        }
        // A timestamp (from a payment processor's export) counts on the day it was in the
        // tenant's zone, which decides the statement year.
        let date = super::parse_date(&g.date).or_else(|| {
            chrono::DateTime::parse_from_rfc3339(g.date.trim())
                .ok()
                .and_then(|d| super::local_date(d.timestamp_millis(), self.tz))
        });
        if date.is_none() {
            errs.push(err("date", "mission-error-date"));
        }
        let fund = self.funds.iter().find(|f| {
            f.active && (f.id == g.fund.trim() || f.name.eq_ignore_ascii_case(g.fund.trim()))
        });
        if fund.is_none() {
            errs.push(err("fund", "mission-error-fund"));
        }
        let amount = super::parse_amount(&g.amount).map_err(|m| errs.push(err("amount", m)));
        let method = g.method.trim().to_ascii_lowercase();
        let method = if method.is_empty() {
            "cash".to_string()
        } else {
            method
        };
        if !METHODS.contains(&method.as_str()) {
            errs.push(err("method", "mission-error-method"));
        }
        match (member, date, fund, amount) {
            (Some(m), Some(d), Some(f), Ok(a)) if errs.is_empty() => Ok(NewGift {
                member_id: m.0.clone(),
                fund_id: f.id.clone(),
                given_on: d.format("%Y-%m-%d").to_string(),
                amount_minor: a,
                currency: self.currency.clone(),
                method,
                recurring: g.recurring,
            }),
            _ => Err(errs),
        }
    }
}

async fn audit_gift(
    tx: &mut TenantTx,
    actor: &Actor,
    ip: &str,
    id: &str,
    g: &NewGift,
    via: &str,
) -> DbResult<()> {
    audit::append(
        tx,
        Entry {
            ip: Some(ip),
            detail: json!({
                "member_id": g.member_id, "fund_id": g.fund_id, "given_on": g.given_on,
                "amount_minor": g.amount_minor, "currency": g.currency, "method": g.method,
                "recurring": g.recurring, "via": via,
            }),
            ..Entry::new("mission.gift_recorded")
                .by(actor)
                .target("gift", id)
        },
    )
    .await
}

/// Records one gift typed by staff, with its audit row.
pub async fn record(db: &Db, actor: &Actor, ip: &str, input: &GiftInput) -> AppResult<String> {
    let lookup = Lookup::load(db, actor.scope()).await?;
    let g = lookup.check(input).map_err(AppError::fields)?;
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let id = insert(&mut tx, &g, Some(actor.user_id().as_str())).await?;
    audit_gift(&mut tx, actor, ip, &id, &g, "manual").await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates a fund, with its audit row.
pub async fn create_fund(db: &Db, actor: &Actor, ip: &str, name: &str) -> AppResult<String> {
    let name = super::line("name", name, 80).map_err(|e| AppError::fields(vec![e]))?;
    if name.is_empty() {
        return Err(AppError::field("name", "mission-error-fund-name"));
    }
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let id = insert_fund(&mut tx, &name).await.map_err(|e| match e {
        crate::db::DbError::Conflict(_) => AppError::field("name", "mission-error-fund-exists"),
        other => other.into(),
    })?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": name }),
            ..Entry::new("mission.fund_created")
                .by(actor)
                .target("fund", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One row of an import: its line number, what it would record, or why not.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ImportRow {
    /// Line in the file (the header is line 1).
    pub line: usize,
    /// The giver's email as given.
    pub email: String,
    /// Date as given.
    pub date: String,
    /// Fund as given.
    pub fund: String,
    /// Amount in minor units when valid.
    pub amount_minor: Option<i64>,
    /// Problems (catalog keys with their field), empty when the row is valid.
    pub errors: Vec<FieldError>,
}

/// The outcome of an import: every row, and how many were recorded (0 unless all were valid and
/// it was not a preview).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ImportReport {
    /// Each row with its problems.
    pub rows: Vec<ImportRow>,
    /// Gifts recorded.
    pub imported: usize,
    /// Problems with the file itself (missing columns, empty).
    pub file_errors: Vec<String>,
}

impl ImportReport {
    /// Some row has a problem.
    pub fn has_row_errors(&self) -> bool {
        self.rows.iter().any(|r| !r.errors.is_empty())
    }
}

/// Longest CSV accepted.
pub const IMPORT_MAX_ROWS: usize = 5000;

/// Reads a CSV with a header row: `email,date,fund,amount[,method][,recurring]`.
pub fn parse_csv(text: &str) -> (Vec<(usize, GiftInput)>, Vec<String>) {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect(),
        Err(_) => return (Vec::new(), vec!["mission-import-unreadable".into()]),
    };
    let col = |n: &str| headers.iter().position(|h| h == n);
    let (Some(ce), Some(cd), Some(cf), Some(ca)) =
        (col("email"), col("date"), col("fund"), col("amount"))
    else {
        return (Vec::new(), vec!["mission-import-columns".into()]);
    };
    let (cm, cr) = (col("method"), col("recurring"));
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let Ok(rec) = rec else {
            return (out, vec!["mission-import-unreadable".into()]);
        };
        if rec.iter().all(|c| c.is_empty()) {
            continue;
        }
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").to_string();
        let rec_flag = get(cr).to_ascii_lowercase();
        out.push((
            line,
            GiftInput {
                email: get(Some(ce)),
                date: get(Some(cd)),
                fund: get(Some(cf)),
                amount: get(Some(ca)),
                method: get(cm),
                recurring: matches!(rec_flag.as_str(), "yes" | "y" | "true" | "1" | "x"),
            },
        ));
        if out.len() > IMPORT_MAX_ROWS {
            return (out, vec!["mission-import-too-long".into()]);
        }
    }
    if out.is_empty() {
        return (out, vec!["mission-import-empty".into()]);
    }
    (out, Vec::new())
}

/// Checks every row; records them all in one transaction only when every row is valid and
/// `commit` is set.
pub async fn import(
    db: &Db,
    actor: &Actor,
    ip: &str,
    text: &str,
    commit: bool,
) -> AppResult<ImportReport> {
    let lookup = Lookup::load(db, actor.scope()).await?;
    let (parsed, file_errors) = parse_csv(text);
    let mut rows = Vec::new();
    let mut good = Vec::new();
    for (line, input) in &parsed {
        let checked = lookup.check(input);
        rows.push(ImportRow {
            line: *line,
            email: input.email.clone(),
            date: input.date.clone(),
            fund: input.fund.clone(),
            amount_minor: checked.as_ref().ok().map(|g| g.amount_minor),
            errors: checked.as_ref().err().cloned().unwrap_or_default(),
        });
        if let Ok(g) = checked {
            good.push(g);
        }
    }
    let valid = file_errors.is_empty() && good.len() == rows.len();
    let mut imported = 0;
    if commit && valid {
        let mut tx = db.tenant(actor.scope()).begin().await?;
        for g in &good {
            let id = insert(&mut tx, g, Some(actor.user_id().as_str())).await?;
            audit_gift(&mut tx, actor, ip, &id, g, "import").await?;
        }
        tx.commit().await?;
        imported = good.len();
    }
    Ok(ImportReport {
        rows,
        imported,
        file_errors,
    })
}
