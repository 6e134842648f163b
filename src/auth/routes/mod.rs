//! Sign-in, sign-out, password reset and invitation acceptance: pages and JSON API.

mod api;
mod signin;
mod token_flows;

use crate::http::PageRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::routing::{get, post};

use crate::http::ApiRouter;
use api::*;
use signin::*;
use token_flows::*;

pub use api::Me;
pub(crate) use signin::{signed_in_response, start_session};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/", get(root))
        .route("/login", get(login_page).post(login_form))
        .route("/admin/login", get(admin_login_page).post(admin_login_form))
        .route("/logout", post(logout_form))
        .route("/admin/logout", post(logout_form))
        .route("/forgot-password", get(forgot_page).post(forgot_form))
        .route("/reset-password", get(reset_page).post(reset_form))
        .route("/invite/accept", get(invite_page).post(invite_form))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/auth/login",
            post_with(api_login, |op| {
                op.id("login").tag("auth").summary("Sign in").description(LOGIN_DOC)
                    .response_with::<200, Json<Me>, _>(|r| r.description("Signed in; the body describes the user and carries the session's `csrf_token`; `Set-Cookie` sets the session cookie."))
            }),
        )
        .route(
            "/api/v1/auth/logout",
            post_with(api_logout, |op| {
                op.id("logout").tag("auth").summary("Sign out")
                    .description("Ends the portal session of the `portico_portal` cookie and clears the cookie. Without a session it does nothing and still answers 204. With a session, `X-CSRF-Token` is required.")
                    .response_with::<204, (), _>(|r| r.description("Signed out (or was not signed in)."))
            }),
        )
        .route(
            "/api/v1/admin/auth/logout",
            post_with(api_logout, |op| {
                op.id("adminLogout").tag("auth").summary("Sign out (staff)")
                    .description("Ends the staff session of the `portico_admin` cookie. With a session, `X-CSRF-Token` is required.")
                    .response_with::<204, (), _>(|r| r.description("Signed out (or was not signed in)."))
            }),
        )
        .route(
            "/api/v1/me",
            get_with(api_me, |op| op.id("getMe").tag("auth").summary("The signed-in portal user")),
        )
        .route(
            "/api/v1/admin/me",
            get_with(api_admin_me, |op| op.id("getAdminMe").tag("auth").summary("The signed-in staff user")),
        )
}

const LOGIN_DOC: &str = "Checks the credentials against the resolved tenant and starts a session of the requested audience, set as the `portico_portal` or `portico_admin` cookie. The account must be active, of the audience's kind (staff for `admin`, client users and members for `portal`) and, for client users, of an active company; otherwise, or on a wrong password, the answer is the same 401, which never tells whether the account exists. Failed attempts are throttled per account and per IP; once over the limit the answer is 429 with `Retry-After`. For accounts with two-step sign-in, the answer without `code` is 401 with error code `mfa_required`; send the authenticator (or a recovery) code as `code` in the same call.";
