//! The web adapter's state: the application and this node's HTTP metrics.

use crate::metrics::Metrics;
use std::sync::Arc;
use tongban_app::App;

#[derive(Clone)]
pub struct AppState {
    /// Shared: axum clones the state for every extractor and middleware of every request,
    /// and a clone should cost reference counts, not allocations.
    pub app: Arc<App>,
    pub metrics: Arc<Metrics>,
    pub ops: Arc<Operations>,
    /// Per-client limit on the public ledger endpoints.
    pub ledger_limit: Arc<crate::ratelimit::RateLimit>,
    /// Per-user limit on `POST /api/v1/files` (300 at once, then 5 a second).
    pub upload_limit: Arc<crate::ratelimit::RateLimit<i64>>,
}

/// Settings of the operations endpoints (configuration).
#[derive(Debug, Clone)]
pub struct Operations {
    /// A bearer token that may read `/metrics` (besides an administrator's session). None:
    /// administrators only.
    pub metrics_token: Option<String>,
    /// The directory whose free space `/readyz` checks (the data dir).
    pub data_dir: std::path::PathBuf,
    /// `/readyz` answers 503 below this many free bytes in the data dir.
    pub min_free_bytes: u64,
}

/// Default free-space floor for readiness: 256 MiB.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 256 * 1024 * 1024;

impl AppState {
    pub fn new(app: App) -> Self {
        let data_dir = app
            .objects
            .root()
            .and_then(std::path::Path::parent)
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| ".".into());
        AppState {
            app: Arc::new(app),
            metrics: Arc::new(Metrics::default()),
            ops: Arc::new(Operations {
                metrics_token: None,
                data_dir,
                min_free_bytes: DEFAULT_MIN_FREE_BYTES,
            }),
            ledger_limit: Arc::new(crate::ratelimit::RateLimit::default()),
            upload_limit: Arc::new(crate::ratelimit::RateLimit::new(300, 5)),
        }
    }

    pub fn with_operations(mut self, ops: Operations) -> Self {
        self.ops = Arc::new(ops);
        self
    }
}

/// Handlers reach the application's store, clock and views through the state.
impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}
