//! `init()` options → a validated [`Config`].
//!
//! The JavaScript layer hands the options over as JSON text (after turning
//! `DYNAMIC_CURRENT_ENV` into `{"dynamic":true}`); this module checks every
//! field and names the one that is wrong.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{ApiError, Wording};
use crate::redact::redact_url_userinfo;

/// Default time a call may take, from start to answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest timeout accepted (one hour).
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// Which cloud environment the calls target.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EnvChoice {
    /// Not given: on SCF the function's own environment, else empty (the
    /// gateway picks the account's first environment).
    #[default]
    Unset,
    /// `DYNAMIC_CURRENT_ENV`: the function's own environment.
    Dynamic,
    /// A fixed environment id.
    Id(String),
}

/// A Tencent Cloud secret pair given to `init()`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The calling mode asked for with `init({ mode })`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    /// The cloud call through the cloud-base gateway.
    Cloud,
    /// `POST https://api.weixin.qq.com/...?access_token=...`.
    Https,
    /// HTTPS with an authorizer access token of a third-party platform.
    ThirdParty,
}

/// Which WeChat endpoint issues the managed access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenKind {
    /// `POST /cgi-bin/stable_token` (default): repeated calls return the same token.
    #[default]
    Stable,
    /// `GET /cgi-bin/token`: every call issues a new token.
    Classic,
}

/// A token given to `init()`: a fixed string, or a JavaScript function that
/// the JavaScript layer calls before each call (and once more when WeChat
/// rejects the token it returned).
#[derive(Clone, PartialEq, Eq)]
pub enum Supplied {
    Value(String),
    Function,
}

impl fmt::Debug for Supplied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Supplied::Value(_) => f.write_str("Value(***)"),
            Supplied::Function => f.write_str("Function"),
        }
    }
}

/// A third-party platform acting for an authorized account, tokens managed
/// by the SDK (`componentAppid` and friends).
#[derive(Clone, PartialEq, Eq)]
pub struct ComponentSettings {
    pub component_appid: String,
    pub component_appsecret: String,
    /// The default authorizer (`openapi({ appid })` picks another).
    pub authorizer_appid: Option<String>,
    /// The default authorizer's refresh token as `init()` was given it
    /// (used when the token store holds none).
    pub authorizer_refresh_token: Option<String>,
}

impl fmt::Debug for ComponentSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentSettings")
            .field("component_appid", &self.component_appid)
            .field("component_appsecret", &"***")
            .field("authorizer_appid", &self.authorizer_appid)
            .field("authorizer_refresh_token", &"***")
            .finish()
    }
}

/// Most retries of a busy answer (`retry.onBusy`).
pub const MAX_ON_BUSY: u32 = 10;

/// The marker the JavaScript layer puts in place of a function option.
pub const FUNCTION_MARKER: &str = "\u{0}function";

/// Everything `init()` configured, validated.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// `env`: the environment the calls act in.
    pub env: EnvChoice,
    /// `region` of the gateway.
    pub region: Option<String>,
    /// `serviceUrl`: the gateway's URL instead of the one the region picks.
    pub service_url: Option<String>,
    /// `protocol` of the gateway URL.
    pub protocol: Option<String>,
    /// Explicit credentials; `None` means: read them from the environment.
    pub credentials: Option<Credentials>,
    /// Partial explicit credentials (only an id or only a key), kept to
    /// report precisely what is missing.
    pub partial_credentials: Option<&'static str>,
    /// `timeout` of each call.
    pub timeout: Duration,
    /// Whether `timeout` was an `init` option (a value equal to the
    /// default included), so `explain` names the source it came from.
    pub timeout_given: bool,
    /// `debug`: print a line per call.
    pub debug: bool,
    /// Variables to use instead of the process environment.
    pub process_env: Option<HashMap<String, String>>,
    /// `mode`: explicit calling mode (else chosen from the credentials).
    pub mode: Option<ModeChoice>,
    /// `appid` + `secret`: HTTPS mode with a managed access token.
    pub appid: Option<String>,
    /// `secret`, the app secret (redacted in Debug).
    pub secret: Option<String>,
    /// `accessToken`: HTTPS mode with a token the caller supplies.
    pub access_token: Option<Supplied>,
    /// `authorizerAccessToken`: third-party mode, token supplied.
    pub authorizer_access_token: Option<Supplied>,
    /// `componentAppid` and friends: third-party mode, tokens managed.
    pub component: Option<ComponentSettings>,
    /// `apiBaseUrl`, without a trailing `/`.
    pub api_base_url: Option<String>,
    /// `proxy`: an HTTP(S) proxy for the HTTPS modes.
    pub proxy: Option<String>,
    /// `tokenKind`.
    pub token_kind: TokenKind,
    /// `retry.onBusy`: how often a busy answer (-1, -1000) is retried.
    pub on_busy: u32,
    /// Not an option: who built this configuration (the Node binding, or
    /// the Rust API's `Client::from_options`), so messages name what that
    /// caller set.
    pub wording: Wording,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            env: EnvChoice::Unset,
            region: None,
            service_url: None,
            protocol: None,
            credentials: None,
            partial_credentials: None,
            timeout: DEFAULT_TIMEOUT,
            timeout_given: false,
            debug: false,
            process_env: None,
            mode: None,
            appid: None,
            secret: None,
            access_token: None,
            authorizer_access_token: None,
            component: None,
            api_base_url: None,
            proxy: None,
            token_kind: TokenKind::Stable,
            on_busy: 0,
            wording: Wording::Node,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("env", &self.env)
            .field("region", &self.region)
            .field("service_url", &self.service_url)
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .field("timeout_given", &self.timeout_given)
            .field("debug", &self.debug)
            .field(
                "process_env",
                &self
                    .process_env
                    .as_ref()
                    .map(|m| m.len())
                    .map(|n| format!("{n} vars")),
            )
            .field("mode", &self.mode)
            .field("appid", &self.appid)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("access_token", &self.access_token)
            .field("authorizer_access_token", &self.authorizer_access_token)
            .field("component", &self.component)
            .field("api_base_url", &self.api_base_url)
            .field(
                "proxy",
                &self.proxy.as_ref().map(|p| redact_url_userinfo(p)),
            )
            .field("token_kind", &self.token_kind)
            .field("on_busy", &self.on_busy)
            .finish()
    }
}

/// Options of wx-server-sdk's `init()` that have no effect on `openapi`
/// calls; accepted (so existing code keeps working) and ignored.
const IGNORED_REFERENCE_OPTIONS: &[&str] = &[
    "traceUser",
    "throwOnNotFound",
    "credentials",
    "isHttp",
    "version",
    "throwOnCode",
    "resourceAppid",
    "resourceEnv",
    "logger",
];

/// How the JavaScript layer hands an `init()` option to the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// A JSON value, as given.
    Value,
    /// A value that may be (or must be) a function: the JavaScript layer
    /// keeps the function and sends [`FUNCTION_MARKER`] in its place.
    Function,
    /// Checked and kept by the JavaScript layer, never sent (the token
    /// `store`: index.js, lib/store.js).
    JavaScriptOnly,
}

/// Every `init()` option the SDK reads, in the order error messages list
/// them: the one list the core checks options against and the JavaScript
/// layer reads (through the addon's `contract()`).
pub const OPTIONS: &[(&str, Takes)] = &[
    ("env", Takes::Value),
    ("region", Takes::Value),
    ("serviceUrl", Takes::Value),
    ("protocol", Takes::Value),
    ("secretId", Takes::Value),
    ("secretKey", Takes::Value),
    ("sessionToken", Takes::Value),
    ("timeout", Takes::Value),
    ("debug", Takes::Value),
    ("processEnv", Takes::Value),
    ("mode", Takes::Value),
    ("appid", Takes::Value),
    ("secret", Takes::Value),
    ("accessToken", Takes::Function),
    ("authorizerAccessToken", Takes::Function),
    ("componentAppid", Takes::Value),
    ("componentAppsecret", Takes::Value),
    ("getComponentVerifyTicket", Takes::Function),
    ("authorizerAppid", Takes::Value),
    ("authorizerRefreshToken", Takes::Value),
    ("onAuthorizerRefreshToken", Takes::Function),
    ("getAuthorizerRefreshToken", Takes::Function),
    ("store", Takes::JavaScriptOnly),
    ("apiBaseUrl", Takes::Value),
    ("proxy", Takes::Value),
    ("tokenKind", Takes::Value),
    ("retry", Takes::Value),
];

/// The options whose value may be a function (see `Takes::Function`).
pub fn function_options() -> impl Iterator<Item = &'static str> {
    OPTIONS
        .iter()
        .filter(|(_, t)| *t == Takes::Function)
        .map(|(name, _)| *name)
}

fn bad(msg: String) -> ApiError {
    ApiError::invalid_param(msg).for_api("init")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(format!(
            "option `{key}` must be a string, got {}",
            type_name(other)
        ))),
    }
}

impl Config {
    /// Parse and validate the JSON text of the options object.
    pub fn from_json(text: &str) -> Result<Config, ApiError> {
        let value: Value = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str(text)
                .map_err(|e| bad(format!("options are not valid JSON ({e})")))?
        };
        Config::from_value(&value)
    }

    /// Validate an options object.
    pub fn from_value(value: &Value) -> Result<Config, ApiError> {
        let obj = match value {
            Value::Null => return Ok(Config::default()),
            Value::Object(o) => o,
            other => {
                return Err(bad(format!(
                    "options must be an object, got {}",
                    type_name(other)
                )))
            }
        };
        for key in obj.keys() {
            if !OPTIONS.iter().any(|(name, _)| name == key)
                && !IGNORED_REFERENCE_OPTIONS.contains(&key.as_str())
            {
                let known: Vec<&str> = OPTIONS.iter().map(|(name, _)| *name).collect();
                return Err(bad(format!(
                    "unknown option `{key}`; known options: {}",
                    known.join(", ")
                )));
            }
        }
        for key in ["region", "secretId", "secretKey"] {
            if let Some(why) = opt_string(obj, key)?.as_deref().and_then(unsendable_token) {
                return Err(bad(format!("option `{key}` {why}")));
            }
        }
        let timeout = opt_millis(obj, "timeout")?;
        let mut cfg = Config {
            env: parse_env(obj.get("env"))?,
            region: opt_string(obj, "region")?.filter(|r| !r.is_empty()),
            service_url: opt_url(obj, "serviceUrl", "an absolute http(s) URL")?,
            protocol: opt_choice(obj, "protocol", &[("http", "http"), ("https", "https")])?
                .map(str::to_string),
            timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
            timeout_given: timeout.is_some(),
            debug: opt_bool(obj, "debug")?.unwrap_or(false),
            process_env: opt_string_map(obj, "processEnv")?,
            ..Config::default()
        };
        let secret_id = opt_string(obj, "secretId")?.filter(|s| !s.is_empty());
        let secret_key = opt_string(obj, "secretKey")?.filter(|s| !s.is_empty());
        let session_token = opt_string(obj, "sessionToken")?;
        match (secret_id, secret_key) {
            (Some(secret_id), Some(secret_key)) => {
                cfg.credentials = Some(Credentials {
                    secret_id,
                    secret_key,
                    session_token,
                })
            }
            (Some(_), None) => cfg.partial_credentials = Some("secretKey"),
            (None, Some(_)) => cfg.partial_credentials = Some("secretId"),
            (None, None) => {}
        }
        parse_https_options(obj, &mut cfg)?;
        Ok(cfg)
    }
}

/// Why `value` cannot be sent as it is in an HTTP header or a host name
/// (`None`: it can): only visible ASCII, no white space, is accepted; a
/// secret file's trailing newline is the usual culprit.
pub fn unsendable_token(value: &str) -> Option<String> {
    let (at, c) = value.char_indices().find(|(_, c)| !c.is_ascii_graphic())?;
    let what = match c {
        '\n' | '\r' => "a line break".to_string(),
        ' ' => "a space".to_string(),
        '\t' => "a tab".to_string(),
        c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
        c => format!("a non-ASCII character (U+{:04X})", c as u32),
    };
    let place = if at + c.len_utf8() == value.len() {
        "at the end (a secret file's trailing newline?)".to_string()
    } else {
        format!("at byte {at}")
    };
    Some(format!(
        "contains {what} {place}, which cannot be sent as it is"
    ))
}

/// Is this value the JavaScript layer's marker for a function?
fn is_function_marker(v: &Value) -> bool {
    matches!(v, Value::Object(o) if o.len() == 1 && o.get(FUNCTION_MARKER) == Some(&Value::Bool(true)))
}

/// A non-empty string option.
fn opt_credential(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        Some(v) if is_function_marker(v) => Err(bad(format!(
            "option `{key}` must be a string, got a function"
        ))),
        _ => match opt_string(obj, key)? {
            Some(s) if s.trim().is_empty() => Err(bad(format!("option `{key}` must not be empty"))),
            other => Ok(other),
        },
    }
}

/// A token option: a non-empty string or a function.
fn opt_supplied(obj: &Map<String, Value>, key: &str) -> Result<Option<Supplied>, ApiError> {
    match obj.get(key) {
        Some(v) if is_function_marker(v) => Ok(Some(Supplied::Function)),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Ok(opt_credential(obj, key)?.map(Supplied::Value))
        }
        Some(other) => Err(bad(format!(
            "option `{key}` must be a string or an async function returning one, got {}",
            type_name(other)
        ))),
    }
}

/// A callback option: a function, or absent.
fn opt_function(obj: &Map<String, Value>, key: &str) -> Result<bool, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(v) if is_function_marker(v) => Ok(true),
        Some(other) => Err(bad(format!(
            "option `{key}` must be a function, got {}",
            type_name(other)
        ))),
    }
}

/// A boolean option.
fn opt_bool(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(bad(format!(
            "option `{key}` must be a boolean, got {}",
            type_name(other)
        ))),
    }
}

/// A duration option in milliseconds, 1 to [`MAX_TIMEOUT_MS`].
fn opt_millis(obj: &Map<String, Value>, key: &str) -> Result<Option<Duration>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let ms = n.as_f64().unwrap_or(f64::NAN);
            if !(ms.is_finite() && ms >= 1.0 && ms <= MAX_TIMEOUT_MS as f64) {
                return Err(bad(format!(
                    "option `{key}` must be a number of milliseconds between 1 and {MAX_TIMEOUT_MS}, got {n}"
                )));
            }
            Ok(Some(Duration::from_millis(ms as u64)))
        }
        Some(other) => Err(bad(format!(
            "option `{key}` must be a number of milliseconds, got {}",
            type_name(other)
        ))),
    }
}

/// A count option (`path` names it in messages): an integer, 0 to `max`.
fn opt_count(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    max: u32,
) -> Result<Option<u32>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(k) if k <= u64::from(max) => Ok(Some(k as u32)),
            _ => Err(bad(format!(
                "option `{path}` must be an integer between 0 and {max}, got {n}"
            ))),
        },
        Some(other) => Err(bad(format!(
            "option `{path}` must be a number, got {}",
            type_name(other)
        ))),
    }
}

/// A string option that must be one of `choices` (text, value).
fn opt_choice<T: Copy>(
    obj: &Map<String, Value>,
    key: &str,
    choices: &[(&str, T)],
) -> Result<Option<T>, ApiError> {
    let Some(text) = opt_string(obj, key)? else {
        return Ok(None);
    };
    if let Some((_, v)) = choices.iter().find(|(t, _)| *t == text) {
        return Ok(Some(*v));
    }
    let quoted: Vec<String> = choices.iter().map(|(t, _)| format!("\"{t}\"")).collect();
    let listed = match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    Err(bad(format!(
        "option `{key}` must be {listed}, got \"{text}\""
    )))
}

/// An object option of strings (`null` values left out).
fn opt_string_map(
    obj: &Map<String, Value>,
    key: &str,
) -> Result<Option<HashMap<String, String>>, ApiError> {
    let vars = match obj.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(vars)) => vars,
        Some(other) => {
            return Err(bad(format!(
                "option `{key}` must be an object of strings, got {}",
                type_name(other)
            )))
        }
    };
    let mut map = HashMap::with_capacity(vars.len());
    for (k, v) in vars {
        match v {
            Value::String(s) => {
                map.insert(k.clone(), s.clone());
            }
            Value::Null => {}
            other => {
                return Err(bad(format!(
                    "option `{key}.{k}` must be a string, got {}",
                    type_name(other)
                )))
            }
        }
    }
    Ok(Some(map))
}

/// An object option whose keys are all in `known` (`example` shows one).
fn opt_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    known: &[&str],
    example: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => match o.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(bad(format!(
                "unknown option `{key}.{k}`; known: {}",
                known.join(", ")
            ))),
            None => Ok(Some(o)),
        },
        Some(other) => Err(bad(format!(
            "option `{key}` must be an object like {example}, got {}",
            type_name(other)
        ))),
    }
}

/// `text` as an http(s) URL with a host, or an error naming option `key`
/// (`what` says what it must be).
fn http_url(key: &str, text: &str, what: &str) -> Result<url::Url, ApiError> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        _ => Err(bad(format!("option `{key}` must be {what}"))),
    }
}

/// An http(s) URL option with a host (`what` describes it in messages).
fn opt_url(obj: &Map<String, Value>, key: &str, what: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = opt_string(obj, key)?.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    http_url(key, &text, what)?;
    Ok(Some(text))
}

/// An absolute http(s) URL option, without a trailing `/`.
fn opt_http_url(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = opt_string(obj, key)?.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let u = http_url(key, &text, "an absolute http(s) URL")?;
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad(format!(
            "option `{key}` must not have a query or fragment"
        )));
    }
    Ok(Some(text.trim_end_matches('/').to_string()))
}

/// The options of the HTTPS and third-party modes.
fn parse_https_options(obj: &Map<String, Value>, cfg: &mut Config) -> Result<(), ApiError> {
    cfg.mode = opt_choice(
        obj,
        "mode",
        &[
            ("cloud", ModeChoice::Cloud),
            ("https", ModeChoice::Https),
            ("thirdparty", ModeChoice::ThirdParty),
        ],
    )?;
    cfg.token_kind = opt_choice(
        obj,
        "tokenKind",
        &[
            ("stable", TokenKind::Stable),
            ("classic", TokenKind::Classic),
        ],
    )?
    .unwrap_or_default();
    cfg.api_base_url = opt_http_url(obj, "apiBaseUrl")?;
    cfg.proxy = opt_url(obj, "proxy", "an http:// or https:// proxy URL")?;
    if let Some(retry) = opt_object(obj, "retry", &["onBusy"], "{ onBusy: 2 }")? {
        cfg.on_busy = opt_count(retry, "onBusy", "retry.onBusy", MAX_ON_BUSY)?.unwrap_or(0);
    }

    cfg.appid = opt_credential(obj, "appid")?;
    cfg.secret = opt_credential(obj, "secret")?;
    cfg.access_token = opt_supplied(obj, "accessToken")?;
    cfg.authorizer_access_token = opt_supplied(obj, "authorizerAccessToken")?;
    match (&cfg.appid, &cfg.secret, &cfg.access_token) {
        (None, Some(_), _) => {
            return Err(bad("option `appid` is required with `secret`".to_string()))
        }
        (Some(_), None, None) => {
            return Err(bad(
                "option `secret` is required with `appid` (or give `accessToken`)".to_string(),
            ))
        }
        _ => {}
    }
    cfg.component = parse_component(obj)?;
    check_mode(cfg)
}

/// `componentAppid` and friends: SDK-managed third-party tokens (`None`:
/// none of them given).
fn parse_component(obj: &Map<String, Value>) -> Result<Option<ComponentSettings>, ApiError> {
    let component_appid = opt_credential(obj, "componentAppid")?;
    let component_appsecret = opt_credential(obj, "componentAppsecret")?;
    let authorizer_appid = opt_credential(obj, "authorizerAppid")?;
    let authorizer_refresh_token = opt_credential(obj, "authorizerRefreshToken")?;
    // Checked for their type; the JavaScript layer calls them.
    let has_ticket_fn = opt_function(obj, "getComponentVerifyTicket")?;
    let has_refresh_cb = opt_function(obj, "onAuthorizerRefreshToken")?;
    let has_refresh_fn = opt_function(obj, "getAuthorizerRefreshToken")?;
    let extras = [
        ("getComponentVerifyTicket", has_ticket_fn),
        ("authorizerAppid", authorizer_appid.is_some()),
        ("authorizerRefreshToken", authorizer_refresh_token.is_some()),
        ("onAuthorizerRefreshToken", has_refresh_cb),
        ("getAuthorizerRefreshToken", has_refresh_fn),
    ];
    match (component_appid, component_appsecret) {
        (Some(component_appid), Some(component_appsecret)) => {
            if authorizer_refresh_token.is_some() && authorizer_appid.is_none() {
                return Err(bad(
                    "option `authorizerAppid` is required with `authorizerRefreshToken` \
                     (whose refresh token it is)"
                        .to_string(),
                ));
            }
            Ok(Some(ComponentSettings {
                component_appid,
                component_appsecret,
                authorizer_appid,
                authorizer_refresh_token,
            }))
        }
        (a, s) => {
            let first = [
                ("componentAppid", a.is_some()),
                ("componentAppsecret", s.is_some()),
            ]
            .into_iter()
            .chain(extras)
            .find(|(_, g)| *g)
            .map(|(n, _)| n);
            if let Some(first) = first {
                let missing = if a.is_none() {
                    "componentAppid"
                } else {
                    "componentAppsecret"
                };
                return Err(bad(format!(
                    "option `{missing}` is required with `{first}` (SDK-managed third-party tokens \
                     need componentAppid and componentAppsecret)"
                )));
            }
            Ok(None)
        }
    }
}

/// Credentials of both HTTPS and third-party kinds need `mode`; `mode:
/// "thirdparty"` needs third-party credentials.
fn check_mode(cfg: &Config) -> Result<(), ApiError> {
    let https_given = cfg.access_token.is_some() || cfg.appid.is_some();
    let third_given = cfg.authorizer_access_token.is_some() || cfg.component.is_some();
    match cfg.mode {
        None if https_given && third_given => Err(bad(
            "both HTTPS credentials (`appid`/`secret` or `accessToken`) and third-party credentials \
             (`authorizerAccessToken` or `componentAppid`...) were given; set option `mode` to \
             \"https\" or \"thirdparty\""
                .to_string(),
        )),
        Some(ModeChoice::ThirdParty) if !third_given => Err(bad(
            "option `mode` is \"thirdparty\" but neither `authorizerAccessToken` nor \
             `componentAppid` and `componentAppsecret` were given"
                .to_string(),
        )),
        _ => Ok(()),
    }
}

fn parse_env(v: Option<&Value>) -> Result<EnvChoice, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(EnvChoice::Unset),
        Some(Value::String(s)) if s.is_empty() => Ok(EnvChoice::Unset),
        Some(Value::String(s)) => Ok(EnvChoice::Id(s.clone())),
        Some(Value::Object(o)) if o.get("dynamic") == Some(&Value::Bool(true)) => {
            Ok(EnvChoice::Dynamic)
        }
        Some(Value::Object(o)) => match o.get("default") {
            Some(inner @ (Value::String(_) | Value::Object(_) | Value::Null)) => {
                parse_env(Some(inner))
            }
            None => Ok(EnvChoice::Unset),
            Some(other) => Err(bad(format!(
                "option `env.default` must be a string or DYNAMIC_CURRENT_ENV, got {}",
                type_name(other)
            ))),
        },
        Some(other) => Err(bad(format!(
            "option `env` must be a string, an object with `default`, or DYNAMIC_CURRENT_ENV, got {}",
            type_name(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::INVALID_PARAM;

    #[test]
    fn parses_every_option() {
        let cfg = Config::from_json(
            r#"{"env":{"default":"e1","database":"x"},"region":"ap-shanghai","serviceUrl":"http://127.0.0.1:1/admin",
                "secretId":"id","secretKey":"key","sessionToken":"tok","timeout":2500,"debug":true,"traceUser":true,
                "processEnv":{"A":"1"}}"#,
        )
        .unwrap();
        assert_eq!(cfg.env, EnvChoice::Id("e1".into()));
        assert_eq!(cfg.region.as_deref(), Some("ap-shanghai"));
        assert_eq!(cfg.timeout, Duration::from_millis(2500));
        assert!(cfg.debug);
        assert_eq!(cfg.credentials.as_ref().unwrap().secret_key, "key");
        assert_eq!(cfg.process_env.unwrap()["A"], "1");
    }

    #[test]
    fn dynamic_env_marker() {
        assert_eq!(
            Config::from_json(r#"{"env":{"dynamic":true}}"#)
                .unwrap()
                .env,
            EnvChoice::Dynamic
        );
        assert_eq!(
            Config::from_json(r#"{"env":{"default":{"dynamic":true}}}"#)
                .unwrap()
                .env,
            EnvChoice::Dynamic
        );
    }

    #[test]
    fn bad_options_name_the_parameter() {
        for (json, needle) in [
            (r#"{"timeout":-5}"#, "`timeout`"),
            (r#"{"timeout":1e12}"#, "`timeout`"),
            (r#"{"timeout":"5"}"#, "`timeout`"),
            (r#"{"env":5}"#, "`env`"),
            (r#"{"serviceUrl":"not a url"}"#, "`serviceUrl`"),
            (r#"{"region":true}"#, "`region`"),
            (r#"{"tmeout":5}"#, "`tmeout`"),
            (r#"{"processEnv":{"X":1}}"#, "`processEnv.X`"),
            (r#"[1]"#, "must be an object"),
        ] {
            let err = Config::from_json(json).unwrap_err();
            assert!(err.err_msg.contains(needle), "{json}: {}", err.err_msg);
            assert_eq!(err.err_code, INVALID_PARAM);
        }
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let cfg = Config::from_json(
            r#"{"secretId":"id","secretKey":"SUPERSECRET","sessionToken":"TOKENVALUE"}"#,
        )
        .unwrap();
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("SUPERSECRET") && !shown.contains("TOKENVALUE"),
            "{shown}"
        );
    }

    #[test]
    fn https_and_thirdparty_options() {
        let f = r#"{"\u0000function":true}"#;
        let cfg = Config::from_json(&format!(
            r#"{{"mode":"https","appid":"wx1","secret":"S","apiBaseUrl":"http://127.0.0.1:9/","proxy":"http://u:p@127.0.0.1:8",
                "tokenKind":"classic","retry":{{"onBusy":3}},"accessToken":{f}}}"#
        ))
        .unwrap();
        assert_eq!(cfg.mode, Some(ModeChoice::Https));
        assert_eq!(cfg.api_base_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(cfg.token_kind, TokenKind::Classic);
        assert_eq!(cfg.on_busy, 3);
        assert_eq!(cfg.access_token, Some(Supplied::Function));
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("\"S\"") && !shown.contains("u:p"),
            "{shown}"
        );

        let cfg = Config::from_json(&format!(
            r#"{{"componentAppid":"c","componentAppsecret":"cs","getComponentVerifyTicket":{f},
                "authorizerAppid":"a","authorizerRefreshToken":"R0","onAuthorizerRefreshToken":{f}}}"#
        ))
        .unwrap();
        assert_eq!(
            cfg.component.as_ref().unwrap().authorizer_refresh_token,
            Some("R0".to_string())
        );
        assert!(!format!("{cfg:?}").contains("R0"));
    }

    #[test]
    fn bad_https_options_name_the_parameter() {
        let f = r#"{"\u0000function":true}"#;
        for (json, needle) in [
            (r#"{"mode":"http"}"#.to_string(), "`mode`"),
            (r#"{"tokenKind":"x"}"#.to_string(), "`tokenKind`"),
            (r#"{"apiBaseUrl":"ftp://x"}"#.to_string(), "`apiBaseUrl`"),
            (r#"{"proxy":"socks5://x:1"}"#.to_string(), "`proxy`"),
            (r#"{"retry":{"onBusy":-1}}"#.to_string(), "`retry.onBusy`"),
            (r#"{"retry":{"onbusy":1}}"#.to_string(), "`retry.onbusy`"),
            (r#"{"retry":3}"#.to_string(), "`retry`"),
            (r#"{"secret":"s"}"#.to_string(), "`appid`"),
            (r#"{"appid":"wx"}"#.to_string(), "`secret`"),
            (r#"{"appid":"wx","secret":""}"#.to_string(), "`secret`"),
            (r#"{"accessToken":5}"#.to_string(), "`accessToken`"),
            (format!(r#"{{"appid":{f},"secret":"s"}}"#), "`appid`"),
            (
                r#"{"getComponentVerifyTicket":"x"}"#.to_string(),
                "`getComponentVerifyTicket`",
            ),
            (
                r#"{"componentAppid":"c"}"#.to_string(),
                "`componentAppsecret`",
            ),
            (
                format!(r#"{{"getAuthorizerRefreshToken":{f}}}"#),
                "`componentAppid` is required with `getAuthorizerRefreshToken`",
            ),
            (
                r#"{"componentAppid":"c","componentAppsecret":"s","authorizerRefreshToken":"r"}"#
                    .to_string(),
                "`authorizerAppid`",
            ),
            (r#"{"mode":"thirdparty"}"#.to_string(), "`mode`"),
            (
                r#"{"accessToken":"t","authorizerAccessToken":"a"}"#.to_string(),
                "`mode`",
            ),
        ] {
            let err = Config::from_json(&json).unwrap_err();
            assert!(err.err_msg.contains(needle), "{json}: {}", err.err_msg);
            assert_eq!(err.err_code, INVALID_PARAM);
        }
    }

    #[test]
    fn choices_and_counts_say_what_is_accepted() {
        for (json, msg) in [
            (
                r#"{"mode":"http"}"#,
                r#"init:fail option `mode` must be "cloud", "https" or "thirdparty", got "http""#,
            ),
            (
                r#"{"tokenKind":"x"}"#,
                r#"init:fail option `tokenKind` must be "stable" or "classic", got "x""#,
            ),
            (
                r#"{"protocol":"ftp"}"#,
                r#"init:fail option `protocol` must be "http" or "https", got "ftp""#,
            ),
            (
                r#"{"retry":{"onBusy":11}}"#,
                "init:fail option `retry.onBusy` must be an integer between 0 and 10, got 11",
            ),
            (
                r#"{"retry":{"onBusy":"2"}}"#,
                "init:fail option `retry.onBusy` must be a number, got a string",
            ),
            (
                r#"{"retry":[]}"#,
                "init:fail option `retry` must be an object like { onBusy: 2 }, got an array",
            ),
            (
                r#"{"debug":1}"#,
                "init:fail option `debug` must be a boolean, got a number",
            ),
            (
                r#"{"processEnv":"A=1"}"#,
                "init:fail option `processEnv` must be an object of strings, got a string",
            ),
        ] {
            assert_eq!(Config::from_json(json).unwrap_err().err_msg, msg, "{json}");
        }
        assert_eq!(
            Config::from_json(r#"{"protocol":"http","retry":{"onBusy":10}}"#)
                .unwrap()
                .on_busy,
            10
        );
    }

    #[test]
    fn the_function_options_are_those_that_take_a_function() {
        let f = r#"{"\u0000function":true}"#;
        let names: Vec<&str> = function_options().collect();
        assert!(names.contains(&"accessToken") && names.contains(&"getComponentVerifyTicket"));
        for (name, takes) in OPTIONS {
            let err = Config::from_json(&format!(r#"{{"{name}":{f}}}"#))
                .err()
                .map(|e| e.err_msg)
                .unwrap_or_default();
            let refused = err.contains(&format!("`{name}` must be"));
            if *takes == Takes::Function {
                assert!(!refused, "{name}: {err}");
            } else if !["env", "store", "processEnv", "retry"].contains(name) {
                // Options of strings, numbers and booleans refuse the marker.
                assert!(refused, "{name}: {err}");
            }
        }
    }

    #[test]
    fn values_that_cannot_be_sent_as_they_are_name_the_option() {
        for (json, needle) in [
            (r#"{"region":"ap-shanghai\r\n"}"#, "`region`"),
            (r#"{"region":"ap shanghai"}"#, "`region`"),
            (r#"{"secretId":"AKIDx\n","secretKey":"k"}"#, "`secretId`"),
            (r#"{"secretId":"AKID x","secretKey":"k"}"#, "`secretId`"),
        ] {
            let err = Config::from_json(json).unwrap_err();
            assert_eq!(err.err_code, INVALID_PARAM, "{json}");
            assert!(err.err_msg.contains(needle), "{json}: {}", err.err_msg);
        }
        assert!(Config::from_json(
            r#"{"region":"ap-shanghai","secretId":"AKIDx","secretKey":"k"}"#
        )
        .is_ok());
    }

    #[test]
    fn half_credentials_are_remembered() {
        let cfg = Config::from_json(r#"{"secretId":"id"}"#).unwrap();
        assert_eq!(cfg.partial_credentials, Some("secretKey"));
        assert!(cfg.credentials.is_none());
    }
}
