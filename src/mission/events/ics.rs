//! iCalendar (RFC 5545) output: one event's `.ics` and a member's calendar feed. Times are
//! written in UTC so every calendar app places them right in its own zone.

use super::MissionEvent;

/// Escapes a text value (backslash, semicolon, comma, newline).
fn text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
}

/// Folds a content line at 75 octets, on character boundaries.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut len = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if len + n > 75 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += n;
    }
    out.push_str("\r\n");
    out
}

fn stamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

/// A calendar with `events`; `host` makes the UIDs globally unique, `link` gives each its
/// portal address, `tentative` marks waitlisted ones.
pub fn calendar(
    name: &str,
    host: &str,
    events: &[MissionEvent],
    link: impl Fn(&MissionEvent) -> String,
) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//Portico//Mission events//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!("X-WR-CALNAME:{}", text(name)),
    ] {
        out.push_str(&fold(&l));
    }
    let now = stamp(crate::db::now_ms());
    for e in events {
        let status = if e.cancelled {
            "CANCELLED"
        } else if e.my_status.as_deref() == Some("waitlisted") {
            "TENTATIVE"
        } else {
            "CONFIRMED"
        };
        for l in [
            "BEGIN:VEVENT".to_string(),
            format!("UID:{}@{}", e.id, text(host)),
            format!("DTSTAMP:{now}"),
            format!("DTSTART:{}", stamp(e.starts_at)),
            format!("DTEND:{}", stamp(e.ends_at)),
            format!("SUMMARY:{}", text(&e.title)),
            format!("LOCATION:{}", text(&e.place)),
            format!("DESCRIPTION:{}", text(&e.description)),
            format!("URL:{}", link(e)),
            format!("STATUS:{status}"),
            "END:VEVENT".into(),
        ] {
            out.push_str(&fold(&l));
        }
    }
    out.push_str(&fold("END:VCALENDAR"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_lines_folded() {
        assert_eq!(text("a;b,c\nd\\"), "a\\;b\\,c\\nd\\\\");
        let long = fold(&"x".repeat(160));
        assert!(long.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(stamp(0), "19700101T000000Z");
    }
}
