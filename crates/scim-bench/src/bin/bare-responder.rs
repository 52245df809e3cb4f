//! `bare-responder`: answers every request (any method, any path; the body is read) with
//! 200 and a fixed SCIM user. It is built like `scim-server serve` (actix-web's
//! `HttpServer`, its default worker count unless `--workers` is given) so that the
//! difference between the two is the server's own work, not the HTTP stack's.

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use clap::Parser;
use scim_bench::bare::{CONTENT_TYPE, USER_DOCUMENT};

/// Command line.
#[derive(Parser, Debug)]
#[command(
    about = "Answers every request with 200 and a fixed SCIM user (the HTTP stack's ceiling)"
)]
struct Args {
    /// Address to listen on, e.g. 127.0.0.1:8081.
    #[arg(long, default_value = "127.0.0.1:8081")]
    bind: String,
    /// actix-web worker threads (default: actix-web's, as for scim-server).
    #[arg(long)]
    workers: Option<usize>,
}

/// Reads the whole body (as the real server does for a PATCH) and answers the document.
async fn answer(body: web::Bytes) -> HttpResponse {
    // Touch the body so reading it cannot be optimised away.
    let _ = body.len();
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(USER_DOCUMENT)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(|| {
            App::new()
                // The real server accepts SCIM bodies of up to a few MB; so does this one.
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .default_service(web::to(answer))
        });
        if let Some(w) = args.workers.filter(|w| *w > 0) {
            server = server.workers(w);
        }
        server
            .bind(&args.bind)
            .with_context(|| format!("cannot listen on {}", args.bind))?
            .run()
            .await
            .context("the HTTP server failed")
    })
}
