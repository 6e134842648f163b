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
