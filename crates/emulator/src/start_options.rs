//! The emulator's options as JavaScript gives them (`startEmulator(options)`)
//! and as the command line produces them ([`crate::command_line`]): one
//! serde shape, checked once, turned into [`EmulatorOptions`].
//!
//! ```
//! use wx_cloud_emulator::start_options;
//! let o = start_options::from_json(r#"{"port": 0, "tokenLifetimeSecs": 60}"#).unwrap();
//! assert_eq!(o.token_lifetime_secs, 60);
//! let e = start_options::from_json(r#"{"prot": 8080}"#).unwrap_err();
//! assert!(e.starts_with("unknown option prot; the options are host, port,"), "{e}");
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{EmulatorOptions, PushOptions};

/// Options of `startEmulator`; every field is optional (the defaults are
/// [`EmulatorOptions::default`]). The TypeScript declaration of this shape
/// is `EmulatorStartOptions` in lib/emulator.d.ts (a test compares the
/// two lists of names).
///
/// The four numbers are kept as JSON values until [`EmulatorOptions`] is
/// built, so that an out-of-range or mistyped one is reported with its
/// option's name and range (serde's own message names only the type); a
/// string of digits is taken too, as the JavaScript API always did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartOptions {
    pub host: Option<String>,
    pub port: Option<Value>,
    pub data_file: Option<String>,
    pub secret_id: Option<String>,
    pub secret_key: Option<String>,
    pub secret_pairs: Option<Vec<SecretPair>>,
    pub session_token: Option<String>,
    pub app_credentials: Option<Vec<AppCredential>>,
    pub component_credentials: Option<Vec<ComponentCredential>>,
    pub component_verify_ticket: Option<String>,
    pub authorizers: Option<Vec<Authorizer>>,
    pub rotate_refresh_tokens: Option<bool>,
    pub token_lifetime_secs: Option<Value>,
    pub token_grace_secs: Option<Value>,
    pub env_id: Option<String>,
    pub allowed_apis: Option<Vec<String>>,
    pub region: Option<String>,
    pub component_event_url: Option<String>,
    pub component_token: Option<String>,
    pub component_encoding_aes_key: Option<String>,
    pub ticket_interval_ms: Option<Value>,
    pub log_push_failures: Option<bool>,
}

/// A Tencent Cloud secret pair the emulated gateway accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretPair {
    pub secret_id: String,
    pub secret_key: String,
}

/// An app's credentials for `/cgi-bin/token` and `/cgi-bin/stable_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppCredential {
    pub appid: String,
    pub secret: String,
}

/// A third-party platform's credentials for `api_component_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentCredential {
    pub component_appid: String,
    pub component_appsecret: String,
}

/// An account authorized to a third-party platform, with its first refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Authorizer {
    pub authorizer_appid: String,
    pub refresh_token: String,
}

/// A whole number from 0 to `max` (a JSON number or a string of digits),
/// or the message naming `name` (the value is a number or what was given
/// for one, never a secret).
fn whole(name: &str, v: &Value, max: u64) -> Result<u64, String> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    };
    match n {
        Some(n) if n <= max => Ok(n),
        _ => {
            let got = match v {
                Value::String(s) => s.clone(),
                Value::Array(_) => "an array".into(),
                Value::Object(_) => "an object".into(),
                other => other.to_string(),
            };
            Err(format!(
                "{name} must be an integer within 0..{max}, got {got}"
            ))
        }
    }
}

impl TryFrom<StartOptions> for EmulatorOptions {
    type Error = String;

    /// The checks serde's types do not make: ranges, the settings that go
    /// together, a non-empty data file (made absolute, so that a later
    /// `chdir` does not move it).
    fn try_from(o: StartOptions) -> Result<Self, String> {
        let mut opts = EmulatorOptions::default();
        if let Some(v) = o.host {
            opts.host = v;
        }
        if let Some(v) = &o.port {
            opts.port = whole("port", v, 65535)? as u16;
        }
        if let Some(v) = o.data_file {
            if v.is_empty() {
                return Err("dataFile must be a non-empty path".into());
            }
            opts.data_file = Some(std::path::absolute(&v).unwrap_or_else(|_| v.into()));
        }
        let mut pairs = Vec::new();
        match (o.secret_id, o.secret_key) {
            (Some(id), Some(key)) => pairs.push((id, key)),
            (None, None) => {}
            _ => return Err("secretId and secretKey must be given together".into()),
        }
        if let Some(v) = o.secret_pairs {
            pairs.extend(v.into_iter().map(|p| (p.secret_id, p.secret_key)));
        }
        if !pairs.is_empty() {
            opts.secret_pairs = pairs;
        }
        if let Some(v) = o.session_token {
            opts.session_token = v;
        }
        if let Some(v) = o.app_credentials {
            opts.app_credentials = v.into_iter().map(|c| (c.appid, c.secret)).collect();
        }
        if let Some(v) = o.component_credentials {
            opts.component_credentials = v
                .into_iter()
                .map(|c| (c.component_appid, c.component_appsecret))
                .collect();
        }
        opts.component_verify_ticket = o.component_verify_ticket;
        if let Some(v) = o.authorizers {
            opts.authorizers = v
                .into_iter()
                .map(|a| (a.authorizer_appid, a.refresh_token))
                .collect();
        }
        opts.rotate_refresh_tokens = o.rotate_refresh_tokens.unwrap_or(false);
        if let Some(v) = &o.token_lifetime_secs {
            opts.token_lifetime_secs = whole("tokenLifetimeSecs", v, 0xffff_ffff)?;
        }
        if let Some(v) = &o.token_grace_secs {
            opts.token_grace_secs = whole("tokenGraceSecs", v, 0xffff_ffff)?;
        }
        if let Some(v) = &o.ticket_interval_ms {
            opts.ticket_interval =
                Duration::from_millis(whole("ticketIntervalMs", v, 0xffff_ffff)?);
        }
        if let Some(v) = o.log_push_failures {
            opts.log_push_failures = v;
        }
        if let Some(v) = o.env_id {
            opts.env_id = v;
        }
        opts.allowed_apis = o.allowed_apis;
        if let Some(v) = o.region {
            opts.region = v;
        }
        let events = [
            ("componentEventUrl", o.component_event_url.is_some()),
            ("componentToken", o.component_token.is_some()),
            (
                "componentEncodingAesKey",
                o.component_encoding_aes_key.is_some(),
            ),
        ];
        match (
            o.component_event_url,
            o.component_token,
            o.component_encoding_aes_key,
        ) {
            (Some(url), Some(token), Some(encoding_aes_key)) => {
                opts.component_events = Some(PushOptions {
                    url,
                    token,
                    encoding_aes_key,
                })
            }
            (None, None, None) => {}
            _ => {
                let missing: Vec<&str> = events.iter().filter(|e| !e.1).map(|e| e.0).collect();
                let given = events.iter().find(|e| e.1).map_or("", |e| e.0);
                return Err(format!("{} must be given with {given}", missing.join(", ")));
            }
        }
        Ok(opts)
    }
}

/// The kind of value serde found, in JavaScript's words, from its message
/// (`invalid type: string "…", expected …`): the value itself is left out,
/// since it may be a secret.
fn found(serde_message: &str) -> &'static str {
    let what = serde_message.split_once(": ").map_or("", |(_, rest)| {
        rest.split(", expected").next().unwrap_or("")
    });
    let kinds = [
        ("string", "a string"),
        ("integer", "a number"),
        ("floating point", "a number"),
        ("boolean", "a boolean"),
        ("map", "an object"),
        ("sequence", "an array"),
        ("null", "null"),
        ("unit", "null"),
    ];
    kinds
        .iter()
        .find(|(k, _)| what.starts_with(k))
        .map_or("something else", |(_, js)| js)
}

/// serde's message about the option `key`, without the value it quotes.
fn explain(key: &str, value: &Value, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let expected = msg.split_once(", expected ").map(|(_, x)| x);
    match expected {
        Some(x) if msg.starts_with("invalid type") || msg.starts_with("invalid value") => {
            if value.is_array() || value.is_object() {
                format!("{key}: expected {x}, got {}", found(&msg))
            } else {
                format!("{key} must be {x}, got {}", found(&msg))
            }
        }
        // `missing field `x``, `unknown field `x`, expected …`: names only.
        _ => format!("{key}: {msg}"),
    }
}

/// `startEmulator`'s options (JSON text of an object) → the emulator's
/// options, or a message naming the option at fault (and never its value).
pub fn from_json(text: &str) -> Result<EmulatorOptions, String> {
    let value: Value = serde_json::from_str(text).map_err(|_| "options must be an object")?;
    let Value::Object(map) = &value else {
        return Err("options must be an object".into());
    };
    let start = match StartOptions::deserialize(&value) {
        Ok(s) => s,
        Err(e) => {
            // Which option: each alone (they are all optional).
            for (k, v) in map {
                let one = Value::Object([(k.clone(), v.clone())].into_iter().collect());
                if let Err(e) = StartOptions::deserialize(&one) {
                    let msg = e.to_string();
                    if msg.starts_with(&format!("unknown field `{k}`")) {
                        let known: Vec<&str> = msg
                            .split_once("expected one of ")
                            .map_or("", |(_, l)| l)
                            .split(", ")
                            .map(|n| n.trim_matches('`'))
                            .collect();
                        return Err(format!(
                            "unknown option {k}; the options are {}",
                            known.join(", ")
                        ));
                    }
                    return Err(explain(k, v, &e));
                }
            }
            return Err(format!("invalid options: {}", found(&e.to_string())));
        }
    };
    EmulatorOptions::try_from(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        from_json(json).expect_err(json)
    }

    #[test]
    fn every_option_is_taken() {
        let o = from_json(
            r#"{"host":"127.0.0.2","port":"8080","dataFile":"envs.json","secretId":"AKIDa","secretKey":"k",
                "secretPairs":[{"secretId":"AKIDb","secretKey":"k2"}],"sessionToken":"st",
                "appCredentials":[{"appid":"wx1","secret":"s"}],
                "componentCredentials":[{"componentAppid":"wxc","componentAppsecret":"cs"}],
                "componentVerifyTicket":"t","authorizers":[{"authorizerAppid":"wxa","refreshToken":"r"}],
                "rotateRefreshTokens":true,"tokenLifetimeSecs":60,"tokenGraceSecs":0,"envId":"e",
                "allowedApis":["a.b"],"region":"ap-guangzhou","componentEventUrl":"http://127.0.0.1:9/",
                "componentToken":"tok","componentEncodingAesKey":"key","ticketIntervalMs":0}"#,
        )
        .unwrap();
        assert_eq!((o.host.as_str(), o.port), ("127.0.0.2", 8080));
        assert!(o.data_file.as_ref().unwrap().is_absolute());
        assert_eq!(o.secret_pairs.len(), 2);
        assert_eq!(o.secret_pairs[0], ("AKIDa".into(), "k".into()));
        assert_eq!(o.app_credentials, vec![("wx1".into(), "s".into())]);
        assert_eq!(o.component_credentials, vec![("wxc".into(), "cs".into())]);
        assert_eq!(o.authorizers, vec![("wxa".into(), "r".into())]);
        assert!(o.rotate_refresh_tokens);
        assert_eq!((o.token_lifetime_secs, o.token_grace_secs), (60, 0));
        assert_eq!(
            (
                o.env_id.as_str(),
                o.region.as_str(),
                o.session_token.as_str()
            ),
            ("e", "ap-guangzhou", "st")
        );
        assert_eq!(o.allowed_apis, Some(vec!["a.b".to_string()]));
        assert_eq!(o.component_events.unwrap().token, "tok");
        assert!(o.ticket_interval.is_zero());
        assert!(o.log_push_failures);
        let quiet = from_json(r#"{"logPushFailures":false}"#).unwrap();
        assert!(!quiet.log_push_failures);
        // null is "not given", as undefined is.
        let d = from_json(r#"{"port":null,"host":null}"#).unwrap();
        assert_eq!((d.port, d.host.as_str()), (0, "127.0.0.1"));
    }

    #[test]
    fn messages_name_the_option_and_never_its_value() {
        assert!(
            err(r#"{"nope":1}"#).starts_with("unknown option nope; the options are host, port,")
        );
        assert!(err(r#"{"nope":1}"#).ends_with(", ticketIntervalMs, logPushFailures"));
        assert_eq!(err("[1]"), "options must be an object");
        assert_eq!(
            err(r#"{"port":70000}"#),
            "port must be an integer within 0..65535, got 70000"
        );
        assert_eq!(
            err(r#"{"port":-1}"#),
            "port must be an integer within 0..65535, got -1"
        );
        assert_eq!(
            err(r#"{"port":true}"#),
            "port must be an integer within 0..65535, got true"
        );
        assert_eq!(
            err(r#"{"ticketIntervalMs":1.5}"#),
            "ticketIntervalMs must be an integer within 0..4294967295, got 1.5"
        );
        assert_eq!(
            err(r#"{"rotateRefreshTokens":"yes"}"#),
            "rotateRefreshTokens must be a boolean, got a string"
        );
        assert_eq!(
            err(r#"{"dataFile":""}"#),
            "dataFile must be a non-empty path"
        );
        assert_eq!(
            err(r#"{"secretId":"x"}"#),
            "secretId and secretKey must be given together"
        );
        assert_eq!(
            err(r#"{"componentEventUrl":"http://x/"}"#),
            "componentToken, componentEncodingAesKey must be given with componentEventUrl"
        );
        assert_eq!(
            err(r#"{"componentToken":"t"}"#),
            "componentEventUrl, componentEncodingAesKey must be given with componentToken"
        );
        for (json, want) in [
            (r#"{"secretKey":"SECRET-VALUE"}"#, "secretId and secretKey"),
            (
                r#"{"authorizers":"wxa:SECRET-VALUE"}"#,
                "authorizers must be a sequence, got a string",
            ),
            (
                r#"{"appCredentials":[{"appid":"wx1","secret":"SECRET-VALUE","x":1}]}"#,
                "appCredentials: unknown field `x`",
            ),
            (
                r#"{"authorizers":[{"authorizerAppid":"wxa"}]}"#,
                "authorizers: missing field `refreshToken`",
            ),
            (
                r#"{"secretPairs":[{"secretId":"AKID","secretKey":["SECRET-VALUE"]}]}"#,
                "secretPairs: expected a string, got an array",
            ),
        ] {
            let e = err(json);
            assert!(e.starts_with(want), "{json}: {e}");
            assert!(!e.contains("SECRET-VALUE"), "{json}: {e}");
        }
    }
}
