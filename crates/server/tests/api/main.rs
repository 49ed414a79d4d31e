//! API integration tests: every endpoint through `Router::oneshot` over a real store
//! (SQLite temp file; key scenarios on PostgreSQL too, see `postgres.rs`).

mod associations;
mod auth;
mod devices;
mod domains;
mod events;
mod harness;
mod health;
mod import;
mod input;
mod mailbox;
mod portal;
mod postgres;
mod provision;
mod provision_keys;
mod queues;
mod records;
mod restart;
mod roles;
mod tenancy;
mod trunks;
mod users;
