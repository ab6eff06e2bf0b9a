//! The managed third-party mode of the Rust `Client` against the emulator,
//! its tokens in a real redis-server on loopback (started and stopped here;
//! `WX_CLOUD_OPENAPI_REDIS_SERVER` names the binary, else `redis-server` on
//! the PATH: `npm test` finds or installs one, see scripts/need-redis.js).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use wx_cloud_core::token::{keys, MemoryStore, RedisStore, TokenStore};
use wx_cloud_core::Client;
use wx_cloud_emulator::{Emulator, EmulatorOptions, FaultSpec};

const COMPONENT: &str = "wx0emulatorcomp001";
const AUTHORIZER: &str = "wx0emulatorauth001";
const REFRESH: &str = "emulator-refresh-token";

/// A redis-server of our own on a free loopback port, no persistence.
struct Redis {
    child: Child,
    url: String,
}

impl Redis {
    fn start() -> Redis {
        Redis::start_with(&[], None)
    }

    /// With more arguments, started in `dir`.
    fn start_with(extra: &[&str], dir: Option<&std::path::Path>) -> Redis {
        let bin = std::env::var("WX_CLOUD_OPENAPI_REDIS_SERVER")
            .unwrap_or_else(|_| "redis-server".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(&bin);
        command
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(extra)
            .stdout(Stdio::null());
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "these tests need a Redis server: {bin}: {e} (install Debian's redis-server, \
                     or set WX_CLOUD_OPENAPI_REDIS_SERVER; npm test installs one)"
            )
        });
        // Dropped (killed and waited for) on every path from here.
        let redis = Redis {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        // Ready when it answers PING.
        for _ in 0..200 {
            if let Ok(mut c) =
                redis::Client::open(redis.url.as_str()).and_then(|c| c.get_connection())
            {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return redis;
                }
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not answer on {}", redis.url);
    }

    fn command(&self, args: &[&str]) -> Value {
        let mut c = redis::Client::open(self.url.as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        match cmd.query::<redis::Value>(&mut c).unwrap() {
            redis::Value::BulkString(b) => Value::String(String::from_utf8(b).unwrap()),
            redis::Value::Nil => Value::Null,
            other => Value::String(format!("{other:?}")),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn emulator(opts: EmulatorOptions) -> Emulator {
    Emulator::start(opts).await.unwrap()
}

fn options(emu: &Emulator) -> Value {
    json!({
        "componentAppid": COMPONENT,
        "componentAppsecret": "emulator-component-secret",
        "authorizerAppid": AUTHORIZER,
        "apiBaseUrl": emu.https_base_url(),
        "timeout": 5000,
    })
}

fn issued(emu: &Emulator, kind: &str) -> u64 {
    emu.stats()["tokensIssued"][kind].as_u64().unwrap_or(0)
}

async fn create(client: &Client, alias: &str) -> Result<String, wx_cloud_core::Error> {
    let made = client
        .call(
            "tcb.createenvandresource",
            json!({ "type": "CreatePostpayPackage", "alias": alias }),
        )
        .await?;
    Ok(made.json().unwrap()["envid"].as_str().unwrap().to_string())
}

/// `store`'s record of `key` made due for renewal a second ago and usable
/// for a minute (the same token), and the time it was made at (epoch ms).
async fn due_for_renewal(store: &MemoryStore, key: &str) -> (String, i64) {
    let record: Value = serde_json::from_str(&store.get(key).await.unwrap().unwrap()).unwrap();
    let now = wx_cloud_core::token::Entry::new("x", Duration::from_secs(1)).renew_at;
    let due =
        json!({ "token": record["token"], "renewAt": now - 1000, "usableUntil": now + 60_000 });
    (due.to_string(), now)
}

/// The store a platform's event handler fills: the ticket and a refresh token.
async fn seed(store: &dyn TokenStore) {
    store
        .set(&keys::ticket(COMPONENT), "ticket-from-wechat", None)
        .await
        .unwrap();
    store
        .set(&keys::refresh_token(COMPONENT, AUTHORIZER), REFRESH, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn two_processes_sharing_redis_ask_wechat_once_for_each_token() {
    let redis = Redis::start();
    let emu = emulator(EmulatorOptions::default()).await;
    seed(&RedisStore::connect(&redis.url).await.unwrap()).await;
    // Two clients, each with its own connection and its own process-local
    // cache, as two processes of a platform would have.
    let a = Client::from_options(options(&emu))
        .unwrap()
        .with_token_store(RedisStore::connect(&redis.url).await.unwrap());
    let b = Client::from_options(options(&emu))
        .unwrap()
        .with_token_store(RedisStore::connect(&redis.url).await.unwrap());
    let (x, y) = tokio::join!(create(&a, "a1"), create(&b, "b1"));
    x.unwrap();
    y.unwrap();
    create(&a, "a2").await.unwrap();
    create(&b, "b2").await.unwrap();
    // One of each however the two raced: the other waited on the store's lock.
    assert_eq!(issued(&emu, "component"), 1);
    assert_eq!(issued(&emu, "authorizer"), 1);
    let record = redis.command(&[
        "GET",
        &format!("wxcloud:{}", keys::authorizer_token(COMPONENT, AUTHORIZER)),
    ]);
    assert!(record.as_str().unwrap().contains("usableUntil"), "{record}");
    assert_eq!(emu.environments().len(), 4);
    assert!(emu.environments().iter().all(|e| e.account == AUTHORIZER));
    emu.close().await;
}

#[tokio::test]
async fn a_rotated_refresh_token_is_in_the_store_before_the_call() {
    let redis = Redis::start();
    let emu = emulator(EmulatorOptions {
        rotate_refresh_tokens: true,
        ..Default::default()
    })
    .await;
    let store = RedisStore::connect(&redis.url).await.unwrap();
    seed(&store).await;
    let client = Client::from_options(options(&emu))
        .unwrap()
        .with_token_store(store.clone());
    create(&client, "r1").await.unwrap();
    let stored = store
        .get(&keys::refresh_token(COMPONENT, AUTHORIZER))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored, REFRESH, "rotated");
    assert!(stored.starts_with("refreshtoken@@@"), "{stored}");
    emu.close().await;
}

#[tokio::test]
async fn a_store_that_forgets_gets_the_last_working_refresh_token_back() {
    // Issue 19 item 4: Redis restarted without persistence (here FLUSHALL)
    // while this process held the refresh token it used a moment earlier.
    let redis = Redis::start();
    // Tokens that need renewal on every call: 4 s, renewed a quarter before expiry.
    let emu = emulator(EmulatorOptions {
        token_lifetime_secs: 1,
        rotate_refresh_tokens: true,
        ..Default::default()
    })
    .await;
    let store = RedisStore::connect(&redis.url).await.unwrap();
    seed(&store).await;
    let client = Client::from_options(options(&emu))
        .unwrap()
        .with_token_store(store.clone());
    create(&client, "f1").await.unwrap();
    let rotated = store
        .get(&keys::refresh_token(COMPONENT, AUTHORIZER))
        .await
        .unwrap()
        .unwrap();
    redis.command(&["FLUSHALL"]);
    // The ticket is WeChat's to push again; the refresh token only we had.
    store
        .set(&keys::ticket(COMPONENT), "ticket-pushed-again", None)
        .await
        .unwrap();
    // The 1 s token is due for renewal (renewAt is 750 ms after issue).
    tokio::time::sleep(Duration::from_millis(900)).await;
    create(&client, "f2")
        .await
        .expect("the renewal used the refresh token this process kept");
    assert_eq!(issued(&emu, "authorizer"), 2);
    let back = store
        .get(&keys::refresh_token(COMPONENT, AUTHORIZER))
        .await
        .unwrap()
        .unwrap();
    assert!(
        back.starts_with("refreshtoken@@@") && back != rotated,
        "written back, rotated again: {back}"
    );
    emu.close().await;
}

#[tokio::test]
async fn a_failed_renewal_does_not_fail_calls_while_the_token_is_usable() {
    // Issue 19 item 5: the renewal ahead of expiry fails (WeChat answers
    // -1); the token in the store is still usable, so the calls go on with
    // it, and the renewal is not retried on every call.
    let emu = emulator(EmulatorOptions::default()).await;
    let first = MemoryStore::new();
    seed(&first).await;
    let client = Client::from_options(options(&emu))
        .unwrap()
        .with_token_store(first.clone());
    create(&client, "k1").await.unwrap();
    // The same token, due for renewal a moment ago and usable for a minute,
    // in the store of a process that has not cached it yet.
    let key = keys::authorizer_token(COMPONENT, AUTHORIZER);
    let (due, _) = due_for_renewal(&first, &key).await;
    let store = MemoryStore::new();
    seed(&store).await;
    store.set(&key, &due, None).await.unwrap();
    let renewing = Client::from_options(options(&emu))
        .unwrap()
        .with_token_store(store);
    emu.inject_fault(
        FaultSpec::from_json(json!({ "api": "cgi-bin.component.api_authorizer_token", "kind": "errcode", "errcode": -1 }))
            .unwrap(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    for i in 0..5 {
        create(&renewing, &format!("k{i}"))
            .await
            .expect("the usable token serves the call");
    }
    let attempts = emu.stats()["faultsFired"].as_u64().unwrap();
    // A failed renewal waits at least a second before the next one: in
    // this much time no more attempts than that can have been made.
    let most = 1 + started.elapsed().as_secs();
    assert!(
        attempts >= 1 && attempts <= most,
        "{attempts} renewals in {:?}",
        started.elapsed()
    );
    emu.clear_faults();
    emu.close().await;
}

/// Three Redis Cluster masters on loopback, made with the cluster commands
/// (no redis-cli): a third of the slots each, met by the first; ready when
/// every node says `cluster_state:ok`.
struct Cluster {
    nodes: Vec<Redis>,
    dir: std::path::PathBuf,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = std::env::temp_dir().join(format!(
            "wx-cloud-openapi-cluster-{}-{:08x}",
            std::process::id(),
            run_nonce()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cluster = Cluster {
            nodes: Vec::new(),
            dir,
        };
        for i in 0..3 {
            let conf = format!("nodes-{i}.conf");
            let node = Redis::start_with(
                &["--cluster-enabled", "yes", "--cluster-config-file", &conf],
                Some(&cluster.dir),
            );
            cluster.nodes.push(node);
        }
        let ranges = [(0, 5460), (5461, 10922), (10923, 16383)];
        for (node, (from, to)) in cluster.nodes.iter().zip(ranges) {
            node.command(&[
                "CLUSTER",
                "ADDSLOTSRANGE",
                &from.to_string(),
                &to.to_string(),
            ]);
        }
        for node in &cluster.nodes[1..] {
            let port = node
                .url
                .trim_end_matches('/')
                .rsplit(':')
                .next()
                .unwrap()
                .to_string();
            cluster.nodes[0].command(&["CLUSTER", "MEET", "127.0.0.1", &port]);
        }
        // Gossip makes it whole in a second or two (bounded by the test harness).
        while !cluster.nodes.iter().all(|n| {
            let info = n.command(&["CLUSTER", "INFO"]);
            let info = info.as_str().unwrap_or_default();
            info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")
        }) {
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    fn urls(&self) -> Vec<&str> {
        self.nodes.iter().map(|n| n.url.as_str()).collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_nonce() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

#[tokio::test]
async fn on_a_redis_cluster_two_processes_ask_wechat_once_for_each_token() {
    // Issue 19 item 15, the Rust client: a three-master cluster.
    let cluster = Cluster::start();
    let emu = emulator(EmulatorOptions::default()).await;
    seed(&RedisStore::cluster(&cluster.urls()).await.unwrap()).await;
    let a = Client::from_options(options(&emu))
        .unwrap()
        .with_token_store(RedisStore::cluster(&cluster.urls()).await.unwrap());
    let b = Client::from_options(options(&emu))
        .unwrap()
        .with_token_store(RedisStore::cluster(&cluster.urls()).await.unwrap());
    let (x, y) = tokio::join!(create(&a, "c1"), create(&b, "c2"));
    x.unwrap();
    y.unwrap();
    assert_eq!(issued(&emu, "component"), 1);
    assert_eq!(issued(&emu, "authorizer"), 1);
    assert_eq!(emu.environments().len(), 2);
    emu.close().await;
}

#[tokio::test]
async fn a_token_due_for_renewal_serves_calls_while_it_is_renewed_in_the_background() {
    // Issue 19 item 5: the call that finds its token due for renewal does
    // not wait for the renewal (WeChat slow here: 3 s) while the token is
    // still usable; the renewal finishes on its own.
    use std::sync::Arc;
    use wx_cloud_core::token::{CachedStore, Entry};
    let emu = emulator(EmulatorOptions::default()).await;
    let store = MemoryStore::new();
    seed(&store).await;
    let first = Client::from_options(options(&emu))
        .unwrap()
        .with_token_store(store.clone());
    create(&first, "g1").await.unwrap();
    let key = keys::authorizer_token(COMPONENT, AUTHORIZER);
    // The same token, due a moment ago and usable for a minute, in the
    // store and cached in this process.
    let (due, now) = due_for_renewal(&store, &key).await;
    store.set(&key, &due, None).await.unwrap();
    let cached = CachedStore::new(Arc::new(store.clone()));
    cached.remember(&key, Entry::parse(&due).unwrap());
    let client = Client::from_options(options(&emu))
        .unwrap()
        .with_tokens(cached.clone(), Default::default());
    emu.inject_fault(
        FaultSpec::from_json(json!({ "api": "cgi-bin.component.api_authorizer_token", "kind": "delay", "delayMs": 3000, "times": 1 }))
            .unwrap(),
    )
    .unwrap();
    let issued_before = issued(&emu, "authorizer");
    create(&client, "g2")
        .await
        .expect("the usable token serves the call");
    // The call returned before WeChat answered the renewal (3 s away).
    assert_eq!(issued(&emu, "authorizer"), issued_before);
    // The renewal finishes on its own (bounded by the test harness).
    while cached
        .cached(&key)
        .is_none_or(|e| e.renew_at <= now + 60_000)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(issued(&emu, "authorizer"), issued_before + 1);
    emu.close().await;
}

#[tokio::test]
async fn an_authorizer_token_request_outlives_the_call_that_gave_up_and_its_rotated_refresh_token_is_kept(
) {
    // The call's 1000 ms run out while api_authorizer_token is under way
    // (the component token took 600 ms of them, the authorizer token takes
    // 600 more): the request has its own full timeout, runs to its end in
    // the background, and the rotated refresh token in its answer (the only
    // copy: the old one is refused from then on) reaches the store.
    let emu = emulator(EmulatorOptions {
        rotate_refresh_tokens: true,
        ..Default::default()
    })
    .await;
    let store = MemoryStore::new();
    seed(&store).await;
    let mut opts = options(&emu);
    opts["timeout"] = json!(1000);
    let client = Client::from_options(opts)
        .unwrap()
        .with_token_store(store.clone());
    for api in [
        "cgi-bin.component.api_component_token",
        "cgi-bin.component.api_authorizer_token",
    ] {
        let fault = json!({ "api": api, "kind": "delay", "delayMs": 600, "times": 1 });
        emu.inject_fault(FaultSpec::from_json(fault).unwrap())
            .unwrap();
    }
    let err = create(&client, "late").await.unwrap_err();
    assert_eq!(err.err_code(), -501002, "{err}");
    let key = keys::refresh_token(COMPONENT, AUTHORIZER);
    // Bounded by the test harness: the request ends a timeout after it began.
    while store.get(&key).await.unwrap().as_deref() == Some(REFRESH) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rotated = store.get(&key).await.unwrap().unwrap();
    assert!(rotated.starts_with("refreshtoken@@@"), "{rotated}");
    create(&client, "after")
        .await
        .expect("the rotated refresh token works");
    emu.close().await;
}
