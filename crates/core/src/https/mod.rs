//! The HTTPS and third-party calling modes: the same call, the same result
//! and the same errors as the cloud call, sent straight to WeChat with an
//! access token.
//!
//! A call reads straight through: the token ([`token`] / [`component`], or
//! the one supplied), the request ([`call::Request`]), the
//! [`http`](crate::http), the answer (`answer::wechat_json`). A
//! token error (40001, 40014, 42001) proves the call was not executed: a
//! managed token is then dropped (if it is still the cached one), renewed,
//! and the call sent once more (the app's token here; the managed
//! third-party tokens around the call in `crate::mode`, which is above both
//! this module and `crate::token`).

pub mod authorization;
pub mod call;
pub mod component;
pub mod form;
pub mod midas;
pub mod paths;
pub mod token;

use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::call::answer::Success;
use crate::call::input::CallInput;
use crate::env::Context;
use crate::error::{ApiError, ErrorKind};
use crate::http::{self, TransportError};
use crate::options::{ComponentSettings, Config, ModeChoice, Supplied};
use crate::settings::{Source, Sourced};
use token::Endpoint;

/// Where the access token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Given by the caller (`accessToken` / `authorizerAccessToken`).
    Supplied(Supplied),
    /// An app's token managed by the SDK (`appid` + `secret`).
    App { appid: String, secret: String },
    /// An authorizer's token managed by the SDK (component settings).
    Component(ComponentSettings),
}

/// What a finished HTTPS call reports besides its result.
#[derive(Debug, Clone, Default)]
pub struct HttpsReport {
    /// Requests sent to the API (2 when a token error caused a retry).
    pub sends: u32,
    /// A supplied token was rejected (40001/40014/42001): the JavaScript
    /// layer may ask its token function again and retry once.
    pub token_rejected: bool,
    /// Method and path, and whether the path table gave them.
    pub path: Option<String>,
}

/// A failure to connect to WeChat's own host (the default base URL) says
/// which option points the HTTPS modes elsewhere: offline, a DNS error for
/// api.weixin.qq.com is most often a missing `apiBaseUrl`.
pub(crate) fn with_base_hint(
    e: crate::http::TransportError,
    base: &str,
) -> crate::http::TransportError {
    use crate::http::TransportError;
    match e {
        TransportError::Connect(c) if base == call::DEFAULT_BASE_URL => TransportError::Connect(format!(
            "{c} (the default {base}: apiBaseUrl or WX_API_BASE_URL points the HTTPS and third-party modes elsewhere, e.g. an emulator's httpsBaseUrl)"
        )),
        other => other,
    }
}

/// The base URL: `apiBaseUrl`, else `WX_API_BASE_URL`, else WeChat's.
pub fn base_url(cfg: &Config, ctx: &Context) -> Result<String, ApiError> {
    sourced_base_url(cfg, ctx).map(|b| b.value)
}

/// [`base_url`], with where it came from.
pub fn sourced_base_url(cfg: &Config, ctx: &Context) -> Result<Sourced<String>, ApiError> {
    if let Some(b) = &cfg.api_base_url {
        return Ok(Sourced::new(b.to_string(), Source::Init(&["apiBaseUrl"])));
    }
    match ctx.non_empty("WX_API_BASE_URL") {
        None => Ok(Sourced::new(
            call::DEFAULT_BASE_URL.to_string(),
            Source::Runtime("default"),
        )),
        Some(b) => match url::Url::parse(b) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.query().is_none() =>
            {
                Ok(Sourced::new(
                    b.trim_end_matches('/').to_string(),
                    Source::Env(&["WX_API_BASE_URL"]),
                ))
            }
            _ => Err(ApiError::invalid_config(
                "WX_API_BASE_URL must be an absolute http(s) URL without a query",
            )),
        },
    }
}

/// The HTTP client of the configured proxy (or the shared direct one).
fn http_client(cfg: &Config) -> Result<crate::http::Client, ApiError> {
    http::client_for(cfg.proxy.as_deref()).map_err(|e| {
        let e_kind = e.kind();
        let msg = match e {
            TransportError::Connect(m) => m,
            other => other.describe(),
        };
        ApiError::sys_err(e_kind, &msg)
    })
}

/// `openapi({ appid })` asked for an account this configuration cannot act
/// for: never fall back to the default account.
fn other_account(wording: crate::error::Wording, asked: &str, why: &str) -> ApiError {
    let quoted = format!("\"{asked}\"");
    ApiError::invalid_param(match wording {
        crate::error::Wording::Node => {
            format!("option `appid` of openapi({{ appid }}) is {quoted}, but {why}")
        }
        crate::error::Wording::Rust => {
            format!("{} was called, but {why}", wording.for_appid(&quoted))
        }
    })
}

/// Check `openapi({ appid })` against the account the configured
/// credentials belong to (a token function or the managed third-party mode
/// serve any account: the JavaScript layer asks them for the one wanted).
fn check_account(cfg: &Config, input: &CallInput, auth: &Auth) -> Result<(), ApiError> {
    let Some(asked) = input.appid.as_deref() else {
        return Ok(());
    };
    match auth {
        Auth::App { appid, .. } if appid != asked => Err(other_account(
            cfg.wording,
            asked,
            &match cfg.wording {
                crate::error::Wording::Node => format!(
                    "init() has the secret of \"{appid}\" only; use a client initialised with that account's \
                     appid and secret, or an accessToken function (it receives {{ appid }})"
                ),
                crate::error::Wording::Rust => format!(
                    "Client::from_options has the secret of \"{appid}\" only; use a client made with that \
                     account's appid and secret"
                ),
            },
        )),
        Auth::Supplied(Supplied::Value(_)) if cfg.appid.as_deref() != Some(asked) => {
            Err(other_account(
                cfg.wording,
                asked,
                match cfg.wording {
                    crate::error::Wording::Node => "the access token given to init() is a fixed string of one account; pass a token \
                     function instead (it receives { appid, forceRefresh })",
                    crate::error::Wording::Rust => "the access token given to Client::from_options is a fixed string of one \
                     account; use a client made with that account's token",
                },
            ))
        }
        _ => Ok(()),
    }
}

/// One call in HTTPS or third-party mode with the token the caller holds
/// (`supplied`) or the configured one, its failures without the
/// `{api}:fail ` prefix (`crate::mode` adds it, and runs the managed
/// third-party tokens around this).
pub(crate) async fn call_unprefixed(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    auth: &Auth,
    supplied: Option<&str>,
    timeout: std::time::Duration,
    report: &mut HttpsReport,
) -> Result<Success, ApiError> {
    let api = input.display_api();
    check_account(cfg, input, auth)?;
    let base = base_url(cfg, ctx)?;
    let prepared = call::prepare(input)?;
    report.path = Some(prepared.describe());
    let client = http_client(cfg)?;
    let req = call::Request {
        client: &client,
        base: &base,
        prepared: &prepared,
        api: &api,
        convert_case: input.convert_case,
        timeout,
    };
    let given = |what: &str| match supplied {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(ApiError::invalid_config(format!(
            "{what} returned no token"
        ))),
    };
    let token = match auth {
        Auth::Supplied(Supplied::Value(v)) => v.expose_secret(),
        Auth::Supplied(Supplied::Function) => given("the access token function")?,
        Auth::Component(_) => given("the third-party token manager")?,
        Auth::App { appid, secret } => {
            let secrets = [secret.as_str()];
            let ep = Endpoint {
                client: &client,
                base: &base,
                timeout: cfg.timeout(),
                secrets: &secrets,
            };
            let cell = token::cell(&token::app_key(&base, cfg.token_kind, appid, secret));
            return send_renewing_once(&req, &cell, &[secret], report, || {
                token::app_access_token(&ep, &cell, cfg.token_kind, appid, secret)
            })
            .await;
        }
    };
    if let Some(why) = req.unsendable(token) {
        let from = match auth {
            Auth::Supplied(s) => {
                let name = if cfg.mode == Some(ModeChoice::ThirdParty) || cfg.access_token.is_none()
                {
                    "authorizerAccessToken"
                } else {
                    "accessToken"
                };
                match s {
                    Supplied::Value(_) => format!("option `{name}`"),
                    Supplied::Function => format!("the token the `{name}` function returned"),
                }
            }
            _ => "the authorizer access token".to_string(),
        };
        return Err(ApiError::invalid_param(format!(
            "{from} cannot be sent: {why}; nothing was sent"
        )));
    }
    report.sends += 1;
    let result = req.send(token, &[token]).await;
    if let Err(e) = &result {
        report.token_rejected = e.kind == ErrorKind::TokenRejected;
    }
    result
}

/// Which third-party token request [`third_party_token`] sends.
pub enum TokenRequest<'a> {
    Component {
        ticket: &'a str,
    },
    Authorizer {
        component_token: &'a str,
        authorizer_appid: &'a str,
        refresh_token: &'a str,
    },
}

/// What the platform's own requests go out with: its settings, the base
/// URL and the HTTP client of the configured proxy.
fn platform<'c>(
    cfg: &'c Config,
    ctx: &Context,
) -> Result<(&'c ComponentSettings, String, crate::http::Client), ApiError> {
    let Some(settings) = cfg.component.as_ref() else {
        return Err(ApiError::invalid_config(
            "componentAppid and componentAppsecret are not configured",
        ));
    };
    Ok((settings, base_url(cfg, ctx)?, http_client(cfg)?))
}

/// Send one of the third-party token requests with the client's settings
/// (base URL, proxy) within `timeout`: the token, its lifetime, and a
/// rotated refresh token if WeChat sent one. Failures come without the
/// `{api}:fail ` prefix (the call adds it).
pub async fn third_party_token(
    cfg: &Config,
    ctx: &Context,
    request: TokenRequest<'_>,
    timeout: std::time::Duration,
) -> Result<(token::Fetched, Option<String>), ApiError> {
    let (settings, base, client) = platform(cfg, ctx)?;
    let secrets = [settings.component_appsecret.expose_secret()];
    let ep = Endpoint {
        client: &client,
        base: &base,
        timeout,
        secrets: &secrets,
    };
    match request {
        TokenRequest::Component { ticket } => component::component_token(
            &ep,
            &settings.component_appid,
            settings.component_appsecret.expose_secret(),
            ticket,
        )
        .await
        .map(|f| (f, None)),
        TokenRequest::Authorizer {
            component_token,
            authorizer_appid,
            refresh_token,
        } => {
            component::authorizer_token(
                &ep,
                &settings.component_appid,
                component_token,
                authorizer_appid,
                refresh_token,
            )
            .await
        }
    }
}

/// `api_query_auth` with the client's settings (base URL, proxy) within
/// `timeout`: the authorizer's tokens for an authorization code. Failures
/// come without the `{api}:fail ` prefix.
pub async fn query_auth(
    cfg: &Config,
    ctx: &Context,
    component_token: &str,
    code: &str,
    timeout: std::time::Duration,
) -> Result<authorization::Authorization, ApiError> {
    let (settings, base, client) = platform(cfg, ctx)?;
    let secrets = [settings.component_appsecret.expose_secret()];
    let ep = Endpoint {
        client: &client,
        base: &base,
        timeout,
        secrets: &secrets,
    };
    authorization::query_auth(&ep, &settings.component_appid, component_token, code).await
}

/// Send with a managed token. When WeChat rejects it (a token error proves
/// the call did not execute), drop it if it is still the cached one, get a
/// new one and send once more.
async fn send_renewing_once<F, Fut>(
    req: &call::Request<'_>,
    cell: &token::TokenCell,
    secrets: &[&str],
    report: &mut HttpsReport,
    mut token: F,
) -> Result<Success, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Arc<str>, ApiError>>,
{
    // One deadline for the call: the request gets what the token left.
    let deadline = tokio::time::Instant::now() + req.timeout;
    let mut retried = false;
    loop {
        let t = token().await?;
        let left = deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .max(std::time::Duration::from_millis(1));
        let req = call::Request {
            timeout: left,
            ..*req
        };
        report.sends += 1;
        let mut hidden: Vec<&str> = vec![&t];
        hidden.extend_from_slice(secrets);
        match req.send(&t, &hidden).await {
            Err(e) if e.kind == ErrorKind::TokenRejected && !retried => {
                cell.invalidate(&t);
                retried = true;
            }
            other => return other,
        }
    }
}

// The flows against the emulator (over loopback: no type of this crate
// crosses into the emulator's copy of it).
#[cfg(test)]
mod flows;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::TransportError;

    #[test]
    fn a_connect_failure_to_wechats_host_names_the_option_that_points_elsewhere() {
        let hinted = with_base_hint(
            TransportError::Connect("dns error".into()),
            call::DEFAULT_BASE_URL,
        );
        let TransportError::Connect(text) = hinted else {
            panic!("still a connect failure")
        };
        assert!(
            text.starts_with(
                "dns error (the default https://api.weixin.qq.com: apiBaseUrl or WX_API_BASE_URL"
            ),
            "{text}"
        );
        // Another base (the user chose it) and other failures are left alone.
        let other = with_base_hint(
            TransportError::Connect("refused".into()),
            "http://127.0.0.1:9",
        );
        assert_eq!(other, TransportError::Connect("refused".into()));
        let io = with_base_hint(TransportError::Io("reset".into()), call::DEFAULT_BASE_URL);
        assert_eq!(io, TransportError::Io("reset".into()));
    }
}
