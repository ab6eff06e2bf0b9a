//! The wire formats this crate speaks, for the crates that speak them too:
//! the emulator (the other end of every exchange) and the fuzz targets.
//!
//! - [`gateway`]: the cloud-base gateway's protobuf messages, its TC3
//!   signature and its answer codes;
//! - [`paths`]: WeChat's path table (each API's path, method and params);
//! - [`midas`]: the signature of midas payment params (`cloud.signature`);
//! - [`answer`]: how a gateway or WeChat answer is read;
//! - [`platform`]: the third-party platform's message crypto and events;
//! - the parameter case conversion, JSON depth checks, and the few helpers
//!   both ends share (a poison-tolerant lock, an HTTP client, URL redaction).
//!
//! These are the formats of `../shared/spec/cloud-call-wire.md` and of
//! WeChat's documentation; they change with the wire, not with this crate's
//! API, and applications should use [`crate::Client`].

/// The cloud-base gateway: protobuf messages, the TC3-HMAC-SHA256
/// signature, its answer codes.
pub mod gateway {
    pub use crate::cloud::now_ms;
    pub use crate::cloud::proto;
    pub use crate::cloud::sign;
    pub use crate::codes::GatewayCode;
}

/// The third-party platform: message encryption (`MsgCrypt`) and the
/// events WeChat pushes to the platform's URL.
pub mod platform {
    pub use crate::platform::events;
    pub use crate::platform::msg_crypt;
}

pub use crate::case::{to_camel, to_snake};
/// How a gateway or WeChat answer is read.
pub mod answer {
    pub use crate::call::answer::{wechat_json, wechat_text, Success, MAX_BODY_IN_MESSAGE};
    pub use crate::cloud::answer::decode_gateway;
}
pub use crate::https::midas;
pub use crate::https::paths;
/// JSON with a depth limit, parsed and dropped without recursion.
pub mod json_deep {
    pub use crate::json_deep::{drop_value, parse, to_string};
}
pub use crate::call::answer::wechat_rid;
pub use crate::http::{client_for, send_body, Client, RawAnswer, POOL_IDLE_TIMEOUT};
pub use crate::lock::lock;
pub use crate::redact::redact_url_userinfo;
