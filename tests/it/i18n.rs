//! The interface language: profile, then Accept-Language, then the tenant default.

use crate::support::TestApp;

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
