//! What an upload is, decided from its content (never from its name or the browser's claim),
//! also while it streams: the type from the head, and for plain text every later chunk too.

/// Bytes read before the type is decided.
pub const SNIFF_BYTES: usize = 64 * 1024;

const NOT_ACCEPTED: &str =
    "is of a type we do not accept. Attach images, PDFs, text, office documents or zip files.";
const MARKUP: &str = "looks like a web page or markup, which we do not accept. Attach a PDF or a screenshot instead.";

/// Allowed upload types by content (never by the name or the browser's claim).
const ALLOWED_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "image/heif",
    "image/avif",
    "application/pdf",
    "application/zip",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// The content type of an upload, or a message saying why it is refused.
pub fn sniff_upload(bytes: &[u8]) -> Result<&'static str, &'static str> {
    if bytes.is_empty() {
        return Err("is empty.");
    }
    if let Some(kind) = infer::get(bytes) {
        return ALLOWED_TYPES
            .iter()
            .find(|t| **t == kind.mime_type())
            .copied()
            .ok_or(NOT_ACCEPTED);
    }
    // Unrecognised binary: accept only plain text (logs, CSV) that a browser won't run as markup.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(
            "is of a type we do not accept. Attach images, PDFs, text, office documents or zip files.",
        );
    };
    let head: String = text
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    if text.contains('\0')
        || [
            "<html",
            "<!doctype",
            "<svg",
            "<script",
            "<?xml",
            "<body",
            "<iframe",
        ]
        .iter()
        .any(|m| head.contains(m))
    {
        return Err(
            "looks like a web page or markup, which we do not accept. Attach a PDF or a screenshot instead.",
        );
    }
    Ok("text/plain")
}

/// The type of a branding image's head, for forms that decide themselves what to keep:
/// `image/svg+xml` for SVG markup (which the caller must sanitise), else the type the magic
/// bytes name, else `application/octet-stream`. Refuses only an empty file.
pub fn sniff_any(head: &[u8]) -> Result<&'static str, &'static str> {
    if head.is_empty() {
        return Err("is empty.");
    }
    if looks_like_svg(head) {
        return Ok("image/svg+xml");
    }
    Ok(infer::get(head).map_or("application/octet-stream", |k| k.mime_type()))
}

/// Whether the document element of `head` is `<svg`, after a byte-order mark, an XML
/// declaration, comments, processing instructions and a doctype.
pub fn looks_like_svg(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(SNIFF_BYTES)]);
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        let skip_to = |s: &str, open: &str, close: &str| -> Option<usize> {
            s.starts_with(open)
                .then(|| s.find(close).map(|i| i + close.len()))
                .flatten()
        };
        // A doctype may hold an internal subset in brackets, with `>` inside it.
        let doctype = |s: &str| -> Option<usize> {
            if !(s.starts_with("<!DOCTYPE") || s.starts_with("<!doctype")) {
                return None;
            }
            let close = s.find('>')?;
            match s.find('[') {
                Some(open) if open < close => {
                    let end = open + s[open..].find(']')?;
                    Some(end + s[end..].find('>')? + 1)
                }
                _ => Some(close + 1),
            }
        };
        if let Some(i) = skip_to(rest, "<?", "?>")
            .or_else(|| skip_to(rest, "<!--", "-->"))
            .or_else(|| doctype(rest))
        {
            rest = rest[i..].trim_start();
            continue;
        }
        break;
    }
    rest.strip_prefix("<svg")
        .and_then(|r| r.chars().next())
        .is_some_and(|c| c.is_whitespace() || c == '>' || c == '/')
}

/// A size for people ("12 KB").
pub fn human_size(bytes: &i64) -> String {
    let b = *bytes as f64;
    if b < 1024.0 {
        format!("{bytes} bytes")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    }
}

/// A file name safe to store and to send back in `Content-Disposition`.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | ';'))
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// The type of an upload from its first bytes; `complete` says whether that is the whole file.
/// A multi-byte character cut at the end of an incomplete head is left for [`ContentCheck`].
pub fn sniff_head(head: &[u8], complete: bool) -> Result<&'static str, &'static str> {
    if complete {
        return sniff_upload(head);
    }
    let cut = match std::str::from_utf8(head) {
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        _ => head.len(),
    };
    sniff_upload(&head[..cut])
}

/// Checks the rest of a plain-text upload chunk by chunk with the rules of [`sniff_upload`]:
/// valid UTF-8 throughout and no NUL byte.
#[derive(Debug, Default)]
pub struct ContentCheck {
    carry: Vec<u8>,
}

impl ContentCheck {
    /// Starts after `head`, which [`sniff_head`] judged to be text.
    pub fn after(head: &[u8]) -> ContentCheck {
        let mut c = ContentCheck::default();
        if let Err(e) = std::str::from_utf8(head)
            && e.error_len().is_none()
        {
            c.carry = head[e.valid_up_to()..].to_vec();
        }
        c
    }

    /// Checks the next chunk.
    pub fn check(&mut self, chunk: &[u8]) -> Result<(), &'static str> {
        let joined;
        let data: &[u8] = if self.carry.is_empty() {
            chunk
        } else {
            joined = [self.carry.as_slice(), chunk].concat();
            &joined
        };
        if data.contains(&0) {
            return Err(MARKUP);
        }
        match std::str::from_utf8(data) {
            Ok(_) => {
                self.carry.clear();
                Ok(())
            }
            Err(e) if e.error_len().is_none() => {
                self.carry = data[e.valid_up_to()..].to_vec();
                Ok(())
            }
            Err(_) => Err(NOT_ACCEPTED),
        }
    }

    /// The file ended: a character cut off at the very end makes it not text.
    pub fn finish(&self) -> Result<(), &'static str> {
        if self.carry.is_empty() {
            Ok(())
        } else {
            Err(NOT_ACCEPTED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_checked_by_content() {
        assert_eq!(sniff_upload(b"%PDF-1.4\n...").unwrap(), "application/pdf");
        assert_eq!(sniff_upload(b"a,b\n1,2\n").unwrap(), "text/plain");
        assert!(sniff_upload(b"MZ\x90\x00\x03\x00\x00\x00").is_err());
        assert!(sniff_upload(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00").is_err());
        assert!(sniff_upload(b"<html><script>x</script></html>").is_err());
        assert!(sniff_upload(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>").is_err());
        assert_eq!(clean_filename("../../etc/pa\"ss;wd"), "passwd");
    }

    #[test]
    fn svg_is_recognised_behind_its_prologue() {
        assert!(looks_like_svg(b"<svg xmlns='http://www.w3.org/2000/svg'/>"));
        assert!(looks_like_svg(
            b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n<svg>"
        ));
        assert!(looks_like_svg(
            b"<!DOCTYPE svg [<!ENTITY a \"b\">]><svg xmlns='http://www.w3.org/2000/svg'>&a;</svg>"
        ));
        assert!(!looks_like_svg(b"<svgx>"));
        assert!(!looks_like_svg(b"<html><svg></svg></html>"));
        assert_eq!(sniff_any(b"<svg></svg>").unwrap(), "image/svg+xml");
        assert_eq!(
            sniff_any(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap(),
            "image/png"
        );
        assert_eq!(sniff_any(b"hello").unwrap(), "application/octet-stream");
        assert!(sniff_any(b"").is_err());
    }

    #[test]
    fn text_is_checked_to_the_end_while_streaming() {
        let text = "línea uno, ünïcödé\n".repeat(10);
        let bytes = text.as_bytes();
        // Split inside a two-byte character: the head is still text.
        let split = text.find('í').unwrap() + 1;
        assert_eq!(sniff_head(&bytes[..split], false).unwrap(), "text/plain");
        assert!(sniff_head(&bytes[..split], true).is_err());
        let mut c = ContentCheck::after(&bytes[..split]);
        c.check(&bytes[split..]).unwrap();
        c.finish().unwrap();
        // A NUL or invalid UTF-8 after the head is refused like in a whole file.
        let mut c = ContentCheck::after(b"plain log\n");
        assert!(c.check(b"more\0").is_err());
        let mut c = ContentCheck::after(b"plain log\n");
        assert!(c.check(b"\xff\xfe").is_err());
        let mut c = ContentCheck::after(b"plain log\n");
        c.check(b"ends mid character \xc3").unwrap();
        assert!(c.finish().is_err());
    }
}
