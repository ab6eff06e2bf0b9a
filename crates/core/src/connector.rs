//! How a connection is made: TCP, through the `proxy` option's proxy when
//! there is one, then TLS for an `https` URL, all within
//! [`CONNECT_TIMEOUT`]. hyper-util's pool ([`crate::http`]) asks for one
//! whenever it has no idle connection to the request's host.
//!
//! - Directly: TCP to the URL's host, TLS over it for `https`.
//! - Through a proxy, to an `https` URL: a `CONNECT` tunnel through the
//!   proxy (hyper-util's `Tunnel`, with the proxy URL's user and password
//!   as `Proxy-Authorization`), TLS to the URL's host inside it.
//! - Through a proxy, to an `http` URL: the connection to the proxy itself,
//!   marked proxied, so that hyper-util writes each request line with the
//!   whole URL (the request's `Proxy-Authorization` header is added by
//!   [`crate::http`]).
//!
//! A proxy URL may itself be `https`: the connection to the proxy is TLS,
//! and a tunnel carries a second TLS session inside it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

/// How long making a connection (TCP, a proxy's tunnel, TLS) may take. A
/// connection that is not made by then fails as one that could not be
/// made: the request was never written ([`crate::http::Client::send_safely`]
/// retries it).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// A TCP connection, or one with TLS over it (to a proxy).
type ToHost = MaybeHttpsStream<TokioIo<TcpStream>>;

/// What [`Connector`] hands to the pool.
pub type Stream = MaybeHttpsStream<Hop>;

/// Makes the pool's connections: the first hop ([`FirstHop`]), TLS to the
/// URL's host over it for `https`, all within [`CONNECT_TIMEOUT`].
#[derive(Clone)]
pub struct Connector {
    tls: HttpsConnector<FirstHop>,
}

impl Connector {
    /// Direct connections, or connections through `proxy` (its URL, and
    /// the `Proxy-Authorization` value of its user and password).
    pub fn new(tls: Arc<rustls::ClientConfig>, proxy: Option<(Uri, Option<HeaderValue>)>) -> Self {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        // TCP keepalive probes and a user timeout, as reqwest (which this
        // connector replaced) set them: a pooled connection whose peer
        // went away while a cloud function was frozen is found dead and
        // dropped instead of being written to.
        tcp.set_keepalive(Some(Duration::from_secs(15)));
        tcp.set_keepalive_interval(Some(Duration::from_secs(15)));
        tcp.set_keepalive_retries(Some(3));
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        tcp.set_tcp_user_timeout(Some(Duration::from_secs(30)));
        let route = match proxy {
            None => Route::Direct(tcp),
            Some((uri, auth)) => {
                let to_proxy = HttpsConnector::from((tcp, tls.clone()));
                let tunnel = Tunnel::new(uri.clone(), to_proxy.clone());
                let tunnel = match auth {
                    Some(auth) => tunnel.with_auth(auth),
                    None => tunnel,
                };
                Route::Proxy(Box::new(ViaProxy {
                    uri,
                    to_proxy,
                    tunnel,
                }))
            }
        };
        Connector {
            tls: HttpsConnector::from((FirstHop { route }, tls)),
        }
    }
}

impl Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Connecting<Stream>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tls.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.tls.call(dst);
        Box::pin(async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
                Ok(made) => made,
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out").into()),
            }
        })
    }
}

#[derive(Clone)]
enum Route {
    Direct(HttpConnector),
    Proxy(Box<ViaProxy>),
}

/// The proxy's URL, connections to it (TLS for an `https` proxy), and
/// tunnels through it.
#[derive(Clone)]
struct ViaProxy {
    uri: Uri,
    to_proxy: HttpsConnector<HttpConnector>,
    tunnel: Tunnel<HttpsConnector<HttpConnector>>,
}

/// The connection TLS to the URL's host (if any) runs over: TCP to the
/// host, a tunnel through the proxy, or the proxy itself (an `http` URL).
#[derive(Clone)]
pub struct FirstHop {
    route: Route,
}

impl Service<Uri> for FirstHop {
    type Response = Hop;
    type Error = BoxError;
    type Future = Connecting<Hop>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        match &mut self.route {
            Route::Direct(tcp) => hop(tcp.call(dst), false),
            Route::Proxy(via) if dst.scheme() == Some(&http::uri::Scheme::HTTPS) => {
                hop(via.tunnel.call(dst), false)
            }
            Route::Proxy(via) => hop(via.to_proxy.call(via.uri.clone()), true),
        }
    }
}

/// The [`Hop`] a first hop's connection attempt makes: TCP (direct), or a
/// connection that may be TLS (to the proxy, or a tunnel through it).
fn hop<T, E>(
    connecting: impl Future<Output = Result<T, E>> + Send + 'static,
    forwarding: bool,
) -> Connecting<Hop>
where
    T: Into<ToHost>,
    E: Into<BoxError>,
{
    Box::pin(async move {
        let io = connecting.await.map_err(Into::into)?.into();
        Ok(Hop { io, forwarding })
    })
}

/// A first hop's connection. `forwarding`: to a proxy that forwards each
/// request (its request line carries the whole URL).
pub struct Hop {
    io: ToHost,
    forwarding: bool,
}

impl Connection for Hop {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forwarding)
    }
}

impl Read for Hop {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Hop {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}
