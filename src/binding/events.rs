//! The napi layer of the third-party event endpoint: open an event
//! (`crate::https::events`), exchange an authorization code
//! (`crate::https::authorization`).
//! Acting on events (the store) is `lib/component-events.js`'s.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use secrecy::ExposeSecret;

use super::{settle, Outcome};
use crate::cloud::answer::Success;
use crate::error::{ApiError, ErrorClass, ErrorKind};
use crate::https::events::{self, EventQuery};
use crate::https::msg_crypt::MsgCrypt;
use crate::https::token::Endpoint;

/// The display name of the handler in errors (`componentEvent:fail …`).
const API: &str = "componentEvent";

/// Options of `createComponentEventHandler`, checked for type by JavaScript.
#[napi(object)]
pub struct ComponentEventsOptions {
    pub component_appid: String,
    pub component_appsecret: String,
    pub token: String,
    pub encoding_aes_key: String,
    /// Base URL of the WeChat API (default `https://api.weixin.qq.com`).
    pub api_base_url: Option<String>,
    /// Milliseconds for `api_query_auth` (and the component token before it).
    pub timeout_ms: Option<u32>,
    pub proxy: Option<String>,
}

/// The query parameters of an event request.
#[napi(object)]
pub struct ComponentEventQuery {
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub msg_signature: Option<String>,
}

/// One platform's event endpoint.
#[napi]
pub struct ComponentEvents {
    crypt: MsgCrypt,
    component_appsecret: String,
    base: String,
    timeout: Duration,
    proxy: Option<String>,
}

fn invalid(msg: &str) -> Outcome {
    Outcome::failure(&ApiError::invalid_param(msg).for_api(API))
}

/// Check the options and make the endpoint, or explain which option is wrong.
#[napi(catch_unwind)]
pub fn create_component_events(
    options: ComponentEventsOptions,
) -> Either<ComponentEvents, Outcome> {
    let crypt = match MsgCrypt::new(
        &options.token,
        &options.encoding_aes_key,
        &options.component_appid,
    ) {
        Ok(c) => c,
        Err(e) => {
            return Either::B(invalid(&format!(
                "option `encodingAesKey`: {}",
                e.describe()
            )))
        }
    };
    let base = match options.api_base_url {
        None => crate::https::call::DEFAULT_BASE_URL.to_string(),
        Some(b) => match url::Url::parse(&b) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                b.trim_end_matches('/').to_string()
            }
            _ => {
                return Either::B(invalid(
                    "option `apiBaseUrl` must be an absolute http(s) URL",
                ))
            }
        },
    };
    let timeout_ms = options
        .timeout_ms
        .unwrap_or(crate::options::DEFAULT_TIMEOUT.as_millis() as u32);
    if timeout_ms == 0 {
        return Either::B(invalid("option `timeout` must be at least 1 ms"));
    }
    Either::A(ComponentEvents {
        crypt,
        component_appsecret: options.component_appsecret,
        base,
        timeout: Duration::from_millis(u64::from(timeout_ms)),
        proxy: options.proxy,
    })
}

#[napi]
impl ComponentEvents {
    /// Check and decrypt one event request: its fields as JSON text, or the
    /// failure (errCode -40001 signature, -40002 XML, -40005 appid, -40007
    /// padding, -40008 length, -40010 Base64).
    #[napi(catch_unwind)]
    pub fn open(&self, query: ComponentEventQuery, body: Buffer) -> Either<String, Outcome> {
        let q = EventQuery {
            timestamp: query.timestamp.unwrap_or_default(),
            nonce: query.nonce.unwrap_or_default(),
            msg_signature: query.msg_signature.unwrap_or_default(),
        };
        if q.msg_signature.is_empty() {
            return Either::B(Outcome::failure(
                &ApiError::failed(
                    ErrorKind::InvalidInput,
                    ErrorClass::Cloud,
                    -40001,
                    "the query has no msg_signature (is the platform's message encryption on?)",
                )
                .for_api(API),
            ));
        }
        match events::open(&self.crypt, &q, &body) {
            Ok(fields) => Either::A(serde_json::Value::Object(fields).to_string()),
            Err(e) => Either::B(Outcome::failure(
                &ApiError::failed(
                    ErrorKind::InvalidInput,
                    ErrorClass::Cloud,
                    e.code(),
                    e.describe(),
                )
                .for_api(API),
            )),
        }
    }

    /// `api_component_token` with `ticket`: resolves to JSON `{ token,
    /// expiresIn }` (the shape of the client's `tokenRequest`), so that the
    /// handler's component token lives in the token store the platform's
    /// clients share (`lib/third-party.js`).
    #[napi(catch_unwind)]
    pub fn component_token<'env>(
        &self,
        env: &'env Env,
        ticket: String,
        timeout_ms: f64,
    ) -> Result<PromiseRaw<'env, Either<String, Outcome>>> {
        let to = self.wechat(timeout_ms);
        settle(env, API.to_string(), async move {
            let client = match to.client() {
                Ok(c) => c,
                Err(e) => return Outcome::failure(&e),
            };
            let secrets = [to.secret.as_str(), ticket.as_str()];
            let ep = to.endpoint(&client, &secrets);
            match crate::https::component::component_token(&ep, &to.appid, &to.secret, &ticket)
                .await
            {
                Ok(f) => json_outcome(serde_json::json!({
                    "token": f.token.expose_secret(),
                    "expiresIn": f.expires_in.as_secs_f64(),
                })),
                Err(e) => Outcome::failure(&e.for_api(API)),
            }
        })
    }

    /// `api_query_auth`: exchange an authorization code with the platform's
    /// `componentToken`. Resolves to JSON `{ authorizerAppid,
    /// authorizerAccessToken, expiresIn, authorizerRefreshToken, funcInfo }`;
    /// a rejected component token fails with WeChat's code (40001, 40014,
    /// 42001), the code still unused.
    #[napi(catch_unwind)]
    pub fn query_auth<'env>(
        &self,
        env: &'env Env,
        code: String,
        component_token: String,
        timeout_ms: f64,
    ) -> Result<PromiseRaw<'env, Either<String, Outcome>>> {
        let to = self.wechat(timeout_ms);
        settle(env, API.to_string(), async move {
            let client = match to.client() {
                Ok(c) => c,
                Err(e) => return Outcome::failure(&e),
            };
            let secrets = [to.secret.as_str()];
            let ep = to.endpoint(&client, &secrets);
            let run =
                crate::https::authorization::query_auth(&ep, &to.appid, &component_token, &code);
            match run.await {
                Ok(a) => json_outcome(serde_json::json!({
                    "authorizerAppid": a.authorizer_appid,
                    "authorizerAccessToken": a.access_token.expose_secret(),
                    "expiresIn": a.expires_in_secs,
                    "authorizerRefreshToken": a.refresh_token.expose_secret(),
                    "funcInfo": a.func_info,
                })),
                Err(e) => Outcome::failure(&e.for_api(API)),
            }
        })
    }

    /// What is left of the handler's timeout for one request (at most the
    /// handler's `timeout`, at least 1 ms).
    fn within(&self, timeout_ms: f64) -> Duration {
        let ms = if timeout_ms.is_finite() {
            timeout_ms.max(1.0)
        } else {
            1.0
        };
        Duration::from_millis(ms as u64).min(self.timeout)
    }

    /// What a request to the WeChat API needs, owned (it outlives `&self`
    /// in the call's future).
    fn wechat(&self, timeout_ms: f64) -> WeChatRequest {
        WeChatRequest {
            appid: self.crypt.appid().to_string(),
            secret: self.component_appsecret.clone(),
            base: self.base.clone(),
            proxy: self.proxy.clone(),
            timeout: self.within(timeout_ms),
        }
    }
}

/// The component's settings for one request to the WeChat API.
struct WeChatRequest {
    appid: String,
    secret: String,
    base: String,
    proxy: Option<String>,
    timeout: Duration,
}

impl WeChatRequest {
    /// The HTTP client of the configured proxy; no client (a bad proxy)
    /// is the request's failure.
    fn client(&self) -> std::result::Result<reqwest::Client, ApiError> {
        crate::transport::client_for(self.proxy.as_deref())
            .map_err(|e| ApiError::sys_err(e.kind(), &e.describe()).for_api(API))
    }

    /// The endpoint, keeping `secrets` out of its messages.
    fn endpoint<'a>(&'a self, client: &'a reqwest::Client, secrets: &'a [&'a str]) -> Endpoint<'a> {
        Endpoint {
            client,
            base: &self.base,
            timeout: self.timeout,
            secrets,
        }
    }
}

/// A JSON value as the handler's success outcome.
fn json_outcome(value: serde_json::Value) -> Outcome {
    Outcome::from_result(API, Ok(Success::Json(value.to_string())))
}
