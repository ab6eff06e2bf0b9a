//! The managed third-party mode's tokens: where they are kept
//! ([`TokenStore`]: [`MemoryStore`] in one process, `RedisStore` with the
//! `redis` feature for many, [`CommandStore`] through another's Redis client) and how they are obtained and renewed
//! ([`ComponentTokens`]); and the application's own token function
//! ([`TokenFunction`], asked by [`crate::Client`] for each call).

mod command_store;
mod component;
#[cfg(feature = "redis")]
mod redis_store;
mod store;

pub use command_store::{CommandStore, RedisCommands};
pub use component::{
    default_store, CachedStore, ComponentHooks, ComponentTokens, Entry, Hook, HookFuture, Wire,
    MAX_EVENT_AGE, REFRESH_TOKEN_INVALID,
};
#[cfg(feature = "redis")]
pub use redis_store::{RedisConnection, RedisStore};
pub use store::{keys, MemoryStore, StoreError, StoreFuture, TokenStore};

/// What a token function gave: a token, or something else (described as
/// the error names it: `a number`, `null`, …).
pub enum TokenReply {
    /// A string (a call needs a non-empty one).
    Token(String),
    /// Not a token: what it was instead.
    NotAToken(String),
}

/// The application's token function (the Node package's `accessToken` or
/// `authorizerAccessToken` given as a function), asked `(appid,
/// force_refresh)`: the account the call acts for, and true when WeChat has
/// just rejected the token it gave last.
pub type TokenFunction = Hook<(Option<String>, bool), TokenReply>;
