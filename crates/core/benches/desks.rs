//! Desk-book decisions and look-ups at 100,000 users and devices (SPEC §5: routing
//! decision p99 < 50 µs; restart with 100,000 associations < 2 s).
//!
//! Run: `cargo bench -p hotdesk-core --bench desks`. Before the criterion groups it prints
//! per-operation percentiles measured one call at a time, since criterion reports means.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use hotdesk_core::domain::ExtensionRange;
use hotdesk_core::routing::{caller_identity_for_device, targets_for_user};
use hotdesk_core::{
    Association, Command, DeskBook, Device, DeviceKind, Directory, Domain, DomainName,
    DomainSettings, Extension, Login, LoginMethod, LogoutReason, Mac, Mailbox, MemoryDirectory,
    ModelId, QueueStatus, Release, ReleaseTarget, Requester, Scope, SeatType, User,
};
use jiff::Timestamp;

const N: u32 = 100_000;
const USER_BASE: u32 = 100_000;
const DEVICE_BASE: u32 = 500_000;

fn ext(n: u32) -> Extension {
    Extension::new(&n.to_string()).expect("bench extension")
}

struct World {
    domain: DomainName,
    dir: MemoryDirectory,
    book: DeskBook,
    sessions: Vec<Association>,
    now: Timestamp,
}

/// One domain with N users (allocation 1) and N hot desks; users 0..N/2 sit at desks
/// 0..N/2, the rest of both are free.
fn world() -> World {
    let domain = DomainName::new("bench.test").expect("domain");
    let mut dir = MemoryDirectory::new();
    dir.upsert_domain(Domain {
        name: domain.clone(),
        settings: DomainSettings {
            device_ranges: vec![ExtensionRange {
                first: u64::from(DEVICE_BASE),
                last: u64::from(DEVICE_BASE + N - 1),
            }],
            idle_logout_secs: Some(3600),
            ..DomainSettings::default()
        },
    });
    let model = ModelId::new("yealink-t46u").expect("model");
    for i in 0..N {
        dir.upsert_user(User {
            domain: domain.clone(),
            extension: ext(USER_BASE + i),
            first_name: format!("First{i}"),
            last_name: format!("Last{i}"),
            did: Some(format!("+1555{i:07}")),
            pin_hash: None,
            pin_index: None,
            sip_secret: None,
            seat: SeatType::Standard,
            max_devices: 1,
            scope: Scope::User,
            forward_to: None,
            no_answer_secs: None,
            agent: false,
            queue_status: QueueStatus::Offline,
            mailbox: Mailbox::default(),
        });
        dir.upsert_device(Device {
            domain: domain.clone(),
            extension: ext(DEVICE_BASE + i),
            mac: Mac::new(&format!("0015{i:08x}")).expect("mac"),
            model: model.clone(),
            kind: DeviceKind::Hotdesk,
            sip_secret: None,
            owner: None,
            did: None,
            location: None,
            association_secs: Some(8 * 3600),
            forward_to: None,
            soft_keys: Vec::new(),
            template: None,
            site: None,
            mailbox: Mailbox::default(),
        });
    }
    let now: Timestamp = "2026-03-02T09:00:00Z".parse().expect("time");
    let sessions: Vec<Association> = (0..N)
        .map(|i| Association {
            domain: domain.clone(),
            device: ext(DEVICE_BASE + i),
            user: ext(USER_BASE + i),
            since: now,
            method: LoginMethod::PhoneCode,
            expires_at: None,
            last_activity: now,
        })
        .collect();
    let book = DeskBook::from_associations(sessions[..(N / 2) as usize].iter().cloned());
    World {
        domain,
        dir,
        book,
        sessions,
        now,
    }
}

fn login(w: &World, device: u32, user: u32) -> Command {
    Command::Login(Login {
        domain: w.domain.clone(),
        device: ext(DEVICE_BASE + device),
        user: ext(USER_BASE + user),
        method: LoginMethod::PhoneCode,
        requester: Requester::phone(ext(DEVICE_BASE + device)),
        pin_verified: true,
    })
}

/// Deterministic spread of indices (no RNG dependency): a full-period LCG modulo N.
fn indices(count: usize, seed: u64) -> Vec<u32> {
    let mut x = seed;
    (0..count)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 33) % u64::from(N)) as u32
        })
        .collect()
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    println!(
        "{name:<40} n={:<7} p50={:>8.2?} p99={:>8.2?} p99.9={:>8.2?} max={:>8.2?}",
        samples.len(),
        at(0.50),
        at(0.99),
        at(0.999),
        at(1.0)
    );
}

fn time_each(ops: &[u32], mut f: impl FnMut(u32)) -> Vec<Duration> {
    ops.iter()
        .map(|&i| {
            let start = Instant::now();
            f(i);
            start.elapsed()
        })
        .collect()
}

fn percentiles(w: &World) {
    println!(
        "-- per-operation latency, {N} users and devices, {} sessions --",
        w.book.len()
    );
    let ops = indices(100_000, 7);
    let half = N / 2;
    report(
        "plan login: free desk, user free",
        time_each(&ops, |i| {
            let cmd = login(w, half + i % half, half + (i + 1) % half);
            black_box(w.book.plan(&w.dir, &cmd, w.now).is_ok());
        }),
    );
    report(
        "plan login: takeover + move (N=1)",
        time_each(&ops, |i| {
            let cmd = login(w, i % half, (i + 1) % half);
            black_box(w.book.plan(&w.dir, &cmd, w.now).is_ok());
        }),
    );
    let desks: Vec<Extension> = ops.iter().map(|i| ext(DEVICE_BASE + i)).collect();
    let users: Vec<Extension> = ops.iter().map(|i| ext(USER_BASE + i)).collect();
    let mut k = 0;
    report(
        "on_device",
        time_each(&ops, |_| {
            black_box(w.book.on_device(&w.domain, &desks[k]));
            k += 1;
        }),
    );
    k = 0;
    report(
        "devices_of",
        time_each(&ops, |_| {
            black_box(w.book.devices_of(&w.domain, &users[k]));
            k += 1;
        }),
    );
    let settings = &w.dir.domain(&w.domain).expect("domain").settings;
    k = 0;
    report(
        "route: user lookup + targets_for_user",
        time_each(&ops, |_| {
            let user = w.dir.user(&w.domain, &users[k]).expect("user");
            black_box(targets_for_user(&w.book, settings, user));
            k += 1;
        }),
    );
    k = 0;
    report(
        "route: device lookup + caller identity",
        time_each(&ops, |_| {
            let device = w.dir.device(&w.domain, &desks[k]).expect("device");
            black_box(caller_identity_for_device(&w.book, &w.dir, device, true));
            k += 1;
        }),
    );
    let mut loads = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let book = DeskBook::from_associations(w.sessions.iter().cloned());
        loads.push(start.elapsed());
        black_box(book.len());
    }
    report("restart: from_associations(100,000)", loads);
    let start = Instant::now();
    let sweep = w.book.plan(
        &w.dir,
        &Command::Sweep {
            domain: w.domain.clone(),
        },
        w.now,
    );
    println!(
        "{:<40} {:>8.2?} ({} events)",
        "sweep of 50,000 sessions (none due)",
        start.elapsed(),
        sweep.map(|p| p.events.len()).unwrap_or(0)
    );
}

fn benches(c: &mut Criterion, w: &World) {
    let half = N / 2;
    let free = login(w, half + 17, half + 4711);
    let taken = login(w, 17, 4711);
    c.bench_function("plan_login_free", |b| {
        b.iter(|| w.book.plan(&w.dir, black_box(&free), w.now))
    });
    c.bench_function("plan_login_takeover_move", |b| {
        b.iter(|| w.book.plan(&w.dir, black_box(&taken), w.now))
    });
    let desk = ext(DEVICE_BASE + 17);
    let user = ext(USER_BASE + 4711);
    c.bench_function("on_device", |b| {
        b.iter(|| w.book.on_device(&w.domain, black_box(&desk)).is_some())
    });
    c.bench_function("devices_of", |b| {
        b.iter(|| w.book.devices_of(&w.domain, black_box(&user)).len())
    });
    let settings = &w.dir.domain(&w.domain).expect("domain").settings;
    c.bench_function("targets_for_user", |b| {
        b.iter(|| {
            let u = w.dir.user(&w.domain, black_box(&user)).expect("user");
            targets_for_user(&w.book, settings, u)
        })
    });
    let release = Command::Release(Release {
        domain: w.domain.clone(),
        target: ReleaseTarget::Device(ext(DEVICE_BASE + half + 17)),
        reason: LogoutReason::Forced,
        requester: Requester::system(),
    });
    let mut book = w.book.clone();
    c.bench_function("plan_apply_login_then_logout", |b| {
        b.iter(|| {
            let plan = book.plan(&w.dir, &free, w.now).expect("plan");
            book.apply(&plan.events);
            let plan = book.plan(&w.dir, &release, w.now).expect("plan");
            book.apply(&plan.events);
        })
    });
}

fn main() {
    let build = Instant::now();
    let w = world();
    println!("world built in {:.2?}", build.elapsed());
    percentiles(&w);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    benches(&mut c, &w);
    c.final_summary();
}
