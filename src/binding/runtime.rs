//! The Tokio runtime every call runs on (napi-rs's `spawn` uses it).
//!
//! napi-rs would build a runtime with one worker thread per core. A call's
//! Rust work (~20 µs: build, sign, send, read, decode) is less than the
//! JavaScript thread's own share of it, so one worker keeps up with one
//! JavaScript thread, and on the one or two cores of a cloud function every
//! extra worker only adds thread wake-ups and contention: measured at
//! concurrency 64 on two cores, one worker used ~20% less CPU per call than
//! two and completed more calls per second (bench/NOTES.md). With more cores
//! two workers give headroom (TLS, large bodies) next to the JavaScript
//! thread: `available cores − 1`, at least 1 and at most 2.

/// What a worker runs just before it parks: set by the first call
/// (promise.rs: send the outcomes the worker holds). A function pointer
/// looked up at park time, so that the runtime's set-up, which runs when the
/// addon loads and is linked into the Rust unit tests (where there is no
/// Node to provide Node-API's symbols), names no Node-API function.
static BEFORE_PARK: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Have every worker run `f` before it parks (the first setting stays).
pub(super) fn set_before_park(f: fn()) {
    let _ = BEFORE_PARK.set(f);
}

/// The number of runtime worker threads for `cores` available cores.
pub(crate) fn worker_threads(cores: usize) -> usize {
    cores.saturating_sub(1).clamp(1, 2)
}

/// Register the runtime with napi-rs when the addon is loaded (once per
/// process; a Node worker thread loading the addon again reuses it).
#[napi_derive::module_init]
fn init_runtime() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let built = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads(cores))
            .thread_name("wx-cloud-openapi")
            // Outcomes cross to JavaScript in batches, sent when a worker
            // runs out of work (promise.rs).
            .on_thread_start(super::promise::hold_outcomes_on_this_thread)
            .on_thread_park(|| {
                if let Some(f) = BEFORE_PARK.get() {
                    f()
                }
            })
            .enable_all()
            .build();
        // If the runtime cannot be built here, napi-rs builds its default one
        // on the first call (and reports a failure there).
        if let Ok(rt) = built {
            napi::bindgen_prelude::create_custom_tokio_runtime(rt);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::worker_threads;

    #[test]
    fn one_worker_per_spare_core_at_most_two() {
        assert_eq!(worker_threads(0), 1);
        assert_eq!(worker_threads(1), 1);
        assert_eq!(worker_threads(2), 1);
        assert_eq!(worker_threads(3), 2);
        assert_eq!(worker_threads(64), 2);
    }
}
