//! [`CommandStore`]: the token store in Redis, through whatever sends its
//! commands: the `redis` crate (`RedisStore`, feature `redis`) or a client
//! that is not ours (the Node package's `redisStore(client)`: the
//! application's ioredis or node-redis). Both send the same commands and
//! share the keys, the records and the locks.

use std::time::Duration;

use super::store::{lock_owner, StoreError, StoreFuture, TokenStore};

/// Compare-and-delete in one step on the server.
const CAD_SCRIPT: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// A time to live in Redis's milliseconds (at least 1).
fn millis(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(1)
}

/// Sends Redis commands through the application's client.
pub trait RedisCommands: Send + Sync + 'static {
    /// Send one command (its words, `GET key`, …) touching `key` alone (a
    /// cluster client routes by it): its reply as text, `None` for nil.
    fn command<'a>(&'a self, key: &'a str, words: Vec<String>) -> StoreFuture<'a, Option<String>>;
}

/// A token store in Redis, its commands sent by [`RedisCommands`], its keys
/// under a prefix.
#[derive(Clone)]
pub struct CommandStore<C> {
    commands: C,
    prefix: String,
    kind: String,
}

impl<C> std::fmt::Debug for CommandStore<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandStore")
            .field("kind", &self.kind)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl<C: RedisCommands> CommandStore<C> {
    /// A store sending its commands through `commands`, its keys under
    /// `prefix`; `kind` names it in messages (`redis`, `redis (ioredis)`, …).
    pub fn through(commands: C, prefix: impl Into<String>, kind: impl Into<String>) -> Self {
        CommandStore {
            commands,
            prefix: prefix.into(),
            kind: kind.into(),
        }
    }

    /// The same store with its keys under `prefix`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Send `words` (`{key}` standing for the prefixed key) for `key`.
    async fn send(&self, key: &str, words: &[&str]) -> Result<Option<String>, StoreError> {
        let key = format!("{}{key}", self.prefix);
        let words = words
            .iter()
            .map(|w| {
                if *w == "{key}" {
                    key.clone()
                } else {
                    w.to_string()
                }
            })
            .collect();
        self.commands.command(&key, words).await
    }
}

impl<C: RedisCommands> TokenStore for CommandStore<C> {
    fn kind(&self) -> String {
        self.kind.clone()
    }

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(self.send(key, &["GET", "{key}"]))
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let ms = ttl.map(|t| millis(t).to_string());
            let words = match &ms {
                Some(ms) => vec!["SET", "{key}", value, "PX", ms],
                None => vec!["SET", "{key}", value],
            };
            self.send(key, &words).await.map(|_| ())
        })
    }

    fn compare_and_delete<'a>(&'a self, key: &'a str, expected: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let deleted = self
                .send(key, &["EVAL", CAD_SCRIPT, "1", "{key}", expected])
                .await?;
            Ok(deleted.as_deref() == Some("1"))
        })
    }

    fn lock<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            let (owner, ms) = (lock_owner(), millis(ttl).to_string());
            let taken = self
                .send(key, &["SET", "{key}", &owner, "PX", &ms, "NX"])
                .await?;
            Ok(taken.map(|_| owner))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records each command and answers the next scripted reply.
    struct Recorder {
        sent: Mutex<Vec<(String, Vec<String>)>>,
        replies: Mutex<Vec<Option<String>>>,
    }

    impl RedisCommands for Recorder {
        fn command<'a>(
            &'a self,
            key: &'a str,
            words: Vec<String>,
        ) -> StoreFuture<'a, Option<String>> {
            self.sent.lock().unwrap().push((key.to_string(), words));
            let reply = self.replies.lock().unwrap().remove(0);
            Box::pin(async move { Ok(reply) })
        }
    }

    #[tokio::test]
    async fn sends_the_commands_of_the_redis_store() {
        let some = |s: &str| Some(s.to_string());
        let replies = vec![
            some("v"),
            some("OK"),
            some("OK"),
            some("1"),
            some("OK"),
            None,
            some("0"),
        ];
        let store = CommandStore::through(
            Recorder {
                sent: Mutex::new(Vec::new()),
                replies: Mutex::new(replies),
            },
            "p:",
            "redis (test)",
        );
        assert_eq!(store.kind(), "redis (test)");
        assert_eq!(store.get("k").await.unwrap(), some("v"));
        store.set("k", "v", None).await.unwrap();
        store
            .set("k", "v", Some(Duration::from_micros(1500)))
            .await
            .unwrap();
        assert!(store.compare_and_delete("k", "v").await.unwrap());
        let owner = store
            .lock("l", Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.lock("l", Duration::from_secs(5)).await.unwrap(), None);
        store.unlock("l", &owner).await.unwrap();
        let sent = store.commands.sent.into_inner().unwrap();
        let words: Vec<String> = sent.iter().map(|(_, w)| w.join(" ")).collect();
        assert!(sent.iter().all(|(k, _)| k == "p:k" || k == "p:l"));
        assert_eq!(words[..3], ["GET p:k", "SET p:k v", "SET p:k v PX 1"]);
        assert_eq!(words[3], format!("EVAL {CAD_SCRIPT} 1 p:k v"));
        assert_eq!(words[4], format!("SET p:l {owner} PX 5000 NX"));
        assert_eq!(words[6], format!("EVAL {CAD_SCRIPT} 1 p:l {owner}"));
    }
}
