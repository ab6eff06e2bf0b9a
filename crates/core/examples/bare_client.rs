//! The floor under the client's CPU per call, for the bench (the
//! throughput section of `npm run bench`): the core's transport (its
//! connection pool and connector, `wx_cloud_core::http`) on the addon's
//! runtime (one worker per spare core) and allocator, posting one prepared
//! body over and over from `CONCURRENCY` tasks, each awaiting its answer
//! before the next, as the bench's clients do. No Node, no signing, no
//! protobuf, no multipart: what it spends per call is what this machine
//! charges any client on that transport, in that state, against that
//! server.
//!
//! ```text
//! cargo run --release -p wx-cloud-core --example bare_client -- \
//!     URL BODY_FILE CONTENT_TYPE CONCURRENCY WARMUP_MS DURATION_MS
//! ```
//!
//! It prints one JSON line: `callsPerSec`, `counted` (calls answered in the
//! measured window), `started`, `failures`, `firstFailure` and
//! `clientCpuUsPerCall` (all its threads' CPU over the window, divided by
//! the calls counted).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use wx_cloud_core::wire::{client_for, send_body};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// This process's CPU time so far, all threads, in ns (the bench reads
/// servers' the same way: /proc/PID/task/TID/schedstat).
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split(' ').next().and_then(|n| n.parse::<u64>().ok()))
        .sum()
}

#[derive(Default)]
struct Tally {
    started: AtomicU64,
    counted: AtomicU64,
    failures: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, body_file, content_type, concurrency, warmup_ms, duration_ms] = args.as_slice()
    else {
        eprintln!(
            "usage: bare_client URL BODY_FILE CONTENT_TYPE CONCURRENCY WARMUP_MS DURATION_MS"
        );
        return ExitCode::from(2);
    };
    let numbers = (
        concurrency.parse::<usize>(),
        warmup_ms.parse::<u64>(),
        duration_ms.parse::<u64>(),
    );
    let (Ok(concurrency), Ok(warmup_ms), Ok(duration_ms)) = numbers else {
        eprintln!("bare_client: CONCURRENCY, WARMUP_MS and DURATION_MS are whole numbers");
        return ExitCode::from(2);
    };
    let body = match std::fs::read(body_file) {
        Ok(b) => Bytes::from(b),
        Err(e) => {
            eprintln!("bare_client: {body_file}: {e}");
            return ExitCode::from(2);
        }
    };
    // The addon's runtime: one worker per spare core, at least 1, at most 2.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.saturating_sub(1).clamp(1, 2))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bare_client: cannot start a runtime: {e}");
            return ExitCode::from(3);
        }
    };
    // The direct client every call without a `proxy` uses.
    let client: &'static _ = match client_for(None) {
        Ok(c) => Box::leak(Box::new(c)),
        Err(e) => {
            eprintln!("bare_client: {}", e.describe());
            return ExitCode::from(3);
        }
    };
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let window_start = t0 + Duration::from_millis(warmup_ms);
    let window_end = window_start + Duration::from_millis(duration_ms);
    let (cpu_start, cpu_end) = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let (url, content_type, body) = (url.clone(), content_type.clone(), body.clone());
            let (tally, stop) = (tally.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    tally.started.fetch_add(1, Ordering::Relaxed);
                    let answer = send_body(
                        client,
                        ::http::Method::POST,
                        url.as_str(),
                        Some(&content_type),
                        body.clone(),
                    )
                    .await;
                    let now = Instant::now();
                    match answer {
                        Ok(a) if a.status == 200 => {
                            if now >= window_start && now <= window_end {
                                tally.counted.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        other => {
                            tally.failures.fetch_add(1, Ordering::Relaxed);
                            let what = match other {
                                Ok(a) => format!("HTTP {}", a.status),
                                Err(e) => e.describe(),
                            };
                            if let Ok(mut first) = tally.first_failure.lock() {
                                first.get_or_insert(what);
                            }
                        }
                    }
                    if now > window_end {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }));
        }
        tokio::time::sleep_until(window_start.into()).await;
        let cpu_start = cpu_ns();
        for t in tasks {
            let _ = t.await;
        }
        (cpu_start, cpu_ns())
    });
    let counted = tally.counted.load(Ordering::Relaxed);
    let elapsed_ms = duration_ms.max(1) as f64;
    let first_failure = tally
        .first_failure
        .lock()
        .ok()
        .and_then(|f| f.clone())
        .map_or(serde_json::Value::Null, serde_json::Value::String);
    let report = serde_json::json!({
        "mode": "bare",
        "concurrency": concurrency,
        "callsPerSec": counted as f64 / elapsed_ms * 1000.0,
        "counted": counted,
        "started": tally.started.load(Ordering::Relaxed),
        "failures": tally.failures.load(Ordering::Relaxed),
        "firstFailure": first_failure,
        "clientCpuUsPerCall": if counted > 0 {
            serde_json::json!((cpu_end.saturating_sub(cpu_start)) as f64 / 1000.0 / counted as f64)
        } else {
            serde_json::Value::Null
        },
    });
    println!("{report}");
    ExitCode::SUCCESS
}
