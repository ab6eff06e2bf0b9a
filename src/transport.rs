//! The one shared HTTP client: keep-alive pool, timeouts, body limits,
//! and the safe-retry policy.
//!
//! Only failures that prove the request never reached the server (it could
//! not connect) are retried automatically: a cloud call may create an
//! environment, and doing that twice costs money.

use std::sync::LazyLock;
use std::time::Duration;

use bytes::Bytes;

/// Largest answer body accepted; bigger answers fail instead of exhausting memory.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// How many times a connection failure is retried (the request was never sent).
pub const CONNECT_RETRIES: u32 = 2;

/// What came back over HTTP.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub status: u16,
    pub content_type: String,
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
    /// The whole call took longer than its timeout.
    Timeout(Duration),
}

impl TransportError {
    /// A short description, free of URLs and secrets.
    pub fn describe(&self) -> String {
        match self {
            TransportError::Connect(c) => format!("could not connect: {c}"),
            TransportError::Io(c) => format!("connection failed: {c}"),
            TransportError::TooLarge => format!("answer larger than {MAX_BODY_BYTES} bytes"),
            TransportError::Timeout(d) => format!("no answer within {} ms", d.as_millis()),
        }
    }
}

static CLIENT: LazyLock<Result<reqwest::Client, String>> = LazyLock::new(|| {
    // rustls needs a process-wide crypto provider; installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .build()
        .map_err(|e| format!("could not create the HTTP client: {e}"))
});

/// The shared client.
pub fn client() -> Result<&'static reqwest::Client, TransportError> {
    CLIENT
        .as_ref()
        .map_err(|e| TransportError::Connect(e.clone()))
}

/// A human-readable cause chain of a reqwest error, without its URL.
fn cause(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    redact(&msg)
}

fn classify(e: reqwest::Error) -> TransportError {
    if e.is_connect() {
        TransportError::Connect(cause(e))
    } else {
        TransportError::Io(cause(e))
    }
}

/// Read a response fully, within the size limit.
async fn read(mut resp: reqwest::Response) -> Result<RawAnswer, TransportError> {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(TransportError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(TransportError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawAnswer {
        status,
        content_type,
        body: Bytes::from(body),
    })
}

/// One multipart field: name, value, sent as `application/octet-stream`?
pub type FormField<'a> = (&'a str, &'a [u8], bool);

/// POST a multipart form. Connection failures are retried (with a short
/// backoff) because the request was never sent; nothing else is.
pub async fn post_multipart(
    url: &str,
    headers: &[(&str, String)],
    fields: &[FormField<'_>],
) -> Result<RawAnswer, TransportError> {
    let client = client()?;
    // The body is encoded once, in one buffer (a retry sends the same bytes).
    let (content_type, body) = encode_multipart(fields);
    let mut attempt = 0;
    loop {
        let mut req = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
            .header(reqwest::header::CONTENT_LENGTH, body.len())
            .body(body.clone());
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        match req.send().await {
            Ok(resp) => return read(resp).await,
            Err(e) if e.is_connect() && attempt < CONNECT_RETRIES => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
            }
            Err(e) => return Err(classify(e)),
        }
    }
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
    let boundary = format!(
        "{:016x}-{:016x}-{:016x}-{:016x}",
        fastrand::u64(..),
        fastrand::u64(..),
        fastrand::u64(..),
        fastrand::u64(..)
    );
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
        format!("multipart/form-data; boundary={boundary}"),
        Bytes::from(body),
    )
}

/// Replace the values of secret-bearing query parameters in any text
/// (`access_token=…` → `access_token=***`).
pub fn redact(text: &str) -> String {
    const KEYS: &[&str] = &[
        "access_token=",
        "component_access_token=",
        "authorizer_access_token=",
        "secret=",
        "appsecret=",
    ];
    let mut out = text.to_string();
    for key in KEYS {
        let mut from = 0;
        while let Some(pos) = out[from..].find(key) {
            let start = from + pos + key.len();
            let end = out[start..]
                .find(['&', ' ', ')', '"', '\''])
                .map(|e| start + e)
                .unwrap_or(out.len());
            out.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_tokens() {
        assert_eq!(
            redact("POST /tcb/x?access_token=ABC123&y=1 failed"),
            "POST /tcb/x?access_token=***&y=1 failed"
        );
        assert_eq!(
            redact("component_access_token=Z authorizer_access_token=Q"),
            "component_access_token=*** authorizer_access_token=***"
        );
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
