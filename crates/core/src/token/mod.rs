//! The managed third-party mode's tokens: where they are kept
//! ([`TokenStore`]: [`MemoryStore`] in one process, `RedisStore` with the
//! `redis` feature for many) and how they are obtained and renewed
//! ([`ComponentTokens`]).

mod component;
#[cfg(feature = "redis")]
mod redis_store;
mod store;

pub use component::{
    default_store, CachedStore, ComponentHooks, ComponentTokens, Entry, Hook, HookFuture, Wire,
    MAX_EVENT_AGE, REFRESH_TOKEN_INVALID,
};
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use store::{keys, MemoryStore, StoreError, StoreFuture, TokenStore};
