//! Start-up configuration from `PORTICO_*` environment variables, validated in one pass.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Validated settings for a Portico process. `Debug` redacts every secret in it.
#[derive(Clone)]
pub struct Config {
    /// Address `serve` listens on.
    pub listen: SocketAddr,
    /// Directory for the SQLite file, the secret key, mail and uploads.
    pub data_dir: PathBuf,
    /// Database URL (`sqlite:` or `postgres://`).
    pub database_url: String,
    /// Public base URL used in emailed links, without a trailing slash.
    pub base_url: String,
    /// Key for HMACs (CSRF tokens) and later for encrypting integration secrets.
    pub secret_key: Vec<u8>,
    /// Hosts that always show the Mission style before sign-in.
    pub mission_domains: Vec<String>,
    /// Tenant slug used when nothing else identifies one (single-tenant installs).
    pub default_tenant: Option<String>,
    /// SMTP URL (`smtp://user:pass@host:port`); without it mail is written to `data_dir/mail`.
    pub smtp_url: Option<String>,
    /// Sender address on outgoing mail.
    pub mail_from: String,
    /// Whether cookies carry `Secure` and responses HSTS (base URL is https).
    pub secure_cookies: bool,
    /// Largest accepted upload per file in bytes (`PORTICO_MAX_UPLOAD_MB`, default 25).
    pub max_upload_bytes: u64,
    /// Days after resolution during which a client may reopen a ticket (`PORTICO_REOPEN_DAYS`, default 14).
    pub reopen_days: i64,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers are believed (`PORTICO_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Separate listen address for `/metrics` (`PORTICO_METRICS_LISTEN`); the main listener then
    /// no longer serves it.
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer token `/metrics` requires (`PORTICO_METRICS_TOKEN`).
    pub metrics_token: Option<String>,
    /// Where uploaded files live (`PORTICO_STORAGE_URL`; default `<data_dir>/files`).
    pub storage: StorageConfig,
    /// Domain of the reply addresses on ticket emails (`PORTICO_INBOUND_DOMAIN`); without it
    /// emails carry no reply address.
    pub inbound_domain: Option<String>,
    /// Shared secret the mail gateway sends to `POST /inbound/email` in the
    /// `X-Portico-Inbound-Secret` header (`PORTICO_INBOUND_SECRET`); without it the endpoint
    /// refuses everything.
    pub inbound_secret: Option<String>,
    /// Deployment-wide HS256 secret of Hub sign-in tokens (`PORTAL_CLIENT_SSO_SECRET`, at
    /// least 32 bytes); a tenant's own secret overrides it.
    pub hub_sso_secret: Option<Vec<u8>>,
    /// The assistant's model (`PORTICO_ASSISTANT_MODEL_URL`); without it the built-in
    /// assistant answers.
    pub assistant_model: Option<AssistantModel>,
}

/// An OpenAI-compatible chat-completions endpoint for the help assistant. `Debug` redacts the key.
#[derive(Clone, PartialEq, Eq)]
pub struct AssistantModel {
    /// Base URL, the part before `/chat/completions` (`PORTICO_ASSISTANT_MODEL_URL`).
    pub base_url: String,
    /// Model name (`PORTICO_ASSISTANT_MODEL`, default `gpt-4o-mini`).
    pub model: String,
    /// Bearer key (`PORTICO_ASSISTANT_MODEL_KEY`).
    pub api_key: Option<String>,
    /// Tokens one tenant may use per calendar month (`PORTICO_ASSISTANT_MONTHLY_TOKENS`,
    /// default 1,000,000); over it the built-in assistant answers.
    pub monthly_tokens: i64,
}

impl std::fmt::Debug for AssistantModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssistantModel")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("monthly_tokens", &self.monthly_tokens)
            .finish()
    }
}

/// Where uploaded files are kept. `Debug` redacts the S3 secret.
#[derive(Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// A directory on this machine (`file:///path`, default `<data_dir>/files`).
    Local(PathBuf),
    /// An S3-compatible bucket (`s3://bucket`).
    S3(S3Config),
}

/// An S3-compatible bucket and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Endpoint URL for S3-compatible services (`PORTICO_S3_ENDPOINT`); AWS when unset.
    pub endpoint: Option<String>,
    /// Region (`PORTICO_S3_REGION`, default `us-east-1`).
    pub region: String,
    /// Access key id (`PORTICO_S3_ACCESS_KEY_ID`, else `AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// Secret access key (`PORTICO_S3_SECRET_ACCESS_KEY`, else `AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<String>,
}

impl S3Config {
    /// Plain HTTP is allowed only when the endpoint itself says `http://` (a local MinIO or test
    /// server); AWS is always reached over HTTPS.
    pub fn allow_http(&self) -> bool {
        self.endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
    }
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageConfig::Local(p) => f.debug_tuple("Local").field(p).finish(),
            StorageConfig::S3(s) => f
                .debug_struct("S3")
                .field("bucket", &s.bucket)
                .field("endpoint", &s.endpoint)
                .field("region", &s.region)
                .field("access_key_id", &s.access_key_id)
                .field(
                    "secret_access_key",
                    &s.secret_access_key.as_ref().map(|_| "<redacted>"),
                )
                .finish(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |set: bool| if set { "<redacted>" } else { "<unset>" };
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("base_url", &self.base_url)
            .field("secret_key", &hidden(!self.secret_key.is_empty()))
            .field("mission_domains", &self.mission_domains)
            .field("default_tenant", &self.default_tenant)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("secure_cookies", &self.secure_cookies)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("reopen_days", &self.reopen_days)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_listen", &self.metrics_listen)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| hidden(true)),
            )
            .field("storage", &self.storage)
            .field("inbound_domain", &self.inbound_domain)
            .field(
                "inbound_secret",
                &self.inbound_secret.as_ref().map(|_| hidden(true)),
            )
            .field("assistant_model", &self.assistant_model)
            .field(
                "hub_sso_secret",
                &self.hub_sso_secret.as_ref().map(|_| hidden(true)),
            )
            .finish()
    }
}

/// Minimum length of `PORTICO_SECRET_KEY`.
pub const MIN_SECRET_LEN: usize = 32;

impl Config {
    /// Reads the environment; returns every problem found, one line each.
    pub fn from_env() -> Result<Config, Vec<String>> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, so tests can pass their own values.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<String>> {
        let mut problems = Vec::new();
        let val = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let listen_raw = val("PORTICO_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = match listen_raw.parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => {
                problems.push(format!(
                    "PORTICO_LISTEN: '{listen_raw}' is not an address:port such as 127.0.0.1:8080"
                ));
                SocketAddr::from(([127, 0, 0, 1], 8080))
            }
        };
        let data_dir = PathBuf::from(val("PORTICO_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = match val("PORTICO_DATABASE_URL") {
            Some(u)
                if u.starts_with("sqlite:")
                    || u.starts_with("postgres://")
                    || u.starts_with("postgresql://") =>
            {
                u
            }
            Some(u) => {
                problems.push(format!(
                    "PORTICO_DATABASE_URL: '{}' must start with sqlite: or postgres://",
                    redact_url(&u)
                ));
                String::new()
            }
            None => format!("sqlite://{}", data_dir.join("portico.db").display()),
        };
        let base_url = match val("PORTICO_BASE_URL") {
            Some(u) => match url::Url::parse(&u) {
                Ok(p) if p.scheme() == "http" || p.scheme() == "https" => {
                    u.trim_end_matches('/').to_string()
                }
                _ => {
                    problems.push(format!(
                        "PORTICO_BASE_URL: '{u}' must be an http(s) URL such as https://portal.example.com"
                    ));
                    String::new()
                }
            },
            None => {
                let host = if listen.ip().is_unspecified() {
                    "localhost".to_string()
                } else {
                    listen.ip().to_string()
                };
                format!("http://{host}:{}", listen.port())
            }
        };
        let secret_key = match val("PORTICO_SECRET_KEY") {
            Some(k) if k.len() >= MIN_SECRET_LEN => k.into_bytes(),
            Some(k) => {
                problems.push(format!(
                    "PORTICO_SECRET_KEY: is {} characters; use at least {MIN_SECRET_LEN} random characters (or unset it to generate one)",
                    k.len()
                ));
                Vec::new()
            }
            None => Vec::new(), // filled from the data dir by `load_or_create_secret`
        };
        let mission_domains = val("PORTICO_MISSION_DOMAINS")
            .map(|v| {
                v.split(',')
                    .map(|d| d.trim().to_ascii_lowercase())
                    .filter(|d| !d.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let default_tenant = val("PORTICO_DEFAULT_TENANT");
        if let Some(t) = &default_tenant
            && !crate::tenancy::valid_slug(t)
        {
            problems.push(format!(
                    "PORTICO_DEFAULT_TENANT: '{t}' is not a tenant slug (lowercase letters, digits and '-')"
                ));
        }
        let smtp_url = val("PORTICO_SMTP_URL");
        if let Some(u) = &smtp_url
            && !(u.starts_with("smtp://") || u.starts_with("smtps://"))
        {
            problems.push("PORTICO_SMTP_URL: must start with smtp:// or smtps://".to_string());
        }
        let mail_from = val("PORTICO_MAIL_FROM")
            .unwrap_or_else(|| "Portico <no-reply@portico.localhost>".into());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            problems.push(format!(
                "PORTICO_MAIL_FROM: '{mail_from}' is not a mailbox such as 'Portico <no-reply@example.com>'"
            ));
        }
        let max_upload_mb = match val("PORTICO_MAX_UPLOAD_MB").map(|v| v.parse::<u64>()) {
            None => 25,
            Some(Ok(n)) if (1..=1024).contains(&n) => n,
            Some(_) => {
                problems
                    .push("PORTICO_MAX_UPLOAD_MB: use a whole number of MiB from 1 to 1024".into());
                25
            }
        };
        let reopen_days = match val("PORTICO_REOPEN_DAYS").map(|v| v.parse::<i64>()) {
            None => 14,
            Some(Ok(n)) if (0..=3650).contains(&n) => n,
            Some(_) => {
                problems
                    .push("PORTICO_REOPEN_DAYS: use a whole number of days from 0 to 3650".into());
                14
            }
        };
        let mut trusted_proxies = Vec::new();
        for p in val("PORTICO_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            // A bare address is a single-host network.
            let net = p
                .parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
            match net {
                Ok(n) => trusted_proxies.push(n),
                Err(_) => problems.push(format!(
                    "PORTICO_TRUSTED_PROXIES: '{p}' is not an IP address or CIDR such as 10.0.0.0/8"
                )),
            }
        }
        let metrics_listen = match val("PORTICO_METRICS_LISTEN").map(|v| v.parse::<SocketAddr>()) {
            None => None,
            Some(Ok(a)) => Some(a),
            Some(Err(_)) => {
                problems.push(
                    "PORTICO_METRICS_LISTEN: use an address:port such as 127.0.0.1:9100".into(),
                );
                None
            }
        };
        let metrics_token = val("PORTICO_METRICS_TOKEN");
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            problems.push("PORTICO_METRICS_TOKEN: use at least 16 random characters".into());
        }
        let storage = storage_config(&val, &data_dir, &mut problems);
        let inbound_domain = val("PORTICO_INBOUND_DOMAIN").map(|d| d.to_ascii_lowercase());
        if inbound_domain
            .as_deref()
            .is_some_and(|d| !crate::tenancy::valid_domain(d))
        {
            problems.push("PORTICO_INBOUND_DOMAIN: use a domain such as reply.example.com".into());
        }
        let inbound_secret = val("PORTICO_INBOUND_SECRET");
        if inbound_secret.as_ref().is_some_and(|t| t.len() < 16) {
            problems.push("PORTICO_INBOUND_SECRET: use at least 16 random characters".into());
        }
        let assistant_model = match val("PORTICO_ASSISTANT_MODEL_URL") {
            None => None,
            Some(url) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    problems.push(
                        "PORTICO_ASSISTANT_MODEL_URL: use a URL such as https://api.openai.com/v1"
                            .into(),
                    );
                }
                let monthly_tokens = match val("PORTICO_ASSISTANT_MONTHLY_TOKENS") {
                    None => 1_000_000,
                    Some(v) => v
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n >= 0)
                        .unwrap_or_else(|| {
                            problems.push(
                            "PORTICO_ASSISTANT_MONTHLY_TOKENS: use a whole number such as 1000000"
                                .into(),
                        );
                            0
                        }),
                };
                Some(AssistantModel {
                    base_url: url.trim_end_matches('/').to_string(),
                    model: val("PORTICO_ASSISTANT_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
                    api_key: val("PORTICO_ASSISTANT_MODEL_KEY"),
                    monthly_tokens,
                })
            }
        };
        let hub_sso_secret = val("PORTAL_CLIENT_SSO_SECRET").map(String::into_bytes);
        if hub_sso_secret
            .as_ref()
            .is_some_and(|s| s.len() < MIN_SECRET_LEN)
        {
            problems.push(format!(
                "PORTAL_CLIENT_SSO_SECRET: use at least {MIN_SECRET_LEN} random characters"
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let secure_cookies = base_url.starts_with("https://");
        Ok(Config {
            listen,
            data_dir,
            database_url,
            base_url,
            secret_key,
            mission_domains,
            default_tenant,
            smtp_url,
            mail_from,
            secure_cookies,
            max_upload_bytes: max_upload_mb * 1024 * 1024,
            reopen_days,
            trusted_proxies,
            metrics_listen,
            metrics_token,
            storage,
            inbound_domain,
            inbound_secret,
            assistant_model,
            hub_sso_secret,
        })
    }

    /// Ensures the data dir exists and a secret key is set, generating one on first start.
    pub fn prepare_data_dir(&mut self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "PORTICO_DATA_DIR: cannot create {}: {e}",
                self.data_dir.display()
            )
        })?;
        if self.secret_key.is_empty() {
            self.secret_key = load_or_create_secret(&self.data_dir.join("secret.key"))?;
        }
        Ok(())
    }
}

/// Reads `PORTICO_STORAGE_URL` and the S3 settings; S3 settings without an `s3://` URL are a
/// mistake worth reporting (files would silently land on local disk).
fn storage_config(
    val: &impl Fn(&str) -> Option<String>,
    data_dir: &Path,
    problems: &mut Vec<String>,
) -> StorageConfig {
    let local = StorageConfig::Local(data_dir.join("files"));
    let either = |a: &str, b: &str| val(a).or_else(|| val(b));
    let endpoint = val("PORTICO_S3_ENDPOINT");
    let region = val("PORTICO_S3_REGION");
    let key_id = either("PORTICO_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID");
    let secret = either("PORTICO_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY");
    let Some(raw) = val("PORTICO_STORAGE_URL") else {
        if endpoint.is_some() || region.is_some() {
            problems.push(
                "PORTICO_S3_ENDPOINT / PORTICO_S3_REGION: set PORTICO_STORAGE_URL=s3://bucket to use S3"
                    .into(),
            );
        }
        return local;
    };
    let parsed = url::Url::parse(&raw);
    match parsed.as_ref().map(|u| u.scheme()) {
        Ok("file") => match parsed.as_ref().ok().and_then(|u| u.to_file_path().ok()) {
            Some(p) => StorageConfig::Local(p),
            None => {
                problems.push(format!(
                    "PORTICO_STORAGE_URL: '{raw}' is not an absolute file:///path"
                ));
                local
            }
        },
        Ok("s3") => {
            let url = parsed.as_ref().ok();
            let bucket = url.and_then(|u| u.host_str()).unwrap_or("").to_string();
            let path_ok = url.is_some_and(|u| matches!(u.path(), "" | "/"));
            if bucket.is_empty() || !path_ok {
                problems.push(format!(
                    "PORTICO_STORAGE_URL: '{raw}' must be s3://bucket (no path)"
                ));
            }
            if let Some(e) = &endpoint
                && !matches!(
                    url::Url::parse(e)
                        .map(|u| u.scheme().to_string())
                        .as_deref(),
                    Ok("http" | "https")
                )
            {
                problems.push(format!(
                    "PORTICO_S3_ENDPOINT: '{e}' must be an http(s) URL such as https://s3.example.com"
                ));
            }
            if key_id.is_some() != secret.is_some() {
                problems.push(
                    "PORTICO_S3_ACCESS_KEY_ID / PORTICO_S3_SECRET_ACCESS_KEY: set both or neither"
                        .into(),
                );
            }
            StorageConfig::S3(S3Config {
                bucket,
                endpoint,
                region: region.unwrap_or_else(|| "us-east-1".into()),
                access_key_id: key_id,
                secret_access_key: secret,
            })
        }
        _ => {
            problems.push(format!(
                "PORTICO_STORAGE_URL: '{}' must be s3://bucket or file:///path",
                redact_url(&raw)
            ));
            local
        }
    }
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    use rand::RngCore;
    if let Ok(existing) = std::fs::read_to_string(path) {
        let k = existing.trim();
        if k.len() >= MIN_SECRET_LEN {
            return Ok(k.as_bytes().to_vec());
        }
        anyhow::bail!(
            "{}: the stored secret key is shorter than {MIN_SECRET_LEN} characters",
            path.display()
        );
    }
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let key = hex::encode(raw);
    std::fs::write(path, &key)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(key.into_bytes())
}

/// Hides the password part of a database or SMTP URL for messages and logs.
pub fn redact_url(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut p) if p.password().is_some() => {
            let _ = p.set_password(Some("***"));
            p.to_string()
        }
        Ok(_) => u.to_string(),
        // Unparseable: whatever sits between "://" and the last '@' may be credentials.
        Err(_) => match (u.find("://"), u.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}***{}", &u[..s + 3], &u[at..]),
            _ => u.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_on_its_own_line() {
        let env = |k: &str| match k {
            "PORTICO_LISTEN" => Some("nowhere".to_string()),
            "PORTICO_SECRET_KEY" => Some("short".to_string()),
            "PORTICO_DATABASE_URL" => Some("mysql://x:secret@h/db".to_string()),
            _ => None,
        };
        let problems = Config::from_lookup(env).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("PORTICO_LISTEN")));
        assert!(problems.iter().any(|p| p.starts_with("PORTICO_SECRET_KEY")));
        assert!(
            problems.iter().all(|p| !p.contains("secret@")),
            "password leaked: {problems:?}"
        );
    }

    #[test]
    fn upload_and_reopen_limits() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.max_upload_bytes, 25 * 1024 * 1024);
        assert_eq!(c.reopen_days, 14);
        let env = |k: &str| match k {
            "PORTICO_MAX_UPLOAD_MB" => Some("lots".to_string()),
            "PORTICO_REOPEN_DAYS" => Some("-1".to_string()),
            _ => None,
        };
        let problems = Config::from_lookup(env).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn debug_output_hides_every_secret() {
        let env = |k: &str| match k {
            "PORTICO_SECRET_KEY" => Some("s3cr3t-key-material-that-is-long-enough".to_string()),
            "PORTICO_DATABASE_URL" => Some("postgres://app:dbpass-xyz@db/portico".to_string()),
            "PORTICO_SMTP_URL" => Some("smtp://mailer:smtppass-xyz@mail:587".to_string()),
            "PORTICO_METRICS_TOKEN" => Some("metrics-token-xyz-0123456789".to_string()),
            _ => None,
        };
        let c = Config::from_lookup(env).unwrap();
        let shown = format!("{c:?} {c:#?}");
        for secret in [
            "s3cr3t-key-material",
            "dbpass-xyz",
            "smtppass-xyz",
            "metrics-token-xyz",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert!(shown.contains("postgres://app:***@db/portico"), "{shown}");
    }

    #[test]
    fn trusted_proxies_and_metrics_settings() {
        let env = |k: &str| match k {
            "PORTICO_TRUSTED_PROXIES" => Some("10.0.0.0/8, 127.0.0.1,::1".to_string()),
            "PORTICO_METRICS_LISTEN" => Some("127.0.0.1:9100".to_string()),
            _ => None,
        };
        let c = Config::from_lookup(env).unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        assert_eq!(c.metrics_listen.map(|a| a.port()), Some(9100));
        let bad = |k: &str| match k {
            "PORTICO_TRUSTED_PROXIES" => Some("10.0.0.0/33,nope".to_string()),
            "PORTICO_METRICS_LISTEN" => Some("everywhere".to_string()),
            "PORTICO_METRICS_TOKEN" => Some("short".to_string()),
            _ => None,
        };
        assert_eq!(Config::from_lookup(bad).unwrap_err().len(), 4);
    }

    #[test]
    fn storage_settings() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(
            c.storage,
            StorageConfig::Local(PathBuf::from("./data").join("files"))
        );
        let env = |k: &str| match k {
            "PORTICO_STORAGE_URL" => Some("s3://portico-files".to_string()),
            "PORTICO_S3_ENDPOINT" => Some("http://127.0.0.1:9000".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("AKIDEXAMPLE".to_string()),
            "PORTICO_S3_SECRET_ACCESS_KEY" => Some("s3-secret-xyz".to_string()),
            _ => None,
        };
        let c = Config::from_lookup(env).unwrap();
        let StorageConfig::S3(s3) = &c.storage else {
            panic!("expected S3: {:?}", c.storage);
        };
        assert_eq!(s3.bucket, "portico-files");
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(s3.access_key_id.as_deref(), Some("AKIDEXAMPLE"));
        assert!(s3.allow_http());
        assert!(!format!("{c:?}").contains("s3-secret-xyz"));
        let bad = |k: &str| match k {
            "PORTICO_STORAGE_URL" => Some("s3://bucket/path".to_string()),
            "PORTICO_S3_ENDPOINT" => Some("ftp://x".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("only-the-id".to_string()),
            _ => None,
        };
        assert_eq!(Config::from_lookup(bad).unwrap_err().len(), 3);
        let stray = |k: &str| match k {
            "PORTICO_S3_REGION" => Some("eu-west-1".to_string()),
            _ => None,
        };
        assert_eq!(Config::from_lookup(stray).unwrap_err().len(), 1);
        let elsewhere = |k: &str| match k {
            "PORTICO_STORAGE_URL" => Some("gs://bucket".to_string()),
            _ => None,
        };
        assert_eq!(Config::from_lookup(elsewhere).unwrap_err().len(), 1);
    }

    #[test]
    fn defaults_are_sqlite_in_the_data_dir() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.starts_with("sqlite://./data/portico.db"));
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
    }
}
