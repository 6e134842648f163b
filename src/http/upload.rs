//! The shared streaming `multipart/form-data` reader. Each file part streams chunk by chunk
//! into storage under a fresh tenant key while its size, type and (for text) content are
//! checked; at most a sniffing head and about two storage parts of a file are in memory at
//! once. Text fields are read whole, bounded. What was stored comes back in a
//! [`Pending`] guard: the action records the files and calls `keep` after its commit; on any
//! failure the objects are deleted again.

use std::collections::HashMap;

use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

use crate::error::{AppError, AppResult, FieldError};
use crate::files::sniff::{SNIFF_BYTES, sniff_head};
use crate::files::{
    ContentCheck, ObjectKey, ObjectWriter, Pending, StoredFile, clean_filename, human_size,
};
use crate::state::AppState;
use crate::tenancy::TenantScope;

/// Bounds of one upload form.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest file, in bytes.
    pub max_file_bytes: u64,
    /// Most files kept from one request.
    pub max_files: usize,
    /// Largest text field, in bytes.
    pub max_text_bytes: usize,
    /// Field name that file problems are reported on.
    pub file_field: &'static str,
    /// Which contents the form takes.
    pub accept: Accept,
}

/// Which contents a form's file parts may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// Attachments: the types `files::sniff` allows, text checked to the end.
    Attachments,
    /// Branding images: any non-empty file is stored with its sniffed type
    /// (`files::sniff::sniff_any`); the caller keeps only the images it accepts and must
    /// sanitise SVG before serving it.
    Images,
}

impl Limits {
    /// The configured file size, `max_files` files, text fields up to 100 KB.
    pub fn new(app: &AppState, max_files: usize, file_field: &'static str) -> Limits {
        Limits {
            max_file_bytes: app.config.max_upload_bytes,
            max_files,
            max_text_bytes: 100 * 1024,
            file_field,
            accept: Accept::Attachments,
        }
    }

    /// One image of at most `max_file_bytes`, small text fields.
    pub fn image(max_file_bytes: u64, file_field: &'static str) -> Limits {
        Limits {
            max_file_bytes,
            max_files: 1,
            max_text_bytes: 1024,
            file_field,
            accept: Accept::Images,
        }
    }

    /// The whole request: every file at its largest plus room for the text fields.
    fn max_total(&self) -> u64 {
        self.max_file_bytes * self.max_files as u64 + 1024 * 1024
    }
}

/// Fields and stored files of a multipart form.
pub struct FormData {
    fields: HashMap<String, Vec<String>>,
    /// Files stored so far, deleted again unless the action keeps them.
    pub files: Pending,
    /// Problems with the uploads (shown beside the file field).
    pub file_errors: Vec<String>,
    file_field: &'static str,
}

impl FormData {
    /// First value of a field ("" when absent).
    pub fn get(&self, name: &str) -> String {
        self.fields
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    /// The upload problems as one field error on the file field.
    pub fn file_error(&self) -> Option<FieldError> {
        (!self.file_errors.is_empty()).then(|| FieldError {
            field: self.file_field.into(),
            message: self.file_errors.join(" "),
        })
    }
}

fn malformed(field: &str) -> AppError {
    AppError::field(
        field,
        "The upload was interrupted or malformed. Please try again.",
    )
}

/// What became of one file part.
enum Outcome {
    Stored(StoredFile),
    /// Refused with a message for the user; nothing stored.
    Refused(String),
    /// An empty file input (no file chosen).
    Nothing,
}

/// Reads a multipart body, streaming its files into storage under `scope`'s namespace. Call it
/// after the access checks, so a caller who may not see the object gets its 404 whatever the
/// body is. A file over the size limit, of a refused type, or past the file count is reported
/// in `file_errors` and nothing of it is kept; the request as a whole is bounded (413).
pub async fn read(
    app: &AppState,
    scope: &TenantScope,
    req: Request,
    limits: Limits,
) -> AppResult<FormData> {
    let ff = limits.file_field;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        // Read (boundedly) so an oversized body gets its 413 like everywhere else.
        axum::body::to_bytes(req.into_body(), crate::http::JSON_LIMIT)
            .await
            .map_err(|_| AppError::TooLarge)?;
        return Err(AppError::field(
            ff,
            "Send this form as multipart/form-data.",
        ));
    }
    // multer reads its body stream until it would wait: from a fast client that is the whole
    // upload. Pausing the stream every `PACE` bytes bounds what it buffers.
    let (parts, body) = req.into_parts();
    let paced = axum::body::Body::from_stream(Paced {
        inner: body.into_data_stream(),
        since_pause: 0,
    });
    let req = Request::from_parts(parts, paced);
    let mut mp = Multipart::from_request(req, app)
        .await
        .map_err(|_| AppError::field(ff, "Send this form as multipart/form-data."))?;
    let mut total = 0u64;
    let mut out = FormData {
        fields: HashMap::new(),
        files: Pending::new(app.files.clone()),
        file_errors: Vec::new(),
        file_field: ff,
    };
    while let Some(mut field) = mp.next_field().await.map_err(|_| malformed(ff))? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(f) => {
                let filename = clean_filename(&f);
                let room = out.files.len() < limits.max_files;
                match file_part(
                    app, scope, &mut field, &limits, &mut total, &f, filename, room,
                )
                .await?
                {
                    Outcome::Stored(s) => out.files.push(s),
                    Outcome::Refused(why) => out.file_errors.push(why),
                    Outcome::Nothing => {}
                }
            }
            None => {
                let mut buf = Vec::new();
                let mut too_long = false;
                while let Some(chunk) = field.chunk().await.map_err(|_| malformed(ff))? {
                    count(&mut total, chunk.len(), &limits)?;
                    if buf.len() + chunk.len() > limits.max_text_bytes {
                        too_long = true;
                        continue; // drain the rest of this part without keeping it
                    }
                    buf.extend_from_slice(&chunk);
                }
                if too_long {
                    return Err(AppError::field(&name, "This field is too long."));
                }
                let text = String::from_utf8(buf).map_err(|_| malformed(ff))?;
                out.fields.entry(name).or_default().push(text);
            }
        }
    }
    Ok(out)
}

/// Bytes handed to the multipart parser between two pauses.
const PACE: usize = 64 * 1024;

/// A body stream that reports "not ready" (and wakes itself at once) after every `PACE`
/// bytes, so a reader that drains until it would wait takes one slice at a time.
struct Paced<S> {
    inner: S,
    since_pause: usize,
}

impl<S, E> futures::Stream for Paced<S>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    type Item = Result<bytes::Bytes, E>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.since_pause >= PACE {
            this.since_pause = 0;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        let next = std::pin::Pin::new(&mut this.inner).poll_next(cx);
        if let std::task::Poll::Ready(Some(Ok(b))) = &next {
            this.since_pause += b.len();
        }
        next
    }
}

fn count(total: &mut u64, n: usize, limits: &Limits) -> AppResult<()> {
    *total += n as u64;
    if *total > limits.max_total() {
        return Err(AppError::TooLarge);
    }
    Ok(())
}

/// Reads what is left of a part without keeping it.
async fn drain(field: &mut Field<'_>, total: &mut u64, limits: &Limits) -> AppResult<()> {
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|_| malformed(limits.file_field))?
    {
        count(total, chunk.len(), limits)?;
    }
    Ok(())
}

/// Streams one file part into storage, checking it on the way.
#[allow(clippy::too_many_arguments)]
async fn file_part(
    app: &AppState,
    scope: &TenantScope,
    field: &mut Field<'_>,
    limits: &Limits,
    total: &mut u64,
    raw_name: &str,
    filename: String,
    room: bool,
) -> AppResult<Outcome> {
    let ff = limits.file_field;
    let max = limits.max_file_bytes;
    let too_big = || format!("{filename} is larger than {}.", human_size(&(max as i64)));
    // The head decides the type before anything is stored.
    let mut head = Vec::new();
    let mut ended = false;
    while head.len() < SNIFF_BYTES {
        match field.chunk().await.map_err(|_| malformed(ff))? {
            Some(chunk) => {
                count(total, chunk.len(), limits)?;
                head.extend_from_slice(&chunk);
            }
            None => {
                ended = true;
                break;
            }
        }
    }
    if ended && head.is_empty() && raw_name.is_empty() {
        return Ok(Outcome::Nothing);
    }
    if head.len() as u64 > max {
        drain(field, total, limits).await?;
        return Ok(Outcome::Refused(too_big()));
    }
    if !room {
        drain(field, total, limits).await?;
        return Ok(Outcome::Refused(format!(
            "Attach at most {} files at a time.",
            limits.max_files
        )));
    }
    let sniffed = match limits.accept {
        Accept::Attachments => sniff_head(&head, ended),
        Accept::Images => crate::files::sniff::sniff_any(&head),
    };
    let content_type = match sniffed {
        Ok(t) => t,
        Err(why) => {
            drain(field, total, limits).await?;
            return Ok(Outcome::Refused(format!("{filename} {why}")));
        }
    };
    let mut text = (content_type == "text/plain").then(|| ContentCheck::after(&head));
    let mut w = app.files.writer(ObjectKey::generate(scope)).await?;
    if let Err(e) = w.write(&head).await {
        w.abort().await;
        return Err(e.into());
    }
    drop(head);
    match stream_rest(field, &mut w, &mut text, limits, total).await {
        Ok(None) => {}
        Ok(Some(refused)) => {
            w.abort().await;
            drain(field, total, limits).await?;
            return Ok(Outcome::Refused(match refused {
                Refusal::TooBig => too_big(),
                Refusal::Content(why) => format!("{filename} {why}"),
            }));
        }
        Err(e) => {
            w.abort().await;
            return Err(e);
        }
    }
    let (key, size, sha256) = w.finish().await?;
    Ok(Outcome::Stored(StoredFile {
        key,
        size: size as i64,
        sha256,
        content_type,
        filename,
    }))
}

enum Refusal {
    TooBig,
    Content(&'static str),
}

/// Copies the rest of the part into the writer; `Some` when the file must be refused.
async fn stream_rest(
    field: &mut Field<'_>,
    w: &mut ObjectWriter,
    text: &mut Option<ContentCheck>,
    limits: &Limits,
    total: &mut u64,
) -> AppResult<Option<Refusal>> {
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|_| malformed(limits.file_field))?
    {
        count(total, chunk.len(), limits)?;
        if w.size() + chunk.len() as u64 > limits.max_file_bytes {
            return Ok(Some(Refusal::TooBig));
        }
        if let Some(t) = text.as_mut()
            && let Err(why) = t.check(&chunk)
        {
            return Ok(Some(Refusal::Content(why)));
        }
        w.write(&chunk).await?;
    }
    if let Some(t) = text.as_ref()
        && let Err(why) = t.finish()
    {
        return Ok(Some(Refusal::Content(why)));
    }
    Ok(None)
}
