//! The local emulator of the cloud-base gateway and of the WeChat HTTPS API.
//!
//! One listener on 127.0.0.1 answers both doors over one state:
//! - `POST /admin?env=…&seqId=…`: the gateway of a cloud call (TC3-signed
//!   multipart, `CommApiData` in, `CommOpenApiResp` out), see [`gateway`];
//! - `/tcb/*` and `/cgi-bin/*`: the WeChat HTTPS API and its token
//!   endpoints, see [`wechat`];
//! - `/__emulator/*`: the control API (authorize, revoke, push a ticket,
//!   faults, environments, stats), for tests in any language, see [`control`].
//!
//! Faults can be injected on demand ([`faults`]); with a data file every
//! environment is on disk before its creation is answered ([`state`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! use wx_cloud_emulator::{Emulator, EmulatorOptions};
//! let emu = Emulator::start(EmulatorOptions::default()).await?;
//! println!("{}", emu.url()); // http://127.0.0.1:PORT
//! for (k, v) in emu.cloud_env() { println!("export {k}={v}"); }
//! emu.close().await;
//! # Ok(()) }
//! ```

// The wire formats the emulator shares with the core (`crate::wire::…` in the modules).
use wx_cloud_core::wire;

pub mod command_line;
pub mod control;
pub mod faults;
pub mod gateway;
pub mod help;
pub mod legacy_auth;
pub mod miniprogram;
pub mod push;
pub mod reply;
pub mod server;
pub mod start_options;
pub mod state;
pub mod wechat;

use std::path::PathBuf;
use std::sync::Arc;

pub use faults::{FaultKind, FaultSpec};
pub use state::EnvironmentRecord;

use control::Control;
use faults::Faults;
use gateway::{Gateway, GatewayConfig};
use push::Pusher;
pub use push::{Authorized, PushOptions};
use server::Server;
use state::State;
use wechat::{Credentials, WeChat};

/// How to start an emulator. `Default` gives a ready-to-use test setup.
///
/// Deserialized from the shape `startEmulator(options)` takes
/// ([`start_options::StartOptions`]: camelCase, unknown options refused);
/// [`start_options::from_json`] adds messages naming the option at fault.
#[derive(Clone, serde::Deserialize)]
#[serde(try_from = "start_options::StartOptions")]
pub struct EmulatorOptions {
    /// IP address to listen on (default `127.0.0.1`).
    pub host: String,
    /// Port, 0 for any free port (default 0).
    pub port: u16,
    /// Durable file of environments (JSON); loaded at start.
    pub data_file: Option<PathBuf>,
    /// (secretId, secretKey) pairs the gateway accepts; the first one goes
    /// into [`Emulator::cloud_env`].
    pub secret_pairs: Vec<(String, String)>,
    /// The session token given in [`Emulator::cloud_env`].
    pub session_token: String,
    /// (appid, secret) pairs for `/cgi-bin/token` and `/cgi-bin/stable_token`.
    pub app_credentials: Vec<(String, String)>,
    /// (component_appid, component_appsecret) pairs.
    pub component_credentials: Vec<(String, String)>,
    /// The accepted `component_verify_ticket` (`None`: any non-empty one).
    pub component_verify_ticket: Option<String>,
    /// (authorizer_appid, first authorizer_refresh_token) pairs.
    pub authorizers: Vec<(String, String)>,
    /// Replace the authorizer refresh token on every `api_authorizer_token`
    /// and refuse the old one (default `false`: it stays the same until the
    /// authorizer is authorized again, as WeChat documents).
    pub rotate_refresh_tokens: bool,
    /// Lifetime of issued tokens, seconds (default 7200).
    pub token_lifetime_secs: u64,
    /// How long a replaced token stays valid, seconds (default 300).
    pub token_grace_secs: u64,
    /// The emulated function's environment (default `emulator-env`).
    pub env_id: String,
    /// When set, the only `apiName`s the gateway lets through (-604101 otherwise).
    pub allowed_apis: Option<Vec<String>>,
    /// The function's region (default `ap-shanghai`).
    pub region: String,
    /// Body size limit and read timeouts (defaults: 12 MB, 10 s, 30 s).
    pub limits: server::Limits,
    /// Push the first platform's events (tickets, authorizations) to its
    /// event URL, encrypted as WeChat does. Then `api_component_token`
    /// accepts only a pushed ticket (or `component_verify_ticket`).
    pub component_events: Option<PushOptions>,
    /// Push a new verify ticket at start and then every so often (WeChat:
    /// 10 minutes); zero: only on demand ([`Emulator::push_ticket`]).
    pub ticket_interval: std::time::Duration,
    /// Write a line on stderr for each push that fails (default `true`).
    /// Off for a test that makes pushes fail on purpose and reads the
    /// failures where the emulator reports them (`authorize`'s `pushError`,
    /// a rejected `pushTicket` or `revoke`, `stats`' `push_failed:*`).
    pub log_push_failures: bool,
}

/// The options without their secrets (keys, app secrets, refresh tokens,
/// tickets, the event URL's password): what a log line may show.
impl std::fmt::Debug for EmulatorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids = |pairs: &[(String, String)]| -> Vec<String> {
            pairs.iter().map(|(id, _)| format!("{id}: ***")).collect()
        };
        f.debug_struct("EmulatorOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("data_file", &self.data_file)
            .field("secret_pairs", &ids(&self.secret_pairs))
            .field("session_token", &"***")
            .field("app_credentials", &ids(&self.app_credentials))
            .field("component_credentials", &ids(&self.component_credentials))
            .field(
                "component_verify_ticket",
                &self.component_verify_ticket.as_ref().map(|_| "***"),
            )
            .field("authorizers", &ids(&self.authorizers))
            .field("rotate_refresh_tokens", &self.rotate_refresh_tokens)
            .field("token_lifetime_secs", &self.token_lifetime_secs)
            .field("token_grace_secs", &self.token_grace_secs)
            .field("env_id", &self.env_id)
            .field("allowed_apis", &self.allowed_apis)
            .field("region", &self.region)
            .field("component_events", &self.component_events)
            .field("ticket_interval", &self.ticket_interval)
            .field("log_push_failures", &self.log_push_failures)
            .finish_non_exhaustive()
    }
}

/// The default test secret pair (not a real credential).
pub const DEFAULT_SECRET_ID: &str = "AKIDemulatortestsecretid0000000000";
/// The default test secret key (not a real credential).
pub const DEFAULT_SECRET_KEY: &str = "emulator-test-secret-key";

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            host: "127.0.0.1".into(),
            port: 0,
            data_file: None,
            secret_pairs: vec![(DEFAULT_SECRET_ID.into(), DEFAULT_SECRET_KEY.into())],
            session_token: "emulator-session-token".into(),
            app_credentials: vec![("wx0emulatorapp0001".into(), "emulator-app-secret".into())],
            component_credentials: vec![(
                "wx0emulatorcomp001".into(),
                "emulator-component-secret".into(),
            )],
            component_verify_ticket: None,
            authorizers: vec![("wx0emulatorauth001".into(), "emulator-refresh-token".into())],
            rotate_refresh_tokens: false,
            token_lifetime_secs: 7200,
            token_grace_secs: 300,
            env_id: "emulator-env".into(),
            allowed_apis: None,
            region: "ap-shanghai".into(),
            limits: server::Limits::default(),
            component_events: None,
            ticket_interval: std::time::Duration::from_secs(600),
            log_push_failures: true,
        }
    }
}

/// A running emulator.
pub struct Emulator {
    server: Server,
    control: Arc<Control>,
    secret_id: String,
    secret_key: String,
    session_token: String,
    env_id: String,
    region: String,
    pushes_events: bool,
    ticket_schedule: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Start listening. Must run inside a Tokio runtime.
    pub async fn start(opts: EmulatorOptions) -> Result<Emulator, String> {
        let (secret_id, secret_key) = opts
            .secret_pairs
            .first()
            .cloned()
            .ok_or("secret_pairs must hold at least one (secretId, secretKey) pair")?;
        if opts
            .secret_pairs
            .iter()
            .any(|(id, key)| id.is_empty() || key.is_empty())
        {
            return Err("secretId and secretKey must not be empty".into());
        }
        if opts.env_id.is_empty() {
            return Err("env_id must not be empty".into());
        }
        let state = match &opts.data_file {
            Some(p) => {
                State::with_file(p.clone(), opts.token_lifetime_secs, opts.token_grace_secs)?
            }
            None => State::new(opts.token_lifetime_secs, opts.token_grace_secs),
        };
        state.set_rotate_refresh_tokens(opts.rotate_refresh_tokens);
        for (appid, refresh) in &opts.authorizers {
            state.add_authorizer(appid, refresh);
        }
        let wechat = WeChat::new(
            state.clone(),
            Credentials {
                apps: opts.app_credentials.clone(),
                components: opts.component_credentials.clone(),
                component_verify_ticket: opts.component_verify_ticket.clone(),
                require_pushed_ticket: opts.component_events.is_some(),
            },
        );
        let pusher = match &opts.component_events {
            None => None,
            Some(p) => {
                let (component_appid, _) = opts
                    .component_credentials
                    .first()
                    .ok_or("componentEventUrl needs a platform: componentCredentials is empty")?;
                Some(Arc::new(
                    Pusher::new(p, component_appid, state.clone())?
                        .log_failures(opts.log_push_failures),
                ))
            }
        };
        let faults = Faults::default();
        let app = Arc::new(Gateway {
            config: GatewayConfig {
                secret_pairs: opts.secret_pairs.clone(),
                env_id: opts.env_id.clone(),
                allowed_apis: opts.allowed_apis.clone(),
            },
            state: state.clone(),
            wechat,
            faults: faults.clone(),
        });
        let control = Arc::new(Control {
            state,
            faults,
            pusher: pusher.clone(),
        });
        let server = Server::bind(&opts.host, opts.port, opts.limits, app, control.clone()).await?;
        let ticket_schedule = match &pusher {
            Some(p) if !opts.ticket_interval.is_zero() => {
                Some(push::schedule(p.clone(), opts.ticket_interval))
            }
            _ => None,
        };
        Ok(Emulator {
            server,
            control,
            secret_id,
            secret_key,
            session_token: opts.session_token,
            env_id: opts.env_id,
            region: opts.region,
            pushes_events: pusher.is_some(),
            ticket_schedule,
        })
    }

    /// An account authorizes the platform (again): it gets a new refresh
    /// token, and an authorization code that `api_query_auth` exchanges
    /// once; with an event URL, `authorized` (`updateauthorized` when it
    /// had authorized before) is pushed before this returns.
    pub async fn authorize(&self, authorizer_appid: &str) -> Result<Authorized, String> {
        self.control.authorize(authorizer_appid).await
    }

    /// An account takes its authorization back: its refresh token, codes
    /// and access tokens are refused from now on (61003 from
    /// `api_authorizer_token`, 40001 from the APIs); with an event URL,
    /// `unauthorized` is pushed. `Ok(false)`: it had not authorized.
    pub async fn revoke(&self, authorizer_appid: &str) -> Result<bool, String> {
        self.control.revoke(authorizer_appid).await
    }

    /// Push a new verify ticket now; returns it.
    pub async fn push_ticket(&self) -> Result<String, String> {
        self.control.push_ticket().await
    }

    /// Is an event URL configured?
    pub fn pushes_events(&self) -> bool {
        self.pushes_events
    }

    /// The accounts that have authorized the platform, sorted.
    pub fn authorizers(&self) -> Vec<String> {
        self.control.state.authorizers()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let addr = self.server.addr();
        match addr.ip() {
            std::net::IpAddr::V6(ip) => format!("http://[{ip}]:{}", addr.port()),
            std::net::IpAddr::V4(ip) => format!("http://{ip}:{}", addr.port()),
        }
    }

    /// The base URL replacing `https://api.weixin.qq.com` in HTTPS mode
    /// (the same listener, plain HTTP).
    pub fn https_base_url(&self) -> String {
        self.url()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// The environment variables a cloud function would have, pointing at
    /// this emulator: `TENCENTCLOUD_RUNENV=SCF` (so no SDK probes a cloud
    /// metadata host), the secret pair and session token, `TCB_ENV`,
    /// `SCF_NAMESPACE`, `TENCENTCLOUD_REGION`, and `TCB_CONTEXT_CNFG` whose
    /// `URL` is `{url}/admin`.
    pub fn cloud_env(&self) -> Vec<(String, String)> {
        let cnfg = serde_json::json!({ "URL": format!("{}/admin", self.url()) }).to_string();
        [
            ("TENCENTCLOUD_RUNENV", "SCF".to_string()),
            ("TENCENTCLOUD_SECRETID", self.secret_id.clone()),
            ("TENCENTCLOUD_SECRETKEY", self.secret_key.clone()),
            ("TENCENTCLOUD_SESSIONTOKEN", self.session_token.clone()),
            ("TENCENTCLOUD_REGION", self.region.clone()),
            ("SCF_NAMESPACE", self.env_id.clone()),
            ("TCB_ENV", self.env_id.clone()),
            ("TCB_CONTEXT_KEYS", "TCB_ENV".to_string()),
            ("TCB_CONTEXT_CNFG", cnfg),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Every environment created (and durable, with a data file).
    pub fn environments(&self) -> Vec<EnvironmentRecord> {
        self.control.state.environments()
    }

    /// Calls per endpoint (`gateway:{api}`, `https:{api}`), tokens issued
    /// per kind, environments, durable writes, faults fired.
    pub fn stats(&self) -> serde_json::Value {
        self.control.stats()
    }

    /// Add a fault. Its `api` must be one the emulator knows (or `*`):
    /// see [`faults::known_api`].
    pub fn inject_fault(&self, spec: FaultSpec) -> Result<(), String> {
        self.control.inject_fault(spec)
    }

    /// Remove every fault.
    pub fn clear_faults(&self) {
        self.control.faults.clear()
    }

    /// Stop: no new connections, requests in flight finish (bounded), then
    /// every connection is closed. Idempotent.
    pub async fn close(&self) {
        if let Some(t) = &self.ticket_schedule {
            t.abort();
        }
        self.server.close().await;
        self.control.state.release_file();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(t) = &self.ticket_schedule {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn raw(url_port: u16, req: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", url_port))
            .await
            .unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_and_closes() {
        let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
        let port = emu.port();
        let r = raw(
            port,
            "GET /cgi-bin/token?grant_type=client_credential&appid=wx0emulatorapp0001&secret=emulator-app-secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(r.contains("\"access_token\""), "{r}");
        let r = raw(
            port,
            "POST /tcb/createenvandresource HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(r.starts_with("HTTP/1.1 413"), "{r}");
        // Keep-alive: two requests on one connection, two answers.
        let two = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        let r = raw(port, two).await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(r.contains("HTTP/1.1 404"), "{r}");
        let env = emu.cloud_env();
        assert!(env
            .iter()
            .any(|(k, v)| k == "TCB_CONTEXT_CNFG" && v.contains(&format!("{}/admin", emu.url()))));
        tokio::join!(emu.close(), emu.close());
        emu.close().await;
        assert!(tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err());
    }

    /// An emulator on loopback with these limits, and a connection to it.
    async fn connected(limits: server::Limits) -> (Emulator, tokio::net::TcpStream) {
        let emu = Emulator::start(EmulatorOptions {
            host: "localhost".into(),
            limits,
            ..Default::default()
        })
        .await
        .unwrap();
        let s = tokio::net::TcpStream::connect(("127.0.0.1", emu.port()))
            .await
            .unwrap();
        (emu, s)
    }

    /// What the connection received until the emulator closed it; `None`
    /// when it is still open after 5 s (a bound against a hang only).
    async fn until_closed(s: &mut tokio::net::TcpStream) -> Option<String> {
        let mut out = Vec::new();
        // A reset counts as closed too, as it did for each test before.
        let _read_or_reset =
            tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out))
                .await
                .ok()?;
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_headers_are_cut_off() {
        let (emu, mut s) = connected(server::Limits {
            header_read_timeout: std::time::Duration::from_millis(200),
            ..Default::default()
        })
        .await;
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let started = std::time::Instant::now();
        let out = until_closed(&mut s).await.expect("connection not closed");
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        // hyper may answer 408 or just close; either way no 200.
        assert!(!out.contains("200 OK"));
        emu.close().await;
    }

    /// A connection waiting for its next request is idle, not slow: the
    /// header timeout (slowloris) must not close it. Closing it there races
    /// with a client that reuses it at that moment, and a POST that meets a
    /// closed connection cannot be resent (it may have been executed): the
    /// load suite lost a call that way when the emulator closed idle
    /// connections after 10 s and our client kept them for 30 s.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_connection_outlives_the_header_timeout() {
        let (emu, mut s) = connected(server::Limits {
            header_read_timeout: std::time::Duration::from_millis(100),
            ..Default::default()
        })
        .await;
        let get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut buf = vec![0u8; 4096];
        s.write_all(get).await.unwrap();
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        // Idle for five header timeouts, then the next request on the
        // same connection is answered.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        s.write_all(get).await.unwrap();
        let n = s.read(&mut buf).await.unwrap();
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "idle connection was closed: {:?}",
            String::from_utf8_lossy(&buf[..n])
        );
        // Idle again, then a request's first bytes and no more: cut off by
        // the header timeout, counted from those bytes (the idle timeout is
        // minutes; the bound is only against a hang).
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let out = until_closed(&mut s)
            .await
            .expect("a slow request's connection was not closed");
        assert!(!out.contains("200 OK"));
        emu.close().await;
    }

    /// An idle connection is closed after the idle timeout, as servers do.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_connection_is_closed_after_the_idle_timeout() {
        let (emu, mut s) = connected(server::Limits {
            idle_timeout: std::time::Duration::from_millis(200),
            ..Default::default()
        })
        .await;
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        // Closed within half the header timeout (10 s): by the idle timeout.
        let out = until_closed(&mut s)
            .await
            .expect("idle connection not closed");
        assert!(out.starts_with("HTTP/1.1 200"));
        emu.close().await;
    }

    /// The emulator keeps idle connections well beyond the time our client
    /// keeps them in its pool, so the client always gives one up first.
    #[test]
    fn the_client_gives_up_an_idle_connection_before_the_emulator() {
        assert!(server::IDLE_TIMEOUT >= 2 * crate::wire::POOL_IDLE_TIMEOUT);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn drop_and_truncate_faults() {
        let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
        let port = emu.port();
        let req = "POST /tcb/describeenvs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        emu.inject_fault(
            FaultSpec::from_json(serde_json::json!({"kind":"drop_before","times":1})).unwrap(),
        )
        .unwrap();
        assert_eq!(raw(port, req).await, "");
        emu.inject_fault(
            FaultSpec::from_json(serde_json::json!({"kind":"truncated","times":1})).unwrap(),
        )
        .unwrap();
        let r = raw(port, req).await;
        let (head, body) = r.split_once("\r\n\r\n").unwrap_or_else(|| panic!("{r:?}"));
        // The whole answer: `{"errcode":41001,"errmsg":"access_token missing rid: …"}`.
        let whole =
            r#"{"errcode":41001,"errmsg":"access_token missing rid: 00000000-00000000-00000000"}"#;
        assert!(
            head.contains(&format!("content-length: {}", whole.len())),
            "{head}"
        );
        assert_eq!(body, &whole[..whole.len() / 2]);
        assert!(raw(port, req).await.contains("41001"));
        assert_eq!(emu.stats()["faultsFired"], 2);
        emu.close().await;
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_of_the_options_shows_no_secret() {
        let opts = EmulatorOptions {
            secret_pairs: vec![("AKIDexample".into(), "SECRETKEY1".into())],
            session_token: "SESSIONTOKEN1".into(),
            app_credentials: vec![("wxapp".into(), "APPSECRET1".into())],
            component_credentials: vec![("wxcomp".into(), "COMPSECRET1".into())],
            component_verify_ticket: Some("TICKET1".into()),
            authorizers: vec![("wxauth".into(), "REFRESH1".into())],
            component_events: Some(PushOptions {
                url: "http://user:URLPASSWORD1@127.0.0.1:9/events".into(),
                token: "MSGTOKEN1".into(),
                encoding_aes_key: "AESKEY1".into(),
            }),
            ..EmulatorOptions::default()
        };
        let shown = format!("{opts:?}");
        for secret in [
            "SECRETKEY1",
            "SESSIONTOKEN1",
            "APPSECRET1",
            "COMPSECRET1",
            "TICKET1",
            "REFRESH1",
            "URLPASSWORD1",
            "MSGTOKEN1",
            "AESKEY1",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("AKIDexample") && shown.contains("wxauth"),
            "{shown}"
        );
    }
}
