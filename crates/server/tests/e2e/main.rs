//! End-to-end tests: the real `hotdesk` binary, started and killed by [`harness`].
//!
//! One test binary (hickory-dns style) so the server binary is built once; each file is one
//! behaviour. Every test starts its own server on port 0 with its own database, so they run
//! in parallel.

mod harness;
mod peers;

mod cli;
mod demo;
mod portal;
mod restart;

mod baresip;
mod calls;
mod dialogs;
mod dns;
mod ivr;
mod mwi;
mod prov;
mod queues;
mod register;
mod register_retransmit;
mod robustness;
mod trunks;
mod upstream;
