#![deny(clippy::all)]
//! wx-cloud-openapi: the Rust core of the `wx-cloud-openapi` npm package.
//!
//! Every module except [`binding`] is plain Rust with no knowledge of napi:
//! it can be used and tested on its own. `binding` is the one thin layer that
//! exports the core to JavaScript.

pub mod case;
pub mod cloud;
pub mod emulator;
pub mod env;
pub mod error;
pub mod https;
pub mod json_deep;
pub mod json_text;
pub mod mode;
pub mod options;
pub mod tls;
pub mod transport;

#[cfg_attr(test, allow(dead_code))]
mod binding;

/// mimalloc for the core's allocations (see Cargo.toml), in the addon and in
/// `cargo test`; not under cargo-fuzz, whose sanitizers watch the system
/// allocator.
#[cfg(not(fuzzing))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(test)]
mod test_support;
