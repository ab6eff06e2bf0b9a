//! Third-party platform tokens managed by the SDK.
//!
//! - `component_access_token` from `POST /cgi-bin/component/api_component_token`
//!   with the verify ticket the user's `getComponentVerifyTicket` supplies
//!   (WeChat pushes the ticket to the platform's server; the SDK cannot get
//!   it itself).
//! - `authorizer_access_token` from `POST /cgi-bin/component/api_authorizer_token`
//!   with the authorizer's refresh token. When the answer carries a new
//!   refresh token, the SDK keeps it and hands it to the user's
//!   `onAuthorizerRefreshToken` before any call that uses the new access
//!   token goes on: so before the call that caused the renewal resolves,
//!   exactly once (a failed delivery is offered again by the next call, and
//!   that call fails until the callback accepts it).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use super::token::{self, fingerprint, is_token_error, Endpoint, Fetched, TokenCell};
use crate::error::{fail_msg, ApiError, INVALID_COMMON_PARAM};
use crate::options::ComponentSettings;
use crate::transport;

/// A boxed future, as the hooks return them.
pub type HookFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The user's third-party callbacks (JavaScript functions in the addon,
/// closures in tests). Errors are the callback's message.
pub trait Hooks: Send + Sync {
    /// `getComponentVerifyTicket()`: the latest verify ticket.
    fn verify_ticket(&self) -> HookFuture<Result<String, String>>;
    /// `onAuthorizerRefreshToken(token)`: store the new refresh token.
    fn refresh_token_rotated(&self, token: String) -> HookFuture<Result<(), String>>;
}

struct RefreshState {
    /// The refresh token to use next.
    latest: String,
    /// Fingerprints of every refresh token seen for this authorizer, so a
    /// client created later with an old one does not roll the latest back.
    known: HashSet<String>,
    /// A new refresh token not yet accepted by `onAuthorizerRefreshToken`.
    undelivered: Option<String>,
}

/// One authorizer: its access token and its refresh token.
pub struct AuthorizerSlot {
    cell: TokenCell,
    refresh: Mutex<RefreshState>,
    delivery: tokio::sync::Mutex<()>,
    /// Refresh tokens delivered to the callback (for tests and debug).
    delivered: Mutex<u64>,
}

impl AuthorizerSlot {
    fn new(refresh_token: &str) -> AuthorizerSlot {
        AuthorizerSlot {
            cell: TokenCell::new(),
            refresh: Mutex::new(RefreshState {
                latest: refresh_token.to_string(),
                known: HashSet::from([fingerprint(refresh_token)]),
                undelivered: None,
            }),
            delivery: tokio::sync::Mutex::new(()),
            delivered: Mutex::new(0),
        }
    }

    fn refresh(&self) -> MutexGuard<'_, RefreshState> {
        match self.refresh.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// A client configured with `configured`: adopt it if it was never seen
    /// (the user obtained it elsewhere, e.g. by a new authorization).
    fn adopt(&self, configured: &str) {
        let mut r = self.refresh();
        if r.known.insert(fingerprint(configured)) {
            r.latest = configured.to_string();
        }
    }

    /// The access token cell.
    pub fn cell(&self) -> &TokenCell {
        &self.cell
    }

    /// How many rotated refresh tokens were delivered.
    pub fn delivered(&self) -> u64 {
        match self.delivered.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }

    /// Hand an undelivered refresh token to the callback (one delivery at a
    /// time; each token is delivered once).
    ///
    /// A callback that does not settle within `timeout` fails the call like
    /// one that threw (the token is offered again by the next call, so a
    /// callback that was only slow may see it twice).
    pub async fn deliver_pending(
        &self,
        hooks: &dyn Hooks,
        api: &str,
        timeout: std::time::Duration,
    ) -> Result<(), ApiError> {
        if self.refresh().undelivered.is_none() {
            return Ok(());
        }
        // One deadline for waiting on another call's delivery and for our own.
        let deadline = tokio::time::Instant::now() + timeout;
        let late = || format!("it did not finish within {} ms", timeout.as_millis());
        let Ok(_one) = tokio::time::timeout_at(deadline, self.delivery.lock()).await else {
            return Err(delivery_failed(api, &late(), None));
        };
        let Some(token) = self.refresh().undelivered.clone() else {
            return Ok(());
        };
        let delivered =
            tokio::time::timeout_at(deadline, hooks.refresh_token_rotated(token.clone()))
                .await
                .unwrap_or_else(|_| Err(late()));
        match delivered {
            Ok(()) => {
                let mut r = self.refresh();
                if r.undelivered.as_deref() == Some(token.as_str()) {
                    r.undelivered = None;
                }
                drop(r);
                match self.delivered.lock() {
                    Ok(mut g) => *g += 1,
                    Err(p) => *p.into_inner() += 1,
                }
                Ok(())
            }
            Err(msg) => Err(delivery_failed(api, &msg, Some(&token))),
        }
    }
}

/// A rotated refresh token did not reach `onAuthorizerRefreshToken`.
fn delivery_failed(api: &str, why: &str, token: Option<&str>) -> ApiError {
    ApiError::cloud(
        INVALID_COMMON_PARAM,
        fail_msg(
            api,
            &format!(
                "onAuthorizerRefreshToken failed: {}; WeChat issued a new authorizer refresh token, \
                 which is kept in memory and offered to the callback again on the next call",
                transport::scrub(why, &token.into_iter().collect::<Vec<_>>())
            ),
        ),
    )
}

static SLOTS: LazyLock<Mutex<HashMap<String, Arc<AuthorizerSlot>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The process-wide slot of an authorizer.
pub fn slot(base: &str, settings: &ComponentSettings) -> Arc<AuthorizerSlot> {
    let key = format!(
        "authorizer|{base}|{}|{}",
        settings.component_appid, settings.authorizer_appid
    );
    let mut map = match SLOTS.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let slot = map
        .entry(key)
        .or_insert_with(|| Arc::new(AuthorizerSlot::new(&settings.authorizer_refresh_token)))
        .clone();
    drop(map);
    slot.adopt(&settings.authorizer_refresh_token);
    slot
}

/// Forget the slots of an authorizer of `component_appid` (every base URL):
/// its cached access token and refresh token. The next call starts from
/// the refresh token its client was configured with. Returns how many
/// slots were dropped.
pub fn forget_authorizer(component_appid: &str, authorizer_appid: &str) -> usize {
    let suffix = format!("|{component_appid}|{authorizer_appid}");
    let mut map = match SLOTS.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let before = map.len();
    map.retain(|k, _| !(k.starts_with("authorizer|") && k.ends_with(&suffix)));
    before - map.len()
}

/// The cell of a component's access token.
pub fn component_cell(base: &str, settings: &ComponentSettings) -> Arc<TokenCell> {
    token::cell(&format!(
        "component|{base}|{}|{}",
        settings.component_appid,
        fingerprint(&settings.component_appsecret)
    ))
}

pub(crate) async fn component_token(
    ep: &Endpoint<'_>,
    settings: &ComponentSettings,
    hooks: &dyn Hooks,
) -> Result<Fetched, ApiError> {
    let asked = tokio::time::timeout(ep.timeout, hooks.verify_ticket())
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "it did not return within {} ms",
                ep.timeout.as_millis()
            ))
        });
    let ticket = match asked {
        Ok(t) if !t.trim().is_empty() => t,
        Ok(_) => {
            return Err(ApiError::cloud(
                INVALID_COMMON_PARAM,
                fail_msg(
                    ep.api,
                    "getComponentVerifyTicket returned no ticket (WeChat pushes it to your server every 10 minutes)",
                ),
            ))
        }
        Err(msg) => {
            return Err(ApiError::cloud(
                INVALID_COMMON_PARAM,
                fail_msg(
                    ep.api,
                    &format!(
                        "getComponentVerifyTicket failed: {}",
                        transport::scrub(&msg, ep.secrets)
                    ),
                ),
            ))
        }
    };
    let path = "/cgi-bin/component/api_component_token";
    let body = serde_json::json!({
        "component_appid": settings.component_appid,
        "component_appsecret": settings.component_appsecret,
        "component_verify_ticket": ticket,
    })
    .to_string();
    let url = format!("{}{path}", ep.base);
    let secrets: Vec<&str> = ep
        .secrets
        .iter()
        .copied()
        .chain([ticket.as_str()])
        .collect();
    let ep2 = Endpoint {
        secrets: &secrets,
        ..*ep
    };
    ep2.request(
        "component_access_token",
        path,
        &url,
        Some(&body),
        "component_access_token",
    )
    .await
    .map(|(f, _)| f)
}

/// The authorizer's access token: cached, or obtained with the component
/// token and the latest refresh token. A rotated refresh token has reached
/// `onAuthorizerRefreshToken` when this returns `Ok`.
pub async fn authorizer_access_token(
    ep: &Endpoint<'_>,
    settings: &ComponentSettings,
    slot: &AuthorizerSlot,
    hooks: &dyn Hooks,
) -> Result<Arc<str>, ApiError> {
    let token = slot
        .cell
        .get(|_rejected| async move {
            let ccell = component_cell(ep.base, settings);
            let mut retried = false;
            loop {
                let ctoken = ccell.get(|_| component_token(ep, settings, hooks)).await?;
                let refresh = slot.refresh().latest.clone();
                match authorizer_token(ep, settings, &ctoken, &refresh).await {
                    Err(e) if is_token_error(&e) && !retried => {
                        ccell.invalidate(&ctoken);
                        retried = true;
                    }
                    Err(e) => return Err(e),
                    Ok((fetched, new_refresh)) => {
                        if let Some(new) = new_refresh.filter(|n| *n != refresh) {
                            let mut r = slot.refresh();
                            r.known.insert(fingerprint(&new));
                            r.latest = new.clone();
                            r.undelivered = Some(new);
                        }
                        return Ok(fetched);
                    }
                }
            }
        })
        .await?;
    slot.deliver_pending(hooks, ep.api, ep.timeout).await?;
    Ok(token)
}

async fn authorizer_token(
    ep: &Endpoint<'_>,
    settings: &ComponentSettings,
    component_token: &str,
    refresh: &str,
) -> Result<(Fetched, Option<String>), ApiError> {
    let path = "/cgi-bin/component/api_authorizer_token";
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("component_access_token", component_token)
        .finish();
    let url = format!("{}{path}?{query}", ep.base);
    let body = serde_json::json!({
        "component_appid": settings.component_appid,
        "authorizer_appid": settings.authorizer_appid,
        "authorizer_refresh_token": refresh,
    })
    .to_string();
    let secrets: Vec<&str> = ep
        .secrets
        .iter()
        .copied()
        .chain([component_token, refresh])
        .collect();
    let ep2 = Endpoint {
        secrets: &secrets,
        ..*ep
    };
    let (fetched, obj) = ep2
        .request(
            "authorizer_access_token",
            path,
            &url,
            Some(&body),
            "authorizer_access_token",
        )
        .await?;
    let new_refresh = obj
        .get("authorizer_refresh_token")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok((fetched, new_refresh))
}
