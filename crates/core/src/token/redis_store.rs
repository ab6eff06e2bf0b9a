//! [`RedisStore`]: the token store in Redis, through the `redis` crate: one
//! server ([`RedisStore::connect`]) or a cluster ([`RedisStore::cluster`]).
//! Every operation touches one key, so a cluster needs no hash tags.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;

use super::command_store::{millis, CAD_SCRIPT};
use super::store::{lock_owner, StoreError, StoreFuture, TokenStore};

/// A token store in Redis. Tokens are shared by every process (Rust or
/// Node) using the same Redis and prefix (`wxcloud:` by default, as the
/// Node package's `redisStore`). An environment created through the
/// managed third-party mode, its tokens in Redis (against the emulator and
/// a redis-server started here):
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let bin = std::env::var("WX_CLOUD_OPENAPI_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
/// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
/// # let mut server = std::process::Command::new(bin)
/// #     .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
/// #     .stdout(std::process::Stdio::null())
/// #     .spawn()?;
/// # let redis_url = format!("redis://127.0.0.1:{port}/");
/// # while redis::Client::open(redis_url.as_str())?.get_connection().is_err() {
/// #     std::thread::sleep(std::time::Duration::from_millis(20));
/// # }
/// use serde_json::json;
/// use wx_cloud_core::token::{keys, RedisStore, TokenStore};
/// use wx_cloud_core::Client;
///
/// let emulator = wx_cloud_emulator::Emulator::start(Default::default()).await?;
/// let store = RedisStore::connect(&redis_url).await?;
/// // The platform's event handler stores the ticket WeChat pushes: by hand here.
/// store.set(&keys::ticket("wx0emulatorcomp001"), "a-pushed-ticket", None).await?;
/// let client = Client::from_options(json!({
///     "componentAppid": "wx0emulatorcomp001",
///     "componentAppsecret": "emulator-component-secret",
///     "authorizerAppid": "wx0emulatorauth001",
///     "authorizerRefreshToken": "emulator-refresh-token",
///     "apiBaseUrl": emulator.https_base_url(),
/// }))?
/// .with_token_store(store.clone());
/// let made = client
///     .call("tcb.createenvandresource", json!({ "type": "CreatePostpayPackage", "alias": "shop" }))
///     .await?;
/// assert_eq!(made.json().unwrap()["errCode"], 0);
/// // The tokens are in Redis for every other process of the platform.
/// let key = keys::authorizer_token("wx0emulatorcomp001", "wx0emulatorauth001");
/// assert!(store.get(&key).await?.is_some());
/// emulator.close().await;
/// # server.kill()?;
/// # server.wait()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore<C = ConnectionManager> {
    conn: C,
    prefix: String,
}

impl<C> std::fmt::Debug for RedisStore<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn failed(e: redis::RedisError) -> StoreError {
    // The crate's message names the command and the server's answer, never
    // the values sent.
    StoreError(e.to_string())
}

impl RedisStore<ConnectionManager> {
    /// Connect to one server (`redis://host:port/db`); the connection is
    /// re-established on its own after a failure.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(failed)?;
        let conn = ConnectionManager::new(client).await.map_err(failed)?;
        Ok(RedisStore::new(conn))
    }
}

impl RedisStore<ClusterConnection> {
    /// Connect to a Redis Cluster through any of its nodes.
    pub async fn cluster(nodes: &[&str]) -> Result<Self, StoreError> {
        let client = redis::cluster::ClusterClient::new(nodes.to_vec()).map_err(failed)?;
        let conn = client.get_async_connection().await.map_err(failed)?;
        Ok(RedisStore::new(conn))
    }
}

impl<C> RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// A store over a connection of your own (a `ConnectionManager`, a
    /// cluster connection, …).
    pub fn new(conn: C) -> Self {
        RedisStore {
            conn,
            prefix: "wxcloud:".to_string(),
        }
    }

    /// The same store with its keys under `prefix` instead of `wxcloud:`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn cad(&self, key: &str, expected: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let n: i64 = redis::Script::new(CAD_SCRIPT)
            .key(key)
            .arg(expected)
            .invoke_async(&mut conn)
            .await
            .map_err(failed)?;
        Ok(n == 1)
    }
}

impl<C> TokenStore for RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    fn kind(&self) -> String {
        "redis".to_string()
    }

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("GET")
                .arg(self.key(key))
                .query_async(&mut conn)
                .await
                .map_err(failed)
        })
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let mut cmd = redis::cmd("SET");
            cmd.arg(self.key(key)).arg(value);
            if let Some(ttl) = ttl {
                cmd.arg("PX").arg(millis(ttl));
            }
            cmd.query_async::<()>(&mut conn).await.map_err(failed)
        })
    }

    fn compare_and_delete<'a>(&'a self, key: &'a str, expected: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move { self.cad(&self.key(key), expected).await })
    }

    fn lock<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            let owner = lock_owner();
            let mut conn = self.conn.clone();
            let taken: Option<String> = redis::cmd("SET")
                .arg(self.key(key))
                .arg(&owner)
                .arg("PX")
                .arg(millis(ttl))
                .arg("NX")
                .query_async(&mut conn)
                .await
                .map_err(failed)?;
            Ok(taken.map(|_| owner))
        })
    }
}
