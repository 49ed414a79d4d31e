//! `GET /healthz` and `GET /metrics` (Prometheus text), plus the HTTP request counter.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::{App, Counters};

/// Health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: &'static str,
}

/// Liveness: answers while the process runs (no authentication).
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Counts every HTTP response by status class, for `/metrics`.
pub(crate) async fn count_requests(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    app.counters().http_response(response.status().as_u16());
    response
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

/// Prometheus text: gauges of domains, users, devices, sessions; counters of log-ins,
/// log-outs, refusals, PIN failures, lock-outs and HTTP requests (no authentication).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    let (domains, users, devices, associations) = {
        let state = app.read();
        (
            state.tenants.iter().count(),
            state.tenants.user_count(),
            state.tenants.device_count(),
            state.desks.len(),
        )
    };
    let c = app.counters();
    let mut out = String::new();
    let gauges = [
        ("hotdesk_domains", "Domains", domains),
        ("hotdesk_users", "Users in all domains", users),
        ("hotdesk_devices", "Devices in all domains", devices),
        (
            "hotdesk_associations",
            "Current hot-desk sessions",
            associations,
        ),
        (
            "hotdesk_ivr_rtp_ports_in_use",
            "RTP ports held by IVR calls (feature codes, Activate Phone)",
            app.activations().ports_in_use(),
        ),
    ];
    for (name, help, value) in gauges {
        metric(&mut out, name, "gauge", help, value as u64);
    }
    let call_gauges = [
        ("hotdesk_calls_active", "Calls in progress", &c.calls_active),
        (
            "hotdesk_dialogs_active",
            "SIP dialogs of calls in progress (both sides)",
            &c.dialogs_active,
        ),
    ];
    for (name, help, gauge) in call_gauges {
        metric(&mut out, name, "gauge", help, Counters::get(gauge));
    }
    let counters = [
        ("hotdesk_logins_total", "Successful log-ins", &c.logins),
        (
            "hotdesk_logouts_total",
            "Log-outs of any reason",
            &c.logouts,
        ),
        (
            "hotdesk_login_refusals_total",
            "Log-ins refused by the rules",
            &c.login_refusals,
        ),
        (
            "hotdesk_pin_failures_total",
            "Wrong PINs on any path",
            &c.pin_failures,
        ),
        (
            "hotdesk_lockouts_total",
            "PIN lock-outs started",
            &c.lockouts,
        ),
    ];
    for (name, help, counter) in counters {
        metric(&mut out, name, "counter", help, Counters::get(counter));
    }
    // IVR RTP pacing, as the media driver measures it (BENCHMARKS.md).
    if let Some(pacing) = app.activations().pacing() {
        let rtp = [
            (
                "hotdesk_ivr_rtp_packets_total",
                "IVR RTP packets whose spacing was measured",
                pacing.packets,
            ),
            (
                "hotdesk_ivr_rtp_clean_packets_total",
                "IVR RTP packets sent 20 ms +- 2 ms after the previous one",
                pacing.clean_packets,
            ),
        ];
        for (name, help, value) in rtp {
            metric(&mut out, name, "counter", help, value);
        }
        let worst = u64::try_from(pacing.worst_error.as_micros()).unwrap_or(u64::MAX);
        metric(
            &mut out,
            "hotdesk_ivr_rtp_worst_spacing_error_us",
            "gauge",
            "Largest IVR RTP spacing error seen, microseconds",
            worst,
        );
    }
    let _ = writeln!(
        out,
        "# HELP hotdesk_http_requests_total HTTP responses by status class\n\
         # TYPE hotdesk_http_requests_total counter"
    );
    for (i, counter) in c.http_requests.iter().enumerate() {
        let _ = writeln!(
            out,
            "hotdesk_http_requests_total{{class=\"{}xx\"}} {}",
            i + 1,
            Counters::get(counter)
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}
