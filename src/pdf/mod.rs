//! Branded PDF documents (invoices, statements, signed policies): a small flow-layout builder over
//! `krilla`.
//!
//! Features describe content top to bottom (headings, paragraphs, tables, totals, a QR code);
//! the builder wraps text, breaks pages, repeats table headers and stamps every page with the
//! tenant's name band and a page number. Text is real text in an embedded, subsetted DejaVu Sans,
//! so `pdftotext` reads it back (tests rely on that) and names with accents print correctly.

use std::sync::{Arc, LazyLock};

use krilla::Document;
use krilla::annotation::{LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
/// Height of the brand band at the top of every page.
const BAND_H: f32 = 56.0;
const FOOTER_Y: f32 = PAGE_H - 28.0;
const CONTENT_TOP: f32 = BAND_H + 28.0;
const CONTENT_BOTTOM: f32 = PAGE_H - 50.0;

/// Why a PDF could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The embedded font failed to load (a build problem, not an input one).
    #[error("the PDF font could not be loaded")]
    Font,
    /// The PDF writer refused the content.
    #[error("the PDF could not be written: {0}")]
    Write(String),
    /// Text for a QR code was too long to encode.
    #[error("the text is too long for a QR code")]
    QrTooLong,
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub u8, pub u8, pub u8);

impl Colour {
    /// Near-black body text.
    pub const TEXT: Colour = Colour(0x1f, 0x29, 0x37);
    /// Secondary text (captions, footers).
    pub const MUTED: Colour = Colour(0x6b, 0x72, 0x80);
    /// Hairlines and table borders.
    pub const RULE: Colour = Colour(0xd1, 0xd5, 0xdb);
    /// White.
    pub const WHITE: Colour = Colour(0xff, 0xff, 0xff);

    /// Parses `#rrggbb` (the form branding stores), falling back to `fallback`.
    pub fn from_hex(hex: &str, fallback: Colour) -> Colour {
        let h = hex.trim().trim_start_matches('#');
        if h.len() != 6 || !h.is_ascii() {
            return fallback;
        }
        let part = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
        match (part(0), part(2), part(4)) {
            (Some(r), Some(g), Some(b)) => Colour(r, g, b),
            _ => fallback,
        }
    }

    fn rgb(self) -> rgb::Color {
        rgb::Color::new(self.0, self.1, self.2)
    }

    /// A light tint of this colour (for table header backgrounds).
    pub fn tint(self, keep: f32) -> Colour {
        let mix = |c: u8| (c as f32 * keep + 255.0 * (1.0 - keep)).round() as u8;
        Colour(mix(self.0), mix(self.1), mix(self.2))
    }

    /// Whether white text reads on this colour (WCAG relative luminance).
    fn dark(self) -> bool {
        let lin = |c: u8| {
            let c = c as f32 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let l = 0.2126 * lin(self.0) + 0.7152 * lin(self.1) + 0.0722 * lin(self.2);
        l < 0.45
    }
}

/// Who the document comes from: printed in the band on every page.
#[derive(Debug, Clone)]
pub struct Brand {
    /// The tenant's display name.
    pub name: String,
    /// The primary colour of the band and table headers.
    pub accent: Colour,
    /// The tenant's logo as PNG or JPEG bytes, drawn instead of the name when it decodes.
    pub logo: Option<Vec<u8>>,
}

/// Horizontal alignment of a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left (text).
    Left,
    /// Right (numbers, money).
    Right,
}

/// One table column: its header, its share of the content width and its alignment.
#[derive(Debug, Clone)]
pub struct Column {
    /// Header text.
    pub title: String,
    /// Share of the content width; shares are normalised over the table.
    pub width: f32,
    /// Alignment of header and cells.
    pub align: Align,
}

impl Column {
    /// A column of `width` share.
    pub fn new(title: impl Into<String>, width: f32, align: Align) -> Self {
        Column {
            title: title.into(),
            width,
            align,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Weight {
    Regular,
    Bold,
}

/// What is drawn, recorded first so layout can finish before pages are written.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        colour: Colour,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        colour: Colour,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        colour: Colour,
        width: f32,
    },
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        bytes: Arc<Vec<u8>>,
    },
    Link {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        url: String,
    },
}

struct Fonts {
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    Some(Fonts {
        regular: ttf_parser::Face::parse(REGULAR_TTF, 0).ok()?,
        bold: ttf_parser::Face::parse(BOLD_TTF, 0).ok()?,
    })
});

/// Width of `text` at `size` points.
fn text_width(text: &str, size: f32, weight: Weight) -> f32 {
    let Some(fonts) = FONTS.as_ref() else {
        // Without metrics, assume an average glyph so layout still terminates.
        return text.chars().count() as f32 * size * 0.55;
    };
    let face = match weight {
        Weight::Regular => &fonts.regular,
        Weight::Bold => &fonts.bold,
    };
    let upem = face.units_per_em() as f32;
    text.chars()
        .map(|c| {
            face.glyph_index(c)
                .and_then(|g| face.glyph_hor_advance(g))
                .map(|a| a as f32)
                .unwrap_or(upem * 0.55)
        })
        .sum::<f32>()
        * size
        / upem
}

/// Splits `text` into lines no wider than `width` (words longer than a line are cut).
fn wrap(text: &str, size: f32, weight: Weight, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if text_width(&candidate, size, weight) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A single word wider than the line: cut it by characters.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if text_width(&piece, size, weight) > width && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        lines.push(line);
    }
    lines
}

/// Replaces control characters (which would print as boxes or break the layout) with spaces.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// A document being laid out.
pub struct Pdf {
    brand: Brand,
    title: String,
    footer: String,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Pdf {
    /// Starts a document with `title` (document metadata and the band's right-hand side).
    pub fn new(brand: Brand, title: impl Into<String>) -> Self {
        Pdf {
            brand,
            title: printable(&title.into()),
            footer: String::new(),
            pages: vec![Vec::new()],
            y: CONTENT_TOP,
        }
    }

    /// Text printed at the bottom left of every page (an address, a reference).
    pub fn footer(&mut self, text: impl Into<String>) -> &mut Self {
        self.footer = printable(&text.into());
        self
    }

    fn width() -> f32 {
        PAGE_W - 2.0 * MARGIN
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    /// Starts a new page.
    pub fn page_break(&mut self) -> &mut Self {
        self.pages.push(Vec::new());
        self.y = CONTENT_TOP;
        self
    }

    /// Breaks the page unless `height` more points fit.
    fn ensure(&mut self, height: f32) {
        if self.y + height > CONTENT_BOTTOM && self.y > CONTENT_TOP {
            self.page_break();
        }
    }

    /// The remaining vertical space on the current page, in points.
    pub fn space_left(&self) -> f32 {
        CONTENT_BOTTOM - self.y
    }

    fn lines(&mut self, text: &str, size: f32, weight: Weight, colour: Colour, gap_after: f32) {
        let lead = size * 1.35;
        for line in wrap(&printable(text), size, weight, Self::width()) {
            self.ensure(lead);
            self.push(Op::Text {
                x: MARGIN,
                y: self.y + size,
                size,
                weight,
                colour,
                text: line,
            });
            self.y += lead;
        }
        self.y += gap_after;
    }

    /// A large bold heading.
    pub fn heading(&mut self, text: &str) -> &mut Self {
        self.ensure(40.0);
        self.lines(text, 18.0, Weight::Bold, Colour::TEXT, 6.0);
        self
    }

    /// A section heading.
    pub fn subheading(&mut self, text: &str) -> &mut Self {
        self.ensure(36.0);
        self.y += 4.0;
        self.lines(text, 12.5, Weight::Bold, Colour::TEXT, 4.0);
        self
    }

    /// A wrapped paragraph of body text.
    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        self.lines(text, 10.0, Weight::Regular, Colour::TEXT, 6.0);
        self
    }

    /// Bold body text.
    pub fn strong(&mut self, text: &str) -> &mut Self {
        self.lines(text, 10.0, Weight::Bold, Colour::TEXT, 4.0);
        self
    }

    /// Small secondary text.
    pub fn small(&mut self, text: &str) -> &mut Self {
        self.lines(text, 8.5, Weight::Regular, Colour::MUTED, 4.0);
        self
    }

    /// Vertical space.
    pub fn spacer(&mut self, points: f32) -> &mut Self {
        self.y += points;
        self
    }

    /// A full-width hairline.
    pub fn rule(&mut self) -> &mut Self {
        self.ensure(10.0);
        self.y += 4.0;
        let y = self.y;
        self.push(Op::Line {
            x1: MARGIN,
            y1: y,
            x2: PAGE_W - MARGIN,
            y2: y,
            colour: Colour::RULE,
            width: 0.75,
        });
        self.y += 8.0;
        self
    }

    /// A filled label ("PAID", "OVERDUE") in `colour`.
    pub fn badge(&mut self, text: &str, colour: Colour) -> &mut Self {
        let text = printable(text);
        let size = 10.0;
        let w = text_width(&text, size, Weight::Bold) + 16.0;
        self.ensure(24.0);
        let (x, y) = (MARGIN, self.y);
        self.push(Op::Rect {
            x,
            y,
            w,
            h: 18.0,
            colour,
        });
        let fg = if colour.dark() {
            Colour::WHITE
        } else {
            Colour::TEXT
        };
        self.push(Op::Text {
            x: x + 8.0,
            y: y + 13.0,
            size,
            weight: Weight::Bold,
            colour: fg,
            text,
        });
        self.y += 26.0;
        self
    }

    /// Label/value pairs in two columns (addresses, dates, references).
    pub fn key_values(&mut self, pairs: &[(&str, &str)]) -> &mut Self {
        let size = 10.0;
        let label_w = Self::width() * 0.32;
        let value_w = Self::width() - label_w - 8.0;
        for (label, value) in pairs {
            let label_lines = wrap(&printable(label), size, Weight::Bold, label_w);
            let value_lines = wrap(&printable(value), size, Weight::Regular, value_w);
            let rows = label_lines.len().max(value_lines.len());
            let lead = size * 1.35;
            self.ensure(lead * rows as f32);
            for (i, line) in label_lines.into_iter().enumerate() {
                let y = self.y + size + lead * i as f32;
                self.push(Op::Text {
                    x: MARGIN,
                    y,
                    size,
                    weight: Weight::Bold,
                    colour: Colour::MUTED,
                    text: line,
                });
            }
            for (i, line) in value_lines.into_iter().enumerate() {
                let y = self.y + size + lead * i as f32;
                let x = MARGIN + label_w + 8.0;
                self.push(Op::Text {
                    x,
                    y,
                    size,
                    weight: Weight::Regular,
                    colour: Colour::TEXT,
                    text: line,
                });
            }
            self.y += lead * rows as f32 + 2.0;
        }
        self.y += 4.0;
        self
    }

    /// Two blocks of lines side by side (e.g. "From" and "Bill to" addresses); the first line of
    /// each block is bold.
    pub fn two_columns(&mut self, left: &[&str], right: &[&str]) -> &mut Self {
        let size = 10.0;
        let lead = size * 1.35;
        let half = Self::width() / 2.0 - 8.0;
        let block = |lines: &[&str]| -> Vec<(String, Weight)> {
            lines
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    let w = if i == 0 {
                        Weight::Bold
                    } else {
                        Weight::Regular
                    };
                    wrap(&printable(l), size, w, half)
                        .into_iter()
                        .map(move |t| (t, w))
                })
                .collect()
        };
        let (l, r) = (block(left), block(right));
        let rows = l.len().max(r.len());
        self.ensure(lead * rows as f32);
        for (col, lines) in [(0.0, l), (Self::width() / 2.0 + 8.0, r)] {
            for (i, (text, weight)) in lines.into_iter().enumerate() {
                let y = self.y + size + lead * i as f32;
                self.push(Op::Text {
                    x: MARGIN + col,
                    y,
                    size,
                    weight,
                    colour: Colour::TEXT,
                    text,
                });
            }
        }
        self.y += lead * rows as f32 + 8.0;
        self
    }

    fn table_header(&mut self, columns: &[(Column, f32, f32)]) {
        let size = 9.0;
        let h = 20.0;
        let tint = self.brand.accent.tint(0.18);
        self.push(Op::Rect {
            x: MARGIN,
            y: self.y,
            w: Self::width(),
            h,
            colour: tint,
        });
        for (col, x, w) in columns {
            let text = printable(&col.title);
            let tx = match col.align {
                Align::Left => *x + 4.0,
                Align::Right => *x + w - 4.0 - text_width(&text, size, Weight::Bold),
            };
            self.push(Op::Text {
                x: tx,
                y: self.y + 14.0,
                size,
                weight: Weight::Bold,
                colour: Colour::TEXT,
                text,
            });
        }
        self.y += h;
    }

    /// A table with a shaded header row repeated on every page; cells wrap.
    pub fn table(&mut self, columns: &[Column], rows: &[Vec<String>]) -> &mut Self {
        let total: f32 = columns.iter().map(|c| c.width.max(0.01)).sum();
        let mut x = MARGIN;
        let laid: Vec<(Column, f32, f32)> = columns
            .iter()
            .map(|c| {
                let w = Self::width() * c.width.max(0.01) / total;
                let out = (c.clone(), x, w);
                x += w;
                out
            })
            .collect();
        let size = 9.5;
        let lead = size * 1.35;
        self.ensure(20.0 + lead + 8.0);
        self.table_header(&laid);
        for row in rows {
            let cells: Vec<Vec<String>> = laid
                .iter()
                .enumerate()
                .map(|(i, (_, _, w))| {
                    let text = row.get(i).map(String::as_str).unwrap_or("");
                    wrap(&printable(text), size, Weight::Regular, w - 8.0)
                })
                .collect();
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = lead * lines as f32 + 6.0;
            if self.y + h > CONTENT_BOTTOM {
                self.page_break();
                self.table_header(&laid);
            }
            for ((col, x, w), cell) in laid.iter().zip(cells) {
                for (i, line) in cell.into_iter().enumerate() {
                    let tx = match col.align {
                        Align::Left => *x + 4.0,
                        Align::Right => *x + w - 4.0 - text_width(&line, size, Weight::Regular),
                    };
                    let ty = self.y + 3.0 + size + lead * i as f32;
                    self.push(Op::Text {
                        x: tx,
                        y: ty,
                        size,
                        weight: Weight::Regular,
                        colour: Colour::TEXT,
                        text: line,
                    });
                }
            }
            self.y += h;
            let y = self.y;
            self.push(Op::Line {
                x1: MARGIN,
                y1: y,
                x2: PAGE_W - MARGIN,
                y2: y,
                colour: Colour::RULE,
                width: 0.5,
            });
        }
        self.y += 10.0;
        self
    }

    /// Right-aligned label/amount rows under a table (subtotal, taxes, total); `true` = bold.
    pub fn totals(&mut self, rows: &[(&str, &str, bool)]) -> &mut Self {
        let size = 10.0;
        let lead = size * 1.6;
        let right = PAGE_W - MARGIN - 4.0;
        let label_right = right - 110.0;
        self.ensure(lead * rows.len() as f32);
        for (label, amount, bold) in rows {
            let weight = if *bold { Weight::Bold } else { Weight::Regular };
            let (label, amount) = (printable(label), printable(amount));
            let y = self.y + size;
            let lx = label_right - text_width(&label, size, weight);
            let ax = right - text_width(&amount, size, weight);
            self.push(Op::Text {
                x: lx,
                y,
                size,
                weight,
                colour: Colour::TEXT,
                text: label,
            });
            self.push(Op::Text {
                x: ax,
                y,
                size,
                weight,
                colour: Colour::TEXT,
                text: amount,
            });
            self.y += lead;
        }
        self.y += 6.0;
        self
    }

    /// A clickable link, printed in full so it survives printing.
    pub fn link(&mut self, text: &str, url: &str) -> &mut Self {
        let size = 10.0;
        let start = self.y;
        let accent = self.brand.accent;
        self.lines(text, size, Weight::Regular, accent, 4.0);
        let h = self.y - start - 4.0;
        if h > 0.0 {
            self.push(Op::Link {
                x: MARGIN,
                y: start,
                w: Self::width(),
                h,
                url: url.to_string(),
            });
        }
        self
    }

    /// A QR code of `data`, `side` points wide, at the left margin.
    pub fn qr(&mut self, data: &str, side: f32) -> Result<&mut Self, PdfError> {
        let code = qrcodegen::QrCode::encode_text(data, qrcodegen::QrCodeEcc::Medium)
            .map_err(|_| PdfError::QrTooLong)?;
        let n = code.size();
        // A four-module quiet zone, as scanners expect.
        let module = side / (n + 8) as f32;
        self.ensure(side + 8.0);
        let (x0, y0) = (MARGIN, self.y);
        self.push(Op::Rect {
            x: x0,
            y: y0,
            w: side,
            h: side,
            colour: Colour::WHITE,
        });
        for row in 0..n {
            for col in 0..n {
                if code.get_module(col, row) {
                    self.push(Op::Rect {
                        x: x0 + (col + 4) as f32 * module,
                        y: y0 + (row + 4) as f32 * module,
                        w: module,
                        h: module,
                        colour: Colour(0, 0, 0),
                    });
                }
            }
        }
        self.y += side + 8.0;
        Ok(self)
    }

    /// Renders a Markdown body (headings, paragraphs, lists, code, quotes) as plain flowing text.
    pub fn markdown(&mut self, source: &str) -> &mut Self {
        use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
        let mut buf = String::new();
        let mut heading: Option<HeadingLevel> = None;
        let mut list_depth = 0usize;
        let mut ordered: Vec<Option<u64>> = Vec::new();
        for event in Parser::new(source) {
            match event {
                Event::Start(Tag::Heading { level, .. }) => heading = Some(level),
                Event::End(TagEnd::Heading(_)) => {
                    let text = std::mem::take(&mut buf);
                    match heading.take() {
                        Some(HeadingLevel::H1) => self.heading(&text),
                        _ => self.subheading(&text),
                    };
                }
                Event::Start(Tag::List(start)) => {
                    list_depth += 1;
                    ordered.push(start);
                }
                Event::End(TagEnd::List(_)) => {
                    list_depth = list_depth.saturating_sub(1);
                    ordered.pop();
                    self.spacer(2.0);
                }
                Event::Start(Tag::Item) => {
                    let indent = "    ".repeat(list_depth.saturating_sub(1));
                    let marker = match ordered.last_mut() {
                        Some(Some(n)) => {
                            let m = format!("{n}.");
                            *n += 1;
                            m
                        }
                        _ => "•".to_string(),
                    };
                    buf.push_str(&format!("{indent}{marker} "));
                }
                Event::End(TagEnd::Item) => {
                    let text = std::mem::take(&mut buf);
                    if !text.trim().is_empty() {
                        self.lines(&text, 10.0, Weight::Regular, Colour::TEXT, 2.0);
                    }
                }
                Event::End(TagEnd::Paragraph) if list_depth == 0 => {
                    let text = std::mem::take(&mut buf);
                    self.paragraph(&text);
                }
                Event::End(TagEnd::CodeBlock) | Event::End(TagEnd::BlockQuote(_)) => {
                    let text = std::mem::take(&mut buf);
                    if !text.trim().is_empty() {
                        self.paragraph(text.trim_end());
                    }
                }
                Event::Text(t) | Event::Code(t) => buf.push_str(&t),
                Event::SoftBreak => buf.push(' '),
                Event::HardBreak => buf.push('\n'),
                Event::Rule => {
                    self.rule();
                }
                _ => {}
            }
        }
        if !buf.trim().is_empty() {
            let text = std::mem::take(&mut buf);
            self.paragraph(&text);
        }
        self
    }

    /// Writes the PDF.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        let regular =
            Font::new(krilla::Data::from(REGULAR_TTF.to_vec()), 0).ok_or(PdfError::Font)?;
        let bold = Font::new(krilla::Data::from(BOLD_TTF.to_vec()), 0).ok_or(PdfError::Font)?;
        let mut doc = Document::new();
        doc.set_metadata(
            krilla::metadata::Metadata::new()
                .title(self.title.clone())
                .creator("Portico".to_string())
                .producer("Portico".to_string()),
        );
        let logo = self.brand.logo.as_ref().map(|b| Arc::new(b.clone()));
        let count = self.pages.len();
        for (index, ops) in self.pages.into_iter().enumerate() {
            let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(PdfError::Font)?;
            let mut page = doc.start_page_with(settings);
            let mut links = Vec::new();
            {
                let mut s = page.surface();
                let fonts = (&regular, &bold);
                band(&mut s, &self.brand, logo.as_ref(), &self.title, fonts);
                for op in ops {
                    match op {
                        Op::Link { x, y, w, h, url } => links.push((x, y, w, h, url)),
                        other => draw(&mut s, other, fonts),
                    }
                }
                let footer = format!("{} / {}", index + 1, count);
                let fw = text_width(&footer, 8.0, Weight::Regular);
                let foot = |text: String, x: f32| Op::Text {
                    x,
                    y: FOOTER_Y,
                    size: 8.0,
                    weight: Weight::Regular,
                    colour: Colour::MUTED,
                    text,
                };
                if !self.footer.is_empty() {
                    let text = wrap(
                        &self.footer,
                        8.0,
                        Weight::Regular,
                        PAGE_W - 2.0 * MARGIN - fw - 20.0,
                    )
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                    draw(&mut s, foot(text, MARGIN), fonts);
                }
                draw(&mut s, foot(footer, PAGE_W - MARGIN - fw), fonts);
                s.finish();
            }
            for (x, y, w, h, url) in links {
                if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                    let action = krilla::action::LinkAction::new(url);
                    page.add_annotation(
                        LinkAnnotation::new(rect, Target::Action(action.into())).into(),
                    );
                }
            }
            page.finish();
        }
        doc.finish().map_err(|e| PdfError::Write(format!("{e:?}")))
    }
}

fn fill(colour: Colour) -> Fill {
    Fill {
        paint: colour.rgb().into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn draw(s: &mut Surface<'_>, op: Op, (regular, bold): (&Font, &Font)) {
    match op {
        Op::Text {
            x,
            y,
            size,
            weight,
            colour,
            text,
        } => {
            let font = match weight {
                Weight::Regular => regular.clone(),
                Weight::Bold => bold.clone(),
            };
            s.set_fill(Some(fill(colour)));
            s.draw_text(
                Point::from_xy(x, y),
                font,
                size,
                &text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Rect { x, y, w, h, colour } => {
            let Some(rect) = Rect::from_xywh(x, y, w, h) else {
                return;
            };
            let mut pb = PathBuilder::new();
            pb.push_rect(rect);
            if let Some(path) = pb.finish() {
                s.set_stroke(None);
                s.set_fill(Some(fill(colour)));
                s.draw_path(&path);
            }
        }
        Op::Line {
            x1,
            y1,
            x2,
            y2,
            colour,
            width,
        } => {
            let mut pb = PathBuilder::new();
            pb.move_to(x1, y1);
            pb.line_to(x2, y2);
            if let Some(path) = pb.finish() {
                s.set_fill(None);
                s.set_stroke(Some(Stroke {
                    paint: colour.rgb().into(),
                    width,
                    ..Default::default()
                }));
                s.draw_path(&path);
                s.set_stroke(None);
            }
        }
        Op::Image { x, y, w, h, bytes } => {
            let data = krilla::Data::from(bytes.as_ref().clone());
            let image = krilla::image::Image::from_png(data.clone(), true)
                .or_else(|_| krilla::image::Image::from_jpeg(data, true));
            if let (Ok(image), Some(size)) = (image, Size::from_wh(w, h)) {
                s.push_transform(&krilla::geom::Transform::from_translate(x, y));
                s.draw_image(image, size);
                s.pop();
            }
        }
        Op::Link { .. } => {}
    }
}

/// The brand band: the accent colour across the top, the logo or name on the left, the
/// document title on the right.
fn band(
    s: &mut Surface<'_>,
    brand: &Brand,
    logo: Option<&Arc<Vec<u8>>>,
    title: &str,
    fonts: (&Font, &Font),
) {
    draw(
        s,
        Op::Rect {
            x: 0.0,
            y: 0.0,
            w: PAGE_W,
            h: BAND_H,
            colour: brand.accent,
        },
        fonts,
    );
    let fg = if brand.accent.dark() {
        Colour::WHITE
    } else {
        Colour::TEXT
    };
    let logo_size = logo.and_then(|b| logo_dimensions(b));
    match (logo, logo_size) {
        (Some(bytes), Some((w, h))) => {
            // Fit the logo into the band with a white plate behind it, so any logo colour reads.
            let max_h = BAND_H - 20.0;
            let scale = (max_h / h).min(160.0 / w);
            let (lw, lh) = (w * scale, h * scale);
            draw(
                s,
                Op::Rect {
                    x: MARGIN - 6.0,
                    y: 4.0,
                    w: lw + 12.0,
                    h: BAND_H - 8.0,
                    colour: Colour::WHITE,
                },
                fonts,
            );
            let op = Op::Image {
                x: MARGIN,
                y: (BAND_H - lh) / 2.0,
                w: lw,
                h: lh,
                bytes: bytes.clone(),
            };
            draw(s, op, fonts);
            // The name stays as text too, so the document is searchable by it.
            let name = printable(&brand.name);
            let x = MARGIN + lw + 16.0;
            draw(
                s,
                Op::Text {
                    x,
                    y: BAND_H / 2.0 + 4.0,
                    size: 11.0,
                    weight: Weight::Bold,
                    colour: fg,
                    text: name,
                },
                fonts,
            );
        }
        _ => {
            let name = printable(&brand.name);
            draw(
                s,
                Op::Text {
                    x: MARGIN,
                    y: BAND_H / 2.0 + 6.0,
                    size: 16.0,
                    weight: Weight::Bold,
                    colour: fg,
                    text: name,
                },
                fonts,
            );
        }
    }
    let tw = text_width(title, 11.0, Weight::Regular);
    let x = (PAGE_W - MARGIN - tw).max(PAGE_W / 2.0);
    draw(
        s,
        Op::Text {
            x,
            y: BAND_H / 2.0 + 4.0,
            size: 11.0,
            weight: Weight::Regular,
            colour: fg,
            text: title.to_string(),
        },
        fonts,
    );
}

/// Pixel size of a PNG or JPEG, read from its header.
fn logo_dimensions(bytes: &[u8]) -> Option<(f32, f32)> {
    // PNG: width and height are big-endian u32 at offsets 16 and 20 of the IHDR chunk.
    if bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
        let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
        return (w > 0 && h > 0).then_some((w as f32, h as f32));
    }
    // JPEG: walk the segments to the first start-of-frame marker.
    if bytes.starts_with(&[0xff, 0xd8]) {
        let mut i = 2;
        while i + 9 < bytes.len() {
            if bytes[i] != 0xff {
                return None;
            }
            let marker = bytes[i + 1];
            let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
            if (0xc0..=0xc3).contains(&marker) {
                let h = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]);
                let w = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]);
                return (w > 0 && h > 0).then_some((w as f32, h as f32));
            }
            i += 2 + len;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand() -> Brand {
        Brand {
            name: "Acme IT Services".into(),
            accent: Colour::from_hex("#1d4ed8", Colour::TEXT),
            logo: None,
        }
    }

    #[test]
    fn produces_a_pdf_with_every_page() {
        let mut pdf = Pdf::new(brand(), "Invoice INV-0001");
        pdf.heading("Invoice INV-0001")
            .paragraph("José Núñez — señal");
        let rows: Vec<Vec<String>> = (0..120)
            .map(|i| vec![format!("Line {i}"), "1.5".into(), "$10.00".into()])
            .collect();
        pdf.table(
            &[
                Column::new("Description", 3.0, Align::Left),
                Column::new("Qty", 1.0, Align::Right),
                Column::new("Amount", 1.0, Align::Right),
            ],
            &rows,
        );
        pdf.totals(&[("Total", "$1,800.00", true)]);
        pdf.qr("https://portal.example/verify?c=abc", 90.0)
            .expect("qr");
        let bytes = pdf.finish().expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        if let Ok(path) = std::env::var("PORTICO_PDF_SAMPLE") {
            std::fs::write(path, &bytes).expect("write sample");
        }
        // 120 rows do not fit on one A4 page: the table broke onto more pages.
        let text = String::from_utf8_lossy(&bytes);
        let pages = text.matches("/Type/Page").count() - text.matches("/Type/Pages").count();
        assert!(pages >= 3, "{pages} pages");
    }

    #[test]
    fn wraps_long_words_and_text() {
        let lines = wrap(&"x".repeat(400), 10.0, Weight::Regular, 100.0);
        assert!(lines.len() > 3);
        assert!(
            lines
                .iter()
                .all(|l| text_width(l, 10.0, Weight::Regular) <= 100.0)
        );
        assert_eq!(
            wrap("a b", 10.0, Weight::Regular, 500.0),
            vec!["a b".to_string()]
        );
    }

    #[test]
    fn parses_brand_colours() {
        assert_eq!(
            Colour::from_hex("#0f766e", Colour::TEXT),
            Colour(0x0f, 0x76, 0x6e)
        );
        assert_eq!(Colour::from_hex("nope", Colour::MUTED), Colour::MUTED);
        assert_eq!(Colour::from_hex("#ééé", Colour::MUTED), Colour::MUTED);
    }

    #[test]
    fn control_characters_do_not_reach_the_page() {
        assert_eq!(printable("a\u{0}b\u{1b}c\nd"), "a b c\nd");
    }
}
