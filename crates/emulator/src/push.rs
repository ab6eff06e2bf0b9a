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
use crate::wire::platform::events::{message_xml, seal};
use crate::wire::platform::msg_crypt::MsgCrypt;

/// How long a pushed ticket is accepted by `api_component_token` (WeChat:
/// 12 hours).
pub const TICKET_VALIDITY_MS: u64 = 12 * 3600 * 1000;
/// How long an authorization code may be exchanged (WeChat: about an hour).
pub const AUTH_CODE_TTL_MS: u64 = 3600 * 1000;
/// A push that gets no answer within this fails.
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to push.
#[derive(Clone)]
pub struct PushOptions {
    /// The platform's event URL.
    pub url: String,
    /// The platform's message-check token.
    pub token: String,
    /// The platform's 43-character EncodingAESKey.
    pub encoding_aes_key: String,
}

/// The URL without its password, the token and key as `***`.
impl std::fmt::Debug for PushOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushOptions")
            .field("url", &wx_cloud_core::wire::redact_url_userinfo(&self.url))
            .field("token", &"***")
            .field("encoding_aes_key", &"***")
            .finish()
    }
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
    /// The URL as messages show it: no password (the event URL may carry one).
    shown: String,
    crypt: MsgCrypt,
    state: State,
    /// Write a line on stderr for each failed push.
    log_failures: bool,
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
            shown: wx_cloud_core::wire::redact_url_userinfo(&opts.url),
            crypt,
            state,
            log_failures: true,
        })
    }

    /// Whether a failed push writes a line on stderr (default `true`).
    pub fn log_failures(mut self, on: bool) -> Pusher {
        self.log_failures = on;
        self
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
        if let Err(e) = &result {
            self.state.count(&format!("push_failed:{info_type}"));
            // One line on stderr (the URL without its password, as in `e`).
            if self.log_failures {
                eprintln!("{}", failure_line(info_type, e));
            }
        }
        result
    }

    async fn send(&self, target: &str, body: String) -> Result<(), String> {
        let client = crate::wire::client_for(None).map_err(|e| e.describe())?;
        let send = async {
            let resp = crate::wire::send_body(
                &client,
                http::Method::POST,
                target,
                Some("text/xml"),
                bytes::Bytes::from(body),
            )
            .await
            .map_err(|e| format!("cannot reach {}: {}", self.shown, e.describe()))?;
            let status = resp.status;
            let text = String::from_utf8_lossy(&resp.body);
            if status == 200 && text.trim() == "success" {
                Ok(())
            } else {
                let excerpt: String = text.chars().take(200).collect();
                Err(format!(
                    "{} answered HTTP {status} {excerpt:?}, not \"success\"",
                    self.shown
                ))
            }
        };
        tokio::time::timeout(PUSH_TIMEOUT, send)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "{} did not answer within {} s",
                    self.shown,
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

/// The line logged for a failed push: `e` names the URL without its
/// password and the HTTP status (or why there was none); newlines in the
/// platform's answer are flattened so that it stays one line.
fn failure_line(info_type: &str, e: &str) -> String {
    let flat: String = e
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("wx-cloud-emulator: push of {info_type} failed: {flat}")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::platform::events::{open, EventQuery};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    /// A one-request platform: reads the request, answers `answer`, and
    /// returns (request line, body).
    async fn platform(
        answer: &'static str,
    ) -> (String, tokio::task::JoinHandle<(String, Vec<u8>)>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, len) = loop {
                let n = s.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse::<usize>().unwrap())
                        .unwrap();
                    break (i + 4, len);
                }
            };
            while buf.len() < head_end + len {
                let n = s.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            s.write_all(reply.as_bytes()).await.unwrap();
            let line = String::from_utf8_lossy(&buf[..head_end])
                .lines()
                .next()
                .unwrap()
                .to_string();
            (line, buf[head_end..head_end + len].to_vec())
        });
        (url, task)
    }

    fn pusher_to(url: String, state: &State) -> Pusher {
        let opts = PushOptions {
            url,
            token: "tok".into(),
            encoding_aes_key: KEY.into(),
        };
        Pusher::new(&opts, "wxcomp", state.clone()).unwrap()
    }

    fn query_of(request_line: &str) -> EventQuery {
        let target = request_line.split(' ').nth(1).unwrap();
        let q = crate::wechat::query_pairs(target.split_once('?').map(|(_, q)| q));
        let get = |k: &str| q.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(get("encrypt_type"), "aes");
        EventQuery {
            timestamp: get("timestamp"),
            nonce: get("nonce"),
            msg_signature: get("msg_signature"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pushed_ticket_opens_with_the_platform_keys_and_is_accepted() {
        let (url, got) = platform("success").await;
        let state = State::new(7200, 300);
        let pusher = pusher_to(url, &state);
        let ticket = pusher.push_ticket().await.unwrap();
        let (line, body) = got.await.unwrap();
        assert!(line.starts_with("POST /events?"), "{line}");
        let crypt = MsgCrypt::new("tok", KEY, "wxcomp").unwrap();
        let ev = open(&crypt, &query_of(&line), &body).unwrap();
        assert_eq!(ev["InfoType"], "component_verify_ticket");
        assert_eq!(ev["ComponentVerifyTicket"], ticket.as_str());
        assert!(state.pushed_ticket_valid(&ticket, now_ms()));
        assert_eq!(state.stats()["calls"]["push:component_verify_ticket"], 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_other_than_success_is_a_failed_push() {
        let (url, got) = platform("fail").await;
        let state = State::new(7200, 300);
        let pusher = pusher_to(url, &state);
        let e = pusher.push_unauthorized("wxm").await.unwrap_err();
        assert!(e.contains("not \"success\""), "{e}");
        let (line, body) = got.await.unwrap();
        let q = query_of(&line);
        let ev = open(&MsgCrypt::new("tok", KEY, "wxcomp").unwrap(), &q, &body).unwrap();
        assert_eq!(ev["InfoType"], "unauthorized");
        assert_eq!(ev["AuthorizerAppid"], "wxm");
        // Another token cannot open it.
        let other = MsgCrypt::new("other", KEY, "wxcomp").unwrap();
        assert_eq!(
            open(&other, &q, &body),
            Err(crate::wire::platform::msg_crypt::CryptError::Signature)
        );
        assert_eq!(state.stats()["calls"]["push_failed:unauthorized"], 1);
    }

    #[test]
    fn a_failed_push_is_logged_on_one_line() {
        let line = failure_line(
            "unauthorized",
            "http://***@127.0.0.1:9/e answered HTTP 500 \"oops\nmore\", not \"success\"",
        );
        assert_eq!(
            line,
            "wx-cloud-emulator: push of unauthorized failed: http://***@127.0.0.1:9/e answered \
             HTTP 500 \"oops more\", not \"success\""
        );
    }

    #[test]
    fn bad_push_options_are_refused() {
        let state = State::new(7200, 300);
        let mk = |url: &str, token: &str, key: &str| {
            Pusher::new(
                &PushOptions {
                    url: url.into(),
                    token: token.into(),
                    encoding_aes_key: key.into(),
                },
                "wxcomp",
                state.clone(),
            )
            .err()
            .unwrap_or_default()
        };
        assert!(mk("ftp://x/", "t", KEY).contains("http(s)"));
        assert!(mk("not a url", "t", KEY).contains("componentEventUrl"));
        assert!(mk("http://x/", "", KEY).contains("componentToken"));
        assert!(mk("http://x/", "t", "short").contains("componentEncodingAesKey"));
    }
}
