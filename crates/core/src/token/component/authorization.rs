//! What the platform's event handler does with an opened event: keep the
//! newest verify ticket, exchange an authorization code for the
//! authorizer's tokens, forget a revoked authorizer. Events for one account
//! are applied in the order of their signed `CreateTime`, whatever order
//! they arrive in (a slow push, a replay): an older one is ignored and says
//! so (issue 19 items 1 and 7).
//!
//! The steps' messages are the handler's (`saving the verify ticket failed:
//! …`); the component_access_token is the clients' (the same store, lock
//! and code), so the handler and every client make one request per expiry.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::{not_sent, now_ms, Boxed, CachedStore, ComponentHooks, ComponentTokens, Entry, Wire};
use crate::codes::GatewayCode;
use crate::codes::INVALID_PARAM;
use crate::error::{ApiError, ErrorClass, ErrorKind, Wording};
use crate::options::ComponentSettings;
use crate::token::store::{keys, StoreFuture};

/// The verify ticket is valid for 12 hours.
const TICKET_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long the record of a revocation, and of the newest authorization
/// event, are kept.
const RECORD_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// A push whose `CreateTime` is older than this is refused: WeChat retries
/// a push within seconds and sends a ticket every 10 minutes, so only a
/// replay is older.
pub const MAX_EVENT_AGE: Duration = Duration::from_secs(3600);

/// An event error (the handler's `componentEvent:fail …`).
fn event_error(code: i64, detail: impl Into<String>) -> ApiError {
    ApiError::failed(ErrorKind::InvalidInput, ErrorClass::Cloud, code, detail)
}

/// A text field of the event.
fn text<'a>(event: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    event
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The event's `CreateTime` (seconds), a number or numeric text.
fn create_time(event: &Map<String, Value>) -> Option<i64> {
    match event.get("CreateTime")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl ComponentTokens {
    /// The tokens of a platform's event handler: [`ComponentTokens::new`],
    /// its message when no ticket is stored saying so.
    pub fn for_event_handler(
        settings: ComponentSettings,
        store: Arc<CachedStore>,
        hooks: ComponentHooks,
        timeout: Duration,
    ) -> Arc<Self> {
        let hint = ": no component_verify_ticket event has reached this handler yet";
        ComponentTokens::with_ticket_hint(settings, store, hooks, timeout, hint, Wording::Node)
    }

    /// A step of the handler within its deadline, named as the handler names it.
    fn step<'a, T: Send + 'a>(
        &'a self,
        deadline: Instant,
        what: &'a str,
        op: StoreFuture<'a, T>,
        secrets: &'a [&'a str],
    ) -> Boxed<'a, T> {
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, op).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => {
                    let text = crate::redact::scrub(&self.scrub(&e.0), secrets);
                    Err(not_sent(
                        GatewayCode::SysErr,
                        format!("{what} failed: {text}"),
                    ))
                }
                Err(_) => Err(self.step_late(what)),
            }
        })
    }

    fn step_late(&self, what: &str) -> ApiError {
        not_sent(
            GatewayCode::ServerTimeout,
            format!("{what} did not finish within the handler's timeout"),
        )
    }

    /// Run `apply` holding the store's lock of `record` (the `CreateTime` of
    /// the newest event applied), unless an event newer than `time` has been
    /// applied: then its time. `apply` records `time` when it succeeds.
    async fn in_order<T>(
        &self,
        record: &str,
        time: i64,
        what: &str,
        deadline: Instant,
        apply: Boxed<'_, T>,
    ) -> Result<Result<T, i64>, ApiError> {
        let store = self.store.store().clone();
        let lock_key = keys::lock(record);
        let mut pause = Duration::from_millis(10);
        // A store that refuses writes for a moment (a failover, a master
        // without its replicas) is tried again until the deadline.
        let owner = loop {
            let ttl = deadline.saturating_duration_since(Instant::now()) + self.timeout;
            let taken = self
                .step(
                    deadline,
                    &format!("ordering {what}"),
                    store.lock(&lock_key, ttl),
                    &[],
                )
                .await;
            match taken {
                Ok(Some(owner)) => break owner,
                Ok(None) => {}
                Err(e) if e.err_code == GatewayCode::ServerTimeout.err_code() => return Err(e),
                Err(e) if deadline.saturating_duration_since(Instant::now()) <= pause => {
                    return Err(e)
                }
                Err(_) => {}
            }
            if deadline.saturating_duration_since(Instant::now()) <= pause {
                return Err(self.step_late(&format!("ordering {what}")));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        };
        let result = async {
            let newest = self
                .step(
                    deadline,
                    &format!("reading the time of {what}"),
                    store.get(record),
                    &[],
                )
                .await?
                .and_then(|t| t.parse::<i64>().ok());
            if let Some(newest) = newest.filter(|n| *n > time) {
                return Ok(Err(newest));
            }
            let applied = apply.await?;
            // Best effort: what it guards against (an older event arriving
            // later) is rarer than what failing here would cause (WeChat
            // pushing an event whose code is spent again and again).
            let _ = self
                .step(
                    deadline,
                    &format!("recording the time of {what}"),
                    store.set(record, &time.to_string(), Some(RECORD_TTL)),
                    &[],
                )
                .await;
            Ok(Ok(applied))
        }
        .await;
        let unlock = store.clone();
        tokio::spawn(async move {
            let _ = unlock.unlock(&lock_key, &owner).await;
        });
        result
    }

    /// Act on an opened event: store the ticket, exchange the code, forget
    /// a revoked authorizer. Returns the event, with `authorization` (no
    /// token in it) after an authorization, or `ignored` (why) when a newer
    /// event for the same account was applied already.
    pub async fn handle_event(
        self: &Arc<Self>,
        cfg: Arc<crate::options::Config>,
        ctx: Arc<crate::env::Context>,
        mut event: Map<String, Value>,
        deadline: Instant,
    ) -> Result<Map<String, Value>, ApiError> {
        let info_type = text(&event, "InfoType").unwrap_or_default().to_string();
        if !matches!(
            info_type.as_str(),
            "component_verify_ticket" | "authorized" | "updateauthorized" | "unauthorized"
        ) {
            return Ok(event);
        }
        let Some(time) = create_time(&event) else {
            return Err(event_error(
                -40002,
                format!("the {info_type} event has no CreateTime"),
            ));
        };
        let age = now_ms() / 1000 - time;
        if age > MAX_EVENT_AGE.as_secs() as i64 {
            return Err(event_error(
                INVALID_PARAM,
                format!(
                    "the {info_type} event was created at {} ({age} s ago): a push older than {} s is refused (a replay?)",
                    crate::utc::iso8601(time),
                    MAX_EVENT_AGE.as_secs()
                ),
            ));
        }
        let component = self.settings.component_appid.clone();
        let ignored = match info_type.as_str() {
            "component_verify_ticket" => {
                let Some(ticket) = text(&event, "ComponentVerifyTicket").map(str::to_string) else {
                    return Err(event_error(
                        -40002,
                        "the component_verify_ticket event has no ComponentVerifyTicket",
                    ));
                };
                let store = self.store.store().clone();
                let key = keys::ticket(&component);
                self.in_order(
                    &keys::ticket_time(&component),
                    time,
                    "the verify ticket",
                    deadline,
                    Box::pin(async {
                        let secrets = [ticket.as_str()];
                        self.step(
                            deadline,
                            "saving the verify ticket",
                            store.set(&key, &ticket, Some(TICKET_TTL)),
                            &secrets,
                        )
                        .await
                    }),
                )
                .await?
                .err()
            }
            "unauthorized" => {
                let Some(authorizer) = text(&event, "AuthorizerAppid").map(str::to_string) else {
                    return Err(event_error(
                        -40002,
                        "the unauthorized event has no AuthorizerAppid",
                    ));
                };
                let record = keys::authorization_time(&component, &authorizer);
                let revoke = Box::pin(self.revoke(&authorizer, time, deadline));
                self.in_order(&record, time, "the authorization", deadline, revoke)
                    .await?
                    .err()
            }
            _ => {
                let (Some(authorizer), Some(code)) = (
                    text(&event, "AuthorizerAppid").map(str::to_string),
                    text(&event, "AuthorizationCode").map(str::to_string),
                ) else {
                    return Err(event_error(
                        -40002,
                        format!(
                            "the {info_type} event has no AuthorizerAppid or AuthorizationCode"
                        ),
                    ));
                };
                let record = keys::authorization_time(&component, &authorizer);
                // Once WeChat has spent the code, its answer is the only copy
                // of the refresh token: the exchange and the saves run to
                // their end (a timeout more) even when the handler has
                // answered already (item 3).
                let me = self.clone();
                let finish = deadline + self.timeout;
                let task = tokio::spawn(async move {
                    let wire = Wire {
                        cfg: &cfg,
                        ctx: &ctx,
                    };
                    let authorize = Box::pin(me.authorize(&wire, &authorizer, &code, finish));
                    me.in_order(&record, time, "the authorization", finish, authorize)
                        .await
                });
                let granted = match tokio::time::timeout_at(deadline, task).await {
                    Err(_) => {
                        let mut e = self.step_late("the authorization");
                        e.err_msg += "; it goes on for one timeout more: the refresh token is \
                                      saved when the store takes it, else kept in this process \
                                      and handed to onAuthorizerRefreshToken when the handler has one";
                        return Err(e);
                    }
                    Ok(Err(_)) => {
                        return Err(ApiError::internal(
                            "internal error in wx-cloud-openapi (a bug: please report it)",
                        ))
                    }
                    Ok(Ok(r)) => r?,
                };
                match granted {
                    Ok(summary) => {
                        event.insert("authorization".into(), summary);
                        None
                    }
                    Err(newer) => Some(newer),
                }
            }
        };
        if let Some(newer) = ignored {
            event.insert(
                "ignored".into(),
                Value::String(format!(
                    "an event of {} (CreateTime {newer}) for the same account was applied already; \
                     this one (CreateTime {time}) is older and changes nothing",
                    crate::utc::iso8601(newer)
                )),
            );
        }
        Ok(event)
    }

    /// api_query_auth with the shared component token; a rejected one is
    /// dropped and renewed once (a token error proves the code was not used).
    async fn exchange(
        &self,
        wire: &Wire<'_>,
        code: &str,
        deadline: Instant,
    ) -> Result<crate::https::authorization::Authorization, ApiError> {
        let mut retried = false;
        loop {
            let component = self.component_token(wire, deadline).await?;
            // Its own full timeout: once WeChat has spent the code, its
            // answer is the only copy of the refresh token (item 3).
            let answer =
                crate::https::query_auth(wire.cfg, wire.ctx, &component.token, code, self.timeout)
                    .await;
            match answer {
                Err(e) if e.kind == ErrorKind::TokenRejected && !retried => {
                    retried = true;
                    self.drop_component_token(&component, deadline).await?;
                }
                other => return other,
            }
        }
    }

    /// The authorization of `authorizer`: the code exchanged, the refresh
    /// token saved (retried until the deadline, kept in the process if the
    /// store never takes it), the access token shared.
    async fn authorize(
        self: &Arc<Self>,
        wire: &Wire<'_>,
        authorizer: &str,
        code: &str,
        deadline: Instant,
    ) -> Result<Value, ApiError> {
        let auth = self.exchange(wire, code, deadline).await?;
        if auth.authorizer_appid != authorizer {
            return Err(event_error(
                -40005,
                format!(
                    "api_query_auth answered for {}, the event was for {authorizer}",
                    auth.authorizer_appid
                ),
            ));
        }
        let component = &self.settings.component_appid;
        let refresh = auth.refresh_token.expose_secret().to_string();
        let access = auth.access_token.expose_secret().to_string();
        self.remember_secret(&refresh);
        self.remember_secret(&access);
        let refresh_key = keys::refresh_token(component, authorizer);
        // Kept here first: whatever happens to the store, the clients of
        // this process use it, and the next renewal saves it (item 2).
        crate::lock::lock(&self.store.unsaved).insert(refresh_key.clone(), refresh.clone());
        // The access token that came with it serves this process's clients
        // at once (the store gets it below).
        let key = keys::authorizer_token(component, authorizer);
        let entry = Entry::new(&access, Duration::from_secs(auth.expires_in_secs));
        self.store.remember(&key, entry.clone());
        // And the one this process knows to work, should the store forget it (item 4).
        crate::lock::lock(&self.store.working).insert(refresh_key.clone(), refresh.clone());
        let mut pause = Duration::from_millis(5);
        loop {
            let saved = self
                .step(
                    deadline,
                    "saving the authorizer's refresh token",
                    self.store.store().set(&refresh_key, &refresh, None),
                    &[&refresh, &access],
                )
                .await;
            match saved {
                Ok(()) => break,
                Err(mut e) => {
                    if deadline.saturating_duration_since(Instant::now()) <= pause {
                        // The store never took it: the application gets it
                        // (the handler's onAuthorizerRefreshToken), within a
                        // timeout of its own.
                        let handed = match &self.hooks.on_refresh_token {
                            Some(hook) => self
                                .hook(
                                    Instant::now() + self.timeout,
                                    "onAuthorizerRefreshToken",
                                    "finish",
                                    hook((refresh.clone(), authorizer.to_string())),
                                )
                                .await
                                .is_ok(),
                            None => false,
                        };
                        e.err_msg += if handed {
                            "; the authorization's refresh token was handed to \
                             onAuthorizerRefreshToken, and is kept in this process (its clients \
                             use it and the next token renewal saves it)"
                        } else {
                            "; the authorization is kept in this process (its clients use it and \
                             the next token renewal saves it): a process restart before then \
                             loses it (give the handler onAuthorizerRefreshToken to be handed it)"
                        };
                        return Err(e);
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
            }
        }
        {
            let mut unsaved = crate::lock::lock(&self.store.unsaved);
            if unsaved.get(&refresh_key).is_some_and(|u| *u == refresh) {
                unsaved.remove(&refresh_key);
            }
        }
        // The access token replaces whatever was stored for the account. If
        // the store cannot take it, the other processes ask for their own
        // (nothing is lost).
        let ttl = Duration::from_millis((entry.usable_until - now_ms()).max(1) as u64);
        if self
            .step(
                deadline,
                "saving the authorizer's access token",
                self.store.store().set(&key, &entry.raw, Some(ttl)),
                &[&access],
            )
            .await
            .is_err()
        {
            self.store.forget(&key, None);
        }
        // Best effort: a stale record only adds a line to the message of a
        // call that has no refresh token anyway.
        let _ = self
            .delete(
                &keys::revoked(component, authorizer),
                "the record of an earlier revocation",
                deadline,
            )
            .await;
        Ok(serde_json::json!({
            "authorizerAppid": auth.authorizer_appid,
            "expiresIn": auth.expires_in_secs,
            "funcInfo": auth.func_info,
        }))
    }

    /// Forget `authorizer`'s tokens, here and in the store, and record when it revoked.
    async fn revoke(&self, authorizer: &str, time: i64, deadline: Instant) -> Result<(), ApiError> {
        let component = &self.settings.component_appid;
        let refresh_key = keys::refresh_token(component, authorizer);
        let key = keys::authorizer_token(component, authorizer);
        self.store.forget(&key, None);
        crate::lock::lock(&self.store.unsaved).remove(&refresh_key);
        crate::lock::lock(&self.store.working).remove(&refresh_key);
        self.delete(&refresh_key, "the authorizer's refresh token", deadline)
            .await?;
        self.delete(&key, "the authorizer's access token", deadline)
            .await?;
        // Kept a while, so a call for this authorizer can tell why it has
        // no refresh token; removed when it authorizes again.
        self.step(
            deadline,
            "recording the revocation",
            self.store.store().set(
                &keys::revoked(component, authorizer),
                &crate::utc::iso8601(time),
                Some(RECORD_TTL),
            ),
            &[],
        )
        .await
    }

    /// Delete `key` whatever its value (compare-and-delete until it is gone).
    async fn delete(&self, key: &str, what: &str, deadline: Instant) -> Result<(), ApiError> {
        let store = self.store.store();
        for _ in 0..5 {
            let Some(v) = self
                .step(deadline, &format!("reading {what}"), store.get(key), &[])
                .await?
            else {
                return Ok(());
            };
            if self
                .step(
                    deadline,
                    &format!("deleting {what}"),
                    store.compare_and_delete(key, &v),
                    &[&v],
                )
                .await?
            {
                return Ok(());
            }
        }
        Err(not_sent(
            GatewayCode::SysErr,
            format!("deleting {what} failed: it kept changing"),
        ))
    }
}
