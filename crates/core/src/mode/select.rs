//! Which mode a call uses: [`select`] (and [`token_function`], by the same
//! rules from the options alone).

use secrecy::ExposeSecret;

use crate::env::Context;
use crate::error::{ApiError, Wording};
use crate::https::Auth;
use crate::options::{Config, ModeChoice, Supplied};
use crate::settings::{Source, Sourced};

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
pub(super) fn what_would_work(w: Wording) -> &'static str {
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
pub(super) fn https_from_config(cfg: &Config) -> Option<Sourced<Auth>> {
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
pub(super) fn https_from_env(ctx: &Context) -> Option<Sourced<Auth>> {
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
pub(super) fn third_party(cfg: &Config) -> Option<Sourced<Auth>> {
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
pub(super) fn cloud_runtime(cfg: &Config, ctx: &Context) -> Option<String> {
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
pub(super) struct Choice {
    pub(super) route: Route,
    pub(super) reason: String,
    pub(super) credentials: Option<Source>,
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
pub(super) fn choose(cfg: &Config, ctx: &Context) -> Result<Choice, ApiError> {
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
pub(super) fn choose_by_credentials(cfg: &Config, ctx: &Context) -> Option<Choice> {
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
