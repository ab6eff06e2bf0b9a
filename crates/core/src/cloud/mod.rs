//! The cloud call: a signed multipart request to the cloud-base gateway.
//!
//! A call reads straight through: credentials and target from the
//! [`Config`] and the environment [`Context`], the request
//! ([`request::prepare`]), the [`http`](crate::http), and the
//! answer ([`answer::decode_gateway`]).

pub mod answer;
pub mod endpoint;
pub mod proto;
pub mod request;
pub mod sign;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::call::answer::Success;
use crate::call::input::CallInput;
use crate::env::Context;
use crate::error::ApiError;
use crate::http::{self, FormField};
use crate::options::Config;

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
    // The `{api}:fail ` prefix of the failures below is added here, once
    // (the name formatted only for a failure).
    let result = result.map_err(|e| scrub_secrets(cfg, ctx, e.for_api(&input.display_api())));
    (result, report)
}

/// A gateway or WeChat message may quote what it was sent (a gateway
/// complaining about a session token, say): mask every credential the call
/// sends ([`request::sent_credentials`]) wherever it appears in the error.
fn scrub_secrets(cfg: &Config, ctx: &Context, mut e: ApiError) -> ApiError {
    let Ok(pair) = request::credentials(cfg, ctx) else {
        return e;
    };
    let sent = request::sent_credentials(ctx, &pair);
    let secrets: Vec<&str> = sent.iter().map(String::as_str).collect();
    e.err_msg = crate::redact::scrub(&e.err_msg, &secrets);
    e
}

async fn call_inner(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    report: &mut CallReport,
) -> Result<Success, ApiError> {
    let api = input.display_api();
    let secrets = request::credentials(cfg, ctx)?;
    let env_id = endpoint::env_id(cfg, ctx);
    let now = now_ms();
    let seq_id = endpoint::seq_id(ctx, &endpoint::next_event_id(now));
    report.seq_id = seq_id.clone();
    endpoint::check_environment(cfg, ctx)?;
    let target = endpoint::resolve(cfg, ctx, &env_id, &seq_id);
    let prepared = request::prepare(target, input, ctx, &secrets, now)?;
    let fields: Vec<FormField<'_>> = prepared
        .fields
        .iter()
        .map(|f| (f.name, f.value.as_slice(), f.binary))
        .collect();
    let display_url = &prepared.endpoint.display_url;
    let (headers, ep) = (&prepared.headers, &prepared.endpoint);
    let sent = match &ep.parsed {
        Some(url) => {
            let post = http::post_multipart(url.clone(), headers, &fields);
            http::within(cfg.timeout(), post).await
        }
        None => {
            let post = http::post_multipart(ep.url.as_str(), headers, &fields);
            http::within(cfg.timeout(), post).await
        }
    };
    match sent {
        Err(e) => Err(e.into_api_error("", display_url, &[])),
        Ok(raw) => answer::decode_gateway(
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

    async fn call_with(cfg_json: &str, ctx: Context) -> ApiError {
        let cfg = Config::from_json(cfg_json).unwrap();
        let input = CallInput {
            api: "tcb.x".into(),
            ..CallInput::default()
        };
        call(&cfg, &ctx, &input).await.0.unwrap_err()
    }

    #[tokio::test]
    async fn a_gateway_message_quoting_any_sent_credential_is_masked() {
        let quoted = [
            "APITOKEN-SECRET-3",
            "TCBSESSION-SECRET-4",
            "CLOUDBASE-SECRET-5",
        ];
        let body = format!(
            r#"{{"code":"INVALID_COMMON_PARAM","message":"got {} {} {}"}}"#,
            quoted[0], quoted[1], quoted[2]
        );
        let port = gateway_answering(body).await;
        let cfg = format!(
            r#"{{"serviceUrl":"http://127.0.0.1:{port}/admin","secretId":"AKIDx","secretKey":"secret-key-2","env":"e","timeout":5000}}"#
        );
        // WX_API_TOKEN is sent when set; the cloudbase token only without it.
        for with_api_token in [true, false] {
            let mut vars = vec![
                ("TCB_SESSIONTOKEN", quoted[1]),
                ("WX_CLOUDBASE_ACCESSTOKEN", quoted[2]),
            ];
            if with_api_token {
                vars.push(("WX_API_TOKEN", quoted[0]));
            }
            let e = call_with(&cfg, Context::from_pairs(vars)).await;
            let sent = if with_api_token {
                &quoted[..]
            } else {
                &quoted[1..]
            };
            for s in sent {
                assert!(!e.err_msg.contains(s), "{s}: {}", e.err_msg);
            }
            assert!(e.err_msg.contains("got "), "{}", e.err_msg);
        }
    }

    #[tokio::test]
    async fn a_request_that_cannot_be_sent_is_an_invalid_parameter_naming_it() {
        let port = gateway_answering(r#"{"code":"X","message":"reached"}"#.to_string()).await;
        let url =
            format!(r#""serviceUrl":"http://127.0.0.1:{port}/admin","env":"e","timeout":5000"#);
        let env = |extra: (&'static str, &'static str)| {
            Context::from_pairs([
                ("TENCENTCLOUD_SECRETID", "AKIDx"),
                ("TENCENTCLOUD_SECRETKEY", "k"),
                extra,
            ])
        };
        for (ctx, name) in [
            (
                env(("TENCENTCLOUD_SECRETID", "AKIDx\n")),
                "TENCENTCLOUD_SECRETID",
            ),
            (
                env(("TENCENTCLOUD_REGION", "ap-shanghai\n")),
                "TENCENTCLOUD_REGION",
            ),
            (env(("TCB_SOURCE", "src\r\nx")), "TCB_SOURCE"),
            (env(("TCB_TRACELOG", "t\n")), "TCB_TRACELOG"),
        ] {
            let e = call_with(&format!("{{{url}}}"), ctx).await;
            assert_eq!(
                e.err_code,
                crate::codes::INVALID_PARAM,
                "{name}: {}",
                e.err_msg
            );
            assert!(e.err_msg.contains(name), "{name}: {}", e.err_msg);
            assert!(!e.err_msg.contains("connection failed"), "{}", e.err_msg);
        }
    }

    #[tokio::test]
    async fn odd_env_ids_and_seq_ids_are_signed_as_sent() {
        let emu = crate::emulator::Emulator::start(crate::emulator::EmulatorOptions::default())
            .await
            .unwrap();
        let base: Vec<(String, String)> = emu.cloud_env();
        let with = |extra: &[(&str, &str)]| {
            Context::from_pairs(
                base.iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string()))),
            )
        };
        let input = CallInput {
            api: "tcb.createenvandresource".into(),
            params_json: Some(r#"{"type":"CreatePostpayPackage","alias":"odd"}"#.into()),
            convert_case: true,
            ..CallInput::default()
        };
        // A tab in TCB_SEQID: the call goes through.
        let cfg = Config::from_json(r#"{"env":{"dynamic":true},"timeout":10000}"#).unwrap();
        let (r, _) = call(&cfg, &with(&[("TCB_SEQID", "req\tid")]), &input).await;
        assert!(r.is_ok(), "{:?}", r.err());
        // Non-ASCII and NUL env ids: the signature holds (the gateway then
        // says the environment does not exist).
        for env in ["测试", "a\u{0}b"] {
            let cfg =
                Config::from_value(&serde_json::json!({ "env": env, "timeout": 10000 })).unwrap();
            let (r, _) = call(&cfg, &with(&[]), &input).await;
            let e = r.unwrap_err();
            assert!(!e.err_msg.contains("signature"), "{env:?}: {}", e.err_msg);
            assert!(
                e.err_msg.contains("env not exists"),
                "{env:?}: {}",
                e.err_msg
            );
        }
        emu.close().await;
    }

    #[tokio::test]
    async fn a_password_in_the_gateway_url_never_reaches_a_message() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://user:PASSW0RD@127.0.0.1:{port}/admin");
        let keys = [
            ("TENCENTCLOUD_SECRETID", "AKIDx"),
            ("TENCENTCLOUD_SECRETKEY", "k"),
        ];
        let e = call_with(
            &format!(r#"{{"serviceUrl":"{url}","env":"e","timeout":5000}}"#),
            Context::from_pairs(keys),
        )
        .await;
        assert!(!e.err_msg.contains("PASSW0RD"), "{}", e.err_msg);
        assert!(e.err_msg.contains("***@127.0.0.1"), "{}", e.err_msg);
        let cnfg = format!(r#"{{"URL":"{url}"}}"#);
        let ctx = Context::from_pairs(
            keys.into_iter()
                .chain([("TCB_CONTEXT_CNFG", cnfg.as_str())]),
        );
        let e = call_with(r#"{"env":"e","timeout":5000}"#, ctx).await;
        assert!(!e.err_msg.contains("PASSW0RD"), "{}", e.err_msg);
    }
}
