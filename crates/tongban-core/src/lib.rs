//! The pure core of tongban: no IO, no async, no clock of its own.
//! Time and the working-day calendar are passed in, so every rule is a plain function.

pub mod archive;
pub mod bundle;
pub mod calendar;
pub mod capability;
pub mod case;
pub mod catalog;
pub mod codes;
pub mod exchange;
pub mod federation;
pub mod figures;
pub mod guide;
pub mod hall;
pub mod ids;
pub mod indicators;
pub mod licence;
pub mod merkle;
pub mod messages;
pub mod money;
pub mod notice;
pub mod password;
pub mod rating;
pub mod roles;
pub mod s10;
pub mod search;
pub mod supervision;
pub mod text;
