//! `scim-server`: the binary. Configuration, command line, logging and wiring of
//! `scim-store`, `scim-http`, the admin console and the event delivery worker.

mod commands;
mod config;
mod config_file;
mod duration;
mod entitlements;
mod limits;
mod metrics;
mod schemas;
mod telemetry;
mod tenant_lifecycle;
mod webhooks;

use actix_web::middleware::NormalizePath;
use actix_web::{App, HttpServer};
use anyhow::Context as _;
use config::{
    AdminCommand, Command, Config, ConfigCommand, EventsCommand, SchemaCommand, TenantCommand,
    TokenCommand, WebhookCommand,
};
use scim_http::AppState;
use scim_http::telemetry::ScimRootSpanBuilder;
use scim_store::Store as _;
use std::sync::Arc;
use tracing_actix_web::TracingLogger;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole cause chain on one line, without a backtrace: this is read by
            // administrators, not developers.
            eprintln!("error: {e:#}");
            if e.is::<webhooks::UsageError>() {
                // Bad input, like clap's own parse errors.
                std::process::ExitCode::from(2)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}

fn run() -> anyhow::Result<()> {
    let parsed = config_file::parse()?;
    if let Some(Command::Config(ConfigCommand::Check)) = &parsed.cli.command {
        return config_file::check(&parsed);
    }
    let cli = parsed.cli;
    telemetry::init(&cli.config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config),
        Command::Migrate => commands::migrate(&cli.config),
        Command::Config(ConfigCommand::Check) => Ok(()),
        Command::Tenant(TenantCommand::Create { name, json }) => {
            commands::tenant_create(&cli.config, &name, json)
        }
        Command::Tenant(TenantCommand::List { json }) => commands::tenant_list(&cli.config, json),
        Command::Tenant(TenantCommand::Pause { tenant, json }) => {
            commands::tenant_pause(&cli.config, &tenant, true, json)
        }
        Command::Tenant(TenantCommand::Resume { tenant, json }) => {
            commands::tenant_pause(&cli.config, &tenant, false, json)
        }
        Command::Tenant(TenantCommand::Delete { tenant, yes, json }) => {
            tenant_lifecycle::tenant_delete(&cli.config, &tenant, yes, json)
        }
        Command::Tenant(TenantCommand::Export { tenant }) => {
            tenant_lifecycle::tenant_export(&cli.config, &tenant)
        }
        Command::Tenant(TenantCommand::Set {
            tenant,
            profile,
            json,
        }) => commands::tenant_set_profile(&cli.config, &tenant, profile.into(), json),
        Command::Schema(SchemaCommand::Put {
            tenant,
            extends,
            file,
            required,
            force,
            json,
        }) => schemas::schema_put(
            &cli.config,
            &tenant,
            extends.into(),
            &file,
            (required, force),
            json,
        ),
        Command::Schema(SchemaCommand::List { tenant, json }) => {
            schemas::schema_list(&cli.config, &tenant, json)
        }
        Command::Schema(SchemaCommand::Remove { tenant, id, json }) => {
            schemas::schema_remove(&cli.config, &tenant, &id, json)
        }
        Command::Token(TokenCommand::Generate { tenant, json }) => {
            commands::token_generate(&cli.config, &tenant, json)
        }
        Command::Admin(AdminCommand::Create { email, tenant }) => {
            commands::admin_create(&cli.config, &email, tenant.as_deref())
        }
        Command::Admin(AdminCommand::Token { email }) => commands::admin_token(&cli.config, &email),
        Command::Webhook(WebhookCommand::Add {
            tenant,
            url,
            mode,
            events,
            json,
        }) => webhooks::webhook_add(&cli.config, &tenant, &url, &mode, events.as_deref(), json),
        Command::Webhook(WebhookCommand::List { tenant, json }) => {
            webhooks::webhook_list(&cli.config, &tenant, json)
        }
        Command::Webhook(WebhookCommand::Remove { id }) => {
            webhooks::webhook_remove(&cli.config, &id)
        }
        Command::Events(EventsCommand::List {
            tenant,
            after,
            limit,
            json,
        }) => webhooks::events_list(&cli.config, &tenant, after.as_deref(), &limit, json),
        Command::Entitlement(command) => entitlements::run(&cli.config, command),
    }
}

/// `serve`: locks a SQLite file against a second server, opens the store (migrating it
/// unless `--no-migrate`, and upgrading JWT-era tokens), loads the cursor key and runs the HTTP server until
/// SIGINT/SIGTERM, then lets in-flight requests finish.
fn serve(config: Config) -> anyhow::Result<()> {
    // Held until the process ends.
    let _sqlite_lock = commands::lock_sqlite_database(&config)?;
    let store = commands::open_store(&config)?;
    let event_key = commands::event_signing_key(&config, &store)?;
    let cursor_key =
        scim_http::CursorKey::load(&store).context("cannot load the list cursor key")?;
    let public_url = config.public_url();
    tracing::info!(
        bind = %config.bind,
        public_url = %public_url,
        database = store.backend_name(),
        "starting scim-server {}",
        env!("CARGO_PKG_VERSION")
    );
    if config.public_url.is_none() {
        tracing::warn!(
            public_url = %public_url,
            "--public-url / SCIM_PUBLIC_URL is not set: Tenant URLs, Location headers and \
             meta.location use the bind address; set it to the URL identity providers reach"
        );
    }
    let store = Arc::new(store);
    let request_log = start_request_log(&config.request_log, &store)?;
    let state = AppState::new(
        store.clone(),
        cursor_key,
        public_url.clone(),
        config.limits(),
    )
    .with_request_log(request_log.clone());
    let admin = scim_admin::AdminState::load(state.clone(), store.clone())
        .map_err(|e| anyhow::anyhow!("cannot set up the admin console: {e}"))?
        .with_sign_in(config.sign_in.sign_in_config())
        .with_event_signing_key(event_key.clone());
    match scim_admin::prepare_setup_link(store.as_ref(), &public_url) {
        // The link is a credential (whoever opens it first becomes the operator): it goes
        // to the terminal once, plainly, and never through the structured log that log
        // shippers collect.
        Ok(Some(link)) => eprintln!(
            "\nNo admin console account exists yet. Create the first operator at\n\n  {link}\n\n\
             (a one-time link, valid for {} hours; or run `scim-server admin create --email ...`)\n",
            scim_admin::SETUP_CODE_HOURS
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot prepare the admin console set-up link"),
    }
    actix_web::rt::System::new().block_on(async move {
        let deliverer = start_delivery(&config, &store, event_key).await?;
        let worker = deliverer.as_ref().map(scim_events::Deliverer::spawn);
        // The console's "send test event" goes through this process's worker.
        let admin = match &deliverer {
            Some(d) => admin.with_deliverer(d.clone()),
            None => admin,
        };
        let request_metrics = match &config.metrics_bind {
            Some(bind) => {
                let handle = metrics::install()?;
                actix_web::rt::spawn(metrics::server(bind, handle)?);
                tracing::info!(metrics_bind = %bind, "serving Prometheus metrics at /metrics");
                Some(scim_http::metrics::RequestMetrics {
                    per_tenant: config.metrics_per_tenant,
                })
            }
            None => None,
        };
        let mut server = HttpServer::new(move || {
            App::new()
                // Inside NormalizePath, so routes are matched on the normalized path.
                .wrap(actix_web::middleware::Condition::new(
                    request_metrics.is_some(),
                    actix_web::middleware::from_fn(move |req, next| {
                        request_metrics.unwrap_or_default().middleware(req, next)
                    }),
                ))
                // A Tenant URL pasted with a trailing `/` makes clients request
                // `.../<tenant>//Users`: merge repeated slashes and drop trailing ones.
                .wrap(NormalizePath::trim())
                .wrap(TracingLogger::<ScimRootSpanBuilder>::new())
                .configure(scim_admin::configure(admin.clone()))
                .configure(scim_http::configure(state.clone()))
        })
        .shutdown_timeout(config.shutdown_timeout)
        // Slow clients (slowloris): the request head must arrive in time, idle keep-alive
        // connections are closed, and a closing connection is dropped after a grace time
        // (bodies have their own timeout in `scim_http::request`). Zero turns each off,
        // as actix reads it.
        .client_request_timeout(config.limits.client_request_timeout)
        .client_disconnect_timeout(config.limits.client_disconnect_timeout)
        .keep_alive(match config.limits.keep_alive {
            d if d.is_zero() => actix_web::http::KeepAlive::Disabled,
            d => actix_web::http::KeepAlive::Timeout(d),
        });
        if let Some(workers) = config.workers.filter(|w| *w > 0) {
            server = server.workers(workers);
        }
        let served = match server.bind(&config.bind) {
            Ok(bound) => bound.run().await.context("the HTTP server failed"),
            Err(e) => Err(e).with_context(|| format!("cannot listen on {}", config.bind)),
        };
        // The HTTP server has stopped (SIGTERM / Ctrl-C, in-flight requests finished):
        // let the worker finish the delivery in hand and give its leases back, so another
        // replica takes over at once instead of after the lease expires.
        if let Some(worker) = worker {
            let grace = config.events.webhook_timeout.saturating_mul(2);
            if actix_web::rt::time::timeout(grace, worker.shutdown())
                .await
                .is_err()
            {
                tracing::warn!(
                    "the event delivery worker did not stop within {}; its leases expire on their own",
                    duration::format_duration(grace)
                );
            }
        }
        // What the request log still has queued goes to the database before the exit.
        request_log.flush(std::time::Duration::from_secs(5));
        request_log.close();
        served?;
        tracing::info!("scim-server stopped");
        Ok(())
    })
}

/// The request log's background writer and, with a retention, its hourly prune (`--request-log off`: neither).
fn start_request_log(
    settings: &config::RequestLogSettings,
    store: &Arc<scim_store::DieselStore>,
) -> anyhow::Result<scim_http::RequestLog> {
    if settings.request_log == config::OnOff::Off {
        tracing::info!("--request-log off: SCIM requests are not logged for organization admins");
        return Ok(scim_http::RequestLog::off());
    }
    let queue = usize::try_from(settings.request_log_queue).unwrap_or(usize::MAX);
    let log = scim_http::RequestLog::start(store.clone(), queue)
        .context("cannot start the request log writer")?;
    if settings.request_log_retention_days > 0 {
        let retention =
            std::time::Duration::from_secs(u64::from(settings.request_log_retention_days) * 86_400);
        scim_http::request_log::spawn_pruner(
            store.clone(),
            retention,
            std::time::Duration::from_secs(3600),
        )
        .context("cannot start the request log prune")?;
    }
    tracing::info!(
        retention_days = settings.request_log_retention_days,
        queue,
        "request log on"
    );
    Ok(log)
}

/// The event delivery worker of this process (not started with `--no-delivery`). Its
/// lease owner id is random per process, so a restarted process never mistakes a dead
/// one's leases for its own.
async fn start_delivery(
    config: &Config,
    store: &Arc<scim_store::DieselStore>,
    signing_key: Option<scim_events::EventSigningKey>,
) -> anyhow::Result<Option<scim_events::Deliverer>> {
    if config.events.no_delivery {
        tracing::info!(
            "--no-delivery: this process delivers no events (other replicas do; the outbox and the events API work)"
        );
        return Ok(None);
    }
    let owner = uuid::Uuid::new_v4().simple().to_string();
    let delivery = config.delivery_config(owner.clone(), signing_key);
    tracing::info!(
        owner = %owner,
        poll_interval = %duration::format_duration(delivery.poll_interval),
        request_timeout = %duration::format_duration(delivery.request_timeout),
        retry_window = %duration::format_duration(delivery.retry_window),
        retention = %duration::format_duration(delivery.retention),
        concurrency = delivery.concurrency,
        nats = delivery.nats_url.is_some(),
        "starting the event delivery worker"
    );
    let shared: Arc<dyn scim_store::Store> = store.clone();
    let deliverer = scim_events::Deliverer::new(shared, delivery)
        .await
        .context("cannot start the event delivery worker")?;
    Ok(Some(deliverer))
}
