//! The `hotdesk` command line: `serve` runs the server; the other commands are an
//! administrator's client for a running server's REST API (SPEC §4), one command per call.

mod admin;
pub mod client;
pub mod https;
mod runtime;
pub mod serve;
mod table;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{ServeArgs, DEFAULT_DOMAIN};

/// `hotdesk`: SIP hot-desking server and its administration client.
#[derive(Debug, Parser)]
#[command(name = "hotdesk", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: SIP, REST API, provisioning.
    Serve(ServeArgs),
    /// Create and list domains (tenants).
    Domain(DomainCommand),
    /// Create, list, show and delete users.
    User(UserCommand),
    /// Create, list, show and delete devices (phones).
    Device(DeviceCommand),
    /// Log a user in to a device: `hotdesk login 94001 1004`.
    Login(LoginArgs),
    /// Log whoever is on a device out: `hotdesk logout 94001`.
    Logout(LogoutArgs),
    /// List current sessions (user ↔ device associations).
    Sessions(ApiArgs),
    /// Import users from CSV: extension,first_name,last_name,did,pin,sip_password.
    Import(ImportArgs),
    /// Create, list, show, change and delete queues and ring groups; add and remove members.
    Queue(QueueCommand),
}

/// Where and as whom the administrator commands talk to the API.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "API access")]
pub struct ApiArgs {
    /// Server base URL.
    #[arg(
        long,
        global = true,
        env = "HOTDESK_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// Bearer token; falls back to HOTDESK_ADMIN_TOKEN.
    #[arg(long, global = true, env = "HOTDESK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Domain the command works in.
    #[arg(long, global = true, env = "HOTDESK_DOMAIN", default_value = DEFAULT_DOMAIN)]
    pub domain: String,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `hotdesk domain …`
#[derive(Debug, Args)]
pub struct DomainCommand {
    /// Domain action.
    #[command(subcommand)]
    pub action: DomainAction,
    /// API access.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Domain actions.
#[derive(Debug, Subcommand)]
pub enum DomainAction {
    /// Create a domain: `hotdesk domain add example.test`.
    Add {
        /// The SIP domain name.
        name: String,
    },
    /// List domains.
    List,
    /// Show one domain and its settings (default: --domain).
    Show {
        /// The domain name.
        name: Option<String>,
    },
}

/// `hotdesk user …`
#[derive(Debug, Args)]
pub struct UserCommand {
    /// User action.
    #[command(subcommand)]
    pub action: UserAction,
    /// API access.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// User actions.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user: `hotdesk user add 1004 --first-name Bob --last-name Smith --pin 4321`.
    Add(UserAddArgs),
    /// List the domain's users.
    List,
    /// Show one user.
    Show {
        /// The user's extension.
        extension: String,
    },
    /// Delete a user (their sessions end).
    Delete {
        /// The user's extension.
        extension: String,
    },
}

/// Fields of a new user; unset ones take the server's defaults.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The user's extension.
    pub extension: String,
    /// Given name.
    #[arg(long)]
    pub first_name: String,
    /// Family name.
    #[arg(long, default_value = "")]
    pub last_name: String,
    /// External number (DID).
    #[arg(long)]
    pub did: Option<String>,
    /// Phone log-in PIN (4–12 digits).
    #[arg(long)]
    pub pin: Option<String>,
    /// SIP password for a personal phone or softphone.
    #[arg(long)]
    pub sip_password: Option<String>,
    /// Seat type: standard, advanced or basic.
    #[arg(long)]
    pub seat: Option<String>,
    /// Multi-desk allocation, 1–5.
    #[arg(long)]
    pub max_devices: Option<u8>,
    /// Role: user, office_manager, domain_admin.
    #[arg(long)]
    pub scope: Option<String>,
}

/// `hotdesk device …`
#[derive(Debug, Args)]
pub struct DeviceCommand {
    /// Device action.
    #[command(subcommand)]
    pub action: DeviceAction,
    /// API access.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Device actions.
#[derive(Debug, Subcommand)]
pub enum DeviceAction {
    /// Create a device: `hotdesk device add 94001 --mac 00:15:65:00:00:01 --model yealink-t46u`.
    Add(DeviceAddArgs),
    /// List the domain's devices.
    List,
    /// Show one device.
    Show {
        /// The device's anchor extension.
        extension: String,
    },
    /// Delete a device (its session ends).
    Delete {
        /// The device's anchor extension.
        extension: String,
    },
}

/// Fields of a new device.
#[derive(Debug, Args)]
pub struct DeviceAddArgs {
    /// Anchor extension (hot desks: inside the domain's device range).
    pub extension: String,
    /// MAC address.
    #[arg(long)]
    pub mac: String,
    /// Model ID, e.g. yealink-t46u, polycom-vvx-450.
    #[arg(long)]
    pub model: String,
    /// Kind: hotdesk, personal or location.
    #[arg(long, default_value = "hotdesk")]
    pub kind: String,
    /// The device's SIP password (the server generates one when absent).
    #[arg(long)]
    pub sip_password: Option<String>,
    /// Emergency location, country code (ISO 3166), e.g. US.
    #[arg(long)]
    pub country: Option<String>,
    /// Emergency location, free text (room, floor).
    #[arg(long, requires = "country")]
    pub location: Option<String>,
}

/// `hotdesk queue …`
#[derive(Debug, Args)]
pub struct QueueCommand {
    /// Queue action.
    #[command(subcommand)]
    pub action: QueueAction,
    /// API access.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Queue actions (HD-ROUTE-7).
#[derive(Debug, Subcommand)]
pub enum QueueAction {
    /// List the domain's queues.
    List,
    /// Create a queue: `hotdesk queue add 7000 --name Support --strategy round_robin`.
    Add(QueueAddArgs),
    /// Show one queue with its members and their status.
    Show {
        /// The queue's extension.
        extension: String,
    },
    /// Change a queue's settings; options not given stay as they are.
    Update(QueueUpdateArgs),
    /// Delete a queue.
    Delete {
        /// The queue's extension.
        extension: String,
    },
    /// Add or remove a member.
    Member {
        /// Member action.
        #[command(subcommand)]
        action: MemberAction,
    },
}

/// Fields of a new queue; unset ones take the server's defaults.
#[derive(Debug, Args)]
pub struct QueueAddArgs {
    /// The number callers dial.
    pub extension: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// ring_all or round_robin.
    #[arg(long)]
    pub strategy: Option<String>,
    /// Ring time in seconds (per member for round_robin), 5–300.
    #[arg(long)]
    pub ring_secs: Option<u32>,
    /// Number the call goes to when nobody answered.
    #[arg(long)]
    pub overflow: Option<String>,
}

/// Changes to a queue.
#[derive(Debug, Args)]
pub struct QueueUpdateArgs {
    /// The queue's extension.
    pub extension: String,
    /// New display name.
    #[arg(long)]
    pub name: Option<String>,
    /// New strategy: ring_all or round_robin.
    #[arg(long)]
    pub strategy: Option<String>,
    /// New ring time in seconds.
    #[arg(long)]
    pub ring_secs: Option<u32>,
    /// New overflow number.
    #[arg(long, conflicts_with = "no_overflow")]
    pub overflow: Option<String>,
    /// Remove the overflow number (unanswered calls get 480).
    #[arg(long)]
    pub no_overflow: bool,
}

/// Member actions.
#[derive(Debug, Subcommand)]
pub enum MemberAction {
    /// Add a member at the end: `hotdesk queue member add 7000 --user 1004`.
    Add(MemberArgs),
    /// Remove a member: `hotdesk queue member remove 7000 --phone 94001`.
    Remove(MemberArgs),
}

/// A queue and one member of it, as a user or as a phone.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("member").required(true).args(["user", "phone"]))]
pub struct MemberArgs {
    /// The queue's extension.
    pub queue: String,
    /// A user: all of the user's current devices ring.
    #[arg(long)]
    pub user: Option<String>,
    /// A phone, by anchor extension: that device rings.
    #[arg(long)]
    pub phone: Option<String>,
}

/// `hotdesk login DEVICE USER`
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The device's anchor extension.
    pub device: String,
    /// The user's extension.
    pub user: String,
    /// API access.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// `hotdesk logout DEVICE`
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The device's anchor extension.
    pub device: String,
    /// API access.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// `hotdesk import FILE`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// CSV file with a header line; `-` reads standard input.
    pub file: String,
    /// API access.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Entry point of the binary: parses arguments, runs the command, maps failure to exit 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Read before the config file, which is loaded on the runtime.
    let coalesce = match &cli.command {
        Command::Serve(args) => args
            .coalesce_us
            .map_or(runtime::DEFAULT_COALESCE, std::time::Duration::from_micros),
        _ => std::time::Duration::ZERO,
    };
    let runtime = match runtime::build(coalesce) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Serve(args) => match runtime.block_on(serve::run(args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
        other => match runtime.block_on(admin::run(other)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                for line in error.details() {
                    eprintln!("  {line}");
                }
                ExitCode::FAILURE
            }
        },
    }
}
