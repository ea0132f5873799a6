//! Prometheus metrics in the text exposition format, kept with atomics (no registry crate
//! needed for a handful of counters).

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const BUCKETS_MS: [u64; 8] = [1, 5, 10, 25, 50, 100, 500, 2500];

#[derive(Default)]
pub struct Metrics {
    requests_2xx: AtomicU64,
    requests_3xx: AtomicU64,
    requests_4xx: AtomicU64,
    requests_5xx: AtomicU64,
    duration_buckets: [AtomicU64; 8],
    duration_sum_us: AtomicU64,
    duration_count: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, status: u16, micros: u64) {
        let c = match status {
            200..=299 => &self.requests_2xx,
            300..=399 => &self.requests_3xx,
            400..=499 => &self.requests_4xx,
            _ => &self.requests_5xx,
        };
        c.fetch_add(1, Ordering::Relaxed);
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if micros <= b * 1000 {
                self.duration_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_sum_us.fetch_add(micros, Ordering::Relaxed);
        self.duration_count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP tongban_http_requests_total HTTP requests answered, by status class.\n");
        s.push_str("# TYPE tongban_http_requests_total counter\n");
        for (class, c) in [
            ("2xx", &self.requests_2xx),
            ("3xx", &self.requests_3xx),
            ("4xx", &self.requests_4xx),
            ("5xx", &self.requests_5xx),
        ] {
            s.push_str(&format!(
                "tongban_http_requests_total{{class=\"{class}\"}} {}\n",
                c.load(Ordering::Relaxed)
            ));
        }
        s.push_str("# HELP tongban_http_request_duration_seconds Time to answer a request.\n");
        s.push_str("# TYPE tongban_http_request_duration_seconds histogram\n");
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            s.push_str(&format!(
                "tongban_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                *b as f64 / 1000.0,
                self.duration_buckets[i].load(Ordering::Relaxed)
            ));
        }
        let count = self.duration_count.load(Ordering::Relaxed);
        s.push_str(&format!(
            "tongban_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n"
        ));
        s.push_str(&format!(
            "tongban_http_request_duration_seconds_sum {}\n",
            self.duration_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        ));
        s.push_str(&format!(
            "tongban_http_request_duration_seconds_count {count}\n"
        ));
        s
    }
}

pub async fn track(State(state): State<crate::AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let _path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let res = next.run(req).await;
    state
        .metrics
        .observe(res.status().as_u16(), start.elapsed().as_micros() as u64);
    res
}
