//! `init()` options → a validated [`Config`].
//!
//! The JavaScript layer hands the options over as JSON text (after turning
//! `DYNAMIC_CURRENT_ENV` into `{"dynamic":true}`); this module checks every
//! field and names the one that is wrong.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{ApiError, INVALID_PARAM};

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

/// Everything `init()` configured, validated.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub env: EnvChoice,
    pub region: Option<String>,
    pub service_url: Option<String>,
    pub protocol: Option<String>,
    /// Explicit credentials; `None` means: read them from the environment.
    pub credentials: Option<Credentials>,
    /// Partial explicit credentials (only an id or only a key), kept to
    /// report precisely what is missing.
    pub partial_credentials: Option<&'static str>,
    pub timeout: Duration,
    pub debug: bool,
    /// Variables to use instead of the process environment.
    pub process_env: Option<HashMap<String, String>>,
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
            debug: false,
            process_env: None,
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
            .field("debug", &self.debug)
            .field(
                "process_env",
                &self
                    .process_env
                    .as_ref()
                    .map(|m| m.len())
                    .map(|n| format!("{n} vars")),
            )
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

const KNOWN_OPTIONS: &[&str] = &[
    "env",
    "region",
    "serviceUrl",
    "protocol",
    "secretId",
    "secretKey",
    "sessionToken",
    "timeout",
    "debug",
    "processEnv",
];

fn bad(msg: String) -> ApiError {
    ApiError::cloud(INVALID_PARAM, format!("init:fail {msg}"))
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
            if !KNOWN_OPTIONS.contains(&key.as_str())
                && !IGNORED_REFERENCE_OPTIONS.contains(&key.as_str())
            {
                return Err(bad(format!(
                    "unknown option `{key}`; known options: {}",
                    KNOWN_OPTIONS.join(", ")
                )));
            }
        }
        let mut cfg = Config {
            env: parse_env(obj.get("env"))?,
            region: opt_string(obj, "region")?.filter(|r| !r.is_empty()),
            service_url: opt_string(obj, "serviceUrl")?.filter(|u| !u.is_empty()),
            protocol: opt_string(obj, "protocol")?,
            ..Config::default()
        };
        if let Some(url) = &cfg.service_url {
            match url::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => {
                    return Err(bad(
                        "option `serviceUrl` must be an absolute http(s) URL".to_string()
                    ))
                }
            }
        }
        if let Some(p) = &cfg.protocol {
            if p != "http" && p != "https" {
                return Err(bad(format!(
                    "option `protocol` must be \"http\" or \"https\", got \"{p}\""
                )));
            }
        }
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
        match obj.get("timeout") {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) => {
                let ms = n.as_f64().unwrap_or(f64::NAN);
                if !(ms.is_finite() && ms >= 1.0 && ms <= MAX_TIMEOUT_MS as f64) {
                    return Err(bad(format!(
                        "option `timeout` must be a number of milliseconds between 1 and {MAX_TIMEOUT_MS}, got {n}"
                    )));
                }
                cfg.timeout = Duration::from_millis(ms as u64);
            }
            Some(other) => {
                return Err(bad(format!(
                    "option `timeout` must be a number of milliseconds, got {}",
                    type_name(other)
                )))
            }
        }
        match obj.get("debug") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => cfg.debug = *b,
            Some(other) => {
                return Err(bad(format!(
                    "option `debug` must be a boolean, got {}",
                    type_name(other)
                )))
            }
        }
        match obj.get("processEnv") {
            None | Some(Value::Null) => {}
            Some(Value::Object(vars)) => {
                let mut map = HashMap::with_capacity(vars.len());
                for (k, v) in vars {
                    match v {
                        Value::String(s) => {
                            map.insert(k.clone(), s.clone());
                        }
                        Value::Null => {}
                        other => {
                            return Err(bad(format!(
                                "option `processEnv.{k}` must be a string, got {}",
                                type_name(other)
                            )))
                        }
                    }
                }
                cfg.process_env = Some(map);
            }
            Some(other) => {
                return Err(bad(format!(
                    "option `processEnv` must be an object of strings, got {}",
                    type_name(other)
                )))
            }
        }
        Ok(cfg)
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
    fn half_credentials_are_remembered() {
        let cfg = Config::from_json(r#"{"secretId":"id"}"#).unwrap();
        assert_eq!(cfg.partial_credentials, Some("secretKey"));
        assert!(cfg.credentials.is_none());
    }
}
