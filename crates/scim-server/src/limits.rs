//! The limits that keep one client or one tenant from starving the others: the per-tenant
//! rate limit, the budget of filters that cannot use an index, the PostgreSQL statement
//! timeout, and the timeouts for slow clients. Every one is a flag and an environment
//! variable (see `docs/configuration.md`); durations are whole seconds or carry a unit.

use crate::duration::parse_duration;
use clap::Args;
use std::time::Duration;

/// Limits and timeouts.
#[derive(Debug, Clone, Args)]
pub struct LimitSettings {
    /// Requests per second each organization may make, per replica (a token bucket per
    /// organization, counted after its token is checked); over it: 429 with `Retry-After`.
    /// 0 turns the limit off.
    #[arg(
        long,
        env = "SCIM_RATE_LIMIT_PER_TENANT",
        default_value_t = 100,
        global = true
    )]
    pub rate_limit_per_tenant: u32,

    /// Requests an organization may make at once after being idle (the bucket's size; at
    /// least the rate).
    #[arg(
        long,
        env = "SCIM_RATE_LIMIT_BURST",
        default_value_t = 200,
        global = true
    )]
    pub rate_limit_burst: u32,

    /// Rows a filter that cannot be answered from an index may read per request (its
    /// candidates are evaluated one by one); beyond it the request gets 400 `tooMany`.
    /// 0 turns the budget off.
    #[arg(
        long,
        env = "SCIM_FILTER_SCAN_BUDGET",
        default_value_t = 20_000,
        global = true
    )]
    pub filter_scan_budget: u64,

    /// PostgreSQL `statement_timeout` of the server's connections: a statement running
    /// longer is cancelled (a list gets 400 `tooMany`, anything else 503). 0 turns it off.
    #[arg(long, env = "SCIM_DB_STATEMENT_TIMEOUT", default_value = "5s", value_parser = parse_duration, global = true)]
    pub db_statement_timeout: Duration,

    /// Time a client has to send a request's headers after connecting (then 408 and the
    /// connection is closed). 0 turns it off.
    #[arg(long, env = "SCIM_CLIENT_REQUEST_TIMEOUT", default_value = "5s", value_parser = parse_duration, global = true)]
    pub client_request_timeout: Duration,

    /// Time a SCIM request's body may take to arrive after its headers (then 408). 0 turns
    /// it off.
    #[arg(long, env = "SCIM_BODY_READ_TIMEOUT", default_value = "15s", value_parser = parse_duration, global = true)]
    pub body_read_timeout: Duration,

    /// How long an idle keep-alive connection stays open. 0 closes connections after each
    /// response.
    #[arg(long, env = "SCIM_KEEP_ALIVE", default_value = "5s", value_parser = parse_duration, global = true)]
    pub keep_alive: Duration,

    /// Time a closing connection is given to shut down cleanly before it is dropped.
    #[arg(long, env = "SCIM_CLIENT_DISCONNECT_TIMEOUT", default_value = "1s", value_parser = parse_duration, global = true)]
    pub client_disconnect_timeout: Duration,
}

impl LimitSettings {
    /// The per-tenant rate limit (`None` when off).
    pub fn rate_limit(&self) -> Option<scim_http::RateLimit> {
        scim_http::RateLimit::new(self.rate_limit_per_tenant, self.rate_limit_burst)
    }

    /// `Some(d)` unless `d` is zero (off).
    pub fn non_zero(d: Duration) -> Option<Duration> {
        (!d.is_zero()).then_some(d)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Cli;
    use clap::Parser as _;
    use std::time::Duration;

    #[test]
    fn limits_have_their_defaults_and_can_be_turned_off() {
        let cli = Cli::try_parse_from(["scim-server", "serve"]).unwrap();
        let l = &cli.config.limits;
        let rate = l.rate_limit().unwrap();
        assert_eq!((rate.per_second.get(), rate.burst.get()), (100, 200));
        assert_eq!(l.filter_scan_budget, 20_000);
        assert_eq!(l.db_statement_timeout, Duration::from_secs(5));
        assert_eq!(l.client_request_timeout, Duration::from_secs(5));
        assert_eq!(l.body_read_timeout, Duration::from_secs(15));
        assert_eq!(l.keep_alive, Duration::from_secs(5));
        let store = cli.config.store_config();
        assert_eq!(store.scan_budget, Some(20_000));
        assert_eq!(store.statement_timeout, Some(Duration::from_secs(5)));

        let cli = Cli::try_parse_from([
            "scim-server",
            "--rate-limit-per-tenant",
            "0",
            "--filter-scan-budget",
            "0",
            "--db-statement-timeout",
            "0",
            "--client-request-timeout",
            "250ms",
            "--body-read-timeout",
            "1s",
        ])
        .unwrap();
        let l = &cli.config.limits;
        assert_eq!(l.rate_limit(), None);
        assert_eq!(l.client_request_timeout, Duration::from_millis(250));
        assert_eq!(cli.config.limits().rate_limit, None);
        assert_eq!(
            cli.config.limits().body_read_timeout,
            Some(Duration::from_secs(1))
        );
        let store = cli.config.store_config();
        assert_eq!((store.scan_budget, store.statement_timeout), (None, None));
    }
}
