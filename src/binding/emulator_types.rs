//! The shapes of the emulator's options, faults and records, as JavaScript
//! sees them. Compiled with or without the `emulator` feature: the
//! published addon has no emulator (it ships in `wx-cloud-openapi-emulator`),
//! but its generated `binding.d.ts` still declares these shapes, which
//! `lib/emulator.d.ts` gives to TypeScript users of `startEmulator()`.
// Without the emulator nothing constructs them: they exist for their types.
#![cfg_attr(not(feature = "emulator"), allow(dead_code))]

use std::collections::HashMap;

use napi_derive::napi;

/// A Tencent Cloud secret pair the emulated gateway accepts.
#[napi(object)]
pub struct EmulatorSecretPair {
    pub secret_id: String,
    pub secret_key: String,
}

/// An app's credentials for `/cgi-bin/token` and `/cgi-bin/stable_token`.
#[napi(object)]
pub struct EmulatorAppCredential {
    pub appid: String,
    pub secret: String,
}

/// A third-party platform's credentials for `api_component_token`.
#[napi(object)]
pub struct EmulatorComponentCredential {
    pub component_appid: String,
    pub component_appsecret: String,
}

/// An account authorized to a third-party platform, with its first refresh token.
#[napi(object)]
pub struct EmulatorAuthorizer {
    pub authorizer_appid: String,
    pub refresh_token: String,
}

/// Options of `startEmulator`. Every field is optional.
#[napi(object)]
pub struct EmulatorStartOptions {
    /// IP address to listen on. Default `127.0.0.1`.
    pub host: Option<String>,
    /// Port; 0 (default) picks a free one.
    pub port: Option<u32>,
    /// JSON file of environments: loaded at start, and every environment is
    /// written durably before its creation is answered.
    pub data_file: Option<String>,
    /// Shorthand for one secret pair (with `secretKey`).
    pub secret_id: Option<String>,
    /// Shorthand for one secret pair (with `secretId`).
    pub secret_key: Option<String>,
    /// Secret pairs the gateway accepts (after `secretId`/`secretKey` if given).
    pub secret_pairs: Option<Vec<EmulatorSecretPair>>,
    /// Session token handed out in `cloudEnv()`.
    pub session_token: Option<String>,
    /// Apps accepted by the token endpoints.
    pub app_credentials: Option<Vec<EmulatorAppCredential>>,
    /// Third-party platforms accepted by `api_component_token`.
    pub component_credentials: Option<Vec<EmulatorComponentCredential>>,
    /// The accepted `component_verify_ticket` (default: any non-empty one).
    pub component_verify_ticket: Option<String>,
    /// Authorized accounts and their first refresh tokens.
    pub authorizers: Option<Vec<EmulatorAuthorizer>>,
    /// Replace the authorizer refresh token on every `api_authorizer_token`
    /// and refuse the old one. Default `false`: it stays the same until the
    /// authorizer is authorized again, as WeChat documents.
    pub rotate_refresh_tokens: Option<bool>,
    /// Lifetime of issued tokens in seconds. Default 7200.
    pub token_lifetime_secs: Option<u32>,
    /// How long a replaced token stays valid, seconds. Default 300.
    pub token_grace_secs: Option<u32>,
    /// The emulated function's environment id. Default `emulator-env`.
    pub env_id: Option<String>,
    /// Only these API names may be called through the gateway (-604101 otherwise).
    pub allowed_apis: Option<Vec<String>>,
    /// The function's region. Default `ap-shanghai`.
    pub region: Option<String>,
    /// The third-party platform's event URL: the emulator pushes encrypted
    /// verify tickets and authorization events there (for the first of
    /// `componentCredentials`), and `api_component_token` then accepts only
    /// a pushed ticket (or `componentVerifyTicket`).
    pub component_event_url: Option<String>,
    /// The platform's message-check token (required with `componentEventUrl`).
    pub component_token: Option<String>,
    /// The platform's 43-character EncodingAESKey (required with `componentEventUrl`).
    pub component_encoding_aes_key: Option<String>,
    /// A new ticket is pushed at start and then every this many ms
    /// (default 600000, WeChat's 10 minutes); 0: only on `pushTicket()`.
    pub ticket_interval_ms: Option<u32>,
}

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

/// A fault to inject (see `injectFault`).
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
