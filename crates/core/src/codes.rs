//! The errCodes: the reference's descriptions of its codes (its `ERR_CODE`
//! table), the SDK's own codes, and the cloud-base gateway's codes (the
//! `code` of its `{code, message, requestId}` answers) with the errCode
//! (-5010xx) each becomes: one table, read by the answer decoder and
//! written by the emulator.

/// errCode of an answer the SDK could not understand (the reference's `WX_SYSTEM_ERROR`).
pub const WX_SYSTEM_ERROR: i64 = -601001;
/// errCode for an invalid argument given by the caller (the reference's `INVALID_PARAM`).
pub const INVALID_PARAM: i64 = -501007;
/// errCode for missing credentials or configuration (`INVALID_COMMON_PARAM`).
pub const INVALID_COMMON_PARAM: i64 = -501006;

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

/// A gateway error code (`cloud-call-wire.md`, section 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayCode {
    /// `SYS_ERR` (-501001): a transport or gateway-level failure; also what
    /// an unknown code reads as.
    SysErr,
    /// `SERVER_TIMEOUT` (-501002): no answer within the timeout.
    ServerTimeout,
    /// `EXCEED_REQUEST_LIMIT` (-501003).
    ExceedRequestLimit,
    /// `EXCEED_CONCURRENT_REQUEST_LIMIT` (-501004).
    ExceedConcurrentRequestLimit,
    /// `INVALIID_ENV` (-501005; the gateway's spelling).
    InvalidEnv,
    /// `INVALID_COMMON_PARAM` (-501006).
    InvalidCommonParam,
    /// `INVALID_PARAM` (-501007).
    InvalidParam,
    /// `INVALID_REQUEST_SOURCE` (-501008).
    InvalidRequestSource,
    /// `RESOURCE_NOT_INITIAL` (-501009).
    ResourceNotInitial,
}

impl GatewayCode {
    /// Every code, in errCode order.
    pub const ALL: [GatewayCode; 9] = [
        GatewayCode::SysErr,
        GatewayCode::ServerTimeout,
        GatewayCode::ExceedRequestLimit,
        GatewayCode::ExceedConcurrentRequestLimit,
        GatewayCode::InvalidEnv,
        GatewayCode::InvalidCommonParam,
        GatewayCode::InvalidParam,
        GatewayCode::InvalidRequestSource,
        GatewayCode::ResourceNotInitial,
    ];

    /// The code as the gateway writes it.
    pub fn name(self) -> &'static str {
        match self {
            GatewayCode::SysErr => "SYS_ERR",
            GatewayCode::ServerTimeout => "SERVER_TIMEOUT",
            GatewayCode::ExceedRequestLimit => "EXCEED_REQUEST_LIMIT",
            GatewayCode::ExceedConcurrentRequestLimit => "EXCEED_CONCURRENT_REQUEST_LIMIT",
            GatewayCode::InvalidEnv => "INVALIID_ENV",
            GatewayCode::InvalidCommonParam => "INVALID_COMMON_PARAM",
            GatewayCode::InvalidParam => "INVALID_PARAM",
            GatewayCode::InvalidRequestSource => "INVALID_REQUEST_SOURCE",
            GatewayCode::ResourceNotInitial => "RESOURCE_NOT_INITIAL",
        }
    }

    /// The errCode the SDK reports for it.
    pub fn err_code(self) -> i64 {
        match self {
            GatewayCode::SysErr => -501001,
            GatewayCode::ServerTimeout => -501002,
            GatewayCode::ExceedRequestLimit => -501003,
            GatewayCode::ExceedConcurrentRequestLimit => -501004,
            GatewayCode::InvalidEnv => -501005,
            GatewayCode::InvalidCommonParam => -501006,
            GatewayCode::InvalidParam => -501007,
            GatewayCode::InvalidRequestSource => -501008,
            GatewayCode::ResourceNotInitial => -501009,
        }
    }

    /// A code the gateway wrote; an unknown one reads as [`GatewayCode::SysErr`]
    /// (as the reference reads it).
    pub fn from_name(name: &str) -> GatewayCode {
        GatewayCode::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .unwrap_or(GatewayCode::SysErr)
    }

    /// The reference's description of its errCode, e.g. `resource system error`.
    pub fn description(self) -> &'static str {
        description(self.err_code())
    }

    /// The text after `{api}:fail ` of a failure with this code:
    /// `{errCode} {description}. {detail}`.
    pub fn text(self, detail: &str) -> String {
        format!("{} {}. {detail}", self.err_code(), self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_sys_err() {
        for code in GatewayCode::ALL {
            assert_eq!(GatewayCode::from_name(code.name()), code);
            assert!(!code.description().is_empty());
        }
        assert_eq!(GatewayCode::from_name("SOMETHING_NEW"), GatewayCode::SysErr);
        assert_eq!(
            GatewayCode::SysErr.text("x"),
            "-501001 resource system error. x"
        );
        assert_eq!(
            GatewayCode::ServerTimeout.text("y"),
            "-501002 resource server timeout. y"
        );
    }
}
