//! The emulator as WeChat's side of a third-party platform: it pushes
//! encrypted events to the platform's event URL, as WeChat does
//! (`../shared/spec/https-api.md`, "Third-party platform events"):
//! `component_verify_ticket` on a schedule and on demand, `authorized` /
//! `updateauthorized` / `unauthorized` when an account authorizes the
//! platform or takes its authorization back.
//!
//! A push counts as delivered when the platform answers HTTP 200 with the
//! body `success`. Pushes are counted in the stats' `calls` as
//! `push:{InfoType}` and, when not delivered, `push_failed:{InfoType}`.

use std::sync::Arc;
use std::time::Duration;

use super::state::{now_ms, random_token, State};
use crate::https::events::{message_xml, seal};
use crate::https::msg_crypt::MsgCrypt;

/// How long a pushed ticket is accepted by `api_component_token` (WeChat:
/// 12 hours).
pub const TICKET_VALIDITY_MS: u64 = 12 * 3600 * 1000;
/// How long an authorization code may be exchanged (WeChat: about an hour).
pub const AUTH_CODE_TTL_MS: u64 = 3600 * 1000;
/// A push that gets no answer within this fails.
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// The platform's event URL.
    pub url: String,
    /// The platform's message-check token.
    pub token: String,
    /// The platform's 43-character EncodingAESKey.
    pub encoding_aes_key: String,
}

/// An authorization done by the emulator.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The code `api_query_auth` exchanges once.
    pub code: String,
    /// When the code expires, Unix seconds.
    pub expires_at: u64,
    /// `authorized` or `updateauthorized` (the account had authorized before).
    pub info_type: &'static str,
    /// Why the event did not reach the platform (none: delivered, or no
    /// event URL configured).
    pub push_error: Option<String>,
}

/// Pushes one platform's events.
pub struct Pusher {
    url: String,
    crypt: MsgCrypt,
    state: State,
}

impl Pusher {
    /// A pusher for the platform `component_appid`.
    pub fn new(opts: &PushOptions, component_appid: &str, state: State) -> Result<Pusher, String> {
        let parsed = url::Url::parse(&opts.url)
            .map_err(|e| format!("componentEventUrl is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("componentEventUrl must be an http(s) URL".into());
        }
        if opts.token.is_empty() {
            return Err("componentToken is required with componentEventUrl".into());
        }
        let crypt = MsgCrypt::new(&opts.token, &opts.encoding_aes_key, component_appid)
            .map_err(|e| format!("componentEncodingAesKey: {}", e.describe()))?;
        Ok(Pusher {
            url: opts.url.clone(),
            crypt,
            state,
        })
    }

    /// Push one message (its fields after `AppId`, `CreateTime`, `InfoType`).
    async fn push(&self, info_type: &str, extra: Vec<(&str, String)>) -> Result<(), String> {
        let now = now_ms() / 1000;
        let mut fields = vec![
            ("AppId", self.crypt.appid().to_string()),
            ("CreateTime", now.to_string()),
            ("InfoType", info_type.to_string()),
        ];
        fields.extend(extra);
        let message = message_xml(&fields);
        let nonce = fastrand::u32(100_000_000..u32::MAX).to_string();
        let mut random = [0u8; 16];
        fastrand::fill(&mut random);
        let (body, q) = seal(&self.crypt, &message, &now.to_string(), &nonce, random);
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "signature",
                &self.crypt.signature(&q.timestamp, &q.nonce, ""),
            )
            .append_pair("timestamp", &q.timestamp)
            .append_pair("nonce", &q.nonce)
            .append_pair("encrypt_type", "aes")
            .append_pair("msg_signature", &q.msg_signature)
            .finish();
        let sep = if self.url.contains('?') { '&' } else { '?' };
        let target = format!("{}{sep}{query}", self.url);
        self.state.count(&format!("push:{info_type}"));
        let result = self.send(&target, body).await;
        if result.is_err() {
            self.state.count(&format!("push_failed:{info_type}"));
        }
        result
    }

    async fn send(&self, target: &str, body: String) -> Result<(), String> {
        let client = crate::transport::client_for(None).map_err(|e| e.describe())?;
        let send = async {
            let resp = client
                .post(target)
                .header(reqwest::header::CONTENT_TYPE, "text/xml")
                .body(body)
                .send()
                .await
                .map_err(|e| format!("cannot reach {}: {e}", self.url))?;
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            if status == 200 && text.trim() == "success" {
                Ok(())
            } else {
                let excerpt: String = text.chars().take(200).collect();
                Err(format!(
                    "{} answered HTTP {status} {excerpt:?}, not \"success\"",
                    self.url
                ))
            }
        };
        tokio::time::timeout(PUSH_TIMEOUT, send)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "{} did not answer within {} s",
                    self.url,
                    PUSH_TIMEOUT.as_secs()
                ))
            })
    }

    /// Push a new verify ticket (accepted from now on for 12 hours).
    /// Returns it, or why it did not reach the platform.
    pub async fn push_ticket(&self) -> Result<String, String> {
        let ticket = format!("ticket@@@{}", random_token(40));
        self.state
            .add_pushed_ticket(&ticket, TICKET_VALIDITY_MS, now_ms());
        self.push(
            "component_verify_ticket",
            vec![("ComponentVerifyTicket", ticket.clone())],
        )
        .await
        .map(|()| ticket)
    }

    /// Push `authorized` / `updateauthorized`.
    pub async fn push_authorized(&self, authorizer: &str, a: &Authorized) -> Result<(), String> {
        self.push(
            a.info_type,
            vec![
                ("AuthorizerAppid", authorizer.to_string()),
                ("AuthorizationCode", a.code.clone()),
                ("AuthorizationCodeExpiredTime", a.expires_at.to_string()),
                ("PreAuthCode", format!("preauthcode@@@{}", random_token(40))),
            ],
        )
        .await
    }

    /// Push `unauthorized`.
    pub async fn push_unauthorized(&self, authorizer: &str) -> Result<(), String> {
        self.push(
            "unauthorized",
            vec![("AuthorizerAppid", authorizer.to_string())],
        )
        .await
    }
}

/// Push a ticket now and then every `interval`, until the task is aborted.
/// A failed push is counted and tried again at the next tick.
pub fn schedule(pusher: Arc<Pusher>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let _ = pusher.push_ticket().await;
        }
    })
}
