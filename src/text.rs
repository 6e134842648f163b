//! Bounds and character rules every text input passes before it is stored or hashed.
//!
//! One place decides what a "text field" may contain: no NUL or other control characters
//! anywhere, tab and line breaks only in multi-line fields (descriptions, comments, custom
//! CSS), and a length limit per kind of field.

use crate::error::FieldError;

/// Longest email address (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest person or company name.
pub const NAME_MAX: usize = 120;
/// Longest ticket subject.
pub const SUBJECT_MAX: usize = 200;

/// Whether a field may span several lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// One line: every control character is refused.
    Single,
    /// Several lines: tab, line feed and carriage return are allowed, other controls are not.
    Multi,
}

/// True when `s` contains no character the field kind refuses.
pub fn clean(s: &str, lines: Lines) -> bool {
    s.chars().all(|c| {
        !is_refused_control(c) || (lines == Lines::Multi && matches!(c, '\t' | '\n' | '\r'))
    })
}

// C0, DEL, C1, plus the Unicode line/paragraph separators and bidi overrides, which are
// invisible and can disguise what a name or subject says.
fn is_refused_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks a single-line field: returns it trimmed, or a message naming the problem.
pub fn single_line(field: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    check(field, value, max_chars, Lines::Single)
}

/// Checks a multi-line field: returns it trimmed, or a message naming the problem.
pub fn multi_line(field: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    check(field, value, max_chars, Lines::Multi)
}

/// Checks `value` for `field`: control characters first, then the length (in characters).
pub fn check(
    field: &str,
    value: &str,
    max_chars: usize,
    lines: Lines,
) -> Result<String, FieldError> {
    if !clean(value, lines) {
        let message = match lines {
            Lines::Single => crate::i18n::k("text-control-single"),
            Lines::Multi => crate::i18n::k("text-control-multi"),
        };
        return Err(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
    let t = value.trim();
    // Counting stops early, so a huge value costs no more than the limit.
    if t.chars().nth(max_chars).is_some() {
        return Err(FieldError {
            field: field.into(),
            message: crate::i18n::msg_with(
                crate::i18n::k("text-too-long"),
                &[(
                    "max",
                    crate::i18n::Arg::Num(i64::try_from(max_chars).unwrap_or(i64::MAX)),
                )],
            ),
        });
    }
    Ok(t.to_string())
}

/// A normalised email address when it is within bounds and free of control characters
/// (syntax is checked separately where an address must be deliverable).
pub fn bounded_email(value: &str) -> Option<String> {
    let e = value.trim().to_ascii_lowercase();
    (e.len() <= EMAIL_MAX && clean(&e, Lines::Single)).then_some(e)
}

/// A CSV cell that a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`,
/// `@`, tab or carriage return gets a leading single quote. Every CSV export writes its cells
/// through this.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_by_field_kind() {
        assert!(single_line("name", "Globex\0", 120).is_err());
        assert!(single_line("name", "Glo\nbex", 120).is_err());
        assert!(single_line("name", "Glo\u{202E}bex", 120).is_err());
        assert!(multi_line("description", "a\n\tb\r\n", 100).is_ok());
        assert!(multi_line("description", "a\u{7}b", 100).is_err());
        assert!(multi_line("description", "a\0b", 100).is_err());
        assert_eq!(single_line("name", "  Globex  ", 120).unwrap(), "Globex");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(bad), format!("'{bad}"));
        }
        assert_eq!(csv_cell("alice@globex.example"), "alice@globex.example");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn lengths_count_characters() {
        assert!(single_line("name", &"é".repeat(120), 120).is_ok());
        assert!(single_line("name", &"é".repeat(121), 120).is_err());
        assert!(bounded_email(&format!("{}@x.io", "a".repeat(250))).is_none());
        assert_eq!(bounded_email(" A@B.io ").as_deref(), Some("a@b.io"));
        assert!(bounded_email("a\0@b.io").is_none());
    }
}
