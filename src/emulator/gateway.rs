//! The cloud-base gateway door: `POST /admin?env=…&seqId=…`.
//!
//! Steps: parse the multipart body; verify the TC3 signature by recomputing
//! it with [`crate::cloud::sign`] over the headers named in `SignedHeaders`
//! and every received field; check `action`; decode `requestData`
//! (`CommApiData`); apply faults; dispatch by `apiName` to the WeChat
//! functions; answer a `CommOpenApiResp`.
//!
//! Gateway errors (HTTP 200, `{code, message, requestId}`, JSON):
//! - `INVALID_COMMON_PARAM`: no or malformed `authorization`, no or bad
//!   `x-timestamp`, no `host`;
//! - `INVALID_REQUEST_SOURCE`: unknown secretId, signature mismatch,
//!   `x-timestamp` more than 600 s away from now, `content-type` or `host`
//!   not among the signed headers;
//! - `INVALID_PARAM`: not multipart, `action` not `wx.openApi`, `apiName`
//!   or `requestData` missing, `requestData` not a `CommApiData`;
//! - `INVALIID_ENV` (sic): `envName`/`env` names neither the emulated
//!   environment nor a created one.
//!
//! Platform errors (`CommOpenApiResp.errorCode`): -604100 unknown API,
//! -604101 API not in the allowed list.

use bytes::Bytes;
use prost::Message;
use serde_json::{Map, Value};

use super::faults::{Door, Faults};
use super::reply::{after_processing, before_processing, Reply};
use super::state::{now_secs, State};
use super::wechat::{wx_error, WeChat};
use crate::cloud::proto::CommApiData;
use crate::cloud::sign::{constant_time_eq, parse_authorization, sign, SignRequest};

/// How far `x-timestamp` may be from now, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 600;

/// The gateway's configuration.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Accepted (secretId, secretKey) pairs.
    pub secret_pairs: Vec<(String, String)>,
    /// The emulated function's environment.
    pub env_id: String,
    /// When set, only these `apiName`s may be called (-604101 otherwise).
    pub allowed_apis: Option<Vec<String>>,
}

/// One received multipart field.
pub struct Field {
    pub name: String,
    pub value: Bytes,
}

fn last<'a>(fields: &'a [Field], name: &str) -> Option<&'a Field> {
    fields.iter().rev().find(|f| f.name == name)
}

fn last_str<'a>(fields: &'a [Field], name: &str) -> Option<&'a str> {
    last(fields, name).and_then(|f| std::str::from_utf8(&f.value).ok())
}

type Failure = (&'static str, &'static str);

/// Parse a multipart body into its fields.
pub async fn parse_multipart(content_type: &str, body: Bytes) -> Result<Vec<Field>, Failure> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| ("INVALID_PARAM", "body must be multipart/form-data"))?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let value = field
                    .bytes()
                    .await
                    .map_err(|_| ("INVALID_PARAM", "malformed multipart body"))?;
                if fields.len() >= 64 {
                    return Err(("INVALID_PARAM", "too many multipart fields"));
                }
                fields.push(Field { name, value });
            }
            Ok(None) => return Ok(fields),
            Err(_) => return Err(("INVALID_PARAM", "malformed multipart body")),
        }
    }
}

/// Verify the TC3 signature of a request.
pub fn verify(
    headers: &http::HeaderMap,
    path_and_query: &str,
    fields: &[Field],
    secret_pairs: &[(String, String)],
    now_secs: i64,
) -> Result<(), Failure> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let auth = header("authorization")
        .and_then(parse_authorization)
        .ok_or(("INVALID_COMMON_PARAM", "missing or malformed authorization"))?;
    let timestamp: i64 = header("x-timestamp")
        .and_then(|t| t.trim().parse().ok())
        .ok_or(("INVALID_COMMON_PARAM", "missing or malformed x-timestamp"))?;
    let skew = now_secs.checked_sub(timestamp).map(i64::unsigned_abs);
    if skew.map_or(true, |d| d > MAX_CLOCK_SKEW_SECS.unsigned_abs()) {
        return Err((
            "INVALID_REQUEST_SOURCE",
            "signature expired (x-timestamp too far from now)",
        ));
    }
    let host = header("host").ok_or(("INVALID_COMMON_PARAM", "missing host"))?;
    let signed = |n: &str| auth.signed_headers.iter().any(|h| h == n);
    if !signed("content-type") || !signed("host") {
        return Err((
            "INVALID_REQUEST_SOURCE",
            "content-type and host must be signed",
        ));
    }
    let secret_key = secret_pairs
        .iter()
        .find(|(id, _)| constant_time_eq(id.as_bytes(), auth.secret_id.as_bytes()))
        .map(|(_, k)| k.as_str())
        .ok_or(("INVALID_REQUEST_SOURCE", "secretId not found"))?;
    let mut signed_headers: Vec<(&str, String)> = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        match headers.get(name.as_str()).and_then(|v| v.to_str().ok()) {
            Some(v) => signed_headers.push((name.as_str(), v.to_string())),
            None => return Err(("INVALID_REQUEST_SOURCE", "a signed header is missing")),
        }
    }
    let params: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|f| (f.name.as_str(), f.value.as_ref()))
        .collect();
    let url = format!("http://{host}{path_and_query}");
    let expected = sign(&SignRequest {
        method: "post",
        url: &url,
        headers: &signed_headers,
        params: &params,
        secret_id: &auth.secret_id,
        secret_key,
        timestamp,
    });
    if constant_time_eq(expected.signature.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(("INVALID_REQUEST_SOURCE", "signature mismatch"))
    }
}

/// `CommApiData` pairs → a JSON object: key → the value parsed as JSON.
/// Media pairs (with a content type) become `{contentType, fileName, size}`.
/// Fails with the key whose value is not JSON.
pub fn pairs_to_params(data: &CommApiData) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    if let Some(d) = &data.openapi_data {
        for p in &d.pairs {
            let v = if p.contenttype.is_empty() {
                serde_json::from_slice::<Value>(&p.value).map_err(|_| p.key.clone())?
            } else {
                serde_json::json!({
                    "contentType": p.contenttype,
                    "fileName": p.filename,
                    "size": p.value.len(),
                })
            };
            m.insert(p.key.clone(), v);
        }
    }
    Ok(m)
}

/// Everything the gateway needs.
pub struct Gateway {
    pub config: GatewayConfig,
    pub state: State,
    pub wechat: WeChat,
    pub faults: Faults,
}

impl Gateway {
    /// Answer one `/admin` request (method already checked to be POST).
    pub async fn handle(
        &self,
        headers: &http::HeaderMap,
        path_and_query: &str,
        query: Option<&str>,
        body: Bytes,
    ) -> Reply {
        let ct = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let fields = match parse_multipart(ct, body).await {
            Ok(f) => f,
            Err((code, msg)) => return Reply::gateway_error(code, msg),
        };
        let now = now_secs();
        if let Err((code, msg)) = verify(
            headers,
            path_and_query,
            &fields,
            &self.config.secret_pairs,
            now,
        ) {
            return Reply::gateway_error(code, msg);
        }
        if last_str(&fields, "action") != Some("wx.openApi") {
            return Reply::gateway_error("INVALID_PARAM", "action must be wx.openApi");
        }
        let api = match last_str(&fields, "apiName") {
            Some(a) if !a.is_empty() => a.to_string(),
            _ => return Reply::gateway_error("INVALID_PARAM", "missing apiName"),
        };
        self.state.count(&format!("gateway:{api}"));
        let env = match last_str(&fields, "envName") {
            Some(e) if !e.is_empty() => e.to_string(),
            _ => super::wechat::query_pairs(query)
                .into_iter()
                .find(|(k, _)| k == "env")
                .map(|(_, v)| v)
                .unwrap_or_default(),
        };
        if !env.is_empty() && env != self.config.env_id && !self.state.has_environment(&env) {
            return Reply::gateway_error("INVALIID_ENV", "env not exists");
        }
        let data = match last(&fields, "requestData").map(|f| CommApiData::decode(f.value.as_ref()))
        {
            Some(Ok(d)) => d,
            Some(Err(_)) => {
                return Reply::gateway_error("INVALID_PARAM", "requestData is not a CommApiData")
            }
            None => return Reply::gateway_error("INVALID_PARAM", "missing requestData"),
        };

        let plan = self.faults.decide(&api, Door::Gateway);
        if plan.action.is_some() || plan.delay_ms > 0 {
            self.state.count_fault();
        }
        if plan.delay_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(plan.delay_ms)).await;
        }
        if let Some(r) = before_processing(plan.action.as_ref(), Reply::open_api) {
            return r;
        }

        let reply = self.dispatch(&api, &data).await;
        after_processing(plan.action.as_ref(), reply)
    }

    async fn dispatch(&self, api: &str, data: &CommApiData) -> Reply {
        if !super::wechat::KNOWN_APIS.contains(&api) {
            return Reply::open_api_error(-604100);
        }
        if let Some(allowed) = &self.config.allowed_apis {
            if !allowed.iter().any(|a| a == api) {
                return Reply::open_api_error(-604101);
            }
        }
        let params = match pairs_to_params(data) {
            Ok(p) => p,
            Err(_) => return Reply::open_api(&wx_error(47001, "data format error")),
        };
        let account = data.appid.as_deref().unwrap_or("");
        match self.wechat.call_api(api, &params, "gateway", account).await {
            Some(v) => Reply::open_api(&v),
            None => Reply::open_api_error(-604100),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::proto::{encode_request, KeyValuePair};

    const BOUNDARY: &str = "----emulatortest";

    fn multipart(fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (name, value) in fields {
            b.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                    .as_bytes(),
            );
            b.extend_from_slice(value);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        b
    }

    fn request_data() -> Vec<u8> {
        encode_request(
            vec![
                KeyValuePair {
                    key: "type".into(),
                    value: b"\"CreatePostpayPackage\"".to_vec(),
                    ..Default::default()
                },
                KeyValuePair {
                    key: "alias".into(),
                    value: b"\"gw\"".to_vec(),
                    ..Default::default()
                },
            ],
            None,
        )
    }

    struct Req {
        headers: http::HeaderMap,
        body: Bytes,
        pq: String,
    }

    fn signed_request(secret_id: &str, secret_key: &str, ts: i64, api: &str, rd: &[u8]) -> Req {
        let pq = "/admin?env=emulator-env&seqId=1_1".to_string();
        let fields: Vec<(&str, &[u8])> = vec![
            ("action", b"wx.openApi"),
            ("apiName", api.as_bytes()),
            ("requestData", rd),
            ("envName", b"emulator-env"),
            ("wxCloudApiToken", b""),
            ("sessionToken", b"sess"),
        ];
        let body = multipart(&fields);
        let ct = format!("multipart/form-data; boundary={BOUNDARY}");
        let hs: Vec<(&str, String)> = vec![
            ("content-type", ct.clone()),
            ("host", "127.0.0.1:9".to_string()),
            ("user-agent", "test".to_string()),
        ];
        let url = format!("http://127.0.0.1:9{pq}");
        let s = sign(&SignRequest {
            method: "post",
            url: &url,
            headers: &hs,
            params: &fields,
            secret_id,
            secret_key,
            timestamp: ts,
        });
        let mut headers = http::HeaderMap::new();
        for (k, v) in &hs {
            headers.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        headers.insert("authorization", s.authorization.parse().unwrap());
        headers.insert("x-timestamp", ts.to_string().parse().unwrap());
        Req {
            headers,
            body: Bytes::from(body),
            pq,
        }
    }

    fn gateway(allowed: Option<Vec<String>>) -> Gateway {
        let state = State::new(7200, 300);
        Gateway {
            config: GatewayConfig {
                secret_pairs: vec![("AKIDtest".into(), "secret".into())],
                env_id: "emulator-env".into(),
                allowed_apis: allowed,
            },
            wechat: WeChat::new(state.clone(), Default::default()),
            state,
            faults: Faults::default(),
        }
    }

    async fn call(g: &Gateway, r: Req) -> Reply {
        let q = r.pq.split_once('?').map(|x| x.1.to_string());
        g.handle(&r.headers, &r.pq, q.as_deref(), r.body).await
    }

    fn json_of(r: &Reply) -> Value {
        match r {
            Reply::Full {
                content_type, body, ..
            } if content_type.starts_with("application/json") => {
                serde_json::from_slice(body).unwrap()
            }
            Reply::Full { body, .. } => {
                let resp = crate::cloud::proto::decode_response(body).unwrap();
                if resp.error_code != 0 {
                    serde_json::json!({"errorCode": resp.error_code})
                } else {
                    serde_json::from_slice(&resp.resp_data).unwrap()
                }
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn signed_call_creates_env() {
        let g = gateway(None);
        let now = now_secs();
        let r = call(
            &g,
            signed_request(
                "AKIDtest",
                "secret",
                now,
                "tcb.createenvandresource",
                &request_data(),
            ),
        )
        .await;
        let v = json_of(&r);
        assert_eq!(v["errcode"], 0, "{v}");
        assert!(v["envid"].as_str().unwrap().starts_with("gw-"));
        assert_eq!(g.state.environments()[0].created_via, "gateway");
    }

    #[tokio::test]
    async fn signature_failures() {
        let g = gateway(None);
        let now = now_secs();
        let rd = request_data();
        let v = json_of(
            &call(
                &g,
                signed_request("AKIDother", "secret", now, "tcb.describeenvs", &rd),
            )
            .await,
        );
        assert_eq!(v["code"], "INVALID_REQUEST_SOURCE");
        let v = json_of(
            &call(
                &g,
                signed_request("AKIDtest", "wrong", now, "tcb.describeenvs", &rd),
            )
            .await,
        );
        assert_eq!(v["code"], "INVALID_REQUEST_SOURCE");
        assert_eq!(v["message"], "signature mismatch");
        let v = json_of(
            &call(
                &g,
                signed_request("AKIDtest", "secret", now - 601, "tcb.describeenvs", &rd),
            )
            .await,
        );
        assert_eq!(v["code"], "INVALID_REQUEST_SOURCE");
        for ts in ["-9223372036854775808", "9223372036854775807", "1e9", ""] {
            let mut r = signed_request("AKIDtest", "secret", now, "tcb.describeenvs", &rd);
            r.headers.insert("x-timestamp", ts.parse().unwrap());
            let code = json_of(&call(&g, r).await)["code"].clone();
            assert!(code == "INVALID_REQUEST_SOURCE" || code == "INVALID_COMMON_PARAM");
        }
        let mut r = signed_request("AKIDtest", "secret", now, "tcb.describeenvs", &rd);
        r.headers.remove("authorization");
        assert_eq!(json_of(&call(&g, r).await)["code"], "INVALID_COMMON_PARAM");
        // Tampered body.
        let mut r = signed_request("AKIDtest", "secret", now, "tcb.describeenvs", &rd);
        let tampered = String::from_utf8_lossy(&r.body).replace("sess", "sesS");
        r.body = Bytes::from(tampered.into_bytes());
        assert_eq!(json_of(&call(&g, r).await)["message"], "signature mismatch");
        // Not multipart at all.
        let mut r = signed_request("AKIDtest", "secret", now, "tcb.describeenvs", &rd);
        r.headers
            .insert("content-type", "application/json".parse().unwrap());
        assert_eq!(json_of(&call(&g, r).await)["code"], "INVALID_PARAM");
        assert!(g.state.environments().is_empty());
    }

    #[tokio::test]
    async fn platform_errors() {
        let g = gateway(Some(vec!["tcb.describeenvs".into()]));
        let now = now_secs();
        let rd = request_data();
        let v = json_of(
            &call(
                &g,
                signed_request("AKIDtest", "secret", now, "tcb.nothing", &rd),
            )
            .await,
        );
        assert_eq!(v["errorCode"], -604100);
        let v = json_of(
            &call(
                &g,
                signed_request("AKIDtest", "secret", now, "tcb.createenvandresource", &rd),
            )
            .await,
        );
        assert_eq!(v["errorCode"], -604101);
        let v = json_of(
            &call(
                &g,
                signed_request("AKIDtest", "secret", now, "tcb.describeenvs", &rd),
            )
            .await,
        );
        assert_eq!(v["errcode"], 0);
        let v = json_of(
            &call(
                &g,
                signed_request("AKIDtest", "secret", now, "tcb.describeenvs", b"\xff\xff"),
            )
            .await,
        );
        assert_eq!(v["code"], "INVALID_PARAM");
    }

    #[tokio::test]
    async fn hostile_bodies_never_panic() {
        let g = gateway(None);
        let now = now_secs();
        let good = signed_request(
            "AKIDtest",
            "secret",
            now,
            "tcb.createenvandresource",
            &request_data(),
        );
        let mut rng = fastrand::Rng::with_seed(42);
        for i in 0..400 {
            let mut r = signed_request(
                "AKIDtest",
                "secret",
                now,
                "tcb.createenvandresource",
                &request_data(),
            );
            let mut body = good.body.to_vec();
            match i % 4 {
                // Flip random bytes.
                0 => {
                    for _ in 0..rng.usize(1..8) {
                        let at = rng.usize(..body.len());
                        body[at] = rng.u8(..);
                    }
                }
                // Cut it short.
                1 => body.truncate(rng.usize(..body.len())),
                // Pure noise.
                2 => body = (0..rng.usize(..512)).map(|_| rng.u8(..)).collect(),
                // Random bytes as requestData, re-signed: exercises the decoder.
                _ => {
                    let rd: Vec<u8> = (0..rng.usize(..64)).map(|_| rng.u8(..)).collect();
                    r = signed_request("AKIDtest", "secret", now, "tcb.createenvandresource", &rd);
                    body = r.body.to_vec();
                }
            }
            r.body = Bytes::from(body);
            let reply = call(&g, r).await;
            assert!(matches!(reply, Reply::Full { status: 200, .. }));
        }
    }
}
