//! OTLP/HTTP export of the server's spans (cargo feature `otel`, off by
//! default): the `webhook` span of each request, the `run` span of each
//! automation run and the `host_call` span of each gated command (target
//! `katabox::trace`, debug level), batched and sent by a background thread
//! to `serve --otlp-endpoint` (protobuf over HTTP, e.g.
//! `http://127.0.0.1:4318/v1/traces`). Span fields carry no request data:
//! the method, the guid's first 8 characters, the listener id, the
//! automation name, the command name.

use super::observe::LogError;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use std::sync::OnceLock;
use std::time::Duration;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::{Layer, Registry};

/// How long spans gather before a batch is sent.
const EXPORT_DELAY: Duration = Duration::from_millis(500);
/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// The endpoint as the exporter wants it: the full URL of the traces
/// resource (`/v1/traces` is added to a URL without a path).
fn traces_url(endpoint: &str) -> Result<String, LogError> {
    let mut url = url::Url::parse(endpoint).map_err(|e| LogError::Otlp(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(LogError::Otlp(format!(
            "{endpoint}: the OTLP endpoint must be an http(s) URL"
        )));
    }
    if url.path() == "/" || url.path().is_empty() {
        url.set_path("/v1/traces");
    }
    Ok(url.to_string())
}

/// The layer that exports `katabox::trace` spans to `endpoint`.
pub fn layer(endpoint: &str) -> Result<Box<dyn Layer<Registry> + Send + Sync>, LogError> {
    let url = traces_url(endpoint)?;
    // The blocking HTTP client runs its own runtime: build it off the
    // async workers.
    let provider = std::thread::spawn(move || {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_endpoint(url)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| LogError::Otlp(e.to_string()))?;
        let processor = BatchSpanProcessor::builder(exporter)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_scheduled_delay(EXPORT_DELAY)
                    .build(),
            )
            .build();
        Ok::<_, LogError>(
            SdkTracerProvider::builder()
                .with_span_processor(processor)
                .with_resource(Resource::builder().with_service_name("katabox").build())
                .build(),
        )
    })
    .join()
    .map_err(|_| LogError::Otlp("the exporter could not be built".into()))??;
    let tracer = provider.tracer("katabox");
    let _ = PROVIDER.set(provider);
    Ok(tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(Targets::new().with_target("katabox::trace", tracing::Level::DEBUG))
        .boxed())
}

/// Sends the spans still batched and stops the exporter (at exit).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let provider = provider.clone();
        let _ = std::thread::spawn(move || provider.shutdown()).join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_to_a_bare_endpoint() {
        assert_eq!(
            traces_url("http://127.0.0.1:4318").ok().as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(
            traces_url("http://127.0.0.1:4318/custom/traces")
                .ok()
                .as_deref(),
            Some("http://127.0.0.1:4318/custom/traces")
        );
        assert!(traces_url("ftp://127.0.0.1/").is_err());
        assert!(traces_url("not a url").is_err());
    }
}
