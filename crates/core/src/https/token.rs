//! Managed access tokens: a process-wide cache with single-flight renewal.
//!
//! A [`TokenCell`] holds one token (an app's access_token, a component's
//! component_access_token, an authorizer's authorizer_access_token):
//! - it is renewed ahead of expiry ([`schedule`]): 5 minutes before for
//!   WeChat's 2-hour tokens, a quarter of the lifetime for short ones;
//! - however many calls need a renewal at once, exactly one fetch runs; the
//!   others wait for it and share its token, or its error;
//! - while a renewal ahead of expiry runs, other calls keep using the
//!   current token instead of waiting;
//! - [`TokenCell::invalidate`] drops the cached token only if it is the one
//!   WeChat rejected, so a late rejection of an old token never throws away
//!   a fresh one.
//!
//! Cells live in a process-wide registry ([`cell`]) so that every client
//! with the same credentials and base URL shares one token.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorKind};
use crate::http::{self, RawAnswer};
use crate::options::TokenKind;

/// Renew at most this long before expiry.
pub const RENEW_AHEAD: Duration = Duration::from_secs(300);
/// Lifetime assumed when an answer has no usable `expires_in`.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(7200);

/// A token as a token endpoint answered it (redacted from `Debug`).
#[derive(Clone, Debug)]
pub struct Fetched {
    pub token: SecretString,
    pub expires_in: Duration,
}

/// When to renew a token that lives `lifetime` from `now`, and until when to
/// use it at all: `(renew_at, usable_until)`.
///
/// Renewal starts `min(5 min, lifetime / 4)` before expiry; the token is not
/// used in its last `min(30 s, lifetime / 10)` (clock skew and the time the
/// request takes to arrive).
pub fn schedule(now: Instant, lifetime: Duration) -> (Instant, Instant) {
    let lifetime = lifetime.max(Duration::from_secs(1));
    let ahead = RENEW_AHEAD.min(lifetime / 4);
    let skew = Duration::from_secs(30).min(lifetime / 10);
    (now + lifetime - ahead, now + lifetime - skew)
}

struct Held {
    value: Arc<str>,
    renew_at: Instant,
    usable_until: Instant,
}

#[derive(Default)]
struct CellState {
    current: Option<Held>,
    /// Finished fetch attempts (successful or not).
    attempts: u64,
    /// The error of the last attempt, if it failed.
    last_error: Option<ApiError>,
    /// The token WeChat last rejected (so a renewal can tell whether the
    /// endpoint handed the same one back).
    rejected: Option<Arc<str>>,
    /// Successful fetches (for tests and debug lines).
    fetches: u64,
}

/// One cached token with single-flight renewal.
#[derive(Default)]
pub struct TokenCell {
    state: Mutex<CellState>,
    renewal: tokio::sync::Mutex<()>,
}

impl TokenCell {
    fn lock(&self) -> MutexGuard<'_, CellState> {
        crate::lock::lock(&self.state)
    }

    /// The current token if it needs no renewal yet.
    fn fresh(&self, now: Instant) -> Option<Arc<str>> {
        let st = self.lock();
        st.current
            .as_ref()
            .filter(|h| now < h.renew_at)
            .map(|h| h.value.clone())
    }

    /// The current token if it may still be used (perhaps due for renewal).
    fn usable(&self, now: Instant) -> Option<Arc<str>> {
        let st = self.lock();
        st.current
            .as_ref()
            .filter(|h| now < h.usable_until)
            .map(|h| h.value.clone())
    }

    /// A token to call with: the cached one, or one `fetch` obtains.
    ///
    /// `fetch` gets the token WeChat last rejected (if any) and runs at most
    /// once at a time per cell; calls that waited for a fetch share its
    /// outcome.
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<Arc<str>, ApiError>
    where
        F: FnOnce(Option<Arc<str>>) -> Fut,
        Fut: Future<Output = Result<Fetched, ApiError>>,
    {
        if let Some(t) = self.fresh(Instant::now()) {
            return Ok(t);
        }
        let seen_attempts = self.lock().attempts;
        let _guard = match self.renewal.try_lock() {
            Ok(g) => g,
            Err(_) => {
                // Someone is renewing. A token still usable is good enough.
                if let Some(t) = self.usable(Instant::now()) {
                    return Ok(t);
                }
                self.renewal.lock().await
            }
        };
        // Whoever held the lock before may have done the work.
        let rejected = {
            let st = self.lock();
            let now = Instant::now();
            if let Some(h) = st.current.as_ref().filter(|h| now < h.renew_at) {
                return Ok(h.value.clone());
            }
            if st.attempts != seen_attempts {
                if let Some(e) = &st.last_error {
                    return Err(e.clone());
                }
                // The renewal in between succeeded ahead of expiry and was
                // already due again, or was invalidated: use what is usable.
                if let Some(h) = st.current.as_ref().filter(|h| now < h.usable_until) {
                    return Ok(h.value.clone());
                }
            }
            st.rejected.clone()
        };
        let result = fetch(rejected).await;
        let now = Instant::now();
        let mut st = self.lock();
        st.attempts += 1;
        match result {
            Ok(f) => {
                let (renew_at, usable_until) = schedule(now, f.expires_in);
                let value: Arc<str> = Arc::from(f.token.expose_secret());
                st.current = Some(Held {
                    value: value.clone(),
                    renew_at,
                    usable_until,
                });
                st.last_error = None;
                st.rejected = None;
                st.fetches += 1;
                Ok(value)
            }
            Err(e) => {
                st.last_error = Some(e.clone());
                // A failed renewal ahead of expiry: keep using the current token.
                match st.current.as_ref().filter(|h| now < h.usable_until) {
                    Some(h) => Ok(h.value.clone()),
                    None => Err(e),
                }
            }
        }
    }

    /// WeChat rejected `failed`: drop it if it is still the cached token.
    /// Returns whether it was dropped.
    pub fn invalidate(&self, failed: &str) -> bool {
        let mut st = self.lock();
        if st.current.as_ref().is_some_and(|h| &*h.value == failed) {
            st.current = None;
            st.rejected = Some(Arc::from(failed));
            true
        } else {
            false
        }
    }

    /// How many fetches succeeded.
    #[cfg(test)]
    pub fn fetches(&self) -> u64 {
        self.lock().fetches
    }
}

static CELLS: LazyLock<Mutex<HashMap<String, Arc<TokenCell>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The process-wide cell for `key` (created empty on first use).
pub fn cell(key: &str) -> Arc<TokenCell> {
    let mut map = crate::lock::lock(&CELLS);
    map.entry(key.to_string()).or_default().clone()
}

/// A short fingerprint of a secret, for cache keys (never the secret itself).
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    hex::encode(&digest[..8])
}

/// The cache key of an app's access token.
pub fn app_key(base: &str, kind: TokenKind, appid: &str, secret: &str) -> String {
    let kind = match kind {
        TokenKind::Stable => "stable",
        TokenKind::Classic => "classic",
    };
    format!("app|{kind}|{base}|{appid}|{}", fingerprint(secret))
}

/// `expires_in` of a token answer (seconds, number or numeric string), or
/// the default lifetime.
pub fn lifetime(obj: &serde_json::Map<String, Value>) -> Duration {
    obj.get("expires_in")
        .and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.min(1e9)))
        .unwrap_or(DEFAULT_LIFETIME)
}

/// Everything a token request needs besides its endpoint's own fields.
pub struct Endpoint<'a> {
    pub client: &'a crate::http::Client,
    pub base: &'a str,
    pub timeout: Duration,
    /// Secrets that must not appear in any message.
    pub secrets: &'a [&'a str],
}

impl<'a> Endpoint<'a> {
    /// This endpoint, keeping `more` secrets out of its messages too (`list`
    /// holds all of them).
    pub fn hiding<'b>(&self, more: [&'b str; 2], list: &'b mut Vec<&'b str>) -> Endpoint<'b>
    where
        'a: 'b,
    {
        list.extend(self.secrets.iter().copied().chain(more));
        Endpoint {
            secrets: list,
            ..*self
        }
    }

    /// Send a token request (`body` `None`: GET) and read `token_field` and
    /// `expires_in` from the answer. Returns the whole answer object too.
    pub async fn request(
        &self,
        what: &str,
        path: &str,
        url: &str,
        body: Option<&str>,
        token_field: &str,
    ) -> Result<(Fetched, serde_json::Map<String, Value>), ApiError> {
        let obj = self.answer(what, path, url, body).await?;
        let token = match obj.get(token_field).and_then(Value::as_str) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => {
                return Err(ApiError::bad_answer(format!(
                    "cannot get {what}: the answer of {path} has no {token_field}"
                )))
            }
        };
        let expires_in = lifetime(&obj);
        Ok((
            Fetched {
                token: token.into(),
                expires_in,
            },
            obj,
        ))
    }

    /// Send a request to a token endpoint (`body` `None`: GET): its answer
    /// object when `errcode` is 0 or absent, else the error.
    pub async fn answer(
        &self,
        what: &str,
        path: &str,
        url: &str,
        body: Option<&str>,
    ) -> Result<serde_json::Map<String, Value>, ApiError> {
        let send = async {
            match body {
                Some(b) => http::post_json(self.client, url, b).await,
                None => http::get(self.client, url).await,
            }
        };
        let base = crate::redact::redact_url_userinfo(self.base);
        let raw: RawAnswer = http::within(self.timeout, send).await.map_err(|e| {
            super::with_base_hint(e, self.base).into_api_error(
                &format!("cannot get {what}: "),
                &format!("{base}{path}"),
                self.secrets,
            )
        })?;
        let scrub = |s: &str| crate::redact::scrub(s, self.secrets);
        if raw.status != 200 {
            return Err(ApiError::sys_err(
                ErrorKind::Http,
                &format!("cannot get {what}: HTTP {} | [{base}{path}]", raw.status),
            ));
        }
        let text = String::from_utf8_lossy(&raw.body);
        let obj = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(ApiError::bad_answer(format!(
                    "cannot get {what}: the answer of {path} is not a JSON object: {}",
                    scrub(&excerpt(&text))
                )))
            }
        };
        let code = obj.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        if code != 0 {
            let errmsg = obj.get("errmsg").and_then(Value::as_str).unwrap_or("");
            return Err(ApiError::answer(
                code,
                format!("cannot get {what} from {path}: {}", scrub(&excerpt(errmsg))),
            ));
        }
        Ok(obj)
    }

    /// An app's access token: `POST /cgi-bin/stable_token` (or, classic,
    /// `GET /cgi-bin/token`).
    pub async fn app_token(
        &self,
        kind: TokenKind,
        appid: &str,
        secret: &str,
        force_refresh: bool,
    ) -> Result<Fetched, ApiError> {
        match kind {
            TokenKind::Stable => {
                let path = "/cgi-bin/stable_token";
                let body = serde_json::json!({
                    "grant_type": "client_credential",
                    "appid": appid,
                    "secret": secret,
                    "force_refresh": force_refresh,
                })
                .to_string();
                let url = format!("{}{path}", self.base);
                self.request("access_token", path, &url, Some(&body), "access_token")
                    .await
                    .map(|(f, _)| f)
            }
            TokenKind::Classic => {
                let path = "/cgi-bin/token";
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "client_credential")
                    .append_pair("appid", appid)
                    .append_pair("secret", secret)
                    .finish();
                let url = format!("{}{path}?{query}", self.base);
                self.request("access_token", path, &url, None, "access_token")
                    .await
                    .map(|(f, _)| f)
            }
        }
    }
}

/// The start of `text`, at most 512 bytes (on a character boundary).
fn excerpt(text: &str) -> String {
    const MAX: usize = 512;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// An app's access token from its cell, fetched when needed. When WeChat
/// just rejected a stable token and the endpoint hands the same one back,
/// it is fetched once more with `force_refresh`.
pub async fn app_access_token(
    ep: &Endpoint<'_>,
    cell: &TokenCell,
    kind: TokenKind,
    appid: &str,
    secret: &str,
) -> Result<Arc<str>, ApiError> {
    cell.get(|rejected| async move {
        let fetched = ep.app_token(kind, appid, secret, false).await?;
        match (&rejected, kind) {
            (Some(r), TokenKind::Stable) if **r == *fetched.token.expose_secret() => {
                ep.app_token(kind, appid, secret, true).await
            }
            _ => Ok(fetched),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn fetched(token: &str, secs: f64) -> Fetched {
        Fetched {
            token: token.into(),
            expires_in: Duration::from_secs_f64(secs),
        }
    }

    #[test]
    fn schedule_renews_five_minutes_ahead_or_a_quarter_of_short_lifetimes() {
        let now = Instant::now();
        let (renew, usable) = schedule(now, Duration::from_secs(7200));
        assert_eq!(renew - now, Duration::from_secs(6900));
        assert_eq!(usable - now, Duration::from_secs(7170));
        let (renew, usable) = schedule(now, Duration::from_secs(4));
        assert_eq!(renew - now, Duration::from_secs(3));
        assert_eq!(usable - now, Duration::from_millis(3600));
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cell = Arc::new(TokenCell::default());
        let fetches = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let cell = cell.clone();
            let fetches = fetches.clone();
            tasks.push(tokio::spawn(async move {
                cell.get(|_| async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    Ok(fetched("T1", 7200.0))
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(&*t.await.unwrap().unwrap(), "T1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn waiters_share_a_failed_fetch_instead_of_repeating_it() {
        let cell = Arc::new(TokenCell::default());
        let fetches = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cell = cell.clone();
            let fetches = fetches.clone();
            tasks.push(tokio::spawn(async move {
                cell.get(|_| async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    Err(ApiError::answer(40125, "x:fail invalid appsecret"))
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap_err().err_code, 40125);
        }
        // The first caller fetched; everyone queued behind it shares its error
        // (a late arrival may try once more).
        assert!(fetches.load(Ordering::SeqCst) <= 2);
    }

    #[tokio::test]
    async fn renews_ahead_of_expiry_while_others_keep_using_the_current_token() {
        let cell = Arc::new(TokenCell::default());
        let t = cell.get(|_| async { Ok(fetched("T1", 2.0)) }).await;
        assert_eq!(&*t.unwrap(), "T1");
        // fresh: no fetch
        let t = cell
            .get(|_| async { Err(ApiError::answer(-1, "must not fetch")) })
            .await;
        assert_eq!(&*t.unwrap(), "T1");
        // 2 s lifetime: renewal from 1.5 s, usable until 1.8 s.
        tokio::time::sleep(Duration::from_millis(1550)).await;
        let slow = {
            let cell = cell.clone();
            tokio::spawn(async move {
                cell.get(|_| async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok(fetched("T2", 2.0))
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        // while the renewal runs, the current token is handed out at once
        let t = cell
            .get(|_| async { Err(ApiError::answer(-1, "must not fetch")) })
            .await;
        assert_eq!(&*t.unwrap(), "T1");
        assert_eq!(&*slow.await.unwrap().unwrap(), "T2");
        assert_eq!(cell.fetches(), 2);
    }

    #[tokio::test]
    async fn a_failed_early_renewal_keeps_the_current_token() {
        let cell = TokenCell::default();
        let _ = cell.get(|_| async { Ok(fetched("T1", 2.0)) }).await;
        tokio::time::sleep(Duration::from_millis(1550)).await;
        let t = cell
            .get(|_| async { Err(ApiError::answer(-1, "busy")) })
            .await;
        assert_eq!(&*t.unwrap(), "T1");
    }

    #[tokio::test]
    async fn invalidate_drops_only_the_token_that_failed() {
        let cell = TokenCell::default();
        let _ = cell.get(|_| async { Ok(fetched("T1", 7200.0)) }).await;
        assert!(cell.invalidate("T1"));
        let t = cell
            .get(|rejected| async move {
                assert_eq!(rejected.as_deref(), Some("T1"));
                Ok(fetched("T2", 7200.0))
            })
            .await;
        assert_eq!(&*t.unwrap(), "T2");
        // a late rejection of T1 does not drop T2
        assert!(!cell.invalidate("T1"));
        let t = cell
            .get(|_| async { Err(ApiError::answer(-1, "must not fetch")) })
            .await;
        assert_eq!(&*t.unwrap(), "T2");
        assert_eq!(cell.fetches(), 2);
    }

    #[tokio::test]
    async fn a_cancelled_fetch_lets_the_next_caller_fetch() {
        let cell = Arc::new(TokenCell::default());
        let c = cell.clone();
        let r = tokio::time::timeout(
            Duration::from_millis(20),
            c.get(|_| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(fetched("never", 7200.0))
            }),
        )
        .await;
        assert!(r.is_err());
        let t = cell.get(|_| async { Ok(fetched("T1", 7200.0)) }).await;
        assert_eq!(&*t.unwrap(), "T1");
    }

    #[test]
    fn keys_never_contain_the_secret() {
        let k = app_key("http://h", TokenKind::Stable, "wx1", "SUPERSECRET");
        assert!(!k.contains("SUPERSECRET"));
        assert_ne!(
            k,
            app_key("http://h", TokenKind::Classic, "wx1", "SUPERSECRET")
        );
    }
}
