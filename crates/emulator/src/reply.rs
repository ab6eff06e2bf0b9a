//! An answer to one request, before it becomes HTTP, and how faults bend it.

use prost::Message;
use serde_json::Value;

use super::faults::FaultAction;
use crate::wire::gateway::proto::CommOpenApiResp;
use crate::wire::gateway::GatewayCode;

/// Content type of JSON answers (WeChat's and the gateway's errors).
pub const JSON_UTF8: &str = "application/json; charset=utf-8";
/// Content type of a `CommOpenApiResp` answer.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// A gateway request id: 16 hex digits.
fn request_id() -> String {
    (0..16)
        .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(..16)]))
        .collect()
}

/// What to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A complete answer.
    Full {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Headers announcing the whole body, then only its first half, then
    /// the connection is closed.
    Truncated {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Close the connection without an answer.
    Drop,
}

impl Reply {
    /// HTTP 200 with a JSON body.
    pub fn json(v: &Value) -> Reply {
        Reply::Full {
            status: 200,
            content_type: JSON_UTF8,
            body: serde_json::to_vec(v).unwrap_or_default(),
        }
    }

    /// A plain-text answer with `status`.
    pub fn text(status: u16, text: &str) -> Reply {
        Reply::Full {
            status,
            content_type: "text/plain; charset=utf-8",
            body: text.as_bytes().to_vec(),
        }
    }

    /// A gateway error: HTTP 200, `{code, message, requestId}`.
    pub fn gateway_error(code: GatewayCode, message: &str) -> Reply {
        Reply::json(&serde_json::json!({
            "code": code.name(),
            "message": message,
            "requestId": request_id(),
        }))
    }

    /// A gateway `CommOpenApiResp` carrying WeChat's JSON answer.
    pub fn open_api(wechat: &Value) -> Reply {
        Reply::open_api_resp(CommOpenApiResp {
            resp_data: serde_json::to_vec(wechat).unwrap_or_default(),
            content_type: JSON_UTF8.to_string(),
            error_code: 0,
            http_code: 200,
            headers: Vec::new(),
            svrkit_error_code: 0,
        })
    }

    /// A gateway answer to `wx.api`: JSON `{data: {responseData}, requestId}`
    /// where `responseData` is WeChat's JSON answer as text.
    pub fn wx_api(wechat: &Value) -> Reply {
        Reply::json(&serde_json::json!({
            "data": { "responseData": serde_json::to_string(wechat).unwrap_or_default() },
            "requestId": request_id(),
        }))
    }

    /// A gateway `CommOpenApiResp` with a platform `errorCode` (e.g. -604100).
    pub fn open_api_error(error_code: i32) -> Reply {
        Reply::open_api_resp(CommOpenApiResp {
            error_code,
            ..Default::default()
        })
    }

    /// A gateway `CommOpenApiResp` carrying WeChat's binary answer (an image).
    pub fn open_api_binary(content_type: &str, data: Vec<u8>) -> Reply {
        Reply::open_api_resp(CommOpenApiResp {
            resp_data: data,
            content_type: content_type.to_string(),
            error_code: 0,
            http_code: 200,
            headers: Vec::new(),
            svrkit_error_code: 0,
        })
    }

    /// HTTP 200 with WeChat's binary answer (the HTTPS door).
    pub fn binary(content_type: &'static str, data: Vec<u8>) -> Reply {
        Reply::Full {
            status: 200,
            content_type,
            body: data,
        }
    }

    fn open_api_resp(resp: CommOpenApiResp) -> Reply {
        Reply::Full {
            status: 200,
            content_type: OCTET_STREAM,
            body: resp.encode_to_vec(),
        }
    }
}

/// The answer a fault gives before processing, if it acts then.
/// `wrap` turns WeChat JSON into the door's format.
pub fn before_processing(action: Option<&FaultAction>, wrap: fn(&Value) -> Reply) -> Option<Reply> {
    match action? {
        FaultAction::Errcode(code, msg) => {
            Some(wrap(&super::wechat::wx_error_as_given(*code, msg)))
        }
        FaultAction::DropBefore => Some(Reply::Drop),
        FaultAction::Status(s) => Some(Reply::text(*s, "emulated server error")),
        _ => None,
    }
}

/// The answer after processing, bent by a fault that acts then.
pub fn after_processing(action: Option<&FaultAction>, reply: Reply) -> Reply {
    match (action, reply) {
        (Some(FaultAction::DropAfter), _) => Reply::Drop,
        (
            Some(FaultAction::Malformed),
            Reply::Full {
                status,
                content_type,
                ..
            },
        ) => {
            let body = if content_type == OCTET_STREAM {
                // Not a protobuf: wire type 7 does not exist.
                b"\xff\xfe\x00garbage".to_vec()
            } else {
                b"{\"errcode\":0,\"errmsg\":\"ok\",\"envid\":".to_vec()
            };
            Reply::Full {
                status,
                content_type,
                body,
            }
        }
        (
            Some(FaultAction::Truncated),
            Reply::Full {
                status,
                content_type,
                body,
            },
        ) => Reply::Truncated {
            status,
            content_type,
            body,
        },
        (_, r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::gateway::proto::decode_response;

    #[test]
    fn open_api_answer_decodes() {
        let v = serde_json::json!({"errcode":0,"errmsg":"ok"});
        let Reply::Full {
            body, content_type, ..
        } = Reply::open_api(&v)
        else {
            panic!("not full")
        };
        assert_eq!(content_type, OCTET_STREAM);
        let resp = decode_response(&body).unwrap();
        assert_eq!(resp.content_type, JSON_UTF8);
        assert_eq!(resp.resp_data, br#"{"errcode":0,"errmsg":"ok"}"#);
    }

    #[test]
    fn malformed_gateway_answer_does_not_decode() {
        let r = after_processing(
            Some(&FaultAction::Malformed),
            Reply::open_api(&serde_json::json!({})),
        );
        let Reply::Full { body, .. } = r else {
            panic!()
        };
        assert!(decode_response(&body).is_err());
    }

    #[test]
    fn faults_before_and_after() {
        assert_eq!(
            before_processing(Some(&FaultAction::DropBefore), Reply::json),
            Some(Reply::Drop)
        );
        assert_eq!(
            before_processing(Some(&FaultAction::DropAfter), Reply::json),
            None
        );
        assert_eq!(before_processing(None, Reply::json), None);
        let r = after_processing(Some(&FaultAction::Truncated), Reply::text(200, "abcd"));
        assert!(matches!(r, Reply::Truncated { .. }));
        let r = before_processing(Some(&FaultAction::Status(502)), Reply::json).unwrap();
        assert!(matches!(r, Reply::Full { status: 502, .. }));
    }
}
