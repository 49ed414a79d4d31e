//! The hotdesk server library: the application service layer ([`state::App`]) and the REST
//! API ([`api::router`]), used by the `hotdesk` binary, its CLI and the SIP side.
#![warn(missing_docs)]

pub mod api;
pub mod b2bua;
pub mod cli;
pub mod config;
pub mod demo;
pub mod ivr;
pub mod mwi;
pub mod portal;
pub mod provisioning;
pub mod registrar;
pub mod secrets;
pub mod sip;
pub mod state;

pub use api::router;
pub use state::{App, AppConfig, AppError};
