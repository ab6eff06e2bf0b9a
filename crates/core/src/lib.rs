#![deny(clippy::all)]
#![warn(missing_docs)]
//! WeChat cloud openapi calls from Rust: the core of `wx-cloud-openapi`.
//!
//! The same three calling modes as the npm package, one call surface and one
//! result shape:
//! - **cloud call**: no token; credentials and context come from the
//!   environment of a cloud function (`TENCENTCLOUD_SECRETID`, …,
//!   `TCB_CONTEXT_CNFG`), and the request goes signed to the cloud-base
//!   gateway;
//! - **HTTPS** with an `access_token` (given, or obtained from `appid` +
//!   `secret`);
//! - **third-party** with an `authorizer_access_token`.
//!
//! A [`Client`] takes the options of the package's `cloud.init()` (as JSON,
//! camelCase) or reads everything from the process environment, and
//! [`Client::call`] makes one call ([`Client::call_with_media`] with files;
//! [`Client::for_appid`] for another account, as `openapi({ appid })`). The example runs against the local
//! emulator (the `wx-cloud-emulator` crate):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use wx_cloud_core::Client;
//!
//! let emulator = wx_cloud_emulator::Emulator::start(Default::default()).await?;
//! // A cloud function's environment, pointed at the emulator.
//! let client = Client::with_env(json!({}), emulator.cloud_env())?;
//! let result = client
//!     .call("tcb.createenvandresource", json!({ "type": "CreatePostpayPackage", "alias": "docs" }))
//!     .await?;
//! assert_eq!(result.json().unwrap()["errMsg"], "openapi.tcb.createenvandresource:ok");
//! emulator.close().await;
//! # Ok(()) }
//! ```
//!
//! Besides the client and its [`token`] stores, two modules serve the other
//! crates of this workspace: [`wire`] (the wire formats, which the emulator
//! speaks from the other end and the fuzz targets feed) and [`bindings`]
//! (what a language binding such as the napi addon builds around
//! [`Client::send`]). Everything else is private.

mod client;

pub use client::{Answer, Client, Error, MediaFile, Request, Sent};
pub use error::ErrorKind;

mod call;
mod case;
mod cloud;
mod codes;
mod connector;
mod env;
mod error;
mod http;
mod https;
mod json_deep;
mod json_text;
mod lock;
mod lone_surrogates;
mod mode;
mod options;
mod platform;
mod redact;
mod settings;
mod tls;
pub mod token;
mod utc;

pub mod bindings;
pub mod wire;

#[cfg(test)]
mod test_support;

// Unit tests that talk to a real emulator (over loopback only: no type of
// this crate crosses into the emulator's copy of it).
#[cfg(test)]
use wx_cloud_emulator as emulator;
