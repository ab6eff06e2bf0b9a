//! The floor under the emulator's CPU per call, for the bench (the emucpu
//! section of `npm run bench`): the same server stack as `wx-cloud-emulator`
//! (hyper's HTTP/1.1 server with keep-alive, the body read whole, the same
//! runtime of one worker per spare core and mimalloc, the same release
//! profile) doing none of the emulator's work. It answers every request
//! with the same bytes: the file given, which the bench records from the
//! emulator's answer to the replayed call. What this program spends per
//! request is what any emulator on this stack would spend on this machine
//! in the same run; the emulator's own work is the difference.
//!
//! ```text
//! cargo run --release -p wx-cloud-emulator --example bare_server -- ANSWER_FILE CONTENT_TYPE
//! ```
//!
//! It prints `listening on http://127.0.0.1:PORT` and serves until killed.

use std::convert::Infallible;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn answer(
    req: Request<hyper::body::Incoming>,
    body: Bytes,
    content_type: &'static str,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // The request's body read whole, as the emulator reads it.
    let status = match req.into_body().collect().await {
        Ok(_) => 200,
        Err(_) => 400,
    };
    let mut res = Response::new(Full::new(body));
    *res.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    res.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    Ok(res)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, content_type] = args.as_slice() else {
        eprintln!("usage: bare_server ANSWER_FILE CONTENT_TYPE");
        return ExitCode::from(2);
    };
    let body = match std::fs::read(file) {
        Ok(b) => Bytes::from(b),
        Err(e) => {
            eprintln!("bare_server: {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let content_type: &'static str = content_type.clone().leak();
    // One worker per spare core, at least 1 and at most 2: the emulator's.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.saturating_sub(1).clamp(1, 2))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bare_server: cannot start a runtime: {e}");
            return ExitCode::from(3);
        }
    };
    runtime.block_on(async move {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("bare_server: cannot listen: {e}");
                return ExitCode::from(3);
            }
        };
        match listener.local_addr() {
            Ok(addr) => println!("listening on http://{addr}"),
            Err(e) => {
                eprintln!("bare_server: {e}");
                return ExitCode::from(3);
            }
        }
        let mut builder = http1::Builder::new();
        builder.keep_alive(true);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            let builder = builder.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| answer(req, body.clone(), content_type));
                let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    })
}
