//! The napi layer: the only module that knows about JavaScript.
//!
//! It converts JavaScript values in, hands them to the core, and turns every
//! result, error and panic into an [`Outcome`] that the hand-written
//! `index.js` makes into a resolved value or a rejected `Error`.

use std::future::Future;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::cloud::{self, answer::Success, request::CallInput, request::Media, CallReport};
use crate::env::{Context, MapEnv, ProcessEnv};
use crate::error::{fail_msg, ok_msg, ApiError, ErrorClass, WX_SYSTEM_ERROR};
use crate::options::Config;

mod emulator;

/// A media parameter: `{ contentType, value: Buffer, fileName? }`.
#[napi(object)]
pub struct MediaInput {
    pub content_type: String,
    pub file_name: Option<String>,
    pub value: Buffer,
}

/// Options of one call, from `openapi({ appid, convertCase })`.
#[napi(object)]
pub struct CallOptions {
    pub appid: Option<String>,
    pub convert_case: Option<bool>,
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
    /// Failure: `CloudSDKError` (true) or plain `Error` (false).
    pub cloud_error: bool,
    /// The debug line for this call, when debug logging is on.
    pub debug_line: Option<String>,
}

impl Outcome {
    fn from_result(api: &str, result: std::result::Result<Success, ApiError>) -> Outcome {
        match result {
            Ok(Success::Json(json)) => Outcome {
                ok: true,
                json: Some(json),
                content_type: None,
                buffer: None,
                err_code: 0.0,
                err_msg: ok_msg(api),
                message: String::new(),
                cloud_error: false,
                debug_line: None,
            },
            Ok(Success::Binary { content_type, data }) => Outcome {
                ok: true,
                json: None,
                content_type: Some(content_type),
                buffer: Some(data.into()),
                err_code: 0.0,
                err_msg: ok_msg(api),
                message: String::new(),
                cloud_error: false,
                debug_line: None,
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
            cloud_error: e.class == ErrorClass::Cloud,
            debug_line: None,
        }
    }
}

/// A configured client: what `init(options)` creates.
#[napi]
pub struct Client {
    config: Arc<Config>,
}

/// Validate `init()` options (JSON text) and create a client, or explain
/// which option is wrong.
///
/// ```js
/// const r = binding.createClient(JSON.stringify({ env: 'test-env-123', timeout: 5000 }))
/// ```
#[napi(catch_unwind)]
pub fn create_client(options_json: String) -> Either<Client, Outcome> {
    install_panic_hook();
    match Config::from_json(&options_json) {
        Ok(config) => Either::A(Client {
            config: Arc::new(config),
        }),
        Err(e) => Either::B(Outcome::failure(&e)),
    }
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

fn snapshot(config: &Config) -> Context {
    match &config.process_env {
        Some(vars) => Context::snapshot(&MapEnv(vars.clone())),
        None => Context::snapshot(&ProcessEnv),
    }
}

/// Run `fut` on the runtime; a panic inside becomes a failed [`Outcome`].
fn settle<F>(env: &Env, api: String, fut: F) -> Result<PromiseRaw<'_, Outcome>>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    env.spawn_future(async move {
        match tokio::spawn(fut).await {
            Ok(outcome) => Ok(outcome),
            Err(_) => Ok(Outcome::failure(&ApiError::cloud(
                WX_SYSTEM_ERROR,
                fail_msg(
                    &api,
                    "internal error in wx-cloud-openapi (a bug: please report it)",
                ),
            ))),
        }
    })
}

fn debug_line(api: &str, mode: &str, report: &CallReport, outcome: &Outcome) -> String {
    crate::transport::redact(&format!(
        "[wx-cloud-openapi] {api} mode={mode} elapsed={}ms errCode={} seqId={}",
        report.elapsed_ms, outcome.err_code, report.seq_id
    ))
}

#[napi]
impl Client {
    /// Call `openapi.{api}` with the params (JSON text, or undefined).
    ///
    /// The environment is read here, on the JavaScript thread, before the
    /// call goes to the background.
    #[napi(catch_unwind)]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        api: String,
        params_json: Option<String>,
        media: Vec<MediaInput>,
        options: CallOptions,
    ) -> Result<PromiseRaw<'env, Outcome>> {
        let config = self.config.clone();
        let ctx = snapshot(&config);
        let debug = config.debug || ctx.debug_enabled();
        let input = CallInput {
            api: api.clone(),
            params_json,
            media: media
                .into_iter()
                .map(|m| Media {
                    content_type: m.content_type,
                    file_name: m.file_name,
                    data: m.value.to_vec(),
                })
                .collect(),
            appid: options.appid,
            convert_case: options.convert_case.unwrap_or(true),
        };
        let display = input.display_api();
        settle(env, display.clone(), async move {
            let (result, report) = cloud::call(&config, &ctx, &input).await;
            let mut outcome = Outcome::from_result(&display, result);
            if debug {
                outcome.debug_line = Some(debug_line(&display, "cloud", &report, &outcome));
            }
            outcome
        })
    }
}

/// Test hook: a call whose work panics inside the Rust core. Proves that a
/// panic rejects the promise and the process lives on.
#[napi(js_name = "__panicForTest", catch_unwind)]
pub fn panic_for_test(env: &Env) -> Result<PromiseRaw<'_, Outcome>> {
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

/// The reference SDK's description of an errCode, or `""`.
#[napi(catch_unwind)]
pub fn describe_err_code(code: f64) -> String {
    crate::error::description(code as i64).to_string()
}
