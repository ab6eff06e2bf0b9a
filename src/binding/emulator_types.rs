//! The shapes of the emulator's faults and records, as JavaScript sees
//! them (the options are read with serde: `EmulatorStartOptions` is
//! declared in lib/emulator.d.ts). Compiled with or without the `emulator` feature: the
//! published addon has no emulator (it ships in `wx-cloud-openapi-emulator`),
//! but its generated `binding.d.ts` still declares these shapes, which
//! `lib/emulator.d.ts` gives to TypeScript users of `startEmulator()`.
// Without the emulator nothing constructs them: they exist for their types.
#![cfg_attr(not(feature = "emulator"), allow(dead_code))]

use std::collections::HashMap;

use napi_derive::napi;

/// What `authorize(appid)` did.
#[napi(object)]
pub struct EmulatorAuthorization {
    /// The code `api_query_auth` exchanges (once, within an hour).
    pub authorization_code: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// `authorized`, or `updateauthorized` when the account had authorized before.
    pub info_type: String,
    /// The event reached the platform (false without `componentEventUrl`).
    pub pushed: bool,
    /// Why the event did not reach the platform.
    pub push_error: Option<String>,
}

/// A fault to inject (see `injectFault`). Its type only: the spec crosses
/// as JSON text, read by serde (crates/emulator/src/faults.rs).
#[allow(dead_code)]
#[napi(object)]
pub struct EmulatorFaultSpec {
    /// API name (`tcb.createenvandresource`, `cgi-bin.stable_token`, …) or `*` (default).
    pub api: Option<String>,
    /// `errcode` | `delay` | `drop_before` | `drop_after` | `status` | `malformed` | `truncated`.
    pub kind: String,
    /// `gateway` or `https`; default both.
    pub door: Option<String>,
    /// For `errcode`: the errcode (default -1).
    pub errcode: Option<i64>,
    /// For `errcode`: the errmsg (default `system error`).
    pub errmsg: Option<String>,
    /// For `delay`: milliseconds.
    pub delay_ms: Option<u32>,
    /// For `status`: a 5xx status (default 503).
    pub status: Option<u32>,
    /// Fire on at most this many matching calls.
    pub times: Option<u32>,
    /// Fire with this probability on each matching call.
    pub probability: Option<f64>,
    /// Seed of the probability draws (default 0).
    pub seed: Option<u32>,
}

/// One environment created in the emulator.
#[napi(object)]
pub struct EmulatorEnvironment {
    pub env: String,
    pub alias: String,
    /// Unix seconds.
    pub create_time: i64,
    pub status: String,
    /// `gateway` or `https`.
    pub created_via: String,
    /// The account it belongs to: the appid whose access token (or whose
    /// authorizer's) made the call, or the `appid` a cloud call named with
    /// `openapi({ appid })`; empty for the cloud function's own account.
    pub account: String,
}

/// Counters of an emulator.
#[napi(object)]
pub struct EmulatorStats {
    /// Calls per endpoint, refused ones included: `gateway:{apiName}`
    /// (`gateway:?` when the body names no API), `https:{api}`; third-party
    /// event pushes: `push:{InfoType}`, `push_failed:{InfoType}`.
    pub calls: HashMap<String, i64>,
    /// Tokens issued per kind: `classic`, `stable`, `component`, `authorizer`.
    pub tokens_issued: HashMap<String, i64>,
    /// Environments created.
    pub environments: i64,
    /// Data-file writes (one per group of concurrent creations).
    pub durable_writes: i64,
    /// Calls a fault acted on.
    pub faults_fired: i64,
    /// Faults still active.
    pub active_faults: i64,
}
