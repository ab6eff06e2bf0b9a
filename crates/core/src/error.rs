//! One error type for every failure the SDK reports.
//!
//! An [`ApiError`] carries what the reference SDK exposes on its rejected
//! promises (`errCode`, `errMsg`) plus which JavaScript class it becomes
//! (`CloudSDKError` for WeChat and platform errors, a plain `Error` for
//! gateway and HTTP failures) and, when there was one, the raw answer body.

use std::fmt;

/// Which JavaScript class the error becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// `CloudSDKError`: `message` is `errCode: {code} {description} | errMsg: {errMsg}`.
    Cloud,
    /// A plain `Error` whose `message` equals `errMsg`.
    Plain,
}

/// A failed call, as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub err_code: i64,
    pub err_msg: String,
    pub class: ErrorClass,
    /// The raw answer body, when the failure came with one (kept for debugging;
    /// never contains request secrets).
    pub raw_body: Option<Vec<u8>>,
}

/// errCode of an answer the SDK could not understand (the reference's `WX_SYSTEM_ERROR`).
pub const WX_SYSTEM_ERROR: i64 = -601001;
/// errCode for an invalid argument given by the caller (the reference's `INVALID_PARAM`).
pub const INVALID_PARAM: i64 = -501007;
/// errCode of a transport or gateway-level failure (`SYS_ERR`).
pub const TCB_SYS_ERR: i64 = -501001;
/// errCode of a call that did not finish within its timeout (`SERVER_TIMEOUT`).
pub const TCB_SERVER_TIMEOUT: i64 = -501002;
/// errCode for missing credentials or configuration (`INVALID_COMMON_PARAM`).
pub const INVALID_COMMON_PARAM: i64 = -501006;

impl ApiError {
    /// A `CloudSDKError`.
    pub fn cloud(err_code: i64, err_msg: impl Into<String>) -> Self {
        ApiError {
            err_code,
            err_msg: err_msg.into(),
            class: ErrorClass::Cloud,
            raw_body: None,
        }
    }

    /// A plain `Error` whose message is its errMsg.
    pub fn plain(err_code: i64, err_msg: impl Into<String>) -> Self {
        ApiError {
            err_code,
            err_msg: err_msg.into(),
            class: ErrorClass::Plain,
            raw_body: None,
        }
    }

    /// Attach the raw answer body.
    pub fn with_body(mut self, body: &[u8]) -> Self {
        self.raw_body = Some(body.to_vec());
        self
    }

    /// The JavaScript `message` of this error, exactly as the reference builds it.
    pub fn message(&self) -> String {
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
    format!("{api}:ok")
}

/// `{api}:fail {msg}`
pub fn fail_msg(api: &str, msg: &str) -> String {
    format!("{api}:fail {msg}")
}

/// The reference's description of an errCode (its `ERR_CODE` table), or `""`.
///
/// Only these codes have a description; WeChat's own codes (40014, -1000, …)
/// do not, which is why their `message` shows two spaces.
pub fn description(code: i64) -> &'static str {
    match code {
        -1 => "unknown error",
        -404001 => "empty call result",
        -404002 => "empty event id",
        -404003 => "empty poll url",
        -404004 => "empty poll result json",
        -404005 => "exceed max poll retry",
        -404006 => "empty poll result base resp",
        -601001 => "system error",
        -601002 => "system args error",
        -601003 => "system network error",
        -601004 => "api permission denied",
        -601005 => "invalid cloudID",
        -601006 => "cloudID expired",
        -601007 => "cloudID and calling user does not match",
        -601008 => "server-side request timedout",
        -601009 => "missing mobile phone",
        -601010 => "no write permission",
        -601011 => "no privilege permission",
        -601012 => "unauthorized env",
        -601013 => "no multiend permission",
        -601015 => "access denied (cloudfunction cloudbase_auth returns empty errCode)",
        -601016 => "missing env auth info",
        -601017 => "access denied (cloudbase_auth returns non-zero errCode)",
        -602018 => "unauthorized API",
        -602001 => "database query result size exceed limit (1MB)",
        -604001 => "cloudfunction result size exceed limit (1MB)",
        -604100 => "API not found",
        -604101 => "function has no permission to call this API",
        -604102 => "call open API timeout",
        -604103 => "call open API system error",
        -604104 => "illegal source of invocation",
        -501001 => "resource system error",
        -501002 => "resource server timeout",
        -501003 => "exceed request limit",
        -501004 => "exceed concurrent request limit",
        -501005 => "invalid env",
        -501006 => "invalid common parameters",
        -501007 => "invalid parameters",
        -501008 => "invalid request source",
        -501009 => "resource not initialized",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_message_matches_reference_layout() {
        let e = ApiError::cloud(-1, "openapi.x:fail system error");
        assert_eq!(
            e.message(),
            "errCode: -1 unknown error | errMsg: openapi.x:fail system error"
        );
        let e = ApiError::cloud(40101, "openapi.x:fail missing parameter");
        assert_eq!(
            e.message(),
            "errCode: 40101  | errMsg: openapi.x:fail missing parameter"
        );
    }
}
