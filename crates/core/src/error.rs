//! One error type for every failure the SDK reports.
//!
//! An [`ApiError`] carries what the reference SDK exposes on its rejected
//! promises (`errCode`, `errMsg`) plus what kind of failure it is (which
//! decides whether it may be retried, and whether the call may have
//! executed), which JavaScript class it becomes (`CloudSDKError` for WeChat
//! and platform errors, a plain `Error` for gateway and HTTP failures) and,
//! when there was one, the raw answer body. Each is built where the failure
//! happens, by the constructor of its kind.

use std::fmt;

use crate::codes::{
    description, GatewayCode, INVALID_COMMON_PARAM, INVALID_PARAM, WX_SYSTEM_ERROR,
};

/// Which JavaScript class the error becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// `CloudSDKError`: `message` is `errCode: {code} {description} | errMsg: {errMsg}`.
    Cloud,
    /// A plain `Error` whose `message` equals `errMsg`.
    Plain,
}

/// What went wrong, in the terms a caller (or a retry policy) decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An invalid parameter, option or environment variable: nothing was sent.
    InvalidInput,
    /// No usable credentials or configuration: nothing was sent.
    Config,
    /// No connection could be made (or no HTTP client built): the request was
    /// never written, so sending it again cannot execute it twice.
    Connect,
    /// The connection failed after the request may have been written, or the
    /// answer was too large to read.
    Transport,
    /// No answer within the call's timeout.
    Timeout,
    /// An HTTP status other than 200, or a gateway `{code, message}` error.
    Http,
    /// An answer the SDK could not understand.
    BadAnswer,
    /// WeChat or the platform answered with an error code.
    Answer,
    /// WeChat answered "busy" (-1 system error, -1000 system busy): what
    /// `retry.onBusy` retries.
    Busy,
    /// WeChat rejected the access token (40001 invalid credential, 40014
    /// invalid token, 42001 expired): the token is renewed once.
    TokenRejected,
    /// A bug in the SDK (a panic caught at the binding).
    Internal,
}

impl ErrorKind {
    /// The kind of a WeChat or platform answer's error code.
    pub fn of_answer_code(err_code: i64) -> ErrorKind {
        match err_code {
            -1 | -1000 => ErrorKind::Busy,
            40001 | 40014 | 42001 => ErrorKind::TokenRejected,
            _ => ErrorKind::Answer,
        }
    }

    /// Whether a failure of this kind may have executed the call (the request
    /// may have reached the server and been acted on): such a call is never
    /// sent again unless the caller opted in.
    pub fn may_have_executed(self) -> bool {
        match self {
            ErrorKind::InvalidInput
            | ErrorKind::Config
            | ErrorKind::Connect
            | ErrorKind::Answer
            | ErrorKind::TokenRejected => false,
            ErrorKind::Transport
            | ErrorKind::Timeout
            | ErrorKind::Http
            | ErrorKind::BadAnswer
            | ErrorKind::Busy
            | ErrorKind::Internal => true,
        }
    }
}

/// Who configured the client, so that a message names what that caller set:
/// `init({ … })` and `openapi({ appid })` for the Node package, the options
/// of [`Client::from_options`](crate::Client::from_options) and
/// [`Client::for_appid`](crate::Client::for_appid) for Rust. The option
/// names (`secretId`, `apiBaseUrl`, …) are the same in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wording {
    /// The Node package (the binding): `init()`, `openapi({ appid })`.
    #[default]
    Node,
    /// The Rust API: `Client::from_options`, `client.for_appid(…)`.
    Rust,
}

impl Wording {
    /// Where the options are given: `init()` / `Client::from_options`.
    pub fn init(self) -> &'static str {
        match self {
            Wording::Node => "init()",
            Wording::Rust => "Client::from_options",
        }
    }

    /// Options given together: `init({ appid, secret })` /
    /// `Client::from_options with "appid" and "secret"`.
    pub fn init_with(self, options: &[&str]) -> String {
        match self {
            Wording::Node => format!("init({{ {} }})", options.join(", ")),
            Wording::Rust => {
                let quoted: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
                format!("Client::from_options with {}", quoted.join(" and "))
            }
        }
    }

    /// What the options had: `init() was given {which}` /
    /// `Client::from_options was given {which}`.
    pub fn given(self, which: &str) -> String {
        match self {
            Wording::Node => format!("init() was given {which}"),
            Wording::Rust => format!("Client::from_options was given {which}"),
        }
    }

    /// `init() was given` / `Client::from_options was given`.
    pub fn given_to(self) -> &'static str {
        match self {
            Wording::Node => "init() was given",
            Wording::Rust => "Client::from_options was given",
        }
    }

    /// The call acting for another account: `openapi({ appid: … })` /
    /// `client.for_appid(…)`.
    pub fn for_appid(self, appid: &str) -> String {
        match self {
            Wording::Node => format!("openapi({{ appid: {appid} }})"),
            Wording::Rust => format!("client.for_appid({appid})"),
        }
    }
}

/// A failed call, as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The errCode: WeChat's, the gateway's, or the SDK's own.
    pub err_code: i64,
    /// The errMsg (`{api}:fail …` once the API is known), secrets redacted.
    pub err_msg: String,
    /// Which kind of JavaScript error it becomes.
    pub class: ErrorClass,
    /// The raw answer body, when the failure came with one (kept for debugging;
    /// never contains request secrets).
    pub raw_body: Option<Vec<u8>>,
    /// `err_msg` still waits for its `{api}:fail ` prefix ([`ApiError::for_api`]).
    unprefixed: bool,
    /// What to do, shown after the errMsg in [`ApiError::message`] when the
    /// errMsg must stay as the reference has it (-604100 names the API).
    pub hint: Option<String>,
}

impl ApiError {
    /// An error of `kind` whose errMsg is `err_msg`, as given (no
    /// `{api}:fail ` prefix is added: see [`ApiError::failed`]).
    pub fn new(
        kind: ErrorKind,
        class: ErrorClass,
        err_code: i64,
        err_msg: impl Into<String>,
    ) -> Self {
        ApiError {
            kind,
            err_code,
            err_msg: err_msg.into(),
            class,
            raw_body: None,
            unprefixed: false,
            hint: None,
        }
    }

    /// A failure of `kind` described by `detail`: its errMsg becomes
    /// `{api}:fail {detail}` when the call's top adds the API name
    /// ([`ApiError::for_api`]), so the layers below need not know it.
    pub fn failed(
        kind: ErrorKind,
        class: ErrorClass,
        err_code: i64,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            unprefixed: true,
            ..ApiError::new(kind, class, err_code, detail)
        }
    }

    /// Add the `{api}:fail ` prefix to the errMsg (once: an error that has
    /// it, or was built verbatim with [`ApiError::new`], is left as is).
    pub fn for_api(mut self, api: &str) -> Self {
        if self.unprefixed {
            self.err_msg = fail_msg(api, &self.err_msg);
            self.unprefixed = false;
        }
        self
    }

    /// An invalid parameter, option or environment variable
    /// (`CloudSDKError` -501007).
    pub fn invalid_param(detail: impl Into<String>) -> Self {
        ApiError::failed(
            ErrorKind::InvalidInput,
            ErrorClass::Cloud,
            INVALID_PARAM,
            detail,
        )
    }

    /// No usable credentials or configuration (`CloudSDKError` -501006).
    pub fn invalid_config(detail: impl Into<String>) -> Self {
        ApiError::failed(
            ErrorKind::Config,
            ErrorClass::Cloud,
            INVALID_COMMON_PARAM,
            detail,
        )
    }

    /// An answer the SDK could not understand (`CloudSDKError` -601001).
    pub fn bad_answer(detail: impl Into<String>) -> Self {
        ApiError::failed(
            ErrorKind::BadAnswer,
            ErrorClass::Cloud,
            WX_SYSTEM_ERROR,
            detail,
        )
    }

    /// WeChat's or the platform's error code (`CloudSDKError`), its kind
    /// read from the code ([`ErrorKind::of_answer_code`]).
    pub fn answer(err_code: i64, detail: impl Into<String>) -> Self {
        let kind = ErrorKind::of_answer_code(err_code);
        ApiError::failed(kind, ErrorClass::Cloud, err_code, detail)
    }

    /// A failed exchange with a gateway or server (a plain `Error`):
    /// `-501001 resource system error. {detail}`.
    pub fn sys_err(kind: ErrorKind, detail: &str) -> Self {
        ApiError::gateway(kind, GatewayCode::SysErr, detail)
    }

    /// A gateway error `code` (a plain `Error`):
    /// `{errCode} {description}. {detail}`.
    pub fn gateway(kind: ErrorKind, code: GatewayCode, detail: &str) -> Self {
        ApiError::failed(kind, ErrorClass::Plain, code.err_code(), code.text(detail))
    }

    /// No answer within the call's timeout (`CloudSDKError`):
    /// `-501002 resource server timeout. {detail}`.
    pub fn timeout(detail: &str) -> Self {
        let code = GatewayCode::ServerTimeout;
        ApiError::failed(
            ErrorKind::Timeout,
            ErrorClass::Cloud,
            code.err_code(),
            code.text(detail),
        )
    }

    /// A bug in the SDK (`CloudSDKError` -601001).
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::failed(
            ErrorKind::Internal,
            ErrorClass::Cloud,
            WX_SYSTEM_ERROR,
            detail,
        )
    }

    /// Whether the call may have executed (see [`ErrorKind::may_have_executed`]).
    pub fn may_have_executed(&self) -> bool {
        self.kind.may_have_executed()
    }

    /// Show `hint` after the errMsg in the message (the errMsg stays as it is).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Attach the raw answer body.
    pub fn with_body(mut self, body: &[u8]) -> Self {
        self.raw_body = Some(body.to_vec());
        self
    }

    /// The JavaScript `message` of this error, as the reference builds it,
    /// followed by ` | {hint}` when there is a hint.
    pub fn message(&self) -> String {
        let message = self.recorded_message();
        match &self.hint {
            Some(hint) => format!("{message} | {hint}"),
            None => message,
        }
    }

    /// The `message` exactly as the reference builds it.
    fn recorded_message(&self) -> String {
        match self.class {
            ErrorClass::Cloud => format!(
                "errCode: {} {} | errMsg: {}",
                self.err_code,
                description(self.err_code),
                self.err_msg
            ),
            ErrorClass::Plain => self.err_msg.clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ApiError {}

/// `{api}:ok`
pub fn ok_msg(api: &str) -> String {
    [api, ":ok"].concat()
}

/// `{api}:fail {msg}`
pub fn fail_msg(api: &str, msg: &str) -> String {
    format!("{api}:fail {msg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_message_matches_reference_layout() {
        let e = ApiError::answer(-1, "system error").for_api("openapi.x");
        assert_eq!(
            e.message(),
            "errCode: -1 unknown error | errMsg: openapi.x:fail system error"
        );
        let e = ApiError::answer(40101, "missing parameter").for_api("openapi.x");
        assert_eq!(
            e.message(),
            "errCode: 40101  | errMsg: openapi.x:fail missing parameter"
        );
    }

    #[test]
    fn the_api_prefix_is_added_once_and_never_to_a_verbatim_message() {
        let e = ApiError::invalid_param("bad").for_api("openapi.a.b");
        assert_eq!(e.err_msg, "openapi.a.b:fail bad");
        assert_eq!(e.clone().for_api("openapi.c.d"), e);
        let platform = ApiError::new(ErrorKind::Answer, ErrorClass::Cloud, -604100, "x");
        assert_eq!(platform.for_api("openapi.a.b").err_msg, "x");
        assert_eq!(
            ApiError::timeout("no answer within 5 ms")
                .for_api("a")
                .err_msg,
            "a:fail -501002 resource server timeout. no answer within 5 ms"
        );
    }

    #[test]
    fn answer_codes_decide_the_retries() {
        for (code, kind) in [
            (-1, ErrorKind::Busy),
            (-1000, ErrorKind::Busy),
            (40001, ErrorKind::TokenRejected),
            (40014, ErrorKind::TokenRejected),
            (42001, ErrorKind::TokenRejected),
            (45009, ErrorKind::Answer),
            (-604100, ErrorKind::Answer),
        ] {
            assert_eq!(ApiError::answer(code, "m").kind, kind, "{code}");
        }
        // Nothing was sent, or the server refused it: safe to send again.
        for kind in [
            ErrorKind::InvalidInput,
            ErrorKind::Config,
            ErrorKind::Connect,
        ] {
            assert!(!kind.may_have_executed(), "{kind:?}");
        }
        for kind in [
            ErrorKind::Transport,
            ErrorKind::Timeout,
            ErrorKind::Http,
            ErrorKind::BadAnswer,
        ] {
            assert!(kind.may_have_executed(), "{kind:?}");
        }
    }
}
