//! What a language binding assembles around [`crate::Client`] (the napi
//! addon of the npm package is one): the validated options, the
//! environment a call reads, the call's input and report, the error
//! classes, and the tables a binding shares with its own language (error
//! codes, option and variable names, the debug setting, redaction).
//!
//! Calls themselves go through [`crate::Client::send`]; nothing here makes
//! a request.

pub use crate::call::input::{CallInput, Media};
pub use crate::codes::{description, INVALID_COMMON_PARAM, INVALID_PARAM};
pub use crate::env::{Context, ProcessEnv, CONTEXT_VARS, OTHER_VARS};
pub use crate::error::{ok_msg, ApiError, ErrorClass};
pub use crate::https::base_url;
pub use crate::json_text::js_trim;
pub use crate::mode::{explain, token_function, Report};
pub use crate::options::{js_json, Config, DEFAULT_TIMEOUT, MAX_TIMEOUT_MS};
pub use crate::redact::redact;
pub use crate::settings::debug;
