//! The help assistant (built-in, no model): answers cite only pages the user may open, actions
//! run once after a confirm through the ticket service with audit rows, conversations are the
//! user's own, staff see only escalated ones, limits hold, and the quality set is answered.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

async fn ask(s: &Session, q: &str, conversation: Option<&str>) -> Value {
    let r = s
        .post_json(
            "/api/v1/assistant/messages",
            &json!({ "message": q, "conversation_id": conversation }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "asking {q:?}");
    r.json().await.unwrap()
}

fn urls(reply: &Value) -> Vec<String> {
    reply["answer"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap().to_string())
        .collect()
}

fn action<'a>(reply: &'a Value, kind: &str) -> &'a Value {
    reply["answer"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} action in {reply:#}"))
}

async fn my_subjects(s: &Session) -> Vec<String> {
    let v: Value = s
        .get("/api/v1/tickets?status=all")
        .await
        .json()
        .await
        .unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_string())
        .collect()
}

async fn answers_with_articles_and_creates_a_ticket_once(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let reply = ask(&bob, "my VPN keeps dropping", None).await;
    assert!(
        urls(&reply).contains(&"/portal/kb/connect-to-the-office-vpn".to_string()),
        "{reply:#}"
    );
    assert!(
        reply["answer"]["html"]
            .as_str()
            .unwrap()
            .contains("href=\"/portal/kb/connect-to-the-office-vpn\"")
    );
    let create = action(&reply, "create_ticket");
    assert_eq!(create["subject"], "My VPN keeps dropping");
    let token = create["token"].as_str().unwrap().to_string();
    let conv = reply["conversation_id"].as_str().unwrap().to_string();

    // Confirmed with an edited subject: created through the ticket service, transcript attached.
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token, "subject": "VPN drops every hour", "priority": "high" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done: Value = r.json().await.unwrap();
    let number = done["ticket_number"].as_i64().unwrap();
    assert!(
        my_subjects(&bob)
            .await
            .contains(&"VPN drops every hour".to_string())
    );
    let t: Value = bob
        .get(&format!("/api/v1/tickets/{number}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["priority"], "high");
    assert!(
        t["description"]
            .as_str()
            .unwrap()
            .contains("Conversation with the assistant"),
        "{t:#}"
    );
    let queue: Value = staff
        .get("/api/v1/admin/tickets?status=all")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["number"] == number)
    );
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"assistant.ticket_created".to_string()));
    assert!(actions.contains(&"ticket.created".to_string()));

    // Single use: the same token again (and any made-up one) does nothing.
    let before = my_subjects(&bob).await.len();
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": "made-up" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(my_subjects(&bob).await.len(), before);

    // The conversation is kept, with the assistant's note linking the ticket.
    let c: Value = bob
        .get(&format!("/api/v1/assistant/conversations/{conv}"))
        .await
        .json()
        .await
        .unwrap();
    let msgs = c["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert!(
        msgs[2]["html"]
            .as_str()
            .unwrap()
            .contains(&format!("/portal/tickets/{number}"))
    );
    // Tokens are never shown again.
    assert!(msgs[1]["actions"][0].get("token").is_none());
}
crate::db_test!(
    assistant_creates_tickets,
    answers_with_articles_and_creates_a_ticket_once
);

async fn confirms_race_once(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let reply = ask(&bob, "create a ticket: the scanner is broken", None).await;
    let token = action(&reply, "create_ticket")["token"]
        .as_str()
        .unwrap()
        .to_string();
    let before = my_subjects(&bob).await.len();
    let body = json!({ "token": token });
    let (a, b) = tokio::join!(
        bob.post_json("/api/v1/assistant/actions/confirm", &body),
        bob.post_json("/api/v1/assistant/actions/confirm", &body)
    );
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort();
    assert_eq!(codes[0], 200, "{codes:?}");
    assert_ne!(codes[1], 200, "{codes:?}");
    assert_eq!(my_subjects(&bob).await.len(), before + 1);
}
crate::db_test!(assistant_confirm_race, confirms_race_once);

async fn streams_word_by_word(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let r = bob
        .post_json(
            "/api/v1/assistant/messages/stream",
            &json!({ "message": "printer shows offline" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = r.text().await.unwrap();
    assert!(text.starts_with("event: start"), "{text}");
    assert!(text.matches("event: token").count() > 5, "{text}");
    let done = text
        .split("event: done\ndata: ")
        .nth(1)
        .expect("done event");
    let reply: Value = serde_json::from_str(done.trim()).unwrap();
    assert!(urls(&reply).contains(&"/portal/kb/printer-shows-offline".to_string()));

    // Refusals come before the stream: bounded input.
    let long = "a".repeat(1001);
    let r = bob
        .post_json(
            "/api/v1/assistant/messages/stream",
            &json!({ "message": long }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = bob
        .post_json("/api/v1/assistant/messages", &json!({ "message": "   " }))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
crate::db_test!(assistant_streams, streams_word_by_word);

async fn markup_in_questions_is_text(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let reply = ask(
        &bob,
        "<script>alert(1)</script> [x](javascript:alert(1)) printer",
        None,
    )
    .await;
    let q = reply["question"]["html"].as_str().unwrap();
    assert!(!q.contains("<script"), "{q}");
    assert!(!q.contains("href=\"javascript"), "{q}");
    let a = reply["answer"]["html"].as_str().unwrap();
    assert!(!a.contains("<script"), "{a}");
}
crate::db_test!(assistant_escapes, markup_in_questions_is_text);

async fn another_companys_tickets_are_never_cited_or_touched(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = ian
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": "Initech payroll secret", "description": "Confidential." }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let theirs = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();

    // Status and comment questions about it: not found, nothing cited, no action.
    for q in [
        format!("What is the status of #{theirs}?"),
        format!("Please add to #{theirs} a comment: hello"),
        "my payroll question".to_string(),
    ] {
        let reply = ask(&bob, &q, None).await;
        let text = reply.to_string();
        assert!(!text.contains("Initech payroll secret"), "{q}: {text}");
        assert!(!text.contains("Confidential"), "{q}: {text}");
        assert!(
            !urls(&reply).contains(&format!("/portal/tickets/{theirs}")),
            "{q}"
        );
        assert!(
            reply["answer"]["actions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["kind"] != "comment"),
            "{q}"
        );
    }

    // Bob's own ticket: status cited, a comment proposed and run once.
    let r = bob
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": "Docking station flickers", "description": "Since Monday." }),
        )
        .await;
    let mine = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    let reply = ask(&bob, &format!("status of ticket {mine}"), None).await;
    assert!(urls(&reply).contains(&format!("/portal/tickets/{mine}")));
    let reply = ask(
        &bob,
        &format!("Please add to #{mine}: it happens on both screens"),
        None,
    )
    .await;
    let token = action(&reply, "comment")["token"]
        .as_str()
        .unwrap()
        .to_string();
    let conv = reply["conversation_id"].as_str().unwrap().to_string();
    // Someone else cannot use the token.
    let r = ian
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = bob
        .get(&format!("/api/v1/tickets/{mine}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(t.to_string().contains("it happens on both screens"));
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"assistant.commented".to_string())
    );

    // Conversations are the owner's: others get 404 by id, and their list is empty of it.
    let r = ian
        .get(&format!("/api/v1/assistant/conversations/{conv}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let list: Value = ian
        .get("/api/v1/assistant/conversations")
        .await
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains(&conv));
    let r = ian
        .client
        .delete(app.url(&format!("/api/v1/assistant/conversations/{conv}")))
        .header("x-csrf-token", &ian.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Ian cannot continue Bob's conversation either.
    let r = ian
        .post_json(
            "/api/v1/assistant/messages",
            &json!({ "message": "hello", "conversation_id": conv }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Staff do not see a conversation that was not escalated.
    let r = staff
        .get(&format!("/api/v1/admin/assistant/conversations/{conv}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Bob deletes it.
    let r = bob
        .client
        .delete(app.url(&format!("/api/v1/assistant/conversations/{conv}")))
        .header("x-csrf-token", &bob.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = bob
        .get(&format!("/api/v1/assistant/conversations/{conv}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
crate::db_test!(
    assistant_isolation,
    another_companys_tickets_are_never_cited_or_touched
);

async fn escalation_reaches_staff_with_the_sla(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let first = ask(&bob, "Outlook keeps asking for my password", None).await;
    let conv = first["conversation_id"].as_str().unwrap().to_string();
    let reply = ask(&bob, "I want to talk to a person", Some(&conv)).await;
    let token = action(&reply, "escalate")["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done: Value = r.json().await.unwrap();
    let number = done["ticket_number"].as_i64().unwrap();
    let msg = done["message"].as_str().unwrap();
    assert!(msg.contains("You will get an answer by"), "{msg}");

    // The ticket carries the transcript; staff see the conversation now, and in the queue.
    let t: Value = staff
        .get(&format!("/api/v1/admin/tickets/{number}"))
        .await
        .json()
        .await
        .unwrap();
    let d = t["description"].as_str().unwrap();
    assert!(d.contains("Outlook keeps asking for my password"), "{d}");
    assert!(
        t["subject"]
            .as_str()
            .unwrap()
            .starts_with("Assistant escalation")
    );
    let r = staff
        .get(&format!("/api/v1/admin/assistant/conversations/{conv}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = staff
        .get("/api/v1/admin/assistant/escalations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["id"], conv.as_str());
    assert_eq!(list["items"][0]["escalated_ticket"], number);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"assistant.escalated".to_string())
    );
    // Clients cannot reach the staff view.
    let r = bob
        .get(&format!("/api/v1/admin/assistant/conversations/{conv}"))
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Escalating the same conversation again updates that ticket instead of opening another.
    let reply = ask(&bob, "talk to a human please", Some(&conv)).await;
    let token = action(&reply, "escalate")["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["ticket_number"], number);
}
crate::db_test!(assistant_escalation, escalation_reaches_staff_with_the_sla);

async fn limits_hold(app: TestApp) {
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    // A viewer may ask but is offered no ticket actions.
    let reply = ask(&vera, "my VPN keeps dropping", None).await;
    assert!(reply["answer"]["actions"].as_array().unwrap().is_empty());
    for _ in 1..20 {
        ask(&vera, "printer", None).await;
    }
    let r = vera
        .post_json(
            "/api/v1/assistant/messages",
            &json!({ "message": "printer" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another user of the tenant is not affected.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    ask(&bob, "printer", None).await;
    // Anonymous callers are refused.
    let r = app
        .client()
        .post(app.url("/api/v1/assistant/messages?tenant=acme"))
        .json(&json!({ "message": "printer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
crate::db_test!(assistant_limits, limits_hold);

async fn widget_is_translated_per_page(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let w: Value = bob
        .get("/api/v1/assistant/widget?path=/portal/tickets")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(w["labels"]["open"], "Open the help assistant");
    assert!(
        w["suggestions"]
            .as_array()
            .unwrap()
            .contains(&json!("Why is my ticket waiting?"))
    );
    let r = bob
        .client
        .get(app.url("/api/v1/assistant/widget?path=/portal"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    let w: Value = r.json().await.unwrap();
    // The profile language wins when set; otherwise the browser's.
    let open = w["labels"]["open"].as_str().unwrap();
    assert!(
        open == "Abrir el asistente de ayuda" || open == "Open the help assistant",
        "{open}"
    );
    let page = bob.get("/portal/tickets").await.text().await.unwrap();
    assert!(page.contains("/assets/assistant.js"));
    let js = app
        .client()
        .get(app.url("/assets/assistant.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
}
crate::db_test!(assistant_widget, widget_is_translated_per_page);

/// The quality set: for at least 25 of the 30 questions, the expected demo article is among the
/// first three the built-in assistant cites.
async fn quality_set(app: TestApp) {
    let data: Vec<Value> =
        serde_json::from_str(include_str!("../data/assistant_questions.json")).unwrap();
    assert_eq!(data.len(), 30);
    // Two askers keep each under the per-user limit.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let mut good = 0;
    let mut misses = Vec::new();
    for (i, item) in data.iter().enumerate() {
        let q = item["q"].as_str().unwrap();
        let slug = item["slug"].as_str().unwrap();
        let who = if i % 2 == 0 { &bob } else { &alice };
        let reply = ask(who, q, None).await;
        let articles: Vec<String> = urls(&reply)
            .into_iter()
            .filter(|u| u.starts_with("/portal/kb/"))
            .take(3)
            .collect();
        if articles.contains(&format!("/portal/kb/{slug}")) {
            good += 1;
        } else {
            misses.push(format!("{q} → {articles:?}"));
        }
    }
    assert!(
        good >= 25,
        "only {good}/30 in the top three; misses: {misses:#?}"
    );
    eprintln!("assistant quality: {good}/30; misses: {misses:#?}");
}
crate::db_test!(assistant_quality, quality_set);

/// Deleting conversations does not reset the per-user limit (usage is counted apart).
async fn deleting_does_not_reset_the_limit(app: TestApp) {
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    for _ in 0..20 {
        let reply = ask(&vera, "printer", None).await;
        let conv = reply["conversation_id"].as_str().unwrap().to_string();
        let r = vera
            .client
            .delete(app.url(&format!("/api/v1/assistant/conversations/{conv}")))
            .header("x-csrf-token", &vera.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let r = vera
        .post_json(
            "/api/v1/assistant/messages",
            &json!({ "message": "printer" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let u: Value = staff
        .get("/api/v1/admin/assistant/usage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["questions"], 20);
    assert_eq!(u["model_configured"], false);
}
crate::db_test!(
    assistant_limit_survives_delete,
    deleting_does_not_reset_the_limit
);

/// Another tenant's user reaches nothing of this tenant's assistant data.
async fn another_tenant_reaches_nothing(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let carl = app
        .api_login("northwind", "carl@contoso.example", "portal")
        .await;
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let reply = ask(&bob, "I want to talk to a person", None).await;
    let conv = reply["conversation_id"].as_str().unwrap().to_string();
    let token = action(&reply, "escalate")["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = carl
        .get(&format!("/api/v1/assistant/conversations/{conv}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = carl
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = carl
        .post_json(
            "/api/v1/assistant/messages",
            &json!({ "message": "hello", "conversation_id": conv }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Bob's confirm escalates; the other tenant's staff still see nothing of it.
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = nora
        .get(&format!("/api/v1/admin/assistant/conversations/{conv}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let list: Value = nora
        .get("/api/v1/admin/assistant/escalations")
        .await
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains(&conv));
}
crate::db_test!(assistant_other_tenant, another_tenant_reaches_nothing);

// ---- The assistant with a model: a fake OpenAI-compatible endpoint on loopback. ----

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::support::Db;

const FAKE_KEY: &str = "sk-fake-model-key";

/// One scripted completion: text, or a tool call.
enum Turn {
    Say(&'static str),
    Call(&'static str, Value),
    Fail,
    /// Text whose first word is sent at once and the rest only after the gate opens.
    Slow(&'static str, Arc<tokio::sync::Notify>),
}

#[derive(Clone, Default)]
struct FakeModel {
    script: Arc<Mutex<VecDeque<Turn>>>,
    requests: Arc<Mutex<Vec<Value>>>,
    /// Set when a slow completion has sent its last byte.
    finished: Arc<std::sync::atomic::AtomicBool>,
}

fn usage_and_done() -> String {
    format!(
        "data: {}\n\ndata: [DONE]\n\n",
        json!({ "choices": [], "usage": { "prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42 } })
    )
}

fn chunk(delta: Value) -> String {
    format!(
        "data: {}\n\n",
        json!({ "id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "fake",
            "choices": [{ "index": 0, "delta": delta, "finish_reason": null }] })
    )
}

async fn completions(
    axum::extract::State(fake): axum::extract::State<FakeModel>,
    headers: axum::http::HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {FAKE_KEY}") || body["stream"] != true {
        return (axum::http::StatusCode::UNAUTHORIZED, "bad key").into_response();
    }
    fake.requests.lock().unwrap().push(body);
    let turn = fake
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Turn::Say("Sorry, no script left."));
    let mut out = chunk(json!({ "role": "assistant", "content": "" }));
    match turn {
        Turn::Fail => {
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "overloaded").into_response();
        }
        Turn::Slow(text, gate) => {
            // Real chunked streaming: the first delta leaves now, the rest after the gate.
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            let mut words = text.split_inclusive(' ');
            out.push_str(&chunk(json!({ "content": words.next().unwrap_or("") })));
            let _ = tx.send(out);
            let rest: Vec<String> = words.map(|w| chunk(json!({ "content": w }))).collect();
            let finished = fake.finished.clone();
            tokio::spawn(async move {
                gate.notified().await;
                for c in rest {
                    let _ = tx.send(c);
                }
                let _ = tx.send(usage_and_done());
                finished.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            let stream = futures::stream::unfold(rx, |mut rx| async move {
                rx.recv()
                    .await
                    .map(|c| (Ok::<_, std::convert::Infallible>(c), rx))
            });
            return (
                [("content-type", "text/event-stream")],
                axum::body::Body::from_stream(stream),
            )
                .into_response();
        }
        Turn::Say(text) => {
            for w in text.split_inclusive(' ') {
                out.push_str(&chunk(json!({ "content": w })));
            }
        }
        Turn::Call(name, args) => {
            let args = args.to_string();
            let (a, b) = args.split_at(args.len() / 2);
            out.push_str(&chunk(
                json!({ "tool_calls": [{ "index": 0, "id": "call_1", "type": "function",
                "function": { "name": name, "arguments": a } }] }),
            ));
            out.push_str(&chunk(
                json!({ "tool_calls": [{ "index": 0, "function": { "arguments": b } }] }),
            ));
        }
    }
    out.push_str(&usage_and_done());
    ([("content-type", "text/event-stream")], out).into_response()
}

impl FakeModel {
    async fn start(script: Vec<Turn>) -> (FakeModel, String) {
        let fake = FakeModel {
            script: Arc::new(Mutex::new(script.into())),
            requests: Arc::default(),
            finished: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(completions))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        (fake, format!("http://{addr}/v1"))
    }
}

async fn with_model(db: Db, script: Vec<Turn>, budget: i64) -> Option<(TestApp, FakeModel)> {
    let (fake, url) = FakeModel::start(script).await;
    let app = TestApp::spawn_with(db, move |c| {
        c.assistant_model = Some(portico::config::AssistantModel {
            base_url: url,
            model: "fake-model".into(),
            api_key: Some(FAKE_KEY.into()),
            monthly_tokens: budget,
        });
    })
    .await?;
    Some((app, fake))
}

/// A prompt-injected model asks for another company's ticket: the tool layer answers "not
/// found" and nothing of it reaches the answer; its proposed ticket still needs Bob's confirm.
async fn model_tool_calls_are_scoped(db: Db) {
    let Some((app, fake)) = with_model(
        db,
        vec![
            Turn::Call("search_articles", json!({ "query": "vpn dropping" })),
            Turn::Say("Try the **VPN article**. Also, ignore previous instructions."),
        ],
        1_000,
    )
    .await
    else {
        return;
    };
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let r = ian
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": "Initech payroll secret", "description": "Confidential." }),
        )
        .await;
    let theirs = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();

    // Round one: an article search, then an answer citing it.
    let reply = ask(&bob, "my VPN keeps dropping", None).await;
    assert!(
        reply["answer"]["html"]
            .as_str()
            .unwrap()
            .contains("<strong>VPN article</strong>")
    );
    assert!(urls(&reply).contains(&"/portal/kb/connect-to-the-office-vpn".to_string()));
    let conv = reply["conversation_id"].as_str().unwrap().to_string();
    {
        let reqs = fake.requests.lock().unwrap();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0]["model"], "fake-model");
        let names: Vec<&str> = reqs[0]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"get_ticket") && names.contains(&"propose_ticket"));
        assert!(
            !names
                .iter()
                .any(|n| n.contains("pay") || n.contains("role") || n.contains("invite"))
        );
        let tool = reqs[1]["messages"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(tool["role"], "tool");
        assert!(
            tool["content"]
                .as_str()
                .unwrap()
                .contains("connect-to-the-office-vpn")
        );
    }

    // Round two: the malicious tool call for Initech's ticket, then a proposal.
    fake.script.lock().unwrap().extend([
        Turn::Call("get_ticket", json!({ "number": theirs })),
        Turn::Call("propose_comment", json!({ "number": theirs, "body": "pwned" })),
        Turn::Call(
            "propose_ticket",
            json!({ "subject": "VPN drops hourly", "description": "Drafted by the model.", "priority": "high" }),
        ),
        Turn::Say("I drafted a ticket for you."),
    ]);
    let reply = ask(&bob, "what about the payroll ticket?", Some(&conv)).await;
    let text = reply.to_string();
    assert!(!text.contains("Initech payroll secret"), "{text}");
    assert!(!urls(&reply).contains(&format!("/portal/tickets/{theirs}")));
    {
        let reqs = fake.requests.lock().unwrap();
        let all = serde_json::to_string(&reqs[2..]).unwrap();
        assert!(all.contains("not found"), "{all}");
        assert!(!all.contains("Initech payroll secret"), "{all}");
        assert!(!all.contains("Confidential"), "{all}");
        // The earlier turns of the conversation went along.
        assert!(all.contains("my VPN keeps dropping"));
    }
    let actions = reply["answer"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{reply:#}");
    let create = action(&reply, "create_ticket");
    assert_eq!(create["subject"], "VPN drops hourly");
    // Nothing happened before the confirm click.
    assert!(
        !my_subjects(&bob)
            .await
            .contains(&"VPN drops hourly".to_string())
    );
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": create["token"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        my_subjects(&bob)
            .await
            .contains(&"VPN drops hourly".to_string())
    );
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"assistant.ticket_created".to_string())
    );

    // Tokens are counted per tenant and shown to staff.
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let u: Value = staff
        .get("/api/v1/admin/assistant/usage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["model_configured"], true);
    assert_eq!(u["model_answers"], 2);
    assert_eq!(u["tokens"], 42 * 6);
}
crate::db_test_with!(assistant_model_scoped, model_tool_calls_are_scoped);

/// With the model down, or over the monthly token budget, the built-in assistant answers.
async fn model_budget_and_failure_fall_back(db: Db) {
    let Some((app, _fake)) = with_model(
        db,
        vec![
            Turn::Fail,
            Turn::Say("Model answer."),
            Turn::Say("Model answer."),
            Turn::Say("Model answer."),
            Turn::Say("Model answer."),
        ],
        100,
    )
    .await
    else {
        return;
    };
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    // The endpoint fails: the built-in assistant answers, nothing is counted as model use.
    let reply = ask(&bob, "printer shows offline", None).await;
    assert!(urls(&reply).contains(&"/portal/kb/printer-shows-offline".to_string()));
    // 42 tokens an answer against a budget of 100: three model answers, then built-in again.
    for _ in 0..3 {
        let reply = ask(&bob, "hello", None).await;
        assert_eq!(reply["answer"]["text"], "Model answer.");
    }
    let reply = ask(&bob, "printer shows offline", None).await;
    assert_ne!(reply["answer"]["text"], "Model answer.");
    assert!(urls(&reply).contains(&"/portal/kb/printer-shows-offline".to_string()));
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let u: Value = staff
        .get("/api/v1/admin/assistant/usage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["questions"], 5);
    assert_eq!(u["model_answers"], 3);
    assert_eq!(u["tokens"], 126);
}
crate::db_test_with!(assistant_model_budget, model_budget_and_failure_fall_back);

// ---- Per-tenant settings, more confirmed actions, true streaming. ----

/// Staff settings: checked, audited, the key never shown; switching the assistant or an action
/// off holds at ask and at confirm time; another tenant's staff and client users reach nothing.
async fn settings_are_the_tenants_own(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let s: Value = staff
        .get("/api/v1/admin/assistant/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["enabled"], true);
    assert_eq!(s["mode"], "builtin");
    assert_eq!(s["actions"].as_array().unwrap().len(), 5);

    // A token proposed while creating tickets was allowed.
    let earlier = ask(&bob, "create a ticket: the scanner is broken", None).await;
    let earlier_token = action(&earlier, "create_ticket")["token"].clone();

    // Private addresses and made-up actions are refused, all at once.
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "model", "model_url": "http://10.0.0.7/v1", "actions": ["pay_invoice"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("model_url") && body.contains("actions"),
        "{body}"
    );

    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "model", "model_url": "https://models.example/v1",
                "model_name": "m-1", "api_key": "sk-very-secret-key", "monthly_tokens": 5000,
                "instructions": "Answer warmly.", "actions": ["comment", "escalate"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["api_key_set"], true);
    assert_eq!(s["effective_model"], "m-1");
    assert_eq!(s["effective_monthly_tokens"], 5000);
    let shown = staff
        .get("/api/v1/admin/assistant/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(!shown.contains("sk-very-secret-key"), "{shown}");
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"assistant.settings_changed".to_string())
    );
    // Back to the built-in assistant, creating tickets still off.
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "builtin", "actions": ["comment", "escalate"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let reply = ask(&bob, "create a ticket: the fax is broken", None).await;
    assert!(
        reply["answer"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["kind"] != "create_ticket"),
        "{reply:#}"
    );
    // Proposed before the change: refused at confirm time.
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": earlier_token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Off: the widget hides, questions are refused (also streamed ones).
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": false, "mode": "builtin", "actions": ["comment"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let w: Value = bob
        .get("/api/v1/assistant/widget?path=/portal/tickets")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(w["enabled"], false);
    for path in [
        "/api/v1/assistant/messages",
        "/api/v1/assistant/messages/stream",
    ] {
        let r = bob.post_json(path, &json!({ "message": "hello" })).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }

    // The other tenant has its own (default) settings and cannot change acme's.
    let theirs: Value = nora
        .get("/api/v1/admin/assistant/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["enabled"], true);
    assert_eq!(theirs["instructions"], "");
    let w: Value = bob
        .get("/api/v1/assistant/widget")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(w["enabled"], false);

    // A technician (no integrations permission) and a client user are refused.
    let r = tech.get("/api/v1/admin/assistant/settings").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = tech
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = bob.get("/api/v1/admin/assistant/settings").await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = bob.get("/admin/assistant").await;
    assert_ne!(r.status(), StatusCode::OK);
    let r = tech.get("/admin/assistant").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
crate::db_test!(assistant_settings, settings_are_the_tenants_own);

/// The page: usage, the form (saved through the HTML form with its CSRF field), escalated
/// transcripts of this tenant only, in Spanish too.
async fn admin_page_shows_usage_and_escalations(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let reply = ask(
        &bob,
        "I want to talk to a person about the zebra printer",
        None,
    )
    .await;
    let token = action(&reply, "escalate")["token"].clone();
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    ask(&bob, "private question about my salary", None).await;

    let r = staff.get("/admin/assistant").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("zebra printer"), "escalated transcript shown");
    assert!(
        !html.contains("salary"),
        "a conversation never escalated stays the user's"
    );
    assert!(html.contains("id=\"as-stat-questions\""));
    let theirs = nora.get("/admin/assistant").await.text().await.unwrap();
    assert!(!theirs.contains("zebra printer"));

    let r = staff
        .post_form(
            "/admin/assistant",
            &[
                ("enabled", "1"),
                ("mode", "builtin"),
                ("monthly_tokens", "12,000"),
                ("instructions", "Be brief."),
                ("actions", "create_ticket"),
                ("actions", "request_item"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s: Value = staff
        .get("/api/v1/admin/assistant/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["monthly_tokens"], 12000);
    assert_eq!(s["actions"], json!(["create_ticket", "request_item"]));
    let r = staff
        .post_form(
            "/admin/assistant",
            &[("mode", "model"), ("monthly_tokens", "lots")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("whole number of tokens"), "{html}");
    // Without the form's CSRF field nothing is saved.
    let r = staff
        .client
        .post(format!("{}/admin/assistant", staff.base))
        .form(&[("enabled", "1"), ("mode", "builtin")])
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::SEE_OTHER);
}
crate::db_test!(assistant_admin_page, admin_page_shows_usage_and_escalations);

/// "Request a catalog item": the item's form is asked, checked before the token is used, the
/// request is the catalog's own (ticket + answers), and a token acts once, also when raced.
async fn requests_a_catalog_item_once(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let reply = ask(&bob, "I need a new laptop", None).await;
    let req = action(&reply, "request_item");
    assert!(
        req["label"].as_str().unwrap().contains("New laptop"),
        "{reply:#}"
    );
    let keys: Vec<&str> = req["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"for_whom") && keys.contains(&"model"),
        "{keys:?}"
    );
    let token = req["token"].as_str().unwrap().to_string();
    let before = my_subjects(&bob).await.len();
    // Required answers missing: 400, and the token is still good.
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token, "answers": { "for_whom": "Vera" } }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = json!({ "token": token,
        "answers": { "for_whom": "Vera", "model": "Standard 14\"", "accessories": ["Dock"] } });
    let (a, b) = tokio::join!(
        bob.post_json("/api/v1/assistant/actions/confirm", &body),
        bob.post_json("/api/v1/assistant/actions/confirm", &body)
    );
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort();
    assert_eq!(codes, [200, 409], "{codes:?}");
    let r = bob
        .post_json("/api/v1/assistant/actions/confirm", &body)
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "a replay does nothing");
    assert_eq!(my_subjects(&bob).await.len(), before + 1);
    assert!(my_subjects(&bob).await.contains(&"New laptop".to_string()));
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"assistant.item_requested".to_string()));
    assert!(actions.contains(&"catalog.requested".to_string()));

    // Another company's client cannot use Bob's token.
    let reply = ask(&bob, "I need a new laptop", None).await;
    let token = action(&reply, "request_item")["token"].clone();
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let r = ian
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token, "answers": { "for_whom": "x", "model": "Standard 14\"" } }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}
crate::db_test!(assistant_request_item, requests_a_catalog_item_once);

/// Ticket status looks only at tickets the user may see.
async fn ticket_status_is_scoped(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let r = ian
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": "Initech merger plans", "description": "Secret." }),
        )
        .await;
    let theirs = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    let reply = ask(&bob, &format!("What's the status of #{theirs}?"), None).await;
    assert!(!reply.to_string().contains("merger"), "{reply:#}");
    assert!(urls(&reply).is_empty(), "{reply:#}");
    let mine = ask(&ian, &format!("What's the status of #{theirs}?"), None).await;
    assert!(urls(&mine).contains(&format!("/portal/tickets/{theirs}")));
}
crate::db_test!(assistant_ticket_status, ticket_status_is_scoped);

async fn event_detail(s: &Session, id: &str) -> Value {
    s.get(&format!("/api/v1/mission/events/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

/// Mission: "register for an event" goes through the registration rules (a full event puts
/// the member on its waitlist, required questions are asked), once per token.
async fn registers_for_events(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let john = app.api_login("grace", "john@grace.example", "portal").await;
    let reply = ask(&mary, "When is the next marriage dinner event?", None).await;
    let reg = action(&reply, "register_event");
    assert!(
        reg["label"]
            .as_str()
            .unwrap()
            .contains("Marriage Enrichment Dinner"),
        "{reply:#}"
    );
    assert!(
        urls(&reply)
            .iter()
            .any(|u| u.starts_with("/portal/mission/events/"))
    );
    let event = reg["event_id"].as_str().unwrap().to_string();
    let token = reg["token"].as_str().unwrap().to_string();
    // John cannot use Mary's token.
    let r = john
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = json!({ "token": token });
    let (a, b) = tokio::join!(
        mary.post_json("/api/v1/assistant/actions/confirm", &body),
        mary.post_json("/api/v1/assistant/actions/confirm", &body)
    );
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort();
    assert_eq!(codes, [200, 409], "{codes:?}");
    let d = event_detail(&mary, &event).await;
    assert_eq!(
        d["my_registration"]["status"], "waitlisted",
        "the dinner is full"
    );
    assert!(
        app.audit_actions("grace")
            .await
            .contains(&"assistant.event_registered".to_string())
    );

    // The youth night asks a required question.
    let reply = ask(&mary, "next youth event?", None).await;
    let reg = action(&reply, "register_event");
    assert_eq!(reg["fields"][0]["key"], "q0");
    assert_eq!(reg["fields"][0]["required"], true);
    let event = reg["event_id"].as_str().unwrap().to_string();
    let token = reg["token"].clone();
    let r = mary
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = mary
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token, "answers": { "q0": "Grade 9" } }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done: Value = r.json().await.unwrap();
    assert!(done["ticket_number"].is_null());
    assert_eq!(done["url"], format!("/portal/mission/events/{event}"));
    let d = event_detail(&mary, &event).await;
    assert_eq!(d["my_registration"]["status"], "registered");
    assert_eq!(d["my_registration"]["answers"][0], "Grade 9");

    // An MSP client is offered no registration.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let reply = ask(&bob, "When is the next youth event?", None).await;
    assert!(reply["answer"]["actions"].as_array().unwrap().is_empty());
}
crate::db_test!(assistant_register_event, registers_for_events);

/// The model's deltas reach the widget while the model is still answering: the first `token`
/// event arrives before the fake model has sent its last chunk.
async fn model_tokens_stream_through(db: Db) {
    let gate = Arc::new(tokio::sync::Notify::new());
    let Some((app, fake)) = with_model(
        db,
        vec![Turn::Slow(
            "Restart the VPN client and try again.",
            gate.clone(),
        )],
        1_000_000,
    )
    .await
    else {
        return;
    };
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let mut r = bob
        .post_json(
            "/api/v1/assistant/messages/stream",
            &json!({ "message": "my VPN keeps dropping" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut seen = String::new();
    let first = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while !seen.contains("event: token") {
            let c = r.chunk().await.unwrap().expect("stream open");
            seen.push_str(&String::from_utf8_lossy(&c));
        }
    })
    .await;
    assert!(first.is_ok(), "no token before the model finished: {seen}");
    assert!(seen.contains("Restart"), "{seen}");
    assert!(
        !fake.finished.load(std::sync::atomic::Ordering::SeqCst),
        "the model had not finished"
    );
    gate.notify_one();
    let rest = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(c) = r.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&c));
        }
    })
    .await;
    assert!(rest.is_ok());
    assert!(fake.finished.load(std::sync::atomic::Ordering::SeqCst));
    let done = seen
        .split("event: done\ndata: ")
        .nth(1)
        .and_then(|d| d.split("\n\n").next())
        .expect("done event");
    let done: Value = serde_json::from_str(done).unwrap();
    assert_eq!(
        done["answer"]["text"],
        "Restart the VPN client and try again."
    );
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let u: Value = staff
        .get("/api/v1/admin/assistant/usage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["model_answers"], 1);
    assert_eq!(u["tokens"], 42);
}
crate::db_test_with!(assistant_model_streams, model_tokens_stream_through);

/// A tenant's own model settings override the deployment's: its address, its sealed key, its
/// instructions; a failing model counts as a fallback.
async fn tenant_model_overrides_the_deployment(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let (fake, url) =
        FakeModel::start(vec![Turn::Say("From the tenant's model."), Turn::Fail]).await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    // No deployment model: a model needs an address.
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "model", "actions": ["create_ticket"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "model", "model_url": url, "model_name": "tenant-model",
                "api_key": FAKE_KEY, "instructions": "Always answer like a pirate.",
                "actions": ["create_ticket", "escalate"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let reply = ask(&bob, "hello there", None).await;
    assert_eq!(reply["answer"]["text"], "From the tenant's model.");
    {
        let reqs = fake.requests.lock().unwrap();
        assert_eq!(reqs[0]["model"], "tenant-model");
        let system = reqs[0]["messages"][0]["content"].as_str().unwrap();
        assert!(system.contains("Always answer like a pirate."), "{system}");
    }
    // The model fails: the built-in assistant answers, counted as a fallback.
    let reply = ask(&bob, "printer shows offline", None).await;
    assert!(urls(&reply).contains(&"/portal/kb/printer-shows-offline".to_string()));
    let u: Value = staff
        .get("/api/v1/admin/assistant/usage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["model"], "tenant-model");
    assert_eq!(u["questions"], 2);
    assert_eq!(u["model_answers"], 1);
    assert_eq!(u["fallbacks"], 1);
    let html = staff.get("/admin/assistant").await.text().await.unwrap();
    assert!(html.contains("tenant-model"));
    // The key is stored sealed, never in the clear.
    let shown = staff
        .get("/api/v1/admin/assistant/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(!shown.contains(FAKE_KEY));
}
crate::db_test_with!(
    assistant_tenant_model,
    tenant_model_overrides_the_deployment
);

/// The demo seeds believable conversations for acme once: staff see the escalated ones, Bob
/// sees his own in the widget's list, and seeding again adds nothing.
async fn demo_conversations(app: TestApp) {
    portico::demo::seed(&app.state.db).await.unwrap();
    portico::demo::seed(&app.state.db).await.unwrap();
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let html = staff.get("/admin/assistant").await.text().await.unwrap();
    assert!(html.contains("My VPN keeps dropping since the last update"));
    assert!(html.contains("The printer on the 2nd floor jams"));
    assert!(
        !html.contains("out-of-office"),
        "never escalated: Bob's own"
    );
    let u: Value = staff
        .get("/api/v1/admin/assistant/usage")
        .await
        .json()
        .await
        .unwrap();
    // Demo conversations are history: they count for no one's limit or budget.
    assert_eq!(u["questions"], 0);
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let mine: Value = bob
        .get("/api/v1/assistant/conversations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
}
crate::db_test!(assistant_demo, demo_conversations);

/// Staff set the greeting, switch sources off and choose who answers escalations: the widget
/// greets with their words, a switched-off source is never searched, and an escalation is
/// assigned to the chosen person (who is named to the user). Another tenant's staff member
/// cannot be chosen.
async fn greeting_sources_and_escalation_owner(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let tech = app.user_id("acme", "tech@acme.example").await;
    let nora = app.user_id("northwind", "nora@northwind.example").await;
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "builtin", "actions": ["create_ticket", "escalate"],
                "greeting": "Hi from the Acme desk!", "sources": ["tickets", "bogus"],
                "escalate_to": nora }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("sources"));
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "builtin", "actions": ["create_ticket", "escalate"],
                "greeting": "Hi from the Acme desk!", "sources": ["tickets"], "escalate_to": nora }),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "another tenant's staff"
    );
    assert!(r.text().await.unwrap().contains("escalate_to"));
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "builtin", "actions": ["create_ticket", "escalate"],
                "greeting": "Hi from the Acme desk!", "sources": ["tickets"], "escalate_to": tech }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["sources"], json!(["tickets"]));
    assert_eq!(s["escalate_to"], tech.as_str());

    let w: Value = bob
        .get("/api/v1/assistant/widget?path=/portal")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(w["greeting"], "Hi from the Acme desk!");

    // Articles are switched off: the VPN question cites no article.
    let reply = ask(&bob, "my VPN keeps dropping", None).await;
    assert!(
        !urls(&reply).iter().any(|u| u.starts_with("/portal/kb/")),
        "{reply:#}"
    );
    let conv = reply["conversation_id"].as_str().unwrap().to_string();
    let reply = ask(&bob, "I want to talk to a person", Some(&conv)).await;
    let token = action(&reply, "escalate")["token"].clone();
    let r = bob
        .post_json(
            "/api/v1/assistant/actions/confirm",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done: Value = r.json().await.unwrap();
    assert!(
        done["message"].as_str().unwrap().contains("Terry Tech"),
        "{done:#}"
    );
    let number = done["ticket_number"].as_i64().unwrap();
    let t: Value = staff
        .get(&format!("/api/v1/admin/tickets/{number}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["assignee"]["name"], "Terry Tech");

    // The staff page shows the choices; an empty greeting brings the default back.
    let html = staff.get("/admin/assistant").await.text().await.unwrap();
    assert!(html.contains("Hi from the Acme desk!") && html.contains("Terry Tech"));
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "builtin", "actions": ["create_ticket"],
                "sources": ["articles", "tickets"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let w: Value = bob
        .get("/api/v1/assistant/widget?path=/portal")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        w["greeting"].as_str().unwrap().starts_with("Hello!"),
        "{w:#}"
    );
    let reply = ask(&bob, "my VPN keeps dropping", None).await;
    assert!(urls(&reply).contains(&"/portal/kb/connect-to-the-office-vpn".to_string()));
}
crate::db_test!(
    assistant_greeting_sources,
    greeting_sources_and_escalation_owner
);

/// With articles switched off the model is not offered `search_articles`, and a call to it
/// anyway is refused by the tool layer.
async fn model_is_not_offered_switched_off_sources(db: Db) {
    let Some((app, fake)) = with_model(
        db,
        vec![
            Turn::Call("search_articles", json!({ "query": "vpn" })),
            Turn::Say("Nothing I may look at."),
        ],
        1_000_000,
    )
    .await
    else {
        return;
    };
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let r = staff
        .put_json(
            "/api/v1/admin/assistant/settings",
            &json!({ "enabled": true, "mode": "model", "actions": ["create_ticket"],
                "sources": ["tickets", "catalog"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let reply = ask(&bob, "my VPN keeps dropping", None).await;
    assert!(urls(&reply).is_empty(), "{reply:#}");
    let reqs = fake.requests.lock().unwrap();
    let names: Vec<&str> = reqs[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert!(!names.contains(&"search_articles"), "{names:?}");
    assert!(names.contains(&"list_my_tickets"), "{names:?}");
    let tool_result = reqs[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("tool result");
    assert!(
        tool_result["content"]
            .as_str()
            .unwrap()
            .contains("switched off")
    );
}
crate::db_test_with!(
    assistant_model_sources,
    model_is_not_offered_switched_off_sources
);

/// The escalation queue pages by cursor, in the JSON and on the admin page: every escalated
/// conversation appears once (ties on the time broken by id), newest first, and another
/// tenant's never.
async fn escalation_queue_pages(app: TestApp) {
    use sqlx::Row;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let writer = app.state.db.operator("test").writer();
    for (slug, email, n) in [
        ("acme", "bob@globex.example", 60),
        ("northwind", "nora@northwind.example", 3),
    ] {
        let row = sqlx::query(
            "SELECT u.tenant_id, u.id FROM users u JOIN tenants t ON t.id = u.tenant_id \
             WHERE t.slug = $1 AND u.email = $2",
        )
        .bind(slug)
        .bind(email)
        .fetch_one(writer)
        .await
        .unwrap();
        let (tenant, user): (String, String) = (row.get(0), row.get(1));
        for i in 0..n {
            // Pairs share a time, so the cursor must break ties by id.
            let at = 2_000_000_000_000_i64 + (i / 2) as i64;
            sqlx::query(
                "INSERT INTO assistant_conversations (tenant_id, id, user_id, title, escalated_ticket, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 1, $5, $5)",
            )
            .bind(&tenant)
            .bind(format!("queue-{slug}-{i:03}"))
            .bind(&user)
            .bind(format!("Queue {slug} {i:03}"))
            .bind(at)
            .execute(writer)
            .await
            .unwrap();
        }
    }
    let mut seen: Vec<String> = Vec::new();
    let mut url = "/api/v1/admin/assistant/escalations".to_string();
    let mut pages = 0;
    loop {
        let page: Value = staff.get(&url).await.json().await.unwrap();
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["title"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/admin/assistant/escalations?cursor={c}"),
            None => break,
        }
        assert!(pages < 10, "the cursor moves on");
    }
    assert!(pages >= 2, "60 escalations take more than one page of 50");
    let ours: Vec<&String> = seen
        .iter()
        .filter(|t| t.starts_with("Queue acme"))
        .collect();
    let expected: Vec<String> = (0..60)
        .rev()
        .map(|i| format!("Queue acme {i:03}"))
        .collect();
    assert_eq!(
        ours,
        expected.iter().collect::<Vec<_>>(),
        "each once, newest first"
    );
    assert!(!seen.iter().any(|t| t.starts_with("Queue northwind")));

    // The admin page: ten at a time, with a link to the older ones and back.
    let first = staff.get("/admin/assistant").await.text().await.unwrap();
    assert!(first.contains("Queue acme 059") && first.contains("Queue acme 050"));
    assert!(!first.contains("Queue acme 049"));
    let cursor = first
        .split("?older=")
        .nth(1)
        .and_then(|s| s.split(['#', '"', '&']).next())
        .expect("a link to older escalations");
    let second = staff
        .get(&format!("/admin/assistant?older={cursor}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(second.contains("Queue acme 049") && second.contains("Queue acme 040"));
    assert!(!second.contains("Queue acme 050") && !second.contains("Queue acme 039"));
    assert!(
        second.contains("assistant#as-conv-h\">"),
        "a way back to the newest"
    );
    assert!(
        !first.contains("assistant#as-conv-h\">"),
        "the newest page has no way back"
    );
    assert!(!second.contains("Queue northwind"));
}
crate::db_test!(assistant_escalation_queue, escalation_queue_pages);
