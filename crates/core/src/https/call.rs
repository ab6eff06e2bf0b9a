//! One HTTPS API request: `POST {base}/{api path}?access_token=…` with the
//! params as the JSON body; the answer becomes a result or an error exactly
//! as in the cloud call (`answer::wechat_json`).

use std::time::Duration;

use serde_json::Value;

use crate::cloud::answer::{self, Success};
use crate::cloud::request::{converted_params, CallInput};
use crate::error::{fail_msg, ApiError, INVALID_PARAM, TCB_SERVER_TIMEOUT, TCB_SYS_ERR};
use crate::json_text;
use crate::transport;

/// The real WeChat API host.
pub const DEFAULT_BASE_URL: &str = "https://api.weixin.qq.com";

/// `tcb.createenvandresource` → `/tcb/createenvandresource`. Only letters,
/// digits, `_` and `-` between the dots: anything else could escape the path.
pub fn api_path(input: &CallInput) -> Result<String, ApiError> {
    let ok = !input.api.is_empty()
        && input.api.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if !ok {
        return Err(ApiError::cloud(
            INVALID_PARAM,
            fail_msg(
                &input.display_api(),
                "the API name must be dot-separated letters, digits, `_` or `-`",
            ),
        ));
    }
    Ok(format!("/{}", input.api.replace('.', "/")))
}

/// The JSON body: the params after case conversion (`{}` without params).
pub fn body(input: &CallInput) -> Result<String, ApiError> {
    if !input.media.is_empty() {
        return Err(ApiError::cloud(
            INVALID_PARAM,
            fail_msg(
                &input.display_api(),
                "media parameters ({ contentType, value: Buffer }) are supported by the cloud call only, \
                 not yet by the HTTPS modes",
            ),
        ));
    }
    Ok(match converted_params(input)? {
        Some(params) => {
            let text = json_text::write(&Value::Object(params.map.clone()));
            params.restore(text)
        }
        None => "{}".to_string(),
    })
}

/// A prepared request, sent once per token.
pub struct Request<'a> {
    pub client: &'a reqwest::Client,
    pub base: &'a str,
    pub path: &'a str,
    pub body: &'a str,
    /// The display name, e.g. `openapi.tcb.createenvandresource`.
    pub api: &'a str,
    pub convert_case: bool,
    pub timeout: Duration,
}

impl Request<'_> {
    /// The URL as messages show it.
    pub fn display_url(&self) -> String {
        format!("{}{}?access_token=***", self.base, self.path)
    }

    /// Send with `token`; the answer becomes a result or an error. Nothing
    /// here retries anything that may have reached the server.
    pub async fn send(&self, token: &str, secrets: &[&str]) -> Result<Success, ApiError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("access_token", token)
            .finish();
        let url = format!("{}{}?{query}", self.base, self.path);
        let display_url = self.display_url();
        let sent = tokio::time::timeout(
            self.timeout,
            transport::post_json(self.client, &url, self.body),
        )
        .await;
        let raw = match sent {
            Err(_) => {
                return Err(ApiError::cloud(
                    TCB_SERVER_TIMEOUT,
                    fail_msg(
                        self.api,
                        &format!(
                        "-501002 resource server timeout. no answer within {} ms | [{display_url}]",
                        self.timeout.as_millis()
                    ),
                    ),
                ))
            }
            Ok(Err(e)) => {
                return Err(ApiError::plain(
                    TCB_SYS_ERR,
                    fail_msg(
                        self.api,
                        &transport::scrub(
                            &format!(
                                "-501001 resource system error. {} | [{display_url}]",
                                e.describe()
                            ),
                            secrets,
                        ),
                    ),
                ))
            }
            Ok(Ok(raw)) => raw,
        };
        if raw.status != 200 {
            let reason = http::StatusCode::from_u16(raw.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            return Err(ApiError::plain(
                TCB_SYS_ERR,
                fail_msg(
                    self.api,
                    &format!(
                        "-501001 resource system error. {} {reason} | [{display_url}]",
                        raw.status
                    ),
                ),
            ));
        }
        let ct = raw.content_type.to_ascii_lowercase();
        let binary = ["image/", "audio/", "video/", "application/octet-stream"]
            .iter()
            .any(|p| ct.starts_with(p));
        if binary {
            return Ok(Success::Binary {
                content_type: raw.content_type.trim().to_string(),
                data: raw.body.to_vec(),
            });
        }
        let text = String::from_utf8_lossy(&raw.body);
        answer::wechat_json(self.api, &text, self.convert_case).map_err(|mut e| {
            e.err_msg = transport::scrub(&e.err_msg, secrets);
            e.raw_body = None;
            e
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(api: &str, params: Option<&str>) -> CallInput {
        CallInput {
            api: api.to_string(),
            params_json: params.map(str::to_string),
            convert_case: true,
            ..CallInput::default()
        }
    }

    #[test]
    fn paths_come_from_the_dotted_name() {
        assert_eq!(
            api_path(&input("tcb.createenvandresource", None)).unwrap(),
            "/tcb/createenvandresource"
        );
        for bad in ["", "tcb..x", "../x", "tcb/x", "a.b?c", "a. b"] {
            assert!(api_path(&input(bad, None)).is_err(), "{bad}");
        }
    }

    #[test]
    fn body_is_the_converted_params() {
        assert_eq!(
            body(&input(
                "a.b",
                Some(r#"{"type":"CreatePostpayPackage","envAlias":"x","n":12345678901234567890}"#)
            ))
            .unwrap(),
            r#"{"type":"CreatePostpayPackage","n":12345678901234567890,"env_alias":"x"}"#
        );
        assert_eq!(body(&input("a.b", None)).unwrap(), "{}");
        assert_eq!(body(&input("a.b", Some("null"))).unwrap(), "{}");
    }
}
