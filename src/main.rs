//! The `portico` command: serve, migrate, and operator commands.

use std::io::BufRead;

use clap::{Parser, Subcommand};
use portico::app::AppState;
use portico::config::Config;
use portico::tenancy::OrgType;
use portico::tenancy::store::{self, NewTenant};

// mimalloc hands freed memory back to the system; with glibc's per-thread arenas the 19 MiB
// Argon2 buffers of sign-ins stayed resident (about 290 MB after a login burst).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "portico",
    version,
    about = "White-label client portal for MSPs and missions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve {
        /// Create the demo tenants and accounts (idempotent) and list them.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Seed deterministic data at scale for benchmarks (N = 1: 20 tenants, 400 companies, 4,000 users, …).
    Demo {
        /// Multiplier of the base data set.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Inspect the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage uploaded files.
    Storage {
        #[command(subcommand)]
        command: StorageCommand,
    },
    /// Write a consistent copy of a SQLite database while Portico keeps serving.
    Backup {
        /// The new backup file (never overwritten).
        file: std::path::PathBuf,
    },
    /// Replace the SQLite database with a backup; stop the server first.
    Restore {
        /// The backup file written by `portico backup`.
        file: std::path::PathBuf,
    },
    /// Signed documents.
    Documents {
        #[command(subcommand)]
        command: DocumentsCommand,
    },
    /// Hub single sign-on.
    Sso {
        #[command(subcommand)]
        command: SsoCommand,
    },
}

#[derive(Subcommand)]
enum SsoCommand {
    /// Mint a Hub sign-in token for testing, signed with the tenant's Hub secret (or
    /// `PORTAL_CLIENT_SSO_SECRET`), and print it with its sign-in URL.
    Token {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Email of the person.
        #[arg(long)]
        email: String,
        /// Company: Portico id or exact name (MSP tenants).
        #[arg(long)]
        company: Option<String>,
        /// Portal role key (client_admin, client_user, client_viewer, member, leader).
        #[arg(long)]
        role: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Seconds until the token expires (at most 300).
        #[arg(long, default_value_t = 120)]
        ttl: i64,
    },
}

#[derive(Subcommand)]
enum DocumentsCommand {
    /// Check whether a PDF is a signed record Portico issued; exits non-zero when it is not.
    Verify {
        /// The PDF file.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum StorageCommand {
    /// Copy attachments stored before migration 0012 (`<data_dir>/files/<tenant>/<id>`) into
    /// the configured store (`PORTICO_STORAGE_URL`) under tenant keys; safe to run again.
    Migrate,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk a tenant's hash chain; exits non-zero at the first broken link.
    Verify {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and its first staff admin.
    Create {
        /// URL slug, e.g. acme.
        #[arg(long)]
        slug: String,
        /// Organisation name.
        #[arg(long)]
        name: String,
        /// msp or mission.
        #[arg(long, value_parser = ["msp", "mission"])]
        org_type: String,
        /// Plan name (team, enterprise).
        #[arg(long, default_value = "team")]
        plan: String,
        /// Email of the first staff admin.
        #[arg(long)]
        admin_email: String,
        /// Name of the first staff admin.
        #[arg(long, default_value = "Administrator")]
        admin_name: String,
        /// Read the admin's password from standard input instead of printing a one-time link.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List tenants and their domains.
    List,
    /// Register a custom domain for a tenant.
    AddDomain {
        /// Tenant slug.
        slug: String,
        /// Domain, e.g. portal.acme.com.
        domain: String,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("PORTICO_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn load_config() -> Config {
    match Config::from_env() {
        Ok(mut c) => {
            if let Err(e) = c.prepare_data_dir() {
                eprintln!("configuration error: {e}");
                std::process::exit(2);
            }
            c
        }
        Err(problems) => {
            for p in problems {
                eprintln!("configuration error: {p}");
            }
            std::process::exit(2);
        }
    }
}

/// mimalloc's `purge_delay` option (index in v3's `mi_option_e`, which libmimalloc-sys builds).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Returns freed pages to the system at once instead of after mimalloc's delay, which only runs
/// when the freeing thread allocates again: memory freed on a blocking-pool thread (Argon2
/// buffers, upload parts written to disk) otherwise stayed resident until that thread exited,
/// about 30 MB after a sign-in and a peak of 120 MB under 8 concurrent 50 MB uploads (80 MB
/// with this; bench/upload_load.py). Ticket-list throughput was unchanged within noise.
/// `MIMALLOC_PURGE_DELAY` in the environment still wins.
fn return_freed_memory_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a process-wide allocator option, which mimalloc allows at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}

#[tokio::main]
async fn main() {
    return_freed_memory_promptly();
    init_tracing();
    let cli = Cli::parse();
    let config = load_config();
    if let Err(e) = run(cli, config).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    // Backup and restore open the database themselves: restore must not start the app on the
    // file it is about to replace, and neither needs migrations run.
    match &cli.command {
        Command::Backup { file } => {
            let db = portico::db::Db::connect(&config.database_url).await?;
            let bytes = portico::db::backup::backup(&db, file).await?;
            println!(
                "backup written to {} ({bytes} bytes). Keep the secret key (PORTICO_SECRET_KEY, or {}) with it: sealed secrets and the audit chain need the same key.",
                file.display(),
                config.data_dir.join("secret.key").display()
            );
            return Ok(());
        }
        Command::Restore { file } => {
            let kept = portico::db::backup::restore(&config.database_url, file).await?;
            println!("restored {}", file.display());
            if let Some(k) = kept {
                println!("the previous database is kept as {}", k.display());
            }
            return Ok(());
        }
        _ => {}
    }
    let base_url = config.base_url.clone();
    let listen = config.listen;
    let state = AppState::build(config).await?;
    match cli.command {
        Command::Migrate => {
            println!("migrations applied ({:?})", state.db.backend());
        }
        Command::Demo { scale } => {
            if !(scale > 0.0 && scale <= 100.0) {
                anyhow::bail!("--scale: use a number above 0 and at most 100");
            }
            let started = std::time::Instant::now();
            portico::demo::seed(&state.db).await?;
            let summary = portico::seed::seed_scale(&state.db, scale).await?;
            println!(
                "seeded in {:.1}s: {}",
                started.elapsed().as_secs_f64(),
                serde_json::to_string(&summary)?
            );
        }
        Command::Serve { demo } => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| anyhow::anyhow!("PORTICO_LISTEN: cannot listen on {listen}: {e}"))?;
            if demo {
                let logins = portico::demo::seed(&state.db).await?;
                println!(
                    "Demo data ready. Every account's password is '{}'.",
                    portico::demo::DEMO_PASSWORD
                );
                println!(
                    "Hub sign-in: {} accept HS256 tokens signed with '{}' (portico sso token --tenant acme --email …).",
                    portico::identity::demo::DEMO_HUB_TENANTS.join(" and "),
                    portico::identity::demo::DEMO_HUB_SECRET
                );
                for l in &logins {
                    println!(
                        "  {:<6} {:<24} {:<20} {}{}?tenant={}",
                        l.tenant, l.email, l.role, base_url, l.login_path, l.tenant
                    );
                }
            }
            println!("Portico is listening on {base_url} (bound to {listen})");
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            portico::app::serve(state, listener, shutdown).await?;
        }
        Command::Backup { .. } | Command::Restore { .. } => {}
        Command::Tenant { command } => tenant_command(&state, &base_url, command).await?,
        Command::Storage {
            command: StorageCommand::Migrate,
        } => {
            let moved = portico::tickets::legacy_files::migrate(&state).await?;
            println!("storage: moved {moved} file(s) into the configured store");
        }
        Command::Documents {
            command: DocumentsCommand::Verify { file },
        } => {
            if !portico::documents::verify::cli(&state.db, &file).await? {
                std::process::exit(1);
            }
        }
        Command::Sso {
            command:
                SsoCommand::Token {
                    tenant,
                    email,
                    company,
                    role,
                    name,
                    ttl,
                },
        } => {
            let scope = portico::demo::operator_scope(&state.db, &tenant).await?;
            let settings = portico::identity::store::settings(&state.db, &scope).await?;
            let secret = portico::identity::hub::secret(&state, &settings).ok_or_else(|| {
                anyhow::anyhow!(
                    "{tenant} has no Hub secret: set one at /admin/integrations/identity or PORTAL_CLIENT_SSO_SECRET"
                )
            })?;
            if !(1..=portico::identity::MAX_LIFETIME_SECS).contains(&ttl) {
                anyhow::bail!("--ttl: use 1 to 300 seconds");
            }
            let now = portico::identity::now_secs();
            let mut claims = portico::identity::new_claims(&tenant, &email, now, ttl);
            claims.company = company;
            claims.role = role;
            claims.name = name.unwrap_or_default();
            let token = portico::identity::mint(&claims, &secret)?;
            println!("{token}");
            eprintln!(
                "sign in (valid {ttl} s, once): {base_url}/auth/hub?tenant={tenant}&token={token}"
            );
        }
        Command::Audit {
            command: AuditCommand::Verify { tenant },
        } => {
            let scope = portico::demo::operator_scope(&state.db, &tenant).await?;
            match portico::audit::verify(&state.db, &scope).await? {
                None => println!("audit chain of {tenant}: OK"),
                Some(seq) => anyhow::bail!(
                    "audit chain of {tenant} is broken at entry {seq}: that entry or the one before it was changed or removed"
                ),
            }
        }
    }
    Ok(())
}

async fn tenant_command(
    state: &AppState,
    base_url: &str,
    command: TenantCommand,
) -> anyhow::Result<()> {
    let db = &state.db;
    match command {
        TenantCommand::Create {
            slug,
            name,
            org_type,
            plan,
            admin_email,
            admin_name,
            password_stdin,
        } => {
            let org_type = OrgType::parse(&org_type)
                .ok_or_else(|| anyhow::anyhow!("--org-type: use msp or mission"))?;
            let hash = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let pw = line.trim_end_matches(['\r', '\n']);
                portico::auth::password::check_new(pw, pw, &admin_email)
                    .map_err(|e| anyhow::anyhow!("password: {e}"))?;
                Some(
                    portico::auth::password::hash(pw)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                )
            } else {
                None
            };
            let t = NewTenant {
                slug: slug.clone(),
                name,
                org_type,
                plan,
            };
            let (id, user) =
                portico::demo::provision_tenant(db, &t, &admin_email, &admin_name, hash.as_deref())
                    .await?;
            println!("created tenant {slug} ({id})");
            let admin_email = portico::users::normalize_email(&admin_email);
            if hash.is_some() {
                println!("{admin_email} can sign in at {base_url}/admin/login?tenant={slug}");
            } else {
                let scope = portico::demo::operator_scope(db, &slug).await?;
                let mut tx = db.tenant(&scope).begin().await?;
                let token = portico::auth::tokens::issue(
                    &mut tx,
                    &user,
                    portico::auth::tokens::Purpose::Invite,
                )
                .await?;
                tx.commit().await?;
                println!("one-time link for {admin_email} (valid 7 days):");
                println!("{base_url}/invite/accept?tenant={slug}&token={token}");
            }
        }
        TenantCommand::List => {
            let tenants = store::list(db).await?;
            if tenants.is_empty() {
                println!("no tenants yet; create one with `portico tenant create`");
            }
            for t in tenants {
                println!(
                    "{:<20} {:<8} {:<11} {:<30} {}",
                    t.slug,
                    t.org_type,
                    t.plan,
                    t.name,
                    t.domains.join(",")
                );
            }
        }
        TenantCommand::AddDomain { slug, domain } => {
            let domain = domain.trim().to_ascii_lowercase();
            if !portico::tenancy::valid_domain(&domain) {
                anyhow::bail!("'{domain}' is not a domain name such as portal.acme.com");
            }
            let scope = portico::demo::operator_scope(db, &slug).await?;
            store::add_domain(db, &scope, &domain).await?;
            portico::audit::record(
                db,
                &scope,
                portico::audit::Entry::new("domain.added")
                    .target("domain", &domain)
                    .detail(serde_json::json!({ "domain": domain })),
            )
            .await?;
            println!("{domain} now serves tenant {slug}");
        }
    }
    Ok(())
}
