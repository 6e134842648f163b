//! SVG sanitising for uploaded branding images: the document is parsed with a real XML parser
//! and written out again from an allow-list of elements and attributes, so whatever the parser
//! does not understand, or the list does not name, never reaches the output. Scripts, event
//! handlers, `foreignObject`, animation (which can rewrite links), links other than `#id`
//! fragments and embedded raster images, and CSS that could fetch or run something are removed.
//! A document that cannot be read safely (not UTF-8, malformed, entity declarations, unknown
//! entities, no `<svg>` root) is refused.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Elements kept (SVG's static drawing vocabulary). Everything else is dropped with its content.
const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "symbol",
    "use",
    "title",
    "desc",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "marker",
    "image",
    "style",
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feComposite",
    "feDropShadow",
    "feFlood",
    "feFuncA",
    "feFuncB",
    "feFuncG",
    "feFuncR",
    "feGaussianBlur",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
];

/// Attributes kept (presentation and geometry). `on*`, `href` with anything but a fragment or
/// an embedded raster image, and namespaced attributes other than `xlink:href` and `xml:space`
/// are dropped.
const ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "style",
    "transform",
    "transform-origin",
    "viewBox",
    "width",
    "height",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "fr",
    "d",
    "points",
    "pathLength",
    "fill",
    "fill-opacity",
    "fill-rule",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-opacity",
    "opacity",
    "color",
    "display",
    "visibility",
    "overflow",
    "clip-path",
    "clip-rule",
    "clipPathUnits",
    "mask",
    "maskUnits",
    "maskContentUnits",
    "filter",
    "filterUnits",
    "primitiveUnits",
    "color-interpolation-filters",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "font-variant",
    "text-anchor",
    "text-decoration",
    "dominant-baseline",
    "baseline-shift",
    "letter-spacing",
    "word-spacing",
    "textLength",
    "lengthAdjust",
    "startOffset",
    "rotate",
    "dx",
    "dy",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "patternUnits",
    "patternContentUnits",
    "patternTransform",
    "preserveAspectRatio",
    "markerWidth",
    "markerHeight",
    "markerUnits",
    "refX",
    "refY",
    "orient",
    "marker-start",
    "marker-mid",
    "marker-end",
    "paint-order",
    "vector-effect",
    "shape-rendering",
    "text-rendering",
    "image-rendering",
    "mix-blend-mode",
    "isolation",
    "stdDeviation",
    "in",
    "in2",
    "result",
    "mode",
    "operator",
    "values",
    "type",
    "tableValues",
    "slope",
    "intercept",
    "amplitude",
    "exponent",
    "k1",
    "k2",
    "k3",
    "k4",
    "radius",
    "flood-color",
    "flood-opacity",
    "version",
    "xml:space",
    "href",
    "xlink:href",
];

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

/// Why an SVG was refused (a catalog key in branding.ftl).
pub type Refusal = &'static str;

/// Not UTF-8, malformed XML, or no `<svg>` document element.
pub const UNREADABLE: Refusal = "branding-svg-unreadable";
/// Declares entities or uses ones XML does not predefine.
pub const ENTITIES: Refusal = "branding-svg-entities";

/// The SVG rewritten from the allow-lists, or why it cannot be made safe.
pub fn sanitize(input: &[u8]) -> Result<String, Refusal> {
    let text = std::str::from_utf8(input).map_err(|_| UNREADABLE)?;
    let mut reader = Reader::from_str(text.trim_start_matches('\u{feff}'));
    reader.config_mut().check_end_names = true;
    let mut out = String::with_capacity(input.len());
    // Open kept elements (to know when `<style>` text is read) and the depth of a dropped
    // subtree still being skipped.
    let mut open: Vec<String> = Vec::new();
    let mut skip = 0usize;
    let mut root_seen = false;
    let mut root_closed = false;
    let mut style_text = String::new();
    loop {
        let event = reader.read_event().map_err(|_| UNREADABLE)?;
        if skip > 0 {
            match event {
                Event::Start(_) => skip += 1,
                Event::End(_) => skip -= 1,
                Event::Eof => return Err(UNREADABLE),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(e) | Event::Empty(e) if root_closed => {
                let _ = e;
                return Err(UNREADABLE);
            }
            Event::Start(e) => match element(&e, !root_seen)? {
                Some(tag) => {
                    root_seen = true;
                    out.push_str(&tag);
                    out.push('>');
                    open.push(local(&e));
                }
                None if !root_seen => return Err(UNREADABLE),
                None => skip = 1,
            },
            Event::Empty(e) => match element(&e, !root_seen)? {
                Some(tag) => {
                    out.push_str(&tag);
                    out.push_str("/>");
                    if !root_seen {
                        root_seen = true;
                        root_closed = true;
                    }
                }
                None if !root_seen => return Err(UNREADABLE),
                None => {}
            },
            Event::End(_) => {
                let Some(name) = open.pop() else {
                    return Err(UNREADABLE);
                };
                if name == "style" {
                    if safe_css(&style_text) {
                        out.push_str(&escape_text(&style_text));
                    }
                    style_text.clear();
                }
                out.push_str("</");
                out.push_str(&name);
                out.push('>');
                if open.is_empty() {
                    root_closed = true;
                }
            }
            Event::Text(t) => {
                let t = t.decode().map_err(|_| UNREADABLE)?;
                text_into(
                    &open,
                    &mut out,
                    &mut style_text,
                    &t,
                    root_seen && !root_closed,
                )?;
            }
            Event::CData(t) => {
                let t = t.decode().map_err(|_| UNREADABLE)?;
                text_into(
                    &open,
                    &mut out,
                    &mut style_text,
                    &t,
                    root_seen && !root_closed,
                )?;
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|_| ENTITIES)? {
                    Some(c) => c,
                    None => match r.decode().map_err(|_| UNREADABLE)?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err(ENTITIES),
                    },
                };
                let mut buf = [0u8; 4];
                let s: &str = c.encode_utf8(&mut buf);
                text_into(
                    &open,
                    &mut out,
                    &mut style_text,
                    s,
                    root_seen && !root_closed,
                )?;
            }
            Event::DocType(d) => {
                // A doctype with an internal subset can declare entities (billion laughs,
                // external files); the usual public identifier alone is harmless and dropped.
                if d.decode().map_err(|_| UNREADABLE)?.contains('[') {
                    return Err(ENTITIES);
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !root_seen || !open.is_empty() {
        return Err(UNREADABLE);
    }
    Ok(out)
}

/// Text inside the document: `<style>` text is collected to be checked whole; other text is
/// escaped; outside the root only whitespace may appear.
fn text_into(
    open: &[String],
    out: &mut String,
    style: &mut String,
    t: &str,
    inside: bool,
) -> Result<(), Refusal> {
    if !inside {
        return if t.trim().is_empty() {
            Ok(())
        } else {
            Err(UNREADABLE)
        };
    }
    if open.last().is_some_and(|n| n == "style") {
        style.push_str(t);
    } else {
        out.push_str(&escape_text(t));
    }
    Ok(())
}

fn local(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.name().as_ref()).into_owned()
}

/// The opening tag (without its closing `>`) of a kept element, `None` for a dropped one.
fn element(e: &BytesStart<'_>, is_root: bool) -> Result<Option<String>, Refusal> {
    let name = local(e);
    if is_root && name != "svg" {
        return Ok(None);
    }
    if !ELEMENTS.contains(&name.as_str()) {
        return Ok(None);
    }
    let mut tag = format!("<{name}");
    if is_root {
        tag.push_str(&format!(" xmlns=\"{SVG_NS}\" xmlns:xlink=\"{XLINK_NS}\""));
    }
    for a in e.attributes() {
        let a = a.map_err(|_| UNREADABLE)?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a.unescape_value().map_err(|_| ENTITIES)?;
        if key == "xmlns" {
            if value != SVG_NS {
                // Another default namespace: the elements are not SVG at all.
                return Ok(None);
            }
            continue;
        }
        if !ATTRIBUTES.contains(&key.as_str()) || !safe_value(&key, &name, &value) {
            continue;
        }
        tag.push(' ');
        tag.push_str(&key);
        tag.push_str("=\"");
        tag.push_str(&escape_attr(&value));
        tag.push('"');
    }
    Ok(Some(tag))
}

/// Whether an allowed attribute's value is harmless: links point inside the document (or, on
/// `<image>`, are an embedded PNG, JPEG, GIF or WebP), and nothing else references outside.
fn safe_value(key: &str, element: &str, value: &str) -> bool {
    let squashed: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    if key == "href" || key == "xlink:href" {
        if squashed.starts_with('#') {
            return true;
        }
        return element == "image"
            && ["png", "jpeg", "gif", "webp"]
                .iter()
                .any(|t| squashed.starts_with(&format!("data:image/{t};base64,")));
    }
    safe_css(value)
}

/// CSS (a `<style>` element, a `style` attribute or a presentation value) that loads nothing
/// and runs nothing: `url()` only to `#fragments`, no `@import`, escapes or script schemes.
pub fn safe_css(css: &str) -> bool {
    let s: String = css
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '"' | '\''))
        .collect::<String>()
        .to_ascii_lowercase();
    if s.contains('\\')
        || s.contains("@import")
        || s.contains("javascript:")
        || s.contains("expression(")
        || s.contains("-moz-binding")
        || s.contains("behavior:")
        || s.contains("</")
    {
        return false;
    }
    s.match_indices("url(")
        .all(|(i, m)| s[i + m.len()..].starts_with('#'))
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape_attr(s: &str) -> String {
    escape_text(s).replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_links_are_removed() {
        let dirty = br##"<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10" onload="alert(1)">
  <script>alert(2)</script>
  <rect width="10" height="10" fill="#123456" onclick="alert(3)" style="fill:url(https://evil.example/x)"/>
  <a href="javascript:alert(4)"><circle r="2"/></a>
  <foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/></foreignObject>
  <use xlink:href="https://evil.example/sprite.svg#a"/>
  <use href="#ok"/>
  <image href="data:image/png;base64,AAAA"/>
  <image href="data:image/svg+xml;base64,AAAA"/>
  <set attributeName="href" to="javascript:alert(5)"/>
  <style>@import url(https://evil.example/a.css); rect { fill: red }</style>
  <style>rect &gt; g { fill: url(#grad) }</style>
  <text x="1">A &amp; B &#x263A;</text>
</svg>"##;
        let clean = sanitize(dirty).expect("sanitised");
        let lower = clean.to_ascii_lowercase();
        for bad in [
            "script",
            "onload",
            "onclick",
            "javascript",
            "foreignobject",
            "iframe",
            "evil.example",
            "<a",
            "<set",
            "image/svg",
            "@import",
            "doctype",
        ] {
            assert!(!lower.contains(bad), "{bad} survived: {clean}");
        }
        assert!(clean.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(clean.contains("<rect width=\"10\" height=\"10\" fill=\"#123456\"/>"));
        assert!(clean.contains("<use href=\"#ok\"/>"));
        assert!(clean.contains("<image href=\"data:image/png;base64,AAAA\"/>"));
        assert!(clean.contains("rect &gt; g { fill: url(#grad) }"));
        assert!(clean.contains("A &amp; B \u{263A}"));
        // The result parses again to the same text.
        assert_eq!(sanitize(clean.as_bytes()).expect("again"), clean);
    }

    #[test]
    fn what_cannot_be_made_safe_is_refused() {
        let laughs =
            br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY lol "lol">]><svg>&lol;</svg>"#;
        assert_eq!(sanitize(laughs), Err(ENTITIES));
        assert_eq!(sanitize(b"<svg>&nbsp;</svg>"), Err(ENTITIES));
        assert_eq!(sanitize(b"<html><svg/></html>"), Err(UNREADABLE));
        assert_eq!(sanitize(b"<svg><rect></svg>"), Err(UNREADABLE));
        assert_eq!(sanitize(b"\xff\xfe<svg/>"), Err(UNREADABLE));
        assert_eq!(sanitize(b"<svg/><svg/>"), Err(UNREADABLE));
        assert_eq!(
            sanitize(b"<svg xmlns=\"http://www.w3.org/1999/xhtml\"><script>x</script></svg>"),
            Err(UNREADABLE)
        );
        assert!(sanitize(b"<svg/>").is_ok());
    }
}
