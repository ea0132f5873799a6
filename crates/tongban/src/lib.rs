//! The `tongban` command: serve, demo, migrate, catalog and calendar tools.

pub mod bench;
pub mod cli;
pub mod config;
/// The demo city lives in the application layer; re-exported for the CLI's callers.
pub use tongban_app::demo;
