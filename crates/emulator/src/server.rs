//! The HTTP/1.1 listener: accept loop, routing, limits, graceful close.
//!
//! Limits (defaults, see [`Limits`]): request bodies above [`MAX_BODY_BYTES`]
//! get 413 (the rest of such a body is read and discarded for a while, so
//! the answer reaches a client still sending); request headers must arrive
//! within [`HEADER_READ_TIMEOUT`] of their first byte (slowloris) and bodies
//! within [`BODY_READ_TIMEOUT`], else the connection is closed. Connections
//! are kept alive between requests, and closed after [`IDLE_TIMEOUT`]
//! without one: longer than our client keeps them in its pool
//! ([`crate::wire::POOL_IDLE_TIMEOUT`]), so the client gives one up first.
//!
//! Routes: `/admin` (the gateway), the WeChat paths, and the control API
//! under `/__emulator/` ([`crate::control`]).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::control::Control;
use super::faults::Door;
use super::gateway::Gateway;
use super::reply::{after_processing, before_processing, Reply};
use super::wechat::WeChat;
use crate::wire::gateway::GatewayCode;

/// Largest request body accepted by default.
pub const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;
/// Default time allowed for a request's headers to arrive.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for a request's body to arrive.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Default time an idle keep-alive connection is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Per-connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: MAX_BODY_BYTES,
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}
/// Time `close()` waits for requests in flight before cutting them.
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// A whole answer (the usual case: no box, its length known to hyper), or
/// a streamed one (a fault's truncated answer).
type Body = Either<Full<Bytes>, BoxBody<Bytes, std::io::Error>>;

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

/// A running listener.
pub struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    /// Held across the wait, so a second `close()` returns only when the first is done.
    task: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Server {
    /// Bind `host:port` (port 0 = any free port) and start serving.
    pub async fn bind(
        host: &str,
        port: u16,
        limits: Limits,
        app: Arc<Gateway>,
        control: Arc<Control>,
    ) -> Result<Server, String> {
        let ip: std::net::IpAddr = if host == "localhost" {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            host.parse()
                .map_err(|_| format!("host must be an IP address or localhost, got {host:?}"))?
        };
        let listener = TcpListener::bind(SocketAddr::new(ip, port))
            .await
            .map_err(|e| format!("cannot listen on {ip}:{port}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, app, control, limits, rx));
        Ok(Server {
            addr,
            shutdown: tx,
            task: tokio::sync::Mutex::new(Some(task)),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, let requests in flight finish (up to [`CLOSE_GRACE`]),
    /// close every connection. Idempotent.
    pub async fn close(&self) {
        let _ = self.shutdown.send(true);
        let mut task = self.task.lock().await;
        if let Some(t) = task.take() {
            let _ = t.await;
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    app: Arc<Gateway>,
    control: Arc<Control>,
    limits: Limits,
    mut rx: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    let mut builder = http1::Builder::new();
    // hyper's header timeout also runs while a connection waits for its
    // next request, so it would close idle connections as slow ones; the
    // two are told apart by `Activity` and `watchdog` instead.
    builder.header_read_timeout(None).keep_alive(true);
    loop {
        tokio::select! {
            _ = rx.changed() => break,
            res = listener.accept() => match res {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let app = app.clone();
                    let control = control.clone();
                    let mut rx = rx.clone();
                    let builder = builder.clone();
                    conns.spawn(async move {
                        let activity = Arc::new(Activity::new());
                        let seen = activity.clone();
                        let svc = service_fn(move |req| {
                            let app = app.clone();
                            let control = control.clone();
                            let seen = seen.clone();
                            seen.set(Activity::REQUEST);
                            async move {
                                let answer = route(&app, &control, limits, req).await;
                                seen.set(Activity::IDLE);
                                answer
                            }
                        });
                        let io = Watched { inner: stream, activity: activity.clone() };
                        let conn = builder.serve_connection(TokioIo::new(io), svc);
                        tokio::pin!(conn);
                        if *rx.borrow_and_update() {
                            conn.as_mut().graceful_shutdown();
                        }
                        tokio::select! {
                            // The connection first: the watchdog reads what it did.
                            biased;
                            _ = conn.as_mut() => {}
                            // Dropping the connection closes it.
                            _ = watchdog(&activity, limits) => {}
                            _ = rx.changed() => {
                                conn.as_mut().graceful_shutdown();
                                let _ = conn.await;
                            }
                        }
                    });
                }
                // Out of file descriptors and the like: back off a little.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

/// What a connection is doing, and since when: waiting for a request
/// (idle), receiving one's headers, or handling one. A connection's
/// reads, its service and its watchdog run in one task, so plain atomics
/// with relaxed ordering suffice.
struct Activity {
    origin: std::time::Instant,
    state: AtomicU8,
    /// Milliseconds from `origin` to the last change of `state`.
    since: AtomicU64,
}

impl Activity {
    const IDLE: u8 = 0;
    const HEADERS: u8 = 1;
    const REQUEST: u8 = 2;

    fn new() -> Activity {
        Activity {
            origin: std::time::Instant::now(),
            state: AtomicU8::new(Activity::IDLE),
            since: AtomicU64::new(0),
        }
    }

    fn set(&self, state: u8) {
        let ms = self.origin.elapsed().as_millis() as u64;
        self.since.store(ms, Ordering::Relaxed);
        self.state.store(state, Ordering::Relaxed);
    }

    /// Bytes arrived: an idle connection starts receiving a request.
    fn bytes_arrived(&self) {
        if self.state.load(Ordering::Relaxed) == Activity::IDLE {
            self.set(Activity::HEADERS);
        }
    }

    fn get(&self) -> (u8, std::time::Instant) {
        let state = self.state.load(Ordering::Relaxed);
        let since = self.origin + Duration::from_millis(self.since.load(Ordering::Relaxed));
        (state, since)
    }
}

/// Returns when the connection has been idle for `idle_timeout`, or has
/// been receiving a request's headers for `header_read_timeout` (a
/// slowloris client). A request being handled has its own body timeout.
///
/// Every change of `activity` happens while the connection is polled, in
/// this task, and the connection is polled first (`biased`), so each poll
/// here sees the latest state. The timer is moved only to an earlier
/// deadline, or when it fires early: a busy connection resets it about once
/// per header timeout, not on every request.
async fn watchdog(activity: &Activity, limits: Limits) {
    let sleep = tokio::time::sleep(limits.idle_timeout);
    tokio::pin!(sleep);
    let mut armed: Option<std::time::Instant> = None;
    std::future::poll_fn(|cx| loop {
        let (state, since) = activity.get();
        let deadline = match state {
            Activity::IDLE => since + limits.idle_timeout,
            Activity::HEADERS => since + limits.header_read_timeout,
            // Handling a request: the next change wakes this task.
            _ => return Poll::Pending,
        };
        if armed.is_none_or(|at| deadline < at) {
            sleep.as_mut().reset(deadline.into());
            armed = Some(deadline);
        }
        if std::future::Future::poll(sleep.as_mut(), cx).is_pending() {
            return Poll::Pending;
        }
        if std::time::Instant::now() >= deadline {
            return Poll::Ready(());
        }
        // Fired for an earlier deadline that no longer holds: re-arm.
        armed = None;
    })
    .await
}

/// The connection's socket, telling `Activity` when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn to_response(reply: Reply) -> Result<Response<Body>, DropConnection> {
    let build = |status: u16, ct: &'static str, body: Body| {
        let mut response = Response::new(body);
        *response.status_mut() = http::StatusCode::from_u16(status).map_err(|_| DropConnection)?;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(ct),
        );
        Ok(response)
    };
    match reply {
        Reply::Drop => Err(DropConnection),
        // Content-Length: hyper writes it from the whole body's length.
        Reply::Full {
            status,
            content_type,
            body,
        } => build(
            status,
            content_type,
            Either::Left(Full::new(Bytes::from(body))),
        ),
        Reply::Truncated {
            status,
            content_type,
            body,
        } => {
            let len = body.len();
            let half = Bytes::from(body).slice(..len / 2);
            // Pause after the first half so hyper flushes it, then fail the
            // body: hyper closes the connection short of Content-Length.
            let first = futures_util::stream::iter([Ok(Frame::data(half))]);
            let cut = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::other("truncated on purpose"))
            });
            let stream = StreamBody::new(futures_util::StreamExt::chain(first, cut));
            let mut response = build(status, content_type, Either::Right(BodyExt::boxed(stream)))?;
            response
                .headers_mut()
                .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
            Ok(response)
        }
    }
}

/// Read the whole body, or the reply that refuses it.
async fn read_body(
    req: Request<Incoming>,
    limits: Limits,
) -> Result<(http::request::Parts, Bytes), Reply> {
    let (parts, mut body) = req.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        // A client waiting for `100 Continue` sends nothing more: reading
        // the body would invite it to send all of it.
        if !parts.headers.contains_key(http::header::EXPECT) {
            linger(body);
        }
        return Err(too_large());
    }
    // The first piece is kept as it came (a small body arrives in one: no
    // copy); a second one starts a buffer.
    let mut first = Bytes::new();
    let mut buf = bytes::BytesMut::new();
    let deadline = tokio::time::Instant::now() + limits.body_read_timeout;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) | Ok(Some(Err(_))) => return Err(Reply::Drop),
            Ok(None) if buf.is_empty() => return Ok((parts, first)),
            Ok(None) => return Ok((parts, buf.freeze())),
            Ok(Some(Ok(frame))) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                let len = first.len() + buf.len();
                if len + data.len() > limits.max_body_bytes {
                    linger(body);
                    return Err(too_large());
                }
                if len == 0 {
                    first = data;
                } else {
                    if buf.is_empty() {
                        buf.reserve(first.len() + data.len());
                        buf.extend_from_slice(&first);
                        first = Bytes::new();
                    }
                    buf.extend_from_slice(&data);
                }
            }
        }
    }
}

fn too_large() -> Reply {
    Reply::text(413, "request body too large")
}

/// Longest pause between two pieces of a refused body before we stop reading it.
const LINGER_IDLE: Duration = Duration::from_secs(1);
/// Longest time spent reading a refused body.
const LINGER_TOTAL: Duration = Duration::from_secs(10);

/// Read and discard the rest of a refused body in the background while the
/// 413 is sent. Closing a socket with unread data makes the kernel answer
/// with a reset, and a client still sending then often loses the 413 before
/// reading it; reading on (bounded, as nginx's `lingering_close`) lets the
/// answer arrive. Dropping the body at the end makes hyper close the
/// connection if the body was not complete.
fn linger(mut body: Incoming) {
    tokio::spawn(async move {
        let end = tokio::time::Instant::now() + LINGER_TOTAL;
        loop {
            let until = end.min(tokio::time::Instant::now() + LINGER_IDLE);
            match tokio::time::timeout_at(until, body.frame()).await {
                Ok(Some(Ok(_))) => continue,
                _ => break,
            }
        }
    });
}

/// A mini-program API through the HTTPS door: method, token, params where
/// the path table puts them, then the same function as the gateway door.
async fn miniprogram_https(
    app: &Gateway,
    route: &'static crate::wire::paths::Route,
    parts: &http::request::Parts,
    body: Bytes,
) -> Reply {
    use super::miniprogram::{self, Answer};
    if let Some(e) = miniprogram::wrong_method(route, &parts.method) {
        return Reply::json(&e);
    }
    let q = super::wechat::query_pairs(parts.uri.query());
    let appid = match app.wechat.check_access_token(&q) {
        Ok(a) => a,
        Err(e) => return Reply::json(&e),
    };
    let ct = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match miniprogram::https_input(route, &q, ct, body).await {
        Err(e) => Reply::json(&e),
        Ok(input) => match miniprogram::call(&route.api, &input, &appid) {
            Answer::Json(v) => Reply::json(&v),
            Answer::Binary(ct, bytes) => Reply::binary(ct, bytes),
        },
    }
}

async fn route(
    app: &Gateway,
    control: &Control,
    limits: Limits,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    // A clone of the URI shares its text (no copy) and outlives `req`.
    let uri = req.uri().clone();
    let path = uri.path();
    let reply = if path == "/admin" {
        if req.method() != http::Method::POST {
            Reply::gateway_error(GatewayCode::InvalidParam, "method must be POST")
        } else {
            match read_body(req, limits).await {
                Err(r) => r,
                Ok((parts, body)) => {
                    let pq = parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str())
                        .unwrap_or("/admin");
                    app.handle(&parts.headers, pq, parts.uri.query(), body)
                        .await
                }
            }
        }
    } else if super::control::is_control_path(path) {
        match read_body(req, limits).await {
            Err(r) => r,
            Ok((parts, body)) => control.handle(&parts.method, path, &body).await,
        }
    } else if let Some(r) = super::miniprogram::route_of_path(path) {
        app.state.count(&format!("https:{}", r.api));
        match read_body(req, limits).await {
            Err(r) => r,
            Ok((parts, body)) => {
                let plan = app.faults.decide(&r.api, Door::Https);
                if plan.action.is_some() || plan.delay_ms > 0 {
                    app.state.count_fault();
                }
                if plan.delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
                }
                match before_processing(plan.action.as_ref(), Reply::json) {
                    Some(reply) => reply,
                    None => {
                        let reply = miniprogram_https(app, r, &parts, body).await;
                        after_processing(plan.action.as_ref(), reply)
                    }
                }
            }
        }
    } else if let Some(api) = WeChat::api_of_path(path) {
        app.state.count(&format!("https:{api}"));
        match read_body(req, limits).await {
            Err(r) => r,
            Ok((parts, body)) => {
                let plan = app.faults.decide(api, Door::Https);
                if plan.action.is_some() || plan.delay_ms > 0 {
                    app.state.count_fault();
                }
                if plan.delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
                }
                match before_processing(plan.action.as_ref(), Reply::json) {
                    Some(r) => r,
                    None => {
                        let v = app
                            .wechat
                            .https(&parts.method, path, parts.uri.query(), &body)
                            .await
                            .unwrap_or_else(|| super::wechat::wx_error(-1, "system error"));
                        after_processing(plan.action.as_ref(), Reply::json(&v))
                    }
                }
            }
        }
    } else if path == "/" {
        Reply::text(200, "wx-cloud-openapi emulator\n")
    } else {
        Reply::text(404, "not found\n")
    };
    to_response(reply)
}
