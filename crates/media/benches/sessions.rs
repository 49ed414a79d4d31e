//! Concurrent IVR sessions: how many the single 20 ms driver sustains with clean pacing.
//!
//! `cargo bench -p hotdesk-media --bench sessions -- [sessions=500] [seconds=10] [inbound=1] [fifo=0]`
//!
//! `fifo=N` runs the engine's driver thread under SCHED_FIFO priority N
//! (`MediaEngine::set_realtime_priority`); the test phones keep normal scheduling.
//!
//! The engine runs on its own thread (`hotdesk-media`), so its CPU time is that thread's. Every session plays a long prompt to one receiver socket that plays all the
//! phones: it records each packet's arrival per SSRC and (with inbound=1) sends each session
//! 20 ms of PCMU every 20 ms, as a talking caller would. Reported: share of inter-arrival
//! gaps within 20 ± 2 ms (kernel timestamps of the
//! driver's sends, SO_TIMESTAMPNS), percentiles, lost packets, driver CPU per session.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotdesk_media::prompt::Prompt;
use hotdesk_media::rtp::{RtpHeader, RtpPacket};
use hotdesk_media::sdp::SessionDescription;
use hotdesk_media::{MediaConfig, MediaEngine, PortRange, PromptSet, SessionConfig, THREAD_NAME};

/// utime + stime (fields 14 and 15 of a `stat` file, in clock ticks of 10 ms).
fn cpu_from_stat(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((field(14) + field(15)) * 10)
}

fn thread_cpu(tid: &str) -> Duration {
    cpu_from_stat(&format!("/proc/self/task/{tid}/stat"))
}

fn process_cpu() -> Duration {
    cpu_from_stat("/proc/self/stat")
}

/// Receives one datagram with the kernel's arrival time (SO_TIMESTAMPNS). On loopback the
/// kernel queues the datagram during the sender's `sendto`, so this is the driver's send
/// time, free of this receiving thread's own scheduling delay.
fn recv_timestamped(socket: &UdpSocket, buf: &mut [u8]) -> Option<(usize, Duration)> {
    let fd = socket.as_raw_fd();
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 16];
    // SAFETY: msghdr is plain data; every pointer set below outlives the recvmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control);
    // SAFETY: fd is a live socket; msg points at valid buffers.
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return None;
    }
    // SAFETY: walking the control buffer the kernel just filled, with the libc macros.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                return Some((
                    n as usize,
                    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
                ));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    None
}

fn enable_timestamps(socket: &UdpSocket) {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt with a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_TIMESTAMPNS");
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let sessions = args.first().copied().unwrap_or(500) as usize;
    let seconds = args.get(1).copied().unwrap_or(10);
    let inbound = args.get(2).copied().unwrap_or(1) == 1;
    let realtime = args.get(3).copied().filter(|p| *p > 0).map(|p| p as i32);
    let warmup = Duration::from_secs(2);

    let phones = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sock = socket2::SockRef::from(&phones);
    let _ = sock.set_recv_buffer_size(8 << 20);
    let _ = sock.set_send_buffer_size(8 << 20);
    let phone_port = phones.local_addr().unwrap().port();
    enable_timestamps(&phones);

    // The engine runs on its own thread (`hotdesk-media`); its CPU time is that thread's.
    let mut prompts = PromptSet::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts");
    let voice = PromptSet::load(&root)
        .ok()
        .and_then(|p| p.get("en", "portal-menu"));
    let samples: Vec<i16> = voice
        .map(|v| v.linear.clone())
        .unwrap_or_else(|| vec![3000; 8000]);
    // Long enough to play for the whole run.
    let long: Vec<i16> = samples.iter().copied().cycle().take(8000 * 120).collect();
    prompts.insert("en", Prompt::new("long", long));
    let (engine, _events) = MediaEngine::start(MediaConfig {
        bind_ip: "127.0.0.1".parse().unwrap(),
        ports: PortRange {
            first: 30000,
            last: 30000 + 2 * sessions as u16 + 200,
        },
        prompts,
        session: SessionConfig {
            no_media_timeout: Duration::from_secs(600),
            ..SessionConfig::default()
        },
        ..MediaConfig::default()
    })
    .unwrap();
    // The thread names itself as it starts; look until it has.
    if let Some(priority) = realtime {
        engine.set_realtime_priority(priority).unwrap();
    }
    let tid = loop {
        let found = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(Result::ok)
            .find(|t| {
                std::fs::read_to_string(t.path().join("comm"))
                    .is_ok_and(|c| c.trim() == THREAD_NAME)
            })
            .map(|t| t.file_name().to_string_lossy().into_owned());
        match found {
            Some(tid) => break tid,
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let offer = format!(
        "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio {phone_port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    );
    let mut media = Vec::new();
    for _ in 0..sessions {
        let answered = engine.open(&offer).unwrap();
        engine.play(answered.id, &["long"]).unwrap();
        let sdp = SessionDescription::parse(&answered.sdp).unwrap();
        media.push(SocketAddr::new(sdp.connection.unwrap(), sdp.media[0].port));
    }

    let stop = Arc::new(AtomicBool::new(false));
    // Inbound audio: one thread, one packet per session per 20 ms.
    if inbound {
        let sender = phones.try_clone().unwrap();
        let stop_sender = Arc::clone(&stop);
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut k: u32 = 0;
            while !stop_sender.load(Ordering::Relaxed) {
                for (i, to) in media.iter().enumerate() {
                    let header = RtpHeader {
                        marker: false,
                        payload_type: 0,
                        sequence: k as u16,
                        timestamp: k.wrapping_mul(160),
                        ssrc: i as u32 + 1,
                    };
                    let _ = sender.send_to(&header.build(&[0xFF; 160]), to);
                }
                k += 1;
                let next = start + Duration::from_millis(20) * k;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        });
    }

    let mut buf = [0u8; 2048];
    let begin = Instant::now();
    let measure_from = begin + warmup;
    let end = measure_from + Duration::from_secs(seconds);
    let mut last: HashMap<u32, (Duration, u16)> = HashMap::new();
    let mut gaps: Vec<u32> = Vec::with_capacity(sessions * 50 * seconds as usize);
    // Per session (SSRC): gaps measured, gaps within 20 ± 2 ms.
    let mut per_session: HashMap<u32, (u32, u32)> = HashMap::new();
    let mut lost = 0u64;
    let mut packets = 0u64;
    let (mut cpu0, mut pcpu0) = (Duration::ZERO, Duration::ZERO);
    let mut measuring = false;
    let mut pacing0 = engine.pacing();
    phones
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while Instant::now() < end {
        let Some((len, sent_at)) = recv_timestamped(&phones, &mut buf) else {
            continue;
        };
        let now = Instant::now();
        if !measuring && now >= measure_from {
            measuring = true;
            last.clear();
            cpu0 = thread_cpu(&tid);
            pacing0 = engine.pacing();
            pcpu0 = process_cpu();
        }
        let Ok(packet) = RtpPacket::parse(&buf[..len]) else {
            continue;
        };
        let h = packet.header;
        if let Some((at, seq)) = last.insert(h.ssrc, (sent_at, h.sequence)) {
            if measuring {
                packets += 1;
                let gap = sent_at.saturating_sub(at).as_micros() as u32;
                gaps.push(gap);
                let counts = per_session.entry(h.ssrc).or_default();
                counts.0 += 1;
                counts.1 += u32::from((18_000..=22_000).contains(&gap));
                lost += u64::from(h.sequence.wrapping_sub(seq).saturating_sub(1));
            }
        }
    }
    let pacing_end = engine.pacing();
    let cpu = thread_cpu(&tid) - cpu0;
    let pcpu = process_cpu() - pcpu0;
    stop.store(true, Ordering::Relaxed);
    drop(engine);

    gaps.sort_unstable();
    let pct = |p: f64| {
        gaps.get(((gaps.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    let within = gaps
        .iter()
        .filter(|g| (18_000..=22_000).contains(*g))
        .count();
    let share = 100.0 * within as f64 / gaps.len().max(1) as f64;
    let expected = sessions as f64 * 50.0 * seconds as f64;
    let wall = seconds as f64;
    println!(
        "sessions={sessions} seconds={seconds} inbound={inbound} driver_fifo_priority={realtime:?}"
    );
    println!(
        "packets={packets} ({:.1}% of expected) lost_by_seq={lost} gaps_within_20±2ms={share:.2}%",
        100.0 * packets as f64 / expected
    );
    println!(
        "gap ms: p1={:.2} p50={:.2} p99={:.2} p99.9={:.2} max={:.2}",
        pct(0.01),
        pct(0.5),
        pct(0.99),
        pct(0.999),
        pct(1.0)
    );
    let mut shares: Vec<f64> = per_session
        .values()
        .map(|(n, ok)| 100.0 * f64::from(*ok) / f64::from((*n).max(1)))
        .collect();
    shares.sort_by(f64::total_cmp);
    let at_99 = shares.iter().filter(|s| **s >= 99.0).count();
    println!(
        "per session: worst {:.2}%, p1 {:.2}%, median {:.2}% of gaps within 20±2ms; {at_99}/{} sessions at >= 99%",
        shares.first().copied().unwrap_or(0.0),
        shares.get(shares.len() / 100).copied().unwrap_or(0.0),
        shares.get(shares.len() / 2).copied().unwrap_or(0.0),
        shares.len()
    );
    let sent = pacing_end.packets - pacing0.packets;
    println!(
        "driver's own view (send calls): {sent} packets, {:.2}% within 20±2ms of the session's previous, worst error {:.2} ms (whole run)",
        100.0 * (pacing_end.clean_packets - pacing0.clean_packets) as f64 / sent.max(1) as f64,
        pacing_end.worst_error.as_secs_f64() * 1000.0
    );
    println!(
        "driver thread CPU: {:.1}% of one core ({:.3}% per session); whole process (incl. test phones): {:.1}%",
        100.0 * cpu.as_secs_f64() / wall,
        100.0 * cpu.as_secs_f64() / wall / sessions as f64,
        100.0 * pcpu.as_secs_f64() / wall
    );
}
