//! Stored files: one interface over object storage (a local directory or an S3-compatible
//! bucket). Keys are namespaced by tenant and never built from user input; objects written by
//! an action that does not commit are deleted again ([`Pending`]); the per-tenant allowance is
//! charged in the action's transaction ([`quota`]). See docs/decisions/0007-storage.md.

pub mod quota;
pub mod sniff;

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};

use crate::config::StorageConfig;
use crate::error::AppResult;
use crate::tenancy::TenantScope;

pub use sniff::{ContentCheck, clean_filename, human_size, sniff_upload};

/// Part size for the local store: small, since parts are only a write unit there.
const LOCAL_PART: usize = 1024 * 1024;
/// Part size for S3, its minimum for every part but the last.
const S3_PART: usize = 5 * 1024 * 1024;

/// The configured object store, cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    part_size: usize,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({})", self.store)
    }
}

/// Where an object lives in the store: `t/<tenant id>/<random id>` for new files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// A fresh key in the tenant's namespace; the only way to name a new object.
    pub fn generate(scope: &TenantScope) -> ObjectKey {
        ObjectKey(format!(
            "t/{}/{}",
            scope.tenant_id().as_str(),
            uuid::Uuid::new_v4().simple()
        ))
    }

    /// A key read back from the database, where only `generate` (or the legacy layout
    /// `<tenant>/<id>`) put it.
    pub fn stored(key: String) -> ObjectKey {
        ObjectKey(key)
    }

    /// The key as text (stored in the database).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn path(&self) -> Result<StorePath, StorageError> {
        StorePath::parse(&self.0).map_err(|e| StorageError::Store(e.into()))
    }
}

/// A storage failure; never shown to users (they get the generic internal error).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The object is not there.
    #[error("object not found")]
    NotFound,
    /// Anything else the store reported.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
}

impl From<StorageError> for crate::error::AppError {
    fn from(e: StorageError) -> Self {
        crate::error::AppError::Internal(e.into())
    }
}

/// A file streamed into storage, not yet recorded by an action.
#[derive(Clone, Debug)]
pub struct StoredFile {
    /// Where it is.
    pub key: ObjectKey,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Type detected from the content.
    pub content_type: &'static str,
    /// Cleaned original name.
    pub filename: String,
}

/// An object being written part by part; nothing is visible under its key until `finish`.
pub struct ObjectWriter {
    key: ObjectKey,
    upload: WriteMultipart,
    /// The part being filled: one allocation of `part_size`, handed over whole.
    part: Vec<u8>,
    part_size: usize,
    size: u64,
    hash: Sha256,
}

impl ObjectWriter {
    /// Appends bytes. A full part is sent once the previous one has been, so one upload holds
    /// at most two parts in memory.
    pub async fn write(&mut self, mut bytes: &[u8]) -> Result<(), StorageError> {
        self.hash.update(bytes);
        self.size += bytes.len() as u64;
        while !bytes.is_empty() {
            if self.part.capacity() == 0 {
                self.part.reserve_exact(self.part_size);
            }
            let take = (self.part_size - self.part.len()).min(bytes.len());
            self.part.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.part.len() == self.part_size {
                self.send_part().await?;
            }
        }
        Ok(())
    }

    async fn send_part(&mut self) -> Result<(), StorageError> {
        self.upload.wait_for_capacity(1).await?;
        let full = std::mem::take(&mut self.part);
        self.upload.put(Bytes::from(full));
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Completes the object; returns its key, size and SHA-256 (hex).
    pub async fn finish(mut self) -> Result<(ObjectKey, u64, String), StorageError> {
        if !self.part.is_empty() {
            self.send_part().await?;
        }
        self.upload.finish().await?;
        Ok((self.key, self.size, hex::encode(self.hash.finalize())))
    }

    /// Abandons the object: the parts sent so far are discarded and no object appears.
    pub async fn abort(self) {
        if let Err(e) = self.upload.abort().await {
            tracing::warn!(key = %self.key.0, error = %e, "aborting an upload failed");
        }
    }
}

impl Storage {
    /// Opens the configured store (creating the local directory).
    pub fn from_config(c: &StorageConfig) -> anyhow::Result<Storage> {
        match c {
            StorageConfig::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("file storage: cannot create {}: {e}", dir.display())
                })?;
                let store = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| anyhow::anyhow!("file storage at {}: {e}", dir.display()))?
                    .with_automatic_cleanup(true);
                Ok(Storage {
                    store: Arc::new(store),
                    part_size: LOCAL_PART,
                })
            }
            StorageConfig::S3(s) => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(&s.bucket)
                    .with_region(&s.region)
                    .with_allow_http(s.allow_http());
                if let Some(e) = &s.endpoint {
                    // S3-compatible services (MinIO, moto, Ceph) address buckets by path.
                    b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
                }
                if let (Some(id), Some(secret)) = (&s.access_key_id, &s.secret_access_key) {
                    b = b.with_access_key_id(id).with_secret_access_key(secret);
                }
                let store = b
                    .build()
                    .map_err(|e| anyhow::anyhow!("file storage (S3 bucket {}): {e}", s.bucket))?;
                Ok(Storage {
                    store: Arc::new(store),
                    part_size: S3_PART,
                })
            }
        }
    }

    /// Starts writing a new object under `key`.
    pub async fn writer(&self, key: ObjectKey) -> Result<ObjectWriter, StorageError> {
        let upload = self.store.put_multipart(&key.path()?).await?;
        Ok(ObjectWriter {
            key,
            upload: WriteMultipart::new_with_chunk_size(upload, self.part_size),
            part: Vec::new(),
            part_size: self.part_size,
            size: 0,
            hash: Sha256::new(),
        })
    }

    /// The object's size and its content as a stream of chunks.
    pub async fn get(
        &self,
        key: &ObjectKey,
    ) -> Result<(u64, BoxStream<'static, Result<Bytes, StorageError>>), StorageError> {
        let got = self.store.get(&key.path()?).await.map_err(not_found)?;
        let size = got.meta.size;
        Ok((
            size,
            got.into_stream()
                .map(|r| r.map_err(StorageError::from))
                .boxed(),
        ))
    }

    /// Deletes an object; a missing one is not an error.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match self.store.delete(&key.path()?).await.map_err(not_found) {
            Ok(()) | Err(StorageError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every key under `prefix` (tests and operator checks).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let prefix = StorePath::parse(prefix).map_err(|e| StorageError::Store(e.into()))?;
        let mut out = Vec::new();
        let mut s = self.store.list(Some(&prefix));
        while let Some(m) = s.next().await {
            out.push(m?.location.to_string());
        }
        Ok(out)
    }
}

fn not_found(e: object_store::Error) -> StorageError {
    match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound,
        other => StorageError::Store(other),
    }
}

/// Files an action has stored but not yet committed. Unless [`Pending::keep`] is called after
/// the commit, they are deleted again (at once by [`Pending::settle`] / [`Pending::discard`],
/// or in the background when the guard is dropped on an early return, panic or cancelled
/// request), so a failed action leaves no stray object.
pub struct Pending {
    storage: Storage,
    files: Vec<StoredFile>,
}

impl Pending {
    /// An empty guard over `storage`.
    pub fn new(storage: Storage) -> Pending {
        Pending {
            storage,
            files: Vec::new(),
        }
    }

    /// Takes charge of a stored file.
    pub fn push(&mut self, f: StoredFile) {
        self.files.push(f);
    }

    /// The files, in upload order.
    pub fn files(&self) -> &[StoredFile] {
        &self.files
    }

    /// Whether no file was stored.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// How many files were stored.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// The action committed: the objects stay.
    pub fn keep(mut self) {
        self.files.clear();
    }

    /// The action failed: deletes the objects now.
    pub async fn discard(mut self) {
        let files = std::mem::take(&mut self.files);
        delete_all(&self.storage, files).await;
    }

    /// Keeps the objects when `result` is a success, deletes them otherwise; passes it on.
    pub async fn settle<T>(self, result: AppResult<T>) -> AppResult<T> {
        if result.is_ok() {
            self.keep();
        } else {
            self.discard().await;
        }
        result
    }
}

async fn delete_all(storage: &Storage, files: Vec<StoredFile>) {
    for f in files {
        if let Err(e) = storage.delete(&f.key).await {
            tracing::warn!(key = %f.key.0, error = %e, "could not delete an uncommitted upload");
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.files.is_empty() {
            return;
        }
        let files = std::mem::take(&mut self.files);
        let storage = self.storage.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move { delete_all(&storage, files).await });
            }
            Err(_) => {
                for f in files {
                    tracing::warn!(key = %f.key.0, "uncommitted upload left behind (no runtime)");
                }
            }
        }
    }
}
