//! The application's JavaScript token store (its own object) and its
//! callbacks, as the core's [`TokenStore`] and [`ComponentHooks`]: every
//! operation is a call into JavaScript through a threadsafe function,
//! answered by a promise. `cloud.memoryStore()` is the core's
//! [`MemoryStore`], and `cloud.redisStore(client)` the core's
//! [`CommandStore`], its commands sent through the application's client.
//!
//! The JavaScript side (`lib/store.js` `bridge`) is one function per store
//! that takes a request as JSON text (`["get", key]`, `["set", key, value,
//! ttlMs]`, …) and resolves JSON text, `{"ok":true,"value":…}` or
//! `{"ok":false,"error":"…"}`: it never throws and never rejects, so
//! nothing a user's store does can reach the runtime as an exception.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{check_status, sys, ValueType};
use napi_derive::napi;
use serde_json::{json, Value};

use crate::token::{
    CachedStore, CommandStore, ComponentHooks, MemoryStore, RedisCommands, StoreError, StoreFuture,
    TokenFunction, TokenReply, TokenStore,
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

/// What napi reports when a JavaScript promise it awaits was collected
/// without settling (futures' `Canceled`).
const ONESHOT_CANCELED: &str = "oneshot canceled";

/// Ask JavaScript: its answer's `value`, or its `error` text.
async fn ask(bridge: &Bridge, request: Value) -> std::result::Result<Value, String> {
    let promise = bridge
        .call_async_catch(request.to_string())
        .await
        .map_err(|e| e.reason.clone())?;
    let text = match promise.await {
        Ok(text) => text,
        // The bridge's promise never rejects (lib/store.js `answer`). A
        // promise that never settles (a callback or store that never
        // answers) can be collected by V8's GC, and napi then drops our end
        // of it: that is "no answer yet", not a failure, so wait on and let
        // the caller's deadline say what happened.
        Err(e) if e.reason == ONESHOT_CANCELED => std::future::pending().await,
        Err(e) => return Err(e.reason.clone()),
    };
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

/// A token store with this process's cache in front: the application's
/// JavaScript store (made once per store object by `lib/store.js`), or the
/// core's [`MemoryStore`] (`cloud.memoryStore()`), which a client or event
/// handler given it uses directly, without a bridge. Shared by every client
/// and event handler that uses it. Its methods are the JavaScript store
/// interface (`kind`, `get`, `set`, `compareAndDelete`, `lock`), acting on
/// the store behind the cache.
#[napi]
pub struct TokenStoreHandle {
    pub(crate) inner: Arc<CachedStore>,
}

/// A lock taken through [`TokenStoreHandle::lock`].
#[napi]
pub struct StoreLock {
    store: Arc<dyn TokenStore>,
    key: String,
    owner: String,
}

#[napi]
impl StoreLock {
    /// Release the lock (only while this holder still has it).
    #[napi(catch_unwind)]
    pub fn release<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let (store, key, owner) = (self.store.clone(), self.key.clone(), self.owner.clone());
        answer(env, Ok(async move { store.unlock(&key, &owner).await }))
    }
}

/// A rejected promise's TypeError (without a `code`), as an `async`
/// JavaScript method rejects when its arguments are wrong.
struct TypeError(String);

impl ToNapiValue for TypeError {
    unsafe fn to_napi_value(env: sys::napi_env, e: Self) -> Result<sys::napi_value> {
        let msg = String::to_napi_value(env, e.0)?;
        let mut error = std::ptr::null_mut();
        check_status!(sys::napi_create_type_error(
            env,
            std::ptr::null_mut(),
            msg,
            &mut error
        ))?;
        Ok(error)
    }
}

/// A store operation for JavaScript: a promise of its answer, or rejected
/// with a TypeError naming the argument at fault.
fn answer<'env, T, F>(
    env: &'env Env,
    op: std::result::Result<F, String>,
) -> Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = std::result::Result<T, StoreError>> + Send + 'static,
{
    match op {
        Ok(op) => env.spawn_future(async move { op.await.map_err(|e| Error::from_reason(e.0)) }),
        Err(msg) => PromiseRaw::reject(env, TypeError(msg)),
    }
}

/// A store key: a non-empty string.
fn checked_key(key: &Unknown) -> std::result::Result<String, String> {
    match key.get_type() {
        Ok(ValueType::String) => Some(unsafe { key.cast::<String>() }),
        _ => None,
    }
    .and_then(|k| k.ok())
    .filter(|k| !k.is_empty())
    .ok_or_else(|| "a store key must be a non-empty string".to_string())
}

/// A time to live: `undefined` (none), or milliseconds >= 1 (rounded up).
fn ttl(ms: Unknown) -> Result<std::result::Result<Option<Duration>, String>> {
    let number = match ms.get_type()? {
        ValueType::Undefined => return Ok(Ok(None)),
        ValueType::Number => Some(unsafe { ms.cast::<f64>() }?),
        _ => None,
    };
    Ok(match number {
        Some(n) if n.is_finite() && n >= 1.0 => Ok(Some(Duration::from_millis(n.ceil() as u64))),
        _ => Err(format!(
            "ttlMs must be a number of milliseconds >= 1, got {}",
            text_of(ms)?
        )),
    })
}

/// A JavaScript value as `String(value)` shows it (what it throws, thrown).
fn text_of(v: Unknown) -> Result<String> {
    v.coerce_to_string()?.into_utf8()?.into_owned()
}

#[napi]
impl TokenStoreHandle {
    /// Drop this process's cached copy of `key` (the next use reads the store).
    #[napi(catch_unwind)]
    pub fn forget(&self, key: String) {
        self.inner.forget(&key, None);
    }

    /// What the store is: `memory`, `redis (ioredis)`, `custom`, …
    #[napi(getter, catch_unwind)]
    pub fn kind(&self) -> String {
        self.inner.store().kind()
    }

    /// `get(key)`: the value, or `null`.
    #[napi(catch_unwind)]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        key: Unknown,
    ) -> Result<PromiseRaw<'env, Option<String>>> {
        let store = self.inner.store().clone();
        answer(
            env,
            checked_key(&key).map(|key| async move { store.get(&key).await }),
        )
    }

    /// `set(key, value, ttlMs?)`: `value` as a string; no `ttlMs`, no expiry.
    #[napi(catch_unwind)]
    pub fn set<'env>(
        &self,
        env: &'env Env,
        key: Unknown,
        value: Unknown,
        ttl_ms: Unknown,
    ) -> Result<PromiseRaw<'env, ()>> {
        let store = self.inner.store().clone();
        let ttl = ttl(ttl_ms)?;
        let op = checked_key(&key).and_then(|key| Ok((key, ttl?)));
        let value = text_of(value)?;
        answer(
            env,
            op.map(|(key, ttl)| async move { store.set(&key, &value, ttl).await }),
        )
    }

    /// `compareAndDelete(key, expected)`: delete `key` only while its value is `expected`.
    #[napi(catch_unwind)]
    pub fn compare_and_delete<'env>(
        &self,
        env: &'env Env,
        key: Unknown,
        expected: Unknown,
    ) -> Result<PromiseRaw<'env, bool>> {
        let store = self.inner.store().clone();
        let expected = match expected.get_type() {
            Ok(ValueType::String) => unsafe { expected.cast::<String>() }.ok(),
            _ => None,
        };
        answer(
            env,
            checked_key(&key).map(|key| async move {
                match expected {
                    Some(expected) => store.compare_and_delete(&key, &expected).await,
                    None => Ok(false),
                }
            }),
        )
    }

    /// `lock(key, ttlMs)`: `{ release() }`, or `null` while another holds it.
    #[napi(catch_unwind)]
    pub fn lock<'env>(
        &self,
        env: &'env Env,
        key: Unknown,
        ttl_ms: Unknown,
    ) -> Result<PromiseRaw<'env, Option<StoreLock>>> {
        let store = self.inner.store().clone();
        let ttl = ttl(ttl_ms)?;
        let op = checked_key(&key).and_then(|key| Ok((key, ttl?)));
        answer(
            env,
            op.map(|(key, ttl)| async move {
                // Without a time to live, held until released.
                let ttl = ttl.unwrap_or(Duration::from_secs(100 * 365 * 86_400));
                let owner = store.lock(&key, ttl).await?;
                Ok(owner.map(|owner| StoreLock { store, key, owner }))
            }),
        )
    }
}

/// The core's memory store, with the JavaScript store interface:
/// `cloud.memoryStore()`.
#[napi(catch_unwind)]
pub fn create_memory_store() -> TokenStoreHandle {
    TokenStoreHandle {
        inner: CachedStore::new(Arc::new(MemoryStore::new())),
    }
}

/// A key of the store layout ([`crate::token::keys`], without a store's
/// prefix) by its JavaScript name (`keys` of `lib/store.js`): `ticket(component)`,
/// `componentToken(component)`, `refreshToken(component, authorizer)`,
/// `authorizerToken(…)`, `revoked(…)`, `lock(key)`.
#[napi(catch_unwind)]
pub fn store_key(kind: String, id: String, authorizer: Option<String>) -> Result<String> {
    use crate::token::keys;
    let authorizer = authorizer.unwrap_or_default();
    Ok(match kind.as_str() {
        "ticket" => keys::ticket(&id),
        "componentToken" => keys::component_token(&id),
        "refreshToken" => keys::refresh_token(&id, &authorizer),
        "authorizerToken" => keys::authorizer_token(&id, &authorizer),
        "revoked" => keys::revoked(&id, &authorizer),
        "lock" => keys::lock(&id),
        _ => return Err(Error::from_reason(format!("no store key {kind}"))),
    })
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

/// The application's Redis client (`redisStore(client)`), through a bridge
/// that sends one command: `[key, words]` answers the reply as text or null.
struct JsCommands(Arc<Bridge>);

impl RedisCommands for JsCommands {
    fn command<'a>(&'a self, key: &'a str, words: Vec<String>) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            let reply = ask(&self.0, json!([key, words])).await;
            reply.and_then(text).map_err(StoreError)
        })
    }
}

/// A token store in Redis (the core's [`CommandStore`]), its commands sent
/// by the application's client through `command_fn`.
///
/// ```js
/// const store = binding.createRedisStore(sendCommand, 'redis (ioredis)', 'wxcloud:')
/// ```
#[napi(catch_unwind)]
pub fn create_redis_store(
    command_fn: Function<String, Promise<String>>,
    kind: String,
    prefix: String,
) -> Result<TokenStoreHandle> {
    let store = CommandStore::through(JsCommands(bridge(command_fn)?), prefix, kind);
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
