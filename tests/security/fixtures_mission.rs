//! Isolation fixtures for Mission (grace) routes: events, groups, the calendar feed.

use crate::fixtures::{Fixture, PageFixture};
use crate::support::TestApp;

/// The fixture for a documented `(path, method)`, or `None` when none is defined yet.
pub async fn fixture(_app: &TestApp, _path: &str, _method: &str) -> Option<Fixture> {
    None
}

/// The fixture for a page `(path, method)`, or `None` when none is defined yet.
pub async fn page_fixture(_app: &TestApp, _path: &str, _method: &str) -> Option<PageFixture> {
    None
}
