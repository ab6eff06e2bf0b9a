//! The napi layer: the only module that knows about JavaScript.
//!
//! It converts JavaScript values in, hands them to the core, and turns every
//! result, error and panic into an [`Outcome`] that the hand-written
//! `index.js` makes into a resolved value or a rejected `Error`.

#[cfg(feature = "emulator")]
mod emulator;
mod emulator_types;
mod events;
mod promise;
mod runtime;
mod store;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::FutureExt;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::bindings::{
    self, ok_msg, ApiError, CallInput, Config, Context, ErrorClass, Media, ProcessEnv, Report,
};
use crate::wire::answer::Success;

/// A media parameter: `{ contentType, value: Buffer, fileName? }`.
#[napi(object)]
pub struct MediaInput {
    pub content_type: String,
    pub file_name: Option<String>,
    pub value: Buffer,
}

/// How a call ended. `index.js` turns it into a value or an `Error`.
#[napi(object)]
pub struct Outcome {
    pub ok: bool,
    /// Success with a JSON result: the whole result object as JSON text.
    pub json: Option<String>,
    /// Success with a binary answer.
    pub content_type: Option<String>,
    pub buffer: Option<Buffer>,
    pub err_code: f64,
    pub err_msg: String,
    /// Failure: the error's `message`.
    pub message: String,
    /// Failure: what the `message` shows after the errMsg, when the errMsg
    /// stays as the reference has it (-604100 names the API there).
    pub hint: Option<String>,
    /// Failure: `CloudSDKError` (true) or plain `Error` (false).
    pub cloud_error: bool,
    /// The debug line for this call, when debug logging is on.
    pub debug_line: Option<String>,
    /// The calling mode used: `cloud`, `https`, `thirdparty` (or `none`).
    pub mode: Option<String>,
}

impl Outcome {
    fn from_result(api: &str, result: std::result::Result<Success, ApiError>) -> Outcome {
        let ok = Outcome {
            ok: true,
            json: None,
            content_type: None,
            buffer: None,
            err_code: 0.0,
            err_msg: ok_msg(api),
            message: String::new(),
            hint: None,
            cloud_error: false,
            debug_line: None,
            mode: None,
        };
        match result {
            Ok(Success::Json(json)) => Outcome {
                json: Some(json),
                ..ok
            },
            Ok(Success::Binary { content_type, data }) => Outcome {
                content_type: Some(content_type),
                buffer: Some(data.into()),
                ..ok
            },
            Err(e) => Outcome::failure(&e),
        }
    }

    fn failure(e: &ApiError) -> Outcome {
        Outcome {
            ok: false,
            json: None,
            content_type: None,
            buffer: None,
            err_code: e.err_code as f64,
            err_msg: e.err_msg.clone(),
            message: e.message(),
            hint: e.hint.clone(),
            cloud_error: e.class == ErrorClass::Cloud,
            debug_line: None,
            mode: None,
        }
    }
}

/// A configured client: what `init(options)` creates, around the core's
/// [`wx_cloud_core::Client`] (the one way calls go).
#[napi]
pub struct Client {
    inner: wx_cloud_core::Client,
    /// Without `processEnv` (with it, the environment is the one the core
    /// client read once): the snapshot of the last `process.env` JavaScript sent.
    last_context: std::sync::Mutex<Option<Arc<Context>>>,
}

/// Validate `init()` options (the JSON text of those that are not
/// functions, and the names of those that are) and create a client, or
/// explain which option is wrong. The managed third-party mode keeps its
/// tokens in `store` (a [`store::TokenStoreHandle`]; a store given to a
/// client of another mode is refused); without one, in this process's
/// memory, one store per API base URL (as the clients share their app
/// tokens), `WX_API_BASE_URL` read as JavaScript's `process.env` has it
/// (`js_api_base_url`). The `init()` callbacks `hook_names` are called
/// through `hooks`: those of the managed third-party mode, or the token
/// function (`accessToken` / `authorizerAccessToken` given as a function).
///
/// ```js
/// const r = binding.createClient(JSON.stringify({ env: 'test-env-123', timeout: 5000 }), [])
/// ```
#[napi(catch_unwind)]
pub fn create_client(
    options_json: String,
    functions: Vec<String>,
    store: Option<&store::TokenStoreHandle>,
    hooks: Option<Function<String, Promise<String>>>,
    hook_names: Option<Vec<String>>,
    js_api_base_url: Option<String>,
) -> Result<Either<Client, Outcome>> {
    install_panic_hook();
    let config = match Config::from_js(&options_json, &functions) {
        Ok(config) => config,
        Err(e) => return Ok(Either::B(Outcome::failure(&e))),
    };
    let mut inner = wx_cloud_core::Client::from_config(config);
    let hook_names = hook_names.unwrap_or_default();
    let token_function = bindings::token_function(inner.config());
    if store.is_some() && token_function != Some("component") {
        return Ok(Either::B(Outcome::failure(
            &ApiError::invalid_param(
                "option `store` keeps the tokens of the SDK-managed third-party mode: it needs componentAppid and componentAppsecret \
                 (and no other credentials, or option `mode: \"thirdparty\"`)",
            )
            .for_api("init"),
        )));
    }
    match (token_function, hooks) {
        (Some("component"), hooks) => {
            let cached = match store {
                Some(s) => s.inner.clone(),
                None => {
                    let js_env = js_api_base_url
                        .map(|b| HashMap::from([("WX_API_BASE_URL".to_string(), b)]));
                    let base =
                        bindings::base_url(inner.config(), &snapshot(inner.config(), js_env));
                    crate::token::default_store(&base.unwrap_or_default())
                }
            };
            inner = inner.with_tokens(cached, store::hooks(hooks, &hook_names)?);
        }
        (Some(name), Some(hooks)) if hook_names.iter().any(|n| n == name) => {
            inner = inner.with_token_function(store::token_function(hooks, name)?);
        }
        _ => {}
    }
    Ok(Either::A(Client {
        inner,
        last_context: std::sync::Mutex::new(None),
    }))
}

/// Replace the default panic hook (which prints the panic payload, and a
/// payload can quote a string it was slicing) with one that prints only
/// where the panic happened. The caller still gets a rejected promise.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!("[wx-cloud-openapi] internal error (panic) at {at}; the call was rejected");
        }));
    });
}

/// The environment of a call: `processEnv` from `init()`, else the
/// variables JavaScript read from `process.env`, else the process's own.
fn snapshot(config: &Config, js_env: Option<HashMap<String, String>>) -> Context {
    match (&config.process_env, js_env) {
        (Some(vars), _) => Context::snapshot(&vars.0),
        (None, Some(vars)) => Context::snapshot(&vars),
        (None, None) => Context::snapshot(&ProcessEnv),
    }
}

/// The core's side of the contract with the JavaScript layer, defined once
/// in the core and read by `lib/load.js` on first use (never at `require()`).
#[napi(object)]
pub struct Contract {
    /// Every `init()` option the core reads (the ignored options of
    /// wx-server-sdk aside).
    pub options: Vec<String>,
    /// The timeout of a call when `init()` sets none (ms).
    pub default_timeout_ms: f64,
    /// The longest `timeout` accepted (ms).
    pub max_timeout_ms: f64,
    /// The SDK's own error codes the JavaScript layer rejects with.
    pub error_codes: ErrorCodes,
}

/// The SDK's own error codes (the reference's names), defined in the core.
#[napi(object)]
pub struct ErrorCodes {
    /// `INVALID_PARAM` (-501007): a bad parameter or option.
    pub invalid_param: f64,
    /// `INVALID_COMMON_PARAM` (-501006): no usable credentials, a failing callback.
    pub invalid_common_param: f64,
}

/// The contract between index.js / lib/*.js and the core (see [`Contract`]).
#[napi(catch_unwind)]
pub fn contract() -> Contract {
    use crate::bindings::{DEFAULT_TIMEOUT, MAX_TIMEOUT_MS};
    Contract {
        options: Config::options().to_vec(),
        default_timeout_ms: DEFAULT_TIMEOUT.as_millis() as f64,
        max_timeout_ms: MAX_TIMEOUT_MS as f64,
        error_codes: ErrorCodes {
            invalid_param: crate::bindings::INVALID_PARAM as f64,
            invalid_common_param: crate::bindings::INVALID_COMMON_PARAM as f64,
        },
    }
}

/// The names of the environment variables a call reads, besides those
/// listed (comma separated) in `TCB_CONTEXT_KEYS` and `WX_CONTEXT_KEYS`.
#[napi(catch_unwind)]
pub fn env_var_names() -> Vec<String> {
    crate::bindings::CONTEXT_VARS
        .iter()
        .chain(crate::bindings::OTHER_VARS)
        .map(|n| (*n).to_string())
        .collect()
}

/// Whether this is the process's main thread, where Node's `process.env`
/// is the process's environment (a worker thread's is its own copy,
/// unless it was created with `SHARE_ENV`). `false` where it cannot tell.
#[napi(catch_unwind)]
pub fn on_main_thread() -> bool {
    #[cfg(target_os = "linux")]
    {
        // The main thread's id is the process id. (`gettid()` itself needs
        // glibc 2.30; the system call is there on every kernel.)
        // SAFETY: gettid and getpid take no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_gettid) == libc::getpid() as libc::c_long }
    }
    #[cfg(target_os = "macos")]
    {
        // SAFETY: takes no arguments and cannot fail.
        unsafe { libc::pthread_main_np() == 1 }
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        false
    }
}

/// Run `fut` on the runtime; a panic inside becomes a failed [`Outcome`].
fn settle<F>(env: &Env, api: String, fut: F) -> Result<promise::CallPromise<'_>>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    // The call's future is large (~3 KB of state): boxed once here, it is
    // not copied again as the runtime moves the task around. The panic is
    // caught in place (no second task per call).
    let fut = Box::pin(fut);
    promise::outcome_promise(env, async move {
        match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::failure(
                &ApiError::internal("internal error in wx-cloud-openapi (a bug: please report it)")
                    .for_api(&api),
            ),
        }
    })
}

/// One line per send: API, mode, elapsed time, errCode, the request id
/// (the gateway's `seqId` in a cloud call; WeChat's `rid`, which it gives
/// only in errors, in the HTTPS modes), redacted.
fn debug_line(api: &str, report: &Report, err_code: f64) -> String {
    let request_id = if report.mode == "cloud" {
        format!("seqId={}", report.seq_id)
    } else {
        format!("rid={}", report.rid.as_deref().unwrap_or("-"))
    };
    let path = match &report.path {
        Some(p) => format!(" path={p}"),
        None => String::new(),
    };
    crate::bindings::redact(&format!(
        "[wx-cloud-openapi] {api} mode={} elapsed={}ms errCode={} {request_id} sends={} busyRetries={}{path}",
        report.mode, report.elapsed_ms, err_code, report.sends, report.busy_retries
    ))
}

impl Client {
    /// The environment of a call: fixed by `processEnv`; else the one
    /// JavaScript sent (kept for the next calls); else, when it sent none
    /// because nothing changed, the one kept.
    ///
    /// `read_environ`: JavaScript's `process.env` is Node's own object, on
    /// the main thread, so each of its reads would be a `getenv`: the
    /// variables are read here, from the process's environment, and the
    /// snapshot kept is reused while they are the same.
    fn context(
        &self,
        config: &Config,
        env_json: Option<String>,
        read_environ: bool,
    ) -> Arc<Context> {
        if config.process_env.is_some() {
            return self.inner.context().clone();
        }
        let mut last = crate::wire::lock(&self.last_context);
        if read_environ {
            // On node's thread, which is where `process.env` changes it.
            return match (Context::from_environ(last.as_deref()), last.as_ref()) {
                (None, Some(kept)) => kept.clone(),
                (now, _) => {
                    let ctx = Arc::new(now.unwrap_or_default());
                    *last = Some(ctx.clone());
                    ctx
                }
            };
        }
        match (env_json, last.as_ref()) {
            (None, Some(kept)) => kept.clone(),
            (text, _) => {
                let vars =
                    text.and_then(|t| serde_json::from_str::<HashMap<String, String>>(&t).ok());
                let ctx = Arc::new(snapshot(config, vars));
                *last = Some(ctx.clone());
                ctx
            }
        }
    }
}

#[napi]
impl Client {
    /// Which token a call asks besides the configured ones: from the token
    /// function `"accessToken"` or `"authorizerAccessToken"` (asked by the
    /// core through `createClient`'s hooks), `"component"` (the managed
    /// third-party tokens), or `null`.
    #[napi(getter, catch_unwind)]
    pub fn token_function(&self) -> Option<String> {
        bindings::token_function(self.inner.config()).map(str::to_string)
    }

    /// Each call reads the environment JavaScript sends (`env_json` of [`Client::call`]):
    /// `init()` had no `processEnv`.
    #[napi(getter, catch_unwind)]
    pub fn reads_process_env(&self) -> bool {
        self.inner.config().process_env.is_none()
    }

    /// Call `openapi.{api}` with the params (JSON text, or undefined).
    ///
    /// The environment is read here, on the JavaScript thread, before the
    /// call goes to the background.
    ///
    /// The call's options come one argument each, not as an object: napi
    /// reads an object's fields one property lookup at a time (~1,200
    /// instructions each, on every call, on the JavaScript thread).
    /// - `marker`: the prefix of the params' out-of-band markers
    ///   (`undefined`, BigInt, media), chosen by the JavaScript layer so that
    ///   no user string has it;
    /// - `appid`, `convert_case`: `openapi({ appid, convertCase })`; `appid`
    ///   is read as UTF-16, so one holding a lone surrogate is refused;
    /// - `env_json`: the variables of JavaScript's `process.env` the core
    ///   reads (see [`env_var_names`]), as the JSON text of an object, when
    ///   `init()` had no `processEnv`: read in JavaScript, so that a
    ///   sandbox's `process.env` (jest gives each test file its own copy) is
    ///   the one that counts, as in wx-server-sdk. Omitted when the text is
    ///   the same as on this client's previous call: that call's snapshot is
    ///   reused.
    /// - `read_environ`: instead of `env_json`, read the process's
    ///   environment here (JavaScript's `process.env` is Node's own object,
    ///   on the main thread: see `nodesOwnEnv` in index.js).
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        api: String,
        params_json: Option<String>,
        media: Vec<MediaInput>,
        marker: Option<String>,
        appid: Option<Utf16String>,
        convert_case: Option<bool>,
        env_json: Option<String>,
        read_environ: Option<bool>,
    ) -> Result<PromiseRaw<'env, Either<String, Outcome>>> {
        let config = self.inner.config();
        let ctx = self.context(config, env_json, read_environ == Some(true));
        let debug = crate::bindings::debug(config, &ctx).value;
        let appid = match appid.map(|a| String::from_utf16(&a)) {
            Some(Err(_)) => {
                let e = ApiError::invalid_param(
                    "option `appid` of openapi({ appid }) contains a lone surrogate, which cannot be sent",
                );
                let display = format!("openapi.{api}");
                let e = e.for_api(&display);
                return settle(env, display, async move { Outcome::failure(&e) });
            }
            appid => appid.and_then(std::result::Result::ok),
        };
        let input = CallInput {
            api,
            params_json,
            media: media
                .into_iter()
                .map(|m| Media {
                    content_type: m.content_type,
                    file_name: m.file_name,
                    data: m.value.to_vec(),
                })
                .collect(),
            appid,
            convert_case: convert_case.unwrap_or(true),
            marker,
        };
        let display = input.display_api();
        let request = wx_cloud_core::Request {
            input,
            token: None,
            timeout: None,
            context: Some(ctx),
        };
        let client = self.inner.clone();
        settle(env, display.clone(), async move {
            let sent = client.send(request).await;
            let mut outcome = Outcome::from_result(&display, sent.result);
            // Empty when nothing was sent (the token function failed).
            if !sent.report.mode.is_empty() {
                outcome.mode = Some(sent.report.mode.to_string());
                if debug {
                    // The send whose token WeChat rejected first, then the retry.
                    let rejected = sent.rejected.as_ref().map(|r| {
                        let code = r.result.as_ref().err().map_or(0.0, |e| e.err_code as f64);
                        debug_line(&display, &r.report, code) + "\n"
                    });
                    let line = debug_line(&display, &sent.report, outcome.err_code);
                    outcome.debug_line = Some(rejected.unwrap_or_default() + &line);
                }
            }
            outcome
        })
    }
}

/// Test hook: a call whose work panics inside the Rust core. Proves that a
/// panic rejects the promise and the process lives on.
#[napi(js_name = "__panicForTest", catch_unwind)]
pub fn panic_for_test(env: &Env) -> Result<PromiseRaw<'_, Either<String, Outcome>>> {
    install_panic_hook();
    settle(env, "openapi.test.panic".to_string(), async {
        panic!("deliberate test panic");
    })
}

/// Test hook: a synchronous panic inside an exported function.
#[napi(js_name = "__syncPanicForTest", catch_unwind)]
pub fn sync_panic_for_test() -> Result<()> {
    install_panic_hook();
    panic!("deliberate synchronous test panic");
}

/// Test hook: `n` promises settled together, as calls answered in one
/// wake-up of a runtime worker are; each resolves to its index.
#[napi(js_name = "__finishedTogetherForTest", catch_unwind)]
pub fn finished_together_for_test(
    env: &Env,
    n: u32,
) -> Result<Vec<PromiseRaw<'_, Either<String, Outcome>>>> {
    promise::finished_together(env, n)
}

/// Test hook: `[batches, outcomes]` settled on JavaScript threads so far in
/// this process (src/binding/promise.rs).
#[napi(js_name = "__settleStatsForTest", catch_unwind)]
pub fn settle_stats_for_test() -> Vec<f64> {
    promise::settle_stats().map(|n| n as f64).to_vec()
}

/// The reference SDK's description of an errCode, or `""`.
#[napi(catch_unwind)]
pub fn describe_err_code(code: f64) -> String {
    crate::bindings::description(code as i64).to_string()
}

/// Where the HTTPS modes send an API (a row of the path table).
#[napi(object)]
pub struct ApiRoute {
    /// `"GET"` or `"POST"`.
    pub method: String,
    /// e.g. `/wxa/getwxacodeunlimit`.
    pub path: String,
    /// `"json"`, `"query"` or `"multipart"`.
    pub params: String,
    /// The documentation page of the row.
    pub doc: String,
}

/// The path table's row of a cloud-call name (`tcb.createenvandresource`),
/// or `null` when the API is not in the table.
#[napi(catch_unwind)]
pub fn api_route(api: String) -> Option<ApiRoute> {
    crate::wire::paths::route(&api).map(|r| ApiRoute {
        method: r.method.as_str().to_string(),
        path: r.path.clone(),
        params: match r.params {
            crate::wire::paths::Params::Json => "json",
            crate::wire::paths::Params::Query => "query",
            crate::wire::paths::Params::Multipart => "multipart",
        }
        .to_string(),
        doc: r.doc.clone(),
    })
}

/// The signature of a `cloud.signature({ type: 'midas' })` value in the
/// params of the midas API `api` (`crate::https::midas`): `params` the
/// value's param names (the signed ones are these sorted and snake_cased),
/// `keys` the params' top-level keys, `value_of(key)` the text of a param's
/// value, asked for the signed ones only. Fails as the reference does when
/// a signed param is missing.
#[napi(catch_unwind)]
pub fn midas_signature(
    api: String,
    params: Vec<String>,
    secret: String,
    keys: Vec<String>,
    convert_case: bool,
    value_of: Function<String, String>,
) -> Result<String> {
    use crate::wire::midas;
    let (method, path) = midas::route(&api)
        .ok_or_else(|| Error::from_reason(format!("{api} is not a midas API")))?;
    let sent = midas::sent_keys(keys, convert_case);
    let names = midas::signed_names(params);
    let mut fields = Vec::with_capacity(names.len());
    for name in names {
        let Some(key) = sent.get(&name).and_then(serde_json::Value::as_str) else {
            return Err(Error::from_reason(format!(
                "Cannot compute signature: lack of param '{name}'"
            )));
        };
        let value = value_of.call(key.to_string())?;
        fields.push((name, value));
    }
    Ok(midas::sign(method, path, &secret, &fields))
}

/// Every cloud-call name in the path table, sorted.
#[napi(catch_unwind)]
pub fn path_table_apis() -> Vec<String> {
    crate::wire::paths::all()
        .iter()
        .map(|r| r.api.clone())
        .collect()
}

/// One setting a call would use (secrets `***`, ids shortened).
#[napi(object)]
pub struct ExplainedSetting {
    pub name: String,
    pub value: String,
    /// `init option x`, `env X`, `default`, …
    pub source: String,
}

/// Which calling mode a call would use, why, and with which settings.
#[napi(object)]
pub struct ConfigExplanation {
    /// A call would be sent (the options are valid and the mode usable).
    pub ok: bool,
    /// `cloud`, `https`, `thirdparty`, or `none`.
    pub mode: String,
    /// Why this mode was chosen.
    pub reason: String,
    pub settings: Vec<ExplainedSetting>,
    /// When `ok` is false: the error a call would fail with.
    pub err_code: f64,
    pub err_msg: String,
}

/// Explain, without sending anything, what a call of `api` (by default
/// `tcb.createenvandresource`) made with these `init()` options (JSON text
/// and function names, as `createClient` takes them) would use: the same
/// mode selection and credential lookup as a call, the environment read
/// as a call reads it: `processEnv`, else `env` (what JavaScript's
/// `process.env` holds, as `env_json` of [`Client::call`]), else the process.
///
/// ```js
/// binding.explainConfig(JSON.stringify({ appid: 'wx…', secret: '…' }), [], 'openapi.tcb.createenvandresource')
/// // { ok: true, mode: 'https', reason: 'init() was given `appid` and `secret`', settings: [...] }
/// ```
#[napi(catch_unwind)]
pub fn explain_config(
    options_json: String,
    functions: Vec<String>,
    api: Option<String>,
    env: Option<HashMap<String, String>>,
) -> ConfigExplanation {
    // `tcb.createenvandresource` or `openapi.tcb.createenvandresource`.
    let api = api.as_deref().unwrap_or("tcb.createenvandresource");
    let api = format!("openapi.{}", api.strip_prefix("openapi.").unwrap_or(api));
    let config = match Config::from_js(&options_json, &functions) {
        Ok(c) => c,
        Err(e) => {
            return ConfigExplanation {
                ok: false,
                mode: "none".to_string(),
                reason: "the options are invalid".to_string(),
                settings: Vec::new(),
                err_code: e.err_code as f64,
                err_msg: e.err_msg,
            }
        }
    };
    let ctx = snapshot(&config, env);
    let e = bindings::explain(&config, &ctx, &api);
    ConfigExplanation {
        ok: e.problem.is_none(),
        mode: e.mode.to_string(),
        reason: e.reason,
        settings: e
            .settings
            .into_iter()
            .map(|s| ExplainedSetting {
                name: s.name.to_string(),
                value: s.value,
                source: s.source,
            })
            .collect(),
        err_code: e.problem.as_ref().map_or(0.0, |p| p.err_code as f64),
        err_msg: e.problem.map(|p| p.err_msg).unwrap_or_default(),
    }
}
