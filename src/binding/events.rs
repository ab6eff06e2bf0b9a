//! The napi layer of the third-party event endpoint: open an event
//! (`crate::wire::platform::events`) and act on it with the managed tokens
//! (`crate::token`: the ticket, the authorization code, a revocation), in
//! the application's token store.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::store::TokenStoreHandle;
use super::{settle, Outcome};
use crate::bindings::{ApiError, Config, Context, ErrorClass};
use crate::token::ComponentTokens;
use crate::wire::answer::Success;
use crate::wire::platform::events::{self, EventQuery};
use crate::wire::platform::msg_crypt::MsgCrypt;
use wx_cloud_core::ErrorKind;

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
/// An event endpoint: the platform's message crypto and its managed tokens.
#[napi]
pub struct ComponentEvents {
    crypt: MsgCrypt,
    tokens: Arc<ComponentTokens>,
    config: Arc<Config>,
    context: Arc<Context>,
    timeout: Duration,
}

fn invalid(msg: &str) -> Outcome {
    Outcome::failure(&ApiError::invalid_param(msg).for_api(API))
}

/// Check the handler's options and make the endpoint, its tokens in `store`.
#[napi(catch_unwind)]
pub fn create_component_events(
    options: ComponentEventsOptions,
    store: &TokenStoreHandle,
    hooks: Option<Function<String, Promise<String>>>,
    hook_names: Option<Vec<String>>,
) -> Result<Either<ComponentEvents, Outcome>> {
    let crypt = match MsgCrypt::new(
        &options.token,
        &options.encoding_aes_key,
        &options.component_appid,
    ) {
        Ok(c) => c,
        Err(e) => {
            return Ok(Either::B(invalid(&format!(
                "option `encodingAesKey`: {}",
                e.describe()
            ))))
        }
    };
    if let Some(b) = &options.api_base_url {
        match url::Url::parse(b) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Ok(Either::B(invalid(
                    "option `apiBaseUrl` must be an absolute http(s) URL",
                )))
            }
        }
    }
    let timeout_ms = options
        .timeout_ms
        .unwrap_or(crate::bindings::DEFAULT_TIMEOUT.as_millis() as u32);
    if timeout_ms == 0 {
        return Ok(Either::B(invalid("option `timeout` must be at least 1 ms")));
    }
    // The token requests go out with the client's machinery: a client
    // configuration of the platform's credentials, base URL and proxy.
    let options_json = serde_json::json!({
        "mode": "thirdparty",
        "componentAppid": options.component_appid,
        "componentAppsecret": options.component_appsecret,
        "apiBaseUrl": options.api_base_url.map(|b| b.trim_end_matches('/').to_string()),
        "timeout": timeout_ms,
        "proxy": options.proxy,
        "processEnv": {},
    });
    let config = match Config::from_value(&options_json) {
        Ok(c) => c,
        Err(e) => return Ok(Either::B(Outcome::failure(&e))),
    };
    let Some(settings) = config.component.clone() else {
        return Ok(Either::B(invalid(
            "option `componentAppid` must be a non-empty string",
        )));
    };
    let timeout = Duration::from_millis(u64::from(timeout_ms));
    let hooks = super::store::hooks(hooks, &hook_names.unwrap_or_default())?;
    let tokens = ComponentTokens::for_event_handler(settings, store.inner.clone(), hooks, timeout);
    Ok(Either::A(ComponentEvents {
        crypt,
        tokens,
        config: Arc::new(config),
        context: Arc::new(Context::default()),
        timeout,
    }))
}

#[napi]
impl ComponentEvents {
    /// Check and decrypt one push, then act on it: resolves the event's
    /// fields (JSON text; `authorization` after an authorization, `ignored`
    /// when a newer event for the account was applied already), or a
    /// failed outcome (`componentEvent:fail …`).
    #[napi(catch_unwind)]
    pub fn handle<'env>(
        &self,
        env: &'env Env,
        query: ComponentEventQuery,
        body: Buffer,
    ) -> Result<PromiseRaw<'env, Either<String, Outcome>>> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let opened = self.open(query, &body);
        let (tokens, config, context) = (
            self.tokens.clone(),
            self.config.clone(),
            self.context.clone(),
        );
        settle(env, API.to_string(), async move {
            let event = match opened {
                Ok(e) => e,
                Err(e) => return Outcome::failure(&e),
            };
            match tokens.handle_event(config, context, event, deadline).await {
                Ok(fields) => Outcome::from_result(
                    API,
                    Ok(Success::Json(serde_json::Value::Object(fields).to_string())),
                ),
                Err(e) => Outcome::failure(&e.for_api(API)),
            }
        })
    }

    fn open(
        &self,
        query: ComponentEventQuery,
        body: &[u8],
    ) -> std::result::Result<serde_json::Map<String, serde_json::Value>, ApiError> {
        let q = EventQuery {
            timestamp: query.timestamp.unwrap_or_default(),
            nonce: query.nonce.unwrap_or_default(),
            msg_signature: query.msg_signature.unwrap_or_default(),
        };
        if q.msg_signature.is_empty() {
            return Err(ApiError::failed(
                ErrorKind::InvalidInput,
                ErrorClass::Cloud,
                -40001,
                "the query has no msg_signature (is the platform's message encryption on?)",
            )
            .for_api(API));
        }
        events::open(&self.crypt, &q, body).map_err(|e| {
            ApiError::failed(
                ErrorKind::InvalidInput,
                ErrorClass::Cloud,
                e.code(),
                e.describe(),
            )
            .for_api(API)
        })
    }
}
