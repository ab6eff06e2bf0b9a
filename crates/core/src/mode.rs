//! Which calling mode a call uses, and running the call in it.
//!
//! 1. An explicit `mode` option wins.
//! 2. Otherwise explicit credentials decide: `accessToken`, or `appid` +
//!    `secret`, pick HTTPS; `authorizerAccessToken`, or the `component*`
//!    set, pick third-party (both kinds at once is an `init()` error).
//! 3. Otherwise a cloud runtime (Tencent Cloud credentials in `init()` or in
//!    the environment, or running on SCF / CloudBase Run / Sumeru) picks the
//!    cloud call, even with `WX_APPID` + `WX_APPSECRET` in the environment
//!    (the platform sets `WX_APPID` for each invocation; an app secret may be
//!    there for other work): the reason says so, and `mode: 'https'` uses them.
//! 4. Otherwise `WX_APPID` + `WX_APPSECRET` in the environment pick HTTPS.
//! 5. With nothing usable the call fails with a `CloudSDKError` listing the
//!    settings that would work.
//!
//! With `retry: { onBusy: n }` a busy answer (-1, -1000) is retried up to
//! n times with exponential backoff and jitter, in every mode; nothing else
//! that may have reached the server is ever retried.

use std::time::Instant;

use crate::cloud::{self, answer::Success, request::CallInput};
use crate::env::Context;
use crate::error::{ApiError, ErrorKind};
use crate::https::{self, Auth};
use crate::options::{Config, EnvChoice, ModeChoice, Supplied, TokenKind};
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
     (3) a third-party platform: init({ authorizerAccessToken }), or init({ componentAppid, componentAppsecret }) \
     with the verify ticket and refresh tokens in a token store or from getComponentVerifyTicket and \
     getAuthorizerRefreshToken";

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
    choose(cfg, ctx, api).map(|(route, _)| route)
}

/// What made a cloud runtime count as one (for [`explain`]).
fn cloud_runtime_reason(cfg: &Config, ctx: &Context) -> String {
    if cfg.credentials.is_some() {
        "init() was given `secretId` and `secretKey`".to_string()
    } else if let Some(missing) = cfg.partial_credentials {
        format!("init() was given half a Tencent Cloud secret pair (`{missing}` is missing)")
    } else if ctx.non_empty("TENCENTCLOUD_SECRETID").is_some()
        || ctx.non_empty("TENCENTCLOUD_SECRETKEY").is_some()
    {
        "TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY are set in the environment".to_string()
    } else {
        format!("running on a cloud runtime ({})", ctx.run_env_tag())
    }
}

/// [`select`], with the reason for the choice in words: the one decision
/// behind both a call and `wx-cloud-openapi env`.
fn choose(cfg: &Config, ctx: &Context, api: &str) -> Result<(Route, String), ApiError> {
    let none_usable =
        |what: &str| ApiError::invalid_config(format!("{what}; {WHAT_WOULD_WORK}")).for_api(api);
    let given = |what: &str| format!("option `mode` is \"{what}\"");
    match cfg.mode {
        Some(ModeChoice::Cloud) => Ok((Route::Cloud, given("cloud"))),
        Some(ModeChoice::Https) => https_from_config(cfg)
            .map(|a| (a, "credentials from init()"))
            .or_else(|| {
                https_from_env(ctx).map(|a| (a, "WX_APPID and WX_APPSECRET from the environment"))
            })
            .map(|(a, from)| (Route::Https(a), format!("{}; {from}", given("https"))))
            .ok_or_else(|| {
                none_usable(
                    "mode \"https\" needs init({ appid, secret }), init({ accessToken }) \
                     or WX_APPID and WX_APPSECRET in the environment",
                )
            }),
        Some(ModeChoice::ThirdParty) => third_party(cfg)
            .map(|a| (Route::ThirdParty(a), given("thirdparty")))
            .ok_or_else(|| none_usable("mode \"thirdparty\" needs third-party credentials")),
        None => {
            if let Some(a) = https_from_config(cfg) {
                let which = match a {
                    Auth::Supplied(_) => "`accessToken`",
                    _ => "`appid` and `secret`",
                };
                Ok((Route::Https(a), format!("init() was given {which}")))
            } else if let Some(a) = third_party(cfg) {
                let which = match a {
                    Auth::Supplied(_) => "`authorizerAccessToken`",
                    _ => "`componentAppid` and the other managed third-party options",
                };
                Ok((Route::ThirdParty(a), format!("init() was given {which}")))
            } else if cloud_runtime(cfg, ctx) {
                // In a cloud runtime WX_APPID is set by the platform for each
                // invocation, and an app secret may be there for other work:
                // they do not switch the call to HTTPS; `mode` does.
                let mut reason = cloud_runtime_reason(cfg, ctx);
                if https_from_env(ctx).is_some() {
                    reason.push_str(
                        "; WX_APPID and WX_APPSECRET are set in the environment too, but inside a cloud \
                         runtime the cloud call wins: init({ mode: 'https' }) would use them",
                    );
                }
                Ok((Route::Cloud, reason))
            } else if let Some(a) = https_from_env(ctx) {
                Ok((
                    Route::Https(a),
                    "WX_APPID and WX_APPSECRET are set in the environment \
                     (and init() was given no HTTPS or third-party credentials, \
                     and this is no cloud runtime)"
                        .to_string(),
                ))
            } else {
                Err(none_usable(
                    "no usable credentials: TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY are not set, \
                     and no HTTPS or third-party credentials were given",
                ))
            }
        }
    }
}

/// One setting a call would use, for [`explain`]: secrets are shown as
/// `***`, ids shortened (`AKID…1234`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub value: String,
    /// Where it comes from: `init option x`, `env X`, `default`, …
    pub source: String,
}

/// Which mode a call would use, why, and with which (redacted) settings.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// `cloud`, `https`, `thirdparty`, or `none`.
    pub mode: &'static str,
    pub reason: String,
    pub settings: Vec<Setting>,
    /// The error a call would fail with before sending anything.
    pub problem: Option<ApiError>,
}

/// An id shortened to its first and last four characters (`AKID…1234`);
/// short ones are hidden entirely.
pub fn shorten_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 12 {
        return "***".to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

fn setting(name: &'static str, value: impl Into<String>, source: impl Into<String>) -> Setting {
    Setting {
        name,
        value: value.into(),
        source: source.into(),
    }
}

fn supplied_setting(name: &'static str, s: &Supplied) -> Setting {
    let value = match s {
        Supplied::Value(_) => "*** (a string)",
        Supplied::Function => "(a function, called before each call)",
    };
    setting(name, value, format!("init option {name}"))
}

/// Explain what a call with these options, in this environment, would use,
/// by the same decision [`run`] makes (nothing is sent).
pub fn explain(cfg: &Config, ctx: &Context, api: &str) -> Explanation {
    let (route, reason) = match choose(cfg, ctx, api) {
        Ok(r) => r,
        Err(e) => {
            return Explanation {
                mode: "none",
                reason: "no calling mode is usable".to_string(),
                settings: Vec::new(),
                problem: Some(e),
            }
        }
    };
    let mut settings = Vec::new();
    let mut problem = None;
    match &route {
        Route::Cloud => {
            let from_init = cfg.credentials.is_some();
            let src = |opt: &str, var: &str| {
                if from_init {
                    format!("init option {opt}")
                } else {
                    format!("env {var}")
                }
            };
            match cloud::request::credentials(cfg, ctx, api) {
                Ok(pair) => {
                    settings.push(setting(
                        "secretId",
                        shorten_id(&pair.secret_id),
                        src("secretId", "TENCENTCLOUD_SECRETID"),
                    ));
                    settings.push(setting(
                        "secretKey",
                        "***",
                        src("secretKey", "TENCENTCLOUD_SECRETKEY"),
                    ));
                    if pair.session_token.is_some() {
                        let from_opt = cfg
                            .credentials
                            .as_ref()
                            .is_some_and(|c| c.session_token.is_some());
                        settings.push(setting(
                            "sessionToken",
                            "***",
                            if from_opt {
                                "init option sessionToken"
                            } else {
                                "env TENCENTCLOUD_SESSIONTOKEN"
                            },
                        ));
                    }
                }
                Err(e) => problem = Some(e),
            }
            let env = cloud::endpoint::env_id(cfg, ctx);
            let env_source = match &cfg.env {
                EnvChoice::Id(_) => "init option env",
                EnvChoice::Dynamic => "DYNAMIC_CURRENT_ENV: env TCB_ENV or SCF_NAMESPACE",
                EnvChoice::Unset if ctx.is_scf() => {
                    "default on SCF: the function's own (env TCB_ENV or SCF_NAMESPACE)"
                }
                EnvChoice::Unset => "default: none (the gateway picks the account's first)",
            };
            let shown_env = if env.is_empty() {
                "(none)"
            } else {
                env.as_str()
            };
            settings.push(setting("env", shown_env, env_source));
            if let Err(e) = cloud::endpoint::check_environment(cfg, ctx, api) {
                problem = problem.or(Some(e));
            }
            let ep = cloud::endpoint::resolve(cfg, ctx, &env, "");
            let url_source = if cfg.service_url.is_some() {
                "init option serviceUrl"
            } else if matches!(cloud::endpoint::injected_url(ctx), Ok(Some(_))) {
                "env TCB_CONTEXT_CNFG (URL)"
            } else {
                "built from env, region and runtime"
            };
            settings.push(setting("serviceUrl", ep.display_url, url_source));
            if let Some(region) = &ep.region {
                let source = if cfg.region.is_some() {
                    "init option region"
                } else {
                    "env TENCENTCLOUD_REGION"
                };
                settings.push(setting("region", region.clone(), source));
            }
            settings.push(setting("runtime", ctx.run_env_tag(), "environment"));
        }
        Route::Https(auth) | Route::ThirdParty(auth) => {
            match auth {
                Auth::Supplied(s) => {
                    let name = if matches!(route, Route::Https(_)) {
                        "accessToken"
                    } else {
                        "authorizerAccessToken"
                    };
                    settings.push(supplied_setting(name, s));
                }
                Auth::App { appid, .. } => {
                    let from_init = cfg.appid.is_some() && cfg.secret.is_some();
                    let (a, s) = if from_init {
                        ("init option appid", "init option secret")
                    } else {
                        ("env WX_APPID", "env WX_APPSECRET")
                    };
                    settings.push(setting("appid", appid.clone(), a));
                    settings.push(setting("secret", "***", s));
                    let kind = match cfg.token_kind {
                        TokenKind::Stable => "stable (/cgi-bin/stable_token)",
                        TokenKind::Classic => "classic (/cgi-bin/token)",
                    };
                    settings.push(setting("tokenKind", kind, "managed by the SDK"));
                }
                Auth::Component(c) => {
                    let o = |n: &str| format!("init option {n}");
                    settings.push(setting(
                        "componentAppid",
                        c.component_appid.clone(),
                        o("componentAppid"),
                    ));
                    settings.push(setting(
                        "componentAppsecret",
                        "***",
                        o("componentAppsecret"),
                    ));
                    if let Some(a) = &c.authorizer_appid {
                        settings.push(setting("authorizerAppid", a.clone(), o("authorizerAppid")));
                    }
                    if c.authorizer_refresh_token.is_some() {
                        settings.push(setting(
                            "authorizerRefreshToken",
                            "***",
                            o("authorizerRefreshToken"),
                        ));
                    }
                }
            }
            match https::base_url(cfg, ctx, api) {
                Ok(base) => {
                    let source = if cfg.api_base_url.is_some() {
                        "init option apiBaseUrl"
                    } else if ctx.non_empty("WX_API_BASE_URL").is_some() {
                        "env WX_API_BASE_URL"
                    } else {
                        "default"
                    };
                    settings.push(setting(
                        "apiBaseUrl",
                        crate::options::redact_url_userinfo(&base),
                        source,
                    ));
                }
                Err(e) => problem = Some(e),
            }
            if let Some(p) = &cfg.proxy {
                settings.push(setting(
                    "proxy",
                    crate::options::redact_url_userinfo(p),
                    "init option proxy",
                ));
            }
        }
    }
    settings.push(setting(
        "timeout",
        format!("{}ms", cfg.timeout.as_millis()),
        if cfg.timeout == crate::options::DEFAULT_TIMEOUT {
            "default"
        } else {
            "init option timeout"
        },
    ));
    let (debug, debug_source) = if cfg.debug {
        ("on", "init option debug")
    } else if ctx.debug_enabled() {
        ("on", "env DEBUG")
    } else {
        ("off", "default")
    };
    settings.push(setting("debug", debug, debug_source));
    if cfg.on_busy > 0 {
        settings.push(setting(
            "retry.onBusy",
            cfg.on_busy.to_string(),
            "init option retry",
        ));
    }
    Explanation {
        mode: route.name(),
        reason,
        settings,
        problem,
    }
}

/// Which token the JavaScript layer must obtain before each call: from the
/// token function `accessToken` or `authorizerAccessToken`, or `component`
/// for the SDK-managed third-party tokens (`lib/third-party.js`). Decided by
/// the options alone (the same rules as [`select`]).
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
    if third
        && cfg.authorizer_access_token.is_none()
        && cfg.component.is_some()
        && !(cfg.mode.is_none() && https_creds)
    {
        return Some("component");
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
    /// HTTPS modes: WeChat's request id (`rid: …` in an error's errmsg).
    pub rid: Option<String>,
    /// HTTPS modes: method and path, and whether the path table gave them.
    pub path: Option<String>,
}

/// WeChat's request id in an errmsg (`… rid: 6543a1b2-0f1e2d3c-4b5a6978`).
pub fn wechat_rid(err_msg: &str) -> Option<String> {
    let at = err_msg.rfind("rid: ")? + "rid: ".len();
    let rid: String = err_msg[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!rid.is_empty()).then_some(rid)
}

/// Make one call in the mode [`select`] picks.
pub async fn run(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    supplied: Option<&str>,
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
                let r = https::call(cfg, ctx, input, auth, supplied, &mut hr).await;
                report.sends += hr.sends;
                report.token_rejected = hr.token_rejected;
                report.path = hr.path;
                report.rid = r.as_ref().err().and_then(|e| wechat_rid(&e.err_msg));
                r
            }
        };
        match result {
            // `retry.onBusy`: WeChat's busy answers (-1, -1000), as many times as asked.
            Err(e) if e.kind == ErrorKind::Busy && attempt < cfg.on_busy => {
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
    use crate::error::{ErrorClass, INVALID_COMMON_PARAM};

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

    fn shown(e: &Explanation) -> String {
        format!("{e:?}")
    }

    #[test]
    fn explain_tells_the_same_story_as_select() {
        let scf = Context::from_pairs([
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "TOPSECRETKEY"),
            ("TENCENTCLOUD_SESSIONTOKEN", "SESSIONTOKENVALUE"),
            ("TCB_ENV", "own-env"),
            ("WX_APPID", "wx0envapp"),
            ("WX_APPSECRET", "ENVAPPSECRET"),
        ]);
        let bare = Context::default();
        let configs = [
            "{}".to_string(),
            r#"{"mode":"cloud"}"#.to_string(),
            r#"{"appid":"wx1","secret":"APPSECRET1"}"#.to_string(),
            r#"{"accessToken":"ACCESSTOKEN1"}"#.to_string(),
            format!(r#"{{"authorizerAccessToken":{F}}}"#),
            r#"{"secretId":"AKIDfrominit00005678","secretKey":"INITKEY"}"#.to_string(),
            r#"{"mode":"https"}"#.to_string(),
        ];
        for json in &configs {
            for ctx in [&scf, &bare] {
                let c = cfg(json);
                let e = explain(&c, ctx, "openapi.tcb.x");
                match select(&c, ctx, "openapi.tcb.x") {
                    Ok(route) => assert_eq!(e.mode, route.name(), "{json}"),
                    Err(err) => {
                        assert_eq!(e.mode, "none", "{json}");
                        assert_eq!(e.problem.unwrap().err_msg, err.err_msg);
                        continue;
                    }
                }
                let text = shown(&e);
                for secret in [
                    "TOPSECRETKEY",
                    "SESSIONTOKENVALUE",
                    "ENVAPPSECRET",
                    "APPSECRET1",
                    "ACCESSTOKEN1",
                    "INITKEY",
                    "AKIDexampleexample1234",
                ] {
                    assert!(!text.contains(secret), "{json}: {text}");
                }
            }
        }
    }

    #[test]
    fn explain_names_sources_and_reasons() {
        let env = Context::from_pairs([
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "k"),
            ("TCB_CONTEXT_CNFG", r#"{"URL":"http://127.0.0.1:9/admin"}"#),
        ]);
        let e = explain(&cfg(r#"{"env":"e1"}"#), &env, "x");
        assert_eq!(e.mode, "cloud");
        assert!(e.reason.contains("TENCENTCLOUD_SECRETID"), "{}", e.reason);
        let get = |e: &Explanation, n: &str| {
            e.settings
                .iter()
                .find(|s| s.name == n)
                .cloned()
                .unwrap_or_else(|| panic!("{n} missing: {e:?}"))
        };
        assert_eq!(get(&e, "secretId").value, "AKID…1234");
        assert_eq!(get(&e, "secretId").source, "env TENCENTCLOUD_SECRETID");
        assert_eq!(get(&e, "secretKey").value, "***");
        assert_eq!(get(&e, "env").value, "e1");
        assert_eq!(get(&e, "serviceUrl").value, "http://127.0.0.1:9/admin");
        assert_eq!(get(&e, "serviceUrl").source, "env TCB_CONTEXT_CNFG (URL)");
        assert!(e.problem.is_none());

        let wx = Context::from_pairs([("WX_APPID", "wx0envapp"), ("WX_APPSECRET", "s")]);
        let e = explain(&cfg(r#"{"timeout":500}"#), &wx, "x");
        assert_eq!(e.mode, "https");
        assert!(
            e.reason.contains("WX_APPID and WX_APPSECRET"),
            "{}",
            e.reason
        );
        assert_eq!(get(&e, "appid").value, "wx0envapp");
        assert_eq!(get(&e, "secret").source, "env WX_APPSECRET");
        assert_eq!(get(&e, "apiBaseUrl").value, "https://api.weixin.qq.com");
        assert_eq!(get(&e, "timeout").value, "500ms");

        // Cloud mode forced without a secret pair: the problem a call would hit.
        let e = explain(&cfg(r#"{"mode":"cloud"}"#), &Context::default(), "x");
        assert_eq!(e.mode, "cloud");
        let p = e.problem.unwrap();
        assert_eq!(p.err_code, INVALID_COMMON_PARAM);
        assert!(p.err_msg.contains("TENCENTCLOUD_SECRETID"), "{}", p.err_msg);

        assert_eq!(shorten_id("short"), "***");
    }

    #[test]
    fn in_a_cloud_runtime_the_cloud_call_beats_wx_appid_and_secret() {
        // The platform sets WX_APPID per invocation; functions often carry an
        // app secret for other work. Neither may switch the call to HTTPS.
        let app = [("WX_APPID", "wx0envapp"), ("WX_APPSECRET", "ENVAPPSECRET")];
        let scf = Context::from_pairs(
            [
                ("TENCENTCLOUD_RUNENV", "SCF"),
                ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
                ("TENCENTCLOUD_SECRETKEY", "k"),
                ("TCB_ENV", "own-env"),
            ]
            .into_iter()
            .chain(app),
        );
        let cbr = Context::from_pairs([("CBR_ENV_ID", "own-env")].into_iter().chain(app));
        for ctx in [&scf, &cbr] {
            for json in ["{}", r#"{"env":{"dynamic":true}}"#] {
                assert_eq!(
                    select(&cfg(json), ctx, "x").unwrap(),
                    Route::Cloud,
                    "{json}"
                );
                let e = explain(&cfg(json), ctx, "x");
                assert_eq!(e.mode, "cloud");
                assert!(
                    e.reason.contains("WX_APPID") && e.reason.contains("mode"),
                    "{}",
                    e.reason
                );
            }
            // init() options or `mode` say otherwise.
            assert!(matches!(
                select(&cfg(r#"{"mode":"https"}"#), ctx, "x").unwrap(),
                Route::Https(Auth::App { .. })
            ));
            assert!(matches!(
                select(&cfg(r#"{"appid":"wx1","secret":"s"}"#), ctx, "x").unwrap(),
                Route::Https(Auth::App { .. })
            ));
        }
        // Outside a cloud runtime they still pick HTTPS.
        let local = Context::from_pairs(app);
        assert!(matches!(
            select(&cfg("{}"), &local, "x").unwrap(),
            Route::Https(_)
        ));
    }

    #[test]
    fn explain_never_shows_a_password_in_a_url() {
        let cloud_env = [
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "k"),
        ];
        let cases = [
            (
                r#"{"serviceUrl":"http://u:PASSWORD1@127.0.0.1:9/admin"}"#.to_string(),
                Context::from_pairs(cloud_env),
            ),
            (
                "{}".to_string(),
                Context::from_pairs(cloud_env.into_iter().chain([(
                    "TCB_CONTEXT_CNFG",
                    r#"{"URL":"http://u:PASSWORD1@127.0.0.1:9/admin"}"#,
                )])),
            ),
            (
                r#"{"accessToken":"t","apiBaseUrl":"http://u:PASSWORD1@127.0.0.1:9"}"#.to_string(),
                Context::default(),
            ),
            (
                r#"{"accessToken":"t"}"#.to_string(),
                Context::from_pairs([("WX_API_BASE_URL", "http://u:PASSWORD1@127.0.0.1:9")]),
            ),
        ];
        for (json, ctx) in &cases {
            let e = explain(&cfg(json), ctx, "x");
            assert!(e.problem.is_none(), "{json}: {:?}", e.problem);
            let text = shown(&e);
            assert!(!text.contains("PASSWORD1"), "{json}: {text}");
            assert!(text.contains("http://***@127.0.0.1:9"), "{json}: {text}");
        }
    }

    #[test]
    fn explain_reports_an_unreadable_context_config() {
        let ctx = Context::from_pairs([
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "k"),
            ("TCB_CONTEXT_CNFG", "{URL:http://127.0.0.1:9/admin}"),
        ]);
        let e = explain(&cfg("{}"), &ctx, "x");
        let p = e.problem.unwrap();
        assert_eq!(p.err_code, crate::error::INVALID_PARAM);
        assert!(p.err_msg.contains("TCB_CONTEXT_CNFG"), "{}", p.err_msg);
    }

    #[test]
    fn wechat_request_id_from_errmsg() {
        assert_eq!(
            wechat_rid("openapi.tcb.x:fail invalid credential rid: 6543a1b2-0f1e2d3c-4b5a6978")
                .as_deref(),
            Some("6543a1b2-0f1e2d3c-4b5a6978")
        );
        assert_eq!(wechat_rid("openapi.tcb.x:fail invalid args"), None);
        assert_eq!(wechat_rid("rid: "), None);
    }
}
