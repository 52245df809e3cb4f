//! The Prometheus endpoint: installs the process-wide recorder the crates record into
//! ([`scim_http::metrics`]) and serves `GET /metrics` on its own listener
//! (`--metrics-bind`), never on the SCIM and console address.

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds: a SCIM request is expected in milliseconds, a slow one
/// within the statement timeout (5 s).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the Prometheus recorder; every `metrics::counter!` etc. of the process records
/// into it from then on.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .context("invalid histogram buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")
}

/// The `/metrics` server on `bind`, ready to run (it stops with the process's signals, as
/// the main server does).
pub fn server(bind: &str, handle: PrometheusHandle) -> anyhow::Result<actix_web::dev::Server> {
    let server = HttpServer::new(move || {
        let handle = handle.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let handle = handle.clone();
                async move {
                    // Histograms are aggregated lazily; bring them up to date before rendering.
                    handle.run_upkeep();
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4; charset=utf-8")
                        .body(handle.render())
                }
            }),
        )
    })
    .workers(1)
    .bind(bind)
    .with_context(|| format!("cannot listen on {bind} (--metrics-bind)"))?
    .run();
    Ok(server)
}
