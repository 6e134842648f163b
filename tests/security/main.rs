//! The security suite: isolation matrix over every documented route with an object id, CSRF
//! on every cookie-authenticated write, hostile input, XSS escaping and cookie flags.
//!
//! Routes come from the router's own registry (`portico::app::documented_routes`), so a new
//! route is covered without anyone remembering; a new route with an object id and no fixture
//! below fails `every_object_route_has_a_fixture`.

// Shared with tests/it; this suite uses only part of it.
#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;

mod fixtures;
mod fixtures_mission;
mod fixtures_more;
mod hostile_input;
mod identity;
mod matrix;
