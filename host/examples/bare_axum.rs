//! The load test's baseline: a bare axum server that answers every
//! `/webhooks/...` request with one fixed JSON body, and does nothing else.
//! It is the ceiling for any HTTP host on the same machine, measured in the
//! same run as `katabox serve` (see bench/run.sh and docs/performance.md).
//!
//! Usage: `bare_axum [ADDR] [BODY_FILE]` — ADDR defaults to 127.0.0.1:8090;
//! BODY_FILE holds the body to send (bench/run.sh saves the seed webhook's
//! answer there so both servers send the same bytes); without it a 353-byte
//! JSON body is sent.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::any;
use bytes::Bytes;
use std::net::SocketAddr;

/// The size of the seed webhook's answer to a curl request.
const DEFAULT_BODY_BYTES: usize = 353;

fn default_body() -> Bytes {
    let head = "{\n    \"padding\": \"";
    let tail = "\"\n}";
    let fill = DEFAULT_BODY_BYTES.saturating_sub(head.len() + tail.len());
    Bytes::from(format!("{head}{}{tail}", "x".repeat(fill)))
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args.next().as_deref().unwrap_or("127.0.0.1:8090").parse()?;
    let body = match args.next() {
        Some(path) => Bytes::from(std::fs::read(path)?),
        None => default_body(),
    };
    // The same runtime katabox serve builds: multi-threaded, one worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let app = Router::new().route(
            "/webhooks/{*rest}",
            any(move || {
                let body = body.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body).into_response() }
            }),
        );
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!("bare_axum listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        Ok(())
    })
}
