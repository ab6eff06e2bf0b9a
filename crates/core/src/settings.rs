//! Resolved settings that carry their source.
//!
//! A call's settings come from an `init()` option, an environment variable
//! or a default of the runtime. The functions here (and the resolvers of
//! the credentials, [`crate::cloud::request::sourced_credentials`] and
//! [`crate::https::sourced_base_url`]) decide each value once and say where
//! it came from: a call uses the value, and [`crate::mode::explain`] shows
//! the same value with its source, so the two cannot disagree.

use std::fmt;
use std::time::Duration;

use crate::env::Context;
use crate::options::{Config, EnvChoice};
use crate::redact::redact_url_userinfo;

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `init()` options: the names of the fields read, in order (a secret
    /// pair names both halves).
    Init(&'static [&'static str]),
    /// Environment variables: the names of the fields read, in order.
    Env(&'static [&'static str]),
    /// A default, or a value the runtime gives: in words.
    Runtime(&'static str),
}

impl Source {
    /// The source of the `i`th field (the last one past the end): `init
    /// option secret`, `env WX_APPSECRET`, or the words of a runtime default.
    pub fn of(&self, i: usize) -> String {
        fn field(names: &[&'static str], i: usize) -> &'static str {
            names.get(i).or(names.last()).copied().unwrap_or("")
        }
        match self {
            Source::Init(names) => format!("init option {}", field(names, i)),
            Source::Env(names) => format!("env {}", field(names, i)),
            Source::Runtime(words) => (*words).to_string(),
        }
    }
}

/// The source of the (first) field.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.of(0))
    }
}

/// A resolved value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: Source) -> Self {
        Sourced { value, source }
    }
}

/// The environment id a cloud call targets.
pub fn env_id(cfg: &Config, ctx: &Context) -> Sourced<String> {
    match &cfg.env {
        EnvChoice::Id(id) => Sourced::new(id.clone(), Source::Init(&["env"])),
        EnvChoice::Dynamic => Sourced::new(
            current_env(ctx),
            Source::Runtime("DYNAMIC_CURRENT_ENV: env TCB_ENV or SCF_NAMESPACE"),
        ),
        EnvChoice::Unset if ctx.is_scf() => Sourced::new(
            current_env(ctx),
            Source::Runtime("default on SCF: the function's own (env TCB_ENV or SCF_NAMESPACE)"),
        ),
        EnvChoice::Unset => Sourced::new(
            String::new(),
            Source::Runtime("default: none (the gateway picks the account's first)"),
        ),
    }
}

/// The gateway URL given to a cloud call (`None`: built from the
/// environment id, region and runtime). An unreadable `TCB_CONTEXT_CNFG`
/// is passed over here; [`crate::cloud::endpoint::check_environment`]
/// rejects it.
pub fn service_url(cfg: &Config, ctx: &Context) -> Sourced<Option<String>> {
    if let Some(url) = &cfg.service_url {
        return Sourced::new(Some(url.to_string()), Source::Init(&["serviceUrl"]));
    }
    match injected_url(ctx).ok().flatten() {
        Some(url) => Sourced::new(
            Some(url.to_string()),
            Source::Runtime("env TCB_CONTEXT_CNFG (URL)"),
        ),
        None => Sourced::new(None, Source::Runtime("built from env, region and runtime")),
    }
}

/// The region of a cloud call, when known.
pub fn region(cfg: &Config, ctx: &Context) -> Option<Sourced<String>> {
    match &cfg.region {
        Some(r) => Some(Sourced::new(r.clone(), Source::Init(&["region"]))),
        None => ctx
            .non_empty("TENCENTCLOUD_REGION")
            .map(|r| Sourced::new(r.to_string(), Source::Env(&["TENCENTCLOUD_REGION"]))),
    }
}

/// The time a call may take.
pub fn timeout(cfg: &Config) -> Sourced<Duration> {
    let source = if cfg.timeout.is_some() {
        Source::Init(&["timeout"])
    } else {
        Source::Runtime("default")
    };
    Sourced::new(cfg.timeout(), source)
}

/// Whether a call logs its debug line.
pub fn debug(cfg: &Config, ctx: &Context) -> Sourced<bool> {
    if cfg.debug {
        Sourced::new(true, Source::Init(&["debug"]))
    } else if ctx.debug_enabled() {
        Sourced::new(true, Source::Env(&["DEBUG"]))
    } else {
        Sourced::new(false, Source::Runtime("default"))
    }
}

/// The function's own environment: `TCB_ENV || SCF_NAMESPACE`.
pub fn current_env(ctx: &Context) -> String {
    ctx.non_empty("TCB_ENV")
        .or_else(|| ctx.non_empty("SCF_NAMESPACE"))
        .unwrap_or("")
        .to_string()
}

/// The `URL` field of `TCB_CONTEXT_CNFG`: `Ok(None)` when the variable is
/// unset, empty, or JSON without a `URL` (or with an empty one);
/// `Err(why)` when it cannot be read: not a JSON object (the shell's
/// unquoted `{URL:http://…}`, a bare URL), a `url` key in another case, or
/// a `URL` that is not an absolute http(s) URL. Never silently ignored: the
/// call would go to the production gateway instead. Read once per
/// snapshot of the environment (every call of a client reads it).
pub fn injected_url(ctx: &Context) -> Result<Option<&str>, &str> {
    match ctx.injected_url.get_or_init(|| read_injected_url(ctx)) {
        Ok(url) => Ok(url.as_deref()),
        Err(why) => Err(why),
    }
}

fn read_injected_url(ctx: &Context) -> Result<Option<String>, String> {
    let Some(raw) = ctx.non_empty("TCB_CONTEXT_CNFG") else {
        return Ok(None);
    };
    let expected = r#"expected JSON like {"URL":"http://host:port/admin"}"#;
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(raw) else {
        return Err(format!("is not a JSON object ({expected})"));
    };
    if let Some(key) = obj
        .keys()
        .find(|k| k.eq_ignore_ascii_case("url") && *k != "URL")
    {
        return Err(format!("has a key `{key}`; the key is `URL` ({expected})"));
    }
    match obj.get("URL") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(u)) if u.is_empty() => Ok(None),
        Some(serde_json::Value::String(u)) => match url::Url::parse(u) {
            Ok(parsed)
                if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() =>
            {
                Ok(Some(u.clone()))
            }
            _ => Err(format!(
                "has a `URL` that is not an absolute http(s) URL ({})",
                redact_url_userinfo(u)
            )),
        },
        Some(_) => Err(format!("has a `URL` that is not a string ({expected})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_as_explain_shows_them() {
        let pair = Source::Env(&["WX_APPID", "WX_APPSECRET"]);
        assert_eq!(pair.to_string(), "env WX_APPID");
        assert_eq!(pair.of(1), "env WX_APPSECRET");
        assert_eq!(Source::Init(&["timeout"]).of(3), "init option timeout");
        assert_eq!(Source::Runtime("default").of(1), "default");
    }

    #[test]
    fn init_options_beat_the_environment() {
        let ctx = Context::from_pairs([
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TCB_ENV", "own"),
            ("DEBUG", "wx-cloud-openapi"),
            ("TCB_CONTEXT_CNFG", r#"{"URL":"http://127.0.0.1:9/admin"}"#),
        ]);
        let given = Config::from_json(
            r#"{"region":"ap-shanghai","env":"e1","debug":true,"serviceUrl":"http://127.0.0.1:8/admin"}"#,
        )
        .unwrap();
        assert_eq!(
            region(&given, &ctx).unwrap().source,
            Source::Init(&["region"])
        );
        assert_eq!(env_id(&given, &ctx).value, "e1");
        assert_eq!(debug(&given, &ctx).source, Source::Init(&["debug"]));
        assert_eq!(
            service_url(&given, &ctx).value.as_deref(),
            Some("http://127.0.0.1:8/admin")
        );
        let none = Config::default();
        let r = region(&none, &ctx).unwrap();
        assert_eq!(
            (r.value.as_str(), r.source.to_string()),
            ("ap-guangzhou", "env TENCENTCLOUD_REGION".into())
        );
        assert_eq!(env_id(&none, &ctx).value, "own");
        assert_eq!(debug(&none, &ctx).source.to_string(), "env DEBUG");
        assert_eq!(
            service_url(&none, &ctx).source.to_string(),
            "env TCB_CONTEXT_CNFG (URL)"
        );
        assert_eq!(timeout(&none).source.to_string(), "default");
        // A timeout given equal to the default is still the init option's.
        let same = Config::from_json(r#"{"timeout":15000}"#).unwrap();
        assert_eq!(
            (timeout(&same).value, timeout(&same).source.to_string()),
            (
                crate::options::DEFAULT_TIMEOUT,
                "init option timeout".into()
            )
        );
        assert!(region(&none, &Context::default()).is_none());
    }
}
