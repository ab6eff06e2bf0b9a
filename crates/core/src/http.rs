//! The one shared HTTP client: keep-alive pool, timeouts, body limits,
//! and the safe-retry policy.
//!
//! Only failures that prove the request never reached the server (it could
//! not connect) are retried automatically: a cloud call may create an
//! environment, and doing that twice costs money.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::connector::Connector;

use crate::error::{ApiError, ErrorKind};
use crate::redact::{redact, scrub};

/// Largest answer body accepted; bigger answers fail instead of exhausting memory.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// How many times a connection failure is retried (the request was never sent).
pub const CONNECT_RETRIES: u32 = 2;

/// What came back over HTTP.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header ("" when there is none).
    pub content_type: String,
    /// The whole body.
    pub body: Bytes,
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Could not connect (refused, DNS, connect timeout): the request was not sent.
    Connect(String),
    /// The connection failed after the request may have been sent.
    Io(String),
    /// The answer body was larger than [`MAX_BODY_BYTES`].
    TooLarge,
    /// The whole exchange took longer than its timeout ([`within`]).
    Timeout(Duration),
    /// The request could not be built (a header value or the URL cannot be
    /// sent as it is): nothing left the process.
    NotSent(String),
}

/// Said of every failure after the request may have reached the server: a
/// caller who retries blindly may, for instance, create an environment twice.
pub const MAY_HAVE_EXECUTED: &str =
    "the request may have reached the server, so the call may have executed: check before retrying";

impl TransportError {
    /// A short description, free of URLs and secrets.
    pub fn describe(&self) -> String {
        match self {
            TransportError::Connect(c) => format!("could not connect: {c}"),
            TransportError::Io(c) => format!("connection failed: {c}; {MAY_HAVE_EXECUTED}"),
            TransportError::TooLarge => format!("answer larger than {MAX_BODY_BYTES} bytes"),
            TransportError::Timeout(d) => {
                format!("no answer within {} ms; {MAY_HAVE_EXECUTED}", d.as_millis())
            }
            TransportError::NotSent(c) => format!("the request cannot be sent as it is: {c}"),
        }
    }

    /// What kind of failure this is (which decides whether it may be retried).
    pub fn kind(&self) -> ErrorKind {
        match self {
            TransportError::Connect(_) => ErrorKind::Connect,
            TransportError::Io(_) | TransportError::TooLarge => ErrorKind::Transport,
            TransportError::Timeout(_) => ErrorKind::Timeout,
            TransportError::NotSent(_) => ErrorKind::InvalidInput,
        }
    }

    /// The error of a call that got no answer from `url` (shown in the
    /// message; `what` comes before the cause, e.g. `cannot get
    /// access_token: `), with `secrets` scrubbed from what the message quotes
    /// (the call's top adds `{api}:fail `):
    /// - a timeout: `CloudSDKError` -501002 `-501002 resource server
    ///   timeout. {what}no answer within {ms} ms | [{url}]`;
    /// - a request that cannot be sent: `CloudSDKError` -501007 (an invalid
    ///   parameter; nothing was sent);
    /// - anything else: a plain `Error` -501001 `-501001 resource system
    ///   error. {what}{cause} | [{url}]`.
    pub fn into_api_error(self, what: &str, url: &str, secrets: &[&str]) -> ApiError {
        let detail = scrub(&format!("{what}{} | [{url}]", self.describe()), secrets);
        match self {
            TransportError::Timeout(_) => ApiError::timeout(&detail),
            TransportError::NotSent(why) => ApiError::invalid_param(format!(
                "the request cannot be sent as it is ({}); nothing was sent | [{url}]",
                scrub(&why, secrets)
            )),
            other => ApiError::sys_err(other.kind(), &detail),
        }
    }
}

/// Wait for `exchange` at most `timeout`: no answer by then is
/// [`TransportError::Timeout`].
pub async fn within<F>(timeout: Duration, exchange: F) -> Result<RawAnswer, TransportError>
where
    F: std::future::Future<Output = Result<RawAnswer, TransportError>>,
{
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(TransportError::Timeout(timeout)))
}

/// How long an idle keep-alive connection stays in the pool. A server that
/// closes idle connections sooner races with a call that reuses one at that
/// moment (the POST meets a closed socket and cannot be resent), so servers
/// we ship (the emulator) keep them longer.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP/1.1 client: hyper-util's keep-alive pool over our connector
/// (src/connector.rs: TCP, the `proxy` option's proxy, TLS from src/tls.rs).
/// Clones share the pool.
///
/// What it does not do, on purpose:
/// - follow redirects: a 307 would send the POST again, possibly creating
///   an environment twice, and a redirected token request would carry the
///   app secret to wherever the Location points. A 3xx is reported like
///   any other HTTP status other than 200;
/// - use proxy variables from the environment (`HTTP_PROXY`, `ALL_PROXY`,
///   ...): they would send every cloud call, even one to an emulator on
///   loopback, through the proxy. The reference does not use them either
///   (its requests take only an explicit proxy); the HTTPS modes' `proxy`
///   option is the one way ([`client_for`]);
/// - retry a request that may have reached the server (its
///   `send_safely`).
#[derive(Clone)]
pub struct Client {
    pool: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
    /// `Proxy-Authorization` of requests to `http` URLs through the proxy
    /// (to `https` URLs, the tunnel carries it: src/connector.rs).
    proxy_auth: Option<HeaderValue>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("proxied", &self.proxy_auth.is_some())
            .finish_non_exhaustive()
    }
}

static CLIENT: LazyLock<Result<Client, String>> = LazyLock::new(|| build_client(None));

/// The shared direct client: cloud calls, and the HTTPS modes without a
/// `proxy` ([`client_for`]).
pub fn client() -> Result<&'static Client, TransportError> {
    CLIENT
        .as_ref()
        .map_err(|e| TransportError::Connect(e.clone()))
}

/// A human-readable cause chain of an error.
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    redact(&msg)
}

fn classify(e: hyper_util::client::legacy::Error) -> TransportError {
    if e.is_connect() {
        TransportError::Connect(cause(&e))
    } else {
        TransportError::Io(cause(&e))
    }
}

/// Read a response fully, within the size limit.
async fn read(resp: http::Response<Incoming>) -> Result<RawAnswer, TransportError> {
    let status = resp.status().as_u16();
    let headers = resp.headers();
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let length = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(TransportError::TooLarge);
    }
    let mut incoming = resp.into_body();
    let mut body = Vec::with_capacity(length.map_or(0, |n| n as usize));
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| TransportError::Io(cause(&e)))?;
        if let Ok(chunk) = frame.into_data() {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(TransportError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
    }
    Ok(RawAnswer {
        status,
        content_type,
        body: Bytes::from(body),
    })
}

/// A request that cannot be built (a URL or header value refused): nothing
/// was sent. Worded as reqwest, which this client replaced, worded it.
fn builder_error(e: impl std::fmt::Display) -> TransportError {
    TransportError::NotSent(format!("builder error: {e}"))
}

/// A URL to send to: a parsed `url::Url`, or text parsed as one.
pub trait IntoUrl {
    /// The URL, or why it cannot be sent to.
    fn into_url(self) -> Result<url::Url, TransportError>;
}

impl IntoUrl for url::Url {
    fn into_url(self) -> Result<url::Url, TransportError> {
        Ok(self)
    }
}

impl IntoUrl for &str {
    fn into_url(self) -> Result<url::Url, TransportError> {
        url::Url::parse(self).map_err(builder_error)
    }
}

impl IntoUrl for &String {
    fn into_url(self) -> Result<url::Url, TransportError> {
        self.as_str().into_url()
    }
}

/// `url` as the request's target: an `http` or `https` URL that
/// `http::Uri` takes, and the `Authorization` of a user and password it
/// carries (taken out of the URL, as reqwest did).
fn target(url: impl IntoUrl) -> Result<(Uri, Option<HeaderValue>), TransportError> {
    let mut url = url.into_url()?;
    // Both schemes require a host: `url::Url` parses none without one.
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TransportError::NotSent("URL scheme is not allowed".into()));
    }
    let auth = basic_auth(url.username(), url.password());
    if auth.is_some() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    // The URL's own text becomes the Uri's (no copy).
    let uri = Uri::try_from(String::from(url)).map_err(builder_error)?;
    Ok((uri, auth))
}

/// `Basic` credentials of a URL's user and password (percent-decoded),
/// marked sensitive; `None` when it has neither, or when either is not
/// UTF-8 once decoded.
fn basic_auth(user: &str, password: Option<&str>) -> Option<HeaderValue> {
    use base64::Engine as _;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    let user = decode(user)?;
    let password = match password {
        Some(p) => Some(decode(p)?),
        None => None,
    };
    if user.is_empty() && password.is_none() {
        return None;
    }
    let pair = [user.as_str(), ":", password.as_deref().unwrap_or("")].concat();
    let text = [
        "Basic ",
        &base64::engine::general_purpose::STANDARD.encode(pair),
    ]
    .concat();
    let mut value = HeaderValue::from_str(&text).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Every request's first header, as reqwest (which this client replaced)
/// sent it.
const ACCEPT_ANY: HeaderValue = HeaderValue::from_static("*/*");

impl Client {
    /// A request to `url` with `body`: `Accept: */*`, `Authorization` of
    /// a user and password in the URL, then the headers `add` puts in,
    /// then `Proxy-Authorization` when an `http` URL goes through a proxy
    /// that has a user. hyper adds `Host` (and a `Content-Length` that is
    /// not there).
    fn request(
        &self,
        method: Method,
        url: impl IntoUrl,
        body: Bytes,
        extra: usize,
        add: impl FnOnce(&mut HeaderMap) -> Result<(), TransportError>,
    ) -> Result<http::Request<Full<Bytes>>, TransportError> {
        let (uri, auth) = target(url)?;
        let plain = uri.scheme() == Some(&http::uri::Scheme::HTTP);
        let mut req = http::Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        let headers = req.headers_mut();
        headers.reserve(extra + 3);
        headers.insert(http::header::ACCEPT, ACCEPT_ANY);
        if let Some(auth) = auth {
            headers.insert(http::header::AUTHORIZATION, auth);
        }
        add(headers)?;
        if let (true, Some(auth)) = (plain, &self.proxy_auth) {
            headers.insert(http::header::PROXY_AUTHORIZATION, auth.clone());
        }
        Ok(req)
    }

    /// Send a request built by `build`, retrying (with a short backoff)
    /// only when the connection could not be made: then the request was
    /// never written, so sending it again cannot execute it twice.
    /// Anything else (an answer, a timeout, a connection dropped after the
    /// request was written) is returned as is.
    async fn send_safely<B>(&self, build: B) -> Result<RawAnswer, TransportError>
    where
        B: Fn() -> Result<http::Request<Full<Bytes>>, TransportError>,
    {
        let mut attempt = 0;
        loop {
            let failed = match self.pool.request(build()?).await {
                Ok(resp) => return read(resp).await,
                Err(e) => classify(e),
            };
            if failed.kind() != ErrorKind::Connect || attempt >= CONNECT_RETRIES {
                return Err(failed);
            }
            attempt += 1;
            tokio::time::sleep(connect_backoff(attempt)).await;
        }
    }
}

/// One multipart field: name, value, sent as `application/octet-stream`?
pub type FormField<'a> = (&'a str, &'a [u8], bool);

/// Pause before connection attempt `attempt` (1-based): 50 ms, 100 ms, ...
fn connect_backoff(attempt: u32) -> Duration {
    Duration::from_millis(50 * u64::from(attempt))
}

/// `prefix?query` as reqwest parses that text, without parsing `prefix`
/// again: a client sends to a few URLs over and over (one gateway, a few
/// API paths), and parsing was a fifth of resolving a cloud call. Each
/// prefix is parsed once and kept (at most 64, emptied when full); the
/// query is set on a copy. `query` must be percent- or form-encoded (only
/// `A-Z a-z 0-9 * - . _ + % = &`), which a URL's query keeps as it is.
/// `None` when `prefix` has a query or fragment of its own or does not
/// parse: the caller parses its whole text.
pub fn with_query(prefix: &str, query: &str) -> Option<url::Url> {
    const KEPT: usize = 64;
    static PARSED: LazyLock<Mutex<HashMap<String, Option<url::Url>>>> =
        LazyLock::new(Default::default);
    let kept = crate::lock::lock(&PARSED).get(prefix).cloned();
    let parsed = match kept {
        Some(parsed) => parsed,
        None => {
            let parsed = match prefix.contains(['?', '#']) {
                true => None,
                false => url::Url::parse(prefix).ok(),
            };
            let mut kept = crate::lock::lock(&PARSED);
            if kept.len() >= KEPT {
                kept.clear();
            }
            kept.insert(prefix.to_string(), parsed.clone());
            parsed
        }
    };
    let mut url = parsed?;
    url.set_query(Some(query));
    Some(url)
}

/// POST a multipart form. Connection failures are retried (with a short
/// backoff) because the request was never sent; nothing else is.
pub async fn post_multipart<U: IntoUrl + Clone>(
    url: U,
    headers: &[(&str, String)],
    fields: &[FormField<'_>],
) -> Result<RawAnswer, TransportError> {
    let client = client()?;
    // The body is encoded once, in one buffer (a retry sends the same bytes).
    let (content_type, body) = encode_multipart(fields);
    let not_sent = |e: &dyn std::fmt::Display| TransportError::NotSent(redact(&e.to_string()));
    let content_type = HeaderValue::from_str(&content_type).map_err(|e| not_sent(&e))?;
    client
        .send_safely(|| {
            client.request(
                Method::POST,
                url.clone(),
                body.clone(),
                headers.len() + 2,
                |map| {
                    map.insert(http::header::CONTENT_TYPE, content_type.clone());
                    map.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
                    for (k, v) in headers {
                        let name =
                            HeaderName::from_bytes(k.as_bytes()).map_err(|e| not_sent(&e))?;
                        map.append(name, HeaderValue::from_str(v).map_err(|e| not_sent(&e))?);
                    }
                    Ok(())
                },
            )
        })
        .await
}

/// The multipart body exactly as reqwest's `Form` writes it (same boundary
/// shape, part headers and delimiters), built in one buffer instead of a
/// stream of pieces: `(content type with the boundary, body)`. A name with
/// characters other than ASCII letters, digits, `_`, `-`, `.` is sent
/// percent-encoded as `name*=utf-8''…` (as reqwest does; the cloud call's
/// names never need it). No field: an empty body.
pub fn encode_multipart(fields: &[FormField<'_>]) -> (String, Bytes) {
    let plain = |n: &str| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    // Four random 64-bit words in hex, `-` between them (as reqwest's Form
    // writes its boundary), written without `core::fmt`.
    let mut text = [b'-'; 67];
    for word in text.chunks_mut(17) {
        let _ = hex::encode_to_slice(fastrand::u64(..).to_be_bytes(), &mut word[..16]);
    }
    let boundary = String::from_utf8_lossy(&text);
    const DISPOSITION: &[u8] = b"\r\nContent-Disposition: form-data; ";
    const OCTET_STREAM: &[u8] = b"\r\nContent-Type: application/octet-stream";
    let len: usize = fields
        .iter()
        .map(|(n, v, _)| {
            2 + boundary.len()
                + DISPOSITION.len()
                + 13
                + 3 * n.len()
                + OCTET_STREAM.len()
                + 4
                + v.len()
                + 2
        })
        .sum::<usize>()
        + boundary.len()
        + 6;
    let mut body = Vec::with_capacity(len);
    for (name, value, binary) in fields {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(DISPOSITION);
        if plain(name) {
            body.extend_from_slice(b"name=\"");
            body.extend_from_slice(name.as_bytes());
            body.push(b'"');
        } else {
            body.extend_from_slice(b"name*=utf-8''");
            for &b in name.as_bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') {
                    body.push(b);
                } else {
                    body.extend_from_slice(format!("%{b:02X}").as_bytes());
                }
            }
        }
        if *binary {
            body.extend_from_slice(OCTET_STREAM);
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    if !fields.is_empty() {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"--\r\n");
    }
    (
        ["multipart/form-data; boundary=", &boundary].concat(),
        Bytes::from(body),
    )
}

static PROXIED: LazyLock<Mutex<HashMap<String, Client>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A client with its own pool: direct, or through `proxy` (only the
/// `proxy` option decides: [`Client`]).
fn build_client(proxy: Option<&str>) -> Result<Client, String> {
    // rustls needs a process-wide crypto provider; installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = crate::tls::client_config()
        .map_err(|e| redact(&format!("could not create the HTTP client: {e}")))?;
    let (route, proxy_auth) = match proxy {
        None => (None, None),
        Some(url) => {
            let (uri, auth) = proxy_route(url).ok_or_else(|| "invalid proxy URL".to_string())?;
            (Some((uri, auth.clone())), auth)
        }
    };
    let mut pool = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
    pool.timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(256);
    Ok(Client {
        pool: pool.build(Connector::new(Arc::new(tls), route)),
        proxy_auth,
    })
}

/// A proxy URL (`http` or `https`, with a host) as the proxy's own URL,
/// and the `Proxy-Authorization` of its user and password (Basic,
/// percent-decoded), if it has a user.
fn proxy_route(text: &str) -> Option<(Uri, Option<HeaderValue>)> {
    let url = url::Url::parse(text).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    let uri = Uri::try_from(format!("{}://{host}:{port}", url.scheme())).ok()?;
    let auth = basic_auth(url.username(), url.password());
    Some((uri, auth))
}

/// The client of the HTTPS modes: the direct one cloud calls share, or
/// one through `proxy` (one client, with its own connection pool, per
/// distinct proxy, kept for the process).
pub fn client_for(proxy: Option<&str>) -> Result<Client, TransportError> {
    let Some(url) = proxy else {
        return client().cloned();
    };
    let mut map = crate::lock::lock(&PROXIED);
    if let Some(c) = map.get(url) {
        return Ok(c.clone());
    }
    let c = build_client(Some(url)).map_err(TransportError::Connect)?;
    map.insert(url.to_string(), c.clone());
    Ok(c)
}

/// POST a JSON body (already serialised). Connection failures are retried,
/// nothing else.
pub async fn post_json<U: IntoUrl + Clone>(
    client: &Client,
    url: U,
    body: &str,
) -> Result<RawAnswer, TransportError> {
    send_body(
        client,
        Method::POST,
        url,
        Some("application/json"),
        Bytes::copy_from_slice(body.as_bytes()),
    )
    .await
}

/// Send `method` to `url` with a prepared body (`content_type` `None`: no
/// body, no content type). Connection failures are retried, nothing else.
pub async fn send_body<U: IntoUrl + Clone>(
    client: &Client,
    method: Method,
    url: U,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<RawAnswer, TransportError> {
    let content_type = match content_type {
        None => None,
        Some(ct) => Some(HeaderValue::from_str(ct).map_err(builder_error)?),
    };
    let body = if content_type.is_some() {
        body
    } else {
        Bytes::new()
    };
    client
        .send_safely(|| {
            client.request(method.clone(), url.clone(), body.clone(), 1, |map| {
                if let Some(ct) = &content_type {
                    map.insert(http::header::CONTENT_TYPE, ct.clone());
                }
                Ok(())
            })
        })
        .await
}

/// GET a URL. Connection failures are retried, nothing else.
pub async fn get<U: IntoUrl + Clone>(client: &Client, url: U) -> Result<RawAnswer, TransportError> {
    send_body(client, Method::GET, url, None, Bytes::new()).await
}

/// The pause before busy-retry number `attempt` (1-based) of `retry.onBusy`:
/// exponential (200 ms, 400 ms, 800 ms, ... at most 5 s) with full jitter
/// over its upper half, so that many clients told "busy" at once do not
/// all come back at once.
pub fn busy_backoff(attempt: u32) -> Duration {
    let cap = 200u64
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(16))
        .min(5_000);
    Duration::from_millis(cap / 2 + fastrand::u64(0..=cap / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_backoff_grows_with_jitter_and_a_cap() {
        for _ in 0..50 {
            let d1 = busy_backoff(1).as_millis();
            assert!((100..=200).contains(&d1), "{d1}");
            let d3 = busy_backoff(3).as_millis();
            assert!((400..=800).contains(&d3), "{d3}");
            assert!(busy_backoff(40).as_millis() <= 5_000);
        }
    }

    #[tokio::test]
    async fn a_dropped_answer_is_not_retried() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.shutdown().await; // drop without an answer
            }
        });
        let client = client_for(None).unwrap();
        let err = post_json(&client, &format!("http://127.0.0.1:{port}/x"), "{}")
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Io(_)), "{err:?}");
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = sock.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let answer = format!(
                            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:{port}/again\r\ncontent-length: 0\r\n\r\n"
                        );
                        if sock.write_all(answer.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let url = format!("http://127.0.0.1:{port}/x");
        let answer = post_json(&client_for(None).unwrap(), &url, "{}")
            .await
            .unwrap();
        assert_eq!(answer.status, 307);
        let answer = post_multipart(&url, &[], &[("a", b"1", false)])
            .await
            .unwrap();
        assert_eq!(answer.status, 307);
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn multipart_body_is_what_reqwest_writes() {
        let fields: [FormField<'_>; 3] = [
            ("action", b"wx.openApi", false),
            ("requestData", &[0, 1, 0xff], true),
            ("empty", b"", false),
        ];
        let (content_type, body) = encode_multipart(&fields);
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        assert_eq!(boundary.len(), 4 * 16 + 3);
        // reqwest's shape: four 64-bit words in lower-case hex, `-` between.
        let words: Vec<&str> = boundary.split('-').collect();
        let hex_word =
            |w: &&str| w.len() == 16 && w.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        assert!(words.len() == 4 && words.iter().all(hex_word), "{boundary}");
        assert_ne!(
            encode_multipart(&fields).0,
            content_type,
            "a new boundary per body"
        );
        let mut expected = Vec::new();
        expected.extend_from_slice(
            b"--B\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nwx.openApi\r\n",
        );
        expected.extend_from_slice(b"--B\r\nContent-Disposition: form-data; name=\"requestData\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        expected.extend_from_slice(&[0, 1, 0xff]);
        expected.extend_from_slice(
            b"\r\n--B\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n--B--\r\n",
        );
        let body = String::from_utf8_lossy(&body).replace(boundary, "B");
        assert_eq!(body, String::from_utf8_lossy(&expected));
        let (content_type, body) = encode_multipart(&[("a b", b"1", false)]);
        let boundary = content_type.rsplit('=').next().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&body).replace(boundary, "B"),
            "--B\r\nContent-Disposition: form-data; name*=utf-8''a%20b\r\n\r\n1\r\n--B--\r\n"
        );
        assert!(encode_multipart(&[]).1.is_empty());
    }

    /// A one-connection-at-a-time proxy on loopback that answers each
    /// request head with `answer` and records the heads it read.
    async fn recording_proxy(answer: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = sock.write_all(answer.as_bytes()).await;
                let _ = sock.shutdown().await;
            }
        });
        (format!("http://us%40er:p%3Ass@127.0.0.1:{port}"), heads)
    }

    #[tokio::test]
    async fn an_http_url_through_a_proxy_goes_whole_with_the_proxys_credentials() {
        let (proxy, heads) = recording_proxy(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
        )
        .await;
        let client = client_for(Some(&proxy)).unwrap();
        let answer = post_json(&client, "http://wechat.invalid:8080/cgi-bin/x?a=1", "{}")
            .await
            .unwrap();
        assert_eq!((answer.status, &answer.body[..]), (200, &b"{}"[..]));
        let heads = heads.lock().unwrap();
        assert_eq!(heads.len(), 1);
        let head = heads[0].to_ascii_lowercase();
        assert!(
            head.starts_with("post http://wechat.invalid:8080/cgi-bin/x?a=1 http/1.1\r\n"),
            "{head}"
        );
        // "us@er:p:ss", percent-decoded from the URL, in Base64.
        assert!(
            head.contains("\r\nproxy-authorization: basic dxnazxi6cdpzcw==\r\n"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn an_https_url_through_a_proxy_goes_through_a_tunnel_with_the_proxys_credentials() {
        // The tunnel is granted, then closed: TLS cannot start, so the
        // connection was never made (and is tried again, as any such).
        let (proxy, heads) = recording_proxy("HTTP/1.1 200 Connection established\r\n\r\n").await;
        let client = client_for(Some(&proxy)).unwrap();
        let err = post_json(
            &client,
            "https://wechat.invalid/cgi-bin/x?access_token=T",
            "{}",
        )
        .await
        .unwrap_err();
        assert!(matches!(err, TransportError::Connect(_)), "{err:?}");
        let heads = heads.lock().unwrap();
        assert_eq!(heads.len(), 1 + CONNECT_RETRIES as usize);
        for head in heads.iter() {
            let head = head.to_ascii_lowercase();
            // Only the host and port go to the proxy, never the path or its token.
            assert!(
                head.starts_with("connect wechat.invalid:443 http/1.1\r\n"),
                "{head}"
            );
            assert!(!head.contains("access_token"), "{head}");
            assert!(
                head.contains("\r\nproxy-authorization: basic dxnazxi6cdpzcw==\r\n"),
                "{head}"
            );
        }
    }

    #[tokio::test]
    async fn a_user_and_password_in_the_url_go_as_basic_authorization_not_in_the_url() {
        let (server, heads) =
            recording_proxy("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                .await;
        let answer = post_json(&client_for(None).unwrap(), &format!("{server}/x?y=1"), "{}")
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        let head = heads.lock().unwrap()[0].to_ascii_lowercase();
        let port = server.rsplit(':').next().unwrap();
        assert!(head.starts_with("post /x?y=1 http/1.1\r\n"), "{head}");
        assert!(
            head.contains(&format!("\r\nhost: 127.0.0.1:{port}\r\n")),
            "{head}"
        );
        assert!(
            head.contains("\r\nauthorization: basic dxnazxi6cdpzcw==\r\n"),
            "{head}"
        );
        assert!(
            !head.contains("us%40er") && !head.contains("p%3ass"),
            "{head}"
        );
    }

    #[test]
    fn a_proxy_url_that_is_not_http_is_refused() {
        for bad in ["socks5://127.0.0.1:1", "not a url", "http://"] {
            assert!(proxy_route(bad).is_none(), "{bad}");
        }
        let (uri, auth) = proxy_route("https://proxy.example").unwrap();
        assert_eq!(
            (uri.to_string().as_str(), auth),
            ("https://proxy.example:443/", None)
        );
    }

    #[tokio::test]
    async fn refused_connection_is_a_connect_error() {
        // Bind then drop a listener to get a port that refuses connections.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let err = post_multipart(
            &format!("http://127.0.0.1:{port}/admin"),
            &[],
            &[("a", b"1", false)],
        )
        .await
        .unwrap_err();
        assert!(matches!(err, TransportError::Connect(_)), "{err:?}");
    }
}
