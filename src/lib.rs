#![deny(clippy::all)]
//! wx-cloud-openapi: the napi addon of the `wx-cloud-openapi` npm package.
//!
//! The work is done by two plain-Rust crates with no knowledge of napi:
//! `wx-cloud-core` (configuration, environment, the three calling modes,
//! tokens, transport) and `wx-cloud-emulator`. This crate holds only what
//! JavaScript needs: the allocator, the runtime, the promise plumbing and
//! the bindings ([`binding`]).

// The core's binding API, its wire formats and token engine, and the
// emulator, as `crate::bindings::…`, `crate::wire::…`, `crate::emulator::…`.
use wx_cloud_core::{bindings, token, wire};
#[cfg(feature = "emulator")]
use wx_cloud_emulator as emulator;

// Under `cargo test` napi-derive leaves out the registration that makes the
// exported functions used.
#[cfg_attr(test, allow(dead_code))]
mod binding;

/// mimalloc for the addon's allocations (see Cargo.toml); set here, in the
/// addon, and not in the libraries, which leave the choice to their users.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
