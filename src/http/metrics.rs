//! Prometheus metrics: request counts and latency histograms by method, route and status.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS_S: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default)]
pub struct Metrics {
    by_route: Mutex<BTreeMap<(String, String), RouteStats>>,
}

#[derive(Debug, Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    bucket_counts: [u64; BUCKETS_S.len()],
    count: u64,
    sum_s: f64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed_s: f64) {
        let mut by_route = self
            .by_route
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let stats = by_route
            .entry((method.to_string(), route.to_string()))
            .or_default();
        *stats.by_status.entry(status).or_default() += 1;
        for (bound, count) in BUCKETS_S.iter().zip(stats.bucket_counts.iter_mut()) {
            if elapsed_s <= *bound {
                *count += 1;
            }
        }
        stats.count += 1;
        stats.sum_s += elapsed_s;
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let by_route = self
            .by_route
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let mut out = String::new();
        out.push_str("# HELP greenchip_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE greenchip_http_requests_total counter\n");
        for ((method, route), stats) in by_route.iter() {
            for (status, count) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "greenchip_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP greenchip_http_request_duration_seconds Time to answer HTTP requests.\n",
        );
        out.push_str("# TYPE greenchip_http_request_duration_seconds histogram\n");
        for ((method, route), stats) in by_route.iter() {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, count) in BUCKETS_S.iter().zip(stats.bucket_counts.iter()) {
                let _ = writeln!(
                    out,
                    "greenchip_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "greenchip_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "greenchip_http_request_duration_seconds_sum{{{labels}}} {}",
                stats.sum_s
            );
            let _ = writeln!(
                out,
                "greenchip_http_request_duration_seconds_count{{{labels}}} {}",
                stats.count
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A method as a label: the methods HTTP defines by name, every other one `other`, so that
/// clients sending made-up methods cannot grow the exposition without end.
fn method_label(method: &axum::http::Method) -> String {
    use axum::http::Method;
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    if KNOWN.contains(method) {
        method.as_str().to_string()
    } else {
        "other".to_string()
    }
}

/// Middleware: times every request, labelled by its matched route (codes stay out of labels).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`
pub async fn exposition(State(state): State<crate::http::AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_show_as_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/healthz", 200, 0.002);
        metrics.observe("GET", "/healthz", 200, 0.2);
        metrics.observe("GET", "/healthz", 503, 0.002);
        let text = metrics.render();
        assert!(text.contains(
            "greenchip_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "greenchip_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"503\"} 1"
        ));
        assert!(text.contains("_bucket{method=\"GET\",route=\"/healthz\",le=\"0.0025\"} 2"));
        assert!(text.contains("_bucket{method=\"GET\",route=\"/healthz\",le=\"0.25\"} 3"));
        assert!(text.contains("_count{method=\"GET\",route=\"/healthz\"} 3"));
    }
}
