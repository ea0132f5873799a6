//! The `tongban` command: serve, demo, migrate, catalog and calendar tools.

pub mod backup;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
