//! The napi layer of the local emulator: options in, a handle out.
//! Everything here converts; the emulator itself lives in `crate::emulator`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::{check_status, sys, ValueType};
use napi_derive::napi;

use crate::emulator::command_line::{self, Command, Listening, Sources};
use crate::emulator::{Emulator, FaultSpec};

use super::emulator_types::*;

/// What `wx-cloud-openapi emulator` does, its options and the note on
/// secrets: the text the `wx-cloud-emulator` binary prints too.
#[napi(catch_unwind)]
pub fn emulator_options_help() -> &'static str {
    crate::emulator::help::OPTIONS
}

/// `wx-cloud-openapi emulator`'s command line, read by the emulator crate
/// (crates/emulator/src/command_line.rs) as the `wx-cloud-emulator` binary
/// reads it.
#[napi(object)]
pub struct EmulatorCommandLine {
    /// `-h` or `--help` was given: print the usage, nothing else.
    pub help: bool,
    /// The usage error (exit 2), naming the flag or variable, never a secret.
    pub usage_error: Option<String>,
    /// To print before starting (a `--host` that is not loopback).
    pub warning: Option<String>,
    /// The options for `startEmulator` (JSON text; they hold the secrets given).
    pub options: Option<String>,
    /// Where the secrets came from, for `emulatorBanner` (JSON text).
    pub sources: Option<String>,
}

/// Read the emulator command's arguments (after `emulator`) with `env` as
/// the environment (the `WX_EMULATOR_*` secrets).
///
/// ```js
/// const line = binding.parseEmulatorCommandLine(['--port', '8080'], process.env)
/// if (line.usageError) fail(line.usageError)
/// const emu = await startEmulator(JSON.parse(line.options))
/// ```
#[napi(catch_unwind)]
pub fn parse_emulator_command_line(
    args: Vec<String>,
    env: HashMap<String, String>,
) -> EmulatorCommandLine {
    let mut out = EmulatorCommandLine {
        help: false,
        usage_error: None,
        warning: None,
        options: None,
        sources: None,
    };
    match command_line::parse(&args, &|k| env.get(k).cloned()) {
        Ok(Command::Help) => out.help = true,
        Err(e) => out.usage_error = Some(e),
        Ok(Command::Run(line)) => {
            out.warning = line.warning();
            out.options = Some(line.options_json());
            out.sources = Some(line.sources_json());
        }
    }
    out
}

/// The lines `wx-cloud-openapi emulator` prints once the emulator listens
/// (as the `wx-cloud-emulator` binary prints them): `options` and `sources`
/// as `parseEmulatorCommandLine` gave them; the rest is the running emulator's.
#[napi(catch_unwind)]
pub fn emulator_banner(
    options: String,
    sources: String,
    url: String,
    https_base_url: String,
    cloud_env: HashMap<String, String>,
) -> Result<Vec<String>> {
    let opts = crate::emulator::start_options::from_json(&options).map_err(Error::from_reason)?;
    let sources: Sources = serde_json::from_str(&sources)
        .map_err(|e| Error::from_reason(format!("emulatorBanner: sources: {e}")))?;
    let at = Listening {
        url,
        https_base_url,
        cloud_env: cloud_env.into_iter().collect(),
    };
    Ok(command_line::banner(&opts, &sources, &at))
}

/// A running emulator: what `startEmulator()` resolves to.
///
/// ```js
/// const { startEmulator } = require('wx-cloud-openapi')
/// const emu = await startEmulator()
/// Object.assign(process.env, emu.cloudEnv()) // a cloud function's environment
/// // ... cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'test' })
/// console.log(emu.environments())
/// await emu.close()
/// ```
#[napi(js_name = "Emulator")]
pub struct EmulatorHandle {
    inner: Arc<Emulator>,
    /// The listener runs on the addon's own threads, which do not keep
    /// Node's event loop alive; a listening emulator does, as a node `http`
    /// server does, through this threadsafe function (never called) until
    /// `close()`. `unref()` lets the process exit while it listens, `ref()`
    /// undoes that.
    keep_alive: Mutex<Option<KeepAlive>>,
}

/// A threadsafe function with nothing to call: while referenced, Node's
/// event loop stays alive. Used on the JavaScript thread only; never
/// released on drop (after the environment's teardown it is Node's).
struct KeepAlive(sys::napi_threadsafe_function);
// SAFETY: the handle is only used by the methods JavaScript calls, on its
// thread (and `napi_release_threadsafe_function` may be called from any).
unsafe impl Send for KeepAlive {}

impl KeepAlive {
    fn new(env: &Env) -> Result<KeepAlive> {
        unsafe extern "C" fn never_called(
            _: sys::napi_env,
            _: sys::napi_value,
            _: *mut std::ffi::c_void,
            _: *mut std::ffi::c_void,
        ) {
        }
        let name = unsafe { String::to_napi_value(env.raw(), "wx-cloud-emulator".to_string()) }?;
        let mut raw = std::ptr::null_mut();
        check_status!(unsafe {
            sys::napi_create_threadsafe_function(
                env.raw(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                name,
                0,
                1,
                std::ptr::null_mut(),
                None,
                std::ptr::null_mut(),
                Some(never_called),
                &mut raw,
            )
        })?;
        Ok(KeepAlive(raw))
    }

    /// Keep the process alive (`true`), or not.
    fn set(&self, env: &Env, alive: bool) -> Result<()> {
        check_status!(unsafe {
            match alive {
                true => sys::napi_ref_threadsafe_function(env.raw(), self.0),
                false => sys::napi_unref_threadsafe_function(env.raw(), self.0),
            }
        })
    }

    fn release(self) {
        unsafe {
            sys::napi_release_threadsafe_function(
                self.0,
                sys::ThreadsafeFunctionReleaseMode::release,
            )
        };
    }
}

/// Throw a TypeError (as the JavaScript API does for an argument of the
/// wrong type): the error to return with it.
fn type_error(env: &Env, msg: &str) -> Error {
    match env.throw_type_error(msg, None) {
        Ok(()) => Error::from_status(Status::PendingException),
        Err(e) => e,
    }
}

/// An account id for authorize() and revoke(): a non-empty string.
fn account(env: &Env, method: &str, appid: Unknown) -> Result<String> {
    if appid.get_type()? == ValueType::String {
        let appid: String = unsafe { appid.cast() }?;
        if !appid.is_empty() {
            return Ok(appid);
        }
    }
    Err(type_error(
        env,
        &format!("{method}(appid): appid must be a non-empty string"),
    ))
}

fn to_map(v: &serde_json::Value) -> HashMap<String, i64> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

#[napi]
impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`: the gateway is at `{url}/admin`.
    #[napi(getter, catch_unwind)]
    pub fn url(&self) -> String {
        self.inner.url()
    }

    /// The base URL to use instead of `https://api.weixin.qq.com` in HTTPS mode.
    #[napi(getter, catch_unwind)]
    pub fn https_base_url(&self) -> String {
        self.inner.https_base_url()
    }

    /// The environment variables of a cloud function pointed at this emulator, sorted.
    ///
    /// ```js
    /// spawn('node', ['fn.js'], { env: { PATH: process.env.PATH, ...emu.cloudEnv() } })
    /// ```
    #[napi(catch_unwind)]
    pub fn cloud_env(&self) -> BTreeMap<String, String> {
        self.inner.cloud_env().into_iter().collect()
    }

    /// Every environment created so far (durable ones, with a data file).
    ///
    /// ```js
    /// emu.environments() // [{ env: 'test-a1b2c3', alias: 'test', createTime: 1764200000, status: 'NORMAL', createdVia: 'gateway' }]
    /// ```
    #[napi(catch_unwind)]
    pub fn environments(&self) -> Vec<EmulatorEnvironment> {
        self.inner
            .environments()
            .into_iter()
            .map(|e| EmulatorEnvironment {
                env: e.env,
                alias: e.alias,
                create_time: e.create_time,
                status: e.status,
                created_via: e.created_via,
                account: e.account,
            })
            .collect()
    }

    /// Counters: calls per endpoint, tokens issued, faults fired.
    ///
    /// ```js
    /// emu.stats().calls['gateway:tcb.createenvandresource'] // 3
    /// ```
    #[napi(catch_unwind)]
    pub fn stats(&self) -> EmulatorStats {
        let s = self.inner.stats();
        let n = |k: &str| s[k].as_i64().unwrap_or(0);
        EmulatorStats {
            calls: to_map(&s["calls"]),
            tokens_issued: to_map(&s["tokensIssued"]),
            environments: n("environments"),
            durable_writes: n("durableWrites"),
            faults_fired: n("faultsFired"),
            active_faults: n("activeFaults"),
        }
    }

    /// Inject a fault: an [`EmulatorFaultSpec`] object (camelCase or
    /// snake_case), read as JSON.stringify writes it, a field set to `null`
    /// as not given. Throws on an invalid spec, naming the field.
    ///
    /// ```js
    /// emu.injectFault({ api: 'tcb.createenvandresource', kind: 'drop_after', times: 1 })
    /// emu.injectFault({ kind: 'delay', delayMs: 200 })
    /// ```
    #[napi(catch_unwind)]
    pub fn inject_fault(&self, env: &Env, spec: Unknown) -> Result<()> {
        if spec.get_type()? != ValueType::Object || spec.is_array()? {
            return Err(type_error(env, "injectFault(spec): spec must be an object"));
        }
        let stringify: Function<Unknown, String> = env
            .get_global()?
            .get_named_property::<Object>("JSON")?
            .get_named_property("stringify")?;
        let mut value: serde_json::Value = serde_json::from_str(&stringify.call(spec)?)
            .map_err(|e| Error::from_reason(format!("invalid fault spec: {e}")))?;
        // A field set to null is not given (one that JSON writes as null, NaN, stays wrong).
        let spec: Object = unsafe { spec.cast() }?;
        let is_null = |k: &str| -> Result<bool> {
            Ok(spec.get_named_property::<Unknown>(k)?.get_type()? == ValueType::Null)
        };
        if let Some(fields) = value.as_object_mut() {
            let given: Vec<String> = fields.keys().cloned().collect();
            for k in given {
                if fields[&k].is_null() && is_null(&k)? {
                    fields.remove(&k);
                }
            }
        }
        // Named as the field was given (serde's message lists every field).
        const FIELDS: [&str; 11] = [
            "api",
            "kind",
            "door",
            "errcode",
            "errmsg",
            "delayMs",
            "delay_ms",
            "status",
            "times",
            "probability",
            "seed",
        ];
        if let Some(k) = value
            .as_object()
            .and_then(|m| m.keys().find(|k| !FIELDS.contains(&k.as_str())).cloned())
        {
            return Err(Error::from_reason(format!(
                "injectFault(spec): unknown field {k}"
            )));
        }
        let spec = FaultSpec::from_json(value).map_err(Error::from_reason)?;
        self.inner.inject_fault(spec).map_err(Error::from_reason)
    }

    /// An account authorizes the platform (again): a new refresh token, an
    /// authorization code, and (with `componentEventUrl`) the `authorized`
    /// or `updateauthorized` event pushed before this resolves.
    ///
    /// ```js
    /// const { authorizationCode } = await emu.authorize('wxmerchant0001')
    /// ```
    #[napi(catch_unwind)]
    pub fn authorize<'env>(
        &self,
        env: &'env Env,
        appid: Unknown,
    ) -> Result<PromiseRaw<'env, EmulatorAuthorization>> {
        let (appid, inner) = (account(env, "authorize", appid)?, self.inner.clone());
        env.spawn_future(async move {
            let a = inner.authorize(&appid).await.map_err(Error::from_reason)?;
            Ok(EmulatorAuthorization {
                authorization_code: a.code,
                expires_at: a.expires_at as i64,
                info_type: a.info_type.to_string(),
                pushed: inner.pushes_events() && a.push_error.is_none(),
                push_error: a.push_error,
            })
        })
    }

    /// An account takes its authorization back (and `unauthorized` is
    /// pushed). Resolves `false` when it had not authorized.
    #[napi(catch_unwind)]
    pub fn revoke<'env>(&self, env: &'env Env, appid: Unknown) -> Result<PromiseRaw<'env, bool>> {
        let (appid, inner) = (account(env, "revoke", appid)?, self.inner.clone());
        env.spawn_future(async move { inner.revoke(&appid).await.map_err(Error::from_reason) })
    }

    /// Push a new verify ticket now; resolves to the ticket once the
    /// platform answered `success`.
    #[napi]
    pub async fn push_ticket(&self) -> Result<String> {
        self.inner.push_ticket().await.map_err(Error::from_reason)
    }

    /// The accounts that have authorized the platform, sorted.
    #[napi(catch_unwind)]
    pub fn authorizers(&self) -> Vec<String> {
        self.inner.authorizers()
    }

    /// Remove every fault.
    #[napi(catch_unwind)]
    pub fn clear_faults(&self) {
        self.inner.clear_faults()
    }

    /// Stop listening; requests in flight finish (at most 5 s). Idempotent.
    /// From now on the emulator no longer keeps the process alive.
    ///
    /// ```js
    /// await emu.close()
    /// ```
    #[napi(catch_unwind)]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        if let Some(k) = crate::wire::lock(&self.keep_alive).take() {
            k.release();
        }
        let inner = self.inner.clone();
        env.spawn_future(async move {
            inner.close().await;
            Ok(())
        })
    }

    /// Let the process exit while the emulator listens (as `server.unref()`).
    #[napi(catch_unwind)]
    pub fn unref<'env>(&self, env: &Env, this: This<'env>) -> Result<Object<'env>> {
        if let Some(k) = crate::wire::lock(&self.keep_alive).as_ref() {
            k.set(env, false)?;
        }
        Ok(this.object)
    }

    /// Undo `unref()`: keep the process alive while the emulator listens.
    #[napi(js_name = "ref", catch_unwind)]
    pub fn keep_process_alive<'env>(&self, env: &Env, this: This<'env>) -> Result<Object<'env>> {
        if let Some(k) = crate::wire::lock(&self.keep_alive).as_ref() {
            k.set(env, true)?;
        }
        Ok(this.object)
    }
}

/// Start a local emulator of the cloud-base gateway and of the WeChat HTTPS
/// API (one listener, one state).
///
/// ```js
/// const emu = await startEmulator({ port: 0, dataFile: './envs.json', tokenLifetimeSecs: 60 })
/// emu.url          // 'http://127.0.0.1:41234'
/// emu.cloudEnv()   // { TENCENTCLOUD_RUNENV: 'SCF', TCB_CONTEXT_CNFG: '{"URL":"http://127.0.0.1:41234/admin"}', ... }
/// await emu.close()
/// ```
///
/// `options` is the JSON text of lib/emulator.js's options object: serde
/// reads it (crates/emulator/src/start_options.rs) and names the option at
/// fault; their TypeScript shape is `EmulatorStartOptions` in lib/emulator.d.ts.
#[napi(catch_unwind)]
pub fn start_emulator(env: &Env, options: String) -> Result<PromiseRaw<'_, EmulatorHandle>> {
    let start = async move {
        let opts = crate::emulator::start_options::from_json(&options)
            .map_err(|e| Error::from_reason(format!("startEmulator(options): {e}")))?;
        Emulator::start(opts).await.map_err(Error::from_reason)
    };
    env.spawn_future_with_callback(start, |env, emu| {
        let keep_alive = KeepAlive::new(env)?;
        Ok(EmulatorHandle {
            inner: Arc::new(emu),
            keep_alive: Mutex::new(Some(keep_alive)),
        })
    })
}
