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

use secrecy::ExposeSecret;

use crate::cloud::{self, answer::Success, request::CallInput};
use crate::env::Context;
use crate::error::{ApiError, ErrorKind, Wording};
use crate::https::{self, Auth};
use crate::options::{Config, ModeChoice, Supplied, TokenKind};
use crate::redact::redact_url_userinfo;
use crate::settings::{self, Source, Sourced};
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

/// What every listed setting would do, for the "nothing usable" message,
/// in the words of the caller (Node's `init()`, or the Rust API's options).
fn what_would_work(w: Wording) -> &'static str {
    match w {
        Wording::Node => "any one of these would work: \
     (1) the cloud call: run inside a cloud function, or set TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY \
     in the environment, or pass secretId and secretKey to init(); \
     (2) HTTPS: init({ appid, secret }), or WX_APPID and WX_APPSECRET in the environment, or init({ accessToken }); \
     (3) a third-party platform: init({ authorizerAccessToken }), or init({ componentAppid, componentAppsecret }) \
     with the verify ticket and refresh tokens in a token store or from getComponentVerifyTicket and \
     getAuthorizerRefreshToken",
        Wording::Rust => "any one of these would work: \
     (1) the cloud call: run inside a cloud function, or set TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY \
     in the environment, or give \"secretId\" and \"secretKey\" to Client::from_options; \
     (2) HTTPS: \"appid\" and \"secret\" in Client::from_options, or WX_APPID and WX_APPSECRET in the \
     environment, or an \"accessToken\" string; \
     (3) a third-party platform: an \"authorizerAccessToken\" string, or \"componentAppid\" and \
     \"componentAppsecret\" with the verify ticket and refresh tokens in a token store \
     (Client::with_token_store) or \"authorizerAppid\" and \"authorizerRefreshToken\"",
    }
}

/// HTTPS credentials given to `init()`.
fn https_from_config(cfg: &Config) -> Option<Sourced<Auth>> {
    if let Some(s) = &cfg.access_token {
        return Some(Sourced::new(
            Auth::Supplied(s.clone()),
            Source::Init(&["accessToken"]),
        ));
    }
    match (&cfg.appid, &cfg.secret) {
        (Some(appid), Some(secret)) => Some(Sourced::new(
            Auth::App {
                appid: appid.clone(),
                secret: secret.expose_secret().to_string(),
            },
            Source::Init(&["appid", "secret"]),
        )),
        _ => None,
    }
}

/// HTTPS credentials in the environment (`WX_APPID` + `WX_APPSECRET`).
fn https_from_env(ctx: &Context) -> Option<Sourced<Auth>> {
    match (ctx.non_empty("WX_APPID"), ctx.non_empty("WX_APPSECRET")) {
        (Some(appid), Some(secret)) => Some(Sourced::new(
            Auth::App {
                appid: appid.to_string(),
                secret: secret.to_string(),
            },
            Source::Env(&["WX_APPID", "WX_APPSECRET"]),
        )),
        _ => None,
    }
}

/// Third-party credentials given to `init()`.
fn third_party(cfg: &Config) -> Option<Sourced<Auth>> {
    if let Some(s) = &cfg.authorizer_access_token {
        return Some(Sourced::new(
            Auth::Supplied(s.clone()),
            Source::Init(&["authorizerAccessToken"]),
        ));
    }
    cfg.component.clone().map(|c| {
        Sourced::new(
            Auth::Component(c),
            Source::Init(&[
                "componentAppid",
                "componentAppsecret",
                "authorizerAppid",
                "authorizerRefreshToken",
            ]),
        )
    })
}

/// What makes this a cloud runtime, in words (`None`: it is none).
fn cloud_runtime(cfg: &Config, ctx: &Context) -> Option<String> {
    let w = cfg.wording;
    if cfg.credentials.is_some() {
        Some(w.given("`secretId` and `secretKey`"))
    } else if let Some(missing) = cfg.partial_credentials {
        Some(w.given(&format!(
            "half a Tencent Cloud secret pair (`{missing}` is missing)"
        )))
    } else if ctx.non_empty("TENCENTCLOUD_SECRETID").is_some()
        || ctx.non_empty("TENCENTCLOUD_SECRETKEY").is_some()
    {
        Some(
            "TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY are set in the environment".to_string(),
        )
    } else if ctx.is_internal() {
        Some(format!(
            "running on a cloud runtime ({})",
            ctx.run_env_tag()
        ))
    } else {
        None
    }
}

/// Choose the mode of a call (its failure without the `{api}:fail ` prefix).
pub fn select(cfg: &Config, ctx: &Context) -> Result<Route, ApiError> {
    choose(cfg, ctx).map(|c| c.route)
}

/// The mode a call runs in, why, and where its HTTPS or third-party
/// credentials came from (a cloud call's are resolved when it is made).
struct Choice {
    route: Route,
    reason: String,
    credentials: Option<Source>,
}

impl Choice {
    fn new(route: Route, reason: String) -> Self {
        Choice {
            route,
            reason,
            credentials: None,
        }
    }

    /// A route of these credentials (`wrap`: HTTPS or third-party).
    fn of(auth: Sourced<Auth>, wrap: fn(Auth) -> Route, reason: String) -> Self {
        Choice {
            route: wrap(auth.value),
            reason,
            credentials: Some(auth.source),
        }
    }
}

/// [`select`], with the reason for the choice in words: the one decision
/// behind both a call and `wx-cloud-openapi env`.
fn choose(cfg: &Config, ctx: &Context) -> Result<Choice, ApiError> {
    let w = cfg.wording;
    let none_usable =
        |what: &str| ApiError::invalid_config(format!("{what}; {}", what_would_work(w)));
    let from_options = match w {
        Wording::Node => "credentials from init()",
        Wording::Rust => "credentials from Client::from_options",
    };
    let given = |what: &str| format!("option `mode` is \"{what}\"");
    match cfg.mode {
        Some(ModeChoice::Cloud) => Ok(Choice::new(Route::Cloud, given("cloud"))),
        Some(ModeChoice::Https) => https_from_config(cfg)
            .map(|a| (a, from_options))
            .or_else(|| {
                https_from_env(ctx).map(|a| (a, "WX_APPID and WX_APPSECRET from the environment"))
            })
            .map(|(a, from)| Choice::of(a, Route::Https, format!("{}; {from}", given("https"))))
            .ok_or_else(|| {
                none_usable(&format!(
                    "mode \"https\" needs {}, {} \
                     or WX_APPID and WX_APPSECRET in the environment",
                    w.init_with(&["appid", "secret"]),
                    w.init_with(&["accessToken"]),
                ))
            }),
        Some(ModeChoice::ThirdParty) => third_party(cfg)
            .map(|a| Choice::of(a, Route::ThirdParty, given("thirdparty")))
            .ok_or_else(|| none_usable("mode \"thirdparty\" needs third-party credentials")),
        None => choose_by_credentials(cfg, ctx).ok_or_else(|| {
            none_usable(
                "no usable credentials: TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY are not set, \
                 and no HTTPS or third-party credentials were given",
            )
        }),
    }
}

/// Without `mode`: the mode the credentials pick (`None`: nothing usable).
fn choose_by_credentials(cfg: &Config, ctx: &Context) -> Option<Choice> {
    if let Some(a) = https_from_config(cfg) {
        let which = match a.value {
            Auth::Supplied(_) => "`accessToken`",
            _ => "`appid` and `secret`",
        };
        return Some(Choice::of(a, Route::Https, cfg.wording.given(which)));
    }
    if let Some(a) = third_party(cfg) {
        let which = match a.value {
            Auth::Supplied(_) => "`authorizerAccessToken`",
            _ => "`componentAppid` and the other managed third-party options",
        };
        return Some(Choice::of(a, Route::ThirdParty, cfg.wording.given(which)));
    }
    if let Some(mut reason) = cloud_runtime(cfg, ctx) {
        // In a cloud runtime WX_APPID is set by the platform for each
        // invocation, and an app secret may be there for other work:
        // they do not switch the call to HTTPS; `mode` does.
        if https_from_env(ctx).is_some() {
            reason.push_str(
                match cfg.wording {
                    Wording::Node => "; WX_APPID and WX_APPSECRET are set in the environment too, but inside a cloud \
                 runtime the cloud call wins: init({ mode: 'https' }) would use them",
                    Wording::Rust => "; WX_APPID and WX_APPSECRET are set in the environment too, but inside a cloud \
                 runtime the cloud call wins: the option \"mode\": \"https\" would use them",
                },
            );
        }
        return Some(Choice::new(Route::Cloud, reason));
    }
    https_from_env(ctx).map(|a| {
        Choice::of(
            a,
            Route::Https,
            format!(
                "WX_APPID and WX_APPSECRET are set in the environment \
                 (and {} no HTTPS or third-party credentials, \
                 and this is no cloud runtime)",
                cfg.wording.given_to()
            ),
        )
    })
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

/// The settings [`explain`] lists, each shown with its source, and the
/// first problem a call would hit while resolving them.
#[derive(Default)]
struct Shown {
    settings: Vec<Setting>,
    problem: Option<ApiError>,
}

impl Shown {
    fn add(&mut self, name: &'static str, value: impl Into<String>, source: impl ToString) {
        self.settings.push(Setting {
            name,
            value: value.into(),
            source: source.to_string(),
        });
    }

    fn fail(&mut self, e: ApiError) {
        self.problem.get_or_insert(e);
    }
}

/// Explain what a call with these options, in this environment, would use,
/// by the same decision `run` makes (nothing is sent): the resolved
/// settings with their sources, formatted.
pub fn explain(cfg: &Config, ctx: &Context, api: &str) -> Explanation {
    let choice = match choose(cfg, ctx).map_err(|e| e.for_api(api)) {
        Ok(c) => c,
        Err(e) => {
            return Explanation {
                mode: "none",
                reason: "no calling mode is usable".to_string(),
                settings: Vec::new(),
                problem: Some(e),
            }
        }
    };
    let mut shown = Shown::default();
    match &choice.route {
        Route::Cloud => show_cloud(&mut shown, cfg, ctx, api),
        Route::Https(auth) | Route::ThirdParty(auth) => {
            let source = choice.credentials.unwrap_or(Source::Runtime("default"));
            show_auth(&mut shown, &choice.route, auth, source, cfg);
            match https::sourced_base_url(cfg, ctx).map_err(|e| e.for_api(api)) {
                Ok(base) => shown.add("apiBaseUrl", redact_url_userinfo(&base.value), base.source),
                Err(e) => shown.fail(e),
            }
            if let Some(p) = &cfg.proxy {
                shown.add("proxy", redact_url_userinfo(p), Source::Init(&["proxy"]));
            }
        }
    }
    let timeout = settings::timeout(cfg);
    shown.add(
        "timeout",
        format!("{}ms", timeout.value.as_millis()),
        timeout.source,
    );
    let debug = settings::debug(cfg, ctx);
    shown.add(
        "debug",
        if debug.value { "on" } else { "off" },
        debug.source,
    );
    if cfg.retry.on_busy > 0 {
        shown.add(
            "retry.onBusy",
            cfg.retry.on_busy.to_string(),
            Source::Init(&["retry"]),
        );
    }
    Explanation {
        mode: choice.route.name(),
        reason: choice.reason,
        settings: shown.settings,
        problem: shown.problem,
    }
}

/// The settings of a cloud call.
fn show_cloud(shown: &mut Shown, cfg: &Config, ctx: &Context, api: &str) {
    match cloud::request::sourced_credentials(cfg, ctx).map_err(|e| e.for_api(api)) {
        Ok(c) => {
            shown.add("secretId", shorten_id(&c.pair.secret_id), c.source.of(0));
            shown.add("secretKey", "***", c.source.of(1));
            if let Some(source) = c.session_token_source {
                shown.add("sessionToken", "***", source);
            }
        }
        Err(e) => shown.fail(e),
    }
    let env = settings::env_id(cfg, ctx);
    let shown_env = if env.value.is_empty() {
        "(none)"
    } else {
        env.value.as_str()
    };
    shown.add("env", shown_env, env.source);
    if let Err(e) = cloud::endpoint::check_environment(cfg, ctx).map_err(|e| e.for_api(api)) {
        shown.fail(e);
    }
    let ep = cloud::endpoint::resolve(cfg, ctx, &env.value, "");
    shown.add(
        "serviceUrl",
        ep.display_url,
        settings::service_url(cfg, ctx).source,
    );
    if let Some(region) = settings::region(cfg, ctx) {
        shown.add("region", region.value, region.source);
    }
    shown.add("runtime", ctx.run_env_tag(), Source::Runtime("environment"));
}

/// The credentials of an HTTPS or third-party call (`source`: theirs).
fn show_auth(shown: &mut Shown, route: &Route, auth: &Auth, source: Source, cfg: &Config) {
    match auth {
        Auth::Supplied(s) => {
            let name = match route {
                Route::Https(_) => "accessToken",
                _ => "authorizerAccessToken",
            };
            let value = match s {
                Supplied::Value(_) => "*** (a string)",
                Supplied::Function => "(a function, called before each call)",
            };
            shown.add(name, value, source);
        }
        Auth::App { appid, .. } => {
            shown.add("appid", appid.clone(), source.of(0));
            shown.add("secret", "***", source.of(1));
            let kind = match cfg.token_kind {
                TokenKind::Stable => "stable (/cgi-bin/stable_token)",
                TokenKind::Classic => "classic (/cgi-bin/token)",
            };
            shown.add("tokenKind", kind, Source::Runtime("managed by the SDK"));
        }
        Auth::Component(c) => {
            shown.add("componentAppid", c.component_appid.clone(), source.of(0));
            shown.add("componentAppsecret", "***", source.of(1));
            if let Some(a) = &c.authorizer_appid {
                shown.add("authorizerAppid", a.clone(), source.of(2));
            }
            if c.authorizer_refresh_token.is_some() {
                shown.add("authorizerRefreshToken", "***", source.of(3));
            }
        }
    }
}

/// Which token a call needs besides the configured ones: from the token
/// function `accessToken` or `authorizerAccessToken` (the client asks it,
/// see `Client::with_token_function`), or `component` for the SDK-managed third-party tokens
/// ([`crate::token::ComponentTokens`]). Decided by the options alone (the
/// same rules as `select`).
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
    /// The calling mode (`cloud`, `https`, `third-party`, …).
    pub mode: &'static str,
    /// The cloud call's sequence id (`TCB_SEQID`), when there is one.
    pub seq_id: String,
    /// How long the call took, in milliseconds.
    pub elapsed_ms: u128,
    /// API requests sent (retries included).
    pub sends: u32,
    /// Busy answers retried.
    pub busy_retries: u32,
    /// A supplied token was rejected (a token function's client retries once).
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

/// The token of an HTTPS or third-party call, when the configuration does
/// not hold it.
#[derive(Clone, Copy, Default)]
pub enum Token<'a> {
    /// From the configuration (a fixed token, or the app's managed one).
    #[default]
    Configured,
    /// Obtained by the caller (the application's token function).
    Given(&'a str),
    /// The managed third-party tokens.
    Managed(&'a std::sync::Arc<crate::token::ComponentTokens>),
}

impl<'a> From<Option<&'a str>> for Token<'a> {
    fn from(t: Option<&'a str>) -> Token<'a> {
        t.map_or(Token::Configured, Token::Given)
    }
}

/// Make one call in the mode [`select`] picks.
pub async fn run<'t>(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    token: impl Into<Token<'t>>,
) -> (Result<Success, ApiError>, Report) {
    let token = token.into();
    let started = Instant::now();
    let api = input.display_api();
    let mut report = Report {
        mode: "none",
        ..Report::default()
    };
    let route = match select(cfg, ctx).map_err(|e| e.for_api(&api)) {
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
                let r = https::call(cfg, ctx, input, auth, token, &mut hr).await;
                report.sends += hr.sends;
                report.token_rejected = hr.token_rejected;
                report.path = hr.path;
                report.rid = r.as_ref().err().and_then(|e| wechat_rid(&e.err_msg));
                r
            }
        };
        match result {
            // `retry.onBusy`: WeChat's busy answers (-1, -1000), as many times as asked.
            Err(e) if e.kind == ErrorKind::Busy && attempt < cfg.retry.on_busy => {
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
    use crate::codes::INVALID_COMMON_PARAM;
    use crate::error::ErrorClass;

    fn cfg(json: &str) -> Config {
        Config::from_json(json).unwrap()
    }

    #[test]
    fn messages_name_what_the_caller_set_node_or_rust() {
        let node = cfg(r#"{"mode":"https"}"#);
        let rust = Config {
            wording: Wording::Rust,
            ..node.clone()
        };
        let msg = |c: &Config| select(c, &Context::default()).unwrap_err().err_msg;
        // The Node package's text, as the JavaScript tests pin it.
        let n = msg(&node);
        assert!(
            n.contains("mode \"https\" needs init({ appid, secret }), init({ accessToken })"),
            "{n}"
        );
        assert!(n.contains("pass secretId and secretKey to init()"), "{n}");
        // The same failure for a Rust caller names Client::from_options.
        let r = msg(&rust);
        assert!(!r.contains("init("), "{r}");
        assert!(!r.contains("getComponentVerifyTicket"), "{r}");
        assert!(
            r.contains("Client::from_options with \"appid\" and \"secret\""),
            "{r}"
        );
        assert!(r.contains("Client::with_token_store"), "{r}");
        // A reason `explain` gives.
        let scf = Context::from_pairs([("WX_APPID", "wxe"), ("WX_APPSECRET", "se")]);
        let both = cfg(r#"{"secretId":"AKIDx","secretKey":"k"}"#);
        let why = |c: &Config| choose(c, &scf).map(|c| c.reason).unwrap();
        assert!(why(&both).starts_with("init() was given `secretId` and `secretKey`"));
        let rust_both = Config {
            wording: Wording::Rust,
            ..both
        };
        let r = why(&rust_both);
        assert!(
            r.starts_with("Client::from_options was given `secretId` and `secretKey`"),
            "{r}"
        );
        assert!(r.contains("the option \"mode\": \"https\""), "{r}");
    }

    #[test]
    fn explicit_mode_wins() {
        let c = cfg(r#"{"mode":"cloud","appid":"wx","secret":"s"}"#);
        assert_eq!(
            select(&c, &Context::default())
                .map_err(|e| e.for_api("x"))
                .unwrap(),
            Route::Cloud
        );
        let c = cfg(r#"{"mode":"https","authorizerAccessToken":"a"}"#);
        let ctx = Context::from_pairs([("WX_APPID", "wxe"), ("WX_APPSECRET", "se")]);
        assert_eq!(
            select(&c, &ctx).map_err(|e| e.for_api("x")).unwrap(),
            Route::Https(Auth::App {
                appid: "wxe".into(),
                secret: "se".into()
            })
        );
        let err = select(&c, &Context::default())
            .map_err(|e| e.for_api("x"))
            .unwrap_err();
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
            select(&c, &scf).map_err(|e| e.for_api("x")).unwrap(),
            Route::Https(Auth::App { .. })
        ));
        let c = cfg(r#"{"accessToken":"T"}"#);
        assert!(matches!(
            select(&c, &scf).map_err(|e| e.for_api("x")).unwrap(),
            Route::Https(Auth::Supplied(_))
        ));
        let c = Config::from_js("{}", &["authorizerAccessToken".to_string()]).unwrap();
        assert_eq!(
            select(&c, &scf).map_err(|e| e.for_api("x")).unwrap(),
            Route::ThirdParty(Auth::Supplied(Supplied::Function))
        );
        assert_eq!(token_function(&c), Some("authorizerAccessToken"));
        let env = Context::from_pairs([("WX_APPID", "wxe"), ("WX_APPSECRET", "se")]);
        assert!(matches!(
            select(&cfg("{}"), &env)
                .map_err(|e| e.for_api("x"))
                .unwrap(),
            Route::Https(_)
        ));
        assert_eq!(
            select(&cfg("{}"), &scf)
                .map_err(|e| e.for_api("x"))
                .unwrap(),
            Route::Cloud
        );
        let only_id = Context::from_pairs([("TENCENTCLOUD_SECRETID", "id")]);
        assert_eq!(
            select(&cfg("{}"), &only_id)
                .map_err(|e| e.for_api("x"))
                .unwrap(),
            Route::Cloud
        );
        assert_eq!(
            select(
                &cfg(r#"{"secretId":"a","secretKey":"b"}"#),
                &Context::default()
            )
            .map_err(|e| e.for_api("x"))
            .unwrap(),
            Route::Cloud
        );
    }

    #[test]
    fn nothing_usable_says_what_would_work() {
        let err = select(&cfg("{}"), &Context::default())
            .map_err(|e| e.for_api("openapi.tcb.x"))
            .unwrap_err();
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

    /// Options with a function given as `name` (the JavaScript layer's way).
    fn with_function(json: &str, name: &str) -> Config {
        Config::from_js(json, &[name.to_string()]).unwrap()
    }

    #[test]
    fn token_function_follows_the_mode() {
        let c = with_function("{}", "accessToken");
        assert_eq!(token_function(&c), Some("accessToken"));
        let c = with_function(r#"{"mode":"cloud"}"#, "accessToken");
        assert_eq!(token_function(&c), None);
        let c = with_function(
            r#"{"mode":"thirdparty","authorizerAccessToken":"a"}"#,
            "accessToken",
        );
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
            // A token function.
            "FUNCTION authorizerAccessToken".to_string(),
            r#"{"secretId":"AKIDfrominit00005678","secretKey":"INITKEY"}"#.to_string(),
            r#"{"mode":"https"}"#.to_string(),
        ];
        for json in &configs {
            for ctx in [&scf, &bare] {
                let c = match json.strip_prefix("FUNCTION ") {
                    Some(name) => with_function("{}", name),
                    None => cfg(json),
                };
                let e = explain(&c, ctx, "openapi.tcb.x");
                match select(&c, ctx).map_err(|e| e.for_api("openapi.tcb.x")) {
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
    fn explain_shows_the_values_a_call_uses_with_their_sources() {
        let get = |e: &Explanation, n: &str| {
            let s = e.settings.iter().find(|s| s.name == n);
            s.map(|s| (s.value.clone(), s.source.clone()))
        };
        let ctx = Context::from_pairs([
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "k"),
            ("TENCENTCLOUD_SESSIONTOKEN", "envtoken"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TCB_ENV", "own-env"),
        ]);
        // init()'s pair with the environment's session token: each part says where it is from.
        let c = cfg(
            r#"{"secretId":"AKIDfrominit00005678","secretKey":"INITKEY","region":"ap-shanghai"}"#,
        );
        let e = explain(&c, &ctx, "x");
        assert_eq!(get(&e, "secretId").unwrap().1, "init option secretId");
        assert_eq!(get(&e, "secretKey").unwrap().1, "init option secretKey");
        assert_eq!(
            get(&e, "sessionToken").unwrap().1,
            "env TENCENTCLOUD_SESSIONTOKEN"
        );
        assert_eq!(
            get(&e, "region").unwrap(),
            ("ap-shanghai".into(), "init option region".into())
        );
        // The values shown are the ones the call is built from.
        let env = cloud::endpoint::env_id(&c, &ctx);
        let ep = cloud::endpoint::resolve(&c, &ctx, &env, "");
        assert_eq!(get(&e, "env").unwrap().0, env);
        assert_eq!(get(&e, "serviceUrl").unwrap().0, ep.display_url);
        assert_eq!(ep.region.as_deref(), Some("ap-shanghai"));
        let c = cfg(
            r#"{"secretId":"AKIDfrominit00005678","secretKey":"K","sessionToken":"T","env":{"dynamic":true}}"#,
        );
        let e = explain(&c, &ctx, "x");
        assert_eq!(
            get(&e, "sessionToken").unwrap().1,
            "init option sessionToken"
        );
        assert_eq!(
            get(&e, "env").unwrap(),
            (
                "own-env".into(),
                "DYNAMIC_CURRENT_ENV: env TCB_ENV or SCF_NAMESPACE".into()
            )
        );
        assert_eq!(get(&e, "region").unwrap().1, "env TENCENTCLOUD_REGION");

        let c = cfg(
            r#"{"componentAppid":"wxcomp","componentAppsecret":"S","authorizerAppid":"wxa","authorizerRefreshToken":"R"}"#,
        );
        let e = explain(&c, &Context::default(), "x");
        assert_eq!(e.mode, "thirdparty");
        for name in [
            "componentAppid",
            "componentAppsecret",
            "authorizerAppid",
            "authorizerRefreshToken",
        ] {
            assert_eq!(get(&e, name).unwrap().1, format!("init option {name}"));
        }
        let e = explain(
            &cfg(r#"{"appid":"wx1","secret":"S"}"#),
            &Context::default(),
            "x",
        );
        assert_eq!(
            get(&e, "appid").unwrap(),
            ("wx1".into(), "init option appid".into())
        );
        assert_eq!(get(&e, "secret").unwrap().1, "init option secret");
        assert_eq!(get(&e, "apiBaseUrl").unwrap().1, "default");
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
                    select(&cfg(json), ctx).map_err(|e| e.for_api("x")).unwrap(),
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
                select(&cfg(r#"{"mode":"https"}"#), ctx)
                    .map_err(|e| e.for_api("x"))
                    .unwrap(),
                Route::Https(Auth::App { .. })
            ));
            assert!(matches!(
                select(&cfg(r#"{"appid":"wx1","secret":"s"}"#), ctx)
                    .map_err(|e| e.for_api("x"))
                    .unwrap(),
                Route::Https(Auth::App { .. })
            ));
        }
        // Outside a cloud runtime they still pick HTTPS.
        let local = Context::from_pairs(app);
        assert!(matches!(
            select(&cfg("{}"), &local)
                .map_err(|e| e.for_api("x"))
                .unwrap(),
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
        assert_eq!(p.err_code, crate::codes::INVALID_PARAM);
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
