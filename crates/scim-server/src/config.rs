//! The command line and configuration: every option is a flag and an environment variable.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::time::Duration;

/// The multi-tenant SCIM 2.0 provisioning server.
#[derive(Debug, Parser)]
#[command(name = "scim-server", version, about, long_about = None)]
pub struct Cli {
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
    /// Run the HTTP server (applies pending database migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage organizations (tenants).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage secret tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage admin console accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
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

    /// Secret key (at least 32 bytes) that signs tenant tokens. When unset, a random key is
    /// generated once and kept in the database, shared by every replica.
    #[arg(
        long,
        env = "SCIM_TOKEN_SIGNING_KEY",
        global = true,
        hide_env_values = true
    )]
    pub token_signing_key: Option<String>,

    /// Seconds to let in-flight requests finish on shutdown (SIGTERM / Ctrl-C).
    #[arg(
        long,
        env = "SCIM_SHUTDOWN_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_timeout: u64,
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
        c
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "scim-server",
            "tenant",
            "create",
            "--name",
            "Acme",
            "--json",
            "--database-url",
            "sqlite://x.db",
        ])
        .unwrap();
        assert_eq!(cli.config.database_url, "sqlite://x.db");
        assert!(matches!(
            cli.command,
            Some(Command::Tenant(TenantCommand::Create { json: true, .. }))
        ));
        assert_eq!(cli.config.public_url(), "http://127.0.0.1:8080");
    }
}
