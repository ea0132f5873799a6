//! The application layer: the use cases of tongban (catalog views, applicants, case submit
//! and execute, licences, supervision, the outbox of follow-up jobs, demo seeding) over the
//! store, with one error type that knows nothing of HTTP.
//!
//! Adapters call this crate: the web pages and JSON API (tongban-web) and the command line
//! (tongban). They never call each other. See ARCHITECTURE.md.

pub mod accounts;
pub mod analytics;
pub mod applicants;
pub mod authz;
pub mod backup;
pub mod bundles;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod clock;
pub mod demo;
pub mod error;
pub mod exchange;
pub mod federation;
pub mod hall;
pub mod jobs;
pub mod ledger;
pub mod licences;
pub mod materials;
pub mod notices;
pub mod notify;
pub mod ratings;
pub mod security;
mod state;
pub mod supervision;

pub use error::{Error, ErrorKind, Result};
pub use security::SecurityPolicy;
pub use state::{App, CatalogView};

/// Starts the background workers of a serving node: supervision (every minute), the outbox
/// (every few seconds) and a signed ledger checkpoint every five minutes.
pub fn spawn_workers(app: &App) {
    supervision::spawn_worker(app.clone());
    jobs::spawn_worker(app.clone());
    ledger::spawn_checkpointer(app.clone());
    hall::spawn_worker(app.clone());
}
