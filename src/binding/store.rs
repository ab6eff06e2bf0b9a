//! The application's JavaScript token store (`cloud.memoryStore()`,
//! `cloud.redisStore(client)`, or its own object) and its callbacks, as the
//! core's [`TokenStore`] and [`ComponentHooks`]: every operation is a call
//! into JavaScript through a threadsafe function, answered by a promise.
//!
//! The JavaScript side (`lib/store.js` `bridge`) is one function per store
//! that takes a request as JSON text (`["get", key]`, `["set", key, value,
//! ttlMs]`, …) and resolves JSON text, `{"ok":true,"value":…}` or
//! `{"ok":false,"error":"…"}`: it never throws and never rejects, so
//! nothing a user's store does can reach the runtime as an exception.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::token::{
    CachedStore, ComponentHooks, StoreError, StoreFuture, TokenFunction, TokenReply, TokenStore,
};

/// A JavaScript function `(requestJson) => Promise<responseJson>`, callable
/// from any thread. Weak: it never keeps the process alive by itself.
type Bridge = ThreadsafeFunction<String, Promise<String>, String, Status, false, true>;

/// Make a threadsafe bridge of a JavaScript function.
fn bridge(f: Function<String, Promise<String>>) -> Result<Arc<Bridge>> {
    let tsfn = f
        .build_threadsafe_function::<String>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    Ok(Arc::new(tsfn))
}

/// Ask JavaScript: its answer's `value`, or its `error` text.
async fn ask(bridge: &Bridge, request: Value) -> std::result::Result<Value, String> {
    let promise = bridge
        .call_async_catch(request.to_string())
        .await
        .map_err(|e| e.reason.clone())?;
    let text = promise.await.map_err(|e| e.reason.clone())?;
    let mut answer: Value = serde_json::from_str(&text)
        .map_err(|_| "the store bridge answered something other than JSON".to_string())?;
    if answer["ok"] == Value::Bool(true) {
        Ok(answer["value"].take())
    } else {
        Err(answer["error"].as_str().unwrap_or("failed").to_string())
    }
}

/// A store whose operations run in JavaScript.
struct JsStore {
    bridge: Arc<Bridge>,
    kind: String,
}

impl JsStore {
    fn run<'a, T: 'a>(
        &'a self,
        request: Value,
        read: impl FnOnce(Value) -> std::result::Result<T, String> + Send + 'a,
    ) -> StoreFuture<'a, T> {
        Box::pin(async move {
            let value = ask(&self.bridge, request).await.map_err(StoreError)?;
            read(value).map_err(StoreError)
        })
    }
}

fn text(v: Value) -> std::result::Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Ok(Some(other.to_string())),
    }
}

fn ms(ttl: Duration) -> f64 {
    (ttl.as_millis() as f64).max(1.0)
}

impl TokenStore for JsStore {
    fn kind(&self) -> String {
        self.kind.clone()
    }

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>> {
        self.run(json!(["get", key]), text)
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()> {
        self.run(json!(["set", key, value, ttl.map(ms)]), |_| Ok(()))
    }

    fn compare_and_delete<'a>(&'a self, key: &'a str, expected: &'a str) -> StoreFuture<'a, bool> {
        self.run(json!(["compareAndDelete", key, expected]), |v| {
            Ok(v.as_bool().unwrap_or(false))
        })
    }

    fn lock<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Option<String>> {
        self.run(json!(["lock", key, ms(ttl)]), text)
    }

    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        self.run(json!(["unlock", key, owner]), |_| Ok(()))
    }
}

/// A token store of the application, with this process's cache in front:
/// made once per store object by `lib/store.js` and shared by every client
/// and event handler that uses it.
#[napi]
pub struct TokenStoreHandle {
    pub(crate) inner: Arc<CachedStore>,
}

#[napi]
impl TokenStoreHandle {
    /// Drop this process's cached copy of `key` (the next use reads the store).
    #[napi(catch_unwind)]
    pub fn forget(&self, key: String) {
        self.inner.forget(&key, None);
    }
}

/// Wrap a JavaScript token store's bridge (see the module's docs).
///
/// ```js
/// const handle = binding.createTokenStore(bridge(store), store.kind || 'custom')
/// ```
#[napi(catch_unwind)]
pub fn create_token_store(
    bridge_fn: Function<String, Promise<String>>,
    kind: String,
) -> Result<TokenStoreHandle> {
    let store = JsStore {
        bridge: bridge(bridge_fn)?,
        kind,
    };
    Ok(TokenStoreHandle {
        inner: CachedStore::new(Arc::new(store)),
    })
}

/// The `init()` callbacks of the managed third-party mode, through one
/// bridge: `["getComponentVerifyTicket"]`, `["getAuthorizerRefreshToken",
/// appid]`, `["onAuthorizerRefreshToken", token, appid]`. `names` lists
/// the callbacks the application gave.
pub(crate) fn hooks(
    bridge_fn: Option<Function<String, Promise<String>>>,
    names: &[String],
) -> Result<ComponentHooks> {
    let Some(f) = bridge_fn else {
        return Ok(ComponentHooks::default());
    };
    let b = bridge(f)?;
    let has = |n: &str| names.iter().any(|x| x == n);
    let mut hooks = ComponentHooks::default();
    if has("getComponentVerifyTicket") {
        let b = b.clone();
        hooks.verify_ticket = Some(Arc::new(move |()| {
            let b = b.clone();
            Box::pin(async move { text(ask(&b, json!(["getComponentVerifyTicket"])).await?) })
        }));
    }
    if has("getAuthorizerRefreshToken") {
        let b = b.clone();
        hooks.refresh_token = Some(Arc::new(move |appid: String| {
            let b = b.clone();
            Box::pin(
                async move { text(ask(&b, json!(["getAuthorizerRefreshToken", appid])).await?) },
            )
        }));
    }
    if has("onAuthorizerRefreshToken") {
        hooks.on_refresh_token = Some(Arc::new(move |(token, appid): (String, String)| {
            let b = b.clone();
            Box::pin(async move {
                ask(&b, json!(["onAuthorizerRefreshToken", token, appid]))
                    .await
                    .map(|_| ())
            })
        }));
    }
    Ok(hooks)
}

/// The token function `name` (`accessToken` or `authorizerAccessToken`)
/// through the bridge: `[name, appid, forceRefresh]` answers the token, or
/// `{ got }`, what the function returned instead (`lib/store.js`).
pub(crate) fn token_function(
    bridge_fn: Function<String, Promise<String>>,
    name: &str,
) -> Result<TokenFunction> {
    let b = bridge(bridge_fn)?;
    let name = name.to_string();
    Ok(Arc::new(
        move |(appid, force_refresh): (Option<String>, bool)| {
            let (b, request) = (b.clone(), json!([name, appid, force_refresh]));
            Box::pin(async move {
                Ok(match ask(&b, request).await? {
                    Value::String(token) => TokenReply::Token(token),
                    other => {
                        TokenReply::NotAToken(other["got"].as_str().unwrap_or("?").to_string())
                    }
                })
            })
        },
    ))
}
