//! The web adapter's state: the application and this node's HTTP metrics.

use crate::metrics::Metrics;
use std::sync::Arc;
use tongban_app::App;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<Metrics>,
    /// Per-client limit on the public ledger endpoints.
    pub ledger_limit: Arc<crate::ratelimit::RateLimit>,
    /// Per-client limit on `POST /api/v1/files` (300 at once, then 5 a second).
    pub upload_limit: Arc<crate::ratelimit::RateLimit>,
}

impl AppState {
    pub fn new(app: App) -> Self {
        AppState {
            app,
            metrics: Arc::new(Metrics::default()),
            ledger_limit: Arc::new(crate::ratelimit::RateLimit::default()),
            upload_limit: Arc::new(crate::ratelimit::RateLimit::new(300, 5)),
        }
    }
}

/// Handlers reach the application's store, clock and views through the state.
impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}
