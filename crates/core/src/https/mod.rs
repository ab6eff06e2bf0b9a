//! The HTTPS and third-party calling modes: the same call, the same result
//! and the same errors as the cloud call, sent straight to WeChat with an
//! access token.
//!
//! A call reads straight through: the token ([`token`] / [`component`], or
//! the one supplied), the request ([`call::Request`]), the
//! [`transport`](crate::transport), the answer (`answer::wechat_json`). A
//! token error (40001, 40014, 42001) proves the call was not executed: a
//! managed token is then dropped (if it is still the cached one), renewed,
//! and the call sent once more.

pub mod authorization;
pub mod call;
pub mod component;
pub mod events;
pub mod form;
pub mod msg_crypt;
pub mod paths;
pub mod token;

use std::sync::Arc;

use crate::cloud::answer::Success;
use crate::cloud::request::CallInput;
use crate::env::Context;
use crate::error::{fail_msg, ApiError, INVALID_COMMON_PARAM};
use crate::options::{ComponentSettings, Config, ModeChoice, Supplied};
use crate::transport::{self, TransportError};
use component::Hooks;
use token::{is_token_error, Endpoint};

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

/// The base URL: `apiBaseUrl`, else `WX_API_BASE_URL`, else WeChat's.
pub fn base_url(cfg: &Config, ctx: &Context, api: &str) -> Result<String, ApiError> {
    if let Some(b) = &cfg.api_base_url {
        return Ok(b.clone());
    }
    match ctx.non_empty("WX_API_BASE_URL") {
        None => Ok(call::DEFAULT_BASE_URL.to_string()),
        Some(b) => match url::Url::parse(b) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.query().is_none() =>
            {
                Ok(b.trim_end_matches('/').to_string())
            }
            _ => Err(ApiError::cloud(
                INVALID_COMMON_PARAM,
                fail_msg(
                    api,
                    "WX_API_BASE_URL must be an absolute http(s) URL without a query",
                ),
            )),
        },
    }
}

/// Make one call in HTTPS or third-party mode.
///
/// `supplied` is the token the JavaScript layer obtained from a token
/// function; `hooks` are required for [`Auth::Component`].
pub async fn call(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    auth: &Auth,
    supplied: Option<&str>,
    hooks: Option<&Arc<dyn Hooks>>,
    report: &mut HttpsReport,
) -> Result<Success, ApiError> {
    let api = input.display_api();
    let base = base_url(cfg, ctx, &api)?;
    let prepared = call::prepare(input)?;
    report.path = Some(prepared.describe());
    let client = transport::client_for(cfg.proxy.as_deref()).map_err(|e| {
        let msg = match e {
            TransportError::Connect(m) => m,
            other => other.describe(),
        };
        ApiError::plain(
            crate::error::TCB_SYS_ERR,
            fail_msg(&api, &format!("-501001 resource system error. {msg}")),
        )
    })?;
    let req = call::Request {
        client: &client,
        base: &base,
        prepared: &prepared,
        api: &api,
        convert_case: input.convert_case,
        timeout: cfg.timeout,
    };
    match auth {
        Auth::Supplied(s) => {
            let token = match (s, supplied) {
                (Supplied::Value(v), _) => v.as_str(),
                (Supplied::Function, Some(t)) if !t.is_empty() => t,
                (Supplied::Function, _) => {
                    return Err(ApiError::cloud(
                        INVALID_COMMON_PARAM,
                        fail_msg(&api, "the access token function returned no token"),
                    ))
                }
            };
            if let Some(why) = req.unsendable(token) {
                let name = if cfg.mode == Some(ModeChoice::ThirdParty) || cfg.access_token.is_none()
                {
                    "authorizerAccessToken"
                } else {
                    "accessToken"
                };
                let from = match s {
                    Supplied::Value(_) => format!("option `{name}`"),
                    Supplied::Function => format!("the token the `{name}` function returned"),
                };
                return Err(ApiError::cloud(
                    crate::error::INVALID_PARAM,
                    fail_msg(
                        &api,
                        &format!("{from} cannot be sent: {why}; nothing was sent"),
                    ),
                ));
            }
            report.sends += 1;
            let result = req.send(token, &[token]).await;
            if let Err(e) = &result {
                report.token_rejected = is_token_error(e);
            }
            result
        }
        Auth::App { appid, secret } => {
            let secrets = [secret.as_str()];
            let ep = Endpoint {
                client: &client,
                base: &base,
                api: &api,
                timeout: cfg.timeout,
                secrets: &secrets,
            };
            let cell = token::cell(&token::app_key(&base, cfg.token_kind, appid, secret));
            send_renewing_once(&req, &cell, &[secret], report, || {
                token::app_access_token(&ep, &cell, cfg.token_kind, appid, secret)
            })
            .await
        }
        Auth::Component(settings) => {
            let Some(hooks) = hooks else {
                return Err(ApiError::cloud(
                    INVALID_COMMON_PARAM,
                    fail_msg(
                        &api,
                        "getComponentVerifyTicket and onAuthorizerRefreshToken are required",
                    ),
                ));
            };
            let secrets = [
                settings.component_appsecret.as_str(),
                settings.authorizer_refresh_token.as_str(),
            ];
            let ep = Endpoint {
                client: &client,
                base: &base,
                api: &api,
                timeout: cfg.timeout,
                secrets: &secrets,
            };
            let slot = component::slot(&base, settings);
            send_renewing_once(&req, slot.cell(), &[], report, || {
                component::authorizer_access_token(&ep, settings, &slot, hooks.as_ref())
            })
            .await
        }
    }
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
    let mut retried = false;
    loop {
        let t = token().await?;
        report.sends += 1;
        let mut hidden: Vec<&str> = vec![&t];
        hidden.extend_from_slice(secrets);
        match req.send(&t, &hidden).await {
            Err(e) if is_token_error(&e) && !retried => {
                cell.invalidate(&t);
                retried = true;
            }
            other => return other,
        }
    }
}

// The flows against the emulator are tested in crates/emulator/tests/https.rs
// (the emulator depends on this crate).
