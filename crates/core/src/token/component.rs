//! The SDK-managed third-party tokens: one client serves any number of
//! authorizers, with the tokens in a [`TokenStore`] shared by every process
//! that uses the same store.
//!
//! - A call with a fresh token in the process-local cache makes no store
//!   round trip.
//! - A token is requested once per expiry however many processes need it:
//!   the one that takes the store's lock renews (reading the store again
//!   first), the others keep using the current token while it is usable, or
//!   wait and read what the renewal stored.
//! - A renewal that fails while the cached token is still usable does not
//!   fail the call: the cached token is used, and the next renewal waits a
//!   growing pause (issue 19 item 5).
//! - A token WeChat rejects (40001/40014/42001) is dropped from the store
//!   only while it is still the stored one (compare-and-delete).
//! - A rotated refresh token is in the store before the access token that
//!   came with it is used; while the store cannot take it, it is kept in
//!   this process and saved by the next call. The last refresh token that
//!   worked is kept in the process too, so a store that forgets (a restart
//!   without persistence, FLUSHALL, eviction) gets it back (item 4).
//! - Every step, the hooks and the store included, runs within the call's
//!   one deadline (`timeout`).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::ExposeSecret;
use tokio::time::Instant;

use super::store::{keys, StoreError, StoreFuture, TokenStore};

mod authorization;
use crate::codes::GatewayCode;
use crate::codes::INVALID_COMMON_PARAM;
use crate::error::{ApiError, ErrorClass, ErrorKind, Wording};
use crate::https::{self, TokenRequest};
use crate::options::{ComponentSettings, Config};
pub use authorization::MAX_EVENT_AGE;

/// What a hook returns: its value, or why it failed (its own words).
pub type HookFuture<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// A step of the token manager, boxed: each is polled through one pointer
/// rather than inlined into every caller's state (the addon's size).
type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// How a token is obtained when it must be renewed.
type Fetch<'a> = Box<dyn FnOnce(Instant) -> Boxed<'a, Entry> + Send + 'a>;

/// A hook: a function of its arguments to a [`HookFuture`].
pub type Hook<A, T> = Arc<dyn Fn(A) -> HookFuture<T> + Send + Sync>;

/// The application's hooks into the managed third-party mode (the Node
/// package's `getComponentVerifyTicket`, `getAuthorizerRefreshToken` and
/// `onAuthorizerRefreshToken`). Each is optional.
#[derive(Clone, Default)]
pub struct ComponentHooks {
    /// The current component_verify_ticket (instead of the store's).
    pub verify_ticket: Option<Hook<(), Option<String>>>,
    /// An authorizer's refresh token when the store has none that works.
    pub refresh_token: Option<Hook<String, Option<String>>>,
    /// Called with `(refresh_token, authorizer)` when WeChat rotated an
    /// authorizer's refresh token.
    pub on_refresh_token: Option<Hook<(String, String), ()>>,
}

/// An access token as the store keeps it: `{"token","renewAt","usableUntil"}`
/// (epoch milliseconds), the record the Node package writes too.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The record's text (compare-and-delete compares it).
    pub raw: Arc<str>,
    /// The access token.
    pub token: Arc<str>,
    /// Renew from this time on (epoch ms).
    pub renew_at: i64,
    /// Never use it from this time on (epoch ms).
    pub usable_until: i64,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("renew_at", &self.renew_at)
            .field("usable_until", &self.usable_until)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Entry {
    /// A token that lives `expires_in` from now, on the schedule of the
    /// app tokens (`https::token::schedule`): renewed
    /// `min(5 min, lifetime / 4)` before expiry, not used in its last
    /// `min(30 s, lifetime / 10)`.
    pub fn new(token: &str, expires_in: Duration) -> Entry {
        let now = now_ms();
        let lifetime = expires_in.max(Duration::from_secs(1)).as_millis() as i64;
        let renew_at = now + lifetime - (300_000).min(lifetime / 4);
        let usable_until = now + lifetime - (30_000).min(lifetime / 10);
        let raw =
            serde_json::json!({ "token": token, "renewAt": renew_at, "usableUntil": usable_until })
                .to_string();
        Entry {
            raw: raw.into(),
            token: token.into(),
            renew_at,
            usable_until,
        }
    }

    /// A stored record, `None` when it is not one.
    pub fn parse(raw: &str) -> Option<Entry> {
        let v: serde_json::Value = serde_json::from_str(raw).ok()?;
        let token: Arc<str> = v.get("token")?.as_str()?.into();
        let number = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_f64)
                .map(|n| n as i64)
        };
        Some(Entry {
            raw: raw.into(),
            token,
            renew_at: number("renewAt")?,
            usable_until: number("usableUntil")?,
        })
    }

    fn fresh(&self) -> bool {
        now_ms() < self.renew_at
    }

    fn usable(&self) -> bool {
        now_ms() < self.usable_until
    }
}

/// A store with the process-local cache in front of it, shared by every
/// client of that store in this process (and by the event handler, which
/// replaces an authorizer's entry when its authorization changes).
pub struct CachedStore {
    store: Arc<dyn TokenStore>,
    cache: Mutex<HashMap<String, Entry>>,
    /// authorizer key → a refresh token the store has not taken yet
    /// (rotated by a renewal, or given by an authorization).
    unsaved: Mutex<HashMap<String, String>>,
    /// authorizer key → the last refresh token that worked in this process.
    working: Mutex<HashMap<String, String>>,
}

impl CachedStore {
    /// `store` with an empty cache in front.
    pub fn new(store: Arc<dyn TokenStore>) -> Arc<CachedStore> {
        Arc::new(CachedStore {
            store,
            cache: Mutex::new(HashMap::new()),
            unsaved: Mutex::new(HashMap::new()),
            working: Mutex::new(HashMap::new()),
        })
    }

    /// The store behind the cache.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    /// The cached entry of `key`.
    pub fn cached(&self, key: &str) -> Option<Entry> {
        crate::lock::lock(&self.cache).get(key).cloned()
    }

    /// Cache `entry` under `key`.
    pub fn remember(&self, key: &str, entry: Entry) {
        crate::lock::lock(&self.cache).insert(key.to_string(), entry);
    }

    /// Forget `key`'s entry (when it is `only`, if given).
    pub fn forget(&self, key: &str, only: Option<&Entry>) {
        let mut cache = crate::lock::lock(&self.cache);
        if only.is_none_or(|e| cache.get(key).is_some_and(|c| c.raw == e.raw)) {
            cache.remove(key);
        }
    }
}

/// The memory store a client without a store of its own uses: one per API
/// base URL in this process, as the app tokens are shared.
pub fn default_store(base: &str) -> Arc<CachedStore> {
    static STORES: LazyLock<Mutex<HashMap<String, Arc<CachedStore>>>> =
        LazyLock::new(Default::default);
    crate::lock::lock(&STORES)
        .entry(base.to_string())
        .or_insert_with(|| CachedStore::new(Arc::new(super::store::MemoryStore::new())))
        .clone()
}

/// One renewal per key in this process, and what the last one ended with.
#[derive(Default)]
struct Renewal {
    running: tokio::sync::Mutex<()>,
    /// Renewals finished (either way), and the failure of the last one with
    /// when the next may start (backoff while a usable token is cached).
    state: Mutex<RenewalState>,
}

#[derive(Default)]
struct RenewalState {
    finished: u64,
    failure: Option<(ApiError, Instant)>,
    pause: Duration,
}

/// The managed tokens of one third-party platform (`componentAppid`).
pub struct ComponentTokens {
    settings: ComponentSettings,
    store: Arc<CachedStore>,
    hooks: ComponentHooks,
    timeout: Duration,
    /// Where a missing ticket could have come from, for the message.
    no_ticket_hint: String,
    renewals: Mutex<HashMap<String, Arc<Renewal>>>,
    /// authorizer → a rotated refresh token `on_refresh_token` has not accepted yet.
    undelivered: Mutex<HashMap<String, String>>,
    /// authorizer → one `on_refresh_token` call at a time.
    delivering: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Secrets seen (tickets, refresh tokens): never in a message.
    secrets: Mutex<Vec<String>>,
    /// Whose words the messages use (Node's `init()`, or the Rust API's).
    wording: Wording,
}

impl std::fmt::Debug for ComponentTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentTokens")
            .field("component_appid", &self.settings.component_appid)
            .field("store", &self.store.store.kind())
            .finish_non_exhaustive()
    }
}

/// A token step that failed before the call was sent (the store, a lock,
/// the deadline): a `CloudSDKError` with the gateway's `code` and `err_msg`
/// as given.
fn not_sent(code: GatewayCode, err_msg: String) -> ApiError {
    ApiError::failed(
        ErrorKind::Connect,
        ErrorClass::Cloud,
        code.err_code(),
        err_msg,
    )
}

/// The names of the two tokens, for messages.
fn token_name(key: &str) -> &'static str {
    if key.starts_with("component_token:") {
        "component_access_token"
    } else {
        "authorizer_access_token"
    }
}

/// The deadline passed before a step finished.
struct Late;

impl ComponentTokens {
    /// The tokens of the platform `settings` describes, kept in `store`,
    /// each step within `timeout`; messages in the words of `wording`.
    pub fn new(
        settings: ComponentSettings,
        store: Arc<CachedStore>,
        hooks: ComponentHooks,
        timeout: Duration,
        wording: Wording,
    ) -> Arc<ComponentTokens> {
        let hint = match wording {
            Wording::Node => " and getComponentVerifyTicket is not set",
            Wording::Rust => {
                "; store the pushed ticket under that key (wx_cloud_core::token::keys::ticket)"
            }
        };
        ComponentTokens::with_ticket_hint(settings, store, hooks, timeout, hint, wording)
    }

    /// [`ComponentTokens::new`], saying `no_ticket_hint` after "the token
    /// store has none" when no ticket is stored.
    fn with_ticket_hint(
        settings: ComponentSettings,
        store: Arc<CachedStore>,
        hooks: ComponentHooks,
        timeout: Duration,
        no_ticket_hint: &str,
        wording: Wording,
    ) -> Arc<ComponentTokens> {
        let mut secrets = vec![settings.component_appsecret.expose_secret().to_string()];
        secrets.extend(
            (settings.authorizer_refresh_token.as_ref()).map(|t| t.expose_secret().to_string()),
        );
        Arc::new(ComponentTokens {
            settings,
            store,
            hooks,
            timeout,
            no_ticket_hint: no_ticket_hint.to_string(),
            renewals: Mutex::new(HashMap::new()),
            undelivered: Mutex::new(HashMap::new()),
            delivering: Mutex::new(HashMap::new()),
            secrets: Mutex::new(secrets),
            wording,
        })
    }

    /// The store (with its cache) these tokens live in.
    pub fn store(&self) -> &Arc<CachedStore> {
        &self.store
    }

    fn timeout_ms(&self) -> u128 {
        self.timeout.as_millis()
    }

    /// `text` with every secret seen replaced by `***`.
    fn scrub(&self, text: &str) -> String {
        let secrets = crate::lock::lock(&self.secrets);
        let list: Vec<&str> = secrets.iter().map(String::as_str).collect();
        crate::redact::scrub(text, &list)
    }

    fn remember_secret(&self, secret: &str) {
        let mut secrets = crate::lock::lock(&self.secrets);
        if !secret.is_empty() && !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_string());
        }
    }

    /// The authorizer a call acts for: `openapi({ appid })`, else `authorizerAppid`.
    pub fn authorizer_of<'a>(&'a self, appid: Option<&'a str>) -> Result<&'a str, ApiError> {
        match appid.or(self.settings.authorizer_appid.as_deref()) {
            Some(a) if !a.is_empty() => Ok(a),
            _ => Err(ApiError::invalid_param(match self.wording {
                Wording::Node => "option `appid` is required: pass openapi({ appid: authorizerAppid }), or authorizerAppid to init()",
                Wording::Rust => "option `appid` is required: call client.for_appid(authorizer_appid), or give authorizerAppid to Client::from_options",
            })),
        }
    }

    fn store_failed(&self, what: &str, e: &StoreError) -> ApiError {
        let code = GatewayCode::SysErr;
        not_sent(
            code,
            code.text(&format!(
                "the token store ({}) failed while {what}: {}",
                self.store.store.kind(),
                self.scrub(&e.0)
            )),
        )
    }

    fn store_late(&self, what: &str) -> ApiError {
        let code = GatewayCode::ServerTimeout;
        not_sent(
            code,
            code.text(&format!(
                "the token store ({}) did not answer within the call's timeout of {} ms while {what}",
                self.store.store.kind(),
                self.timeout_ms()
            )),
        )
    }

    /// A store operation within the deadline; its failure is a clear error.
    fn stored<'a, T: Send + 'a>(
        &'a self,
        deadline: Instant,
        what: &'a str,
        op: StoreFuture<'a, T>,
    ) -> Boxed<'a, T> {
        self.stored_or(deadline, what, op, None)
    }

    /// [`Self::stored`], with the error to give instead of lateness when the
    /// deadline cuts the operation short (an earlier try's refusal).
    fn stored_or<'a, T: Send + 'a>(
        &'a self,
        deadline: Instant,
        what: &'a str,
        op: StoreFuture<'a, T>,
        instead_of_late: Option<ApiError>,
    ) -> Boxed<'a, T> {
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, op).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(self.store_failed(what, &e)),
                Err(_) => Err(instead_of_late.unwrap_or_else(|| self.store_late(what))),
            }
        })
    }

    /// A hook's answer within the deadline.
    async fn hook<T>(
        &self,
        deadline: Instant,
        name: &str,
        verb: &str,
        fut: HookFuture<T>,
    ) -> Result<T, ApiError> {
        let why = match tokio::time::timeout_at(deadline, fut).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => self.scrub(&e),
            Err(_) => format!("it did not {verb} within {} ms", self.timeout_ms()),
        };
        Err(ApiError::failed(
            ErrorKind::Config,
            ErrorClass::Cloud,
            INVALID_COMMON_PARAM,
            format!("{name} failed: {why}"),
        ))
    }

    fn renewal(&self, key: &str) -> Arc<Renewal> {
        crate::lock::lock(&self.renewals)
            .entry(key.to_string())
            .or_default()
            .clone()
    }

    /// An access token for `key`: cached, stored, or renewed by `fetch`
    /// under the store's lock. One renewal per key at a time in this
    /// process; calls that waited for one share its failure.
    async fn token(
        &self,
        key: &str,
        deadline: Instant,
        fetch: Fetch<'_>,
    ) -> Result<Entry, ApiError> {
        let cached = self.store.cached(key);
        if let Some(c) = cached.as_ref().filter(|c| c.fresh()) {
            return Ok(c.clone());
        }
        let usable = cached.filter(Entry::usable);
        let renewal = self.renewal(key);
        let (seen, backoff) = {
            let st = crate::lock::lock(&renewal.state);
            let backoff = st
                .failure
                .as_ref()
                .is_some_and(|(_, until)| Instant::now() < *until);
            (st.finished, backoff)
        };
        // A renewal failed a moment ago: the current token is good enough.
        if let (Some(u), true) = (&usable, backoff) {
            return Ok(u.clone());
        }
        let running = match renewal.running.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // A renewal is under way here: the current token is still good.
                if let Some(u) = usable {
                    return Ok(u);
                }
                match tokio::time::timeout_at(deadline, renewal.running.lock()).await {
                    Ok(guard) => guard,
                    Err(_) => return Err(self.late(key)),
                }
            }
        };
        {
            // The renewal we waited for: its token, or its failure.
            let st = crate::lock::lock(&renewal.state);
            if st.finished != seen {
                if let Some(c) = self.store.cached(key).filter(Entry::fresh) {
                    return Ok(c);
                }
                if let Some((e, _)) = &st.failure {
                    return Err(e.clone());
                }
            }
        }
        // The steps end a little before the deadline, so that the call gets
        // their own error rather than its timer's.
        let inner = deadline
            .checked_sub(Duration::from_millis(20))
            .filter(|i| *i > Instant::now())
            .unwrap_or(deadline);
        let result = match tokio::time::timeout_at(deadline, self.acquire(key, inner, fetch)).await
        {
            Ok(Ok(entry)) => Ok(entry),
            // A step's own timer past the call's deadline (the authorizer
            // token request has a whole timeout of its own, started at most
            // a moment after the call): it fired with the call's timer, in
            // the same tick, and the call's ended it.
            Ok(Err(Ok(e))) if e.kind == ErrorKind::Timeout && Instant::now() >= deadline => {
                Err(self.late(key))
            }
            Ok(Err(Ok(e))) => Err(e),
            Ok(Err(Err(Late))) | Err(_) => Err(self.late(key)),
        };
        let mut st = crate::lock::lock(&renewal.state);
        st.finished += 1;
        drop(running);
        match result {
            Ok(entry) => {
                st.failure = None;
                st.pause = Duration::ZERO;
                Ok(entry)
            }
            Err(e) => {
                st.pause =
                    (st.pause * 2).clamp(Duration::from_millis(100), Duration::from_secs(30));
                st.failure = Some((e.clone(), Instant::now() + st.pause));
                match self.store.cached(key).filter(Entry::usable) {
                    // Still usable: this call goes on with it (item 5).
                    Some(u) => Ok(u),
                    None => Err(e),
                }
            }
        }
    }

    fn late(&self, key: &str) -> ApiError {
        let code = GatewayCode::ServerTimeout;
        not_sent(
            code,
            code.text(&format!(
                "no {} within the call's timeout of {} ms",
                token_name(key),
                self.timeout_ms()
            )),
        )
    }

    /// Read the store; renew under its lock; or wait for the process that holds it.
    async fn acquire(
        &self,
        key: &str,
        deadline: Instant,
        fetch: Fetch<'_>,
    ) -> Result<Entry, Result<ApiError, Late>> {
        let reading = format!("reading {}", key.split(':').next().unwrap_or(key));
        let store = self.store.store();
        let mut pause = Duration::from_millis(10);
        let mut fetch = Some(fetch);
        loop {
            let found = self
                .stored(deadline, &reading, store.get(key))
                .await
                .map_err(Ok)?
                .and_then(|raw| Entry::parse(&raw));
            match found.as_ref() {
                Some(f) if f.fresh() => {
                    self.store.remember(key, f.clone());
                    return Ok(f.clone());
                }
                // Kept for this process in case the renewal fails (the
                // fast path takes only a fresh entry).
                Some(f) if f.usable() => self.store.remember(key, f.clone()),
                _ => {}
            }
            // Held while the renewal runs, and as long as an authorizer
            // token's request may take to complete (see fetch_authorizer).
            let ttl = deadline.saturating_duration_since(Instant::now()) + self.timeout;
            let lock_key = keys::lock(key);
            let owner = self
                .stored(
                    deadline,
                    "taking the renewal lock",
                    store.lock(&lock_key, ttl),
                )
                .await
                .map_err(Ok)?;
            if let Some(owner) = owner {
                let result = async {
                    // Another process may have renewed between our read and the lock.
                    let again = self
                        .stored(deadline, &reading, store.get(key))
                        .await?
                        .and_then(|raw| Entry::parse(&raw));
                    if let Some(a) = again.filter(Entry::fresh) {
                        self.store.remember(key, a.clone());
                        return Ok(a);
                    }
                    let fetch = fetch.take().expect("fetched once: the lock is taken once");
                    let entry = fetch(deadline).await?;
                    self.store.remember(key, entry.clone());
                    // Shared with the other processes; if the store cannot
                    // take it now they renew on their own (an access token:
                    // nothing is lost).
                    let ttl = Duration::from_millis((entry.usable_until - now_ms()).max(1) as u64);
                    let _ = self
                        .stored(
                            deadline,
                            "saving the token",
                            store.set(key, &entry.raw, Some(ttl)),
                        )
                        .await;
                    Ok(entry)
                }
                .await;
                // The lock expires on its own if this fails.
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = store.unlock(&lock_key, &owner).await;
                });
                return result.map_err(Ok);
            }
            // Someone else renews: the current token is good enough while usable.
            if let Some(f) = found.filter(Entry::usable) {
                return Ok(f);
            }
            if deadline.saturating_duration_since(Instant::now()) <= pause {
                return Err(Err(Late));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// WeChat rejected `entry`'s token: drop it wherever it is still the current one.
    async fn drop_token(
        &self,
        key: &str,
        entry: &Entry,
        deadline: Instant,
    ) -> Result<(), ApiError> {
        self.store.forget(key, Some(entry));
        self.stored(
            deadline,
            "dropping a rejected token",
            self.store.store().compare_and_delete(key, &entry.raw),
        )
        .await
        .map(|_| ())
    }

    // ---- component_access_token ------------------------------------------

    /// The component_access_token.
    pub async fn component_token(
        &self,
        wire: &Wire<'_>,
        deadline: Instant,
    ) -> Result<Entry, ApiError> {
        let key = keys::component_token(&self.settings.component_appid);
        let fetch: Fetch<'_> = Box::new(move |inner| {
            Box::pin(async move {
                let ticket = self.ticket(inner).await?;
                let left = inner.saturating_duration_since(Instant::now());
                let (fetched, _) = wire
                    .request(TokenRequest::Component { ticket: &ticket }, left)
                    .await?;
                Ok(Entry::new(
                    fetched.token.expose_secret(),
                    fetched.expires_in,
                ))
            })
        });
        Box::pin(self.token(&key, deadline, fetch)).await
    }

    /// Drop a component_access_token WeChat rejected.
    pub async fn drop_component_token(
        &self,
        entry: &Entry,
        deadline: Instant,
    ) -> Result<(), ApiError> {
        let key = keys::component_token(&self.settings.component_appid);
        self.drop_token(&key, entry, deadline).await
    }

    async fn ticket(&self, deadline: Instant) -> Result<String, ApiError> {
        let ticket = match &self.hooks.verify_ticket {
            Some(hook) => {
                self.hook(deadline, "getComponentVerifyTicket", "return", hook(()))
                    .await?
            }
            None => {
                let key = keys::ticket(&self.settings.component_appid);
                let stored = self
                    .stored(
                        deadline,
                        "reading the component_verify_ticket",
                        self.store.store().get(&key),
                    )
                    .await?;
                match stored {
                    Some(t) => Some(t),
                    None => {
                        return Err(ApiError::invalid_config(format!(
                            "no component_verify_ticket: the token store has none under {key} \
                             (WeChat pushes it to your event URL every 10 minutes){}",
                            self.no_ticket_hint
                        )))
                    }
                }
            }
        };
        match ticket {
            Some(t) if !t.trim().is_empty() => {
                self.remember_secret(&t);
                Ok(t)
            }
            _ => Err(ApiError::invalid_config(
                "getComponentVerifyTicket returned no ticket (WeChat pushes it to your server every 10 minutes)",
            )),
        }
    }

    // ---- authorizer tokens -----------------------------------------------

    /// `authorizer`'s access token, its rotated refresh token delivered.
    pub async fn authorizer_token(
        self: &Arc<Self>,
        wire: &Wire<'_>,
        authorizer: &str,
        deadline: Instant,
    ) -> Result<Entry, ApiError> {
        let key = keys::authorizer_token(&self.settings.component_appid, authorizer);
        // The common case, without a boxed renewal: fresh in this process,
        // no rotated refresh token waiting for the application. Due for
        // renewal but still usable: the call goes on with it while it is
        // renewed in the background (item 5).
        if let Some(cached) = self.store.cached(&key).filter(Entry::usable) {
            if !crate::lock::lock(&self.undelivered).contains_key(authorizer) {
                if !cached.fresh() {
                    self.renew_in_background(wire, authorizer, &key);
                }
                return Ok(cached);
            }
        }
        let fetch: Fetch<'_> =
            Box::new(move |inner| Box::pin(self.fetch_authorizer(wire, authorizer, inner)));
        let entry = Box::pin(self.token(&key, deadline, fetch)).await?;
        if crate::lock::lock(&self.undelivered).contains_key(authorizer) {
            self.deliver(authorizer, deadline).await?;
        }
        Ok(entry)
    }

    /// Renew `authorizer`'s token (`key`) in a task of its own, unless a
    /// renewal is under way in this process or the last one failed a moment
    /// ago (its pause grows: 1 s, 2 s, … 30 s).
    fn renew_in_background(self: &Arc<Self>, wire: &Wire<'_>, authorizer: &str, key: &str) {
        let renewal = self.renewal(key);
        if renewal.running.try_lock().is_err() {
            return;
        }
        let backing_off = crate::lock::lock(&renewal.state)
            .failure
            .as_ref()
            .is_some_and(|(_, until)| Instant::now() < *until);
        if backing_off {
            return;
        }
        let (me, cfg, ctx) = (self.clone(), wire.cfg.clone(), wire.ctx.clone());
        let (who, key) = (authorizer.to_string(), key.to_string());
        tokio::spawn(async move {
            let wire = Wire {
                cfg: &cfg,
                ctx: &ctx,
            };
            let deadline = Instant::now() + me.timeout;
            let fetch: Fetch<'_> =
                Box::new(|inner| Box::pin(me.fetch_authorizer(&wire, &who, inner)));
            // Its failure is kept for the calls (and the pause before the next).
            let _ = Box::pin(me.token(&key, deadline, fetch)).await;
        });
    }

    /// Drop `authorizer`'s access token WeChat rejected.
    pub async fn drop_authorizer_token(
        &self,
        authorizer: &str,
        entry: &Entry,
        deadline: Instant,
    ) -> Result<(), ApiError> {
        let key = keys::authorizer_token(&self.settings.component_appid, authorizer);
        self.drop_token(&key, entry, deadline).await
    }

    fn offer(&self, seen: &mut Vec<String>, t: Option<String>) -> Option<String> {
        let t = t.filter(|t| !t.is_empty() && !seen.contains(t))?;
        self.remember_secret(&t);
        seen.push(t.clone());
        Some(t)
    }

    /// The next refresh token to try for `authorizer`, best first: one the
    /// store has not taken yet, the store's, the last that worked here,
    /// the hook's, init()'s, and the store's once more (it may have been
    /// given a new one meanwhile). Each source is read only when the ones
    /// before gave nothing usable. With each, whether it came from the
    /// store (one that did not is written back once it works).
    async fn next_candidate(
        &self,
        authorizer: &str,
        step: &mut usize,
        seen: &mut Vec<String>,
        deadline: Instant,
    ) -> Result<Option<(String, bool)>, ApiError> {
        let key = keys::refresh_token(&self.settings.component_appid, authorizer);
        let reading = "reading the authorizer refresh token";
        while *step < 6 {
            *step += 1;
            let (t, from_store) = match *step {
                1 => (
                    crate::lock::lock(&self.store.unsaved).get(&key).cloned(),
                    false,
                ),
                2 | 6 => (
                    self.stored(deadline, reading, self.store.store().get(&key))
                        .await?,
                    true,
                ),
                3 => (
                    crate::lock::lock(&self.store.working).get(&key).cloned(),
                    false,
                ),
                4 => match &self.hooks.refresh_token {
                    Some(hook) => (
                        self.hook(
                            deadline,
                            "getAuthorizerRefreshToken",
                            "return",
                            hook(authorizer.to_string()),
                        )
                        .await?,
                        false,
                    ),
                    None => (None, false),
                },
                _ => (
                    (self.settings.authorizer_appid.as_deref() == Some(authorizer))
                        .then_some(self.settings.authorizer_refresh_token.as_ref())
                        .flatten()
                        .map(|t| t.expose_secret().to_string()),
                    false,
                ),
            };
            if let Some(t) = self.offer(seen, t) {
                return Ok(Some((t, from_store)));
            }
        }
        Ok(None)
    }

    async fn no_refresh_token(&self, authorizer: &str, deadline: Instant) -> ApiError {
        let component = &self.settings.component_appid;
        let key = keys::refresh_token(component, authorizer);
        // Only to say why: a store that fails here leaves the message without it.
        let revoked_at = self
            .stored(
                deadline,
                "reading the record of a revocation",
                self.store
                    .store()
                    .get(&keys::revoked(component, authorizer)),
            )
            .await
            .ok()
            .flatten();
        let mut msg = format!("option `appid`: no refresh token for authorizer \"{authorizer}\": ");
        if let Some(at) = revoked_at {
            msg += &format!(
                "it revoked its authorization at {at} (unauthorized event) and has not authorized again; "
            );
        }
        msg += &format!("the token store has none under {key}");
        msg += match (self.hooks.refresh_token.is_some(), self.wording) {
            (true, _) => ", getAuthorizerRefreshToken returned none",
            (false, Wording::Node) => ", getAuthorizerRefreshToken is not set",
            // The Rust API has no refresh-token callback.
            (false, Wording::Rust) => "",
        };
        if let Some(d) = self
            .settings
            .authorizer_appid
            .as_deref()
            .filter(|d| *d != authorizer)
        {
            msg += &format!(
                " and {}'s authorizerRefreshToken is for \"{d}\"",
                self.wording.init()
            );
        }
        ApiError::invalid_param(msg)
    }

    async fn fetch_authorizer(
        self: &Arc<Self>,
        wire: &Wire<'_>,
        authorizer: &str,
        deadline: Instant,
    ) -> Result<Entry, ApiError> {
        let refresh_key = keys::refresh_token(&self.settings.component_appid, authorizer);
        let mut component_retried = false;
        let mut last_refused: Option<ApiError> = None;
        let (mut step, mut seen) = (0, Vec::new());
        while let Some((refresh, from_store)) = self
            .next_candidate(authorizer, &mut step, &mut seen, deadline)
            .await?
        {
            loop {
                let component = self.component_token(wire, deadline).await?;
                // The request and what follows it run in a task of their
                // own, with the request's whole timeout: the answer may carry
                // a rotated refresh token (the only copy once WeChat has
                // refused the old one), so it is kept and saved even when
                // the call that asked for it has given up (its future dropped).
                let (me, cfg, ctx) = (self.clone(), wire.cfg.clone(), wire.ctx.clone());
                let (who, old, token) = (
                    authorizer.to_string(),
                    refresh.clone(),
                    component.token.clone(),
                );
                let (key, store_has_it) = (refresh_key.clone(), from_store);
                let task = tokio::spawn(async move {
                    let wire = Wire {
                        cfg: &cfg,
                        ctx: &ctx,
                    };
                    let request = TokenRequest::Authorizer {
                        component_token: &token,
                        authorizer_appid: &who,
                        refresh_token: &old,
                    };
                    let (fetched, rotated) = wire.request(request, me.timeout).await?;
                    let works = rotated.clone().unwrap_or_else(|| old.clone());
                    crate::lock::lock(&me.store.working).insert(key.clone(), works);
                    if let Some(rotated) = rotated {
                        // Rotated: the old one is refused from now on. Keep
                        // the new one before anything else can go wrong,
                        // then save it.
                        me.remember_secret(&rotated);
                        crate::lock::lock(&me.store.unsaved).insert(key, rotated.clone());
                        if me.hooks.on_refresh_token.is_some() {
                            crate::lock::lock(&me.undelivered).insert(who.clone(), rotated.clone());
                        }
                        // The call hears by its own deadline whether the store
                        // took the token (a refusal is its error, not the call's
                        // timer); a store that refuses is tried again in the
                        // background for a whole timeout more.
                        if let Err(e) = me.save_refresh(&who, &rotated, deadline).await {
                            let until = Instant::now() + me.timeout;
                            let me = me.clone();
                            tokio::spawn(async move {
                                let _ = me.save_refresh(&who, &rotated, until).await;
                            });
                            return Err(e);
                        }
                    } else if !store_has_it {
                        // It works and the store does not have it: keep it
                        // for the others, without holding up this call.
                        let me = me.clone();
                        tokio::spawn(async move {
                            let _ = me.save_refresh(&who, &old, deadline).await;
                        });
                    }
                    Ok::<_, ApiError>(fetched)
                });
                let fetched = match task.await {
                    Ok(Ok(f)) => f,
                    Ok(Err(e)) if e.kind == ErrorKind::TokenRejected && !component_retried => {
                        component_retried = true;
                        self.drop_component_token(&component, deadline).await?;
                        continue;
                    }
                    Ok(Err(e))
                        if e.kind == ErrorKind::Answer && e.err_code == REFRESH_TOKEN_INVALID =>
                    {
                        last_refused = Some(e);
                        break; // the next candidate
                    }
                    Ok(Err(e)) => return Err(e),
                    Err(_) => {
                        return Err(ApiError::internal(
                            "internal error in wx-cloud-openapi (a bug: please report it)",
                        ))
                    }
                };
                return Ok(Entry::new(
                    fetched.token.expose_secret(),
                    fetched.expires_in,
                ));
            }
        }
        match last_refused {
            Some(mut e) => {
                e.err_msg += match self.wording {
                    Wording::Node => " (every refresh token known for this authorizer was refused: the token \
                    store, getAuthorizerRefreshToken and init() have no newer one; the merchant must \
                    authorize the platform again)",
                    Wording::Rust => " (every refresh token known for this authorizer was refused: the token \
                    store and Client::from_options have no newer one; the merchant must \
                    authorize the platform again)",
                };
                Err(e)
            }
            None => Err(self.no_refresh_token(authorizer, deadline).await),
        }
    }

    /// Save a refresh token, retrying until the deadline: it must not be lost.
    async fn save_refresh(
        &self,
        authorizer: &str,
        token: &str,
        deadline: Instant,
    ) -> Result<(), ApiError> {
        let key = keys::refresh_token(&self.settings.component_appid, authorizer);
        let mut pause = Duration::from_millis(5);
        // What the store answered last: when the deadline cuts the last try
        // short, that refusal (not the lateness of the last try) is why.
        let mut refused: Option<ApiError> = None;
        loop {
            let outcome = self
                .stored_or(
                    deadline,
                    "saving the new authorizer refresh token",
                    self.store.store().set(&key, token, None),
                    refused.take(),
                )
                .await;
            match outcome {
                Ok(()) => {
                    let mut unsaved = crate::lock::lock(&self.store.unsaved);
                    if unsaved.get(&key).is_some_and(|u| u == token) {
                        unsaved.remove(&key);
                    }
                    return Ok(());
                }
                Err(mut e) => {
                    if deadline.saturating_duration_since(Instant::now()) <= pause {
                        e.err_msg +=
                            "; WeChat issued a new authorizer refresh token: it is kept in \
                            this process and saved by the next call";
                        return Err(e);
                    }
                    refused = Some(e);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
            }
        }
    }

    /// Hand the latest rotated refresh token to `on_refresh_token`, one call
    /// at a time per authorizer: a callback still running (even one a call
    /// gave up on) finishes before a newer token is handed over, so a late
    /// write never overwrites a newer token.
    async fn deliver(
        self: &Arc<Self>,
        authorizer: &str,
        deadline: Instant,
    ) -> Result<(), ApiError> {
        let Some(hook) = self.hooks.on_refresh_token.clone() else {
            return Ok(());
        };
        let gate = crate::lock::lock(&self.delivering)
            .entry(authorizer.to_string())
            .or_default()
            .clone();
        let late = || {
            self.delivery_failed(&format!(
                "it did not finish within {} ms",
                self.timeout_ms()
            ))
        };
        loop {
            let guard = tokio::time::timeout_at(deadline, gate.clone().lock_owned())
                .await
                .map_err(|_| late())?;
            let Some(token) = crate::lock::lock(&self.undelivered)
                .get(authorizer)
                .cloned()
            else {
                return Ok(());
            };
            let me = self.clone();
            let (who, sent) = (authorizer.to_string(), token.clone());
            let hook = hook.clone();
            // Runs to its end even when the call stops waiting for it.
            let task = tokio::spawn(async move {
                let _one_at_a_time = guard;
                let r = hook((sent.clone(), who.clone())).await;
                if r.is_ok() {
                    let mut undelivered = crate::lock::lock(&me.undelivered);
                    if undelivered.get(&who).is_some_and(|u| *u == sent) {
                        undelivered.remove(&who);
                    }
                }
                r
            });
            match tokio::time::timeout_at(deadline, task).await {
                Err(_) => return Err(late()),
                Ok(Err(_)) => return Err(self.delivery_failed("it panicked")),
                Ok(Ok(Err(why))) => return Err(self.delivery_failed(&self.scrub(&why))),
                Ok(Ok(Ok(()))) => continue,
            }
        }
    }

    fn delivery_failed(&self, why: &str) -> ApiError {
        ApiError::failed(
            ErrorKind::Config,
            ErrorClass::Cloud,
            INVALID_COMMON_PARAM,
            format!(
                "onAuthorizerRefreshToken failed: {why}; WeChat issued a new authorizer refresh \
                 token, which is kept in the token store and offered to the callback again on the \
                 next call"
            ),
        )
    }
}

/// WeChat's "refresh token invalid" (the authorizer's refresh token was
/// rotated away, or the authorization revoked).
pub const REFRESH_TOKEN_INVALID: i64 = 61023;

/// What the token requests are sent with: the client's settings (base
/// URL, proxy, redaction) and the call's environment.
pub struct Wire<'a> {
    /// The client's options.
    pub cfg: &'a Config,
    /// The call's environment.
    pub ctx: &'a crate::env::Context,
}

impl Wire<'_> {
    async fn request(
        &self,
        request: TokenRequest<'_>,
        timeout: Duration,
    ) -> Result<(crate::https::token::Fetched, Option<String>), ApiError> {
        https::third_party_token(
            self.cfg,
            self.ctx,
            request,
            timeout.max(Duration::from_millis(1)),
        )
        .await
    }
}
