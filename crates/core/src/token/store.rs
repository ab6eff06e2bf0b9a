//! Token stores: where the managed third-party mode keeps the
//! component_verify_ticket, the component_access_token, each authorizer's
//! access and refresh tokens, and the records that order authorization
//! events. A store is shared by every process that should share tokens.
//!
//! The key layout ([`keys`]) and the access-token record (JSON
//! `{"token","renewAt","usableUntil"}`, epoch milliseconds) are the Node
//! package's: a Rust process and a Node process can share one store.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a store operation returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store operation failed (the store is down, refused a write, …). The
/// text is the store's own: the token manager keeps secrets out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// A key-value store with expiry, compare-and-delete and a lock: all the
/// managed third-party mode needs from Redis (see [`MemoryStore`] for one
/// process, and the `redis` feature's `RedisStore` for a cluster of them).
///
/// Keys are given without a prefix (see [`keys`]); a store may add its own.
pub trait TokenStore: Send + Sync + 'static {
    /// What the store is, for messages: `memory`, `redis`, …
    fn kind(&self) -> String;
    /// The value of `key`, `None` when it has none (or it expired).
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>>;
    /// Set `key` to `value`, expiring after `ttl` (`None`: never).
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()>;
    /// Delete `key` only while its value is `expected`; whether it did.
    fn compare_and_delete<'a>(&'a self, key: &'a str, expected: &'a str) -> StoreFuture<'a, bool>;
    /// Take the lock `key` for `ttl`: its owner's secret, or `None` while
    /// another holds it.
    fn lock<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Option<String>>;
    /// Release a lock taken by [`TokenStore::lock`] (only while `owner` still holds it).
    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.compare_and_delete(key, owner).await.map(|_| ()) })
    }
}

/// The key layout (without a store's prefix).
pub mod keys {
    /// The newest component_verify_ticket.
    pub fn ticket(component: &str) -> String {
        format!("ticket:{component}")
    }
    /// The `CreateTime` of the ticket kept under [`ticket`] (issue 19 item 7).
    pub fn ticket_time(component: &str) -> String {
        format!("ticket_time:{component}")
    }
    /// The component_access_token record.
    pub fn component_token(component: &str) -> String {
        format!("component_token:{component}")
    }
    /// An authorizer's refresh token.
    pub fn refresh_token(component: &str, authorizer: &str) -> String {
        format!("refresh_token:{component}:{authorizer}")
    }
    /// An authorizer's access-token record.
    pub fn authorizer_token(component: &str, authorizer: &str) -> String {
        format!("authorizer_token:{component}:{authorizer}")
    }
    /// When the authorizer revoked (ISO 8601), kept 30 days for messages.
    pub fn revoked(component: &str, authorizer: &str) -> String {
        format!("revoked:{component}:{authorizer}")
    }
    /// The `CreateTime` of the newest authorization event handled for the
    /// authorizer (`authorized`, `updateauthorized` or `unauthorized`):
    /// an older event is ignored (issue 19 item 1).
    pub fn authorization_time(component: &str, authorizer: &str) -> String {
        format!("authorization_time:{component}:{authorizer}")
    }
    /// The lock taken while `key` is renewed or ordered.
    pub fn lock(key: &str) -> String {
        format!("lock:{key}")
    }
}

/// A new lock owner's secret: 96 random bits in hex.
pub(super) fn lock_owner() -> String {
    format!("{:016x}{:08x}", fastrand::u64(..), fastrand::u32(..))
}

struct Held {
    value: String,
    expires_at: Option<Instant>,
}

/// A store in this process's memory: the default, shared by the clients of
/// one process (tokens are not shared with other processes).
#[derive(Clone, Default)]
pub struct MemoryStore {
    values: Arc<Mutex<HashMap<String, Held>>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Held>) -> T) -> T {
        let mut values = crate::lock::lock(&self.values);
        let now = Instant::now();
        values.retain(|_, h| h.expires_at.is_none_or(|at| now < at));
        f(&mut values)
    }
}

impl TokenStore for MemoryStore {
    fn kind(&self) -> String {
        "memory".to_string()
    }

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>> {
        let v = self.with(|m| m.get(key).map(|h| h.value.clone()));
        Box::pin(async move { Ok(v) })
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()> {
        self.with(|m| {
            m.insert(
                key.to_string(),
                Held {
                    value: value.to_string(),
                    expires_at: ttl.map(|t| Instant::now() + t),
                },
            )
        });
        Box::pin(async { Ok(()) })
    }

    fn compare_and_delete<'a>(&'a self, key: &'a str, expected: &'a str) -> StoreFuture<'a, bool> {
        let deleted = self.with(|m| {
            if m.get(key).is_some_and(|h| h.value == expected) {
                m.remove(key);
                true
            } else {
                false
            }
        });
        Box::pin(async move { Ok(deleted) })
    }

    fn lock<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Option<String>> {
        let owner = lock_owner();
        let taken = self.with(|m| {
            if m.contains_key(key) {
                return None;
            }
            m.insert(
                key.to_string(),
                Held {
                    value: owner.clone(),
                    expires_at: Some(Instant::now() + ttl),
                },
            );
            Some(owner)
        });
        Box::pin(async move { Ok(taken) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_keeps_expires_compares_and_locks() {
        let s = MemoryStore::new();
        assert_eq!(s.get("a").await.unwrap(), None);
        s.set("a", "1", None).await.unwrap();
        assert_eq!(s.get("a").await.unwrap().as_deref(), Some("1"));
        assert!(!s.compare_and_delete("a", "2").await.unwrap());
        assert!(s.compare_and_delete("a", "1").await.unwrap());
        assert_eq!(s.get("a").await.unwrap(), None);

        s.set("t", "x", Some(Duration::from_millis(20)))
            .await
            .unwrap();
        assert!(s.get("t").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(s.get("t").await.unwrap(), None, "expired");

        let owner = s.lock("l", Duration::from_secs(5)).await.unwrap().unwrap();
        assert_eq!(s.lock("l", Duration::from_secs(5)).await.unwrap(), None);
        s.unlock("l", "someone else").await.unwrap();
        assert_eq!(s.lock("l", Duration::from_secs(5)).await.unwrap(), None);
        s.unlock("l", &owner).await.unwrap();
        assert!(s.lock("l", Duration::from_secs(5)).await.unwrap().is_some());
    }
}
