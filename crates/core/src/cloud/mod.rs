//! The cloud call: a signed multipart request to the cloud-base gateway.
//!
//! A call reads straight through: credentials and target from the
//! [`Config`] and the environment [`Context`], the request
//! ([`request::prepare`]), the [`transport`](crate::transport), and the
//! answer ([`answer::decode_gateway`]).

pub mod answer;
pub mod endpoint;
pub mod proto;
pub mod request;
pub mod sign;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::env::Context;
use crate::error::{fail_msg, ApiError, TCB_SERVER_TIMEOUT, TCB_SYS_ERR};
use crate::options::Config;
use crate::transport::{self, FormField};
use answer::Success;
use request::CallInput;

/// What a finished call reports besides its result: for the debug line.
#[derive(Debug, Clone, Default)]
pub struct CallReport {
    pub seq_id: String,
    pub elapsed_ms: u128,
}

/// Current Unix time in milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Make one cloud call.
pub async fn call(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
) -> (Result<Success, ApiError>, CallReport) {
    let started = Instant::now();
    let mut report = CallReport::default();
    let result = call_inner(cfg, ctx, input, &mut report).await;
    report.elapsed_ms = started.elapsed().as_millis();
    (result.map_err(|e| scrub_secrets(cfg, ctx, e)), report)
}

/// A gateway or WeChat message may quote what it was sent (a gateway
/// complaining about a session token, say): mask the call's secret key and
/// session token wherever they appear in the error.
fn scrub_secrets(cfg: &Config, ctx: &Context, mut e: ApiError) -> ApiError {
    let Ok(pair) = request::credentials(cfg, ctx, "") else {
        return e;
    };
    let mut secrets = vec![pair.secret_key.as_str()];
    if let Some(t) = pair.session_token.as_deref() {
        secrets.push(t);
    }
    e.err_msg = transport::scrub(&e.err_msg, &secrets);
    e
}

async fn call_inner(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    report: &mut CallReport,
) -> Result<Success, ApiError> {
    let api = input.display_api();
    let secrets = request::credentials(cfg, ctx, &api)?;
    let env_id = endpoint::env_id(cfg, ctx);
    let now = now_ms();
    let seq_id = endpoint::seq_id(ctx, &endpoint::next_event_id(now));
    report.seq_id = seq_id.clone();
    let target = endpoint::resolve(cfg, ctx, &env_id, &seq_id);
    let prepared = request::prepare(target, input, ctx, &secrets, now)?;
    let fields: Vec<FormField<'_>> = prepared
        .fields
        .iter()
        .map(|f| (f.name, f.value.as_slice(), f.binary))
        .collect();
    let display_url = &prepared.endpoint.display_url;
    let sent = tokio::time::timeout(
        cfg.timeout,
        transport::post_multipart(&prepared.endpoint.url, &prepared.headers, &fields),
    )
    .await;
    match sent {
        Err(_) => Err(ApiError::cloud(
            TCB_SERVER_TIMEOUT,
            fail_msg(
                &api,
                &format!(
                    "-501002 resource server timeout. no answer within {} ms | [{display_url}]",
                    cfg.timeout.as_millis()
                ),
            ),
        )),
        Ok(Err(e)) => Err(ApiError::plain(
            TCB_SYS_ERR,
            fail_msg(
                &api,
                &format!(
                    "-501001 resource system error. {} | [{display_url}]",
                    e.describe()
                ),
            ),
        )),
        Ok(Ok(raw)) => answer::decode_gateway(
            &api,
            raw.status,
            &raw.content_type,
            &raw.body,
            input.convert_case,
            display_url,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A gateway that answers every request with `body` (JSON, HTTP 200).
    async fn gateway_answering(body: String) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let _ = sock.read(&mut buf).await;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(body.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn a_gateway_message_quoting_the_secrets_is_masked() {
        let body = r#"{"code":"INVALID_COMMON_PARAM","message":"bad token session-token-SECRET-1 for key secret-key-SECRET-2"}"#;
        let port = gateway_answering(body.to_string()).await;
        let cfg = Config::from_json(&format!(
            r#"{{"serviceUrl":"http://127.0.0.1:{port}/admin","secretId":"AKIDx","secretKey":"secret-key-SECRET-2",
                "sessionToken":"session-token-SECRET-1","env":"e","timeout":5000,"processEnv":{{}}}}"#
        ))
        .unwrap();
        let ctx = Context::default();
        let input = CallInput {
            api: "tcb.x".into(),
            ..CallInput::default()
        };
        let (result, _) = call(&cfg, &ctx, &input).await;
        let e = result.unwrap_err();
        assert_eq!(e.err_code, -501006);
        assert!(!e.err_msg.contains("SECRET"), "{}", e.err_msg);
        assert!(
            e.err_msg.contains("bad token *** for key ***"),
            "{}",
            e.err_msg
        );
    }
}
