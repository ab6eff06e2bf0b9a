//! `init()` options → a validated [`Config`].
//!
//! [`Config`] is the options object itself: serde reads it (camelCase keys,
//! unknown keys refused), each field's type (or its `deserialize_with`
//! reader) checks its value, and [`Config::validate`] checks the options
//! together. Every message names the option at fault: a field's reader says
//! what is wrong ("must be a string, got a number") and [`bad_option`] puts
//! the option's path in front ("option `retry.onBusy` …").
//!
//! Adding an option: its field below with its `///` doc, its row in
//! README's table and in `index.d.ts`, and its use. `__test__/docs.test.js`
//! checks that the three name the same options.
//!
//! The JavaScript layer hands the options over as JSON text (after turning
//! `DYNAMIC_CURRENT_ENV` into `{"dynamic":true}`), with the names of the
//! options whose value is a function beside it ([`Config::from_js`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{ApiError, Wording};
use crate::redact::redact_url_userinfo;

/// Default time a call may take, from start to answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest timeout accepted (one hour).
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;
/// Most retries of a busy answer (`retry.onBusy`).
pub const MAX_ON_BUSY: u32 = 10;

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

/// Everything `init()` configured, validated: one field per option (serde
/// reads them by their camelCase names), then what [`Config::validate`]
/// derives from several of them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Config {
    /// `env`: the cloud environment of the calls.
    pub env: EnvChoice,
    /// `region`: the gateway's region (`ap-shanghai`, …).
    #[serde(deserialize_with = "sendable")]
    pub region: Option<String>,
    /// `serviceUrl`: the gateway URL to use instead of the platform's.
    #[serde(deserialize_with = "service_url")]
    pub service_url: Option<HttpUrl>,
    /// `protocol`: `http` or `https`, the scheme of the built gateway URL.
    #[serde(deserialize_with = "protocol")]
    pub protocol: Option<String>,
    /// `secretId`: the Tencent Cloud secret id the cloud call is signed with.
    #[serde(deserialize_with = "sendable")]
    pub secret_id: Option<String>,
    /// `secretKey`: its key.
    #[serde(deserialize_with = "sendable")]
    pub secret_key: Option<Secret>,
    /// `sessionToken`: its session token (temporary credentials).
    #[serde(deserialize_with = "text")]
    pub session_token: Option<Secret>,
    /// `timeout`: how long a call may take, from start to answer (see
    /// [`Config::timeout`]; `None`: [`DEFAULT_TIMEOUT`]).
    pub timeout: Option<Millis>,
    /// `debug`: one redacted line per call on stderr.
    #[serde(deserialize_with = "boolean")]
    pub debug: bool,
    /// `processEnv`: variables to use instead of the process environment.
    pub process_env: Option<EnvVars>,
    /// `mode`: explicit calling mode (else chosen from the credentials).
    pub mode: Option<ModeChoice>,
    /// `appid` (with `secret`): HTTPS mode with a managed access token.
    #[serde(deserialize_with = "credential")]
    pub appid: Option<String>,
    /// `secret`: the app secret of `appid`.
    #[serde(deserialize_with = "credential")]
    pub secret: Option<Secret>,
    /// `accessToken`: HTTPS mode with a token the caller supplies.
    pub access_token: Option<Supplied>,
    /// `authorizerAccessToken`: third-party mode, the authorizer's token supplied.
    pub authorizer_access_token: Option<Supplied>,
    /// `componentAppid`: third-party mode with tokens managed by the SDK
    /// (with `componentAppsecret`; see [`Config::component`]).
    #[serde(deserialize_with = "credential")]
    pub component_appid: Option<String>,
    /// `componentAppsecret`: the platform's secret.
    #[serde(deserialize_with = "credential")]
    pub component_appsecret: Option<Secret>,
    /// `getComponentVerifyTicket`: a function (called by the JavaScript layer)
    /// returning the latest verify ticket.
    pub get_component_verify_ticket: Option<Callback>,
    /// `authorizerAppid`: the default authorizer (`openapi({ appid })` picks another).
    #[serde(deserialize_with = "credential")]
    pub authorizer_appid: Option<String>,
    /// `authorizerRefreshToken`: the default authorizer's refresh token,
    /// used when the token store holds none.
    #[serde(deserialize_with = "credential")]
    pub authorizer_refresh_token: Option<Secret>,
    /// `onAuthorizerRefreshToken`: a function told each rotated refresh token.
    pub on_authorizer_refresh_token: Option<Callback>,
    /// `getAuthorizerRefreshToken`: a function returning an authorizer's
    /// refresh token when the store has none.
    pub get_authorizer_refresh_token: Option<Callback>,
    /// `store`: where the managed third-party tokens live. Checked and kept
    /// by the JavaScript layer (lib/store.js), which never sends it; a Rust
    /// program uses [`crate::Client::with_token_store`].
    pub store: JavaScriptOnly,
    /// `apiBaseUrl`: the WeChat API host of the HTTPS modes, without a trailing `/`.
    #[serde(deserialize_with = "api_base_url")]
    pub api_base_url: Option<HttpUrl>,
    /// `proxy`: an HTTP(S) proxy for the HTTPS modes.
    #[serde(deserialize_with = "proxy")]
    pub proxy: Option<HttpUrl>,
    /// `tokenKind`: which WeChat endpoint issues the managed access token.
    pub token_kind: TokenKind,
    /// `retry`: what is retried.
    #[serde(deserialize_with = "retry")]
    pub retry: Retry,

    /// `secretId` + `secretKey` (+ `sessionToken`); `None` means: read them
    /// from the environment.
    #[serde(skip)]
    pub credentials: Option<Credentials>,
    /// Only one of `secretId` and `secretKey` was given: the missing one,
    /// kept to report precisely what is missing.
    #[serde(skip)]
    pub partial_credentials: Option<&'static str>,
    /// `componentAppid` and friends, together: third-party mode, tokens managed.
    #[serde(skip)]
    pub component: Option<ComponentSettings>,
    /// Not an option: who built this configuration (the Node binding, or
    /// the Rust API's `Client::from_options`), so messages name what that
    /// caller set.
    #[serde(skip)]
    pub wording: Wording,
}

/// `retry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Retry {
    /// `retry.onBusy`: how often a busy answer (-1, -1000) is retried, 0 to
    /// [`MAX_ON_BUSY`].
    #[serde(deserialize_with = "on_busy")]
    pub on_busy: u32,
}

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: Secret,
    pub session_token: Option<Secret>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Supplied {
    Value(Secret),
    Function,
}

/// A function option given to `init()` (the JavaScript layer calls it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Callback;

/// An option only the JavaScript layer reads (`store`): accepted, never kept here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JavaScriptOnly;

/// A third-party platform acting for an authorized account, tokens managed
/// by the SDK (`componentAppid` and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentSettings {
    pub component_appid: String,
    pub component_appsecret: Secret,
    /// The default authorizer (`openapi({ appid })` picks another).
    pub authorizer_appid: Option<String>,
    /// The default authorizer's refresh token as `init()` was given it
    /// (used when the token store holds none).
    pub authorizer_refresh_token: Option<Secret>,
}

/// A secret option (a key, a token): `Debug` shows `***`, the text is
/// reached with [`ExposeSecret::expose_secret`], and zeroed on drop.
#[derive(Clone)]
pub struct Secret(SecretString);

impl ExposeSecret<str> for Secret {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s.into())
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.into())
    }
}

/// A duration option in milliseconds, 1 to [`MAX_TIMEOUT_MS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub Duration);

/// An absolute http(s) URL with a host, as given (its `Debug` hides a
/// `user:password@`).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl std::ops::Deref for HttpUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&redact_url_userinfo(&self.0), f)
    }
}

/// `processEnv`: variables by name (`Debug` shows only how many: values
/// can be secrets).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct EnvVars(pub HashMap<String, String>);

impl std::ops::Deref for EnvVars {
    type Target = HashMap<String, String>;
    fn deref(&self) -> &HashMap<String, String> {
        &self.0
    }
}

impl fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} vars", self.0.len())
    }
}

impl Config {
    /// Parse and validate the JSON text of the options object.
    pub fn from_json(text: &str) -> Result<Config, ApiError> {
        Config::from_js(text, &[])
    }

    /// Validate an options object.
    pub fn from_value(value: &Value) -> Result<Config, ApiError> {
        Config::read(value.clone())
    }

    /// The options as the JavaScript layer sends them: the JSON text of the
    /// options that are not functions, and the names of those that are (a
    /// function given to an option that takes none is left out, as
    /// wx-server-sdk's `logger` may be one).
    pub fn from_js(text: &str, functions: &[String]) -> Result<Config, ApiError> {
        let mut value: Value = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            js_json(text).map_err(bad)?
        };
        if let Value::Object(options) = &mut value {
            for name in functions {
                let alone = Value::Object(Map::from_iter([(name.clone(), function())]));
                if Config::deserialize(alone).is_ok() {
                    options.insert(name.clone(), function());
                }
            }
        }
        Config::read(value)
    }

    fn read(value: Value) -> Result<Config, ApiError> {
        let mut options = match value {
            Value::Null => return Ok(Config::default()),
            Value::Object(o) => o,
            other => {
                return Err(bad(format!(
                    "options must be an object, got {}",
                    type_name(&other)
                )))
            }
        };
        options.retain(|k, _| !IGNORED_REFERENCE_OPTIONS.contains(&k.as_str()));
        // Read in the order of the fields, an unknown option first: which
        // problem is named does not depend on the order of the keys.
        let mut entries: Vec<(String, Value)> = options.into_iter().collect();
        entries.sort_by_key(|(k, _)| Config::options().iter().position(|o| o == k));
        let options: Map<String, Value> = entries.into_iter().collect();
        let cfg: Config = serde_path_to_error::deserialize(Value::Object(options))
            .map_err(|e| bad(bad_option(&e, "", Config::options())))?;
        cfg.validate()
    }

    /// Every option a [`Config`] reads, in the order of its fields (the
    /// ignored options of wx-server-sdk aside).
    pub fn options() -> &'static [String] {
        static NAMES: OnceLock<Vec<String>> = OnceLock::new();
        NAMES.get_or_init(fields_of::<Config>)
    }

    /// How long a call may take ([`DEFAULT_TIMEOUT`] unless `timeout` was given).
    pub fn timeout(&self) -> Duration {
        self.timeout.map_or(DEFAULT_TIMEOUT, |t| t.0)
    }

    /// The checks of several options together; fills in [`Config::credentials`],
    /// [`Config::partial_credentials`] and [`Config::component`].
    pub fn validate(mut self) -> Result<Config, ApiError> {
        match (&self.secret_id, &self.secret_key) {
            (Some(secret_id), Some(secret_key)) => {
                self.credentials = Some(Credentials {
                    secret_id: secret_id.clone(),
                    secret_key: secret_key.clone(),
                    session_token: self.session_token.clone(),
                })
            }
            (Some(_), None) => self.partial_credentials = Some("secretKey"),
            (None, Some(_)) => self.partial_credentials = Some("secretId"),
            (None, None) => {}
        }
        match (&self.appid, &self.secret, &self.access_token) {
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
        self.component = self.component_settings()?;
        self.check_mode()?;
        Ok(self)
    }

    /// `componentAppid` and friends: SDK-managed third-party tokens (`None`:
    /// none of them given).
    fn component_settings(&self) -> Result<Option<ComponentSettings>, ApiError> {
        match (&self.component_appid, &self.component_appsecret) {
            (Some(component_appid), Some(component_appsecret)) => {
                if self.authorizer_refresh_token.is_some() && self.authorizer_appid.is_none() {
                    return Err(bad(
                        "option `authorizerAppid` is required with `authorizerRefreshToken` \
                         (whose refresh token it is)"
                            .to_string(),
                    ));
                }
                Ok(Some(ComponentSettings {
                    component_appid: component_appid.clone(),
                    component_appsecret: component_appsecret.clone(),
                    authorizer_appid: self.authorizer_appid.clone(),
                    authorizer_refresh_token: self.authorizer_refresh_token.clone(),
                }))
            }
            (a, s) => {
                let first = [
                    ("componentAppid", a.is_some()),
                    ("componentAppsecret", s.is_some()),
                    (
                        "getComponentVerifyTicket",
                        self.get_component_verify_ticket.is_some(),
                    ),
                    ("authorizerAppid", self.authorizer_appid.is_some()),
                    (
                        "authorizerRefreshToken",
                        self.authorizer_refresh_token.is_some(),
                    ),
                    (
                        "onAuthorizerRefreshToken",
                        self.on_authorizer_refresh_token.is_some(),
                    ),
                    (
                        "getAuthorizerRefreshToken",
                        self.get_authorizer_refresh_token.is_some(),
                    ),
                ]
                .into_iter()
                .find(|(_, given)| *given)
                .map(|(n, _)| n);
                if let Some(first) = first {
                    let missing = if a.is_none() {
                        "componentAppid"
                    } else {
                        "componentAppsecret"
                    };
                    return Err(bad(format!(
                        "option `{missing}` is required with `{first}` (SDK-managed third-party \
                         tokens need componentAppid and componentAppsecret)"
                    )));
                }
                Ok(None)
            }
        }
    }

    /// Credentials of both HTTPS and third-party kinds need `mode`; `mode:
    /// "thirdparty"` needs third-party credentials.
    fn check_mode(&self) -> Result<(), ApiError> {
        let https_given = self.access_token.is_some() || self.appid.is_some();
        let third_given = self.authorizer_access_token.is_some() || self.component.is_some();
        match self.mode {
            None if https_given && third_given => Err(bad(
                "both HTTPS credentials (`appid`/`secret` or `accessToken`) and third-party \
                 credentials (`authorizerAccessToken` or `componentAppid`...) were given; set \
                 option `mode` to \"https\" or \"thirdparty\""
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
}

fn bad(msg: String) -> ApiError {
    ApiError::invalid_param(msg).for_api("init")
}

/// The message of a serde error about the options: "option `{path}` " and
/// what the field's reader said (a reader that names the option itself, as
/// `env` and `processEnv` do for what is inside them, is taken as it is),
/// or the unknown option and the `known` ones. `prefix`: the path of the
/// object read (`""`: the options themselves).
fn bad_option(
    e: &serde_path_to_error::Error<serde_json::Error>,
    prefix: &str,
    known: &[String],
) -> String {
    let mut path = prefix.to_string();
    for segment in e.path().iter() {
        if !path.is_empty() {
            path.push('.');
        }
        match segment {
            serde_path_to_error::Segment::Map { key } => path.push_str(key),
            _ => path.push('?'),
        }
    }
    let said = e.inner().to_string();
    if said.starts_with("option `") || said.starts_with("unknown option `") {
        said
    } else if said.starts_with("unknown field `") {
        let known = known.join(", ");
        match prefix {
            "" => format!("unknown option `{path}`; known options: {known}"),
            _ => format!("unknown option `{path}`; known: {known}"),
        }
    } else {
        format!("option `{path}` {said}")
    }
}

/// The options `T` reads: the names serde lists when it meets an unknown one.
fn fields_of<T: de::DeserializeOwned>() -> Vec<String> {
    let unknown = Value::Object(Map::from_iter([("\u{0}".to_string(), Value::Null)]));
    let said = match T::deserialize(unknown) {
        Ok(_) => return Vec::new(),
        Err(e) => e.to_string(),
    };
    // "unknown field `\0`, expected one of `a`, `b`" (or "expected `a`").
    let listed = said.split_once("expected").map_or("", |(_, l)| l);
    listed
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// How a function option reaches the fields: the stand-in [`Config::from_js`]
/// puts in place of each function the JavaScript layer names.
const FUNCTION_KEY: &str = "\u{0}function";

fn function() -> Value {
    Value::Object(Map::from_iter([(
        FUNCTION_KEY.to_string(),
        Value::Bool(true),
    )]))
}

fn is_function(v: &Value) -> bool {
    matches!(v, Value::Object(o) if o.len() == 1 && o.get(FUNCTION_KEY) == Some(&Value::Bool(true)))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        _ if is_function(v) => "a function",
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A field's value read by `check` (null: not given, `None`); `check`'s
/// error says what is wrong with it.
fn read<'de, D, T>(
    d: D,
    check: impl FnOnce(Value) -> Result<Option<T>, String>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<Value>::deserialize(d)? {
        None => Ok(None),
        Some(v) => check(v).map_err(de::Error::custom),
    }
}

fn string(v: Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(format!("must be a string, got {}", type_name(&other))),
    }
}

/// A string (`sessionToken`).
fn text<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> Result<Option<T>, D::Error> {
    read(d, |v| Ok(Some(string(v)?.into())))
}

/// A string sent as it is in a header or a host name (`""`: not given).
fn sendable<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> Result<Option<T>, D::Error> {
    read(d, |v| {
        let s = string(v)?;
        match unsendable_token(&s) {
            Some(why) => Err(why),
            None => Ok((!s.is_empty()).then(|| s.into())),
        }
    })
}

/// A non-empty string (an id, a secret).
fn credential<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> Result<Option<T>, D::Error> {
    read(d, |v| match string(v)? {
        s if s.trim().is_empty() => Err("must not be empty".to_string()),
        s => Ok(Some(s.into())),
    })
}

fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(read(d, |v| match v {
        Value::Bool(b) => Ok(Some(b)),
        other => Err(format!("must be a boolean, got {}", type_name(&other))),
    })?
    .unwrap_or(false))
}

/// A string that must be one of `choices` (text, value).
fn one_of<T: Copy>(v: Value, choices: &[(&str, T)]) -> Result<Option<T>, String> {
    let text = string(v)?;
    if let Some((_, v)) = choices.iter().find(|(t, _)| *t == text) {
        return Ok(Some(*v));
    }
    let quoted: Vec<String> = choices.iter().map(|(t, _)| format!("\"{t}\"")).collect();
    let listed = match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    Err(format!("must be {listed}, got \"{text}\""))
}

fn protocol<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    read(d, |v| {
        Ok(one_of(v, &[("http", "http"), ("https", "https")])?.map(str::to_string))
    })
}

impl<'de> Deserialize<'de> for ModeChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let choices = [
            ("cloud", ModeChoice::Cloud),
            ("https", ModeChoice::Https),
            ("thirdparty", ModeChoice::ThirdParty),
        ];
        read(d, |v| one_of(v, &choices))?
            .ok_or_else(|| de::Error::custom("must be a string, got null"))
    }
}

impl<'de> Deserialize<'de> for TokenKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let choices = [
            ("stable", TokenKind::Stable),
            ("classic", TokenKind::Classic),
        ];
        Ok(read(d, |v| one_of(v, &choices))?.unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => {
                let ms = n.as_f64().unwrap_or(f64::NAN);
                if !(ms.is_finite() && ms >= 1.0 && ms <= MAX_TIMEOUT_MS as f64) {
                    return Err(de::Error::custom(format!(
                        "must be a number of milliseconds between 1 and {MAX_TIMEOUT_MS}, got {n}"
                    )));
                }
                Ok(Millis(Duration::from_millis(ms as u64)))
            }
            other => Err(de::Error::custom(format!(
                "must be a number of milliseconds, got {}",
                type_name(&other)
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Supplied {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            v if is_function(&v) => Ok(Supplied::Function),
            Value::String(s) if s.trim().is_empty() => Err(de::Error::custom("must not be empty")),
            Value::String(s) => Ok(Supplied::Value(s.into())),
            other => Err(de::Error::custom(format!(
                "must be a string or an async function returning one, got {}",
                type_name(&other)
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Callback {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            v if is_function(&v) => Ok(Callback),
            other => Err(de::Error::custom(format!(
                "must be a function, got {}",
                type_name(&other)
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for JavaScriptOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de::IgnoredAny::deserialize(d).map(|_| JavaScriptOnly)
    }
}

/// `text` as an http(s) URL with a host, or what it must be (`what`).
fn http_url(text: &str, what: &str) -> Result<url::Url, String> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        _ => Err(format!("must be {what}")),
    }
}

/// An http(s) URL option (`""`: not given).
fn url_option(v: Value, what: &str) -> Result<Option<HttpUrl>, String> {
    let text = string(v)?;
    if text.is_empty() {
        return Ok(None);
    }
    http_url(&text, what)?;
    Ok(Some(HttpUrl(text)))
}

fn service_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HttpUrl>, D::Error> {
    read(d, |v| url_option(v, "an absolute http(s) URL"))
}

fn proxy<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HttpUrl>, D::Error> {
    read(d, |v| url_option(v, "an http:// or https:// proxy URL"))
}

/// An absolute http(s) URL without a query or fragment, kept without a trailing `/`.
fn api_base_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HttpUrl>, D::Error> {
    read(d, |v| {
        let Some(url) = url_option(v, "an absolute http(s) URL")? else {
            return Ok(None);
        };
        let parsed = http_url(&url, "")?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err("must not have a query or fragment".to_string());
        }
        Ok(Some(HttpUrl(url.trim_end_matches('/').to_string())))
    })
}

impl<'de> Deserialize<'de> for EnvChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_env(&Value::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// `env`: an id, `{ default }` (`default` again an id, `{ default }` or
/// `{ dynamic: true }`), or `{ dynamic: true }` (`DYNAMIC_CURRENT_ENV`).
fn parse_env(v: &Value) -> Result<EnvChoice, String> {
    match v {
        Value::Null => Ok(EnvChoice::Unset),
        Value::String(s) if s.is_empty() => Ok(EnvChoice::Unset),
        Value::String(s) => Ok(EnvChoice::Id(s.clone())),
        Value::Object(o) if o.get("dynamic") == Some(&Value::Bool(true)) => Ok(EnvChoice::Dynamic),
        Value::Object(o) => match o.get("default") {
            Some(inner @ (Value::String(_) | Value::Object(_) | Value::Null)) => parse_env(inner),
            None => Ok(EnvChoice::Unset),
            Some(other) => Err(format!(
                "option `env.default` must be a string or DYNAMIC_CURRENT_ENV, got {}",
                type_name(other)
            )),
        },
        other => Err(format!(
            "option `env` must be a string, an object with `default`, or DYNAMIC_CURRENT_ENV, got {}",
            type_name(other)
        )),
    }
}

impl<'de> Deserialize<'de> for EnvVars {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let vars = match Value::deserialize(d)? {
            Value::Object(vars) => vars,
            other => {
                return Err(de::Error::custom(format!(
                    "must be an object of strings, got {}",
                    type_name(&other)
                )))
            }
        };
        let mut map = HashMap::with_capacity(vars.len());
        for (k, v) in vars {
            match v {
                Value::String(s) => {
                    map.insert(k, s);
                }
                Value::Null => {}
                other => {
                    return Err(de::Error::custom(format!(
                        "option `processEnv.{k}` must be a string, got {}",
                        type_name(&other)
                    )))
                }
            }
        }
        Ok(EnvVars(map))
    }
}

/// `retry`: an object of [`Retry`]'s options (what is wrong inside is named
/// by its path, `retry.onBusy`).
fn retry<'de, D: Deserializer<'de>>(d: D) -> Result<Retry, D::Error> {
    Ok(read(d, |v| match v {
        Value::Object(_) => serde_path_to_error::deserialize(v)
            .map(Some)
            .map_err(|e| bad_option(&e, "retry", &fields_of::<Retry>())),
        other => Err(format!(
            "must be an object like {{ onBusy: 2 }}, got {}",
            type_name(&other)
        )),
    })?
    .unwrap_or_default())
}

/// A count, 0 to [`MAX_ON_BUSY`].
fn on_busy<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(read(d, |v| match v {
        Value::Number(n) => match n.as_u64() {
            Some(k) if k <= u64::from(MAX_ON_BUSY) => Ok(Some(k as u32)),
            _ => Err(format!(
                "must be an integer between 0 and {MAX_ON_BUSY}, got {n}"
            )),
        },
        other => Err(format!("must be a number, got {}", type_name(&other))),
    })?
    .unwrap_or(0))
}

/// The JSON text of options from JavaScript. `JSON.stringify` writes a
/// lone surrogate as an escape (`\ud800`), which serde_json refuses, so a
/// text holding one is refused naming the option that holds it, as
/// JavaScript spells its path: `processEnv.X`, `env.default`, `processEnv
/// (a key)`.
pub fn js_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| {
        lone_surrogate(text).unwrap_or_else(|| format!("options are not valid JSON ({e})"))
    })
}

fn lone_surrogate(text: &str) -> Option<String> {
    let (masked, Some(stand_in)) = crate::lone_surrogates::mask_lone_surrogates(text) else {
        return None;
    };
    // The stand-in is followed by the surrogate's four hex digits.
    let code = |s: &str| {
        let at = s.find(stand_in)? + stand_in.len_utf8();
        Some(s.get(at..at + 4)?.to_uppercase())
    };
    fn find(
        name: &str,
        v: &Value,
        code: &dyn Fn(&str) -> Option<String>,
    ) -> Option<(String, String)> {
        match v {
            Value::String(s) => code(s).map(|c| (name.to_string(), c)),
            Value::Array(items) => (items.iter().enumerate())
                .find_map(|(i, item)| find(&format!("{name}.{i}"), item, code)),
            Value::Object(o) => o.iter().find_map(|(k, item)| match code(k) {
                Some(c) => Some((format!("{name} (a key)"), c)),
                None => find(&format!("{name}.{k}"), item, code),
            }),
            _ => None,
        }
    }
    let Ok(Value::Object(options)) = serde_json::from_str(&masked) else {
        return None;
    };
    let (name, c) = options.iter().find_map(|(k, v)| match code(k) {
        Some(c) => Some(("an option's name".to_string(), c)),
        None => find(k, v, &code).map(|(path, c)| (format!("option `{path}`"), c)),
    })?;
    Some(format!(
        "{name} contains a lone surrogate (U+{c}), which cannot be sent"
    ))
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
        assert_eq!(cfg.timeout(), Duration::from_millis(2500));
        assert!(cfg.debug);
        assert_eq!(cfg.credentials.as_ref().unwrap().secret_key, "key".into());
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
        let cfg = Config::from_js(
            r#"{"mode":"https","appid":"wx1","secret":"S","apiBaseUrl":"http://127.0.0.1:9/","proxy":"http://u:p@127.0.0.1:8",
                "tokenKind":"classic","retry":{"onBusy":3}}"#,
            &functions(&["accessToken"]),
        )
        .unwrap();
        assert_eq!(cfg.mode, Some(ModeChoice::Https));
        assert_eq!(cfg.api_base_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(cfg.token_kind, TokenKind::Classic);
        assert_eq!(cfg.retry.on_busy, 3);
        assert_eq!(cfg.access_token, Some(Supplied::Function));
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("\"S\"") && !shown.contains("u:p"),
            "{shown}"
        );

        let cfg = Config::from_js(
            r#"{"componentAppid":"c","componentAppsecret":"cs",
                "authorizerAppid":"a","authorizerRefreshToken":"R0"}"#,
            &functions(&["getComponentVerifyTicket", "onAuthorizerRefreshToken"]),
        )
        .unwrap();
        assert_eq!(
            cfg.component.as_ref().unwrap().authorizer_refresh_token,
            Some("R0".into())
        );
        assert_eq!(cfg.get_component_verify_ticket, Some(Callback));
        assert!(!format!("{cfg:?}").contains("R0"));
    }

    #[test]
    fn bad_https_options_name_the_parameter() {
        for (json, needle) in [
            (r#"{"mode":"http"}"#.to_string(), "`mode`"),
            (r#"{"tokenKind":"x"}"#.to_string(), "`tokenKind`"),
            (r#"{"apiBaseUrl":"ftp://x"}"#.to_string(), "`apiBaseUrl`"),
            // Host names are ASCII only (Cargo.toml: idna_adapter 1.0).
            (
                "{\"apiBaseUrl\":\"https://\u{4f8b}\u{3048}.test\"}".to_string(),
                "`apiBaseUrl`",
            ),
            (r#"{"proxy":"socks5://x:1"}"#.to_string(), "`proxy`"),
            (r#"{"retry":{"onBusy":-1}}"#.to_string(), "`retry.onBusy`"),
            (r#"{"retry":{"onbusy":1}}"#.to_string(), "`retry.onbusy`"),
            (r#"{"retry":3}"#.to_string(), "`retry`"),
            (r#"{"secret":"s"}"#.to_string(), "`appid`"),
            (r#"{"appid":"wx"}"#.to_string(), "`secret`"),
            (r#"{"appid":"wx","secret":""}"#.to_string(), "`secret`"),
            (r#"{"accessToken":5}"#.to_string(), "`accessToken`"),
            (
                r#"{"getComponentVerifyTicket":"x"}"#.to_string(),
                "`getComponentVerifyTicket`",
            ),
            (
                r#"{"componentAppid":"c"}"#.to_string(),
                "`componentAppsecret`",
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
                .retry
                .on_busy,
            10
        );
    }

    fn functions(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_function_reaches_the_options_that_take_one_and_no_other() {
        let takes = [
            "accessToken",
            "authorizerAccessToken",
            "getComponentVerifyTicket",
            "onAuthorizerRefreshToken",
            "getAuthorizerRefreshToken",
        ];
        for name in Config::options() {
            let got = Config::from_js("{}", &functions(&[name]));
            match name.as_str() {
                "accessToken" | "authorizerAccessToken" => {
                    let cfg = got.unwrap();
                    assert!(
                        [&cfg.access_token, &cfg.authorizer_access_token]
                            .contains(&&Some(Supplied::Function)),
                        "{name}"
                    )
                }
                // Taken as a function: the checks of the options together see it.
                _ if takes.contains(&name.as_str()) => {
                    let e = got.unwrap_err().err_msg;
                    assert!(
                        e.contains(&format!("required with `{name}`")),
                        "{name}: {e}"
                    );
                }
                // Left out, as if not given (wx-server-sdk's `logger` may be a function).
                _ => assert_eq!(got.unwrap(), Config::default(), "{name}"),
            }
        }
        assert_eq!(
            Config::from_js(r#"{"accessToken":"t"}"#, &functions(&["logger", "tmeout"]))
                .unwrap()
                .access_token,
            Some(Supplied::Value("t".into()))
        );
        let cfg = Config::from_js("{}", &functions(&["accessToken"])).unwrap();
        assert_eq!(cfg.access_token, Some(Supplied::Function));
        for (name, msg) in [
            ("getComponentVerifyTicket", "init:fail option `getComponentVerifyTicket` must be a function, got a string"),
            ("accessToken", "init:fail option `accessToken` must be a string or an async function returning one, got a number"),
        ] {
            let value = if name == "accessToken" { "5" } else { r#""x""# };
            let json = format!(r#"{{"{name}":{value}}}"#);
            assert_eq!(Config::from_json(&json).unwrap_err().err_msg, msg);
        }
    }

    #[test]
    fn unknown_options_are_named_with_the_known_ones() {
        let known = Config::options().join(", ");
        assert!(
            known.starts_with("env, region, serviceUrl,") && known.ends_with("tokenKind, retry"),
            "{known}"
        );
        assert!(
            known.contains("store")
                && !known.contains("traceUser")
                && !known.contains("credentials")
        );
        assert_eq!(
            Config::from_json(r#"{"timeout":1000,"unexpected":1}"#)
                .unwrap_err()
                .err_msg,
            format!("init:fail unknown option `unexpected`; known options: {known}")
        );
        assert_eq!(
            Config::from_json(r#"{"retry":{"onbusy":1}}"#)
                .unwrap_err()
                .err_msg,
            "init:fail unknown option `retry.onbusy`; known: onBusy"
        );
        assert_eq!(
            Config::from_json(r#"{"processEnv":{"A":"1","B":2}}"#)
                .unwrap_err()
                .err_msg,
            "init:fail option `processEnv.B` must be a string, got a number"
        );
        assert_eq!(
            Config::from_json(r#"{"env":{"default":5}}"#)
                .unwrap_err()
                .err_msg,
            "init:fail option `env.default` must be a string or DYNAMIC_CURRENT_ENV, got a number"
        );
        assert_eq!(
            Config::from_json(r#"{"timeout":3600001}"#).unwrap_err().err_msg,
            "init:fail option `timeout` must be a number of milliseconds between 1 and 3600000, got 3600001"
        );
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
    fn a_lone_surrogate_is_named_by_the_option_holding_it() {
        let said = |text: &str| Config::from_json(text).unwrap_err().err_msg;
        assert_eq!(
            said(r#"{"region":"ap-\ud800"}"#),
            "init:fail option `region` contains a lone surrogate (U+D800), which cannot be sent"
        );
        assert_eq!(
            said(r#"{"env":{"default":"\udc00e"}}"#),
            "init:fail option `env.default` contains a lone surrogate (U+DC00), which cannot be sent"
        );
        assert_eq!(
            said(r#"{"processEnv":{"A":"ok","B\udbff":"x"}}"#),
            "init:fail option `processEnv (a key)` contains a lone surrogate (U+DBFF), which cannot be sent"
        );
        assert_eq!(
            said(r#"{"x\ud800":1}"#),
            "init:fail an option's name contains a lone surrogate (U+D800), which cannot be sent"
        );
        // A proper pair is a character like any other.
        assert!(Config::from_json(r#"{"region":"\ud83d\ude00"}"#)
            .is_err_and(|e| !e.err_msg.contains("surrogate")));
    }

    #[test]
    fn half_credentials_are_remembered() {
        let cfg = Config::from_json(r#"{"secretId":"id"}"#).unwrap();
        assert_eq!(cfg.partial_credentials, Some("secretKey"));
        assert!(cfg.credentials.is_none());
    }
}
