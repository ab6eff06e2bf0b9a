//! The cloud-base gateway door: `POST /admin?env=…&seqId=…`.
//!
//! Steps: parse the body (multipart, or a JSON object); verify the
//! signature, either TC3 in the `authorization` header (recomputed with
//! [`crate::cloud::sign`] over the headers named in `SignedHeaders` and the
//! fields named in `SignedParams`, or every field when that list is absent)
//! or the legacy v2 signature in the `authorization` body field
//! ([`super::legacy_auth`]); check `action`; then per action:
//! - `wx.openApi` (multipart): decode `requestData` (`CommApiData`), answer
//!   a `CommOpenApiResp`;
//! - `wx.api` (JSON or multipart): `requestData` is the JSON text of the
//!   params, the answer is JSON `{data: {responseData: "<WeChat's JSON>"}, requestId}`.
//!
//! Body fields a client may leave out of its signature: `requestData`,
//! `sessionToken`, `sdk_version` (tcb-admin-node adds them after signing)
//! and empty ones; any other unsigned field is refused.
//!
//! Gateway errors (HTTP 200, `{code, message, requestId}`, JSON):
//! - `INVALID_COMMON_PARAM`: no or malformed `authorization`, no or bad
//!   `x-timestamp` (TC3), no `host`;
//! - `INVALID_REQUEST_SOURCE`: unknown secretId, signature mismatch,
//!   `x-timestamp` (TC3) or `q-sign-time` (v2) more than 600 s away from
//!   now, `content-type` or `host` not among the signed headers (TC3), a
//!   field that must be signed is not;
//! - `INVALID_PARAM`: a body neither multipart nor a JSON object, an
//!   `action` other than `wx.openApi` and `wx.api` (the message names it),
//!   `wx.openApi` without a multipart body, `apiName` or `requestData`
//!   missing, `requestData` not a `CommApiData` (`wx.openApi`) or not JSON
//!   text of an object (`wx.api`), and for `wx.api` an unknown (-604100) or
//!   not allowed (-604101) API;
//! - `INVALIID_ENV` (sic): `envName`/`env` names neither the emulated
//!   environment nor a created one.
//!
//! Platform errors of `wx.openApi` (`CommOpenApiResp.errorCode`): -604100
//! unknown API, -604101 API not in the allowed list.
//!
//! Every request to `/admin` counts in `stats().calls`, refused ones too:
//! under `gateway:{apiName}`, or `gateway:?` when the body names no API.

use std::borrow::Cow;

use bytes::Bytes;
use prost::Message;
use serde_json::{Map, Value};

use super::faults::{Door, Faults};
use super::legacy_auth;
use super::miniprogram;
use super::reply::{after_processing, before_processing, Reply};
use super::state::{now_secs, State};
use super::wechat::{wx_error, WeChat};
use crate::wire::gateway::proto::CommApiData;
use crate::wire::gateway::sign::{lowered_field_name, parse_authorization, sign, SignRequest};
use crate::wire::gateway::GatewayCode;
use subtle::ConstantTimeEq;

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

type Failure = (GatewayCode, &'static str);

/// Turns WeChat's JSON answer into the action's answer.
type Wrap = fn(&Value) -> Reply;

/// The TC3 signature's time header, named once (a name looked up by `&str`
/// is parsed on every lookup).
const X_TIMESTAMP: http::HeaderName = http::HeaderName::from_static("x-timestamp");

/// Body fields a client may leave out of its signature.
const MAY_BE_UNSIGNED: &[&str] = &["requestdata", "sessiontoken", "sdk_version"];

/// The actions this gateway serves.
pub const ACTIONS: &[&str] = &["wx.openApi", "wx.api"];

/// How the body arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Multipart,
    Json,
}

/// Parse a body: multipart, or a JSON object (each member a field: strings
/// as they are, other values as their JSON text, `null` left out).
pub async fn parse_body(
    content_type: &str,
    body: Bytes,
) -> Result<(Vec<Field>, BodyFormat), Failure> {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media == "application/json" {
        return parse_json(&body).map(|f| (f, BodyFormat::Json));
    }
    match parse_multipart(content_type, body).await {
        Err((GatewayCode::InvalidParam, "body must be multipart/form-data")) => Err((
            GatewayCode::InvalidParam,
            "body must be multipart/form-data or a JSON object",
        )),
        other => other.map(|f| (f, BodyFormat::Multipart)),
    }
}

fn parse_json(body: &[u8]) -> Result<Vec<Field>, Failure> {
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) else {
        return Err((GatewayCode::InvalidParam, "body is not a JSON object"));
    };
    if m.len() > 64 {
        return Err((GatewayCode::InvalidParam, "too many fields"));
    }
    Ok(m.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(name, v)| Field {
            name,
            value: match v {
                Value::String(s) => Bytes::from(s),
                other => Bytes::from(other.to_string()),
            },
        })
        .collect())
}

/// The received fields a signature covers: those named in `signed` (lower
/// case), or all when `signed` is `None`. Fails when a non-empty field that
/// is not in [`MAY_BE_UNSIGNED`] is left out.
fn signed_fields<'a>(
    fields: &'a [Field],
    signed: Option<&[String]>,
    skip: &str,
) -> Result<Vec<(&'a str, &'a [u8])>, Failure> {
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        let name = lower(f.name.trim());
        if name == skip {
            continue;
        }
        match signed {
            Some(list) if !list.iter().any(|n| *n == name) => {
                if !f.value.is_empty() && !MAY_BE_UNSIGNED.contains(&name.as_ref()) {
                    return Err((
                        GatewayCode::InvalidRequestSource,
                        "a field that must be signed is not",
                    ));
                }
            }
            _ => out.push((f.name.as_str(), f.value.as_ref())),
        }
    }
    Ok(out)
}

/// `s.to_lowercase()`, without a copy when `s` is lower-case ASCII already
/// or one of the body's fixed names.
fn lower(s: &str) -> Cow<'_, str> {
    if let Some(lowered) = lowered_field_name(s) {
        Cow::Borrowed(lowered)
    } else if s.bytes().any(|b| !b.is_ascii() || b.is_ascii_uppercase()) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Parse a multipart body into its fields.
pub async fn parse_multipart(content_type: &str, body: Bytes) -> Result<Vec<Field>, Failure> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        (
            GatewayCode::InvalidParam,
            "body must be multipart/form-data",
        )
    })?;
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
                    .map_err(|_| (GatewayCode::InvalidParam, "malformed multipart body"))?;
                if fields.len() >= 64 {
                    return Err((GatewayCode::InvalidParam, "too many multipart fields"));
                }
                fields.push(Field { name, value });
            }
            Ok(None) => return Ok(fields),
            Err(_) => return Err((GatewayCode::InvalidParam, "malformed multipart body")),
        }
    }
}

fn secret_of<'a>(secret_pairs: &'a [(String, String)], id: &str) -> Result<&'a str, Failure> {
    secret_pairs
        .iter()
        .find(|(i, _)| bool::from(i.as_bytes().ct_eq(id.as_bytes())))
        .map(|(_, k)| k.as_str())
        .ok_or((GatewayCode::InvalidRequestSource, "secretId not found"))
}

/// Verify the signature of a request: TC3 in the `authorization` header,
/// else the legacy v2 signature in the `authorization` field.
pub fn verify(
    headers: &http::HeaderMap,
    path_and_query: &str,
    fields: &[Field],
    secret_pairs: &[(String, String)],
    now_secs: i64,
) -> Result<(), Failure> {
    if !headers.contains_key(http::header::AUTHORIZATION) {
        if let Some(v) = last_str(fields, "authorization").filter(|v| legacy_auth::is_legacy(v)) {
            return verify_legacy(headers, path_and_query, v, fields, secret_pairs, now_secs);
        }
    }
    verify_tc3(headers, path_and_query, fields, secret_pairs, now_secs)
}

fn verify_legacy(
    headers: &http::HeaderMap,
    path_and_query: &str,
    value: &str,
    fields: &[Field],
    secret_pairs: &[(String, String)],
    now_secs: i64,
) -> Result<(), Failure> {
    let auth = legacy_auth::parse(value).ok_or((
        GatewayCode::InvalidCommonParam,
        "missing or malformed authorization",
    ))?;
    if now_secs > auth.valid_until || auth.valid_from > now_secs.saturating_add(MAX_CLOCK_SKEW_SECS)
    {
        return Err((
            GatewayCode::InvalidRequestSource,
            "signature expired (q-sign-time does not cover now)",
        ));
    }
    let secret_key = secret_of(secret_pairs, &auth.secret_id)?;
    let mut signed_headers: Vec<(&str, &[u8])> = Vec::with_capacity(auth.header_list.len());
    for name in &auth.header_list {
        match headers.get(name.as_str()) {
            Some(v) => signed_headers.push((name.as_str(), v.as_bytes())),
            None => {
                return Err((
                    GatewayCode::InvalidRequestSource,
                    "a signed header is missing",
                ))
            }
        }
    }
    let params = signed_fields(fields, Some(&auth.param_list), "authorization")?;
    if params.len() != auth.param_list.len() {
        return Err((GatewayCode::InvalidRequestSource, "signature mismatch"));
    }
    let pathname = path_and_query.split('?').next().unwrap_or("/admin");
    let expected = legacy_auth::signature(&legacy_auth::LegacySignRequest {
        method: "post",
        pathname,
        params: &params,
        headers: &signed_headers,
        sign_time: &auth.sign_time,
        key_time: &auth.key_time,
        secret_key,
    });
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err((GatewayCode::InvalidRequestSource, "signature mismatch"))
    }
}

fn verify_tc3(
    headers: &http::HeaderMap,
    path_and_query: &str,
    fields: &[Field],
    secret_pairs: &[(String, String)],
    now_secs: i64,
) -> Result<(), Failure> {
    let header = |name: &http::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let auth = header(&http::header::AUTHORIZATION)
        .and_then(parse_authorization)
        .ok_or((
            GatewayCode::InvalidCommonParam,
            "missing or malformed authorization",
        ))?;
    let timestamp: i64 = header(&X_TIMESTAMP)
        .and_then(|t| t.trim().parse().ok())
        .ok_or((
            GatewayCode::InvalidCommonParam,
            "missing or malformed x-timestamp",
        ))?;
    let skew = now_secs.checked_sub(timestamp).map(i64::unsigned_abs);
    if skew.is_none_or(|d| d > MAX_CLOCK_SKEW_SECS.unsigned_abs()) {
        return Err((
            GatewayCode::InvalidRequestSource,
            "signature expired (x-timestamp too far from now)",
        ));
    }
    let host =
        header(&http::header::HOST).ok_or((GatewayCode::InvalidCommonParam, "missing host"))?;
    let signed = |n: &str| auth.signed_headers.iter().any(|h| h == n);
    if !signed("content-type") || !signed("host") {
        return Err((
            GatewayCode::InvalidRequestSource,
            "content-type and host must be signed",
        ));
    }
    let secret_key = secret_of(secret_pairs, &auth.secret_id)?;
    let mut signed_headers: Vec<(&str, &str)> = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        match headers.get(name.as_str()).and_then(|v| v.to_str().ok()) {
            Some(v) => signed_headers.push((name.as_str(), v)),
            None => {
                return Err((
                    GatewayCode::InvalidRequestSource,
                    "a signed header is missing",
                ))
            }
        }
    }
    let listed = (!auth.signed_params.is_empty()).then_some(auth.signed_params.as_slice());
    let params = signed_fields(fields, listed, "")?;
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
    if bool::from(
        expected
            .signature
            .as_bytes()
            .ct_eq(auth.signature.as_bytes()),
    ) {
        Ok(())
    } else {
        Err((GatewayCode::InvalidRequestSource, "signature mismatch"))
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

/// `CommApiData` pairs → params and uploads: a pair with a file name or a
/// content type is an upload (its bytes kept), any other is parsed as JSON.
/// Fails with the key whose value is not JSON.
pub fn pairs_to_input(data: &CommApiData) -> Result<miniprogram::Input, String> {
    let mut input = miniprogram::Input::default();
    if let Some(d) = &data.openapi_data {
        for p in &d.pairs {
            if p.contenttype.is_empty() && p.filename.is_empty() {
                let v = serde_json::from_slice::<Value>(&p.value).map_err(|_| p.key.clone())?;
                input.params.insert(p.key.clone(), v);
            } else {
                input.uploads.insert(
                    p.key.clone(),
                    miniprogram::Upload {
                        content_type: p.contenttype.clone(),
                        file_name: p.filename.clone(),
                        data: Bytes::from(p.value.clone()),
                    },
                );
            }
        }
    }
    Ok(input)
}

/// Everything the gateway needs.
pub struct Gateway {
    pub config: GatewayConfig,
    pub state: State,
    pub wechat: WeChat,
    pub faults: Faults,
}

/// The account a cloud call acts in: the `appid` of `openapi({ appid })`
/// (empty: the function's own account).
fn account_of(data: Option<&CommApiData>) -> &str {
    data.and_then(|d| d.appid.as_deref()).unwrap_or("")
}

/// The `action` field, checked: one this emulator serves, with the body
/// format it needs (`wx.openApi` is multipart only).
fn action_of(fields: &[Field], format: BodyFormat) -> Result<&str, Reply> {
    let action = last_str(fields, "action").unwrap_or("");
    if !ACTIONS.contains(&action) {
        let shown: String = action.chars().take(64).collect();
        return Err(Reply::gateway_error(
            GatewayCode::InvalidParam,
            &format!(
                "action {shown:?} is not supported (this emulator serves {})",
                ACTIONS.join(", ")
            ),
        ));
    }
    if action == "wx.openApi" && format != BodyFormat::Multipart {
        return Err(Reply::gateway_error(
            GatewayCode::InvalidParam,
            "wx.openApi needs a multipart/form-data body",
        ));
    }
    Ok(action)
}

/// The environment a request names: its `envName` field, else the `env`
/// of the query string (empty: none).
fn env_of<'a>(fields: &'a [Field], query: Option<&str>) -> Cow<'a, str> {
    match last_str(fields, "envName") {
        Some(e) if !e.is_empty() => Cow::Borrowed(e),
        _ => Cow::Owned(
            super::wechat::query_pairs(query)
                .into_iter()
                .find(|(k, _)| k == "env")
                .map(|(_, v)| v)
                .unwrap_or_default(),
        ),
    }
}

/// What `requestData` carries, by action: `wx.api` the JSON text of the
/// params (answered as JSON), `wx.openApi` a `CommApiData` (answered as a
/// `CommOpenApiResp`). `Err(())` params: not a JSON object (47001 later).
type Request = (Result<Map<String, Value>, ()>, Option<CommApiData>, Wrap);

fn request_of(action: &str, request_data: Option<&[u8]>) -> Result<Request, Reply> {
    let invalid = |msg: &str| Reply::gateway_error(GatewayCode::InvalidParam, msg);
    if action == "wx.api" {
        let params = match request_data {
            None | Some(b"") => Map::new(),
            Some(text) => match serde_json::from_slice::<Value>(text) {
                Ok(Value::Object(m)) => m,
                _ => return Err(invalid("requestData is not the JSON text of an object")),
            },
        };
        return Ok((Ok(params), None, Reply::wx_api));
    }
    let data = match request_data.map(CommApiData::decode) {
        Some(Ok(d)) => d,
        Some(Err(_)) => return Err(invalid("requestData is not a CommApiData")),
        None => return Err(invalid("missing requestData")),
    };
    Ok((
        pairs_to_params(&data).map_err(drop),
        Some(data),
        Reply::open_api,
    ))
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
        let (fields, format) = match parse_body(ct, body).await {
            Ok(f) => f,
            Err((code, msg)) => {
                self.state.count("gateway:?");
                return Reply::gateway_error(code, msg);
            }
        };
        let api = last_str(&fields, "apiName").unwrap_or("");
        self.state.count(&format!(
            "gateway:{}",
            if api.is_empty() { "?" } else { api }
        ));
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
        let action = match action_of(&fields, format) {
            Ok(a) => a,
            Err(r) => return r,
        };
        if api.is_empty() {
            return Reply::gateway_error(GatewayCode::InvalidParam, "missing apiName");
        }
        let env = env_of(&fields, query);
        if !env.is_empty() && *env != *self.config.env_id && !self.state.has_environment(&env) {
            return Reply::gateway_error(GatewayCode::InvalidEnv, "env not exists");
        }
        let request_data = last(&fields, "requestData").map(|f| f.value.as_ref());
        let (params, data, wrap) = match request_of(action, request_data) {
            Ok(r) => r,
            Err(r) => return r,
        };

        let plan = self.faults.decide(api, Door::Gateway);
        if plan.action.is_some() || plan.delay_ms > 0 {
            self.state.count_fault();
        }
        if plan.delay_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(plan.delay_ms)).await;
        }
        if let Some(r) = before_processing(plan.action.as_ref(), wrap) {
            return r;
        }

        let reply = match self.platform_check(api) {
            Err(code) if action == "wx.api" => Reply::gateway_error(
                GatewayCode::InvalidParam,
                &format!("apiName {api} cannot be called ({code})"),
            ),
            Err(code) => Reply::open_api_error(code),
            Ok(()) if miniprogram::APIS.contains(&api) => {
                self.miniprogram(api, data.as_ref(), params, wrap)
            }
            Ok(()) => match params {
                Err(()) => wrap(&wx_error(47001, "data format error")),
                Ok(p) => match self
                    .wechat
                    .call_api(api, &p, "gateway", account_of(data.as_ref()))
                    .await
                {
                    Some(v) => wrap(&v),
                    None => Reply::open_api_error(-604100),
                },
            },
        };
        after_processing(plan.action.as_ref(), reply)
    }

    /// A mini-program API (`miniprogram.rs`): its params and uploads from the
    /// `CommApiData` of `wx.openApi`, or the JSON params of `wx.api`.
    fn miniprogram(
        &self,
        api: &str,
        data: Option<&CommApiData>,
        params: Result<Map<String, Value>, ()>,
        wrap: Wrap,
    ) -> Reply {
        let input = match data {
            Some(d) => pairs_to_input(d).map_err(drop),
            None => params.map(|params| miniprogram::Input {
                params,
                ..Default::default()
            }),
        };
        let Ok(input) = input else {
            return wrap(&wx_error(47001, "data format error"));
        };
        let appid = match data.and_then(|d| d.appid.as_deref()) {
            Some(a) if !a.is_empty() => a.to_string(),
            _ => self.wechat.own_appid(),
        };
        match miniprogram::call(api, &input, &appid) {
            miniprogram::Answer::Json(v) => wrap(&v),
            miniprogram::Answer::Binary(ct, bytes) => Reply::open_api_binary(ct, bytes),
        }
    }

    /// The platform's own refusals: -604100 unknown API, -604101 not allowed.
    fn platform_check(&self, api: &str) -> Result<(), i32> {
        if !super::wechat::KNOWN_APIS.contains(&api) && !miniprogram::APIS.contains(&api) {
            return Err(-604100);
        }
        if let Some(allowed) = &self.config.allowed_apis {
            if !allowed.iter().any(|a| a == api) {
                return Err(-604101);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::gateway::proto::{encode_request, KeyValuePair};

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
        let hs: Vec<(&str, &str)> = vec![
            ("content-type", &ct),
            ("host", "127.0.0.1:9"),
            ("user-agent", "test"),
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
                let resp = crate::wire::gateway::proto::decode_response(body).unwrap();
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

    /// A tcb-admin-node v2 request: the legacy signature in the body.
    fn legacy_request(
        key: &str,
        sign_from: i64,
        fields: &[(&str, &[u8])],
        unsigned: &[(&str, &[u8])],
    ) -> Req {
        let times = format!("{};{}", sign_from, sign_from + 900);
        let headers: Vec<(&str, &[u8])> = vec![
            ("user-agent", b"tcb-admin-sdk/1.23.0"),
            ("x-tcb-source", b",not_scf"),
        ];
        let auth = legacy_auth::authorization(
            "AKIDtest",
            &legacy_auth::LegacySignRequest {
                method: "post",
                pathname: "/admin",
                params: fields,
                headers: &headers,
                sign_time: &times,
                key_time: &times,
                secret_key: key,
            },
        );
        let mut all: Vec<(&str, &[u8])> = fields.to_vec();
        all.push(("authorization", auth.as_bytes()));
        all.extend_from_slice(unsigned);
        let mut h = http::HeaderMap::new();
        h.insert(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}")
                .parse()
                .unwrap(),
        );
        h.insert("user-agent", "tcb-admin-sdk/1.23.0".parse().unwrap());
        h.insert("x-tcb-source", ",not_scf".parse().unwrap());
        Req {
            headers: h,
            body: Bytes::from(multipart(&all)),
            pq: "/admin?&eventId=e&seqId=s".into(),
        }
    }

    #[tokio::test]
    async fn legacy_v2_signature() {
        let g = gateway(None);
        let now = now_secs();
        let rd = request_data();
        let fields: Vec<(&str, &[u8])> = vec![
            ("action", b"wx.openApi"),
            ("apiName", b"tcb.createenvandresource"),
            ("envName", b"emulator-env"),
            ("tcb_sessionToken", b""),
        ];
        let unsigned: Vec<(&str, &[u8])> = vec![("requestData", &rd), ("sdk_version", b"1.23.0")];
        let v = json_of(&call(&g, legacy_request("secret", now - 1, &fields, &unsigned)).await);
        assert_eq!(v["errcode"], 0, "{v}");
        // Wrong key.
        let v = json_of(&call(&g, legacy_request("wrong", now - 1, &fields, &unsigned)).await);
        assert_eq!(v["message"], "signature mismatch");
        // A signed field tampered with.
        let mut r = legacy_request("secret", now - 1, &fields, &unsigned);
        r.body = Bytes::from(
            String::from_utf8_lossy(&r.body)
                .replace("tcb.createenvandresource", "tcb.describeenvsxxxxxxxx")
                .into_bytes(),
        );
        let v = json_of(&call(&g, r).await);
        assert_eq!(v["message"], "signature mismatch");
        // A signed header tampered with.
        let mut r = legacy_request("secret", now - 1, &fields, &unsigned);
        r.headers.insert("x-tcb-source", ",scf".parse().unwrap());
        assert_eq!(json_of(&call(&g, r).await)["message"], "signature mismatch");
        // Stale: the signature's window ended.
        let v = json_of(&call(&g, legacy_request("secret", now - 1000, &fields, &unsigned)).await);
        assert_eq!(v["code"], "INVALID_REQUEST_SOURCE");
        assert!(v["message"].as_str().unwrap().contains("expired"), "{v}");
        // An extra field that is neither signed nor allowed unsigned.
        let extra: Vec<(&str, &[u8])> = vec![("requestData", &rd), ("apiOptions", b"{}")];
        let v = json_of(&call(&g, legacy_request("secret", now - 1, &fields, &extra)).await);
        assert_eq!(v["message"], "a field that must be signed is not");
        assert_eq!(g.state.environments().len(), 1);
        // Refused calls count too (the tampered one under the name it carried).
        let calls = &g.state.stats()["calls"];
        assert_eq!(calls["gateway:tcb.createenvandresource"], 5);
        assert_eq!(calls["gateway:tcb.describeenvsxxxxxxxx"], 1);
    }

    #[tokio::test]
    async fn tc3_with_signed_params_leaves_request_data_unsigned() {
        let g = gateway(None);
        let now = now_secs();
        let rd = request_data();
        // Sign without requestData (tcb-admin-node v3), then add it.
        let r = signed_request("AKIDtest", "secret", now, "tcb.createenvandresource", b"");
        let with_rd = String::from_utf8_lossy(&r.body).replacen(
            &format!("--{BOUNDARY}--\r\n"),
            &format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"requestData\"\r\n\r\n"
            ),
            1,
        );
        let mut body = with_rd.into_bytes();
        body.extend_from_slice(&rd);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let v = json_of(
            &call(
                &g,
                Req {
                    body: Bytes::from(body),
                    ..r
                },
            )
            .await,
        );
        assert_eq!(v["errcode"], 0, "{v}");
    }

    #[tokio::test]
    async fn actions() {
        let g = gateway(None);
        let now = now_secs();
        // Signed JSON bodies (the wx.api door), any action.
        let json_req = |action: &str, rd: &str| {
            let body = serde_json::json!({
                "action": action, "apiName": "tcb.createenvandresource", "requestData": rd,
            })
            .to_string();
            let hs: Vec<(&str, &str)> = vec![
                ("content-type", "application/json"),
                ("host", "127.0.0.1:9"),
            ];
            let params: Vec<(&str, &[u8])> = vec![
                ("action", action.as_bytes()),
                ("apiName", b"tcb.createenvandresource"),
                ("requestData", rd.as_bytes()),
            ];
            let s = sign(&SignRequest {
                method: "post",
                url: "http://127.0.0.1:9/admin?env=emulator-env",
                headers: &hs,
                params: &params,
                secret_id: "AKIDtest",
                secret_key: "secret",
                timestamp: now,
            });
            let mut headers = http::HeaderMap::new();
            headers.insert("content-type", "application/json".parse().unwrap());
            headers.insert("host", "127.0.0.1:9".parse().unwrap());
            headers.insert("authorization", s.authorization.parse().unwrap());
            headers.insert("x-timestamp", now.to_string().parse().unwrap());
            Req {
                headers,
                body: Bytes::from(body),
                pq: "/admin?env=emulator-env".into(),
            }
        };
        let good = r#"{"type":"CreatePostpayPackage","alias":"json"}"#;
        let v = json_of(&call(&g, json_req("wx.api", good)).await);
        let data: Value =
            serde_json::from_str(v["data"]["responseData"].as_str().unwrap()).unwrap();
        assert_eq!(data["errcode"], 0, "{v}");
        let v = json_of(&call(&g, json_req("functions.invokeFunction", good)).await);
        assert_eq!(v["code"], "INVALID_PARAM");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("\"functions.invokeFunction\" is not supported"),
            "{v}"
        );
        let v = json_of(&call(&g, json_req("wx.openApi", good)).await);
        assert_eq!(v["message"], "wx.openApi needs a multipart/form-data body");
        let v = json_of(&call(&g, json_req("wx.api", "[1]")).await);
        assert_eq!(v["code"], "INVALID_PARAM");
        assert_eq!(g.state.environments().len(), 1);
    }
}
