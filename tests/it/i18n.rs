//! The interface language: profile, then Accept-Language, then the tenant default.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Session, TestApp, form_csrf};

async fn get(c: &reqwest::Client, app: &TestApp, path: &str, lang: &str) -> String {
    c.get(app.url(path))
        .header("accept-language", lang)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn accept_language_and_profile(app: TestApp) {
    let c = app.client();
    let html = get(&c, &app, "/login?tenant=acme", "es-ES,es;q=0.9,en;q=0.5").await;
    assert!(html.contains("<html lang=\"es\">"), "{html}");
    assert!(html.contains("Iniciar sesión en"));
    assert!(html.contains("Contraseña"));
    let html = get(&c, &app, "/login?tenant=acme", "en").await;
    assert!(html.contains("Sign in to") && !html.contains("Contraseña"));
    // q=0 refuses Spanish.
    let html = get(&c, &app, "/login?tenant=acme", "es;q=0, en").await;
    assert!(html.contains("<html lang=\"en\">"));

    // Bob has no profile language: the browser decides.
    let (bob, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let html = get(&bob, &app, "/portal/dashboard", "es").await;
    assert!(html.contains("Hola,"), "{html}");
    assert!(html.contains("Solicitudes"));
    let html = get(&bob, &app, "/portal/no-such-page", "es").await;
    assert!(html.contains("No encontrado"), "{html}");

    // Alice chose English in her profile: it beats the header.
    let (alice, _) = app
        .form_login("acme", "alice@globex.example", "portico-demo", false)
        .await;
    let html = get(&alice, &app, "/portal/dashboard", "es").await;
    assert!(html.contains("Hello,") && !html.contains("Hola,"), "{html}");
}
crate::db_test!(
    i18n_accept_language_and_profile,
    accept_language_and_profile
);

/// The visible text of a page: tags (with their attributes), scripts and styles removed.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let skip_to = ["<script", "<style"]
            .iter()
            .find(|t| rest.starts_with(**t))
            .map(|t| format!("</{}>", &t[1..]));
        let end = match skip_to {
            Some(close) => rest.find(&close).map(|i| i + close.len()),
            None => rest.find('>').map(|i| i + 1),
        };
        rest = &rest[end.unwrap_or(rest.len())..];
        out.push(' ');
    }
    out.push_str(rest);
    out
}

/// `GET path` as `s`, asking for Spanish.
async fn es(s: &Session, path: &str) -> (StatusCode, String) {
    let r = s
        .client
        .get(format!("{}{path}", s.base))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

fn assert_all(page: &str, text: &str, words: &[&str]) {
    for w in words {
        assert!(text.contains(w), "{page}: missing {w:?} in\n{text}");
    }
}

/// No `words` in `text` as whole words ("Urgent" may be part of "Urgente").
fn assert_none(page: &str, text: &str, words: &[&str]) {
    for w in words {
        let whole = text.match_indices(w).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + w.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        });
        assert!(!whole, "{page}: English {w:?} left in\n{text}");
    }
}

async fn ticket_pages_in_spanish(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let r = bob
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": "Impresora atascada", "description": "Se atasca cada hoja.", "priority": "high", "category": "Network" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let n = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();

    let (status, html) = es(&bob, "/portal/tickets/new").await;
    assert_eq!(status, StatusCode::OK);
    let text = text_of(&html);
    assert_all(
        "new",
        &text,
        &[
            "Abrir una solicitud",
            "Asunto",
            "Descripción",
            "(qué ha pasado",
            "Prioridad",
            "Alta",
            "Urgente",
            "Categoría",
            "Red",
            "Facturación",
            "Mantener informados a sus compañeros",
            "Adjuntos",
            "Abrir solicitud",
        ],
    );
    assert_none(
        "new",
        &text,
        &[
            "Raise a ticket",
            "Subject",
            "Description",
            "what happened",
            "Priority",
            "Urgent",
            "Category",
            "Network",
            "Billing",
            "Keep colleagues informed",
            "(optional)",
            "Attachments",
            "screenshots",
            "Raise ticket",
        ],
    );

    let (status, html) = es(&bob, &format!("/portal/tickets/{n}?notice=created")).await;
    assert_eq!(status, StatusCode::OK);
    let text = text_of(&html);
    assert_all(
        "detail",
        &text,
        &[
            "Su solicitud se ha abierto",
            "Nueva",
            "Prioridad",
            "Alta",
            "Categoría",
            "Red",
            "Solicitante",
            "Asignada a",
            "Aún sin asignar",
            "Fecha de apertura",
            "Plazo de primera respuesta",
            "ANS",
            "Conversación",
            "Todavía no hay respuestas.",
            "Historial de estados",
            "Añadir un comentario",
            "Mensaje",
            "(admite Markdown)",
            "Enviar",
            "¿Resuelto?",
            "Mi problema está resuelto",
        ],
    );
    assert_none(
        "detail",
        &text,
        &[
            "Your ticket has been raised",
            "Priority",
            "High",
            "Category",
            "Network",
            "Requester",
            "Assigned to",
            "Not yet assigned",
            "Raised",
            "First reply due",
            "Resolution due",
            "On time",
            "Conversation",
            "No replies yet",
            "Status history",
            "Add a comment",
            "Message",
            "Markdown works",
            "Send",
            "Solved?",
            "My issue is solved",
        ],
    );
    // Attribute texts: the confirmation and the live script's labels.
    assert!(
        html.contains(&format!(
            "data-confirm=\"¿Cerrar la solicitud n.º {n}? Puede reabrirla durante 14 días.\""
        )),
        "{html}"
    );
    assert!(html.contains("data-status-pending=\"Esperando su respuesta\""));
    assert_none(
        "detail attributes",
        &html,
        &["Close ticket", "Waiting for you", "Internal note"],
    );

    // A refused form comes back in Spanish.
    let form = reqwest::multipart::Form::new()
        .text("_csrf", bob.csrf.clone())
        .text("body", "   ");
    let r = bob
        .client
        .post(app.url(&format!("/portal/tickets/{n}/comments?_csrf={}", bob.csrf)))
        .header("accept-language", "es")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let text = text_of(&r.text().await.unwrap());
    assert_all("refused comment", &text, &["Escriba un mensaje."]);
    assert_none("refused comment", &text, &["Write a message."]);

    // The staff queue and ticket (the technician has no profile language).
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let (status, html) = es(&tech, "/admin/tickets").await;
    assert_eq!(status, StatusCode::OK);
    let text = text_of(&html);
    assert_all(
        "queue",
        &text,
        &[
            "Cola de solicitudes",
            "Nueva solicitud para un cliente",
            "Todas las abiertas",
            "Resueltas y cerradas",
            "Solo en pausa",
            "Solo esperando al cliente",
            "Cualquiera",
            "Sin asignar",
            "Vencida",
            "Vence pronto",
            "Última actualización",
            "Más recientes",
            "Aplicar",
            "Asunto",
            "Responsable",
            "Actualizada",
            "Impresora atascada",
            "Alta",
        ],
    );
    assert_none(
        "queue",
        &text,
        &[
            "Ticket queue",
            "New ticket for a client",
            "All open",
            "Resolved and closed",
            "Only on hold",
            "Only waiting",
            "Anyone",
            "Unassigned",
            "Overdue",
            "Due soon",
            "Last update",
            "Newest",
            "Apply",
            "Subject",
            "Assignee",
            "Updated",
            "High",
            "On time",
            "Waiting for you",
        ],
    );
    assert!(html.contains("placeholder=\"Palabras o n.º de solicitud\""));
    assert!(!html.contains("Words or #number"));

    let (status, html) = es(&tech, &format!("/admin/tickets/{n}")).await;
    assert_eq!(status, StatusCode::OK);
    let text = text_of(&html);
    assert_all(
        "staff detail",
        &text,
        &[
            "← Cola de solicitudes",
            "Gestionar la solicitud",
            "Responder o añadir una nota",
            "Solo el personal verá esto",
            "Responder al cliente",
            "Guardar",
        ],
    );
    assert_none(
        "staff detail",
        &text,
        &[
            "Ticket queue",
            "Work the ticket",
            "Reply or add a note",
            "only staff see it",
        ],
    );

    assert!(html.contains("data-internal-note=\"Nota interna\""));

    // A refusal with arguments, through the JSON API: in Spanish when asked, else English.
    let path = format!("/api/v1/admin/tickets/{n}");
    assert!(
        tech.patch_json(&path, &json!({ "status": "closed" }))
            .await
            .status()
            .is_success()
    );
    let r = tech
        .client
        .patch(format!("{}{path}", tech.base))
        .header("x-csrf-token", &tech.csrf)
        .header("accept-language", "es")
        .json(&json!({ "status": "pending" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        e["error"]["message"],
        "Una solicitud en estado «Cerrada» no puede pasar a «Esperando su respuesta». Posibles: Abierta."
    );
    let e: Value = tech
        .patch_json(&path, &json!({ "status": "pending" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        e["error"]["message"],
        "A ticket that is “Closed” cannot be set to “Waiting for you”. Possible: Open."
    );
}
crate::db_test!(i18n_ticket_pages, ticket_pages_in_spanish);

/// A sent message's text with the parts' transfer encodings undone (quoted-printable or
/// base64), so that non-ASCII words can be found.
fn mail_text(raw: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    for part in raw.split("\r\n--") {
        let (head, body) = part.split_once("\r\n\r\n").unwrap_or((part, ""));
        // Folded header lines read as one, encoded words (RFC 2047, as lettre writes them) decoded.
        out.push_str(&encoded_words(&head.replace("\r\n ", " ")));
        out.push('\n');
        let h = head.to_ascii_lowercase();
        if h.contains("content-transfer-encoding: base64") {
            let b64: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64 part");
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else if h.contains("content-transfer-encoding: quoted-printable") {
            let soft = body.replace("=\r\n", "");
            let b = soft.as_bytes();
            let mut bytes = Vec::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                let hex = |c: u8| (c as char).to_digit(16);
                match (
                    b[i],
                    b.get(i + 1).copied().and_then(hex),
                    b.get(i + 2).copied().and_then(hex),
                ) {
                    (b'=', Some(hi), Some(lo)) => {
                        bytes.push((hi * 16 + lo) as u8);
                        i += 3;
                    }
                    (c, _, _) => {
                        bytes.push(c);
                        i += 1;
                    }
                }
            }
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            out.push_str(body);
        }
        out.push('\n');
    }
    out
}

/// A header value with its `=?utf-8?b?…?=` words decoded.
fn encoded_words(header: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = header;
    while let Some(start) = rest.find("=?utf-8?b?") {
        out.push_str(&rest[..start]);
        let word = &rest[start + 10..];
        let Some(end) = word.find("?=") else {
            break;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&word[..end])
            .expect("encoded word");
        out.push_str(&String::from_utf8_lossy(&bytes));
        rest = &word[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The newest message to `to`, decoded.
async fn mail_to(app: &TestApp, to: &str) -> String {
    app.drain_jobs().await;
    app.sent_mail()
        .into_iter()
        .rev()
        .find(|m| m.contains(&format!("To: {to}")))
        .map(|m| mail_text(&m))
        .unwrap_or_else(|| panic!("no mail to {to}"))
}

async fn emails_in_the_recipients_language(app: TestApp) {
    // Bob chooses Spanish in his profile; Alice has English in hers.
    let (c, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let html = c
        .get(app.url("/portal/profile"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(app.url("/portal/profile/details"))
        .form(&[
            ("_csrf", form_csrf(&html).as_str()),
            ("name", "Bob"),
            ("phone", ""),
            ("job_title", ""),
            ("time_zone", ""),
            ("language", "es"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let alice_id = app.user_id("acme", "alice@globex.example").await;
    let r = bob
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": "Toner", "description": "Sin tinta.", "cc": [alice_id] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let n = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .post_json(
            &format!("/api/v1/admin/tickets/{n}/comments"),
            &json!({ "body": "Cambiamos el tóner mañana." }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let mail = mail_to(&app, "bob@globex.example").await;
    for w in [
        &format!("[#{n}] Nueva respuesta: Toner"),
        &format!("ha respondido a su solicitud n.º {n}: Toner"),
        "Cambiamos el tóner mañana.",
        "Ver la solicitud",
        "lang=\"es\"",
    ] {
        assert!(mail.contains(w), "missing {w:?} in\n{mail}");
    }
    for w in ["New reply", "replied to your ticket", "View the ticket"] {
        assert!(!mail.contains(w), "English {w:?} in\n{mail}");
    }
    let mail = mail_to(&app, "alice@globex.example").await;
    assert!(
        mail.contains(&format!("[#{n}] New reply: Toner"))
            && mail.contains("View the ticket")
            && !mail.contains("Ver la solicitud"),
        "{mail}"
    );

    // Status emails too.
    let r = staff
        .patch_json(
            &format!("/api/v1/admin/tickets/{n}"),
            &json!({ "status": "pending" }),
        )
        .await;
    assert!(r.status().is_success());
    let mail = mail_to(&app, "bob@globex.example").await;
    assert!(
        mail.contains(&format!("[#{n}] Esperando su respuesta: Toner"))
            && mail.contains("está ahora: Esperando su respuesta."),
        "{mail}"
    );

    // Without a profile language the tenant's default decides: an invitation in Spanish.
    sqlx::query("UPDATE tenants SET default_locale = 'es' WHERE slug = 'acme'")
        .execute(app.state.db.operator("test").writer())
        .await
        .unwrap();
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = alice
        .post_json(
            "/api/v1/team",
            &json!({ "email": "carol@globex.example", "name": "Carol", "role": "client_user" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mail = mail_to(&app, "carol@globex.example").await;
    for w in [
        "Tiene una invitación",
        "Hola, Carol:",
        "le ha invitado al portal",
        "Aceptar la invitación",
    ] {
        assert!(mail.contains(w), "missing {w:?} in\n{mail}");
    }
    assert!(!mail.contains("You are invited"), "{mail}");
}
crate::db_test!(i18n_emails, emails_in_the_recipients_language);

/// Staff with the branding permission set the tenant's default language: a visitor whose
/// browser names no supported language then gets it; the change is audited; a code outside
/// the offered languages is refused; a technician may not change it.
async fn tenant_default_language(app: TestApp) {
    let c = app.client();
    // Only German and French accepted: neither is offered, so the tenant default decides.
    let html = get(&c, &app, "/login?tenant=acme", "de, fr").await;
    assert!(html.contains("<html lang=\"en\">"));
    let (staff, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    let page = get(&staff, &app, "/admin/branding", "en").await;
    assert!(page.contains("Default language"), "{page}");
    let csrf = form_csrf(&page);
    let post = |code: &'static str| {
        staff
            .post(app.url("/admin/branding/language"))
            .form(&[("_csrf", csrf.as_str()), ("default_locale", code)])
            .send()
    };
    let r = post("de").await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post("es").await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = get(&c, &app, "/login?tenant=acme", "de, fr").await;
    assert!(html.contains("<html lang=\"es\">"), "{html}");
    assert!(html.contains("Iniciar sesión en"));
    // The browser's own supported choice still wins over the tenant default.
    let html = get(&c, &app, "/login?tenant=acme", "en").await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(
        app.audit_actions("acme")
            .await
            .iter()
            .any(|a| a == "branding.language_changed")
    );
    // A technician lacks the branding permission.
    let (tech, _) = app
        .form_login("acme", "tech@acme.example", "portico-demo", true)
        .await;
    let page = get(&tech, &app, "/admin", "en").await;
    let csrf = form_csrf(&page);
    let r = tech
        .post(app.url("/admin/branding/language"))
        .form(&[("_csrf", csrf.as_str()), ("default_locale", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
crate::db_test!(i18n_tenant_default_language, tenant_default_language);
