//! The command line and configuration: every option is a flag and an environment variable.

use crate::duration::{format_duration, parse_duration};
use crate::limits::LimitSettings;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::time::Duration;

/// The multi-tenant SCIM 2.0 provisioning server.
#[derive(Debug, Parser)]
#[command(name = "scim-server", version, about, long_about = None)]
pub struct Cli {
    /// A TOML configuration file: `key = value` lines named like the flags without their
    /// dashes (`database_url = "postgres://…"`, `rate_limit_per_tenant = 50`). Flags override
    /// environment variables, which override the file. See docs/configuration.md.
    #[arg(
        long = "config",
        env = "SCIM_CONFIG",
        global = true,
        value_name = "PATH"
    )]
    pub config_file: Option<std::path::PathBuf>,
    /// Configuration shared by every command.
    #[command(flatten)]
    pub config: Config,
    /// What to do (default: `serve`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies pending database migrations first, unless
    /// `--no-migrate`).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage organizations (tenants).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage an organization's own extension schemas (docs/schemas.md).
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Manage secret tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage admin console accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage an organization's event subscriptions (signed webhooks, NATS subjects).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Read an organization's event feed.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Manage an organization's roles, entitlements and entitlement types (Okta Identity
    /// Governance).
    #[command(subcommand)]
    Entitlement(crate::entitlements::EntitlementCommand),
}

/// `webhook ...`
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Subscribe a receiver to an organization's events and print its signing secret (shown
    /// only here). It receives the changes committed from now on.
    Add {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Where the events go: an `http(s)://` URL (RFC 8935 push) or `nats:<subject>`
        /// (NATS JetStream).
        #[arg(long)]
        url: String,
        /// `full` (the resource after the change) or `notice` (the changed attribute paths).
        #[arg(long, default_value = "full")]
        mode: String,
        /// Only these event types, comma-separated (e.g. `prov:deactivate,feed:remove`);
        /// default: every type.
        #[arg(long)]
        events: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List an organization's subscriptions (never their secrets).
    List {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove a subscription with its delivery log.
    Remove {
        /// The subscription id.
        #[arg(long)]
        id: String,
    },
}

/// `events ...`
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print a page of an organization's events (full-mode SET claims) after a cursor.
    List {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Only events after this cursor (the `next` of the previous page; default: from
        /// the oldest kept event).
        #[arg(long, allow_hyphen_values = true)]
        after: Option<String>,
        /// Page size, 1 to 1000.
        #[arg(long, default_value = "100", allow_hyphen_values = true)]
        limit: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `admin ...`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a console account; the password is read from stdin (prompted, without echo,
    /// when stdin is a terminal). Without `--tenant` the account is an operator (sees and
    /// manages every organization).
    Create {
        /// The e-mail address to sign in with.
        #[arg(long)]
        email: String,
        /// Limit the account to this organization (tenant) id.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Print a new admin API token for an account (for `/admin/api`); the account's
    /// previous API token stops working.
    Token {
        /// The account's e-mail address.
        #[arg(long)]
        email: String,
    },
}

/// `tenant ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, each value with where it came from (flag,
    /// environment, file or default), secrets masked; exits non-zero if it is invalid.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create an organization and print its Tenant URL.
    Create {
        /// The organization's name.
        #[arg(long)]
        name: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List organizations.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Pause provisioning for an organization: its SCIM endpoint answers 403 with a message
    /// for the identity provider's admin, on every replica at once. Its data is kept.
    Pause {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Resume provisioning for a paused organization, on every replica at once.
    Resume {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete an organization and all its data (users, groups, log, events, webhooks, its
    /// console admins): its token stops working at once, on every replica. Irreversible:
    /// export it first if in doubt.
    Delete {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Confirms the deletion (required).
        #[arg(long)]
        yes: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write an organization's users and groups as SCIM JSON to standard output:
    /// `{"tenant": {..}, "exported_at": .., "Users": [..], "Groups": [..]}`.
    Export {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
    },
    /// Change an organization's settings, from its next request on every replica.
    Set {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// The SCIM conformance profile: `strict` (every service-provider MUST of the
        /// interop profile; refuses Okta's and Entra's path-less PATCH) or `lenient` (the
        /// default). See docs/profiles.md.
        #[arg(long, value_parser = clap::value_parser!(ProfileArg))]
        profile: ProfileArg,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `schema ...`
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Create or replace an extension schema (an RFC 7643 §7 schema document) of an
    /// organization. An incompatible change of a stored one is refused unless `--force`.
    Put {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// The resource type it extends.
        #[arg(long, value_enum)]
        extends: ExtendsArg,
        /// The schema document (JSON); `-` reads standard input.
        #[arg(long)]
        file: String,
        /// Every resource of that type must carry the extension (`schemaExtensions.required`).
        #[arg(long)]
        required: bool,
        /// Replace even when the change is incompatible with the stored definition.
        #[arg(long)]
        force: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List an organization's extension schemas (removed ones too).
    List {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove an extension schema; values stored under it are kept but withheld.
    Remove {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// The schema URN.
        #[arg(long)]
        id: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `--extends User|Group` of `schema put`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExtendsArg {
    /// `/Users`.
    #[value(name = "User", alias = "user")]
    User,
    /// `/Groups`.
    #[value(name = "Group", alias = "group")]
    Group,
}

impl From<ExtendsArg> for scim_core::ResourceKind {
    fn from(k: ExtendsArg) -> Self {
        match k {
            ExtendsArg::User => scim_core::ResourceKind::User,
            ExtendsArg::Group => scim_core::ResourceKind::Group,
        }
    }
}

/// `--profile strict|lenient` of `tenant set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfileArg {
    /// Every service-provider MUST of draft-zollner-scim-interop-profile-02.
    Strict,
    /// Today's tolerance of Okta and Entra ID (the default).
    Lenient,
}

impl From<ProfileArg> for scim_core::Profile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Strict => scim_core::Profile::Strict,
            ProfileArg::Lenient => scim_core::Profile::Lenient,
        }
    }
}

/// `token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Generate a new secret token for an organization. The previous token stops working
    /// at once, also for servers already running on the same database.
    Generate {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `--request-log on|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// Enabled (the default).
    On,
    /// Disabled.
    Off,
}

/// The organization admins' request log (see `docs/operations.md`, "Request log").
#[derive(Debug, Clone, Args)]
pub struct RequestLogSettings {
    /// Log every SCIM request to an organization for its admins (console Requests page,
    /// `GET /admin/api/organizations/{id}/requests`).
    #[arg(long, env = "SCIM_REQUEST_LOG", value_enum, default_value_t = OnOff::On, global = true)]
    pub request_log: OnOff,

    /// Days request-log entries are kept; older ones are pruned in the background every
    /// hour. 0 keeps them forever.
    #[arg(
        long,
        env = "SCIM_REQUEST_LOG_RETENTION_DAYS",
        default_value_t = 180,
        global = true
    )]
    pub request_log_retention_days: u32,

    /// Entries waiting for the background writer; when it is full, entries are dropped
    /// and counted (`scim_request_log_dropped_total`, shown in the console), requests never
    /// wait.
    #[arg(long, env = "SCIM_REQUEST_LOG_QUEUE", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub request_log_queue: u32,
}

/// Server configuration. Flags win over environment variables.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://PATH` (relative), `sqlite:///ABSOLUTE/PATH`, or
    /// `postgres://user:password@host:port/database`.
    #[arg(
        long,
        env = "SCIM_DATABASE_URL",
        default_value = "sqlite://scim.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "SCIM_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// The externally visible base URL (scheme, host, port, optional path prefix) used in
    /// Tenant URLs, `Location` headers and `meta.location`. Default: `http://<bind>`.
    #[arg(long, env = "SCIM_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Number of HTTP worker threads (default: number of CPUs).
    #[arg(long, env = "SCIM_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Maximum number of pooled database connections.
    #[arg(long, env = "SCIM_DB_POOL_SIZE", default_value_t = 10, global = true)]
    pub db_pool_size: u32,

    /// Seconds to wait for a database connection before answering 503.
    #[arg(
        long,
        env = "SCIM_DB_CONNECTION_TIMEOUT",
        default_value_t = 5,
        global = true
    )]
    pub db_connection_timeout: u64,

    /// Largest accepted request body in bytes (larger requests get 413).
    #[arg(
        long,
        env = "SCIM_MAX_BODY_BYTES",
        default_value_t = 1_048_576,
        global = true
    )]
    pub max_body_bytes: usize,

    /// Most operations in one `POST /Bulk` (`bulk.maxOperations`; more get 413).
    #[arg(
        long,
        env = "SCIM_BULK_MAX_OPERATIONS",
        default_value_t = 1000,
        global = true
    )]
    pub bulk_max_operations: usize,

    /// Largest `POST /Bulk` body in bytes (`bulk.maxPayloadSize`; larger gets 413). The
    /// Bulk endpoint has this limit instead of `--max-body-bytes`.
    #[arg(
        long,
        env = "SCIM_BULK_MAX_PAYLOAD_BYTES",
        default_value_t = 4_194_304,
        global = true
    )]
    pub bulk_max_payload_bytes: usize,

    /// Largest page a list returns (`filter.maxResults`); at least 100.
    #[arg(
        long,
        env = "SCIM_MAX_PAGE_SIZE",
        default_value_t = 1000,
        global = true
    )]
    pub max_page_size: u64,

    /// Seconds an RFC 9865 list cursor stays valid after it is issued (`cursorTimeout`).
    #[arg(
        long,
        env = "SCIM_CURSOR_TIMEOUT",
        default_value_t = 3600,
        global = true
    )]
    pub cursor_timeout: u64,

    /// Log format.
    #[arg(long, env = "SCIM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Log level or filter directives (e.g. `info`, `debug`, `info,scim_http=debug`).
    #[arg(long, env = "SCIM_LOG_LEVEL", default_value = "info", global = true)]
    pub log_level: String,

    /// Upgrade only: the key (at least 32 bytes) that signed tenant tokens in releases
    /// before opaque tokens, if one was configured. At start-up, tokens of that era are
    /// rehashed with it (else with the key the database kept) and keep working; new
    /// tokens never use it. Remove it once every replica runs this release.
    #[arg(
        long,
        env = "SCIM_TOKEN_SIGNING_KEY",
        global = true,
        hide_env_values = true
    )]
    pub token_signing_key: Option<String>,

    /// Apply no migrations on start: the schema must already be current (run `migrate` as
    /// a job first); a server finding it older or newer stops with a message.
    #[arg(
        long,
        env = "SCIM_NO_MIGRATE",
        global = true,
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_migrate: bool,

    /// Serves Prometheus metrics at `/metrics` on this separate address (e.g.
    /// `127.0.0.1:9464`), away from the SCIM and console listener, so only the operator's
    /// network reaches it. Unset: no metrics endpoint. See docs/operations.md.
    #[arg(long, env = "SCIM_METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,

    /// Adds a `tenant` label to `scim_provisioning_operations_total`: one series per
    /// organization, so only for a bounded number of organizations.
    #[arg(
        long,
        env = "SCIM_METRICS_PER_TENANT",
        global = true,
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub metrics_per_tenant: bool,

    /// Seconds to let in-flight requests finish on shutdown (SIGTERM / Ctrl-C).
    #[arg(
        long,
        env = "SCIM_SHUTDOWN_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_timeout: u64,

    /// The event outbox and its delivery.
    #[command(flatten)]
    pub events: EventSettings,

    /// Rate limit, filter budget, statement timeout and slow-client timeouts.
    #[command(flatten)]
    pub limits: LimitSettings,

    /// The console's sign-in limits.
    #[command(flatten)]
    pub sign_in: SignInSettings,

    /// The request log.
    #[command(flatten)]
    pub request_log: RequestLogSettings,
}

/// The admin console's sign-in limits (see `docs/security.md`): per client address, and
/// the number of argon2 password hashes at once. The per-e-mail failure limit is fixed
/// and shared by every replica.
#[derive(Debug, Clone, Args)]
pub struct SignInSettings {
    /// Console sign-ins a minute per client address (IPv6: per /64), per replica, also the
    /// burst; over it: 429 with `Retry-After`. 0 turns the limit off.
    #[arg(
        long,
        env = "SCIM_SIGN_IN_RATE_PER_MINUTE",
        default_value_t = 10,
        global = true
    )]
    pub sign_in_rate_per_minute: u32,

    /// How many reverse proxies in front of the server append to `X-Forwarded-For`: the
    /// client address is the N-th entry from the right. 0 (default) ignores the header
    /// (a client could write anything in it) and uses the connection's peer.
    #[arg(
        long,
        env = "SCIM_TRUSTED_PROXY_HOPS",
        default_value_t = 0,
        global = true
    )]
    pub trusted_proxy_hops: usize,

    /// Console password hashes (argon2id: sign-in and set-up) run at once; a sign-in that
    /// waits over 2 s for its turn gets 503 with `Retry-After`. Default: the number of
    /// CPUs.
    #[arg(long, env = "SCIM_SIGN_IN_CONCURRENCY", value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub sign_in_concurrency: Option<u16>,
}

impl SignInSettings {
    /// The console's sign-in configuration.
    pub fn sign_in_config(&self) -> scim_admin::SignInConfig {
        scim_admin::SignInConfig {
            rate_per_minute: self.sign_in_rate_per_minute,
            trusted_proxy_hops: self.trusted_proxy_hops,
            concurrency: self
                .sign_in_concurrency
                .map_or_else(scim_admin::sign_in::default_concurrency, usize::from),
        }
    }
}

/// The event outbox's retention and the delivery worker (see `docs/events.md`). Durations
/// are whole seconds or carry a unit: `500ms`, `10s`, `5m`, `72h`, `30d`.
#[derive(Debug, Clone, Args)]
pub struct EventSettings {
    /// How long events are kept (older ones are pruned; pull consumers must read within it).
    #[arg(long, env = "SCIM_EVENT_RETENTION", default_value = "30d", value_parser = positive_duration, global = true)]
    pub event_retention: Duration,

    /// Time limit of one webhook POST (and of a NATS acknowledgement). A delivery lease
    /// lasts three times this.
    #[arg(long, env = "SCIM_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = positive_duration, global = true)]
    pub webhook_timeout: Duration,

    /// A subscription that keeps failing this long is disabled, with the reason shown.
    #[arg(long, env = "SCIM_WEBHOOK_RETRY_WINDOW", default_value = "72h", value_parser = positive_duration, global = true)]
    pub webhook_retry_window: Duration,

    /// How often the delivery worker looks for work committed by other replicas (changes
    /// committed by this process wake it at once).
    #[arg(long, env = "SCIM_EVENT_POLL_INTERVAL", default_value = "1s", value_parser = positive_duration, global = true)]
    pub event_poll_interval: Duration,

    /// NATS server for `nats:<subject>` subscriptions, e.g. `nats://127.0.0.1:4222`.
    #[arg(long, env = "SCIM_NATS_URL", global = true, hide_env_values = true)]
    pub nats_url: Option<String>,

    /// Subscriptions this process delivers to at once (each one strictly in order).
    #[arg(long, env = "SCIM_DELIVERY_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub delivery_concurrency: u16,

    /// The key subscription secrets (the signatures of webhook and NATS events) are derived
    /// from: base64 of 32 bytes, e.g. `openssl rand -base64 32`, the same on every replica.
    /// Unset, a random key kept in the database is used, and a copy of the database can
    /// then forge events (docs/security.md). Setting it changes every subscription's
    /// secret: rotate each one and give the receivers the new secret.
    #[arg(long, env = "SCIM_EVENT_SIGNING_KEY", global = true, hide_env_values = true, value_parser = event_signing_key)]
    pub event_signing_key: Option<scim_events::EventSigningKey>,

    /// A file holding the event signing key (a container or systemd secret), instead of
    /// `--event-signing-key`.
    #[arg(
        long,
        env = "SCIM_EVENT_SIGNING_KEY_FILE",
        global = true,
        conflicts_with = "event_signing_key"
    )]
    pub event_signing_key_file: Option<std::path::PathBuf>,

    /// Run no delivery worker in this process (other replicas deliver); the outbox, the
    /// events API and `events list` still work.
    #[arg(
        long,
        env = "SCIM_NO_DELIVERY",
        global = true,
        action = clap::ArgAction::SetTrue,
        // `SCIM_NO_DELIVERY=1` / `yes` / `on` as well as `true` (and their negatives).
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_delivery: bool,
}

/// A configured event signing key (base64 of 32 bytes).
fn event_signing_key(text: &str) -> Result<scim_events::EventSigningKey, String> {
    scim_events::EventSigningKey::from_base64(text).map_err(|e| e.to_string())
}

impl EventSettings {
    /// The operator's event signing key: the flag's, or the key file's; `None` when neither
    /// is given (the key kept in the database is used).
    pub fn signing_key(&self) -> anyhow::Result<Option<scim_events::EventSigningKey>> {
        if let Some(key) = &self.event_signing_key {
            return Ok(Some(key.clone()));
        }
        let Some(path) = &self.event_signing_key_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the event signing key file {}: {e}",
                path.display()
            )
        })?;
        scim_events::EventSigningKey::from_base64(&text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// A duration above zero (see [`parse_duration`]).
fn positive_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(format!(
            "{text:?} must be longer than 0 ({})",
            format_duration(d)
        ));
    }
    Ok(d)
}

impl Config {
    /// The public base URL without a trailing `/`.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
            _ => format!("http://{}", self.bind),
        }
    }

    /// The store configuration.
    pub fn store_config(&self) -> scim_store::StoreConfig {
        let mut c = scim_store::StoreConfig::new(self.database_url.clone());
        c.pool_size = self.db_pool_size.max(1);
        c.connection_timeout = Duration::from_secs(self.db_connection_timeout.max(1));
        c.scan_budget = Some(self.limits.filter_scan_budget).filter(|n| *n > 0);
        c.statement_timeout = LimitSettings::non_zero(self.limits.db_statement_timeout);
        c.migrate_on_open = !self.no_migrate;
        c
    }

    /// The delivery worker's configuration for a process whose lease owner id is `owner`,
    /// signing with `signing_key` ([`EventSettings::signing_key`]).
    pub fn delivery_config(
        &self,
        owner: String,
        signing_key: Option<scim_events::EventSigningKey>,
    ) -> scim_events::DeliveryConfig {
        let e = &self.events;
        scim_events::DeliveryConfig {
            public_url: self.public_url(),
            owner,
            poll_interval: e.event_poll_interval,
            // A lease must outlive a delivery in flight (one POST plus its bookkeeping)
            // with room to renew it: three request timeouts, the default 30 s for 10 s.
            lease: e.webhook_timeout.saturating_mul(3),
            request_timeout: e.webhook_timeout,
            retry_window: e.webhook_retry_window,
            retention: e.event_retention,
            nats_url: e
                .nats_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_string),
            concurrency: usize::from(e.delivery_concurrency),
            signing_key,
            ..scim_events::DeliveryConfig::default()
        }
    }

    /// The request limits.
    pub fn limits(&self) -> scim_http::Limits {
        scim_http::Limits {
            max_body_bytes: self.max_body_bytes.max(1024),
            max_page_size: self.max_page_size.max(100),
            default_page_size: 100,
            cursor_timeout: Duration::from_secs(self.cursor_timeout.max(1)),
            // A request waits for a connection as long as the pool itself would wait.
            queue_timeout: Duration::from_secs(self.db_connection_timeout.max(1)),
            rate_limit: self.limits.rate_limit(),
            body_read_timeout: LimitSettings::non_zero(self.limits.body_read_timeout),
            bulk: scim_core::bulk::BulkLimits {
                max_operations: self.bulk_max_operations.max(1),
                max_payload_bytes: self.bulk_max_payload_bytes.max(1024),
            },
        }
    }
}

#[cfg(test)]
mod tests;
