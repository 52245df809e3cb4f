//! Tests of the command line and configuration.

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
    assert!(cli.config.store_config().migrate_on_open);
    let cli = Cli::try_parse_from(["scim-server", "serve", "--no-migrate"]).unwrap();
    assert!(!cli.config.store_config().migrate_on_open);
}

#[test]
fn event_settings_have_their_defaults_and_parse_units() {
    let cli = Cli::try_parse_from(["scim-server", "serve"]).unwrap();
    let e = &cli.config.events;
    assert_eq!(e.event_retention, Duration::from_secs(30 * 86_400));
    assert_eq!(e.webhook_timeout, Duration::from_secs(10));
    assert_eq!(e.webhook_retry_window, Duration::from_secs(72 * 3600));
    assert_eq!(e.event_poll_interval, Duration::from_secs(1));
    assert_eq!(e.nats_url, None);
    assert_eq!(e.delivery_concurrency, 8);
    assert!(!e.no_delivery);
    let d = cli.config.delivery_config("me".into(), None);
    assert_eq!(d.lease, Duration::from_secs(30));
    assert_eq!(d.owner, "me");
    assert_eq!(d.public_url, "http://127.0.0.1:8080");

    let cli = Cli::try_parse_from([
        "scim-server",
        "--event-retention",
        "7d",
        "--webhook-timeout",
        "2500ms",
        "--webhook-retry-window",
        "3600",
        "--event-poll-interval",
        "200ms",
        "--nats-url",
        "nats://127.0.0.1:4222",
        "--delivery-concurrency",
        "2",
        "--no-delivery",
    ])
    .unwrap();
    let e = &cli.config.events;
    assert_eq!(e.event_retention, Duration::from_secs(7 * 86_400));
    assert_eq!(e.webhook_timeout, Duration::from_millis(2500));
    assert_eq!(e.webhook_retry_window, Duration::from_secs(3600));
    assert_eq!(e.event_poll_interval, Duration::from_millis(200));
    assert!(e.no_delivery);
    let d = cli.config.delivery_config("me".into(), None);
    assert_eq!(d.nats_url.as_deref(), Some("nats://127.0.0.1:4222"));
    assert_eq!(d.concurrency, 2);
    assert_eq!(d.lease, Duration::from_millis(7500));
}

#[test]
fn sign_in_settings_have_their_defaults() {
    let cli = Cli::try_parse_from(["scim-server", "serve"]).unwrap();
    let c = cli.config.sign_in.sign_in_config();
    assert_eq!(c.rate_per_minute, 10);
    assert_eq!(c.trusted_proxy_hops, 0);
    assert_eq!(c.concurrency, scim_admin::sign_in::default_concurrency());
    assert!(c.concurrency >= 1);
    let cli = Cli::try_parse_from([
        "scim-server",
        "--sign-in-rate-per-minute",
        "0",
        "--trusted-proxy-hops",
        "2",
        "--sign-in-concurrency",
        "3",
    ])
    .unwrap();
    let c = cli.config.sign_in.sign_in_config();
    assert_eq!(
        (c.rate_per_minute, c.trusted_proxy_hops, c.concurrency),
        (0, 2, 3)
    );
    assert!(Cli::try_parse_from(["scim-server", "--sign-in-concurrency", "0"]).is_err());
}

#[test]
fn the_event_signing_key_comes_from_the_flag_or_a_file() {
    let key = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";
    let cli = Cli::try_parse_from(["scim-server", "--event-signing-key", key]).unwrap();
    let from_flag = cli.config.events.signing_key().unwrap().unwrap();
    assert_eq!(from_flag.as_bytes(), [9u8; 32]);
    assert!(
        !format!("{:?}", cli.config).contains(key),
        "Debug shows no key"
    );

    let dir = std::env::temp_dir().join(format!("scim-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("event.key");
    std::fs::write(&file, format!("{key}\n")).unwrap();
    let path = file.to_str().unwrap();
    let cli = Cli::try_parse_from(["scim-server", "--event-signing-key-file", path]).unwrap();
    assert_eq!(cli.config.events.signing_key().unwrap(), Some(from_flag));

    std::fs::write(&file, "c2hvcnQ=").unwrap();
    let cli = Cli::try_parse_from(["scim-server", "--event-signing-key-file", path]).unwrap();
    assert!(
        cli.config.events.signing_key().is_err(),
        "a short key in the file"
    );
    let missing = dir.join("missing.key");
    let cli = Cli::try_parse_from([
        "scim-server",
        "--event-signing-key-file",
        missing.to_str().unwrap(),
    ])
    .unwrap();
    assert!(cli.config.events.signing_key().is_err());
    std::fs::remove_dir_all(&dir).unwrap();

    assert!(Cli::try_parse_from(["scim-server", "--event-signing-key", "c2hvcnQ="]).is_err());
    assert!(
        Cli::try_parse_from([
            "scim-server",
            "--event-signing-key",
            key,
            "--event-signing-key-file",
            path
        ])
        .is_err(),
        "one or the other"
    );
    let none = Cli::try_parse_from(["scim-server"]).unwrap();
    assert_eq!(none.config.events.signing_key().unwrap(), None);
}

#[test]
fn bad_event_settings_are_refused() {
    for args in [
        ["--event-retention", "0"],
        ["--webhook-timeout", "0s"],
        ["--event-poll-interval", "fast"],
        ["--webhook-retry-window", "3w"],
        ["--delivery-concurrency", "0"],
    ] {
        let mut argv = vec!["scim-server"];
        argv.extend(args);
        assert!(Cli::try_parse_from(&argv).is_err(), "{args:?}");
    }
}

#[test]
fn request_log_settings_have_their_defaults() {
    let cli = Cli::try_parse_from(["scim-server", "serve"]).unwrap();
    let r = &cli.config.request_log;
    assert_eq!(r.request_log, OnOff::On);
    assert_eq!(r.request_log_retention_days, 180);
    assert_eq!(r.request_log_queue, 10_000);
    let cli = Cli::try_parse_from([
        "scim-server",
        "--request-log",
        "off",
        "--request-log-retention-days",
        "0",
        "--request-log-queue",
        "5",
        "serve",
    ])
    .unwrap();
    let r = &cli.config.request_log;
    assert_eq!(r.request_log, OnOff::Off);
    assert_eq!(r.request_log_retention_days, 0);
    assert_eq!(r.request_log_queue, 5);
    assert!(Cli::try_parse_from(["scim-server", "--request-log", "maybe", "serve"]).is_err());
    assert!(Cli::try_parse_from(["scim-server", "--request-log-queue", "0", "serve"]).is_err());
}
