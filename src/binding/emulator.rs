//! The napi layer of the local emulator: options in, a handle out.
//! Everything here converts; the emulator itself lives in `crate::emulator`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use napi::bindgen_prelude::*;
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

/// A running emulator.
///
/// ```js
/// const { startEmulator } = require('wx-cloud-openapi')
/// const emu = await startEmulator()
/// Object.assign(process.env, emu.cloudEnv()) // a cloud function's environment
/// // ... cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'test' })
/// console.log(emu.environments())
/// await emu.close()
/// ```
#[napi]
pub struct EmulatorHandle {
    inner: Arc<Emulator>,
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

    /// Inject a fault (the JSON text of an [`EmulatorFaultSpec`], camelCase
    /// or snake_case). Throws on an invalid spec, naming the field.
    ///
    /// ```js
    /// emu.injectFault(JSON.stringify({ api: 'tcb.createenvandresource', kind: 'drop_after', times: 1 }))
    /// emu.injectFault(JSON.stringify({ kind: 'delay', delayMs: 200 }))
    /// ```
    #[napi(catch_unwind)]
    pub fn inject_fault(&self, spec_json: String) -> Result<()> {
        let value: serde_json::Value = serde_json::from_str(&spec_json)
            .map_err(|e| Error::from_reason(format!("invalid fault spec: {e}")))?;
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
    #[napi]
    pub async fn authorize(&self, appid: String) -> Result<EmulatorAuthorization> {
        let a = self
            .inner
            .authorize(&appid)
            .await
            .map_err(Error::from_reason)?;
        Ok(EmulatorAuthorization {
            authorization_code: a.code,
            expires_at: a.expires_at as i64,
            info_type: a.info_type.to_string(),
            pushed: self.inner.pushes_events() && a.push_error.is_none(),
            push_error: a.push_error,
        })
    }

    /// An account takes its authorization back (and `unauthorized` is
    /// pushed). Resolves `false` when it had not authorized.
    #[napi]
    pub async fn revoke(&self, appid: String) -> Result<bool> {
        self.inner.revoke(&appid).await.map_err(Error::from_reason)
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
    ///
    /// ```js
    /// await emu.close()
    /// ```
    #[napi]
    pub async fn close(&self) -> Result<()> {
        self.inner.close().await;
        Ok(())
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
#[napi]
pub async fn start_emulator(options: String) -> Result<EmulatorHandle> {
    let opts = crate::emulator::start_options::from_json(&options)
        .map_err(|e| Error::from_reason(format!("startEmulator(options): {e}")))?;
    let emu = Emulator::start(opts).await.map_err(Error::from_reason)?;
    Ok(EmulatorHandle {
        inner: Arc::new(emu),
    })
}
