//! One call, whatever its mode: what the caller asked for ([`input`]) and
//! how a WeChat answer is read ([`answer`]). Below the modes (`crate::cloud`,
//! `crate::https`, `crate::token`), which all speak it.

pub mod answer;
pub mod input;
