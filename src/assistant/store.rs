//! Assistant SQL. Every statement is bound to one tenant, and every read of a conversation to
//! its owner (or, for staff, to an escalated conversation).

use serde::Serialize;

use crate::db::{AnyRow, Db, DbResult, Row, TenantTx, new_id};
use crate::tenancy::TenantScope;

/// A conversation as lists show it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Conversation {
    /// Id.
    pub id: String,
    /// Owner.
    #[serde(skip)]
    pub user_id: String,
    /// From the first question.
    pub title: String,
    /// The ticket it was escalated to, if any.
    pub escalated_ticket: Option<i64>,
    /// Started (Unix ms).
    pub created_at: i64,
    /// Last message (Unix ms).
    pub updated_at: i64,
}

/// One stored message.
#[derive(Clone, Debug)]
pub struct Message {
    /// Id.
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    /// Markdown (assistant) or plain text (user).
    pub body: String,
    /// JSON: sources and proposed actions of an answer.
    pub extra: String,
    /// Sent (Unix ms).
    pub created_at: i64,
}

const CONV_COLS: &str = "c.id, c.user_id, c.title, c.escalated_ticket, c.created_at, c.updated_at";

fn conversation(r: &AnyRow) -> Result<Conversation, sqlx::Error> {
    Ok(Conversation {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        title: r.try_get("title")?,
        escalated_ticket: r.try_get("escalated_ticket")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// A conversation of `user`.
pub async fn owned(
    db: &Db,
    scope: &TenantScope,
    user: &str,
    id: &str,
) -> DbResult<Option<Conversation>> {
    let sql = format!(
        "SELECT {CONV_COLS} FROM assistant_conversations c WHERE c.tenant_id = $1 AND c.id = $2 AND c.user_id = $3"
    );
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .bind(user)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(row.as_ref().map(conversation).transpose()?)
}

/// A conversation staff may read: only one that was escalated.
pub async fn escalated(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<Conversation>> {
    let sql = format!(
        "SELECT {CONV_COLS} FROM assistant_conversations c WHERE c.tenant_id = $1 AND c.id = $2 AND c.escalated_ticket IS NOT NULL"
    );
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(row.as_ref().map(conversation).transpose()?)
}

/// The keyset cursor after `c` in a newest-first list of conversations.
pub fn cursor_of(c: &Conversation) -> String {
    format!("{}.{}", c.updated_at, c.id)
}

/// Reads a cursor made by [`cursor_of`]; anything else starts from the newest.
pub fn parse_cursor(c: &str) -> Option<(i64, String)> {
    let (t, i) = c.split_once('.')?;
    Some((t.parse().ok()?, i.to_string()))
}

/// Escalated conversations of the tenant, newest first, with the owner's name, after the
/// keyset `(updated_at, id)` of the previous page.
pub async fn escalations(
    db: &Db,
    scope: &TenantScope,
    after: Option<(i64, &str)>,
    limit: i64,
) -> DbResult<Vec<(Conversation, String)>> {
    let (t, i) = after.unwrap_or((i64::MAX, ""));
    let sql = format!(
        "SELECT {CONV_COLS}, u.name AS user_name FROM assistant_conversations c \
         JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.user_id \
         WHERE c.tenant_id = $1 AND c.escalated_ticket IS NOT NULL \
         AND (c.updated_at < $2 OR (c.updated_at = $2 AND ($3 = '' OR c.id < $3))) \
         ORDER BY c.updated_at DESC, c.id DESC LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(t)
        .bind(i)
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    rows.iter()
        .map(|r| Ok((conversation(r)?, r.try_get::<String, _>("user_name")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// A user's conversations, last active first, after the keyset `(updated_at, id)`.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    user: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> DbResult<Vec<Conversation>> {
    let (t, i) = after.unwrap_or((i64::MAX, ""));
    let sql = format!(
        "SELECT {CONV_COLS} FROM assistant_conversations c WHERE c.tenant_id = $1 AND c.user_id = $2 \
         AND (c.updated_at < $3 OR (c.updated_at = $3 AND ($4 = '' OR c.id < $4))) \
         ORDER BY c.updated_at DESC, c.id DESC LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(user)
        .bind(t)
        .bind(i)
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows.iter().map(conversation).collect::<Result<_, _>>()?)
}

/// Starts a conversation.
pub async fn insert_conversation(
    tx: &mut TenantTx,
    user: &str,
    title: &str,
    now: i64,
) -> DbResult<String> {
    let id = new_id();
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO assistant_conversations (tenant_id, id, user_id, title, escalated_ticket, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, NULL, $5, $5)",
    )
    .bind(&tenant)
    .bind(&id)
    .bind(user)
    .bind(title)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Adds a message and moves the conversation to the top of the list.
pub async fn add_message(
    tx: &mut TenantTx,
    conversation: &str,
    user: &str,
    role: &str,
    body: &str,
    extra: &str,
    now: i64,
) -> DbResult<String> {
    let id = new_id();
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO assistant_messages (tenant_id, id, conversation_id, user_id, role, body, extra, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&tenant)
    .bind(&id)
    .bind(conversation)
    .bind(user)
    .bind(role)
    .bind(body)
    .bind(extra)
    .bind(now)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE assistant_conversations SET updated_at = $3 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(conversation)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// The messages of a conversation, oldest first.
pub async fn messages(db: &Db, scope: &TenantScope, conversation: &str) -> DbResult<Vec<Message>> {
    let rows = sqlx::query(
        "SELECT id, role, body, extra, created_at FROM assistant_messages \
         WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY created_at, id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(conversation)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Message {
                id: r.try_get("id")?,
                role: r.try_get("role")?,
                body: r.try_get("body")?,
                extra: r.try_get("extra")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Questions asked since `since`: by `user`, or by the whole tenant when `None`. Counted from
/// the usage rows, which deleting a conversation does not remove.
pub async fn questions_since(
    db: &Db,
    scope: &TenantScope,
    user: Option<&str>,
    since: i64,
) -> DbResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM assistant_usage WHERE tenant_id = $1 AND created_at >= $2 \
         AND ($3 = '' OR user_id = $3)",
    )
    .bind(scope.tenant_id().as_str())
    .bind(since)
    .bind(user.unwrap_or(""))
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// The tenant's assistant use since `since`: questions, questions the model answered, tokens,
/// and questions the built-in assistant answered because the model could not.
pub async fn usage_since(
    db: &Db,
    scope: &TenantScope,
    since: i64,
) -> DbResult<(i64, i64, i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS questions, CAST(COALESCE(SUM(model), 0) AS BIGINT) AS by_model, CAST(COALESCE(SUM(tokens), 0) AS BIGINT) AS tokens, \
         CAST(COALESCE(SUM(fallback), 0) AS BIGINT) AS fallbacks \
         FROM assistant_usage WHERE tenant_id = $1 AND created_at >= $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(since)
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok((
        row.try_get::<i64, _>("questions")?,
        row.try_get::<i64, _>("by_model")?,
        row.try_get::<i64, _>("tokens")?,
        row.try_get::<i64, _>("fallbacks")?,
    ))
}

/// Counts one question (the model tokens it used, and whether the built-in assistant answered
/// in the model's place).
pub async fn record_usage(
    tx: &mut TenantTx,
    user: &str,
    model: bool,
    tokens: i64,
    fallback: bool,
    now: i64,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO assistant_usage (tenant_id, id, user_id, model, tokens, created_at, fallback) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&tenant)
    .bind(new_id())
    .bind(user)
    .bind(i64::from(model))
    .bind(tokens)
    .bind(now)
    .bind(i64::from(fallback))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Deletes a user's conversation with its messages and pending actions; false when it is not
/// theirs.
pub async fn delete(tx: &mut TenantTx, user: &str, id: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "DELETE FROM assistant_conversations WHERE tenant_id = $1 AND id = $2 AND user_id = $3",
    )
    .bind(&tenant)
    .bind(id)
    .bind(user)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records the ticket a conversation was escalated to.
pub async fn set_escalated(tx: &mut TenantTx, id: &str, number: i64) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE assistant_conversations SET escalated_ticket = $3 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(id)
    .bind(number)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether `user_id` is an active staff member of the transaction's tenant.
pub async fn active_staff_in(tx: &mut TenantTx, user_id: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "SELECT 1 AS one FROM users WHERE tenant_id = $1 AND id = $2 AND kind = 'staff' AND status = 'active'",
    )
    .bind(&tenant)
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.is_some())
}

/// A proposed action waiting for its confirm click.
#[derive(Clone, Debug)]
pub struct PendingAction {
    /// Id.
    pub id: String,
    /// Conversation it was proposed in.
    pub conversation_id: String,
    /// What to do.
    pub kind: String,
    /// JSON draft (subject, description, priority, ticket number).
    pub payload: String,
}

/// Stores a proposed action under the hash of its token.
#[allow(clippy::too_many_arguments)]
pub async fn insert_action(
    tx: &mut TenantTx,
    token_hash: &str,
    conversation: &str,
    user: &str,
    kind: &str,
    payload: &str,
    now: i64,
    expires_at: i64,
) -> DbResult<String> {
    let id = new_id();
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO assistant_actions (tenant_id, id, token_hash, conversation_id, user_id, kind, payload, created_at, expires_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)",
    )
    .bind(&tenant)
    .bind(&id)
    .bind(token_hash)
    .bind(conversation)
    .bind(user)
    .bind(kind)
    .bind(payload)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Claims an unused, unexpired action of `user` by its token hash: the one statement that
/// makes a token single-use (a second claim, also a concurrent one, finds it used).
pub async fn claim_action(
    tx: &mut TenantTx,
    token_hash: &str,
    user: &str,
    now: i64,
) -> DbResult<Option<PendingAction>> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "UPDATE assistant_actions SET used_at = $4 WHERE tenant_id = $1 AND token_hash = $2 AND user_id = $3 \
         AND used_at IS NULL AND expires_at > $4 RETURNING id, conversation_id, kind, payload",
    )
    .bind(&tenant)
    .bind(token_hash)
    .bind(user)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(PendingAction {
        id: r.try_get("id")?,
        conversation_id: r.try_get("conversation_id")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
    }))
}

/// An unused, unexpired action of `user` by its token hash, without claiming it (the claim
/// happens inside the action's own transaction).
pub async fn peek_action(
    db: &Db,
    scope: &TenantScope,
    token_hash: &str,
    user: &str,
    now: i64,
) -> DbResult<Option<PendingAction>> {
    let row = sqlx::query(
        "SELECT id, conversation_id, kind, payload FROM assistant_actions WHERE tenant_id = $1 AND token_hash = $2 \
         AND user_id = $3 AND used_at IS NULL AND expires_at > $4",
    )
    .bind(scope.tenant_id().as_str())
    .bind(token_hash)
    .bind(user)
    .bind(now)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(PendingAction {
        id: r.try_get("id")?,
        conversation_id: r.try_get("conversation_id")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
    }))
}

/// Makes a claimed action usable again (its action failed after the claim).
pub async fn release_action(tx: &mut TenantTx, id: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("UPDATE assistant_actions SET used_at = NULL WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
