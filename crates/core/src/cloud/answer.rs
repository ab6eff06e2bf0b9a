//! A gateway answer → the call's result or an [`ApiError`]
//! (`cloud-call-wire.md`, sections 8 and 9).
//!
//! [`decode_gateway`] reads the HTTP answer of the cloud-base gateway; the
//! WeChat JSON answer inside it is read as in the HTTPS modes
//! (`crate::call::answer`).
//!
//! Deliberate differences from the reference (wx-server-sdk 4.0.2):
//! - an empty HTTP 200 body fails with -601001
//!   `{api}:fail empty response from the gateway` (the reference resolves
//!   with an empty buffer);
//! - HTTP failures show the URL the caller passes (without its query);
//! - a 200 body that is no `CommOpenApiResp` but JSON: a `{code, message}`
//!   gateway error becomes a plain `Error` (like an HTTP JSON error), any other
//!   JSON a `CloudSDKError` -501001 `{api}:fail {json}` (the reference's
//!   choice, but with the `openapi.` prefix);
//! - a body that is neither a `CommOpenApiResp` nor JSON fails with -601001
//!   `{api}:fail unknown wx response received: invalid protobuf ({decoder error})`
//!   (the reference drops the `openapi.` prefix and shows protobufjs's text);
//! - the rest as in `crate::call::answer` (numbers kept as their JSON text,
//!   bodies in messages cut at `MAX_BODY_IN_MESSAGE` bytes).
#![warn(missing_docs)]

use serde_json::Value;

use crate::call::answer::{capped, excerpt, js_string, js_truthy, wechat_text, Success};
use crate::cloud::proto;
use crate::codes::GatewayCode;
use crate::codes::{description, WX_SYSTEM_ERROR};
use crate::error::{ApiError, ErrorClass, ErrorKind};

/// The platform's "API not found": the gateway knows no API of the name sent.
pub(crate) const API_NOT_FOUND: i64 = -604100;

/// What -604100's message adds after the recorded errMsg (which names no
/// API): the name that was sent, and the two ways it goes wrong.
pub(crate) fn api_not_found_hint(api: &str) -> String {
    format!(
        "the platform has no API named {api}: check its spelling (names are case-sensitive), and \
         that WeChat's page for it says it supports cloud calls (本接口支持云调用)"
    )
}

/// Turn the gateway's HTTP answer into a result or an error.
///
/// `api` is the display name, e.g. `"openapi.tcb.createenvandresource"`;
/// `content_type` is the HTTP `content-type` of the answer (may be empty);
/// `url_for_msg` is the URL shown in HTTP failure messages (the caller strips
/// the query). Never panics, whatever the body.
pub fn decode_gateway(
    api: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
    convert_case: bool,
    url_for_msg: &str,
) -> Result<Success, ApiError> {
    if status != 200 {
        let msg = format!("{} {} | [{}]", status, status_text(status), url_for_msg);
        return Err(gateway_error(api, GatewayCode::SysErr, &msg, body));
    }
    if body.is_empty() {
        return Err(ApiError::bad_answer("empty response from the gateway").for_api(api));
    }
    // A JSON body is parsed at most once: up front when the content type says
    // JSON, else only if it is no protobuf.
    let mut json = if content_type
        .to_ascii_lowercase()
        .contains("application/json")
    {
        serde_json::from_slice::<Value>(body).ok()
    } else {
        None
    };
    if let Some(err) = json.as_ref().and_then(|v| tcb_json_error(api, v, body)) {
        return Err(err);
    }
    let resp = match proto::decode_response(body) {
        Ok(resp) => resp,
        Err(decode_error) => {
            if json.is_none() {
                json = serde_json::from_slice::<Value>(body).ok();
            }
            let err = match json {
                Some(v) => tcb_json_error(api, &v, body).unwrap_or_else(|| {
                    // Some other JSON: the reference reports it as an unknown gateway error.
                    let text = serde_json::to_string(&v).unwrap_or_default();
                    ApiError::failed(
                        ErrorKind::BadAnswer,
                        ErrorClass::Cloud,
                        GatewayCode::SysErr.err_code(),
                        excerpt(&text),
                    )
                    .for_api(api)
                    .with_body(capped(body))
                }),
                None => ApiError::bad_answer(format!(
                    "unknown wx response received: invalid protobuf ({decode_error})"
                ))
                .for_api(api)
                .with_body(capped(body)),
            };
            return Err(err);
        }
    };
    if resp.error_code != 0 {
        // The platform's code, shown as the reference shows it (no `{api}:fail`).
        let err_code = i64::from(resp.error_code);
        let err = ApiError::new(
            ErrorKind::of_answer_code(err_code),
            ErrorClass::Cloud,
            err_code,
            format!(
                "{}: error code: {}",
                description(WX_SYSTEM_ERROR),
                resp.error_code
            ),
        )
        .with_body(capped(&resp.resp_data));
        return Err(match err_code {
            // The recorded errMsg names no API: the message does.
            API_NOT_FOUND => err.with_hint(api_not_found_hint(api)),
            _ => err,
        });
    }
    let ct = resp.content_type.as_str();
    if ct.contains("application/json") || ct.contains("text/plain") {
        let text = String::from_utf8_lossy(&resp.resp_data);
        return wechat_text(api, &text, convert_case, ct.contains("text/plain"));
    }
    Ok(Success::Binary {
        content_type: crate::json_text::js_trim(ct).to_string(),
        data: resp.resp_data,
    })
}

/// A gateway-level failure: a plain `Error`, `{api}:fail {errCode} {description}. {message}`.
fn gateway_error(api: &str, code: GatewayCode, message: &str, body: &[u8]) -> ApiError {
    let err = ApiError::gateway(ErrorKind::Http, code, message).for_api(api);
    if body.is_empty() {
        err
    } else {
        err.with_body(capped(body))
    }
}

/// A `{code, message, …}` gateway error body (`code` truthy, `message` present).
fn tcb_json_error(api: &str, v: &Value, body: &[u8]) -> Option<ApiError> {
    let obj = v.as_object()?;
    let code = obj.get("code")?;
    if !js_truthy(code) || !obj.contains_key("message") {
        return None;
    }
    let code = GatewayCode::from_name(&js_string(Some(code)));
    let message = excerpt(&js_string(obj.get("message")));
    Some(gateway_error(api, code, &message, body))
}

/// Node's `http.STATUS_CODES[status]`, `undefined` for codes it does not know
/// (as in the reference's message).
fn status_text(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        509 => "Bandwidth Limit Exceeded",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "undefined",
    }
}
