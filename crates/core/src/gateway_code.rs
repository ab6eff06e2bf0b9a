//! The cloud-base gateway's error codes: the `code` of its
//! `{code, message, requestId}` answers, and the errCode (-5010xx) each
//! becomes. One table, read by the answer decoder and written by the
//! emulator.

use crate::error::description;

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
