//! What a call would do, without making it: [`explain`] tells the story
//! [`super::select`] decides.

use super::select::*;
use crate::cloud;
use crate::env::Context;
use crate::error::ApiError;
use crate::https::{self, Auth};
use crate::options::{Config, Supplied, TokenKind};
use crate::redact::redact_url_userinfo;
use crate::settings::{self, Source};

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
pub(super) struct Shown {
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
pub(super) fn show_cloud(shown: &mut Shown, cfg: &Config, ctx: &Context, api: &str) {
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
pub(super) fn show_auth(
    shown: &mut Shown,
    route: &Route,
    auth: &Auth,
    source: Source,
    cfg: &Config,
) {
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
