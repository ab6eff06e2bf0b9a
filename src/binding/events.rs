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
use crate::bindings::{self, ApiError, Config, Context, ErrorClass};
use crate::token::ComponentTokens;
use crate::wire::answer::Success;
use crate::wire::platform::events::{self, EventQuery};
use crate::wire::platform::msg_crypt::MsgCrypt;
use wx_cloud_core::ErrorKind;

/// The display name of the handler in errors (`componentEvent:fail …`).
const API: &str = "componentEvent";

/// Options of `createComponentEventHandler` (those JavaScript does not
/// keep: the store and the callback), read from their JSON text, each
/// problem named by its option.
struct HandlerOptions {
    component_appid: String,
    component_appsecret: String,
    token: String,
    encoding_aes_key: String,
    /// Base URL of the WeChat API (default `https://api.weixin.qq.com`).
    api_base_url: Option<String>,
    /// Milliseconds for `api_query_auth` (and the component token before it).
    timeout_ms: u64,
    proxy: Option<String>,
}

impl HandlerOptions {
    fn read(text: &str) -> std::result::Result<HandlerOptions, String> {
        use serde_json::Value;
        let options = match bindings::js_json(text)? {
            Value::Object(o) => o,
            _ => return Err("options must be an object".to_string()),
        };
        let given = |name: &str| options.get(name).filter(|v| !v.is_null());
        let required = |name: &str| match given(name) {
            Some(Value::String(s)) if !bindings::js_trim(s).is_empty() => Ok(s.clone()),
            _ => Err(format!("option `{name}` must be a non-empty string")),
        };
        let optional = |name: &str| match given(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("option `{name}` must be a string")),
        };
        let timeout_ms = match given("timeout") {
            None => bindings::DEFAULT_TIMEOUT.as_millis() as u64,
            Some(v) => v
                .as_u64()
                .filter(|ms| (1..=bindings::MAX_TIMEOUT_MS).contains(ms))
                .ok_or_else(|| {
                    format!(
                        "option `timeout` must be a number of milliseconds between 1 and {}",
                        bindings::MAX_TIMEOUT_MS
                    )
                })?,
        };
        Ok(HandlerOptions {
            component_appid: required("componentAppid")?,
            component_appsecret: required("componentAppsecret")?,
            token: required("token")?,
            encoding_aes_key: required("encodingAesKey")?,
            api_base_url: optional("apiBaseUrl")?,
            timeout_ms,
            proxy: optional("proxy")?.filter(|p| !p.is_empty()),
        })
    }
}

/// The query parameters of an event request.
#[napi(object)]
#[derive(Default)]
pub struct ComponentEventQuery {
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub msg_signature: Option<String>,
}

impl ComponentEventQuery {
    /// The fields of a request URL or of its query string, as
    /// `URLSearchParams` reads them (the first value of each).
    fn parse(url: &str) -> ComponentEventQuery {
        let text = url.split_once('?').map_or(url, |(_, q)| q);
        // URLSearchParams drops one leading `?` of its text.
        let text = text.strip_prefix('?').unwrap_or(text);
        let mut q = ComponentEventQuery::default();
        for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
            let field = match &*k {
                "timestamp" => &mut q.timestamp,
                "nonce" => &mut q.nonce,
                "msg_signature" => &mut q.msg_signature,
                _ => continue,
            };
            field.get_or_insert_with(|| v.into_owned());
        }
        q
    }
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
    options_json: String,
    store: &TokenStoreHandle,
    hooks: Option<Function<String, Promise<String>>>,
    hook_names: Option<Vec<String>>,
) -> Result<Either<ComponentEvents, Outcome>> {
    let options = match HandlerOptions::read(&options_json) {
        Ok(o) => o,
        Err(msg) => return Ok(Either::B(invalid(&msg))),
    };
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
    let timeout_ms = options.timeout_ms;
    // The token requests go out with the client's machinery: a client
    // configuration of the platform's credentials, base URL and proxy.
    let config_json = serde_json::json!({
        "mode": "thirdparty",
        "componentAppid": options.component_appid,
        "componentAppsecret": options.component_appsecret,
        "apiBaseUrl": options.api_base_url.map(|b| b.trim_end_matches('/').to_string()),
        "timeout": timeout_ms,
        "proxy": options.proxy,
        "processEnv": {},
    });
    let config = match Config::from_value(&config_json) {
        Ok(c) => c,
        // The client configuration's `init:fail` is this handler's.
        Err(e) => {
            return Ok(Either::B(invalid(
                e.err_msg.trim_start_matches("init:fail "),
            )))
        }
    };
    let Some(settings) = config.component.clone() else {
        return Ok(Either::B(invalid(
            "option `componentAppid` must be a non-empty string",
        )));
    };
    let timeout = Duration::from_millis(timeout_ms);
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
    /// failed outcome (`componentEvent:fail …`). `query` is the request
    /// URL, its query string, or the three fields.
    #[napi(catch_unwind)]
    pub fn handle<'env>(
        &self,
        env: &'env Env,
        query: Either<String, ComponentEventQuery>,
        body: Buffer,
    ) -> Result<PromiseRaw<'env, Either<String, Outcome>>> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let query = match query {
            Either::A(url) => ComponentEventQuery::parse(&url),
            Either::B(fields) => fields,
        };
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
                // Every failure of the handler is a CloudSDKError, without a hint.
                Err(e) => Outcome {
                    cloud_error: true,
                    hint: None,
                    ..Outcome::failure(&e.for_api(API))
                },
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

#[cfg(test)]
mod tests {
    use super::ComponentEventQuery;

    #[test]
    fn a_query_is_read_as_url_search_params_reads_it() {
        let fields = |url: &str| {
            let q = ComponentEventQuery::parse(url);
            (q.timestamp, q.nonce, q.msg_signature)
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            fields("/wechat/component?timestamp=1&nonce=a+b%2B&msg_signature=x&timestamp=2"),
            (some("1"), some("a b+"), some("x"))
        );
        assert_eq!(fields("nonce=n"), (None, some("n"), None));
        assert_eq!(fields("/p??nonce=n&x"), (None, some("n"), None));
        assert_eq!(fields("/p?a=1?nonce=n"), (None, None, None));
        assert_eq!(fields(""), (None, None, None));
    }
}
