//! Promises of calls, settled from the background runtime through one
//! threadsafe function per JavaScript thread.
//!
//! napi-rs's `Env::spawn_future` creates, for every promise, a threadsafe
//! function (a libuv handle opened and later closed), an `Error` object
//! holding a stack trace, and an environment cleanup hook: together they
//! cost more than the rest of a call on the JavaScript thread. Here a call
//! costs one `napi_create_promise`; its [`Outcome`] comes back through a
//! threadsafe function created once per JavaScript thread (the main thread
//! or a worker), which Node drains in batches (one wake-up settles every
//! call that finished in the meantime). That function is referenced (keeps
//! the event loop alive) only while promises are pending, so an idle
//! process exits as usual and a pending call keeps it alive.
//!
//! Outcomes cross in batches. A runtime worker thread holds the outcomes of
//! the calls it finished until it runs out of work and is about to park
//! ([`flush`], the runtime's park hook), or until it holds [`BATCH_MAX`], and
//! then sends each JavaScript thread's share as one threadsafe-function call:
//! one wake-up of that thread, one callback scope and one microtask drain for
//! the whole batch, where each call used to have its own. A lone call is not
//! delayed: the worker that finished it has nothing else to do and parks at
//! once. A thread outside the runtime's workers (none today) sends at once.
//!
//! When the JavaScript environment goes away (a worker ends) with calls in
//! flight, their outcomes are dropped: there is no one left to resolve.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::future::Future;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{spawn, Either, PromiseRaw, ToNapiValue};
use napi::{check_status, sys, Env, Result};

use super::Outcome;
use crate::wire::answer::Success;

/// A threadsafe function handle; Node allows calling it from any thread.
#[derive(Clone, Copy)]
struct Tsfn(sys::napi_threadsafe_function);
// SAFETY: `napi_call_threadsafe_function` is documented as callable from
// any thread; the other functions are only called on the JavaScript thread.
unsafe impl Send for Tsfn {}

/// A promise's deferred: only ever used on the JavaScript thread that made
/// it; it travels through the runtime untouched.
struct Deferred(sys::napi_deferred);
// SAFETY: see above; it is dereferenced only by `settle_on_js_thread`.
unsafe impl Send for Deferred {}

/// Where outcomes are sent from any thread. `None` once the JavaScript
/// environment has been torn down.
struct Door {
    tsfn: Mutex<Option<Tsfn>>,
}

impl Door {
    fn send(&self, batch: Vec<Job>) {
        let guard = crate::wire::lock(&self.tsfn);
        let Some(tsfn) = *guard else { return };
        let data = Box::into_raw(Box::new(batch));
        // Unbounded queue: non-blocking never answers `queue_full`; any
        // other failure (closing) means nobody is left to resolve.
        let status = unsafe {
            sys::napi_call_threadsafe_function(
                tsfn.0,
                data.cast(),
                sys::ThreadsafeFunctionCallMode::nonblocking,
            )
        };
        if status != sys::Status::napi_ok {
            drop(unsafe { Box::from_raw(data) });
        }
    }
}

/// One finished call on its way to the JavaScript thread.
struct Job {
    deferred: Deferred,
    outcome: Outcome,
}

/// The most outcomes a worker holds before sending them without waiting to
/// park: a worker that never runs out of work (calls arriving faster than it
/// finishes them) still settles promises as it goes.
const BATCH_MAX: usize = 64;

thread_local! {
    /// Set on every thread the runtime starts (its workers, whose park hook
    /// calls [`flush`], and its blocking pool, which never runs the tasks
    /// that deliver outcomes: nothing here uses `spawn_blocking`).
    static BATCHING: Cell<bool> = const { Cell::new(false) };
    /// Outcomes this worker finished and has not sent, by destination
    /// (almost always one: the main thread).
    static HELD: RefCell<Vec<(Arc<Door>, Vec<Job>)>> = const { RefCell::new(Vec::new()) };
}

/// The runtime's thread-start hook: outcomes finished on this thread wait
/// for [`flush`].
pub(super) fn hold_outcomes_on_this_thread() {
    BATCHING.with(|b| b.set(true));
}

/// The runtime's park hook (set by [`Local::open`], before any outcome can
/// be held): send what this worker holds.
fn flush() {
    let taken = HELD
        .try_with(|h| std::mem::take(&mut *h.borrow_mut()))
        .unwrap_or_default();
    for (door, batch) in taken {
        door.send(batch);
    }
}

/// Hold `job` for `door` until this worker parks, or send it now (a thread
/// that does not batch, or a full batch).
fn deliver(door: Arc<Door>, job: Job) {
    if !BATCHING.with(Cell::get) {
        return door.send(vec![job]);
    }
    let full = HELD.with(|h| {
        let mut h = h.borrow_mut();
        match h.iter_mut().find(|(d, _)| Arc::ptr_eq(d, &door)) {
            Some((_, batch)) => batch.push(job),
            None => h.push((door, vec![job])),
        }
        h.iter().map(|(_, batch)| batch.len()).sum::<usize>() >= BATCH_MAX
    });
    if full {
        flush();
    }
}

/// The JavaScript thread's side.
struct Local {
    env: sys::napi_env,
    tsfn: Tsfn,
    door: Arc<Door>,
    /// Promises made and not yet settled.
    pending: usize,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

impl Local {
    /// Create this environment's threadsafe function (unreferenced) and the
    /// cleanup hook that closes it when the environment goes away.
    fn open(env: sys::napi_env) -> Result<Local> {
        super::runtime::set_before_park(flush);
        let mut name = ptr::null_mut();
        let label = "wx-cloud-openapi call";
        check_status!(unsafe {
            sys::napi_create_string_utf8(
                env,
                label.as_ptr().cast(),
                label.len() as isize,
                &mut name,
            )
        })?;
        let mut raw = ptr::null_mut();
        check_status!(unsafe {
            sys::napi_create_threadsafe_function(
                env,
                ptr::null_mut(),
                ptr::null_mut(),
                name,
                0,
                1,
                ptr::null_mut(),
                None,
                ptr::null_mut(),
                Some(settle_on_js_thread),
                &mut raw,
            )
        })?;
        let tsfn = Tsfn(raw);
        check_status!(unsafe { sys::napi_unref_threadsafe_function(env, raw) })?;
        let door = Arc::new(Door {
            tsfn: Mutex::new(Some(tsfn)),
        });
        // Registered after the threadsafe function, so it runs before Node's
        // own teardown of it (hooks run in reverse order).
        let hook_arg = Arc::into_raw(door.clone()) as *mut c_void;
        let status = unsafe { sys::napi_add_env_cleanup_hook(env, Some(close_door), hook_arg) };
        if status != sys::Status::napi_ok {
            drop(unsafe { Arc::from_raw(hook_arg as *const Door) });
            return Err(napi::Error::from_status(napi::Status::from(status)));
        }
        Ok(Local {
            env,
            tsfn,
            door,
            pending: 0,
        })
    }
}

/// Environment teardown: stop sending, abort the threadsafe function.
unsafe extern "C" fn close_door(arg: *mut c_void) {
    let door = unsafe { Arc::from_raw(arg as *const Door) };
    let taken = crate::wire::lock(&door.tsfn).take();
    if let Some(tsfn) = taken {
        unsafe {
            sys::napi_release_threadsafe_function(
                tsfn.0,
                sys::ThreadsafeFunctionReleaseMode::abort,
            );
        }
    }
    let _ = LOCAL.try_with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            *l = None;
        }
    });
}

/// Runs on the JavaScript thread with a batch of finished calls (or with a
/// null `env` when the function is torn down with batches queued: they are
/// dropped).
unsafe extern "C" fn settle_on_js_thread(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    if data.is_null() {
        return;
    }
    let batch = unsafe { Box::from_raw(data as *mut Vec<Job>) };
    if env.is_null() {
        return;
    }
    let settled = batch.len();
    BATCHES.fetch_add(1, Ordering::Relaxed);
    SETTLED.fetch_add(settled as u64, Ordering::Relaxed);
    for Job { deferred, outcome } in *batch {
        // Never unwind into Node; one failure does not keep the rest.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match unsafe { outcome_to_js(env, outcome) } {
                Ok(value) => unsafe {
                    sys::napi_resolve_deferred(env, deferred.0, value);
                },
                Err(e) => reject(env, deferred, &e.reason),
            }
        }));
    }
    let _ = LOCAL.try_with(|l| {
        if let Some(local) = l.borrow_mut().as_mut().filter(|l| l.env == env) {
            local.pending = local.pending.saturating_sub(settled);
            if local.pending == 0 {
                unsafe { sys::napi_unref_threadsafe_function(env, local.tsfn.0) };
            }
        }
    });
}

/// The common success (a JSON result, no debug line) crosses as its JSON
/// text alone: building the full object costs a property-name lookup and a
/// value per field. Everything else crosses as the [`Outcome`] object.
unsafe fn outcome_to_js(env: sys::napi_env, outcome: Outcome) -> Result<sys::napi_value> {
    match outcome {
        Outcome {
            ok: true,
            json: Some(json),
            debug_line: None,
            ..
        } => unsafe { String::to_napi_value(env, json) },
        other => unsafe { Outcome::to_napi_value(env, other) },
    }
}

/// Reject with an `Error` whose message is `message` (a conversion failure:
/// no secret in it), clearing any exception the failure left pending.
fn reject(env: sys::napi_env, deferred: Deferred, message: &str) {
    unsafe {
        let mut pending = false;
        sys::napi_is_exception_pending(env, &mut pending);
        let mut error = ptr::null_mut();
        if pending {
            sys::napi_get_and_clear_last_exception(env, &mut error);
        } else {
            let mut text = ptr::null_mut();
            sys::napi_create_string_utf8(
                env,
                message.as_ptr().cast(),
                message.len() as isize,
                &mut text,
            );
            sys::napi_create_error(env, ptr::null_mut(), text, &mut error);
        }
        sys::napi_reject_deferred(env, deferred.0, error);
    }
}

/// A promise for the [`Outcome`] that `fut` produces on the runtime: its
/// JSON text for a plain success (see [`outcome_to_js`]), else the object.
pub(super) fn outcome_promise<F>(env: &Env, fut: F) -> Result<CallPromise<'_>>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    let (promise, deferred, door) = new_promise(env)?;
    spawn(async move {
        let outcome = fut.await;
        deliver(door, Job { deferred, outcome });
    });
    Ok(promise)
}

/// The promise of a call, as JavaScript gets it (see [`outcome_to_js`]).
pub(super) type CallPromise<'env> = PromiseRaw<'env, Either<String, Outcome>>;

/// A pending promise of this JavaScript thread, its deferred, and where its
/// outcome is to be sent.
fn new_promise(env: &Env) -> Result<(CallPromise<'_>, Deferred, Arc<Door>)> {
    let raw_env = env.raw();
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    check_status!(unsafe { sys::napi_create_promise(raw_env, &mut deferred, &mut promise) })?;
    // This thread's function (opened on its first call), referenced while
    // any promise of it is pending.
    let door = LOCAL.with(|l| -> Result<Arc<Door>> {
        let mut l = l.borrow_mut();
        let local = match l.take() {
            Some(local) if local.env == raw_env => l.insert(local),
            _ => l.insert(Local::open(raw_env)?),
        };
        if local.pending == 0 {
            unsafe { sys::napi_ref_threadsafe_function(raw_env, local.tsfn.0) };
        }
        local.pending += 1;
        Ok(local.door.clone())
    })?;
    Ok((PromiseRaw::new(raw_env, promise), Deferred(deferred), door))
}

/// Batches (threadsafe-function calls) and outcomes settled so far in this
/// process, for [`settle_stats`].
static BATCHES: AtomicU64 = AtomicU64::new(0);
static SETTLED: AtomicU64 = AtomicU64::new(0);

/// `[batches, outcomes]` settled so far in this process.
pub(super) fn settle_stats() -> [u64; 2] {
    [
        BATCHES.load(Ordering::Relaxed),
        SETTLED.load(Ordering::Relaxed),
    ]
}

/// Test hook: `n` promises whose outcomes (each its own index, as JSON text)
/// one task on the runtime finishes together, as calls answered in one
/// wake-up of a worker are.
pub(super) fn finished_together(env: &Env, n: u32) -> Result<Vec<CallPromise<'_>>> {
    let mut promises = Vec::new();
    let mut jobs = Vec::new();
    for i in 0..n {
        let (promise, deferred, door) = new_promise(env)?;
        promises.push(promise);
        jobs.push((door, deferred, i));
    }
    spawn(async move {
        for (door, deferred, i) in jobs {
            let outcome = Outcome::from_result("test.batch", Ok(Success::Json(i.to_string())));
            deliver(door, Job { deferred, outcome });
        }
    });
    Ok(promises)
}
