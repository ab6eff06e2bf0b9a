//! [`RedisStore`]: the token store in Redis, through the `redis` crate: one
//! server ([`RedisStore::connect`]) or a cluster ([`RedisStore::cluster`]).
//! Every operation touches one key, so a cluster needs no hash tags.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;

use super::command_store::{CommandStore, RedisCommands};
use super::store::{StoreError, StoreFuture};

/// A token store in Redis: a [`CommandStore`] whose commands a connection
/// of the `redis` crate sends. Tokens are shared by every process (Rust or
/// Node) using the same Redis and prefix (`wxcloud:` by default, as the
/// Node package's `redisStore`, the same store over the application's
/// client; [`CommandStore::with_prefix`] for another). An environment created through the
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
pub type RedisStore<C = ConnectionManager> = CommandStore<RedisConnection<C>>;

/// A connection of the `redis` crate (a `ConnectionManager`, a cluster
/// connection, …) sending a [`RedisStore`]'s commands.
#[derive(Clone)]
pub struct RedisConnection<C>(C);

fn failed(e: redis::RedisError) -> StoreError {
    // The crate's message names the command and the server's answer, never
    // the values sent.
    StoreError(e.to_string())
}

impl<C> RedisCommands for RedisConnection<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    fn command<'a>(&'a self, _key: &'a str, words: Vec<String>) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            let mut conn = self.0.clone();
            let mut cmd = redis::Cmd::new();
            for word in &words {
                cmd.arg(word);
            }
            cmd.query_async(&mut conn).await.map_err(failed)
        })
    }
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
    /// cluster connection, …), its keys under `wxcloud:`.
    pub fn new(conn: C) -> Self {
        CommandStore::through(RedisConnection(conn), "wxcloud:", "redis")
    }
}
