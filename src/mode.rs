//! Which calling mode a call uses, and running the call in it.
//!
//! 1. An explicit `mode` option wins.
//! 2. Otherwise explicit credentials decide: `accessToken`, or `appid` +
//!    `secret`, pick HTTPS; `authorizerAccessToken`, or the `component*`
//!    set, pick third-party (both kinds at once is an `init()` error).
//! 3. Otherwise `WX_APPID` + `WX_APPSECRET` in the environment pick HTTPS.
//! 4. Otherwise a cloud runtime (Tencent Cloud credentials in `init()` or in
//!    the environment, or running on SCF / CloudBase Run / Sumeru) picks the
//!    cloud call.
//! 5. With nothing usable the call fails with a `CloudSDKError` listing the
//!    settings that would work.
//!
//! With `retry: { onBusy: n }` a busy answer (-1, -1000) is retried up to
//! n times with exponential backoff and jitter, in every mode; nothing else
//! that may have reached the server is ever retried.

use std::sync::Arc;
use std::time::Instant;

use crate::cloud::{self, answer::Success, request::CallInput};
use crate::env::Context;
use crate::error::{fail_msg, ApiError, ErrorClass, INVALID_COMMON_PARAM};
use crate::https::{self, component::Hooks, Auth};
use crate::options::{Config, ModeChoice, Supplied};
use crate::transport;

/// The mode a call runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Cloud,
    Https(Auth),
    ThirdParty(Auth),
}

impl Route {
    /// `cloud`, `https` or `thirdparty` (for debug lines).
    pub fn name(&self) -> &'static str {
        match self {
            Route::Cloud => "cloud",
            Route::Https(_) => "https",
            Route::ThirdParty(_) => "thirdparty",
        }
    }
}

/// What every listed setting would do, for the "nothing usable" message.
const WHAT_WOULD_WORK: &str = "any one of these would work: \
     (1) the cloud call: run inside a cloud function, or set TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY \
     in the environment, or pass secretId and secretKey to init(); \
     (2) HTTPS: init({ appid, secret }), or WX_APPID and WX_APPSECRET in the environment, or init({ accessToken }); \
     (3) a third-party platform: init({ authorizerAccessToken }), or init({ componentAppid, componentAppsecret, \
     getComponentVerifyTicket, authorizerAppid, authorizerRefreshToken, onAuthorizerRefreshToken })";

fn https_from_config(cfg: &Config) -> Option<Auth> {
    if let Some(s) = &cfg.access_token {
        return Some(Auth::Supplied(s.clone()));
    }
    match (&cfg.appid, &cfg.secret) {
        (Some(appid), Some(secret)) => Some(Auth::App {
            appid: appid.clone(),
            secret: secret.clone(),
        }),
        _ => None,
    }
}

fn https_from_env(ctx: &Context) -> Option<Auth> {
    match (ctx.non_empty("WX_APPID"), ctx.non_empty("WX_APPSECRET")) {
        (Some(appid), Some(secret)) => Some(Auth::App {
            appid: appid.to_string(),
            secret: secret.to_string(),
        }),
        _ => None,
    }
}

fn third_party(cfg: &Config) -> Option<Auth> {
    if let Some(s) = &cfg.authorizer_access_token {
        return Some(Auth::Supplied(s.clone()));
    }
    cfg.component.clone().map(Auth::Component)
}

fn cloud_runtime(cfg: &Config, ctx: &Context) -> bool {
    cfg.credentials.is_some()
        || cfg.partial_credentials.is_some()
        || ctx.non_empty("TENCENTCLOUD_SECRETID").is_some()
        || ctx.non_empty("TENCENTCLOUD_SECRETKEY").is_some()
        || ctx.is_internal()
}

/// Choose the mode of a call.
pub fn select(cfg: &Config, ctx: &Context, api: &str) -> Result<Route, ApiError> {
    let none_usable = |what: &str| {
        ApiError::cloud(
            INVALID_COMMON_PARAM,
            fail_msg(api, &format!("{what}; {WHAT_WOULD_WORK}")),
        )
    };
    match cfg.mode {
        Some(ModeChoice::Cloud) => Ok(Route::Cloud),
        Some(ModeChoice::Https) => https_from_config(cfg)
            .or_else(|| https_from_env(ctx))
            .map(Route::Https)
            .ok_or_else(|| {
                none_usable(
                    "mode \"https\" needs init({ appid, secret }), init({ accessToken }) \
                     or WX_APPID and WX_APPSECRET in the environment",
                )
            }),
        Some(ModeChoice::ThirdParty) => third_party(cfg)
            .map(Route::ThirdParty)
            .ok_or_else(|| none_usable("mode \"thirdparty\" needs third-party credentials")),
        None => {
            if let Some(a) = https_from_config(cfg) {
                Ok(Route::Https(a))
            } else if let Some(a) = third_party(cfg) {
                Ok(Route::ThirdParty(a))
            } else if let Some(a) = https_from_env(ctx) {
                Ok(Route::Https(a))
            } else if cloud_runtime(cfg, ctx) {
                Ok(Route::Cloud)
            } else {
                Err(none_usable(
                    "no usable credentials: TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY are not set, \
                     and no HTTPS or third-party credentials were given",
                ))
            }
        }
    }
}

/// Which init option (if any) is a token function the JavaScript layer must
/// call before each call: `accessToken` or `authorizerAccessToken`. Decided
/// by the options alone (the same rules as [`select`]).
pub fn token_function(cfg: &Config) -> Option<&'static str> {
    let https = matches!(cfg.mode, None | Some(ModeChoice::Https));
    let third = matches!(cfg.mode, None | Some(ModeChoice::ThirdParty));
    if https && cfg.access_token == Some(Supplied::Function) {
        return Some("accessToken");
    }
    let https_creds = cfg.access_token.is_some() || cfg.appid.is_some();
    if third
        && cfg.authorizer_access_token == Some(Supplied::Function)
        && !(cfg.mode.is_none() && https_creds)
    {
        return Some("authorizerAccessToken");
    }
    None
}

/// What a finished call reports besides its result: for the debug line.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub mode: &'static str,
    pub seq_id: String,
    pub elapsed_ms: u128,
    /// API requests sent (retries included).
    pub sends: u32,
    /// Busy answers retried.
    pub busy_retries: u32,
    /// A supplied token was rejected (the JavaScript layer may retry once).
    pub token_rejected: bool,
}

/// A busy answer that `retry.onBusy` may retry: WeChat's -1 or -1000.
pub fn is_busy(e: &ApiError) -> bool {
    e.class == ErrorClass::Cloud && matches!(e.err_code, -1 | -1000)
}

/// Make one call in the mode [`select`] picks.
pub async fn run(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    supplied: Option<&str>,
    hooks: Option<&Arc<dyn Hooks>>,
) -> (Result<Success, ApiError>, Report) {
    let started = Instant::now();
    let api = input.display_api();
    let mut report = Report {
        mode: "none",
        ..Report::default()
    };
    let route = match select(cfg, ctx, &api) {
        Ok(r) => r,
        Err(e) => {
            report.elapsed_ms = started.elapsed().as_millis();
            return (Err(e), report);
        }
    };
    report.mode = route.name();
    let mut attempt = 0;
    let result = loop {
        let result = match &route {
            Route::Cloud => {
                let (r, cloud_report) = cloud::call(cfg, ctx, input).await;
                report.seq_id = cloud_report.seq_id;
                report.sends += 1;
                r
            }
            Route::Https(auth) | Route::ThirdParty(auth) => {
                let mut hr = https::HttpsReport::default();
                let r = https::call(cfg, ctx, input, auth, supplied, hooks, &mut hr).await;
                report.sends += hr.sends;
                report.token_rejected = hr.token_rejected;
                r
            }
        };
        match result {
            Err(e) if is_busy(&e) && attempt < cfg.on_busy => {
                attempt += 1;
                report.busy_retries = attempt;
                tokio::time::sleep(transport::busy_backoff(attempt)).await;
            }
            other => break other,
        }
    };
    report.elapsed_ms = started.elapsed().as_millis();
    (result, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> Config {
        Config::from_json(json).unwrap()
    }

    const F: &str = r#"{"\u0000function":true}"#;

    #[test]
    fn explicit_mode_wins() {
        let c = cfg(r#"{"mode":"cloud","appid":"wx","secret":"s"}"#);
        assert_eq!(select(&c, &Context::default(), "x").unwrap(), Route::Cloud);
        let c = cfg(r#"{"mode":"https","authorizerAccessToken":"a"}"#);
        let ctx = Context::from_pairs([("WX_APPID", "wxe"), ("WX_APPSECRET", "se")]);
        assert_eq!(
            select(&c, &ctx, "x").unwrap(),
            Route::Https(Auth::App {
                appid: "wxe".into(),
                secret: "se".into()
            })
        );
        let err = select(&c, &Context::default(), "x").unwrap_err();
        assert!(
            err.err_msg.contains("mode \"https\" needs"),
            "{}",
            err.err_msg
        );
    }

    #[test]
    fn credentials_pick_the_mode() {
        let scf = Context::from_pairs([
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TENCENTCLOUD_SECRETID", "id"),
            ("TENCENTCLOUD_SECRETKEY", "key"),
        ]);
        let c = cfg(r#"{"appid":"wx","secret":"s"}"#);
        assert!(matches!(
            select(&c, &scf, "x").unwrap(),
            Route::Https(Auth::App { .. })
        ));
        let c = cfg(r#"{"accessToken":"T"}"#);
        assert!(matches!(
            select(&c, &scf, "x").unwrap(),
            Route::Https(Auth::Supplied(_))
        ));
        let c = cfg(&format!(r#"{{"authorizerAccessToken":{F}}}"#));
        assert_eq!(
            select(&c, &scf, "x").unwrap(),
            Route::ThirdParty(Auth::Supplied(Supplied::Function))
        );
        assert_eq!(token_function(&c), Some("authorizerAccessToken"));
        let env = Context::from_pairs([("WX_APPID", "wxe"), ("WX_APPSECRET", "se")]);
        assert!(matches!(
            select(&cfg("{}"), &env, "x").unwrap(),
            Route::Https(_)
        ));
        assert_eq!(select(&cfg("{}"), &scf, "x").unwrap(), Route::Cloud);
        let only_id = Context::from_pairs([("TENCENTCLOUD_SECRETID", "id")]);
        assert_eq!(select(&cfg("{}"), &only_id, "x").unwrap(), Route::Cloud);
        assert_eq!(
            select(
                &cfg(r#"{"secretId":"a","secretKey":"b"}"#),
                &Context::default(),
                "x"
            )
            .unwrap(),
            Route::Cloud
        );
    }

    #[test]
    fn nothing_usable_says_what_would_work() {
        let err = select(&cfg("{}"), &Context::default(), "openapi.tcb.x").unwrap_err();
        assert_eq!(err.err_code, INVALID_COMMON_PARAM);
        assert_eq!(err.class, ErrorClass::Cloud);
        for needle in [
            "TENCENTCLOUD_SECRETID",
            "TENCENTCLOUD_SECRETKEY",
            "appid, secret",
            "WX_APPID and WX_APPSECRET",
            "accessToken",
            "authorizerAccessToken",
            "componentAppid",
        ] {
            assert!(err.err_msg.contains(needle), "{needle}: {}", err.err_msg);
        }
        assert!(err.err_msg.starts_with("openapi.tcb.x:fail "));
    }

    #[test]
    fn token_function_follows_the_mode() {
        let c = cfg(&format!(r#"{{"accessToken":{F}}}"#));
        assert_eq!(token_function(&c), Some("accessToken"));
        let c = cfg(&format!(r#"{{"mode":"cloud","accessToken":{F}}}"#));
        assert_eq!(token_function(&c), None);
        let c = cfg(&format!(
            r#"{{"mode":"thirdparty","accessToken":{F},"authorizerAccessToken":"a"}}"#
        ));
        assert_eq!(token_function(&c), None);
        assert_eq!(token_function(&cfg(r#"{"accessToken":"T"}"#)), None);
    }
}
